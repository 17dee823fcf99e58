/**
 * Scheduled sends (DESIGN §1, §2.5–2.6): every state change of a scheduled email, in one place.
 *
 * - accept: the body goes to the content store (`scheduled/<id>`), the record is written `scheduled`,
 *   then the firing is placed: a delivery delay on its priority's queue up to 15 minutes ahead, an
 *   EventBridge Scheduler one-time schedule beyond (core/schedule.ts);
 * - reschedule and cancel: a conditional write on the record first (it is the source of truth), then
 *   the schedule is updated or deleted (a schedule already gone counts as fired);
 * - at send time: a firing names its message and schedule version; the dispatcher loads the body,
 *   checks the key's rights again (suppression and unsubscribes are checked as for every email), and
 *   its claim takes the message only while the record is still due at that version, so a late,
 *   duplicate or superseded firing sends nothing. The body is deleted once the message is final.
 *
 * Plain functions taking their ports, so another API (the Resend-compatible one) maps onto them.
 */
import * as z from 'zod/mini';
import type { Due } from '../core/claim';
import { DomainError } from '../core/errors';
import { type MessageEvent, type MessageRecord, toView } from '../core/message';
import type { Priority } from '../core/priority';
import { QueuedEmail, toQueueBody } from '../core/queued-email';
import {
  checkScheduledAt,
  type Placement,
  placementOf,
  SCHEDULED_AT_DESCRIPTION,
  ScheduledFiring,
  type ScheduleVia,
  scheduledBodyKey,
  scheduleNameOf,
} from '../core/schedule';
import { API_ERRORS } from '../core/zod-locale';
import type { ApiKeyRecord, ContentStore, MessageStore, Scheduler, SendQueue } from '../ports';
import { type Caller, maySendFrom } from './auth';
import { limiter } from './limiter';
import type { AppLogger } from './observability';
import { retrying } from './retrying';

/** A state change of a scheduled email, for whoever publishes events (webhooks). */
export interface ScheduleChange {
  readonly type: 'email.scheduled' | 'email.rescheduled' | 'email.canceled';
  readonly id: string;
  readonly at: string;
  readonly scheduledAt?: string | undefined;
}

export interface SchedulingDeps {
  readonly messages: MessageStore;
  readonly scheduler: Scheduler;
  /** Where scheduled bodies wait (`scheduled/<id>`). */
  readonly content: ContentStore;
  /** Each priority's send queue: firings up to 15 minutes ahead wait there with a delivery delay. */
  readonly queues: { readonly [P in Priority]: SendQueue };
  /** Each priority's send queue ARN: the target of the schedules further ahead. */
  readonly queueArns: { readonly [P in Priority]: string };
  readonly now: () => number;
  readonly logger: AppLogger;
  /** Told of every state change once it is recorded (the webhooks' events). @default none */
  readonly changed?: (change: ScheduleChange) => Promise<void>;
}

/** What waits in the content store: the queued email and the key that scheduled it (checked again at send time). */
const StoredBody = /* @__PURE__ */ z.object({ v: z.literal(1), keyHash: z.string(), email: QueuedEmail });
type StoredBody = z.infer<typeof StoredBody>;

