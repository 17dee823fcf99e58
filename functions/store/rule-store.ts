/**
 * Event rules in the rules table. Each rule is written twice: under its event name
 * (`pk = event#<name>`, `sk = <id>`), which is what an emitted event reads in one Query, and in the
 * index of every rule (`pk = rules`, `sk = <id>`), which the rules API reads by id and pages through.
 * The index says whether a rule exists: a create or a change writes it first, then the event's
 * copy; a delete removes the event's copy first, so a rule never fires after its DELETE answered.
 * A failure between the two writes is undone (create) or completed by the same request made again
 * (change, delete): DynamoDB writes one item at a time here.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { CreateRuleBody, type Rule } from '../core/rule';
import type { RuleStore } from '../ports';
import { conditional } from './dynamo';

/** The partition of the index of every rule. */
export const RULES_PK = 'rules';
export const eventPk = (event: string) => `event#${event}`;

const RuleItem = /* @__PURE__ */ (() =>
  z.looseObject({
    sk: z.string(),
    rule: z.looseObject({
      keyName: z.string(),
      keyHash: z.optional(z.string()),
      senderDomains: z.array(z.string()),
      createdAt: z.string(),
      updatedAt: z.string(),
    }),
  }))();

function toRule(item: Record<string, unknown>): Rule {
  const i = RuleItem.parse(item);
  const definition = CreateRuleBody.parse(
    Object.fromEntries(
      Object.entries(i.rule).filter(
        ([k]) => !['keyName', 'keyHash', 'senderDomains', 'createdAt', 'updatedAt'].includes(k),
      ),
    ),
  );
  const { keyName, keyHash, senderDomains, createdAt, updatedAt } = i.rule;
  return {
    ...definition,
    id: i.sk,
    keyName,
    ...(keyHash === undefined ? {} : { keyHash }),
    senderDomains,
    createdAt,
    updatedAt,
  };
}

const toAttributes = (rule: Rule) => {
  const { id: _id, ...rest } = rule;
  return rest;
};

/** A page cursor: the last id of the page, base64url. */
const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

export class DynamoRuleStore implements RuleStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(rule: Rule): Promise<boolean> {
    const item = { rule: toAttributes(rule) };
    const created = await conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: RULES_PK, sk: rule.id, ...item },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!created) return false;
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: { pk: eventPk(rule.event), sk: rule.id, ...item } }),
      );
    } catch (e) {
      // Not half-made: the rule is in both places or in neither.
      await this.doc
        .send(new DeleteCommand({ TableName: this.table, Key: { pk: RULES_PK, sk: rule.id } }))
        .catch(() => undefined);
      throw e;
    }
    return true;
  }

  async get(id: string): Promise<Rule | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: RULES_PK, sk: id }, ConsistentRead: true }),
    );
    return out.Item ? toRule(out.Item) : undefined;
  }

  async forEvent(event: string): Promise<Rule[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': eventPk(event) },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map(toRule);
  }

  async list(limit: number, cursor?: string): Promise<{ items: Rule[]; next?: string }> {
    // One more than a page: a next page is named only when there is one.
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': RULES_PK },
        Limit: limit + 1,
        ...(cursor ? { ExclusiveStartKey: { pk: RULES_PK, sk: decodeCursor(cursor) } } : {}),
      }),
    );
    const all = (out.Items ?? []).map(toRule);
    const items = all.slice(0, limit);
    const last = items.at(-1);
    return all.length > limit && last ? { items, next: encodeCursor(last.id) } : { items };
  }

  async replace(rule: Rule): Promise<boolean> {
    const item = { rule: toAttributes(rule) };
    const exists = await conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: RULES_PK, sk: rule.id, ...item },
          ConditionExpression: 'attribute_exists(pk) AND #rule.#event = :event',
          ExpressionAttributeNames: { '#rule': 'rule', '#event': 'event' },
          ExpressionAttributeValues: { ':event': rule.event },
        }),
      ),
    );
    if (!exists) return false;
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: eventPk(rule.event), sk: rule.id, ...item } }),
    );
    return true;
  }

  async delete(id: string): Promise<boolean> {
    const rule = await this.get(id);
    if (!rule) return false;
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: eventPk(rule.event), sk: id } }));
    return conditional(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: RULES_PK, sk: id },
          ConditionExpression: 'attribute_exists(pk)',
        }),
      ),
    );
  }
}
