import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { requestCounterKey } from '../core/keys';
import type { RequestRateLimiter } from '../ports';
import { conditional } from './dynamo';

/** Per-key request counters in one-second windows: one conditional write per request. */
export class DynamoRequestRateLimiter implements RequestRateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async take(key: string, limitPerSecond: number, nowMs: number) {
    const second = Math.floor(nowMs / 1000);
    const ok = await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: requestCounterKey(key, second) },
          UpdateExpression: 'ADD #c :one SET expiresAt = if_not_exists(expiresAt, :exp)',
          ConditionExpression: 'attribute_not_exists(#c) OR #c < :limit',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limitPerSecond, ':exp': second + 120 },
        }),
      ),
    );
    return ok ? ({ ok: true } as const) : ({ ok: false, retryAfterSeconds: 1 } as const);
  }
}
