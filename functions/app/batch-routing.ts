/**
 * The routing of one dispatch batch through the provider chain (DESIGN §3): which provider may take
 * a message now, the rate-window capacity reserved for the batch per capacity class, probes of a
 * half-open circuit, and what each send's outcome does to the provider's health and throttle.
 * The chain (app/provider-chain.ts) starts one per batch and shares across batches what
 * `RoutingChain` names.
 */
import type { SendOutcome } from '../core/dispatch';
import {
  availability,
  bucketOf,
  type CircuitPolicy,
  isProviderError,
  openUntil,
  type ProviderHealth,
  recent,
  staleBuckets,
  tooManyErrors,
} from '../core/health';
import type { Priority } from '../core/priority';
import type { ChainEntry } from '../core/providers';
import { type CapacityClass, classOf } from '../core/shares';
import { warmUpWindow } from '../core/warm-up';
import type { EmailProvider, ProviderSettingsStore, RateWindowStore } from '../ports';

/** A provider of the chain, ready to send. */
export interface Candidate extends ChainEntry {
  readonly provider: EmailProvider;
}

/** The stores a batch's routing writes to. */
export interface RoutingDeps {
  readonly settings: ProviderSettingsStore;
  readonly windows: RateWindowStore;
  /** Share (0-0.9) of each rate window held back from bulk mail while critical/transactional mail is around. @default 0 */
  readonly bulkReserve?: number;
  /** Waits `ms` (critical/transactional mail refused for room waits in the function; tests pass a fake). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * How long critical and transactional mail refused for room may wait in the function, per batch,
 * and in how many waits. A window has room again within a slot (1/20 of it) or so; going back to
 * the queue instead costs SQS's shortest delay (1 s) and a receive, and the emails coming back
 * together would meet a full window again.
 */
export const FULL_CLASS_WAIT_BUDGET_MS = 1_000;
export const FULL_CLASS_WAITS = 3;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a batch's routing shares with the chain across batches: health, throttles, outcome counts. */
export interface RoutingChain {
  readonly circuit: CircuitPolicy;
  healthOf(id: string): ProviderHealth;
  learn(id: string, health: ProviderHealth): void;
  count(id: string, error: boolean, nowMs: number): void;
  takeDue(nowMs: number): [string, { attempts: number; errors: number }][];
  throttle(id: string, untilMs: number): void;
  throttledFor(id: string, nowMs: number): number | undefined;
}

export interface ProviderStats {
  attempts: number;
  successes: number;
  errors: Partial<Record<'throttled' | 'down' | 'broken' | 'ambiguous', number>>;
  failovers: number;
  /** Highest share (0-1) of its tightest window in use after a reservation. */
  utilization?: number;
  /** The adaptive throttle's factor (0-1] of the declared limits, as last seen. */
  rateFactor?: number;
}

export type Pick =
  | { readonly ok: true; readonly probe: boolean; readonly cls?: CapacityClass }
  /** Not usable now: full, circuit open, being probed, or asked us to slow down; usable again at `untilMs`. */
  | { readonly ok: false; readonly untilMs: number; readonly why: 'full' | 'circuit' | 'throttled' };

interface Pool {
  left: number;
  fullUntil?: number;
  lock?: Promise<void>;
}

export class BatchRouting {
  /** Messages of the batch not done yet, per capacity class. */
  private readonly pending: Record<CapacityClass, number>;
  /** Reserved capacity per provider and class (key `<class>:<provider>`). */
  private readonly pools = new Map<string, Pool>();
  private readonly throttleWrites: Promise<unknown>[] = [];
  /** Probe state per provider in this batch: won (unused), used, or lost to another dispatcher. */
  private readonly probes = new Map<string, 'won' | 'used' | 'lost'>();
  private readonly circuitMoves: Promise<unknown>[] = [];
  /** Each provider's latest error in this batch ("down: HTTP 503 …"): the cause a circuit opened on. */
  private readonly lastErrors = new Map<string, string>();
  /** Per provider, what this batch did with it (for metrics). */
  readonly stats = new Map<string, ProviderStats>();
  /** Circuits this batch moved (for logs and metrics once the batch is done). */
  readonly circuitChanges: { id: string; state: ProviderHealth['state']; reason?: string | undefined }[] = [];
  /** In-function waits of critical/transactional mail for room in this batch: count and total ms. */
  private readonly waited = { count: 0, ms: 0 };

