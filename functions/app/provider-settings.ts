/**
 * GET/PUT /v1/settings/providers (admin keys): the live provider chain — order, enabled flags,
 * rate limits, bulk warm-up ramps — and each provider's circuit, recent error rate and adaptive
 * throttle (the effective rate: a share of the declared limits, lowered after throttles without a
 * Retry-After; core/aimd.ts). A PUT changes the live
 * settings item; every dispatcher picks it up within its cache time (30 s), with no redeploy.
 * Types and credentials are deploy-time only: a PUT cannot add a provider, only use the defined ones.
 *
 * A PUT takes either a partial update (`{"providers": {"relay": {"enabled": false}}}`: what is left
 * out stays as it is, and it applies on top of a change saved meanwhile) or the document a GET
 * returned, edited (the natural edit-and-save): its read-only parts (source, updatedAt,
 * cacheSeconds, each provider's type, position and health) are ignored — a changed type is refused —
 * and its `version` is the optimistic-concurrency token: if the settings changed since that read,
 * the answer is 409 and nothing is saved, so a stale document never overwrites a newer change.
 */

import * as z from 'zod/mini';
import { type AimdPolicy, effectiveWindows, factorAt, recoveredAt, type ThrottleState } from '../core/aimd';
import { DEFAULTS } from '../core/defaults';
import { DomainError, type FieldIssue } from '../core/errors';
import { CIRCUIT, circuitView, recent } from '../core/health';
import {
  type AnyProviderDef,
  applyUpdate,
  defaultsOf,
  type LiveSettings,
  type RateLimit,
  RateLimits,
  SettingsUpdate,
  WarmUpUpdate,
} from '../core/providers';
import type { RouteKey } from '../core/routes';
import { perDayOf, rampAt, type WarmUp } from '../core/warm-up';
import { API_ERRORS } from '../core/zod-locale';
import type { ProviderSettingsStore, RateWindowStore } from '../ports';
import type { RouteMap } from './http';
import { SETTINGS_CACHE_MS } from './provider-chain';

