/** DynamoDB adapters for the message, suppression and key ports. */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod/mini';
import { RETRIES_EXHAUSTED } from '../core/dispatch';
import { API_KEY_PREFIX, apiKeyKey, requestCounterKey, SOFT_BOUNCE_SCOPE_PREFIX, softBounceScope } from '../core/keys';
import { MAX_EVENTS, type MessageEvent, MessageRecord, type Status } from '../core/message';
import { type SuppressionReason, suppressionKey } from '../core/suppression';
import type {
  ApiKeyRecord,
  ClaimResult,
  FeedbackResult,
  FinishPatch,
  KeyStore,
  MessageStore,
  RequestRateLimiter,
  SuppressionEntry,
  SuppressionKey,
  SuppressionRecord,
  SuppressionStore,
} from '../ports';

export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UNPROCESSED_RETRIES = 5;

const isConditionFailure = (e: unknown): e is ConditionalCheckFailedException =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; false when its condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createMany(records: readonly MessageRecord[]): Promise<void> {
    for (const part of chunk(records, 25)) {
      let requests: Record<string, unknown>[] | undefined = part.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests && requests.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not accept every message record');
        if (attempt > 0) await pause(25 * 2 ** attempt);
        const out: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
      }
    }
  }

  async deleteQueued(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        conditional(() =>
          this.doc.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { id },
              ConditionExpression: '#s = :queued',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':queued': 'queued' },
            }),
          ),
        ),
      ),
    );
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return out.Item ? MessageRecord.parse(out.Item) : undefined;
  }

  async claim(id: string, token: string, nowMs: number): Promise<ClaimResult> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: 'SET #s = :sending, claimToken = :t, claimedAt = :now, updatedAt = :iso ADD attempts :one',
          ConditionExpression: '#s = :queued',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':sending': 'sending',
            ':queued': 'queued',
            ':t': token,
            ':now': nowMs,
            ':iso': new Date(nowMs).toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const pin = out.Attributes?.pin;
      return { ok: true, attempts: Number(out.Attributes?.attempts ?? 1), ...(typeof pin === 'string' ? { pin } : {}) };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // The failed condition returns the current item (ALL_OLD) at no cost; the document client
      // leaves it marshalled, and some implementations omit it, so read it when it is missing.
      const record = e.Item ? MessageRecord.parse(unmarshall(e.Item)) : await this.get(id);
      if (!record) return { ok: false };
      return { ok: false, current: { status: record.status, claimedAt: record.claimedAt } };
    }
  }

  private patchUpdate(patch: FinishPatch) {
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = {
      ':status': patch.status,
      ':iso': patch.event.at,
      ':ev': [patch.event],
      ':empty': [],
    };
    const sets = ['#s = :status', 'updatedAt = :iso', 'events = list_append(if_not_exists(events, :empty), :ev)'];
    for (const key of ['provider', 'providerMessageId', 'reason', 'pin'] as const) {
      const v = patch[key];
      if (v !== undefined) {
        sets.push(`${key} = :${key}`);
        values[`:${key}`] = v;
      }
    }
    // A message that went out after earlier trouble (a retry, a redrive) keeps no stale reason.
    const removes = patch.status === 'sent' && patch.reason === undefined ? ['reason', 'pin'] : [];
    return { names, values, set: `SET ${sets.join(', ')}`, removes };
  }

  /** One conditional update that applies `patch`; false when `condition` does not hold. */
  private conditionalPatch(
    id: string,
    patch: FinishPatch,
    condition: string,
    values: Record<string, unknown>,
    endClaim: boolean,
  ): Promise<boolean> {
    const u = this.patchUpdate(patch);
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: [
            u.set,
            ...(endClaim || u.removes.length > 0
              ? [`REMOVE ${[...(endClaim ? ['claimToken', 'claimedAt'] : []), ...u.removes].join(', ')}`]
              : []),
          ].join(' '),
          ConditionExpression: condition,
          ExpressionAttributeNames: u.names,
          ExpressionAttributeValues: { ...u.values, ...values },
        }),
      ),
    );
  }

  async applyFeedback(
    id: string,
    key: string,
    event: MessageEvent,
    status: Status | undefined,
    from: readonly Status[],
  ): Promise<FeedbackResult> {
    const names = { '#s': 'status', '#seen': 'seen' };
    const common = {
      ':ev': [event],
      ':key': key,
      ':keys': [key],
      ':empty': [],
      ':now': new Date().toISOString(),
    };
    const append =
      'updatedAt = :now, events = list_append(if_not_exists(events, :empty), :ev), #seen = list_append(if_not_exists(#seen, :empty), :keys)';
    if (status && from.length > 0) {
      const allowed = Object.fromEntries(from.map((f, i) => [`:f${i}`, f]));
      const moved = await conditional(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { id },
            UpdateExpression: `SET #s = :status, ${append}`,
            ConditionExpression: `attribute_exists(id) AND NOT contains(#seen, :key) AND #s IN (${Object.keys(allowed).join(', ')})`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...common, ...allowed, ':status': status },
          }),
        ),
      );
      if (moved) return 'applied';
    }
    const current = await this.get(id);
    if (!current) return 'missing';
    if (current.seen.includes(key)) return 'duplicate';
    if (status && (current.status === 'queued' || current.status === 'sending')) return 'not-yet-sent';
    // The status cannot move forward from here (e.g. a late Delivery after a Bounce): record the event only.
    const appended = await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: `SET ${append}`,
          ConditionExpression: 'attribute_exists(id) AND NOT contains(#seen, :key)',
          ExpressionAttributeNames: { '#seen': 'seen' },
          ExpressionAttributeValues: common,
        }),
      ),
    );
    return appended ? 'applied' : 'duplicate';
  }

  async recordEngagement(id: string, kind: 'open' | 'click', machine: boolean, event: MessageEvent): Promise<void> {
    const counter = {
      open: machine ? 'machineOpens' : 'opens',
      click: machine ? 'machineClicks' : 'clicks',
    }[kind];
    const first = kind === 'open' ? 'firstOpenAt' : 'firstClickAt';
    const names = { '#n': counter, '#first': first };
    const values = { ':one': 1, ':at': event.at, ':ev': [event], ':empty': [], ':max': MAX_EVENTS };
    // People set the first-open/first-click time; machines only count.
    const set = machine ? '' : ', #first = if_not_exists(#first, :at)';
    const update = (withEvent: boolean) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: `ADD #n :one SET updatedAt = :at${set}${withEvent ? ', events = list_append(if_not_exists(events, :empty), :ev)' : ''}`,
          ConditionExpression: withEvent ? 'attribute_exists(id) AND size(events) < :max' : 'attribute_exists(id)',
          ExpressionAttributeNames: machine ? { '#n': counter } : names,
          ExpressionAttributeValues: withEvent ? values : { ':one': 1, ':at': event.at },
        }),
      );
    // The timeline keeps up to MAX_EVENTS events; past that (or for an expired message) only count.
    if (await conditional(() => update(true))) return;
    await conditional(() => update(false));
  }

  requeueFailed(id: string, event: MessageEvent): Promise<boolean> {
    return this.conditionalPatch(
      id,
      { status: 'queued', event },
      '#s = :failed AND begins_with(reason, :exhausted)',
      { ':failed': 'failed', ':exhausted': RETRIES_EXHAUSTED },
      false,
    );
  }

  finish(id: string, token: string, patch: FinishPatch): Promise<boolean> {
    return this.conditionalPatch(id, patch, 'claimToken = :t', { ':t': token }, true);
  }

  release(id: string, token: string, event: MessageEvent, pin?: string): Promise<boolean> {
    return this.finish(id, token, { status: 'queued', event, ...(pin ? { pin } : {}) });
  }

  settleQueued(id: string, patch: FinishPatch): Promise<boolean> {
    return this.conditionalPatch(id, patch, '#s = :queued', { ':queued': 'queued' }, false);
  }

  failStale(id: string, claimedAt: number | undefined, patch: FinishPatch): Promise<boolean> {
    return claimedAt === undefined
      ? this.conditionalPatch(
          id,
          patch,
          '#s = :sending AND attribute_not_exists(claimedAt)',
          { ':sending': 'sending' },
          true,
        )
      : this.conditionalPatch(
          id,
          patch,
          '#s = :sending AND claimedAt = :c',
          { ':sending': 'sending', ':c': claimedAt },
          true,
        );
  }
}