  constructor(
    private readonly chain: RoutingChain,
    private readonly deps: RoutingDeps,
    size: number,
    bulk: number,
    private readonly now: () => number,
  ) {
    const b = Math.min(size, Math.max(0, bulk));
    this.pending = { full: size - b, bulk: b };
  }

  private poolOf(id: string, cls: CapacityClass): Pool | undefined {
    return this.pools.get(`${cls}:${id}`);
  }

  /** Whether the provider might take a message (of `priority`) now, without spending anything (before a claim). */
  mightUse(c: Candidate, priority: Priority = 'transactional'): boolean {
    const nowMs = this.now();
    if (!c.enabled) return false;
    if (this.chain.throttledFor(c.id, nowMs) !== undefined) return false;
    const a = availability(this.chain.healthOf(c.id), nowMs);
    if (a.kind === 'skip') return false;
    if (a.kind === 'probe' && (this.probes.get(c.id) === 'lost' || this.probes.get(c.id) === 'used')) return false;
    const pool = this.poolOf(c.id, classOf(priority));
    return !(pool && pool.left === 0 && pool.fullUntil !== undefined && pool.fullUntil > nowMs);
  }

  /** The earliest time a provider that is not usable now (for mail of `priority`) can be tried again. */
  untilOf(c: Candidate, priority: Priority = 'transactional'): number {
    const nowMs = this.now();
    const times = [this.chain.throttledFor(c.id, nowMs) ?? 0, this.poolOf(c.id, classOf(priority))?.fullUntil ?? 0];
    const h = this.chain.healthOf(c.id);
    const a = availability(h, nowMs);
    // A probe in flight (ours or another dispatcher's) is answered within seconds, not its
    // whole lease: look again soon rather than at the lease's end.
    const probing = nowMs + this.chain.circuit.probeRecheckSeconds * 1000;
    if (a.kind === 'skip') times.push(h.state === 'half-open' ? Math.min(a.untilMs, probing) : a.untilMs);
    if (a.kind === 'probe') times.push(probing);
    return Math.max(nowMs + 1000, ...times);
  }

  /** Takes the right to send one message (of `priority`) through `c` now: circuit, Retry-After, then capacity. */
  async pick(c: Candidate, priority: Priority = 'transactional'): Promise<Pick> {
    const cls = classOf(priority);
    const nowMs = this.now();
    const throttled = this.chain.throttledFor(c.id, nowMs);
    if (throttled !== undefined) return { ok: false, untilMs: throttled, why: 'throttled' };
    const a = availability(this.chain.healthOf(c.id), nowMs);
    if (a.kind === 'skip') return { ok: false, untilMs: a.untilMs, why: 'circuit' };
    let probe = false;
    if (a.kind === 'probe') {
      if (!(await this.winProbe(c, nowMs))) {
        return { ok: false, untilMs: nowMs + this.chain.circuit.probeLeaseSeconds * 1000, why: 'circuit' };
      }
      probe = true;
    }
    const room = await this.capacity(c, cls);
    if (room !== true) {
      if (probe) this.probes.set(c.id, 'won'); // not used: another message of the batch may probe
      return { ok: false, untilMs: room, why: 'full' };
    }
    return { ok: true, probe, cls };
  }

  /** Whether sends of `cls` through `c` are counted in rate windows (declared limits, or a warm-up ramp for bulk). */
  private limited(c: Candidate, cls: CapacityClass): boolean {
    return c.limits.length > 0 || (cls === 'bulk' && c.warmUp !== undefined);
  }

  private async winProbe(c: Candidate, nowMs: number): Promise<boolean> {
    const state = this.probes.get(c.id);
    if (state === 'won') {
      this.probes.set(c.id, 'used');
      return true;
    }
    if (state === 'used' || state === 'lost') return false;
    this.probes.set(c.id, 'used'); // taken synchronously: only one message of the batch probes
    const h = this.chain.healthOf(c.id);
    const won = await this.deps.settings.moveCircuit(
      c.id,
      { state: h.state, dueBy: nowMs },
      { state: 'half-open', untilMs: nowMs + this.chain.circuit.probeLeaseSeconds * 1000 },
    );
    if (!won) this.probes.set(c.id, 'lost');
    return won;
  }

