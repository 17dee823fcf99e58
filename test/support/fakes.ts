/** In-memory implementations of the ports, with the same conditions as the DynamoDB adapters. */

import { ProviderChain } from '../../functions/app/provider-chain';
import { type AimdPolicy, decreased, effectiveWindows, factorAt, type ThrottleState } from '../../functions/core/aimd';
import type { Due } from '../../functions/core/claim';
import { DEFAULTS } from '../../functions/core/defaults';
import type { SendOutcome } from '../../functions/core/dispatch';
import { RETRIES_EXHAUSTED } from '../../functions/core/dispatch';
import {
  type BucketCounts,
  type CircuitPolicy,
  type CircuitState,
  HEALTHY,
  type ProviderHealth,
} from '../../functions/core/health';
import { MAX_EVENTS, type MessageEvent, type MessageRecord, type Status } from '../../functions/core/message';
import { PRIORITIES, type Priority } from '../../functions/core/priority';
import type { AnyProviderDef, LiveSettings } from '../../functions/core/providers';
import { SQS_MAX_BYTES } from '../../functions/core/queued-email';
import { type RateWindow, slotOf, utilization } from '../../functions/core/rate-window';
import type { Counts } from '../../functions/core/reputation';
import { grantShares, type Wanted } from '../../functions/core/shares';
import { initialStream, type StreamRecord } from '../../functions/core/stream';
import type { WarmUp } from '../../functions/core/warm-up';
import type {
  ApiKeyRecord,
  ClaimResult,
  EmailProvider,
  FinishPatch,
  KeyStore,
  MessageStore,
  OutboundEmail,
  ProviderSettingsStore,
  QueueEntry,
  RateWindowStore,
  ReputationStore,
  SendQueue,
  ShareOptions,
  ShareReservation,
  SuppressionEntry,
  SuppressionKey,
  SuppressionRecord,
  SuppressionStore,
  VisibilityControl,
} from '../../functions/ports';

export class MemoryMessageStore implements MessageStore {
  readonly items = new Map<string, MessageRecord>();
  failCreate = false;

