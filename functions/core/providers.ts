/**
 * The provider chain as data (DESIGN §3). Two layers:
 *
 * - **Definitions** (deploy time: cdk.json context, or LOCAL_CONFIG locally): each provider's id,
 *   type, type-specific settings (secrets by name in AWS; inline only locally), enabled flag and
 *   rate limits, plus `chain`, the ids in the order they are tried.
 * - **Live settings** (a settings item in DynamoDB, changed with PUT /v1/settings/providers): the
 *   chain order, enabled flags and limits. They override the definitions without a redeploy;
 *   type and credentials never change at run time.
 */

import * as z from 'zod/mini';
import { maxMessageBytesOf } from './message-size';
import './zod-locale';
import type { RateWindow } from './rate-window';
import type { WarmUp } from './warm-up';

// Schemas are built at module load, each marked pure (`/* @__PURE__ */ (() => …)()`) so that a bundle
// that never uses one leaves it out: the functions that do not parse provider definitions build none
// of them at cold start. SettingsUpdate (one API route) is built on its first use.

export const PROVIDER_TYPES = ['ses', 'azure', 'http'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Provider ids: short, lower case, safe in metric dimensions and DynamoDB keys. */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** The longest window a limit may declare: 31 days. */
export const MAX_WINDOW_SECONDS = 31 * 86_400;
export const MAX_LIMITS = 5;

const whole = (min: number, max: number, what: string) =>
  z
    .number()
    .check(
      z.int(`${what} must be a whole number`),
      z.gte(min, `${what} must be at least ${min}`),
      z.lte(max, `${what} must be at most ${max}`),
    );

export const RateLimit = /* @__PURE__ */ (() =>
  z.strictObject({
    limit: whole(1, 1_000_000_000, 'limit'),
    windowSeconds: whole(1, MAX_WINDOW_SECONDS, 'windowSeconds'),
  }))();
export type RateLimit = z.infer<typeof RateLimit>;

export const RateLimits = /* @__PURE__ */ (() =>
  z.array(RateLimit).check(
    z.maxLength(MAX_LIMITS, `at most ${MAX_LIMITS} limits per provider`),
    z.refine(
      (limits) => new Set(limits.map((l) => l.windowSeconds)).size === limits.length,
      'each windowSeconds may appear once',
    ),
  ))();

const warmUpFields = /* @__PURE__ */ (() => ({
  startPerDay: whole(1, 1_000_000_000, 'startPerDay'),
  growth: z.number().check(z.gte(1, 'growth must be at least 1'), z.lte(10, 'growth must be at most 10')),
}))();
const startDate = /* @__PURE__ */ (() =>
  z.string().check(
    z.regex(/^\d{4}-\d{2}-\d{2}$/, 'startDate must be a date such as "2026-12-01" (UTC)'),
    z.refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'startDate must be a real date'),
  ))();

/** A daily ramp for bulk mail (core/warm-up.ts): `startPerDay` on `startDate`, × `growth` each day after. */
export const WarmUpDef = /* @__PURE__ */ (() => z.strictObject({ ...warmUpFields, startDate }))();
/** The same through the settings API, where the start date defaults to the day of the change. */
export const WarmUpUpdate = /* @__PURE__ */ (() =>
  z.strictObject({ ...warmUpFields, startDate: z.optional(startDate) }))();
export type WarmUpUpdate = z.infer<typeof WarmUpUpdate>;

const id = /* @__PURE__ */ (() =>
  z.string().check(z.regex(PROVIDER_ID, 'ids are 1-40 of a-z, 0-9, "-" and "_", starting with a letter or digit')))();
const secretName = /* @__PURE__ */ (() =>
  z.string().check(z.regex(/^[\w/+=.@:-]{1,2048}$/, 'expected a Secrets Manager secret name or ARN')))();
const timeoutMs = /* @__PURE__ */ (() => z.optional(whole(100, 25_000, 'timeoutMs')))();

const common = /* @__PURE__ */ (() => ({
  id,
  enabled: z.optional(z.boolean()),
  limits: z.optional(RateLimits),
  /** A daily ramp for bulk mail through a provider that is warming up (off when absent). */
  warmUp: z.optional(WarmUpDef),
  /**
   * The largest message it takes, in bytes (attachments encoded); larger ones skip it before trying.
   * @default - the provider type's (core/message-size.ts): SES 40 MB, Azure 10 MiB, HTTP 10 MiB
   */
  maxMessageBytes: z.optional(whole(1024, 40_000_000, 'maxMessageBytes')),
}))();

