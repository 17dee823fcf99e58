/**
 * Webhook deliveries in the webhooks table: one item per (event, endpoint) under the endpoint's
 * partition, keyed by the delivery id (which starts with the event's time, so a query lists the
 * newest first and `since` is a key condition). Each item keeps the exact bytes every attempt sends.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { timeKey } from '../core/webhook-events';
import type { AttemptPatch, DeliveryStatus, WebhookDelivery, WebhookDeliveryStore } from '../ports';
import { conditional, isConditionFailure } from './dynamo';

export const deliveryPk = (endpointId: string): string => `delivery#${endpointId}`;

const STATUSES = ['pending', 'retrying', 'delivered', 'failed'] as const;

const DeliveryItem = /* @__PURE__ */ (() =>
  z.looseObject({
    endpointId: z.string(),
    sk: z.string(),
    eventId: z.string(),
    type: z.string(),
    payload: z.optional(z.string()),
    createdAt: z.string(),
    status: z.enum(STATUSES),
    attempts: z.number(),
    lastAttemptAt: z.optional(z.string()),
    lastStatusCode: z.optional(z.number()),
    lastError: z.optional(z.string()),
    nextAttemptAt: z.optional(z.string()),
    expiresAt: z.number(),
  }))();

function toDelivery(item: Record<string, unknown>): WebhookDelivery {
  const { sk, payload, ...d } = DeliveryItem.parse(item);
  return { ...d, id: sk, payload: payload ?? '' } as WebhookDelivery;
}

/** A page cursor: the last key read, as the API hands it out. */
const encodeCursor = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
export function decodeCursor(cursor: string): Record<string, unknown> | undefined {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof key.pk === 'string' && typeof key.sk === 'string' && Object.keys(key).length === 2 ? key : undefined;
  } catch {
    return undefined;
  }
}

export class DynamoWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key = (endpointId: string, id: string) => ({ pk: deliveryPk(endpointId), sk: id });

  create(d: WebhookDelivery): Promise<boolean> {
    const { id, ...rest } = d;
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.key(d.endpointId, id), ...rest },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(endpointId: string, id: string): Promise<WebhookDelivery | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: this.key(endpointId, id), ConsistentRead: true }),
    );
    return out.Item ? toDelivery(out.Item) : undefined;
  }

  recordAttempt(endpointId: string, id: string, attempts: number, patch: AttemptPatch): Promise<boolean> {
    const sets = ['#status = :status', 'attempts = :next', 'lastAttemptAt = :lastAttemptAt'];
    const values: Record<string, unknown> = {
      ':status': patch.status,
      ':next': attempts + 1,
      ':attempts': attempts,
      ':lastAttemptAt': patch.lastAttemptAt,
    };
    const removes: string[] = [];
    for (const field of ['lastStatusCode', 'lastError', 'nextAttemptAt'] as const) {
      if (patch[field] === undefined) removes.push(field);
      else {
        sets.push(`${field} = :${field}`);
        values[`:${field}`] = patch[field];
      }
    }
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(endpointId, id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attempts = :attempts',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async list(
    endpointId: string,
    options: { limit: number; cursor?: string | undefined; since?: string | undefined; status?: DeliveryStatus },
  ): Promise<{ items: Omit<WebhookDelivery, 'payload'>[]; next?: string }> {
    const start = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const since = options.since === undefined ? undefined : `msg_${timeKey(Date.parse(options.since))}`;
    const items: Omit<WebhookDelivery, 'payload'>[] = [];
    let last: Record<string, unknown> | undefined = start;
    // A status filter reads past deliveries of other statuses: a few pages at most per request.
    for (let page = 0; page < 10 && items.length < options.limit; page++) {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: since === undefined ? 'pk = :pk' : 'pk = :pk AND sk >= :since',
          ExpressionAttributeNames: { '#status': 'status', '#type': 'type' },
          ProjectionExpression:
            'pk, sk, endpointId, eventId, #type, createdAt, #status, attempts, lastAttemptAt, lastStatusCode, lastError, nextAttemptAt, expiresAt',
          ...(options.status === undefined ? {} : { FilterExpression: '#status = :status' }),
          ExpressionAttributeValues: {
            ':pk': deliveryPk(endpointId),
            ...(since === undefined ? {} : { ':since': since }),
            ...(options.status === undefined ? {} : { ':status': options.status }),
          },
          ScanIndexForward: false,
          Limit: options.limit - items.length,
          ...(last ? { ExclusiveStartKey: last } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map((i) => toDelivery(i)).map(({ payload: _, ...d }) => d));
      last = out.LastEvaluatedKey;
      if (!last) break;
    }
    return { items, ...(last ? { next: encodeCursor({ pk: last.pk, sk: last.sk }) } : {}) };
  }

  async replay(endpointId: string, id: string): Promise<WebhookDelivery | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(endpointId, id),
          UpdateExpression: 'SET #status = :pending, attempts = :zero REMOVE nextAttemptAt',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':zero': 0 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toDelivery(out.Attributes) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return this.get(endpointId, id);
      throw e;
    }
  }
}
