/**
 * The webhook events mailroute publishes: the catalog of types, the event as it travels on the events
 * queue, its stable id, and the payload a receiver gets (`{type, created_at, data}`). Pure: the use
 * cases that change state build events here; the webhooks function enriches and delivers them.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

/** Every event type an endpoint may subscribe to, in the order of one message's life. */
export const EVENT_TYPES = [
  'email.queued',
  'email.scheduled',
  'email.sent',
  'email.delivery_delayed',
  'email.delivered',
  'email.bounced',
  'email.complained',
  'email.opened',
  'email.clicked',
  'email.suppressed',
  'email.rejected',
  'email.failed',
  'email.canceled',
  'email.throttled',
  'suppression.added',
  'suppression.removed',
  'stream.paused',
  'stream.resumed',
  'webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The place of each message event in a message's life (`data.sequence`): a receiver orders the events
 * of one message by it, then by `created_at` (opens and clicks share a place and order by time). The
 * times alone do not order them: a provider's feedback carries the provider's clock, which may read a
 * few milliseconds before mailroute recorded the send.
 */
const RANK: { readonly [T in EventType]?: number } = {
  'email.queued': 1,
  'email.scheduled': 1,
  'email.canceled': 2,
  'email.throttled': 2,
  'email.suppressed': 2,
  'email.rejected': 3,
  'email.failed': 3,
  'email.sent': 3,
  'email.delivery_delayed': 4,
  'email.delivered': 5,
  'email.bounced': 5,
  'email.complained': 6,
  'email.opened': 6,
  'email.clicked': 7,
};

/** The event on the events queue: small, with what its producer knew; the webhooks function adds the message's fields. */
export const QueuedEvent = z.object({
  /** Stable id of the event (the same state change always gets the same id). */
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  /** When the state changed (ISO, milliseconds). */
  at: z.string(),
  /** The message the event is about, if any: its recipients, subject, tags and provider are added on delivery. */
  messageId: z.optional(z.string()),
  /** The event's own detail (bounce type, click URL, reason, …). */
  data: z.record(z.string(), z.unknown()),
  /** Deliver to this endpoint only (webhook.test). */
  endpointId: z.optional(z.string()),
});
export type QueuedEvent = z.infer<typeof QueuedEvent>;

/** A short, URL-safe digest (stable ids from their parts). */
export const digest = (...parts: readonly string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22);

/** Builds an event with an id derived from `key`: the same state change published twice is one event. */
export function queuedEvent(
  type: EventType,
  key: string,
  at: string,
  data: Record<string, unknown>,
  messageId?: string,
): QueuedEvent {
  return { id: `evt_${digest(type, key)}`, type, at, data, ...(messageId === undefined ? {} : { messageId }) };
}

/** What a message record contributes to its events' payloads. */
export interface MessageFacts {
  readonly from: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly category: string;
  readonly provider?: string | undefined;
}

/** The JSON a receiver gets: `{type, created_at, data}`, with the message's fields for email events. */
export function payloadOf(
  event: QueuedEvent,
  facts?: MessageFacts,
): { type: EventType; created_at: string; data: unknown } {
  const rank = RANK[event.type];
  const message =
    event.messageId === undefined
      ? {}
      : {
          email_id: event.messageId,
          ...(facts
            ? {
                from: facts.from,
                to: [...facts.to],
                ...(facts.cc.length > 0 ? { cc: [...facts.cc] } : {}),
                ...(facts.bcc.length > 0 ? { bcc: [...facts.bcc] } : {}),
                subject: facts.subject,
                tags: { ...facts.tags },
                category: facts.category,
                ...(facts.provider ? { provider: facts.provider } : {}),
              }
            : {}),
        };
  return {
    type: event.type,
    created_at: event.at,
    data: { ...message, ...event.data, ...(rank === undefined ? {} : { sequence: rank }) },
  };
}

/** Whether an endpoint's filter takes a type: an exact type, a prefix wildcard ("email.*") or "*". */
export function subscribed(filter: readonly string[], type: EventType): boolean {
  if (type === 'webhook.test') return true;
  return filter.some((f) => f === '*' || f === type || (f.endsWith('.*') && type.startsWith(f.slice(0, -1))));
}

/** Whether a filter entry names something (a type, "*", or a prefix of some type followed by ".*"). */
export const validFilter = (f: string): boolean =>
  f === '*' ||
  (EVENT_TYPES as readonly string[]).includes(f) ||
  (f.endsWith('.*') && EVENT_TYPES.some((t) => t.startsWith(f.slice(0, -1))));

/**
 * The delivery id of an event to an endpoint: the `webhook-id` header, the same on every retry and
 * replay. It starts with the event's time (base 36), so deliveries list newest first and `replay
 * {since}` reads only the deliveries made since.
 */
export function deliveryIdOf(event: Pick<QueuedEvent, 'id' | 'at'>, endpointId: string): string {
  return `msg_${timeKey(Date.parse(event.at))}${digest(event.id, endpointId).slice(0, 16)}`;
}

/** A time as a fixed-width base-36 string that sorts as the time does. */
export const timeKey = (ms: number): string => Math.max(0, Math.floor(ms)).toString(36).padStart(9, '0');