const JSON_TYPE = 'application/json';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Schedules created or updated at once (Scheduler's API rate). */
const SCHEDULER_CONCURRENCY = 10;

// ---------------------------------------------------------------------------------------------
// Accept

export interface ScheduledTime {
  readonly atMs: number;
  /** The instant, normalised to UTC (what the API echoes and the record keeps). */
  readonly iso: string;
}

/**
 * The `scheduledAt` of each email (undefined: sent at once), checked against `nowMs`: a bad one
 * refuses the whole request (422, every problem with its path), before anything is written.
 */
export function scheduledTimes(
  given: readonly { readonly scheduledAt?: string | undefined }[],
  nowMs: number,
  batch: boolean,
): (ScheduledTime | undefined)[] {
  const issues: { path: string; message: string }[] = [];
  const times = given.map((e, i) => {
    if (e.scheduledAt === undefined) return undefined;
    const t = checkScheduledAt(e.scheduledAt, nowMs);
    if (t.ok) return { atMs: t.atMs, iso: t.iso };
    issues.push({ path: batch ? `emails.${i}.scheduledAt` : 'scheduledAt', message: t.message });
    return undefined;
  });
  if (issues.length > 0) {
    throw new DomainError(
      'validation_failed',
      batch ? 'Some emails in the batch are not valid; none was sent.' : 'The email is not valid.',
      issues,
    );
  }
  return times;
}

/** One scheduled email of a request being accepted. */
export interface ToSchedule {
  readonly email: QueuedEmail;
  readonly priority: Priority;
  readonly at: ScheduledTime;
  /** How it waits (decided once: the record says the same). */
  readonly placement: Placement;
}

/** How an email scheduled for `at` waits, seen from now. */
export const placementFor = (deps: Pick<SchedulingDeps, 'now'>, at: ScheduledTime): Placement =>
  placementOf(at.atMs, deps.now());

/** Puts the bodies of scheduled emails in the content store (before their records exist). */
export async function storeBodies(
  deps: Pick<SchedulingDeps, 'content'>,
  items: readonly ToSchedule[],
  keyHash: string,
): Promise<void> {
  const slots = limiter(SCHEDULER_CONCURRENCY);
  await Promise.all(
    items.map((s) =>
      slots(() => {
        const stored: StoredBody = { v: 1, keyHash, email: s.email };
        return deps.content.put(scheduledBodyKey(s.email.id), encoder.encode(toQueueBody(stored)), JSON_TYPE);
      }),
    ),
  );
}

/** The queue message of a firing of `rev`. */
const firingBody = (id: string, rev: number, priority: Priority): string =>
  toQueueBody({ v: 1, kind: 'scheduled', id, rev, priority } satisfies ScheduledFiring);

/** Places one firing (a delayed queue message or a schedule); `update`: replace the message's schedule. */
async function placeFiring(
  deps: SchedulingDeps,
  item: { readonly id: string; readonly rev: number; readonly priority: Priority; readonly placement: Placement },
  update: boolean,
): Promise<void> {
  const body = firingBody(item.id, item.rev, item.priority);
  const p = item.placement;
  if (p.via === 'queue') {
    const failed = await deps.queues[item.priority].send([{ id: item.id, body, delaySeconds: p.delaySeconds }]);
    if (failed.length > 0) throw new Error('the send queue did not take the firing');
    return;
  }
  const request = {
    name: scheduleNameOf(item.id),
    expression: p.expression,
    queueArn: deps.queueArns[item.priority],
    body,
  };
  // A schedule that is gone (it fired, or never was) is created anew.
  if (update && (await deps.scheduler.update(request))) return;
  await deps.scheduler.create(request);
}

/**
 * Places the firings of newly accepted scheduled emails (version 1); the ids whose firing could not
 * be placed. Delayed queue messages go in one batch per priority.
 */
export async function placeFirings(deps: SchedulingDeps, items: readonly ToSchedule[]): Promise<string[]> {
  const failed: string[] = [];
  const byQueue = new Map<Priority, { id: string; body: string; delaySeconds: number }[]>();
  const onSchedule: ToSchedule[] = [];
  for (const s of items) {
    if (s.placement.via === 'queue') {
      const list = byQueue.get(s.priority) ?? [];
      list.push({
        id: s.email.id,
        body: firingBody(s.email.id, 1, s.priority),
        delaySeconds: s.placement.delaySeconds,
      });
      byQueue.set(s.priority, list);
    } else onSchedule.push(s);
  }
  const slots = limiter(SCHEDULER_CONCURRENCY);
  await Promise.all([
    ...[...byQueue].map(async ([priority, entries]) => {
      try {
        failed.push(...(await deps.queues[priority].send(entries)));
      } catch (error) {
        deps.logger.error('could not queue scheduled firings', { error: error as Error, priority });
        failed.push(...entries.map((e) => e.id));
      }
    }),
    ...onSchedule.map((s) =>
      slots(async () => {
        try {
          await retrying(() =>
            placeFiring(deps, { id: s.email.id, rev: 1, priority: s.priority, placement: s.placement }, false),
          );
        } catch (error) {
          deps.logger.error('could not create a schedule', { error: error as Error, messageId: s.email.id });
          failed.push(s.email.id);
        }
      }),
    ),
  ]);
  return failed;
}

/**
 * Undoes the scheduling side of a request that failed (its records are removed by the caller):
 * schedules deleted, bodies deleted. A firing left behind finds no record and sends nothing.
 */
export async function discardScheduled(deps: SchedulingDeps, items: readonly ToSchedule[]): Promise<void> {
  const slots = limiter(SCHEDULER_CONCURRENCY);
  await Promise.all(
    items.map((s) =>
      slots(async () => {
        if (s.placement.via === 'scheduler') {
          await deps.scheduler.delete(scheduleNameOf(s.email.id)).catch((error) =>
            deps.logger.warn('could not delete the schedule of a request that failed', {
              error,
              messageId: s.email.id,
            }),
          );
        }
        await deps.content
          .delete(scheduledBodyKey(s.email.id))
          .catch((error) =>
            deps.logger.warn('could not delete the body of a request that failed', { error, messageId: s.email.id }),
          );
      }),
    ),
  );
}

/** Tells the listener of newly scheduled emails (never fails the request). */
export async function announceScheduled(deps: SchedulingDeps, items: readonly ToSchedule[]): Promise<void> {
  const at = new Date(deps.now()).toISOString();
  await Promise.all(
    items.map((s) => notify(deps, { type: 'email.scheduled', id: s.email.id, at, scheduledAt: s.at.iso })),
  );
}

async function notify(deps: SchedulingDeps, change: ScheduleChange): Promise<void> {
  await deps
    .changed?.(change)
    .catch((error) =>
      deps.logger.error('could not publish a schedule change', { error, messageId: change.id, type: change.type }),
    );
}

// ---------------------------------------------------------------------------------------------
// Reschedule and cancel

const ID = /^[A-Za-z0-9-]{1,64}$/;

/** The record a caller may change: its own email, or any with an admin key; otherwise a 404 as for a wrong id. */
async function ownRecord(deps: Pick<SchedulingDeps, 'messages'>, caller: Caller, id: string): Promise<MessageRecord> {
  const record = ID.test(id) ? await deps.messages.get(id) : undefined;
  if (!record || (record.apiKey !== caller.keyName && !caller.scopes.includes('admin'))) {
    throw new DomainError('not_found', `No email with id "${id.slice(0, 64)}".`);
  }
  return record;
}

/** 409 with the current status: only a scheduled email can be moved or canceled. */
function notScheduled(record: Pick<MessageRecord, 'status'>, what: string): DomainError {
  return new DomainError('conflict', `The email is ${record.status}; only a scheduled email can be ${what}.`, [
    { path: 'status', message: record.status },
  ]);
}

export const RescheduleBody = /* @__PURE__ */ z.strictObject({
  scheduledAt: z
    .string({ error: 'scheduledAt is required: an RFC 3339 date-time with an offset' })
    .check(z.describe(SCHEDULED_AT_DESCRIPTION)),
});

const event = (deps: Pick<SchedulingDeps, 'now'>, type: string, detail?: Record<string, unknown>): MessageEvent => ({
  type,
  at: new Date(deps.now()).toISOString(),
  ...(detail ? { detail } : {}),
});

/**
 * Moves a scheduled email to another time (PATCH /v1/emails/{id}): the record first (a conditional
 * write that bumps its schedule version), then the firing (the schedule updated, or a delayed queue
 * message); if the firing cannot be placed, the record goes back as it was and the answer is a 503.
 */
export async function rescheduleEmail(
  deps: SchedulingDeps,
  caller: Caller,
  id: string,
  body: unknown,
): Promise<ReturnType<typeof toView>> {
  const parsed = RescheduleBody.safeParse(body ?? {}, API_ERRORS);
  if (!parsed.success) {
    throw new DomainError(
      'validation_failed',
      'The change is not valid.',
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message })),
    );
  }
  const record = await ownRecord(deps, caller, id);
  if (record.status !== 'scheduled') throw notScheduled(record, 'rescheduled');
  const [at] = scheduledTimes([parsed.data], deps.now(), false);
  if (!at) throw new Error('unreachable: a given scheduledAt was checked');
  const rev = record.scheduleRev ?? 1;
  const previous = {
    scheduledAt: record.scheduledAt ?? at.iso,
    via: record.scheduleVia ?? ('scheduler' as ScheduleVia),
  };
  const placement = placementFor(deps, at);
  const moved = await deps.messages.reschedule(
    id,
    rev,
    { scheduledAt: at.iso, via: placement.via },
    event(deps, 'rescheduled', { from: previous.scheduledAt, to: at.iso }),
  );
  if (!moved) {
    const current = (await deps.messages.get(id)) ?? record;
    if (current.status !== 'scheduled') throw notScheduled(current, 'rescheduled');
    throw new DomainError(
      'conflict',
      'The email was changed by another request at the same time; read it and try again.',
    );
  }
  const priority = priorityOf(record);
  try {
    await retrying(() =>
      placeFiring(
        deps,
        { id, rev: rev + 1, priority, placement },
        previous.via === 'scheduler' && placement.via === 'scheduler',
      ),
    );
  } catch (error) {
    deps.logger.error('could not place the firing of a rescheduled email; it keeps its time', {
      error: error as Error,
      messageId: id,
    });
    await retrying(() =>
      deps.messages.unreschedule(
        id,
        rev,
        previous,
        event(deps, 'reschedule-undone', { reason: 'the new time could not be set' }),
      ),
    ).catch((e) => deps.logger.error('could not undo a reschedule', { error: e as Error, messageId: id }));
    throw new DomainError('unavailable', 'The email could not be rescheduled; it keeps its time. Try again.');
  }
  if (previous.via === 'scheduler' && placement.via === 'queue') {
    // Its old schedule would fire a superseded version (which sends nothing): removed to keep things tidy.
    await deps.scheduler
      .delete(scheduleNameOf(id))
      .catch((error) =>
        deps.logger.warn('could not delete the old schedule of a rescheduled email', { error, messageId: id }),
      );
  }
  await notify(deps, { type: 'email.rescheduled', id, at: new Date(deps.now()).toISOString(), scheduledAt: at.iso });
  return toView((await deps.messages.get(id)) ?? record);
}

