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

export { DEFAULT_PROVIDERS };

const name = z.string().check(z.minLength(1));
const positiveInt = z.coerce.number().check(z.int(), z.positive());
/** "true" or "false", `fallback` when unset. */
const flag = (fallback: boolean) =>
  z.pipe(
    z._default(z.enum(['true', 'false']), fallback ? 'true' : 'false'),
    z.transform((value) => value === 'true'),
  );
/** The provider definitions and default chain, as JSON (secrets by name only). SES alone when unset. */
const PROVIDERS = z._default(z.string(), '');

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

const IngestEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_IDEMPOTENCY: name,
      TABLE_SETTINGS: name,
      TABLE_SUPPRESSION: name,
      /** Per-API-key request counters (one-second windows). */
      TABLE_RATE_WINDOWS: name,
      /** Templates: drafts, published versions and their counters. */
      TABLE_TEMPLATES: name,
      QUEUE_SEND_URL: z.url(),
      RETENTION_DAYS: z._default(positiveInt, DEFAULTS.retentionDays),
      PROVIDERS,
    }),
    z.transform((e) => ({
      tables: {
        messages: e.TABLE_MESSAGES,
        idempotency: e.TABLE_IDEMPOTENCY,
        settings: e.TABLE_SETTINGS,
        suppression: e.TABLE_SUPPRESSION,
        rateWindows: e.TABLE_RATE_WINDOWS,
        templates: e.TABLE_TEMPLATES,
      },
      sendQueueUrl: e.QUEUE_SEND_URL,
      retentionDays: e.RETENTION_DAYS,
      providers: chainFrom(e.PROVIDERS),
    })),
  ))();

const DispatchEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SUPPRESSION: name,
      TABLE_SETTINGS: name,
      TABLE_RATE_WINDOWS: name,
      PROVIDERS,
      QUEUE_SEND_URL: z.url(),
      /**
       * The send queue's dead-letter queue: a message whose record the dispatcher ends `failed` is
       * moved there at once. Unset: SQS moves it once its visibility timeout ends.
       */
      QUEUE_SEND_DLQ_URL: z.optional(z.url()),
      SES_CONFIGURATION_SET: z.optional(name),
      /** Secrets Manager secret (ARN or name) holding the link-signing keys: {"current":"k1","k1":"…"}. */
      SIGNING_KEYS_SECRET: name,
      /** Base URL of the public links written into emails (unsubscribe, tracking), e.g. the API's URL. */
      PUBLIC_BASE_URL: z.url(),
      /** Whether HTML mail is tracked when a request does not say (deployment defaults). */
      TRACK_OPENS: flag(DEFAULTS.tracking.opens),
      TRACK_CLICKS: flag(DEFAULTS.tracking.clicks),
      /** The dispatch function's timeout: a claim older than this was left by a stopped dispatcher. */
      DISPATCH_TIMEOUT_SECONDS: z._default(positiveInt, DEFAULTS.dispatch.timeoutSeconds),
      /** The send queue's maxReceiveCount: on the last receive a failing message is marked failed. */
      SEND_MAX_RECEIVE_COUNT: z._default(positiveInt, DEFAULTS.sendQueue.maxReceiveCount),
    }),
    z.transform((e) => ({
      tables: {
        messages: e.TABLE_MESSAGES,
        suppression: e.TABLE_SUPPRESSION,
        settings: e.TABLE_SETTINGS,
        rateWindows: e.TABLE_RATE_WINDOWS,
      },
      providers: chainFrom(e.PROVIDERS),
      sendQueueUrl: e.QUEUE_SEND_URL,
      ...(e.QUEUE_SEND_DLQ_URL === undefined ? {} : { sendDeadLetterQueueUrl: e.QUEUE_SEND_DLQ_URL }),
      timeoutSeconds: e.DISPATCH_TIMEOUT_SECONDS,
      // Absent rather than undefined when unset: the key is optional in the inferred type.
      ...(e.SES_CONFIGURATION_SET === undefined ? {} : { sesConfigurationSet: e.SES_CONFIGURATION_SET }),
      maxReceiveCount: e.SEND_MAX_RECEIVE_COUNT,
      signingKeysSecret: e.SIGNING_KEYS_SECRET,
      publicBaseUrl: e.PUBLIC_BASE_URL,
      trackDefaults: { opens: e.TRACK_OPENS, clicks: e.TRACK_CLICKS },
    })),
  ))();

const SesEventsEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SUPPRESSION: name,
      /** Bounces and complaints are counted per template version there. */
      TABLE_TEMPLATES: name,
      /** Transient bounces of one address within the window that convert to a suppression. */
      SOFT_BOUNCE_LIMIT: z._default(positiveInt, DEFAULTS.softBounce.limit),
      SOFT_BOUNCE_WINDOW_HOURS: z._default(positiveInt, DEFAULTS.softBounce.windowHours),
    }),
    z.transform((e) => ({
      tables: { messages: e.TABLE_MESSAGES, suppression: e.TABLE_SUPPRESSION, templates: e.TABLE_TEMPLATES },
      softBounce: { limit: e.SOFT_BOUNCE_LIMIT, windowHours: e.SOFT_BOUNCE_WINDOW_HOURS },
    })),
  ))();

const TrackingEnv = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      TABLE_MESSAGES: name,
      TABLE_SUPPRESSION: name,
      SIGNING_KEYS_SECRET: name,
    }),
    z.transform((e) => ({
      tables: { messages: e.TABLE_MESSAGES, suppression: e.TABLE_SUPPRESSION },
      signingKeysSecret: e.SIGNING_KEYS_SECRET,
    })),
  ))();

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