  async createMany(records: readonly MessageRecord[]) {
    if (this.failCreate) throw new Error('DynamoDB unavailable');
    for (const r of records) this.items.set(r.id, structuredClone(r));
  }
  async createNew(records: readonly MessageRecord[]) {
    if (this.failCreate) throw new Error('DynamoDB unavailable');
    const existed: string[] = [];
    for (const r of records) {
      if (this.items.has(r.id)) existed.push(r.id);
      else this.items.set(r.id, structuredClone(r));
    }
    return existed;
  }
  async deleteQueued(ids: readonly string[]) {
    for (const id of ids) {
      const status = this.items.get(id)?.status;
      if (status === 'queued' || status === 'scheduled') this.items.delete(id);
    }
  }
  /** The DynamoDB adapter's condition for a scheduled firing (store/message-store.ts dueCondition). */
  private takes(r: MessageRecord | undefined, nowMs: number, due?: Due): boolean {
    if (!r) return false;
    if (!due) return r.status === 'queued';
    if (r.scheduleRev !== due.rev) return false;
    return (
      r.status === 'queued' || (r.status === 'scheduled' && (r.scheduledAt ?? '') <= new Date(nowMs).toISOString())
    );
  }
  async get(id: string) {
    const r = this.items.get(id);
    return r ? structuredClone(r) : undefined;
  }
  async claim(id: string, token: string, nowMs: number, due?: Due): Promise<ClaimResult> {
    const r = this.items.get(id);
    if (!r || !this.takes(r, nowMs, due)) {
      return r
        ? {
            ok: false,
            current: {
              status: r.status,
              claimedAt: r.claimedAt,
              scheduledAt: r.scheduledAt,
              scheduleRev: r.scheduleRev,
            },
          }
        : { ok: false };
    }
    r.status = 'sending';
    r.claimToken = token;
    r.claimedAt = nowMs;
    r.updatedAt = new Date(nowMs).toISOString();
    r.attempts += 1;
    return { ok: true, attempts: r.attempts, ...(r.pin ? { pin: r.pin } : {}) };
  }
  private apply(r: MessageRecord, patch: FinishPatch) {
    r.status = patch.status;
    r.updatedAt = patch.event.at;
    r.events.push(patch.event);
    if (patch.provider !== undefined) r.provider = patch.provider;
    if (patch.providerMessageId !== undefined) r.providerMessageId = patch.providerMessageId;
    if (patch.reason !== undefined) r.reason = patch.reason;
    if (patch.pin !== undefined) r.pin = patch.pin;
    if (patch.status === 'sent' && patch.reason === undefined) {
      delete r.reason;
      delete r.pin;
    }
  }
  async finish(id: string, token: string, patch: FinishPatch) {
    const r = this.items.get(id);
    if (!r || r.claimToken !== token) return false;
    this.apply(r, patch);
    delete r.claimToken;
    delete r.claimedAt;
    return true;
  }
  async release(id: string, token: string, event: MessageEvent, pin?: string) {
    return this.finish(id, token, { status: 'queued', event, ...(pin ? { pin } : {}) });
  }
  async settleQueued(id: string, patch: FinishPatch, due?: Due & { readonly nowMs: number }) {
    const r = this.items.get(id);
    if (!r || !this.takes(r, due?.nowMs ?? 0, due)) return false;
    this.apply(r, patch);
    return true;
  }
  async reschedule(
    id: string,
    rev: number,
    next: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ) {
    return this.moveSchedule(id, rev, rev + 1, next, event);
  }
  async unreschedule(
    id: string,
    rev: number,
    previous: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ) {
    return this.moveSchedule(id, rev + 1, rev, previous, event);
  }
  private moveSchedule(
    id: string,
    from: number,
    to: number,
    next: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ) {
    const r = this.items.get(id);
    if (r?.status !== 'scheduled' || r.scheduleRev !== from) return false;
    r.scheduledAt = next.scheduledAt;
    r.scheduleVia = next.via;
    r.scheduleRev = to;
    r.updatedAt = event.at;
    r.events.push(event);
    return true;
  }
  async cancelScheduled(id: string, event: MessageEvent) {
    const r = this.items.get(id);
    if (r?.status !== 'scheduled') return false;
    this.apply(r, { status: 'canceled', event, reason: 'canceled before it was due' });
    return true;
  }
  async applyFeedback(
    id: string,
    key: string,
    event: MessageEvent,
    status: Status | undefined,
    from: readonly Status[],
  ) {
    const r = this.items.get(id);
    if (!r) return 'missing' as const;
    if (r.seen.includes(key)) return 'duplicate' as const;
    if (status && from.includes(r.status)) r.status = status;
    else if (status && (r.status === 'queued' || r.status === 'sending')) return 'not-yet-sent' as const;
    r.events.push(event);
    r.seen.push(key);
    r.updatedAt = new Date().toISOString();
    return 'applied' as const;
  }

  async requeueFailed(id: string, event: MessageEvent) {
    const r = this.items.get(id);
    if (r?.status !== 'failed' || !r.reason?.startsWith(RETRIES_EXHAUSTED)) return false;
    this.apply(r, { status: 'queued', event });
    return true;
  }

  async recordEngagement(id: string, kind: 'open' | 'click', machine: boolean, event: MessageEvent) {
    const r = this.items.get(id);
    if (!r) return;
    const counter = { open: machine ? 'machineOpens' : 'opens', click: machine ? 'machineClicks' : 'clicks' }[kind] as
      | 'opens'
      | 'clicks'
      | 'machineOpens'
      | 'machineClicks';
    r[counter] += 1;
    r.updatedAt = event.at;
    if (!machine && kind === 'open') r.firstOpenAt ??= event.at;
    if (!machine && kind === 'click') r.firstClickAt ??= event.at;
    if (r.events.length < MAX_EVENTS) r.events.push(event);
  }

