/**
 * Rate windows in DynamoDB: one item per provider holding every window's slot counters, a
 * version and the latest time seen. A reservation is one conditional write (version must match),
 * so racing dispatchers never both take the same capacity; the last state read or written is kept
 * in memory, so a dispatcher that was the last to write needs no read. The item's time only moves
 * forward, so clocks a little apart cannot reopen capacity that was already counted.
 *
 * The same item carries what the shares and the adaptive throttle need, so they cost no extra
 * request per batch: when critical or transactional mail was last admitted, or last found the
 * windows full (`pf`, core/shares.ts; marking a refusal is the one write a refused reservation makes),
 * their share of every window's counters (`f<window>_<slot>`, which sizes the reserve),
 * the bulk-only counters of the warm-up ramp (`b86400_<slot>`, core/warm-up.ts), and the throttle
 * state (`af` factor, `at` time of the last decrease, core/aimd.ts), changed only when a provider
 * throttles without a Retry-After.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AimdPolicy, decreased, effectiveWindows, factorAt, type ThrottleState } from '../core/aimd';
import { DEFAULTS } from '../core/defaults';
import { providerWindowKey } from '../core/keys';
import { expiredSlots, type RateWindow, type SlotCounts, slotOf, utilization } from '../core/rate-window';
import { grantShares, type Wanted } from '../core/shares';
import type { RateWindowStore, Reservation, ShareOptions, ShareReservation } from '../ports';

export type { Reservation };

interface State {
  readonly version: number;
  readonly atMs: number;
  readonly windows: Record<number, Record<number, number>>;
  /** Bulk-only counters (the warm-up ramp's window). */
  readonly bulk: Record<number, Record<number, number>>;
  /** Critical/transactional counters of every window (a part of `windows`). */
  readonly full: Record<number, Record<number, number>>;
  readonly lastFullAtMs?: number | undefined;
  readonly throttle?: ThrottleState | undefined;
}

const ATTR = /^([cbf])(\d+)_(\d+)$/;
type Prefix = 'c' | 'b' | 'f';
const attrOf = (windowSeconds: number, slot: number, prefix: Prefix = 'c') => `${prefix}${windowSeconds}_${slot}`;
const MAX_ATTEMPTS = 10;

function stateOf(item: Record<string, unknown> | undefined): State {
  const windows: Record<number, Record<number, number>> = {};
  const bulk: Record<number, Record<number, number>> = {};
  const full: Record<number, Record<number, number>> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    const m = ATTR.exec(name);
    if (!m) continue;
    const into = m[1] === 'b' ? bulk : m[1] === 'f' ? full : windows;
    const w = Number(m[2]);
    into[w] ??= {};
    (into[w] as Record<number, number>)[Number(m[3])] = Number(value);
  }
  const throttle =
    typeof item?.af === 'number' && typeof item.at === 'number' ? { factor: item.af, atMs: item.at } : undefined;
  return {
    version: Number(item?.v ?? 0),
    atMs: Number(item?.t ?? 0),
    windows,
    bulk,
    full,
    lastFullAtMs: typeof item?.pf === 'number' ? item.pf : undefined,
    throttle,
  };
}

/** Whether critical/transactional mail was marked within the last second (no need to mark it again). */
const fullWaitingMarked = (state: State, atMs: number): boolean =>
  state.lastFullAtMs !== undefined && atMs - state.lastFullAtMs < 1_000;

const isConditionFailure = (e: unknown) => (e as { name?: string }).name === 'ConditionalCheckFailedException';