  /** true when a send of `cls` may go now, else when the provider has room again for it. */
  private async capacity(c: Candidate, cls: CapacityClass): Promise<true | number> {
    if (!this.limited(c, cls)) return true;
    let pool = this.poolOf(c.id, cls);
    if (!pool) {
      pool = { left: 0 };
      this.pools.set(`${cls}:${c.id}`, pool);
    }
    for (;;) {
      if (pool.left > 0) {
        pool.left -= 1;
        return true;
      }
      const nowMs = this.now();
      if (pool.fullUntil !== undefined && pool.fullUntil > nowMs) {
        if (!pool.lock && !this.mayWait(cls, pool.fullUntil - nowMs)) return pool.fullUntil;
        if (!pool.lock) {
          const p = pool;
          const ms = (p.fullUntil as number) - nowMs;
          this.waited.count += 1;
          this.waited.ms += ms;
          p.lock = (this.deps.sleep ?? realSleep)(ms)
            .then(() => {
              p.fullUntil = undefined;
            })
            .finally(() => {
              p.lock = undefined;
            });
        }
      }
      if (pool.lock) {
        await pool.lock;
        continue;
      }
      const p = pool;
      p.lock = (async () => {
        const wanted = Math.max(1, this.pending[cls]);
        const r = await this.deps.windows.reserveShares(
          c.id,
          c.limits,
          { full: cls === 'full' ? wanted : 0, bulk: cls === 'bulk' ? wanted : 0 },
          this.now(),
          {
            bulkReserve: this.deps.bulkReserve ?? 0,
            warmUp: c.warmUp ? (atMs) => warmUpWindow(c.warmUp, c.limits, atMs) : undefined,
          },
        );
        const g = r[cls];
        p.left += g.granted;
        const st = this.statsOf(c.id);
        st.utilization = Math.max(st.utilization ?? 0, r.utilization);
        st.rateFactor = r.rateFactor;
        if (g.granted === 0) p.fullUntil = this.now() + Math.max(1, g.retryAfterMs);
      })().finally(() => {
        p.lock = undefined;
      });
      await p.lock;
    }
  }

  /** Whether critical/transactional mail may wait `ms` in the function for room (bulk mail never does). */
  private mayWait(cls: CapacityClass, ms: number): boolean {
    return cls === 'full' && this.waited.count < FULL_CLASS_WAITS && this.waited.ms + ms <= FULL_CLASS_WAIT_BUDGET_MS;
  }

  /** Counts an outcome of `c` and acts on it: a broken provider, or a probe's result, moves its circuit. */
  note(c: Candidate, outcome: SendOutcome, probe: boolean): void {
    const nowMs = this.now();
    this.chain.count(c.id, isProviderError(outcome.kind), nowMs);
    const st = this.statsOf(c.id);
    st.attempts += 1;
    if (outcome.kind === 'accepted' || outcome.kind === 'rejected') st.successes += 1;
    else st.errors[outcome.kind] = (st.errors[outcome.kind] ?? 0) + 1;
    if (isProviderError(outcome.kind)) this.lastErrors.set(c.id, reasonOf(outcome));
    if (outcome.kind === 'throttled' && outcome.retryAfterSeconds)
      this.chain.throttle(c.id, nowMs + outcome.retryAfterSeconds * 1000);
    else if (outcome.kind === 'throttled') this.slowDown(c, nowMs);

    const h = this.chain.healthOf(c.id);
    if (probe) {
      const ok = !isProviderError(outcome.kind);
      const to = ok
        ? ({ state: 'closed', sinceMs: nowMs } as const)
        : ({ state: 'open', untilMs: openUntil(nowMs, this.chain.circuit), reason: reasonOf(outcome) } as const);
      this.move(c.id, { state: 'half-open' }, to, { ...h, ...to, buckets: ok ? {} : h.buckets });
      return;
    }
    if (outcome.kind === 'broken' && h.state === 'closed') {
      const to = { state: 'open', untilMs: openUntil(nowMs, this.chain.circuit), reason: reasonOf(outcome) } as const;
      this.move(c.id, { state: 'closed' }, to, { ...h, ...to });
    }
  }

