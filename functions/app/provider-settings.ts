/**
 * GET/PUT /v1/settings/providers (admin keys): the live provider chain — order, enabled flags,
 * rate limits — and each provider's circuit and recent error rate. A PUT changes the live
 * settings item; every dispatcher picks it up within its cache time (30 s), with no redeploy.
 * Types and credentials are deploy-time only: a PUT cannot add a provider, only use the defined ones.
 */

import { DomainError } from '../core/errors';
import { CIRCUIT, circuitView, recent } from '../core/health';
import { type AnyProviderDef, applyUpdate, defaultsOf, type LiveSettings, SettingsUpdate } from '../core/providers';
import type { RouteKey } from '../core/routes';
import type { ProviderSettingsStore } from '../ports';
import type { RouteMap } from './http';
import { SETTINGS_CACHE_MS } from './provider-chain';

export interface ProviderSettingsDeps {
  readonly defs: readonly AnyProviderDef[];
  /** The deployed default chain. */
  readonly chain: readonly string[];
  readonly store: ProviderSettingsStore;
}

function view(
  deps: ProviderSettingsDeps,
  live: LiveSettings | undefined,
  health: Awaited<ReturnType<ProviderSettingsStore['load']>>['health'],
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
      return {
        id: d.id,
        type: d.type,
        enabled: l?.enabled ?? d.enabled ?? true,
        position: position >= 0 ? position + 1 : null,
        limits: l?.limits ?? d.limits ?? [],
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

/** The provider-settings routes of the ingest function (/v1/settings/providers). */
export type ProviderSettingsRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/settings/providers`>;

export function providerSettingsRoutes(
  deps: ProviderSettingsDeps,
  now: () => Date,
): RouteMap<ProviderSettingsRouteKey> {
  const ids = deps.defs.map((d) => d.id);
  return {
    'GET /v1/settings/providers': {
      auth: 'admin',
      handle: async () => {
        const { live, health } = await deps.store.load(ids);
        return { status: 200, body: view(deps, live, health, now().getTime()) };
      },
    },

    'PUT /v1/settings/providers': {
      auth: 'admin',
      maxBodyBytes: 16_384,
      handle: async (req) => {
        if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
        const parsed = SettingsUpdate.safeParse(req.body);
        if (!parsed.success) {
          throw new DomainError(
            'validation_failed',
            'The provider settings are not valid.',
            parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
          );
        }
        // Optimistic concurrency: re-read and re-apply if another change landed in between.
        for (let attempt = 0; attempt < 3; attempt++) {
          const { live } = await deps.store.load([]);
          const current = live ?? defaultsOf({ providers: deps.defs, chain: deps.chain });
          const next = applyUpdate(deps.defs, current, parsed.data, now().toISOString());
          if (!next.ok) throw new DomainError('validation_failed', 'The provider settings are not valid.', next.issues);
          if (await deps.store.saveLive(next.settings, live ? current.version : 0)) {
            const { health } = await deps.store.load(ids);
            return { status: 200, body: view(deps, next.settings, health, now().getTime()) };
          }
        }
        throw new DomainError('conflict', 'The settings changed while saving; read them and try again.');
      },
    },
  };
}
