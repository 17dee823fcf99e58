/**
 * Environment, parsed once at cold start. No other file under functions/ reads process.env.
 * The CDK stack sets these variables from construct attributes (lib/), never hard-coded names.
 *
 * Each function's schema reads its variables and transforms them into its config object, so the
 * config types are inferred from the schemas (never written twice) and the defaults come from
 * core/defaults.ts, as cdk.json validation and the constructs take them. Schemas are built once, at
 * module load, with zod/mini; each is marked pure, so a function's bundle keeps (and builds) only its own.
 */
import * as z from 'zod/mini';
import './core/zod-locale';
import { DEFAULT_PROVIDERS, DEFAULTS } from './core/defaults';
import { type ChainConfig, ProvidersConfig } from './core/providers';
import { RETRY_SCHEDULE_SECONDS, WEBHOOK_DEFAULTS } from './core/webhook-retry';

export { DEFAULT_PROVIDERS };

const name = z.string().check(z.minLength(1));
const positiveInt = z.coerce.number().check(z.int(), z.positive());
/** A whole percentage from 0 to 90 (the bulk reserve: bulk mail always keeps some capacity). */
const reservePercent = z.coerce.number().check(z.int(), z.gte(0), z.lte(90));
/** "true" or "false", `fallback` when unset. */
const flag = (fallback: boolean) =>
  z.pipe(
    z._default(z.enum(['true', 'false']), fallback ? 'true' : 'false'),
    z.transform((value) => value === 'true'),
  );
/** The provider definitions and default chain, as JSON (secrets by name only). SES alone when unset. */
const PROVIDERS = z._default(z.string(), '');

/** A percentage above 0 and at most 100 (fractions allowed). */
const percent = z.coerce.number().check(z.gt(0), z.lte(100));

/** The reputation guard's thresholds and window (ingest shows them, ses-events judges by them). */
const GUARD_VARS = {
  GUARD_WINDOW_HOURS: z._default(positiveInt, DEFAULTS.guard.windowHours),
  GUARD_MIN_VOLUME: z._default(positiveInt, DEFAULTS.guard.minVolume),
  GUARD_BOUNCE_WARN_PERCENT: z._default(percent, DEFAULTS.guard.bounce.warnPercent),
  GUARD_BOUNCE_PAUSE_PERCENT: z._default(percent, DEFAULTS.guard.bounce.pausePercent),
  GUARD_COMPLAINT_WARN_PERCENT: z._default(percent, DEFAULTS.guard.complaint.warnPercent),
  GUARD_COMPLAINT_PAUSE_PERCENT: z._default(percent, DEFAULTS.guard.complaint.pausePercent),
};

type GuardVars = { readonly [K in keyof typeof GUARD_VARS]: number };

const guardFrom = (e: GuardVars) => ({
  windowHours: e.GUARD_WINDOW_HOURS,
  minVolume: e.GUARD_MIN_VOLUME,
  bounce: { warnPercent: e.GUARD_BOUNCE_WARN_PERCENT, pausePercent: e.GUARD_BOUNCE_PAUSE_PERCENT },
  complaint: { warnPercent: e.GUARD_COMPLAINT_WARN_PERCENT, pausePercent: e.GUARD_COMPLAINT_PAUSE_PERCENT },
});

/** Parses the PROVIDERS variable; the message names what is wrong. */
export function providersFrom(raw: string): ProvidersConfig {
  if (raw.trim() === '') return DEFAULT_PROVIDERS;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('Invalid function environment: PROVIDERS is not JSON');
  }
  const parsed = ProvidersConfig.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `PROVIDERS.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid function environment: ${fields}`);
  }
  return parsed.data as ProvidersConfig;
}

/**
 * The chain a function works with. Run only once every variable is valid (the last step of a pipe),
 * so a missing table is reported before a bad PROVIDERS, as before.
 */
const chainFrom = (raw: string): ChainConfig => providersFrom(raw);

/**
 * The events queue every state-changing function publishes webhook events to. Optional: a function
 * without it publishes nothing (tests, and deployments built before webhooks existed).
 */
const WEBHOOK_EVENTS = { QUEUE_WEBHOOK_EVENTS_URL: z.optional(z.url()) };
const webhookEventsFrom = (e: { QUEUE_WEBHOOK_EVENTS_URL?: string | undefined }) =>
  e.QUEUE_WEBHOOK_EVENTS_URL === undefined ? {} : { webhookEventsQueueUrl: e.QUEUE_WEBHOOK_EVENTS_URL };