const SUPPRESSION_NAMES = {
  '#active': 'active',
  '#reason': 'reason',
  '#source': 'source',
  '#at': 'suppressedAt',
  '#detail': 'detail',
  '#mid': 'messageId',
  '#re': 'reenabledAt',
  '#up': 'updatedAt',
};

const toRecord = (item: Record<string, unknown>): SuppressionRecord => ({
  address: String(item.address),
  scope: String(item.scope),
  active: item.active !== false,
  reason: String(item.reason ?? 'manual') as SuppressionReason,
  source: String(item.source ?? 'unknown'),
  at: String(item.suppressedAt ?? ''),
  ...(item.detail ? { detail: item.detail as Record<string, unknown> } : {}),
  ...(item.messageId ? { messageId: String(item.messageId) } : {}),
  ...(item.reenabledAt ? { reenabledAt: String(item.reenabledAt) } : {}),
});

export class DynamoSuppressionStore implements SuppressionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async suppressedAmong(keys: readonly SuppressionKey[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Map(keys.map((k) => [suppressionKey(k.address, k.scope), k])).values()];
    for (const part of chunk(unique, 100)) {
      let pending: Record<string, unknown>[] | undefined = part.map((k) => ({ address: k.address, scope: k.scope }));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not answer every suppression look-up');
        if (attempt > 0) await pause(25 * 2 ** attempt);
        const out: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table]: {
                Keys: pending,
                ProjectionExpression: 'address, #scope, #active',
                ExpressionAttributeNames: { '#scope': 'scope', '#active': 'active' },
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) {
          if (item.active !== false) found.add(suppressionKey(String(item.address), String(item.scope)));
        }
        pending = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return found;
  }

  suppress(e: SuppressionEntry): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { address: e.address, scope: e.scope },
          UpdateExpression:
            'SET #active = :true, #reason = :reason, #source = :source, #at = :at, #up = :now, #detail = :detail, #mid = :mid',
          ConditionExpression: 'attribute_not_exists(#re) OR #re < :at',
          ExpressionAttributeNames: SUPPRESSION_NAMES,
          ExpressionAttributeValues: {
            ':true': true,
            ':reason': e.reason,
            ':source': e.source,
            ':at': e.at,
            ':now': new Date().toISOString(),
            ':detail': e.detail ?? {},
            ':mid': e.messageId ?? null,
          },
        }),
      ),
    );
  }

  async reenable(key: SuppressionKey, at: string): Promise<boolean> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { address: key.address, scope: key.scope },
        UpdateExpression: 'SET #active = :false, #re = :at, #up = :at',
        ExpressionAttributeNames: { '#active': 'active', '#re': 'reenabledAt', '#up': 'updatedAt' },
        ExpressionAttributeValues: { ':false': false, ':at': at },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes !== undefined && out.Attributes.active !== false;
  }

  async get(address: string): Promise<SuppressionRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'address = :a',
        ExpressionAttributeValues: { ':a': address },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).filter((i) => !String(i.scope).startsWith(SOFT_BOUNCE_SCOPE_PREFIX)).map(toRecord);
  }

  async list(limit: number, cursor?: string): Promise<{ items: SuppressionRecord[]; next?: string }> {
    const items: SuppressionRecord[] = [];
    let start = cursor
      ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>)
      : undefined;
    do {
      const out: ScanCommandOutput = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          Limit: limit,
          FilterExpression: '#active <> :false AND NOT begins_with(#scope, :soft)',
          ExpressionAttributeNames: { '#active': 'active', '#scope': 'scope' },
          ExpressionAttributeValues: { ':false': false, ':soft': SOFT_BOUNCE_SCOPE_PREFIX },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map(toRecord));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    const page = items.slice(0, limit);
    const last = page.at(-1);
    // A page cut short of what was read resumes after its last item; otherwise after the scan's position.
    const resume = items.length > limit && last ? { address: last.address, scope: last.scope } : start;
    return { items: page, ...(resume ? { next: Buffer.from(JSON.stringify(resume)).toString('base64url') } : {}) };
  }

  async recordSoftBounce(
    address: string,
    feedbackId: string,
    at: string,
    windowHours: number,
    nowMs: number,
  ): Promise<number> {
    const windowMs = windowHours * 3_600_000;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          address,
          scope: softBounceScope(feedbackId),
          at,
          expiresAt: Math.floor((nowMs + windowMs) / 1000) + 86_400,
        },
      }),
    );
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'address = :a AND begins_with(#scope, :soft)',
        ExpressionAttributeNames: { '#scope': 'scope' },
        ExpressionAttributeValues: { ':a': address, ':soft': SOFT_BOUNCE_SCOPE_PREFIX },
        ConsistentRead: true,
      }),
    );
    const end = Date.parse(at);
    // TTL deletes late: expired items still show up, so the window is checked here.
    return (out.Items ?? []).filter((i) => {
      const t = Date.parse(String(i.at));
      return t <= end && t > end - windowMs;
    }).length;
  }
}

