/**
 * The broadcast store on DynamoDB. Items:
 * - `pk = "broadcast"`, `sk = <id>`: the broadcast (definition, state, sender key, the fan-out's
 *   checkpoint and its own counts). Ids start with a time key, so a Query lists them newest first.
 *   Every state change and every checkpoint is one conditional UpdateItem on it.
 * - `pk = "counts#<id>"`, `sk = "counts"`: the message events' counters, atomic ADDs (kept off the
 *   broadcast's item so counting never races its conditional writes).
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import {
  BROADCAST_STATES,
  type Broadcast,
  type BroadcastAction,
  type BroadcastDefinition,
  EVENT_COUNTERS,
  type EventCounter,
  type EventCounts,
  NO_EVENT_COUNTS,
  TRANSITIONS,
} from '../core/broadcast';
import type { BroadcastStore, Checkpoint } from '../ports';
import { conditional } from './dynamo';

export const BROADCAST_PK = 'broadcast';
export const countsKey = (id: string) => ({ pk: `counts#${id}`, sk: 'counts' });
const headKey = (id: string) => ({ pk: BROADCAST_PK, sk: id });

const StoredBroadcast = /* @__PURE__ */ z.looseObject({
  id: z.string(),
  state: z.enum(BROADCAST_STATES),
  name: z.string(),
  listId: z.string(),
  template: z.object({ slug: z.string(), version: z.optional(z.number()) }),
  variables: z._default(z.record(z.string(), z.unknown()), {}),
  from: z.string(),
  replyTo: z.optional(z.string()),
  category: z.string(),
  tags: z.optional(z.record(z.string(), z.string())),
  scheduledAt: z.optional(z.string()),
  cooldown: z.optional(z.object({ key: z.string(), hours: z.number() })),
  pace: z.optional(z.number()),
  sender: z.object({
    keyName: z.string(),
    keyHash: z.optional(z.string()),
    senderDomains: z.array(z.string()),
  }),
  templateVersion: z.optional(z.number()),
  run: z.number(),
  page: z.number(),
  cursor: z.optional(z.string()),
  exhausted: z._default(z.boolean(), false),
  targeted: z._default(z.number(), 0),
  skippedNoConsent: z._default(z.number(), 0),
  skippedRender: z._default(z.number(), 0),
  history: z._default(
    z.array(z.object({ state: z.enum(BROADCAST_STATES), at: z.string(), action: z.optional(z.string()) })),
    [],
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
  sentAt: z.optional(z.string()),
});

function fromItem(item: Record<string, unknown> | undefined): Broadcast | undefined {
  if (!item) return undefined;
  const s = StoredBroadcast.parse(item);
  return {
    id: s.id,
    state: s.state,
    name: s.name,
    listId: s.listId,
    template: s.template,
    variables: s.variables,
    from: s.from,
    ...(s.replyTo !== undefined ? { replyTo: s.replyTo } : {}),
    category: s.category,
    ...(s.tags !== undefined ? { tags: s.tags } : {}),
    ...(s.scheduledAt !== undefined ? { scheduledAt: s.scheduledAt } : {}),
    ...(s.cooldown !== undefined ? { cooldown: s.cooldown } : {}),
    ...(s.pace !== undefined ? { pace: s.pace } : {}),
    sender: s.sender,
    ...(s.templateVersion !== undefined ? { templateVersion: s.templateVersion } : {}),
    run: s.run,
    page: s.page,
    ...(s.cursor !== undefined ? { cursor: s.cursor } : {}),
    exhausted: s.exhausted,
    fanout: { targeted: s.targeted, noConsent: s.skippedNoConsent, render: s.skippedRender },
    history: s.history,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(s.sentAt !== undefined ? { sentAt: s.sentAt } : {}),
  };
}

function toItem(b: Broadcast): Record<string, unknown> {
  const { fanout, ...rest } = b;
  return {
    ...headKey(b.id),
    ...rest,
    targeted: fanout.targeted,
    skippedNoConsent: fanout.noConsent,
    skippedRender: fanout.render,
  };
}

/** The definition's attributes a PATCH may replace (and remove, when optional). */
const DEFINITION_FIELDS = [
  'name',
  'listId',
  'template',
  'variables',
  'from',
  'replyTo',
  'category',
  'tags',
  'scheduledAt',
  'cooldown',
  'pace',
] as const;

export class DynamoBroadcastStore implements BroadcastStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(broadcast: Broadcast): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: toItem(broadcast),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(id: string): Promise<Broadcast | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: headKey(id), ConsistentRead: true }));
    return fromItem(out.Item);
  }

  async list(limit: number, cursor?: string): Promise<{ items: Broadcast[]; next?: string }> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': BROADCAST_PK },
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: headKey(cursor) } : {}),
      }),
    );
    const items = (out.Items ?? []).flatMap((i) => fromItem(i) ?? []);
    const last = out.LastEvaluatedKey?.sk;
    return typeof last === 'string' ? { items, next: last } : { items };
  }

  async updateDraft(id: string, definition: BroadcastDefinition, at: string): Promise<Broadcast | undefined> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = { ':draft': 'draft', ':at': at };
    const set: string[] = ['updatedAt = :at'];
    const remove: string[] = [];
    const given = definition as unknown as Record<string, unknown>;
    for (const [i, field] of DEFINITION_FIELDS.entries()) {
      names[`#f${i}`] = field;
      if (given[field] === undefined) remove.push(`#f${i}`);
      else {
        set.push(`#f${i} = :f${i}`);
        values[`:f${i}`] = given[field];
      }
    }
    return this.update(
      id,
      `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      '#state = :draft',
      names,
      values,
    );
  }

  async transition(
    id: string,
    action: BroadcastAction,
    at: string,
    options: { readonly run?: number; readonly scheduledAt?: string } = {},
  ): Promise<Broadcast | undefined> {
    const t = TRANSITIONS[action];
    const names: Record<string, string> = { '#state': 'state', '#history': 'history' };
    if (options.run !== undefined || t.newRun) names['#run'] = 'run';
    const values: Record<string, unknown> = {
      ':to': t.to,
      ':at': at,
      ':h': [{ state: t.to, at, action }],
      ':empty': [],
    };
    const from = t.from.map((s, i) => {
      values[`:from${i}`] = s;
      return `:from${i}`;
    });
    let condition = `#state IN (${from.join(', ')})`;
    if (options.run !== undefined) {
      condition += ' AND #run = :run';
      values[':run'] = options.run;
    }
    const set = ['#state = :to', 'updatedAt = :at', '#history = list_append(if_not_exists(#history, :empty), :h)'];
    if (action === 'schedule' && options.scheduledAt !== undefined) {
      set.push('scheduledAt = :scheduledAt');
      values[':scheduledAt'] = options.scheduledAt;
    }
    if (action === 'finish') {
      set.push('sentAt = :at');
      condition += ' AND #exhausted = :true';
      names['#exhausted'] = 'exhausted';
      values[':true'] = true;
    }
    const add = t.newRun ? ' ADD #run :one' : '';
    if (t.newRun) values[':one'] = 1;
    return this.update(id, `SET ${set.join(', ')}${add}`, condition, names, values);
  }

  async pinTemplate(id: string, version: number): Promise<number | undefined> {
    let pinned: unknown;
    await conditional(async () => {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: headKey(id),
          UpdateExpression: 'SET templateVersion = if_not_exists(templateVersion, :v)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':v': version },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      pinned = out.Attributes?.templateVersion;
    });
    return typeof pinned === 'number' ? pinned : undefined;
  }

  checkpoint(id: string, c: Checkpoint, at: string): Promise<Broadcast | undefined> {
    const values: Record<string, unknown> = {
      ':run': c.run,
      ':page': c.page,
      ':next': c.page + 1,
      ':sending': 'sending',
      ':paused': 'paused',
      ':at': at,
      ':t': c.counts.targeted,
      ':nc': c.counts.noConsent,
      ':r': c.counts.render,
    };
    const set = ['#page = :next', 'updatedAt = :at'];
    let remove = '';
    if (c.next === undefined) {
      set.push('#exhausted = :true');
      values[':true'] = true;
      remove = ' REMOVE #cursor';
    } else {
      set.push('#cursor = :cursor');
      values[':cursor'] = c.next;
    }
    return this.update(
      id,
      `SET ${set.join(', ')} ADD targeted :t, skippedNoConsent :nc, skippedRender :r${remove}`,
      '#run = :run AND #page = :page AND #state IN (:sending, :paused)',
      {
        '#run': 'run',
        '#state': 'state',
        '#cursor': 'cursor',
        '#page': 'page',
        ...(c.next === undefined ? { '#exhausted': 'exhausted' } : {}),
      },
      values,
    );
  }

  async addCounts(id: string, counts: Partial<Record<EventCounter, number>>): Promise<void> {
    const entries = Object.entries(counts).filter(([, n]) => n !== undefined && n !== 0);
    if (entries.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: countsKey(id),
        UpdateExpression: `ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#c${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, n], i) => [`:c${i}`, n])),
      }),
    );
  }

  async counts(id: string): Promise<EventCounts> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: countsKey(id) }));
    const item = out.Item ?? {};
    return Object.fromEntries(
      EVENT_COUNTERS.map((c) => [c, typeof item[c] === 'number' ? item[c] : NO_EVENT_COUNTS[c]]),
    ) as EventCounts;
  }

  /** One conditional UpdateItem; the item afterwards, or undefined when the condition did not hold. */
  private async update(
    id: string,
    expression: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<Broadcast | undefined> {
    let item: Record<string, unknown> | undefined;
    const done = await conditional(async () => {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: headKey(id),
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      item = out.Attributes;
    });
    return done ? fromItem(item) : undefined;
  }
}