/** Webhook delivery settings (the webhooks function and the webhook API). */
const WEBHOOK_VARS = {
  /** http URLs and private addresses allowed: the local stack only. */
  WEBHOOK_ALLOW_PRIVATE_URLS: flag(false),
  /** Seconds before each retry, comma-separated. */
  WEBHOOK_RETRY_SCHEDULE: z._default(
    z.string().check(z.regex(/^\d+(?:,\d+)*$/, 'seconds, comma-separated')),
    RETRY_SCHEDULE_SECONDS.join(','),
  ),
  WEBHOOK_FAILURE_LIMIT: z._default(positiveInt, WEBHOOK_DEFAULTS.failureLimit),
  WEBHOOK_FAILING_HOURS: z._default(z.coerce.number().check(z.gte(0)), WEBHOOK_DEFAULTS.failingHours),
};

/** A queue that feeds the dispatcher: its URL, its dead-letter queue's (if the function moves messages there), its maxReceiveCount. */
export interface SendQueueConfig {
  readonly url: string;
  readonly deadLetterUrl?: string;
  readonly maxReceiveCount: number;
}

const sendQueue = (url: string, deadLetterUrl: string | undefined, maxReceiveCount: number): SendQueueConfig => ({
  url,
  ...(deadLetterUrl === undefined ? {} : { deadLetterUrl }),
  maxReceiveCount,
});

/**
 * Scheduled sends (lib/constructs/scheduling.ts sets them all, or none): the schedule group, the
 * role Scheduler sends to the queues with, its dead-letter queue, and each send queue's ARN.
 */
const SCHEDULING_VARS = {
  SCHEDULE_GROUP: z.optional(name),
  SCHEDULER_ROLE_ARN: z.optional(name),
  SCHEDULER_DLQ_ARN: z.optional(name),
  QUEUE_SEND_ARN: z.optional(name),
  QUEUE_SEND_CRITICAL_ARN: z.optional(name),
  QUEUE_SEND_BULK_ARN: z.optional(name),
  /** The audience jobs queue: a broadcast scheduled further ahead starts with a job there. */
  QUEUE_AUDIENCE_JOBS_ARN: z.optional(name),
};

export interface SchedulingConfig {
  readonly group: string;
  readonly roleArn: string;
  readonly deadLetterArn: string;
  readonly queueArns: { readonly critical: string; readonly transactional: string; readonly bulk: string };
  readonly jobsQueueArn: string;
}

type SchedulingVars = { readonly [K in keyof typeof SCHEDULING_VARS]?: string | undefined };

/** The scheduling settings when every variable is set; none when none is; an error when only some are. */
function schedulingFrom(e: SchedulingVars): { scheduling?: SchedulingConfig } {
  const names = Object.keys(SCHEDULING_VARS) as (keyof SchedulingVars)[];
  const set = names.filter((n) => e[n] !== undefined);
  if (set.length === 0) return {};
  if (set.length < names.length) {
    const missing = names.filter((n) => e[n] === undefined).join(', ');
    throw new Error(`Invalid function environment: scheduled sends need ${missing} as well`);
  }
  const v = (n: keyof SchedulingVars) => e[n] as string;
  return {
    scheduling: {
      group: v('SCHEDULE_GROUP'),
      roleArn: v('SCHEDULER_ROLE_ARN'),
      deadLetterArn: v('SCHEDULER_DLQ_ARN'),
      queueArns: {
        critical: v('QUEUE_SEND_CRITICAL_ARN'),
        transactional: v('QUEUE_SEND_ARN'),
        bulk: v('QUEUE_SEND_BULK_ARN'),
      },
      jobsQueueArn: v('QUEUE_AUDIENCE_JOBS_ARN'),
    },
  };
}

const IngestEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_IDEMPOTENCY: name,
      TABLE_SETTINGS: name,
      TABLE_SUPPRESSION: name,
      /** Contacts, lists and CSV imports (/v1/contacts, /v1/lists). */
      TABLE_CONTACTS: name,
      /** Broadcasts (/v1/broadcasts): definitions, states, checkpoints, counts. */
      TABLE_BROADCASTS: name,
      /** Per-API-key request counters (one-second windows). */
      TABLE_RATE_WINDOWS: name,
      /** The reputation guard's counters and streams (GET /v1/settings/streams, resume). */
      TABLE_REPUTATION: name,
      /** The send queue of each priority: transactional, critical, bulk. */
      /** Templates: drafts, published versions and their counters. */
      TABLE_TEMPLATES: name,
      /** Event rules (/v1/rules, POST /v1/events). */
      TABLE_RULES: name,
      /** The search index of GET /v1/emails. */
      TABLE_EMAIL_INDEX: name,
      QUEUE_SEND_URL: z.url(),
      QUEUE_SEND_CRITICAL_URL: z.url(),
      QUEUE_SEND_BULK_URL: z.url(),
      /** The audience jobs queue: a broadcast's first page, a contact import. */
      QUEUE_AUDIENCE_JOBS_URL: z.url(),
      /** The content store's bucket: attachments, uploads, large and scheduled bodies. */
      CONTENT_BUCKET: name,
      RETENTION_DAYS: z._default(positiveInt, DEFAULTS.retentionDays),
      PROVIDERS,
      ...GUARD_VARS,
      ...SCHEDULING_VARS,
      ...WEBHOOK_EVENTS,
    }),
    z.transform((e) => ({
      ...webhookEventsFrom(e),
      tables: {
        messages: e.TABLE_MESSAGES,
        idempotency: e.TABLE_IDEMPOTENCY,
        settings: e.TABLE_SETTINGS,
        suppression: e.TABLE_SUPPRESSION,
        contacts: e.TABLE_CONTACTS,
        broadcasts: e.TABLE_BROADCASTS,
        rateWindows: e.TABLE_RATE_WINDOWS,
        reputation: e.TABLE_REPUTATION,
        templates: e.TABLE_TEMPLATES,
        rules: e.TABLE_RULES,
        emailIndex: e.TABLE_EMAIL_INDEX,
      },
      sendQueueUrl: e.QUEUE_SEND_URL,
      jobsQueueUrl: e.QUEUE_AUDIENCE_JOBS_URL,
      contentBucket: e.CONTENT_BUCKET,
      /** Where an email of each priority is queued. */
      priorityQueueUrls: {
        critical: e.QUEUE_SEND_CRITICAL_URL,
        transactional: e.QUEUE_SEND_URL,
        bulk: e.QUEUE_SEND_BULK_URL,
      },
      retentionDays: e.RETENTION_DAYS,
      providers: chainFrom(e.PROVIDERS),
      guard: guardFrom(e),
      ...schedulingFrom(e),
    })),
  ))();

const DispatchEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SUPPRESSION: name,
      /** Cooldowns: one conditional write per recipient of an email sent with a `cooldown`. */
      TABLE_COOLDOWNS: name,
      TABLE_SETTINGS: name,
      TABLE_RATE_WINDOWS: name,
      /** The reputation guard: streams' states (read per batch, cached) and send counters. */
      TABLE_REPUTATION: name,
      /** Seconds an email of a paused stream waits before it is looked at again. */
      GUARD_HELD_WAIT_SECONDS: z._default(
        z.coerce.number().check(z.int(), z.gte(1), z.lte(900)),
        DEFAULTS.guard.heldWaitSeconds,
      ),
      PROVIDERS,
      /** The send queues it consumes (one per priority): transactional, critical, bulk. */
      QUEUE_SEND_URL: z.url(),
      QUEUE_SEND_CRITICAL_URL: z.url(),
      QUEUE_SEND_BULK_URL: z.url(),
      /**
       * Each send queue's dead-letter queue: a message whose record the dispatcher ends `failed` is
       * moved there at once. Unset: SQS moves it once its visibility timeout ends.
       */
      QUEUE_SEND_DLQ_URL: z.optional(z.url()),
      QUEUE_SEND_CRITICAL_DLQ_URL: z.optional(z.url()),
      QUEUE_SEND_BULK_DLQ_URL: z.optional(z.url()),
      SES_CONFIGURATION_SET: z.optional(name),
      /** The content store's bucket: the parts of the emails it sends. */
      CONTENT_BUCKET: name,
      /** Secrets Manager secret (ARN or name) holding the link-signing keys: {"current":"k1","k1":"…"}. */
      SIGNING_KEYS_SECRET: name,
      /** Base URL of the public links written into emails (unsubscribe, tracking), e.g. the API's URL. */
      PUBLIC_BASE_URL: z.url(),
      /** Whether HTML mail is tracked when a request does not say (deployment defaults). */
      TRACK_OPENS: flag(DEFAULTS.tracking.opens),
      TRACK_CLICKS: flag(DEFAULTS.tracking.clicks),
      /** The dispatch function's timeout: a claim older than this was left by a stopped dispatcher. */
      DISPATCH_TIMEOUT_SECONDS: z._default(positiveInt, DEFAULTS.dispatch.timeoutSeconds),
      /** Each send queue's maxReceiveCount: on its last receive a failing message is marked failed. */
      SEND_MAX_RECEIVE_COUNT: z._default(positiveInt, DEFAULTS.sendQueue.maxReceiveCount),
      SEND_CRITICAL_MAX_RECEIVE_COUNT: z._default(positiveInt, DEFAULTS.sendQueue.maxReceiveCount),
      SEND_BULK_MAX_RECEIVE_COUNT: z._default(positiveInt, DEFAULTS.sendQueue.maxReceiveCount),
      /** Percent of each provider rate window held back from bulk mail while critical/transactional mail is around. */
      BULK_RESERVE_PERCENT: z._default(reservePercent, DEFAULTS.capacity.bulkReservePercent),
      ...WEBHOOK_EVENTS,
    }),
    z.transform((e) => ({
      ...webhookEventsFrom(e),
      tables: {
        messages: e.TABLE_MESSAGES,
        suppression: e.TABLE_SUPPRESSION,
        cooldowns: e.TABLE_COOLDOWNS,
        settings: e.TABLE_SETTINGS,
        rateWindows: e.TABLE_RATE_WINDOWS,
        reputation: e.TABLE_REPUTATION,
      },
      heldWaitSeconds: e.GUARD_HELD_WAIT_SECONDS,
      contentBucket: e.CONTENT_BUCKET,
      providers: chainFrom(e.PROVIDERS),
      sendQueueUrl: e.QUEUE_SEND_URL,
      ...(e.QUEUE_SEND_DLQ_URL === undefined ? {} : { sendDeadLetterQueueUrl: e.QUEUE_SEND_DLQ_URL }),
      /** Every queue that feeds the dispatcher, with its own DLQ and maxReceiveCount (critical first). */
      sendQueues: [
        sendQueue(e.QUEUE_SEND_CRITICAL_URL, e.QUEUE_SEND_CRITICAL_DLQ_URL, e.SEND_CRITICAL_MAX_RECEIVE_COUNT),
        sendQueue(e.QUEUE_SEND_URL, e.QUEUE_SEND_DLQ_URL, e.SEND_MAX_RECEIVE_COUNT),
        sendQueue(e.QUEUE_SEND_BULK_URL, e.QUEUE_SEND_BULK_DLQ_URL, e.SEND_BULK_MAX_RECEIVE_COUNT),
      ],
      timeoutSeconds: e.DISPATCH_TIMEOUT_SECONDS,
      // Absent rather than undefined when unset: the key is optional in the inferred type.
      ...(e.SES_CONFIGURATION_SET === undefined ? {} : { sesConfigurationSet: e.SES_CONFIGURATION_SET }),
      maxReceiveCount: e.SEND_MAX_RECEIVE_COUNT,
      signingKeysSecret: e.SIGNING_KEYS_SECRET,
      publicBaseUrl: e.PUBLIC_BASE_URL,
      trackDefaults: { opens: e.TRACK_OPENS, clicks: e.TRACK_CLICKS },
      bulkReserve: e.BULK_RESERVE_PERCENT / 100,
    })),
  ))();

const SesEventsEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SUPPRESSION: name,
      /** The reputation guard: hard bounces and complaints counted per priority, streams paused. */
      TABLE_REPUTATION: name,
      /** Bounces and complaints are counted per template version there. */
      TABLE_TEMPLATES: name,
      /** Transient bounces of one address within the window that convert to a suppression. */
      SOFT_BOUNCE_LIMIT: z._default(positiveInt, DEFAULTS.softBounce.limit),
      SOFT_BOUNCE_WINDOW_HOURS: z._default(positiveInt, DEFAULTS.softBounce.windowHours),
      ...GUARD_VARS,
      ...WEBHOOK_EVENTS,
    }),
    z.transform((e) => ({
      ...webhookEventsFrom(e),
      tables: {
        messages: e.TABLE_MESSAGES,
        suppression: e.TABLE_SUPPRESSION,
        reputation: e.TABLE_REPUTATION,
        templates: e.TABLE_TEMPLATES,
      },
      softBounce: { limit: e.SOFT_BOUNCE_LIMIT, windowHours: e.SOFT_BOUNCE_WINDOW_HOURS },
      guard: guardFrom(e),
    })),
  ))();

const TrackingEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SUPPRESSION: name,
      SIGNING_KEYS_SECRET: name,
      ...WEBHOOK_EVENTS,
    }),
    z.transform((e) => ({
      ...webhookEventsFrom(e),
      tables: { messages: e.TABLE_MESSAGES, suppression: e.TABLE_SUPPRESSION },
      signingKeysSecret: e.SIGNING_KEYS_SECRET,
    })),
  ))();

const webhookPolicyFrom = (e: {
  WEBHOOK_ALLOW_PRIVATE_URLS: boolean;
  WEBHOOK_RETRY_SCHEDULE: string;
  WEBHOOK_FAILURE_LIMIT: number;
  WEBHOOK_FAILING_HOURS: number;
}) => ({
  allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
  schedule: e.WEBHOOK_RETRY_SCHEDULE.split(',').map(Number),
  failureLimit: e.WEBHOOK_FAILURE_LIMIT,
  failingHours: e.WEBHOOK_FAILING_HOURS,
});

const WebhooksEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_WEBHOOKS: name,
      TABLE_MESSAGES: name,
      /** Broadcasts: their emails' events add to their counters. */
      TABLE_BROADCASTS: name,
      QUEUE_WEBHOOK_RETRIES_URL: z.url(),
      SIGNING_KEYS_SECRET: name,
      RETENTION_DAYS: z._default(positiveInt, WEBHOOK_DEFAULTS.retentionDays),
      ...WEBHOOK_VARS,
    }),
    z.transform((e) => ({
      tables: { webhooks: e.TABLE_WEBHOOKS, messages: e.TABLE_MESSAGES, broadcasts: e.TABLE_BROADCASTS },
      retriesQueueUrl: e.QUEUE_WEBHOOK_RETRIES_URL,
      signingKeysSecret: e.SIGNING_KEYS_SECRET,
      retentionDays: e.RETENTION_DAYS,
      ...webhookPolicyFrom(e),
    })),
  ))();

const WebhookApiEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_WEBHOOKS: name,
      TABLE_SETTINGS: name,
      TABLE_RATE_WINDOWS: name,
      QUEUE_WEBHOOK_EVENTS_URL: z.url(),
      QUEUE_WEBHOOK_RETRIES_URL: z.url(),
      SIGNING_KEYS_SECRET: name,
      ...WEBHOOK_VARS,
    }),
    z.transform((e) => ({
      tables: { webhooks: e.TABLE_WEBHOOKS, settings: e.TABLE_SETTINGS, rateWindows: e.TABLE_RATE_WINDOWS },
      eventsQueueUrl: e.QUEUE_WEBHOOK_EVENTS_URL,
      retriesQueueUrl: e.QUEUE_WEBHOOK_RETRIES_URL,
      signingKeysSecret: e.SIGNING_KEYS_SECRET,
      allowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
    })),
  ))();

