/**
 * The reputation guard's state in the reputation table:
 *
 * - `counts#<priority>#<hour>`: sends, hard bounces and complaints of one priority in one hour
 *   bucket, added with ADD (racing writers never lose a count) and expiring a day after the longest
 *   window could read them;
 * - `stream#<priority>`: the stream's state, warning, counting start and timeline, with a version:
 *   every change is one conditional write on the version read, so two functions pausing (or two
 *   admins resuming) at once cannot both apply theirs.
 *
 * The keys are built in core/keys.ts.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { reputationCountsKey, streamStateKey } from '../core/keys';
import { PRIORITIES, type Priority } from '../core/priority';
import type { Counts } from '../core/reputation';
import { initialStream, type StreamRecord } from '../core/stream';
import type { ReputationStore } from '../ports';
import { chunk, conditional, pause, UNPROCESSED_RETRIES } from './dynamo';

const count = z._default(z.number(), 0);
const CountsItem = z.looseObject({ sends: count, bounces: count, complaints: count });

const CountsShape = z.object({ sends: z.number(), bounces: z.number(), complaints: z.number() });

const StreamItem = z.looseObject({
  state: z.enum(['active', 'paused']),
  warned: z._default(z.boolean(), false),
  version: z.number(),
  since: z.optional(z.string()),
  countFrom: z.optional(z.object({ bucket: z.number(), baseline: CountsShape, at: z.string() })),
  timeline: z._default(
    z.array(
      z.object({
        type: z.enum(['warned', 'cleared', 'paused', 'resumed']),
        at: z.string(),
        detail: z.optional(z.record(z.string(), z.unknown())),
      }),
    ),
    [],
  ),
});

export class DynamoReputationStore implements ReputationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async add(priority: Priority, bucket: number, counts: Partial<Counts>, expiresAt: number): Promise<void> {
    const parts = (['sends', 'bounces', 'complaints'] as const).filter((k) => (counts[k] ?? 0) > 0);
    if (parts.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: reputationCountsKey(priority, bucket) },
        UpdateExpression: `ADD ${parts.map((k) => `#${k} :${k}`).join(', ')} SET expiresAt = :exp`,
        ExpressionAttributeNames: Object.fromEntries(parts.map((k) => [`#${k}`, k])),
        ExpressionAttributeValues: {
          ...Object.fromEntries(parts.map((k) => [`:${k}`, counts[k]])),
          ':exp': expiresAt,
        },
      }),
    );
  }

  /** Every item of `keys` (any order), retrying unprocessed keys. */
  private async batchGet(keys: readonly string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (const part of chunk(keys, 100)) {
      let request: Record<string, { Keys: { pk: string }[]; ConsistentRead: boolean }> | undefined = {
        [this.table]: { Keys: part.map((pk) => ({ pk })), ConsistentRead: true },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('reputation: unprocessed keys after retries');
        if (attempt > 0) await pause(20 * 2 ** attempt);
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        items.push(...((out.Responses?.[this.table] ?? []) as Record<string, unknown>[]));
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return items;
  }

  async counts(priority: Priority, buckets: readonly number[]): Promise<Map<number, Counts>> {
    const byKey = new Map(buckets.map((b) => [reputationCountsKey(priority, b), b]));
    const out = new Map<number, Counts>();
    for (const item of await this.batchGet([...byKey.keys()])) {
      const bucket = byKey.get(String(item.pk));
      const parsed = CountsItem.safeParse(item);
      if (bucket === undefined || !parsed.success) continue;
      out.set(bucket, { sends: parsed.data.sends, bounces: parsed.data.bounces, complaints: parsed.data.complaints });
    }
    return out;
  }

  async streams(): Promise<Record<Priority, StreamRecord>> {
    const items = await this.batchGet(PRIORITIES.map(streamStateKey));
    const byPk = new Map(items.map((i) => [String(i.pk), i]));
    return Object.fromEntries(
      PRIORITIES.map((p) => {
        const parsed = StreamItem.safeParse(byPk.get(streamStateKey(p)));
        if (!parsed.success) return [p, initialStream(p)];
        const { state, warned, version, since, countFrom, timeline } = parsed.data;
        const record: StreamRecord = {
          priority: p,
          state,
          warned,
          version,
          ...(since === undefined ? {} : { since }),
          ...(countFrom === undefined ? {} : { countFrom }),
          timeline: timeline.map((e) => ({ type: e.type, at: e.at, ...(e.detail ? { detail: e.detail } : {}) })),
        };
        return [p, record];
      }),
    ) as Record<Priority, StreamRecord>;
  }

  saveStream(next: StreamRecord, expectedVersion: number): Promise<boolean> {
    const { priority, ...rest } = next;
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: streamStateKey(priority), ...rest },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      ),
    );
  }
}