  async failStale(id: string, claimedAt: number | undefined, patch: FinishPatch) {
    const r = this.items.get(id);
    if (r?.status !== 'sending' || r.claimedAt !== claimedAt) return false;
    this.apply(r, patch);
    delete r.claimToken;
    delete r.claimedAt;
    return true;
  }
}

/** Suppressions by "address|scope", with the re-enable rule of the DynamoDB adapter. */
export class MemorySuppression implements SuppressionStore {
  lookups = 0;
  readonly records = new Map<string, SuppressionRecord>();
  readonly soft = new Map<string, Map<string, string>>();

  /** Suppresses an address for all mail (test set-up). */
  add(address: string, scope = '*') {
    this.records.set(`${address}|${scope}`, { address, scope, active: true, reason: 'manual', source: 'test', at: '' });
  }
  async suppressedAmong(keys: readonly SuppressionKey[]) {
    this.lookups += 1;
    return new Set(keys.map((k) => `${k.address}|${k.scope}`).filter((k) => this.records.get(k)?.active === true));
  }
  async suppress(e: SuppressionEntry) {
    const key = `${e.address}|${e.scope}`;
    const old = this.records.get(key);
    if (old?.reenabledAt && old.reenabledAt >= e.at) return false;
    this.records.set(key, {
      ...e,
      detail: e.detail ?? {},
      active: true,
      ...(old?.reenabledAt ? { reenabledAt: old.reenabledAt } : {}),
    });
    return true;
  }
  async reenable(k: SuppressionKey, at: string) {
    const key = `${k.address}|${k.scope}`;
    const old = this.records.get(key);
    this.records.set(key, {
      // A re-enable of an address never suppressed leaves an item with no reason, source or time.
      ...(old ?? { address: k.address, scope: k.scope, reason: 'manual', source: 'unknown', at: '' }),
      active: false,
      reenabledAt: at,
    });
    return old?.active === true;
  }
  async get(address: string) {
    return [...this.records.values()].filter((r) => r.address === address);
  }
  /** Pages of `limit` active suppressions; the cursor is the position after the page. */
  async list(limit: number, cursor?: string) {
    const active = [...this.records.values()].filter((r) => r.active);
    const start = cursor ? Number(cursor) : 0;
    const end = start + limit;
    return { items: active.slice(start, end), ...(end < active.length ? { next: String(end) } : {}) };
  }
  async recordSoftBounce(address: string, feedbackId: string, at: string, windowHours: number) {
    const m = this.soft.get(address) ?? new Map<string, string>();
    m.set(feedbackId, at);
    this.soft.set(address, m);
    const end = Date.parse(at);
    return [...m.values()].filter((t) => Date.parse(t) <= end && Date.parse(t) > end - windowHours * 3_600_000).length;
  }
}

export class MemoryQueue implements SendQueue {
  readonly sent: QueueEntry[] = [];
  /** Ids to report as failed (not enqueued). */
  failIds = new Set<string>();
  failAll = false;
  async send(entries: readonly QueueEntry[]) {
    if (this.failAll) return entries.map((e) => e.id);
    // As SQS: a body over its limit is not enqueued, and comes back as failed.
    const refused = (e: QueueEntry) => this.failIds.has(e.id) || Buffer.byteLength(e.body, 'utf8') > SQS_MAX_BYTES;
    this.sent.push(...entries.filter((e) => !refused(e)));
    return entries.filter(refused).map((e) => e.id);
  }
}

export class MemoryVisibility implements VisibilityControl {
  readonly delays: { receiptHandle: string; seconds: number }[] = [];
  async delay(entries: readonly { receiptHandle: string; seconds: number }[]) {
    this.delays.push(...entries);
  }
}

