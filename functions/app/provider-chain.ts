/**
 * The provider chain at run time (DESIGN §3): the live order, flags and limits over the deployed
 * definitions and each provider's health and circuit. Each dispatch batch is routed by a
 * `BatchRouting` (app/batch-routing.ts) the chain starts for it.
 *
 * - The live settings and health are read together (one BatchGetItem) and cached for
 *   `cacheMs` (30 s), so a PUT /v1/settings/providers reaches every dispatcher within that time.
 * - Capacity is reserved per batch and capacity class (core/shares.ts): the first message of a
 *   class that needs a provider reserves room for every message of that class in the batch still
 *   waiting (one conditional write), the others draw from that pool. Bulk mail gets only what the
 *   windows have above the reserve (while critical/transactional mail is around) and within the
 *   provider's warm-up ramp. A pool that could not be filled marks the provider full for that class.
 * - A throttle without a Retry-After lowers the provider's effective rate for every dispatcher
 *   (core/aimd.ts, kept in its rate-window item); the batch gives up what it had reserved there.
 * - Outcomes are counted in the process and written (one update per provider) after a batch with
 *   an error, or once per health bucket (10 s) otherwise; a broken configuration, or an error rate over the
 *   threshold, opens the provider's circuit for every dispatcher.
 */
import { type CircuitPolicy, circuitPolicy, HEALTHY, type ProviderHealth } from '../core/health';
import { type AnyProviderDef, defaultsOf, effectiveChain, type LiveSettings } from '../core/providers';
import type { EmailProvider } from '../ports';
import { BatchRouting, type Candidate, type RoutingChain, type RoutingDeps } from './batch-routing';

export interface ProviderChainDeps extends RoutingDeps {
  readonly defs: readonly AnyProviderDef[];
  /** The deployed default chain (used until live settings are saved). */
  readonly chain: readonly string[];
  /** One provider per definition, by id. */
  readonly providers: ReadonlyMap<string, EmailProvider>;
  /** How long live settings and health are cached. @default 30000 */
  readonly cacheMs?: number;
  /** Circuit thresholds and timings (cool-down, probe lease and re-check, bucket size). @default CIRCUIT */
  readonly circuit?: Partial<CircuitPolicy>;
  readonly now?: () => number;
}

interface View {
  readonly loadedAt: number;
  readonly live: LiveSettings;
  readonly entries: readonly Candidate[];
  readonly health: Map<string, ProviderHealth>;
}

export const SETTINGS_CACHE_MS = 30_000;

/** The chain's live view and what its batches share across batches (see `RoutingChain`). */
export class ProviderChain implements RoutingChain {
  private view?: View;
  private loading?: Promise<View>;
  /** Provider → until when it asked us to slow down (Retry-After), in this process. */
  private readonly throttledUntil = new Map<string, number>();
  private readonly now: () => number;
  private readonly cacheMs: number;
  /** The circuit policy in effect: the defaults with the deployment's (or a test's) overrides. */
  readonly circuit: CircuitPolicy;

  constructor(private readonly deps: ProviderChainDeps) {
    this.now = deps.now ?? Date.now;
    this.cacheMs = deps.cacheMs ?? SETTINGS_CACHE_MS;
    this.circuit = circuitPolicy(deps.circuit);
  }

  get definitions(): readonly AnyProviderDef[] {
    return this.deps.defs;
  }

  /** The chain in effect and each provider's health (cached). */
  async current(): Promise<View> {
    if (this.view && this.now() - this.view.loadedAt < this.cacheMs) return this.view;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<View> {
    const ids = this.deps.defs.map((d) => d.id);
    const { live, health } = await this.deps.settings.load(ids);
    const settings = live ?? defaultsOf({ providers: this.deps.defs, chain: this.deps.chain });
    const entries = effectiveChain(this.deps.defs, settings).flatMap((e) => {
      const provider = this.deps.providers.get(e.id);
      return provider ? [{ ...e, provider }] : [];
    });
    this.view = { loadedAt: this.now(), live: settings, entries, health: new Map(Object.entries(health)) };
    return this.view;
  }

  healthOf(id: string): ProviderHealth {
    return this.view?.health.get(id) ?? HEALTHY;
  }

  /** A provider given its definition even when the live chain leaves it out (for pinned retries). */
  candidate(id: string): Candidate | undefined {
    const inChain = this.view?.entries.find((e) => e.id === id);
    if (inChain) return inChain;
    const def = this.deps.defs.find((d) => d.id === id);
    const provider = this.deps.providers.get(id);
    if (!def || !provider) return undefined;
    const live = this.view?.live.providers[id];
    const warmUp = live ? live.warmUp : def.warmUp;
    return {
      id,
      type: def.type,
      enabled: live?.enabled ?? def.enabled ?? true,
      limits: live?.limits ?? def.limits ?? [],
      ...(warmUp ? { warmUp } : {}),
      provider,
    };
  }

  /** Starts the routing of one dispatch batch of `size` messages, `bulk` of them bulk mail. */
  batch(size: number, bulk = 0): BatchRouting {
    return new BatchRouting(this, this.deps, size, bulk, this.now);
  }

  /** @internal health learnt by this process, visible at once to its next batches. */
  learn(id: string, health: ProviderHealth): void {
    this.view?.health.set(id, health);
  }

  /**
   * Outcome counts not yet written, per provider, kept across batches: a batch with an error
   * writes at once; successes alone are written at most once per bucket (10 s by default) per process, so
   * healthy traffic costs next to no writes.
   */
  private readonly unwritten = new Map<string, { attempts: number; errors: number; since: number }>();

  /** @internal */
  count(id: string, error: boolean, nowMs: number): void {
    const t = this.unwritten.get(id) ?? { attempts: 0, errors: 0, since: nowMs };
    t.attempts += 1;
    if (error) t.errors += 1;
    this.unwritten.set(id, t);
  }

  /** @internal the counts due to be written now (and forgets them). */
  takeDue(nowMs: number): [string, { attempts: number; errors: number }][] {
    const due: [string, { attempts: number; errors: number }][] = [];
    for (const [id, t] of this.unwritten) {
      if (t.errors > 0 || nowMs - t.since >= this.circuit.bucketMs) {
        due.push([id, { attempts: t.attempts, errors: t.errors }]);
        this.unwritten.delete(id);
      }
    }
    return due;
  }

  /** @internal */
  throttle(id: string, untilMs: number): void {
    this.throttledUntil.set(id, Math.max(untilMs, this.throttledUntil.get(id) ?? 0));
  }

  /** @internal */
  throttledFor(id: string, nowMs: number): number | undefined {
    const until = this.throttledUntil.get(id);
    return until !== undefined && until > nowMs ? until : undefined;
  }
}
