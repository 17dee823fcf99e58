/**
 * Scheduled sends, as pure rules: what a valid `scheduledAt` is (RFC 3339 with an offset, from now
 * to 30 days ahead, normalised to UTC), how a message waits until then (an SQS delivery delay up to
 * 15 minutes, an EventBridge Scheduler one-time schedule beyond), the schedule's `at()` expression,
 * and the small queue message a firing puts on the send queue (the body waits in the content store).
 */
import * as z from 'zod/mini';
import { contentKey } from './content-keys';
import { PRIORITIES } from './priority';
import './zod-locale';

/** The furthest ahead an email may be scheduled. */
export const MAX_SCHEDULE_DAYS = 30;
export const MAX_SCHEDULE_MS = MAX_SCHEDULE_DAYS * 86_400_000;
/** SQS's longest delivery delay: nearer than this, a message waits on its queue; further, on a schedule. */
export const MAX_QUEUE_DELAY_SECONDS = 900;

/**
 * RFC 3339 date-time (section 5.6) with a mandatory offset: `Z` or ±hh:mm. Fractional seconds are
 * allowed; a time without an offset is ambiguous (whose local time?) and refused.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

export type ScheduledAtCheck =
  | { readonly ok: true; readonly atMs: number; readonly iso: string }
  | { readonly ok: false; readonly message: string };

/** Parses an RFC 3339 date-time with an offset into epoch milliseconds (no Date parsing quirks). */
export function parseRfc3339(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, , oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  const offsetHours = oh === undefined ? 0 : Number(oh);
  const offsetMinutes = om === undefined ? 0 : Number(om);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const sign = m[8]?.startsWith('-') ? -1 : 1;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return local - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/**
 * A `scheduledAt` as the API takes it: RFC 3339 with an offset, not in the past, at most 30 days
 * ahead of `nowMs`. The answer is the instant in UTC (`2026-12-01T09:00:00.000Z`).
 */
export function checkScheduledAt(value: string, nowMs: number): ScheduledAtCheck {
  const atMs = parseRfc3339(value);
  if (atMs === undefined) {
    return {
      ok: false,
      message:
        'scheduledAt must be an RFC 3339 date-time with an offset, like "2026-12-01T09:00:00Z" or "2026-12-01T10:00:00+01:00"',
    };
  }
  // Whole milliseconds only: a time within the current millisecond counts as now.
  if (atMs < Math.floor(nowMs)) return { ok: false, message: 'scheduledAt is in the past' };
  if (atMs - nowMs > MAX_SCHEDULE_MS) {
    return { ok: false, message: `scheduledAt is at most ${MAX_SCHEDULE_DAYS} days ahead` };
  }
  return { ok: true, atMs, iso: new Date(atMs).toISOString() };
}

/** What the API reference says of the field. */
export const SCHEDULED_AT_DESCRIPTION = `Send at this time: an RFC 3339 date-time with an offset ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00+01:00"), from now to ${MAX_SCHEDULE_DAYS} days ahead.`;

/** The API field: a string here; its time rules need the request's time and run in the use case. */
export const ScheduledAtField = z
  .string({ error: 'scheduledAt must be an RFC 3339 date-time string with an offset' })
  .check(z.describe(SCHEDULED_AT_DESCRIPTION));

/** How a message waits for its time. */
export type Placement =
  /** On its priority's queue with an SQS delivery delay (0-900 s). */
  | { readonly via: 'queue'; readonly delaySeconds: number }
  /** On an EventBridge Scheduler one-time schedule whose target puts it on its queue. */
  | { readonly via: 'scheduler'; readonly expression: string };

export type ScheduleVia = Placement['via'];

/**
 * Up to 15 minutes ahead a delivery delay (rounded up: never early), further a one-time schedule.
 * A schedule fires at whole seconds: the time is rounded up to the next second.
 */
export function placementOf(atMs: number, nowMs: number): Placement {
  const seconds = Math.max(0, Math.ceil((atMs - nowMs) / 1000));
  if (seconds <= MAX_QUEUE_DELAY_SECONDS) return { via: 'queue', delaySeconds: seconds };
  return { via: 'scheduler', expression: atExpression(atMs) };
}

/** EventBridge Scheduler's one-time expression, `at(yyyy-mm-ddThh:mm:ss)`, in UTC, rounded up to the second. */
export function atExpression(atMs: number): string {
  const whole = Math.ceil(atMs / 1000) * 1000;
  return `at(${new Date(whole).toISOString().slice(0, 19)})`;
}

/** Seconds until `atMs` (0 when due): how long a firing that came early waits again. */
export const secondsUntil = (atMs: number, nowMs: number): number => Math.max(0, Math.ceil((atMs - nowMs) / 1000));

/** The content store key of a scheduled email's body (`scheduled/<id>`, expired by the bucket's rule for that prefix). */
export const scheduledBodyKey = (id: string): string => contentKey('scheduled', id);

/** A schedule's name: one per message (names are unique within the stack's schedule group; 1-64 characters). */
export const scheduleNameOf = (id: string): string => `m-${id}`.slice(0, 64);

/**
 * The queue message a firing puts on the send queue: which message, and which version of its
 * schedule (`rev`): a firing of a version that was rescheduled since sends nothing.
 */
export const ScheduledFiring = /* @__PURE__ */ (() =>
  z.object({
    v: z.literal(1),
    kind: z.literal('scheduled'),
    id: z.string().check(z.minLength(1)),
    rev: z.number().check(z.int(), z.gte(1)),
    priority: z.enum(PRIORITIES),
  }))();
export type ScheduledFiring = z.infer<typeof ScheduledFiring>;
