import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Due } from '../core/claim';
import { RETRIES_EXHAUSTED } from '../core/dispatch';
import { MAX_EVENTS, type MessageEvent, MessageRecord, type Status } from '../core/message';
import type { ClaimResult, FeedbackResult, FinishPatch, MessageStore } from '../ports';
import { chunk, conditional, isConditionFailure, pause, UNPROCESSED_RETRIES } from './dynamo';

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

  async createNew(records: readonly MessageRecord[]): Promise<string[]> {
    // One conditional put per record (a batch write cannot be conditional); the same write units.
    const written = await Promise.all(
      records.map((Item) =>
        conditional(() =>
          this.doc.send(
            new PutCommand({ TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(id)' }),
          ),
        ),
      ),
    );
    return records.filter((_, i) => !written[i]).map((r) => r.id);
  }

  async deleteQueued(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        conditional(() =>
          this.doc.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { id },
              ConditionExpression: '#s IN (:queued, :scheduled)',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':queued': 'queued', ':scheduled': 'scheduled' },
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

  async claim(id: string, token: string, nowMs: number, due?: Due): Promise<ClaimResult> {
    const when = due ? dueCondition(due, nowMs) : { condition: '#s = :queued', values: {} };
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: 'SET #s = :sending, claimToken = :t, claimedAt = :now, updatedAt = :iso ADD attempts :one',
          ConditionExpression: when.condition,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ...when.values,
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
      return {
        ok: false,
        current: {
          status: record.status,
          claimedAt: record.claimedAt,
          scheduledAt: record.scheduledAt,
          scheduleRev: record.scheduleRev,
        },
      };
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

  settleQueued(id: string, patch: FinishPatch, due?: Due & { readonly nowMs: number }): Promise<boolean> {
    if (!due) return this.conditionalPatch(id, patch, '#s = :queued', { ':queued': 'queued' }, false);
    const when = dueCondition(due, due.nowMs);
    return this.conditionalPatch(id, patch, when.condition, { ...when.values, ':queued': 'queued' }, false);
  }

  reschedule(
    id: string,
    rev: number,
    next: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ): Promise<boolean> {
    return this.moveSchedule(id, rev, rev + 1, next, event);
  }

  unreschedule(
    id: string,
    rev: number,
    previous: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ): Promise<boolean> {
    return this.moveSchedule(id, rev + 1, rev, previous, event);
  }

  /** scheduled at version `from` → scheduled at `to`, at another time. */
  private moveSchedule(
    id: string,
    from: number,
    to: number,
    next: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression:
            'SET scheduledAt = :at, scheduleRev = :to, scheduleVia = :via, updatedAt = :iso, events = list_append(if_not_exists(events, :empty), :ev)',
          ConditionExpression: '#s = :scheduled AND scheduleRev = :from',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':scheduled': 'scheduled',
            ':from': from,
            ':to': to,
            ':at': next.scheduledAt,
            ':via': next.via,
            ':iso': event.at,
            ':ev': [event],
            ':empty': [],
          },
        }),
      ),
    );
  }

  cancelScheduled(id: string, event: MessageEvent): Promise<boolean> {
    return this.conditionalPatch(
      id,
      { status: 'canceled', event, reason: 'canceled before it was due' },
      '#s = :scheduled',
      { ':scheduled': 'scheduled' },
      false,
    );
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

/**
 * The condition under which a scheduled firing of version `due.rev` may take its message: the
 * record is at that version and either already queued (a retry after an earlier attempt) or
 * scheduled and due (ISO times in UTC compare as strings).
 */
function dueCondition(due: Due, nowMs: number) {
  return {
    condition: 'scheduleRev = :rev AND (#s = :queued OR (#s = :scheduled AND scheduledAt <= :due))',
    values: { ':rev': due.rev, ':scheduled': 'scheduled', ':due': new Date(nowMs).toISOString() },
  };
}