export interface ProviderSettingsDeps {
  readonly defs: readonly AnyProviderDef[];
  /** The deployed default chain. */
  readonly chain: readonly string[];
  readonly store: ProviderSettingsStore;
  /** The providers' rate windows, for the adaptive throttle's state (left out: shown at the full rate). */
  readonly windows?: Pick<RateWindowStore, 'throttleStates'>;
  /** @default DEFAULTS.adaptiveThrottle */
  readonly aimd?: AimdPolicy;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The effective rate of a provider: its factor, limits at that factor, and when it was last lowered. */
function throttleView(limits: readonly RateLimit[], state: ThrottleState | undefined, nowMs: number, p: AimdPolicy) {
  const factor = factorAt(state, nowMs, p);
  const recovered = recoveredAt(state, p);
  return {
    rateFactor: Math.round(factor * 1000) / 1000,
    effectiveLimits: effectiveWindows(limits, factor),
    lastThrottleAt: iso(state?.atMs),
    fullRateAt: recovered !== undefined && recovered > nowMs ? iso(recovered) : null,
  };
}

/** A warm-up ramp with today's allowance, and whether it has reached the declared limits. */
function warmUpView(w: WarmUp | undefined, limits: readonly RateLimit[], nowMs: number) {
  if (!w) return null;
  const today = rampAt(w, nowMs);
  return { ...w, todayPerDay: today, complete: today >= perDayOf(limits) };
}

function view(
  deps: ProviderSettingsDeps,
  live: LiveSettings | undefined,
  health: Awaited<ReturnType<ProviderSettingsStore['load']>>['health'],
  throttles: Readonly<Record<string, ThrottleState | undefined>>,
  nowMs: number,
) {
  const settings = live ?? defaultsOf({ providers: deps.defs, chain: deps.chain });
  return {
    chain: settings.chain,
    source: live ? 'settings' : 'defaults',
    version: settings.version,
    updatedAt: settings.updatedAt ?? null,
    providers: deps.defs.map((d) => {
      const l = settings.providers[d.id];
      const h = health[d.id];
      const r = h ? recent(h, nowMs) : { attempts: 0, errors: 0, errorRate: 0 };
      const position = settings.chain.indexOf(d.id);
      const circuit = circuitView(h, nowMs);
      const limits = l?.limits ?? d.limits ?? [];
      return {
        id: d.id,
        type: d.type,
        enabled: l?.enabled ?? d.enabled ?? true,
        position: position >= 0 ? position + 1 : null,
        limits,
        warmUp: warmUpView(l ? l.warmUp : d.warmUp, limits, nowMs),
        throttle: throttleView(limits, throttles[d.id], nowMs, deps.aimd ?? DEFAULTS.adaptiveThrottle),
        health: {
          circuit: circuit.circuit,
          openUntil: circuit.openUntilMs === undefined ? null : new Date(circuit.openUntilMs).toISOString(),
          reason: circuit.reason ?? null,
          errorRate: Math.round(r.errorRate * 1000) / 1000,
          attempts: r.attempts,
          errors: r.errors,
          windowMinutes: CIRCUIT.windowMinutes,
        },
      };
    }),
    cacheSeconds: SETTINGS_CACHE_MS / 1000,
  };
}

/** What a GET shows but a PUT cannot change: ignored when a GET's document is sent back. */
const READ_ONLY = {
  source: z.optional(z.unknown()),
  updatedAt: z.optional(z.unknown()),
  cacheSeconds: z.optional(z.unknown()),
};
/** The version a GET showed: the change applies only if the settings are still at it. */
const version = z.optional(z.int().check(z.gte(0)));

/** The fields of a partial update (the schema itself is built on first use, like these bodies). */
const updateFields = () => SettingsUpdate._zod.innerType.shape;

/** A partial update (`providers` by id), with the version it was based on if the client knows it. */
export const UpdateBody = z.lazy(() => z.strictObject({ ...updateFields(), version, ...READ_ONLY }));

/** A warm-up as a GET shows it: the ramp with today's allowance (read-only, ignored). */
const WarmUpInDocument = z.lazy(() =>
  z.strictObject({
    ...WarmUpUpdate.shape,
    todayPerDay: z.optional(z.unknown()),
    complete: z.optional(z.unknown()),
  }),
);
const readWarmUp = ({ todayPerDay: _t, complete: _c, ...ramp }: z.infer<typeof WarmUpInDocument>): WarmUpUpdate => ramp;

/** The document a GET returned, edited: `providers` is its list, each entry with its read-only parts. */
export const DocumentBody = z.lazy(() =>
  z.strictObject({
    chain: updateFields().chain,
    providers: z.array(
      z.strictObject({
        id: z.string(),
        type: z.optional(z.string()),
        enabled: z.optional(z.boolean()),
        limits: z.optional(RateLimits),
        warmUp: z.optional(z.nullable(WarmUpInDocument)),
        position: z.optional(z.nullable(z.number())),
        health: z.optional(z.unknown()),
        throttle: z.optional(z.unknown()),
      }),
    ),
    version,
    ...READ_ONLY,
  }),
);

const invalid = (details: readonly FieldIssue[]) =>
  new DomainError('validation_failed', 'The provider settings are not valid.', details);

const issuesOf = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

/** A PUT body (a partial update, or a GET's document) as the update it asks for and the version it read. */
export function readSettingsBody(
  defs: readonly AnyProviderDef[],
  body: unknown,
): { readonly update: SettingsUpdate; readonly version: number | undefined } {
  const isDocument =
    typeof body === 'object' && body !== null && Array.isArray((body as { providers?: unknown }).providers);
  if (!isDocument) {
    const parsed = UpdateBody.safeParse(body, API_ERRORS);
    if (!parsed.success) throw invalid(issuesOf(parsed.error));
    const { chain, providers } = parsed.data;
    return {
      update: { ...(chain ? { chain } : {}), ...(providers ? { providers } : {}) },
      version: parsed.data.version,
    };
  }
  const parsed = DocumentBody.safeParse(body, API_ERRORS);
  if (!parsed.success) throw invalid(issuesOf(parsed.error));
  const byId = new Map(defs.map((d) => [d.id, d]));
  const issues: FieldIssue[] = [];
  const providers: NonNullable<SettingsUpdate['providers']> = {};
  parsed.data.providers.forEach((p, i) => {
    const def = byId.get(p.id);
    if (!def) issues.push({ path: `providers.${i}.id`, message: `no provider is defined with id "${p.id}"` });
    else if (p.type !== undefined && p.type !== def.type) {
      issues.push({
        path: `providers.${i}.type`,
        message: `"${p.id}" is a provider of type "${def.type}"; types are set at deploy time`,
      });
    }
    if (providers[p.id]) issues.push({ path: `providers.${i}.id`, message: `"${p.id}" is listed twice` });
    providers[p.id] = {
      ...(p.enabled === undefined ? {} : { enabled: p.enabled }),
      ...(p.limits === undefined ? {} : { limits: p.limits }),
      ...(p.warmUp === undefined ? {} : { warmUp: p.warmUp === null ? null : readWarmUp(p.warmUp) }),
    };
  });
  if (issues.length > 0) throw invalid(issues);
  const { chain } = parsed.data;
  return { update: { ...(chain ? { chain } : {}), providers }, version: parsed.data.version };
}

/** The provider-settings routes of the ingest function (/v1/settings/providers). */
export type ProviderSettingsRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/settings/providers`>;

export function providerSettingsRoutes(
  deps: ProviderSettingsDeps,
  now: () => Date,
): RouteMap<ProviderSettingsRouteKey> {
  const ids = deps.defs.map((d) => d.id);
  const throttlesOf = async () => (deps.windows ? deps.windows.throttleStates(ids) : {});
  return {
    'GET /v1/settings/providers': {
      auth: 'admin',
      handle: async () => {
        const [{ live, health }, throttles] = await Promise.all([deps.store.load(ids), throttlesOf()]);
        return { status: 200, body: view(deps, live, health, throttles, now().getTime()) };
      },
    },

    'PUT /v1/settings/providers': {
      auth: 'admin',
      maxBodyBytes: 16_384,
      handle: async (req) => {
        if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
        const { update, version: read } = readSettingsBody(deps.defs, req.body);
        // Optimistic concurrency: re-read and re-apply if another change landed in between — unless
        // the body says which version it was based on, which must still be the current one.
        for (let attempt = 0; attempt < 3; attempt++) {
          const { live } = await deps.store.load([]);
          const current = live ?? defaultsOf({ providers: deps.defs, chain: deps.chain });
          if (read !== undefined && read !== current.version) {
            throw new DomainError(
              'conflict',
              `The settings changed since version ${read} was read (they are at version ${current.version}); read them again and apply your change to that.`,
            );
          }
          const next = applyUpdate(deps.defs, current, update, now().toISOString());
          if (!next.ok) throw invalid(next.issues);
          if (await deps.store.saveLive(next.settings, live ? current.version : 0)) {
            const [{ health }, throttles] = await Promise.all([deps.store.load(ids), throttlesOf()]);
            return { status: 200, body: view(deps, next.settings, health, throttles, now().getTime()) };
          }
        }
        throw new DomainError('conflict', 'The settings changed while saving; read them and try again.');
      },
    },
  };
}
