/**
 * Webhook endpoints in the webhooks table: one item per endpoint under one partition (an account has
 * tens of endpoints, read together and cached by the webhooks function). Secrets are stored sealed.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import type { EndpointPatch, WebhookEndpoint, WebhookEndpointStore } from '../ports';
import { conditional, isConditionFailure } from './dynamo';

/** The partition every endpoint item is in. */
export const ENDPOINT_PK = 'endpoint';

const EndpointItem = /* @__PURE__ */ (() =>
  z.looseObject({
    sk: z.string(),
    url: z.string(),
    description: z.optional(z.string()),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.optional(z.string()),
    disabledAt: z.optional(z.string()),
    secrets: z.array(z.object({ sealed: z.string(), expiresAt: z.optional(z.string()) })),
    failures: z._default(z.number(), 0),
    failingSince: z.optional(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  }))();

function toEndpoint(item: Record<string, unknown>): WebhookEndpoint {
  const e = EndpointItem.parse(item);
  return {
    id: e.sk,
    url: e.url,
    ...(e.description === undefined ? {} : { description: e.description }),
    events: e.events,
    enabled: e.enabled,
    ...(e.disabledReason === undefined ? {} : { disabledReason: e.disabledReason }),
    ...(e.disabledAt === undefined ? {} : { disabledAt: e.disabledAt }),
    secrets: e.secrets,
    failures: e.failures,
    ...(e.failingSince === undefined ? {} : { failingSince: e.failingSince }),
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

export class DynamoWebhookEndpointStore implements WebhookEndpointStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key = (id: string) => ({ pk: ENDPOINT_PK, sk: id });

  create(e: WebhookEndpoint): Promise<boolean> {
    const { id, ...rest } = e;
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.key(id), ...rest },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(id: string): Promise<WebhookEndpoint | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: this.key(id), ConsistentRead: true }));
    return out.Item ? toEndpoint(out.Item) : undefined;
  }

  async list(): Promise<WebhookEndpoint[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ENDPOINT_PK },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map(toEndpoint);
  }

  async update(id: string, patch: EndpointPatch, at: string): Promise<WebhookEndpoint | undefined> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':at': at };
    const sets = ['#updatedAt = :at'];
    const removes: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    if (patch.enabled === true) {
      // Enabled again: a fresh start.
      sets.push('failures = :zero');
      values[':zero'] = 0;
      removes.push('disabledReason', 'disabledAt', 'failingSince');
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toEndpoint(out.Attributes) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  delete(id: string): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: this.key(id), ConditionExpression: 'attribute_exists(pk)' }),
      ),
    );
  }

  async recordFailure(id: string, at: string): Promise<{ failures: number; failingSince: string }> {
    const out = await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          UpdateExpression: 'ADD failures :one SET failingSince = if_not_exists(failingSince, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': 1, ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      )
      .catch((e: unknown) => {
        if (isConditionFailure(e)) return { Attributes: { failures: 0, failingSince: at } };
        throw e;
      });
    const a = out.Attributes ?? {};
    return { failures: Number(a.failures ?? 0), failingSince: String(a.failingSince ?? at) };
  }

  async recordSuccess(id: string): Promise<void> {
    await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          UpdateExpression: 'SET failures = :zero REMOVE failingSince',
          ConditionExpression: 'attribute_exists(pk) AND failures > :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      ),
    );
  }

  disable(id: string, reason: string, at: string): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          UpdateExpression: 'SET enabled = :no, disabledReason = :reason, disabledAt = :at, updatedAt = :at',
          ConditionExpression: 'enabled = :yes',
          ExpressionAttributeValues: { ':no': false, ':yes': true, ':reason': reason, ':at': at },
        }),
      ),
    );
  }
}