export class DynamoRateWindows implements RateWindowStore {
  private readonly cache = new Map<string, State>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly random: () => number = Math.random,
    private readonly aimd: AimdPolicy = DEFAULTS.adaptiveThrottle,
  ) {}

  private async read(provider: string): Promise<State> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: providerWindowKey(provider) }, ConsistentRead: true }),
    );
    const state = stateOf(out.Item);
    this.cache.set(provider, state);
    return state;
  }

  /** Reserves up to `wanted` sends of `provider` in every window at once (critical/transactional mail). */
  async reserve(provider: string, windows: readonly RateWindow[], wanted: number, nowMs: number): Promise<Reservation> {
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
    let state = this.cache.get(provider) ?? (await this.read(provider));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const atMs = Math.max(nowMs, state.atMs);
      const rateFactor = factorAt(state.throttle, atMs, this.aimd);
      const windows = effectiveWindows(declared, rateFactor);
      const ramp = options.warmUp?.(atMs);
      const g = grantShares(state.windows as Record<number, SlotCounts>, windows, wanted, atMs, {
        bulkReserve: options.bulkReserve,
        lastFullAtMs: state.lastFullAtMs,
        fullCounts: state.full as Record<number, SlotCounts>,
        ...(ramp ? { warmUp: { window: ramp, counts: state.bulk[ramp.windowSeconds] ?? {} } } : {}),
      });
      const total = g.full.granted + g.bulk.granted;
      const share = utilization(state.windows as Record<number, SlotCounts>, windows, atMs, total);
      const result = { ...g, atMs, utilization: share, rateFactor };
      if (total === 0) {
        // Critical/transactional mail found the windows full: mark it, so bulk mail leaves the reserve
        // from now on (bumping the version makes every racing dispatcher read the mark).
        if (wanted.full > 0 && !fullWaitingMarked(state, atMs)) await this.markFullWaiting(provider, atMs);
        return result;
      }
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':g': total,
        ':t': atMs,
        ':v': state.version,
        ':nv': state.version + 1,
      };
      const sets = ['t = :t', 'v = :nv'];
      const adds: string[] = [];
      const removes: string[] = [];
      const count = (w: RateWindow, prefix: Prefix, value: string, old: SlotCounts) => {
        const key = `#${prefix}${w.windowSeconds}`;
        names[key] = attrOf(w.windowSeconds, slotOf(w, atMs), prefix);
        adds.push(`${key} ${value}`);
        for (const slot of expiredSlots(old, w, atMs).slice(0, 20)) {
          names[`#r${prefix}${w.windowSeconds}_${slot}`] = attrOf(w.windowSeconds, slot, prefix);
          removes.push(`#r${prefix}${w.windowSeconds}_${slot}`);
        }
      };
      for (const w of declared) count(w, 'c', ':g', state.windows[w.windowSeconds] ?? {});
      if (ramp && g.bulk.granted > 0) {
        values[':b'] = g.bulk.granted;
        count(ramp, 'b', ':b', state.bulk[ramp.windowSeconds] ?? {});
      }
      if (g.full.granted > 0) {
        sets.push('pf = :t');
        values[':f'] = g.full.granted;
        for (const w of declared) count(w, 'f', ':f', state.full[w.windowSeconds] ?? {});
      } else {
        // No critical/transactional admission to count: still drop their counters that no longer count.
        for (const w of declared)
          for (const slot of expiredSlots(state.full[w.windowSeconds] ?? {}, w, atMs).slice(0, 20)) {
            names[`#rf${w.windowSeconds}_${slot}`] = attrOf(w.windowSeconds, slot, 'f');
            removes.push(`#rf${w.windowSeconds}_${slot}`);
          }
      }
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: providerWindowKey(provider) },
            UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: 'attribute_not_exists(v) OR v = :v',
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        this.cache.set(provider, stateOf(out.Attributes));
        return result;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        // Another dispatcher reserved first: read what it left and decide again.
        await new Promise((r) => setTimeout(r, this.random() * 10 * (attempt + 1)));
        state = await this.read(provider);
      }
    }
    throw new Error(`rate window for ${provider}: too much contention, try again`);
  }

  private async markFullWaiting(provider: string, atMs: number): Promise<void> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: providerWindowKey(provider) },
        UpdateExpression: 'SET pf = :t, v = if_not_exists(v, :zero) + :one',
        ExpressionAttributeValues: { ':t': atMs, ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    this.cache.set(provider, stateOf(out.Attributes));
  }

  /**
   * A throttle without Retry-After: lowers the provider's effective rate for every dispatcher (one
   * conditional write on the throttle state read; a decrease another dispatcher made within the
   * hold time is not repeated). It bumps the version, so a reservation racing it decides again
   * with the lowered rate. Returns the factor in effect afterwards.
   */
  async throttled(provider: string, nowMs: number): Promise<number> {
    let state = this.cache.get(provider) ?? (await this.read(provider));
    for (let attempt = 0; attempt < 3; attempt++) {
      const atMs = Math.max(nowMs, state.atMs);
      const next = decreased(state.throttle, atMs, this.aimd);
      if (!next) return factorAt(state.throttle, atMs, this.aimd);
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: providerWindowKey(provider) },
            UpdateExpression: 'SET af = :f, #at = :at, v = if_not_exists(v, :zero) + :one',
            ConditionExpression: state.throttle ? '#at = :seen' : 'attribute_not_exists(#at)',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: {
              ':f': next.factor,
              ':at': next.atMs,
              ':zero': 0,
              ':one': 1,
              ...(state.throttle ? { ':seen': state.throttle.atMs } : {}),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        this.cache.set(provider, stateOf(out.Attributes));
        return next.factor;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        state = await this.read(provider);
      }
    }
    return factorAt(state.throttle, nowMs, this.aimd);
  }

  /** The throttle state of each provider (fresh reads; for the settings API). */
  async throttleStates(providers: readonly string[]): Promise<Record<string, ThrottleState | undefined>> {
    const states = await Promise.all(providers.map(async (p) => [p, (await this.read(p)).throttle] as const));
    return Object.fromEntries(states);
  }
}