const SesDef = /* @__PURE__ */ (() =>
  z.strictObject({
    ...common,
    type: z.literal('ses'),
    /** Defaults to the stack's configuration set (event publishing needs it). */
    configurationSet: z.optional(z.string().check(z.minLength(1))),
  }))();

/** The definitions as deployed: credentials only by secret name. */
const AzureDef = /* @__PURE__ */ (() =>
  z.strictObject({
    ...common,
    type: z.literal('azure'),
    /** Secret holding the connection string "endpoint=https://…;accesskey=…". */
    connectionStringSecret: secretName,
    timeoutMs,
  }))();
const HttpDef = /* @__PURE__ */ (() =>
  z.strictObject({
    ...common,
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** Secret holding the bearer token (plain string). */
    tokenSecret: z.optional(secretName),
    timeoutMs,
  }))();

/**
 * A deployed definition's secret name, given locally: refused with what to write instead, since
 * there is no Secrets Manager to read it from.
 */
const noLocalSecret = (field: string, inline: string) =>
  z.optional(
    z.never({
      error: `"${field}" names a Secrets Manager secret, which the local stack does not have: give the value itself as "${inline}"`,
    }),
  );

/** Locally the credentials are inline (there is no Secrets Manager). */
const LocalAzureDef = /* @__PURE__ */ (() =>
  z.strictObject({
    ...common,
    type: z.literal('azure'),
    connectionString: z.string().check(z.minLength(1)),
    connectionStringSecret: noLocalSecret('connectionStringSecret', 'connectionString'),
    timeoutMs,
  }))();
const LocalHttpDef = /* @__PURE__ */ (() =>
  z.strictObject({
    ...common,
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    token: z.optional(z.string().check(z.minLength(1))),
    tokenSecret: noLocalSecret('tokenSecret', 'token'),
    timeoutMs,
  }))();

export const ProviderDef = /* @__PURE__ */ (() => z.discriminatedUnion('type', [SesDef, AzureDef, HttpDef]))();
export type ProviderDef = z.infer<typeof ProviderDef>;
export const LocalProviderDef = /* @__PURE__ */ (() =>
  z.discriminatedUnion('type', [SesDef, LocalAzureDef, LocalHttpDef]))();
export type LocalProviderDef = z.infer<typeof LocalProviderDef>;
/** Any definition the factory can build (deployed or local). */
export type AnyProviderDef = ProviderDef | LocalProviderDef;

/** Definitions and default chain, whichever way they were given. */
export interface ChainConfig {
  readonly providers: readonly AnyProviderDef[];
  readonly chain: readonly string[];
}

/** Why a set of definitions and a chain do not fit together, as field issues (empty when they do). */
export function chainProblems(
  providers: readonly { id: string }[],
  chain: readonly string[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const ids = new Set<string>();
  providers.forEach((p, i) => {
    if (ids.has(p.id)) problems.push({ path: ['providers', i, 'id'], message: `"${p.id}" is defined twice` });
    ids.add(p.id);
  });
  const seen = new Set<string>();
  chain.forEach((c, i) => {
    if (!ids.has(c)) problems.push({ path: ['chain', i], message: `no provider is defined with id "${c}"` });
    if (seen.has(c)) problems.push({ path: ['chain', i], message: `"${c}" is listed twice` });
    seen.add(c);
  });
  if (chain.length === 0) problems.push({ path: ['chain'], message: 'the chain needs at least one provider' });
  return problems;
}

const withChain = <T extends z.ZodMiniType>(def: T) =>
  z.strictObject({ providers: z.array(def).check(z.minLength(1), z.maxLength(10)), chain: z.array(z.string()) }).check(
    z.superRefine((v, ctx) => {
      for (const p of chainProblems(v.providers as { id: string }[], v.chain))
        ctx.addIssue({ code: 'custom', path: p.path, message: p.message, input: v });
    }),
  );

/** The deploy-time configuration (cdk.json context and the dispatcher's PROVIDERS variable). */
export const ProvidersConfig = /* @__PURE__ */ (() => withChain(ProviderDef))();
export type ProvidersConfig = { providers: ProviderDef[]; chain: string[] };
/** LOCAL_CONFIG: the same structure, credentials may be inline. */
export const LocalProvidersConfig = /* @__PURE__ */ (() => withChain(LocalProviderDef))();
export type LocalProvidersConfig = { providers: LocalProviderDef[]; chain: string[] };

/** One provider's live settings. */
export interface LiveProvider {
  readonly enabled: boolean;
  readonly limits: readonly RateLimit[];
  /** The bulk warm-up ramp; absent: off. */
  readonly warmUp?: WarmUp | undefined;
}

/** The live part of the configuration, as stored in the settings table. */
export interface LiveSettings {
  readonly chain: readonly string[];
  readonly providers: Readonly<Record<string, LiveProvider>>;
  readonly updatedAt?: string;
  /** Incremented by every change (optimistic concurrency). */
  readonly version: number;
}

/** PUT /v1/settings/providers: every field optional; what is left out stays as it is. */
export const SettingsUpdate = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    chain: z.optional(z.array(z.string()).check(z.maxLength(10))),
    providers: z.optional(
      z.record(
        z.string(),
        z.strictObject({
          enabled: z.optional(z.boolean()),
          limits: z.optional(RateLimits),
          /** A ramp switches warm-up on (its start date defaults to today, UTC); null switches it off. */
          warmUp: z.optional(z.nullable(WarmUpUpdate)),
        }),
      ),
    ),
  }),
);
export type SettingsUpdate = z.infer<typeof SettingsUpdate>;