  /**
   * A throttle without a Retry-After: the provider's effective rate is lowered for every
   * dispatcher (written in the background, awaited at flush), and what this batch reserved there is
   * given up, so the next message reserves again at the lowered rate.
   */
  private slowDown(c: Candidate, nowMs: number): void {
    if (c.limits.length === 0) return; // no declared rate to lower
    for (const cls of ['full', 'bulk'] as const) {
      const pool = this.poolOf(c.id, cls);
      if (pool) pool.left = 0;
    }
    this.throttleWrites.push(
      this.deps.windows.throttled(c.id, nowMs).then((factor) => {
        this.statsOf(c.id).rateFactor = factor;
      }),
    );
  }

  private move(
    id: string,
    from: { state: ProviderHealth['state'] },
    to: { state: ProviderHealth['state']; untilMs?: number; reason?: string; sinceMs?: number },
    local: ProviderHealth,
  ): void {
    this.chain.learn(id, local);
    this.circuitMoves.push(
      this.deps.settings.moveCircuit(id, from, to).then((moved) => {
        if (moved) this.circuitChanges.push({ id, state: to.state, reason: to.reason });
      }),
    );
  }

  private statsOf(id: string): ProviderStats {
    let st = this.stats.get(id);
    if (!st) {
      st = { attempts: 0, successes: 0, errors: {}, failovers: 0 };
      this.stats.set(id, st);
    }
    return st;
  }

  /** A message `c` failed moves on to the next provider. */
  failedOver(c: Candidate): void {
    this.statsOf(c.id).failovers += 1;
  }

  /**
   * Hands back a pick no send used (the claim was lost, or the message is pinned to another
   * provider): its capacity returns to the batch's pool, and a probe it won stays with the batch
   * (given up at flush if no message used it).
   */
  unpick(c: Candidate, pick: { readonly probe: boolean; readonly cls?: CapacityClass }): void {
    if (pick.probe) this.probes.set(c.id, 'won');
    const cls = pick.cls ?? 'full';
    const pool = this.poolOf(c.id, cls);
    if (pool && this.limited(c, cls)) pool.left += 1;
  }

  /** One message (of `priority`) of the batch is done (sent, settled, or handed back to the queue). */
  done(priority: Priority = 'transactional'): void {
    const cls = classOf(priority);
    this.pending[cls] = Math.max(0, this.pending[cls] - 1);
  }

  /**
   * Writes the outcome counts that are due (one update per provider) and opens the circuit of a
   * provider whose recent error rate is too high. Never throws: health is advice, not the send.
   */
  async flush(): Promise<void> {
    const nowMs = this.now();
    const policy = this.chain.circuit;
    const bucket = bucketOf(nowMs, policy.bucketMs);
    // A probe won but never sent would hold the circuit half-open for its whole lease: give it
    // up (open, due at once), quietly: the circuit did not open again.
    for (const [id, state] of this.probes) {
      if (state !== 'won') continue;
      const h = this.chain.healthOf(id);
      const to = { state: 'open', untilMs: nowMs, reason: h.reason ?? 'probe not sent' } as const;
      this.chain.learn(id, { ...h, ...to });
      this.circuitMoves.push(this.deps.settings.moveCircuit(id, { state: 'half-open' }, to));
    }
    await Promise.allSettled([...this.circuitMoves, ...this.throttleWrites]);
    await Promise.allSettled(
      this.chain.takeDue(nowMs).map(async ([id, counts]) => {
        const before = this.chain.healthOf(id);
        const after = await this.deps.settings.recordOutcomes(id, bucket, counts, staleBuckets(before, nowMs, policy));
        this.chain.learn(id, after);
        if (tooManyErrors(after, nowMs, policy)) {
          const r = recent(after, nowMs, policy);
          // The rate says why it opened; the last error says what the provider answered.
          const last = this.lastErrors.get(id);
          const reason = (
            `error rate ${Math.round(r.errorRate * 100)}% (${r.errors} of ${r.attempts} in ${policy.windowMinutes} min)` +
            (last ? `; last error: ${last}` : '')
          ).slice(0, 500);
          const to = { state: 'open', untilMs: openUntil(nowMs, policy), reason } as const;
          this.chain.learn(id, { ...after, ...to });
          if (await this.deps.settings.moveCircuit(id, { state: 'closed' }, to))
            this.circuitChanges.push({ id, state: 'open', reason });
        }
      }),
    );
  }
}

const reasonOf = (o: SendOutcome): string => ('reason' in o ? `${o.kind}: ${o.reason}` : o.kind).slice(0, 500);