/**
 * Cancels a scheduled email (POST /v1/emails/{id}/cancel): a conditional write (scheduled →
 * canceled) that the dispatcher's claim respects, then its schedule and body are deleted. If a
 * firing won the race, the email is `sending` or later and the answer is a 409 with that status.
 */
export async function cancelEmail(
  deps: SchedulingDeps,
  caller: Caller,
  id: string,
): Promise<ReturnType<typeof toView>> {
  const record = await ownRecord(deps, caller, id);
  if (record.status !== 'scheduled') throw notScheduled(record, 'canceled');
  const canceled = await deps.messages.cancelScheduled(
    id,
    event(deps, 'canceled', { scheduledAt: record.scheduledAt }),
  );
  if (!canceled) throw notScheduled((await deps.messages.get(id)) ?? record, 'canceled');
  // Both are clean-up: a firing after the cancel sends nothing, and bodies expire in the store.
  await deps.scheduler
    .delete(scheduleNameOf(id))
    .catch((error) => deps.logger.warn('could not delete the schedule of a canceled email', { error, messageId: id }));
  await deps.content
    .delete(scheduledBodyKey(id))
    .catch((error) => deps.logger.warn('could not delete the body of a canceled email', { error, messageId: id }));
  await notify(deps, {
    type: 'email.canceled',
    id,
    at: new Date(deps.now()).toISOString(),
    scheduledAt: record.scheduledAt,
  });
  return toView((await deps.messages.get(id)) ?? record);
}

