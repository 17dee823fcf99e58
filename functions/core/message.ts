/**
 * The message record: one DynamoDB item per message holding its status, recipients, provider
 * result and event timeline — never the body. Status moves forward only.
 */
import * as z from 'zod/mini';
import { defaultPriority, PRIORITIES, type Priority, TRANSACTIONAL } from './priority';
import './zod-locale';

/** Our message id travels as an SES message tag (event publishing) and as a header (identity notifications). */
export const MESSAGE_ID_TAG = 'mailroute-id';
export const MESSAGE_ID_HEADER = 'X-Mailroute-Id';

/** Timeline events kept per message; past this, opens and clicks still count but add no event. */
export const MAX_EVENTS = 100;

export { TRANSACTIONAL };

export const STATUSES = [
  /** Waiting for its `scheduledAt` (core/schedule.ts); then `queued`-like for the dispatcher's claim. */
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'suppressed',
  'rejected',
  'failed',
  /** Canceled while scheduled: never sent. */
  'canceled',
  /** Every recipient got mail of its cooldown's key within the window (core/cooldown.ts): not sent, not an error. */
  'throttled',
] as const;
export type Status = (typeof STATUSES)[number];

/** States a message never leaves by dispatch: a redelivered SQS message for these is acknowledged. */
export const TERMINAL: ReadonlySet<Status> = new Set(
  STATUSES.filter((s) => s !== 'queued' && s !== 'sending' && s !== 'scheduled'),
);

export const MessageEvent = z.object({
  type: z.string(),
  at: z.string(),
  detail: z.optional(z.record(z.string(), z.unknown())),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

/**
 * The stored item, validated when read back (loose: later versions may add attributes). Built on first
 * use: the API's sends never read one back.
 */
export const MessageRecord = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    id: z.string(),
    status: z.enum(STATUSES),
    from: z.string(),
    to: z.array(z.string()),
    cc: z._default(z.array(z.string()), []),
    bcc: z._default(z.array(z.string()), []),
    subject: z.string(),
    tags: z._default(z.record(z.string(), z.string()), {}),
    category: z._default(z.string(), TRANSACTIONAL),
    /** Absent on records written before priorities existed. */
    priority: z.optional(z.enum(PRIORITIES)),
    apiKey: z.optional(z.string()),
    /** The template version the email was rendered from, if any. */
    template: z.optional(z.object({ slug: z.string(), version: z.number() })),
    /** The cooldown it is sent with (core/cooldown.ts), if any. */
    cooldown: z.optional(z.object({ key: z.string(), hours: z.number() })),
    createdAt: z.string(),
    updatedAt: z.string(),
    attempts: z._default(z.number(), 0),
    provider: z.optional(z.string()),
    providerMessageId: z.optional(z.string()),
    reason: z.optional(z.string()),
    claimToken: z.optional(z.string()),
    /** Set after an ambiguous send through an idempotent provider: retries go through it only. */
    pin: z.optional(z.string()),
    claimedAt: z.optional(z.number()),
    /** When a scheduled email is due (ISO, UTC); absent for an email sent at once. */
    scheduledAt: z.optional(z.string()),
    /** The version of its schedule: bumped by every reschedule; a firing of an older version sends nothing. */
    scheduleRev: z.optional(z.number()),
    /** How it waits: a queue delivery delay or a Scheduler schedule (what a cancel must delete). */
    scheduleVia: z.optional(z.enum(['queue', 'scheduler'])),
    events: z._default(z.array(MessageEvent), []),
    opens: z._default(z.number(), 0),
    clicks: z._default(z.number(), 0),
    machineOpens: z._default(z.number(), 0),
    machineClicks: z._default(z.number(), 0),
    firstOpenAt: z.optional(z.string()),
    firstClickAt: z.optional(z.string()),
    /** Keys of the SES notifications already applied (each applies once). */
    seen: z._default(z.array(z.string()), []),
    expiresAt: z.number(),
  }),
);
export type MessageRecord = z.infer<typeof MessageRecord>;

export interface NewMessage {
  readonly id: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly subject: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly category: string;
  /** Defaults from the category. */
  readonly priority?: Priority | undefined;
  readonly apiKey: string;
  /** The template version the email was rendered from. */
  readonly template?: { readonly slug: string; readonly version: number } | undefined;
  /** The cooldown it is sent with. */
  readonly cooldown?: { readonly key: string; readonly hours: number } | undefined;
  /** A scheduled email: when it is due and how it waits (status `scheduled`, schedule version 1). */
  readonly schedule?: { readonly at: string; readonly via: 'queue' | 'scheduler' } | undefined;
}

export function newRecord(m: NewMessage, now: Date, retentionDays: number): MessageRecord {
  const at = now.toISOString();
  const priority = m.priority ?? defaultPriority(m.category);
  return {
    id: m.id,
    status: m.schedule ? 'scheduled' : 'queued',
    from: m.from,
    to: [...m.to],
    cc: [...m.cc],
    bcc: [...m.bcc],
    subject: m.subject,
    tags: { ...m.tags },
    category: m.category,
    priority,
    apiKey: m.apiKey,
    ...(m.template ? { template: { slug: m.template.slug, version: m.template.version } } : {}),
    ...(m.cooldown ? { cooldown: { key: m.cooldown.key, hours: m.cooldown.hours } } : {}),
    createdAt: at,
    updatedAt: at,
    attempts: 0,
    ...(m.schedule ? { scheduledAt: m.schedule.at, scheduleRev: 1, scheduleVia: m.schedule.via } : {}),
    // The timeline says which queue the email waits in (and until when, if scheduled).
    events: m.schedule
      ? [{ type: 'scheduled', at, detail: { priority, scheduledAt: m.schedule.at } }]
      : [{ type: 'queued', at, detail: { priority } }],
    opens: 0,
    clicks: 0,
    machineOpens: 0,
    machineClicks: 0,
    seen: [],
    expiresAt: Math.floor(now.getTime() / 1000) + retentionDays * 86_400,
  };
}

/** What GET /v1/emails/{id} shows. Internal bookkeeping (claims, expiry) stays out. */
export function toView(r: MessageRecord) {
  return {
    id: r.id,
    status: r.status,
    from: r.from,
    to: r.to,
    cc: r.cc,
    bcc: r.bcc,
    subject: r.subject,
    tags: r.tags,
    category: r.category,
    priority: r.priority ?? defaultPriority(r.category),
    ...(r.template ? { template: r.template } : {}),
    ...(r.cooldown ? { cooldown: r.cooldown } : {}),
    ...(r.scheduledAt ? { scheduledAt: r.scheduledAt } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    attempts: r.attempts,
    provider: r.provider ?? null,
    providerMessageId: r.providerMessageId ?? null,
    ...(r.reason ? { reason: r.reason } : {}),
    // People's opens and clicks; machine ones (proxies, scanners) are counted apart.
    engagement: {
      opens: r.opens,
      clicks: r.clicks,
      machineOpens: r.machineOpens,
      machineClicks: r.machineClicks,
      firstOpenAt: r.firstOpenAt ?? null,
      firstClickAt: r.firstClickAt ?? null,
    },
    events: r.events,
  };
}
export type MessageView = ReturnType<typeof toView>;