/** The audience function (broadcast fan-out, contact imports): its jobs queue; each job kind adds what it needs. */
const AudienceEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      QUEUE_AUDIENCE_JOBS_URL: z.url(),
      // A broadcast's fan-out: the broadcast, its list's contacts, its template, and the send path
      // (records, search index, the bulk queue, the content store for bodies too large for a message).
      TABLE_BROADCASTS: name,
      TABLE_CONTACTS: name,
      TABLE_TEMPLATES: name,
      TABLE_MESSAGES: name,
      TABLE_EMAIL_INDEX: name,
      QUEUE_SEND_BULK_URL: z.url(),
      CONTENT_BUCKET: name,
      RETENTION_DAYS: z._default(positiveInt, DEFAULTS.retentionDays),
      PROVIDERS,
      ...WEBHOOK_EVENTS,
    }),
    z.transform((e) => ({
      jobsQueueUrl: e.QUEUE_AUDIENCE_JOBS_URL,
      ...webhookEventsFrom(e),
      // Contact imports: the contacts table, and the content store the files are uploaded to.
      contactsTable: e.TABLE_CONTACTS,
      contentBucket: e.CONTENT_BUCKET,
      fanout: {
        tables: {
          broadcasts: e.TABLE_BROADCASTS,
          contacts: e.TABLE_CONTACTS,
          templates: e.TABLE_TEMPLATES,
          messages: e.TABLE_MESSAGES,
          emailIndex: e.TABLE_EMAIL_INDEX,
        },
        bulkQueueUrl: e.QUEUE_SEND_BULK_URL,
        contentBucket: e.CONTENT_BUCKET,
        retentionDays: e.RETENTION_DAYS,
        providers: chainFrom(e.PROVIDERS),
      },
    })),
  ))();

export type AudienceConfig = z.output<typeof AudienceEnv>;

export function audienceConfig(env: NodeJS.ProcessEnv = process.env): AudienceConfig {
  return parse(AudienceEnv, env);
}

export type WebhooksConfig = z.output<typeof WebhooksEnv>;
export type WebhookApiConfig = z.output<typeof WebhookApiEnv>;

export function webhooksConfig(env: NodeJS.ProcessEnv = process.env): WebhooksConfig {
  return parse(WebhooksEnv, env);
}

export function webhookApiConfig(env: NodeJS.ProcessEnv = process.env): WebhookApiConfig {
  return parse(WebhookApiEnv, env);
}

export type IngestConfig = z.output<typeof IngestEnv>;
export type DispatchConfig = z.output<typeof DispatchEnv>;
export type SesEventsConfig = z.output<typeof SesEventsEnv>;
export type TrackingConfig = z.output<typeof TrackingEnv>;

/** Parses `env` with `schema`; the message names every variable that is wrong. */
function parse<T extends z.ZodMiniType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid function environment: ${fields}`);
  }
  return result.data;
}

export function ingestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  return parse(IngestEnv, env);
}

export function dispatchConfig(env: NodeJS.ProcessEnv = process.env): DispatchConfig {
  return parse(DispatchEnv, env);
}

export function sesEventsConfig(env: NodeJS.ProcessEnv = process.env): SesEventsConfig {
  return parse(SesEventsEnv, env);
}

export function trackingConfig(env: NodeJS.ProcessEnv = process.env): TrackingConfig {
  return parse(TrackingEnv, env);
}

/** The console function: API keys and their request counters, the message records (redrive), the queues it shows. */
const ConsoleEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SETTINGS: name,
      TABLE_RATE_WINDOWS: name,
      QUEUE_SEND_URL: z.url(),
      QUEUE_SEND_DLQ_URL: z.url(),
      QUEUE_SEND_CRITICAL_URL: z.url(),
      QUEUE_SEND_CRITICAL_DLQ_URL: z.url(),
      QUEUE_SEND_BULK_URL: z.url(),
      QUEUE_SEND_BULK_DLQ_URL: z.url(),
      QUEUE_SES_EVENTS_URL: z.url(),
      QUEUE_SES_EVENTS_DLQ_URL: z.url(),
    }),
    z.transform((e) => ({
      tables: { messages: e.TABLE_MESSAGES, settings: e.TABLE_SETTINGS, rateWindows: e.TABLE_RATE_WINDOWS },
      /** Each queue the console shows, by its API name, with its dead-letter queue. */
      queues: {
        critical: { url: e.QUEUE_SEND_CRITICAL_URL, dlqUrl: e.QUEUE_SEND_CRITICAL_DLQ_URL },
        transactional: { url: e.QUEUE_SEND_URL, dlqUrl: e.QUEUE_SEND_DLQ_URL },
        bulk: { url: e.QUEUE_SEND_BULK_URL, dlqUrl: e.QUEUE_SEND_BULK_DLQ_URL },
        'ses-events': { url: e.QUEUE_SES_EVENTS_URL, dlqUrl: e.QUEUE_SES_EVENTS_DLQ_URL },
      },
    })),
  ))();

export type ConsoleConfig = z.output<typeof ConsoleEnv>;

export function consoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  return parse(ConsoleEnv, env);
}