const priorityOf = (r: MessageRecord): Priority => r.priority ?? 'transactional';

// ---------------------------------------------------------------------------------------------
// Send time (the dispatcher)

export interface FiringDeps {
  readonly messages: MessageStore;
  readonly content: ContentStore;
  /** The key that scheduled an email, by the hash of its secret (its rights are checked again). */
  readonly keys: { findByHash(hash: string): Promise<ApiKeyRecord | undefined> };
  readonly now: () => number;
  readonly logger: AppLogger;
}

/** A queue message read as a scheduled firing. */
export type FiringRead =
  /** Its body, the schedule version it fires, and the key's rights as they are now. */
  | { readonly kind: 'email'; readonly email: QueuedEmail; readonly due: Due; readonly refused?: string | undefined }
  /** Nothing to send (the body is gone: canceled or sent; or the key lost its rights): its record is settled. */
  | { readonly kind: 'settled'; readonly id: string };

/** Whether a queue message is a scheduled firing (then its id and version). */
export function firingOf(body: unknown): ScheduledFiring | undefined {
  const parsed = ScheduledFiring.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

/** Why the key that scheduled `email` may no longer send it, or undefined when it still may. */
export function refusal(key: ApiKeyRecord | undefined, email: QueuedEmail): string | undefined {
  if (!key) return 'the API key that scheduled it no longer exists';
  if (key.revoked) return 'the API key that scheduled it was revoked';
  if (!key.scopes.includes('send')) return 'the API key that scheduled it may no longer send';
  const address = /<([^<>]+)>$/.exec(email.from)?.[1] ?? email.from;
  const caller = { keyName: key.name, scopes: key.scopes, senderDomains: key.senderDomains, ratePerSecond: 0 };
  if (!maySendFrom(caller, address))
    return `the API key that scheduled it may no longer send from ${address.slice(address.lastIndexOf('@') + 1)}`;
  return undefined;
}

/**
 * Reads a firing: its body from the content store and the key's rights now. A missing body means
 * the email is final already (canceled, or sent by an earlier firing) — or, if its record still waits
 * at this version, that the body was lost: the record then ends `failed` with that reason.
 */
export async function readFiring(deps: FiringDeps, firing: ScheduledFiring): Promise<FiringRead> {
  const raw = await deps.content.get(scheduledBodyKey(firing.id));
  if (!raw) {
    const at = new Date(deps.now()).toISOString();
    const reason = 'its scheduled body is missing from the content store';
    const settled = await deps.messages.settleQueued(
      firing.id,
      { status: 'failed', reason, event: { type: 'failed', at, detail: { reason } } },
      { rev: firing.rev, nowMs: deps.now() },
    );
    if (settled) deps.logger.error('scheduled email has no body; failed', { messageId: firing.id });
    return { kind: 'settled', id: firing.id };
  }
  const stored = StoredBody.parse(JSON.parse(decoder.decode(raw)));
  const key = await deps.keys.findByHash(stored.keyHash);
  return { kind: 'email', email: stored.email, due: { rev: firing.rev }, refused: refusal(key, stored.email) };
}

/** Deletes a scheduled email's body once its record is final (a failure is left to the store's expiry). */
export async function bodyDone(deps: Pick<FiringDeps, 'content' | 'logger'>, id: string): Promise<void> {
  await deps.content
    .delete(scheduledBodyKey(id))
    .catch((error) =>
      deps.logger.warn('could not delete the body of a sent scheduled email; it expires', { error, messageId: id }),
    );
}