export class MemoryKeys implements KeyStore {
  readonly keys = new Map<string, ApiKeyRecord>();
  lookups = 0;
  async findByHash(hash: string) {
    this.lookups += 1;
    const k = this.keys.get(hash);
    // As read back from the table: a key never revoked says so.
    return k && { ...k, revoked: k.revoked ?? false };
  }
  async put(hash: string, key: ApiKeyRecord) {
    this.keys.set(hash, key);
  }
  async list() {
    return [...this.keys.values()]
      .map((k) => ({ ...k, revoked: k.revoked ?? false }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
  async revoke(match: { name?: string; prefix?: string }) {
    let n = 0;
    for (const [hash, k] of this.keys) {
      if (k.name === match.name || (match.prefix !== undefined && k.prefix === match.prefix)) {
        this.keys.set(hash, { ...k, revoked: true });
        n += 1;
      }
    }
    return n;
  }
}

/** Allows `limit` requests per key and second of the clock it is given. */
export class MemoryRateLimiter {
  readonly counts = new Map<string, number>();
  async take(key: string, limit: number, nowMs: number) {
    const k = `${key}#${Math.floor(nowMs / 1000)}`;
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n);
    return n <= limit ? ({ ok: true } as const) : ({ ok: false, retryAfterSeconds: 1 } as const);
  }
}

/** A provider whose outcomes are scripted per call; records what it was asked to send. */
export class ScriptedProvider implements EmailProvider {
  readonly calls: OutboundEmail[] = [];
  constructor(
    private readonly outcomes: (email: OutboundEmail, n: number) => SendOutcome = () => ({
      kind: 'accepted',
      providerMessageId: 'prov-1',
    }),
    readonly id = 'ses',
    readonly idempotent = false,
  ) {}
  async send(email: OutboundEmail) {
    this.calls.push(email);
    return this.outcomes(email, this.calls.length);
  }
}

/** Live provider settings and health in memory, with the same conditions as the DynamoDB adapter. */
export class MemoryProviderSettings implements ProviderSettingsStore {
  live?: LiveSettings;
  readonly health = new Map<string, ProviderHealth>();
  async load(ids: readonly string[]) {
    return {
      ...(this.live ? { live: structuredClone(this.live) } : {}),
      health: Object.fromEntries(ids.map((id) => [id, structuredClone(this.health.get(id) ?? HEALTHY)])),
    };
  }
  async saveLive(next: LiveSettings, expectedVersion: number) {
    if ((this.live?.version ?? 0) !== expectedVersion || (expectedVersion === 0 && this.live)) return false;
    this.live = structuredClone(next);
    return true;
  }
  async recordOutcomes(id: string, bucket: number, counts: BucketCounts, drop: readonly number[]) {
    const h = this.health.get(id) ?? HEALTHY;
    const buckets = { ...h.buckets };
    for (const m of drop) if (m !== bucket) delete buckets[m];
    const was = buckets[bucket] ?? { attempts: 0, errors: 0 };
    buckets[bucket] = { attempts: was.attempts + counts.attempts, errors: was.errors + counts.errors };
    const next = { ...h, buckets };
    this.health.set(id, next);
    return structuredClone(next);
  }
  async moveCircuit(
    id: string,
    from: { state: CircuitState; dueBy?: number },
    to: { state: CircuitState; untilMs?: number; reason?: string; sinceMs?: number },
  ) {
    const h = this.health.get(id) ?? HEALTHY;
    if (h.state !== from.state) return false;
    if (from.dueBy !== undefined && h.untilMs !== undefined && h.untilMs > from.dueBy) return false;
    this.health.set(id, {
      ...h,
      state: to.state,
      untilMs: to.untilMs,
      reason: to.reason?.slice(0, 500) ?? (to.state === 'closed' ? undefined : h.reason),
      ...(to.sinceMs !== undefined ? { sinceMs: to.sinceMs } : {}),
    });
    return true;
  }
}

/** Exact rate windows in memory (the same slot arithmetic as the DynamoDB adapter), recording admissions. */
export class MemoryRateWindows implements RateWindowStore {
  readonly state = new Map<string, Record<number, Record<number, number>>>();
  /** Provider → critical/transactional counts per window (a part of `state`). */
  readonly fullState = new Map<string, Record<number, Record<number, number>>>();
  /** Provider → bulk-only counts (the warm-up ramp's window). */
  readonly bulkState = new Map<string, Record<number, Record<number, number>>>();
  /** Provider → the times of every admission granted. */
  readonly admitted = new Map<string, number[]>();
  /** Provider → the times of every bulk admission granted. */
  readonly admittedBulk = new Map<string, number[]>();
  /** Provider → the adaptive throttle's state. */
  readonly throttles = new Map<string, ThrottleState>();
  /** Provider → when critical/transactional mail was last admitted. */
  private readonly lastFull = new Map<string, number>();
  /** Provider → the latest time a reservation counted at (it only moves forward, as in the adapter). */
  private readonly latest = new Map<string, number>();

  constructor(private readonly aimd: AimdPolicy = DEFAULTS.adaptiveThrottle) {}

  async reserve(provider: string, windows: readonly RateWindow[], wanted: number, nowMs: number) {
    const r = await this.reserveShares(provider, windows, { full: wanted, bulk: 0 }, nowMs, { bulkReserve: 0 });
    return { ...r.full, atMs: r.atMs, utilization: r.utilization };
  }

  async reserveShares(
    provider: string,
    declared: readonly RateWindow[],
    wanted: Wanted,
    nowMs: number,
    options: ShareOptions,
  ): Promise<ShareReservation> {
    const st = this.state.get(provider) ?? {};
    const bulkSt = this.bulkState.get(provider) ?? {};
    const fullSt = this.fullState.get(provider) ?? {};
    const atMs = Math.max(nowMs, this.latest.get(provider) ?? 0);
    const rateFactor = factorAt(this.throttles.get(provider), atMs, this.aimd);
    const windows = effectiveWindows(declared, rateFactor);
    const ramp = options.warmUp?.(atMs);
    const g = grantShares(st, windows, wanted, atMs, {
      bulkReserve: options.bulkReserve,
      lastFullAtMs: this.lastFull.get(provider),
      fullCounts: fullSt,
      ...(ramp ? { warmUp: { window: ramp, counts: bulkSt[ramp.windowSeconds] ?? {} } } : {}),
    });
    const total = g.full.granted + g.bulk.granted;
    const share = utilization(st, windows, atMs, total);
    const result = { ...g, atMs, utilization: share, rateFactor };
    if (total === 0) {
      // Critical/transactional mail found the windows full: bulk mail leaves the reserve from now on.
      if (wanted.full > 0) this.lastFull.set(provider, atMs);
      return result;
    }
    this.latest.set(provider, atMs);
    if (g.full.granted > 0) this.lastFull.set(provider, atMs);
    const count = (into: Record<number, Record<number, number>>, w: RateWindow, n: number) => {
      const slots = into[w.windowSeconds] ?? {};
      into[w.windowSeconds] = slots;
      const k = slotOf(w, atMs);
      slots[k] = (slots[k] ?? 0) + n;
    };
    for (const w of declared) count(st, w, total);
    if (g.full.granted > 0) for (const w of declared) count(fullSt, w, g.full.granted);
    if (ramp && g.bulk.granted > 0) count(bulkSt, ramp, g.bulk.granted);
    this.state.set(provider, st);
    this.bulkState.set(provider, bulkSt);
    this.fullState.set(provider, fullSt);
    this.admitted.set(provider, [...(this.admitted.get(provider) ?? []), ...Array(total).fill(atMs)]);
    this.admittedBulk.set(provider, [...(this.admittedBulk.get(provider) ?? []), ...Array(g.bulk.granted).fill(atMs)]);
    return result;
  }

  async throttled(provider: string, nowMs: number): Promise<number> {
    const atMs = Math.max(nowMs, this.latest.get(provider) ?? 0);
    const next = decreased(this.throttles.get(provider), atMs, this.aimd);
    if (!next) return factorAt(this.throttles.get(provider), atMs, this.aimd);
    this.throttles.set(provider, next);
    return next.factor;
  }

  async throttleStates(providers: readonly string[]) {
    return Object.fromEntries(providers.map((p) => [p, this.throttles.get(p)]));
  }
}

/** A provider chain over in-memory settings and windows (tests of the dispatcher). */
export function memoryChain(
  providers: readonly EmailProvider[],
  options: {
    limits?: Record<string, RateWindow[]>;
    settings?: MemoryProviderSettings;
    windows?: MemoryRateWindows;
    now?: () => number;
    cacheMs?: number;
    circuit?: Partial<CircuitPolicy>;
    bulkReserve?: number;
    warmUp?: Record<string, WarmUp>;
    /** In-function waits for room; with a fake clock (`now`) and no `sleep`, they return at once. */
    sleep?: (ms: number) => Promise<void>;
    /** The largest message of each provider, by id (bytes). @default the HTTP relay's */
    maxMessageBytes?: Record<string, number>;
  } = {},
) {
  const settings = options.settings ?? new MemoryProviderSettings();
  const windows = options.windows ?? new MemoryRateWindows();
  const defs: AnyProviderDef[] = providers.map((p) => ({
    id: p.id,
    type: 'http',
    url: `http://127.0.0.1/${p.id}`,
    limits: options.limits?.[p.id] ?? [],
    ...(options.warmUp?.[p.id] ? { warmUp: options.warmUp[p.id] } : {}),
    ...(options.maxMessageBytes?.[p.id] ? { maxMessageBytes: options.maxMessageBytes[p.id] } : {}),
  }));
  const chain = new ProviderChain({
    defs,
    chain: providers.map((p) => p.id),
    providers: new Map(providers.map((p) => [p.id, p])),
    settings,
    windows,
    ...(options.now ? { now: options.now } : {}),
    ...(options.cacheMs !== undefined ? { cacheMs: options.cacheMs } : {}),
    ...(options.circuit ? { circuit: options.circuit } : {}),
    ...(options.bulkReserve !== undefined ? { bulkReserve: options.bulkReserve } : {}),
    ...(options.sleep ? { sleep: options.sleep } : options.now ? { sleep: async () => {} } : {}),
  });
  return { chain, settings, windows, defs };
}

/** The reputation guard's counters and streams in memory, with the adapter's version condition. */
export class MemoryReputationStore implements ReputationStore {
  readonly buckets = new Map<string, Counts & { expiresAt: number }>();
  readonly stored = new Map<Priority, StreamRecord>();
  /** Writes of counters (one per call). */
  adds = 0;

  async add(priority: Priority, bucket: number, counts: Partial<Counts>, expiresAt: number): Promise<void> {
    if (!(counts.sends || counts.bounces || counts.complaints)) return;
    this.adds++;
    const key = `${priority}#${bucket}`;
    const c = this.buckets.get(key) ?? { sends: 0, bounces: 0, complaints: 0, expiresAt };
    this.buckets.set(key, {
      sends: c.sends + (counts.sends ?? 0),
      bounces: c.bounces + (counts.bounces ?? 0),
      complaints: c.complaints + (counts.complaints ?? 0),
      expiresAt,
    });
  }

  async counts(priority: Priority, buckets: readonly number[]): Promise<Map<number, Counts>> {
    const out = new Map<number, Counts>();
    for (const b of buckets) {
      const c = this.buckets.get(`${priority}#${b}`);
      if (c) out.set(b, { sends: c.sends, bounces: c.bounces, complaints: c.complaints });
    }
    return out;
  }

  async streams(): Promise<Record<Priority, StreamRecord>> {
    return Object.fromEntries(
      PRIORITIES.map((p) => [p, structuredClone(this.stored.get(p) ?? initialStream(p))]),
    ) as Record<Priority, StreamRecord>;
  }

  async saveStream(next: StreamRecord, expectedVersion: number): Promise<boolean> {
    const current = this.stored.get(next.priority)?.version ?? 0;
    if (current !== expectedVersion) return false;
    this.stored.set(next.priority, structuredClone(next));
    return true;
  }
}

/** What the API's stream routes need, on a fresh in-memory store with the default thresholds. */
export const memoryStreams = (store: ReputationStore = new MemoryReputationStore()) => ({
  store,
  settings: DEFAULTS.guard,
  cacheMs: 30_000,
});