/** A key item as read back from DynamoDB; keys from before scopes existed can send and read, from any domain. */
// Marked pure: only the API's bundle, which reads keys, keeps (and builds) it.
const KeyItem = /* @__PURE__ */ (() =>
  z.looseObject({
    name: z.string(),
    createdAt: z.string(),
    revoked: z._default(z.boolean(), false),
    scopes: z._default(z.array(z.enum(['send', 'read', 'admin'])), ['send', 'read']),
    senderDomains: z._default(z.array(z.string()), ['*']),
    ratePerSecond: z._default(z.number(), 100),
    prefix: z.optional(z.string()),
  }))();

const toKey = (item: Record<string, unknown>): ApiKeyRecord => {
  const k = KeyItem.parse(item);
  return {
    name: k.name,
    createdAt: k.createdAt,
    revoked: k.revoked,
    scopes: k.scopes,
    senderDomains: k.senderDomains,
    ratePerSecond: k.ratePerSecond,
    ...(k.prefix ? { prefix: k.prefix } : {}),
  };
};

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: apiKeyKey(hash) } }));
    return out.Item ? toKey(out.Item) : undefined;
  }

  async put(hash: string, key: ApiKeyRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: apiKeyKey(hash), ...key } }));
  }

  private async scanKeys(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out: ScanCommandOutput = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :p)',
          ExpressionAttributeValues: { ':p': API_KEY_PREFIX },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.scanKeys()).map(toKey).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(match: { name?: string; prefix?: string }): Promise<number> {
    const hits = (await this.scanKeys()).filter(
      (i) =>
        (match.name !== undefined && i.name === match.name) ||
        (match.prefix !== undefined && i.prefix === match.prefix),
    );
    for (const item of hits) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: item.pk },
          UpdateExpression: 'SET revoked = :t, revokedAt = :now',
          ExpressionAttributeValues: { ':t': true, ':now': new Date().toISOString() },
        }),
      );
    }
    return hits.length;
  }
}

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