/** The live settings a deployment starts with, taken from its definitions. */
export function defaultsOf(config: { providers: readonly AnyProviderDef[]; chain: readonly string[] }): LiveSettings {
  return {
    chain: [...config.chain],
    providers: Object.fromEntries(
      config.providers.map((p) => [
        p.id,
        { enabled: p.enabled ?? true, limits: p.limits ?? [], ...(p.warmUp ? { warmUp: p.warmUp } : {}) },
      ]),
    ),
    version: 0,
  };
}

/**
 * The live settings after an update, or the field issues that stop it (unknown ids, a chain
 * naming a provider twice, an empty chain).
 */
export function applyUpdate(
  defs: readonly { id: string }[],
  current: LiveSettings,
  update: SettingsUpdate,
  at: string,
): { ok: true; settings: LiveSettings } | { ok: false; issues: { path: string; message: string }[] } {
  const known = new Set(defs.map((d) => d.id));
  const issues: { path: string; message: string }[] = [];
  const chain = update.chain ?? current.chain.filter((c) => known.has(c));
  for (const p of chainProblems(defs, chain)) issues.push({ path: p.path.join('.'), message: p.message });
  for (const key of Object.keys(update.providers ?? {}))
    if (!known.has(key)) issues.push({ path: `providers.${key}`, message: `no provider is defined with id "${key}"` });
  if (issues.length > 0) return { ok: false, issues };
  const providers: Record<string, LiveProvider> = {};
  for (const d of defs) {
    const was: LiveProvider = current.providers[d.id] ?? { enabled: true, limits: [] };
    const change = update.providers?.[d.id];
    const warmUp =
      change?.warmUp === undefined
        ? was.warmUp
        : change.warmUp === null
          ? undefined
          : { ...change.warmUp, startDate: change.warmUp.startDate ?? at.slice(0, 10) };
    providers[d.id] = {
      enabled: change?.enabled ?? was.enabled,
      limits: [...(change?.limits ?? was.limits)],
      ...(warmUp ? { warmUp } : {}),
    };
  }
  return { ok: true, settings: { chain, providers, updatedAt: at, version: current.version + 1 } };
}

/** One provider as the dispatcher uses it: in chain order, with its live flags and limits. */
export interface ChainEntry {
  readonly id: string;
  readonly type: ProviderType;
  readonly enabled: boolean;
  readonly limits: readonly RateWindow[];
  /** The bulk warm-up ramp, if the provider warms up. */
  readonly warmUp?: WarmUp | undefined;
  /** The largest message it takes, in bytes (core/message-size.ts); unknown: any. */
  readonly maxMessageBytes?: number | undefined;
}

/**
 * The chain in effect: live order, flags and limits over the definitions. Ids the live settings
 * name but the deployment no longer defines are ignored; providers defined after the live settings
 * were written are not in the chain until a PUT adds them.
 */
export function effectiveChain(defs: readonly AnyProviderDef[], live: LiveSettings): ChainEntry[] {
  const byId = new Map(defs.map((d) => [d.id, d]));
  return live.chain.flatMap((cid) => {
    const def = byId.get(cid);
    if (!def) return [];
    const l = live.providers[cid];
    const warmUp = l ? l.warmUp : def.warmUp;
    return [
      {
        id: cid,
        type: def.type,
        enabled: l?.enabled ?? def.enabled ?? true,
        limits: l?.limits ?? def.limits ?? [],
        ...(warmUp ? { warmUp } : {}),
        maxMessageBytes: maxMessageBytesOf(def),
      },
    ];
  });
}
