/**
 * Environment, parsed once at cold start. No other file under functions/ reads process.env.
 * The CDK stack sets these variables from construct attributes (lib/), never hard-coded names.
 */
import * as z from 'zod/mini';
import './core/zod-locale';
import { type ChainConfig, ProvidersConfig } from './core/providers';

const name = z.string().check(z.minLength(1));
const positiveInt = z.coerce.number().check(z.int(), z.positive());
/** The provider definitions and default chain, as JSON (secrets by name only). SES alone when unset. */
const PROVIDERS = z._default(z.string(), '');

const IngestEnv = z.object({
  TABLE_MESSAGES: name,
  TABLE_IDEMPOTENCY: name,
  TABLE_SETTINGS: name,
  TABLE_SUPPRESSION: name,
  /** Per-API-key request counters (one-second windows). */
  TABLE_RATE_WINDOWS: name,
  QUEUE_SEND_URL: z.url(),
  RETENTION_DAYS: z._default(positiveInt, 30),
  PROVIDERS,
});

export const DEFAULT_PROVIDERS: ProvidersConfig = { providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] };

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

const DispatchEnv = z.object({
  TABLE_MESSAGES: name,
  TABLE_SUPPRESSION: name,
  TABLE_SETTINGS: name,
  TABLE_RATE_WINDOWS: name,
  PROVIDERS,
  QUEUE_SEND_URL: z.url(),
  SES_CONFIGURATION_SET: z.optional(name),
  /** Secrets Manager secret (ARN or name) holding the link-signing keys: {"current":"k1","k1":"…"}. */
  SIGNING_KEYS_SECRET: name,
  /** Base URL of the public links written into emails (unsubscribe, tracking), e.g. the API's URL. */
  PUBLIC_BASE_URL: z.url(),
  /** Whether HTML mail is tracked when a request does not say (deployment defaults). */
  TRACK_OPENS: z._default(z.enum(['true', 'false']), 'true'),
  TRACK_CLICKS: z._default(z.enum(['true', 'false']), 'true'),
  /** The dispatch function's timeout: a claim older than this was left by a stopped dispatcher. */
  DISPATCH_TIMEOUT_SECONDS: z._default(positiveInt, 30),
  /** The send queue's maxReceiveCount: on the last receive a failing message is marked failed. */
  SEND_MAX_RECEIVE_COUNT: z._default(positiveInt, 5),
});

const SesEventsEnv = z.object({
  TABLE_MESSAGES: name,
  TABLE_SUPPRESSION: name,
  /** Transient bounces of one address within the window that convert to a suppression. */
  SOFT_BOUNCE_LIMIT: z._default(positiveInt, 3),
  SOFT_BOUNCE_WINDOW_HOURS: z._default(positiveInt, 72),
});

const TrackingEnv = z.object({
  TABLE_MESSAGES: name,
  TABLE_SUPPRESSION: name,
  SIGNING_KEYS_SECRET: name,
});

export interface IngestConfig {
  readonly tables: {
    readonly messages: string;
    readonly idempotency: string;
    readonly settings: string;
    readonly suppression: string;
    readonly rateWindows: string;
  };
  readonly sendQueueUrl: string;
  readonly retentionDays: number;
  readonly providers: ChainConfig;
}

export interface DispatchConfig {
  readonly tables: {
    readonly messages: string;
    readonly suppression: string;
    readonly settings: string;
    readonly rateWindows: string;
  };
  readonly providers: ChainConfig;
  readonly sendQueueUrl: string;
  readonly timeoutSeconds: number;
  readonly sesConfigurationSet?: string | undefined;
  readonly maxReceiveCount: number;
  readonly signingKeysSecret: string;
  readonly publicBaseUrl: string;
  readonly trackDefaults: { readonly opens: boolean; readonly clicks: boolean };
}

export interface SesEventsConfig {
  readonly tables: { readonly messages: string; readonly suppression: string };
  readonly softBounce: { readonly limit: number; readonly windowHours: number };
}

export interface TrackingConfig {
  readonly tables: { readonly messages: string; readonly suppression: string };
  readonly signingKeysSecret: string;
}

function parse<T extends z.ZodMiniType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid function environment: ${fields}`);
  }
  return result.data;
}

export function ingestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const e = parse(IngestEnv, env);
  return {
    tables: {
      messages: e.TABLE_MESSAGES,
      idempotency: e.TABLE_IDEMPOTENCY,
      settings: e.TABLE_SETTINGS,
      suppression: e.TABLE_SUPPRESSION,
      rateWindows: e.TABLE_RATE_WINDOWS,
    },
    sendQueueUrl: e.QUEUE_SEND_URL,
    retentionDays: e.RETENTION_DAYS,
    providers: providersFrom(e.PROVIDERS),
  };
}

export function dispatchConfig(env: NodeJS.ProcessEnv = process.env): DispatchConfig {
  const e = parse(DispatchEnv, env);
  return {
    tables: {
      messages: e.TABLE_MESSAGES,
      suppression: e.TABLE_SUPPRESSION,
      settings: e.TABLE_SETTINGS,
      rateWindows: e.TABLE_RATE_WINDOWS,
    },
    providers: providersFrom(e.PROVIDERS),
    sendQueueUrl: e.QUEUE_SEND_URL,
    timeoutSeconds: e.DISPATCH_TIMEOUT_SECONDS,
    sesConfigurationSet: e.SES_CONFIGURATION_SET,
    maxReceiveCount: e.SEND_MAX_RECEIVE_COUNT,
    signingKeysSecret: e.SIGNING_KEYS_SECRET,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    trackDefaults: { opens: e.TRACK_OPENS === 'true', clicks: e.TRACK_CLICKS === 'true' },
  };
}

export function sesEventsConfig(env: NodeJS.ProcessEnv = process.env): SesEventsConfig {
  const e = parse(SesEventsEnv, env);
  return {
    tables: { messages: e.TABLE_MESSAGES, suppression: e.TABLE_SUPPRESSION },
    softBounce: { limit: e.SOFT_BOUNCE_LIMIT, windowHours: e.SOFT_BOUNCE_WINDOW_HOURS },
  };
}

export function trackingConfig(env: NodeJS.ProcessEnv = process.env): TrackingConfig {
  const e = parse(TrackingEnv, env);
  return {
    tables: { messages: e.TABLE_MESSAGES, suppression: e.TABLE_SUPPRESSION },
    signingKeysSecret: e.SIGNING_KEYS_SECRET,
  };
}
