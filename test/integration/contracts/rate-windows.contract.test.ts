/**
 * The RateWindowStore contract: the same reservations against the in-memory fake and the DynamoDB
 * adapter on dynalite, which must grant exactly the same; and the adapter's own races and item size.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { RateWindow } from '../../../functions/core/rate-window';
import { maxInAnyInterval } from '../../../functions/core/rate-window';
import type { RateWindowStore } from '../../../functions/ports';
import { DynamoRateWindows } from '../../../functions/store/rate-windows';
import { useDynalite } from '../../support/dynalite';
import { MemoryRateWindows } from '../../support/fakes';

const dynalite = useDynalite();
const T = Date.parse('2026-11-22T10:00:00.000Z');
const provider = () => `p-${randomUUID().slice(0, 8)}`;

describe.each([
  ['the fake', (): RateWindowStore => new MemoryRateWindows()],
  ['DynamoDB', (): RateWindowStore => new DynamoRateWindows(dynalite.db.doc, dynalite.db.tables.rateWindows)],
] as const)('RateWindowStore contract: %s', (_name, make) => {
  it('grants exactly what a window has left, then nothing until it has room again', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 5, windowSeconds: 2 }];
    expect(await store.reserve(p, w, 3, T)).toEqual({ granted: 3, retryAfterMs: 0, atMs: T, utilization: 0.6 });
    expect(await store.reserve(p, w, 3, T + 100)).toEqual({
      granted: 2,
      retryAfterMs: 0,
      atMs: T + 100,
      utilization: 1,
    });
    const full = await store.reserve(p, w, 1, T + 200);
    expect(full).toMatchObject({ granted: 0, atMs: T + 200, utilization: 1 });
    expect(full.retryAfterMs).toBeGreaterThan(0);
    expect(full.retryAfterMs).toBeLessThanOrEqual(2_000);
    // While the oldest admissions' slot still meets the window, only what they leave.
    expect(await store.reserve(p, w, 9, T + 2_150)).toMatchObject({ granted: 3, retryAfterMs: 0 });
    // Once the window has passed every admission, the full limit again.
    expect(await store.reserve(p, w, 9, T + 4_200)).toMatchObject({ granted: 5, retryAfterMs: 0 });
  });

  it('grants the least any window allows, and counts it in every window', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [
      { limit: 10, windowSeconds: 1 },
      { limit: 12, windowSeconds: 60 },
    ];
    expect((await store.reserve(p, w, 8, T)).granted).toBe(8);
    // The second window has 4 left, the first (past its slots) 10.
    expect((await store.reserve(p, w, 8, T + 1_100)).granted).toBe(4);
    const none = await store.reserve(p, w, 1, T + 2_000);
    expect(none.granted).toBe(0);
    expect(none.retryAfterMs).toBeGreaterThan(1_000);
  });

  it('keeps each provider apart', async () => {
    const store = make();
    const w: RateWindow[] = [{ limit: 2, windowSeconds: 10 }];
    const [a, b] = [provider(), provider()];
    expect((await store.reserve(a, w, 2, T)).granted).toBe(2);
    expect((await store.reserve(b, w, 2, T)).granted).toBe(2);
    expect((await store.reserve(a, w, 1, T)).granted).toBe(0);
  });

  it('counts at the latest time it has seen: a clock behind cannot reopen a window', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 3, windowSeconds: 1 }];
    expect(await store.reserve(p, w, 3, T + 1_000)).toMatchObject({ granted: 3, atMs: T + 1_000 });
    // A dispatcher whose clock is 900 ms behind: for it, T + 100 is in an earlier window that is empty.
    const behind = await store.reserve(p, w, 3, T + 100);
    expect(behind).toMatchObject({ granted: 0, atMs: T + 1_000 });
  });

  it('many sequential reservations never over-admit in any interval of a window', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 7, windowSeconds: 1 }];
    const admitted: number[] = [];
    for (let t = T; t < T + 5_000; t += 50) {
      const r = await store.reserve(p, w, 2, t);
      for (let i = 0; i < r.granted; i++) admitted.push(r.atMs);
    }
    expect(admitted).toHaveLength(35);
    expect(maxInAnyInterval(admitted, 1_000)).toBeLessThanOrEqual(7);
  });
  it('leaves bulk mail its part only while critical/transactional mail is around, all of it otherwise', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 10, windowSeconds: 1 }];
    const opts = { bulkReserve: 0.3 };
    // Only bulk mail: no reserve held, it may take everything.
    const onlyBulk = await store.reserveShares(p, w, { full: 0, bulk: 20 }, T, opts);
    expect(onlyBulk).toMatchObject({ full: { granted: 0 }, bulk: { granted: 10 }, rateFactor: 1, utilization: 1 });
    // A window later transactional mail takes 2; from then on bulk leaves 3 of each window (the 2 count toward them).
    expect((await store.reserveShares(p, w, { full: 2, bulk: 0 }, T + 1_100, opts)).full.granted).toBe(2);
    const held = await store.reserveShares(p, w, { full: 0, bulk: 20 }, T + 1_200, opts);
    expect(held.bulk.granted).toBe(7);
    const none = await store.reserveShares(p, w, { full: 0, bulk: 1 }, T + 1_300, opts);
    expect(none.bulk.granted).toBe(0);
    expect(none.bulk.retryAfterMs).toBeGreaterThan(0);
    // The rest of the reserve is there for transactional mail.
    expect((await store.reserveShares(p, w, { full: 5, bulk: 0 }, T + 1_400, opts)).full.granted).toBe(1);
  });

  it('grows the reserve with the critical/transactional mail a window took', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 10, windowSeconds: 1 }];
    const opts = { bulkReserve: 0.3 };
    // 6 transactional in the window: the reserve is 8 (6 and a quarter, rounded up), not 3.
    expect((await store.reserveShares(p, w, { full: 6, bulk: 0 }, T, opts)).full.granted).toBe(6);
    expect((await store.reserveShares(p, w, { full: 0, bulk: 20 }, T + 100, opts)).bulk.granted).toBe(2);
    // Windows later, with transactional mail gone, the configured share holds again.
    expect((await store.reserveShares(p, w, { full: 1, bulk: 0 }, T + 5_000, opts)).full.granted).toBe(1);
    expect((await store.reserveShares(p, w, { full: 0, bulk: 20 }, T + 5_100, opts)).bulk.granted).toBe(7);
  });

  it('keeps bulk mail within the warm-up ramp (bulk admissions only), deferring the rest', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 100, windowSeconds: 1 }];
    const opts = { bulkReserve: 0, warmUp: () => ({ limit: 5, windowSeconds: 86_400 }) };
    expect((await store.reserveShares(p, w, { full: 50, bulk: 0 }, T, opts)).full.granted).toBe(50);
    expect((await store.reserveShares(p, w, { full: 0, bulk: 4 }, T + 2_000, opts)).bulk.granted).toBe(4);
    const rest = await store.reserveShares(p, w, { full: 0, bulk: 4 }, T + 4_000, opts);
    expect(rest.bulk.granted).toBe(1);
    const over = await store.reserveShares(p, w, { full: 0, bulk: 4 }, T + 6_000, opts);
    expect(over.bulk).toMatchObject({ granted: 0 });
    expect(over.bulk.retryAfterMs).toBeGreaterThan(3_600_000);
  });

  it('lowers the effective rate on a throttle, once per hold time, and counts reservations against it', async () => {
    const store = make();
    const p = provider();
    const w: RateWindow[] = [{ limit: 10, windowSeconds: 1 }];
    expect(await store.throttled(p, T)).toBe(0.5);
    // A second throttle within the hold time (5 s) is the same episode.
    expect(await store.throttled(p, T + 1_000)).toBeCloseTo(0.5, 2);
    const r = await store.reserveShares(p, w, { full: 10, bulk: 0 }, T + 1_000, { bulkReserve: 0 });
    expect(r.full.granted).toBe(5);
    expect(r.rateFactor).toBeCloseTo(0.5, 2);
    expect(await store.throttleStates([p])).toEqual({ [p]: { factor: 0.5, atMs: T } });
    // Recovering 10 % a minute: full rate five minutes later.
    const back = await store.reserveShares(p, w, { full: 10, bulk: 0 }, T + 300_000, { bulkReserve: 0 });
    expect(back).toMatchObject({ full: { granted: 10 }, rateFactor: 1 });
  });
});

describe('DynamoRateWindows (DynamoDB only)', () => {
  it('shares the throttle state between dispatchers: one lowers it, the other reserves at the lowered rate', async () => {
    const a = new DynamoRateWindows(dynalite.db.doc, dynalite.db.tables.rateWindows);
    const b = new DynamoRateWindows(dynalite.db.doc, dynalite.db.tables.rateWindows);
    const p = provider();
    const w: RateWindow[] = [{ limit: 20, windowSeconds: 1 }];
    // b has the item cached from an earlier reservation, before a saw the throttle.
    expect((await b.reserveShares(p, w, { full: 1, bulk: 0 }, T, { bulkReserve: 0 })).rateFactor).toBe(1);
    expect(await a.throttled(p, T + 10)).toBe(0.5);
    // b's cached version is stale: its write fails, it reads the lowered rate and decides again.
    const r = await b.reserveShares(p, w, { full: 20, bulk: 0 }, T + 20, { bulkReserve: 0 });
    expect(r.full.granted).toBe(9);
    expect(r.rateFactor).toBeCloseTo(0.5, 2);
    // Both throttling at once halve it once: the second sees the first's decrease within the hold time.
    expect(await Promise.all([a.throttled(p, T + 6_000), b.throttled(p, T + 6_001)])).toSatisfy((fs: number[]) =>
      fs.every((f) => Math.abs(f - 0.25) < 0.01),
    );
    expect((await a.throttleStates([p]))[p]?.factor).toBeCloseTo(0.25, 2);
  });

  it('8 racing dispatchers with bulk and transactional mail never over-admit, and bulk leaves the reserve', async () => {
    const windows: RateWindow[] = [{ limit: 20, windowSeconds: 1 }];
    const full: number[] = [];
    const bulk: number[] = [];
    const until = Date.now() + 4_000;
    const p = provider();
    const dispatchers = Array.from(
      { length: 8 },
      () => new DynamoRateWindows(dynalite.db.doc, dynalite.db.tables.rateWindows),
    );
    await Promise.all(
      dispatchers.map(async (limiter, i) => {
        while (Date.now() < until) {
          const wanted = i % 4 === 0 ? { full: 1, bulk: 0 } : { full: 0, bulk: 3 };
          const r = await limiter.reserveShares(p, windows, wanted, Date.now(), { bulkReserve: 0.3 });
          for (let k = 0; k < r.full.granted; k++) full.push(r.atMs);
          for (let k = 0; k < r.bulk.granted; k++) bulk.push(r.atMs);
          const wait = Math.max(r.full.retryAfterMs, r.bulk.retryAfterMs);
          // Sending what was granted takes a moment; nothing granted waits until there may be room.
          const pause = r.full.granted + r.bulk.granted === 0 ? Math.min(wait, 50) : 20;
          await new Promise((res) => setTimeout(res, pause));
        }
      }),
    );
    expect(full.length).toBeGreaterThan(0);
    expect(bulk.length).toBeGreaterThan(0);
    expect(maxInAnyInterval([...full, ...bulk], 1_000)).toBeLessThanOrEqual(20);
  });

  it('8 racing dispatchers never over-admit, in any window of a provider', async () => {
    const windows: RateWindow[] = [
      { limit: 15, windowSeconds: 1 },
      { limit: 40, windowSeconds: 4 },
    ];
    const admitted: number[] = [];
    const until = Date.now() + 5_000;
    // Each dispatcher has its own limiter (its own cache), as separate Lambdas would.
    const dispatchers = Array.from(
      { length: 8 },
      () => new DynamoRateWindows(dynalite.db.doc, dynalite.db.tables.rateWindows),
    );
    await Promise.all(
      dispatchers.map(async (limiter) => {
        while (Date.now() < until) {
          const r = await limiter.reserve('racing', windows, 3, Date.now());
          for (let i = 0; i < r.granted; i++) admitted.push(r.atMs);
          if (r.granted === 0) await new Promise((res) => setTimeout(res, Math.min(r.retryAfterMs, 100)));
        }
      }),
    );
    expect(admitted.length).toBeGreaterThan(0);
    expect(maxInAnyInterval(admitted, 1_000)).toBeLessThanOrEqual(15);
    expect(maxInAnyInterval(admitted, 4_000)).toBeLessThanOrEqual(40);
  });

  it('keeps only the slots that still count', async () => {
    const limiter = new DynamoRateWindows(dynalite.db.doc, dynalite.db.tables.rateWindows);
    const w = [{ limit: 1000, windowSeconds: 2 }];
    for (let i = 0; i < 200; i++) await limiter.reserve('pruned', w, 1, 1_000_000 + i * 100);
    const item = await dynalite.db.doc.send(
      new GetCommand({ TableName: dynalite.db.tables.rateWindows, Key: { pk: 'provider#pruned' } }),
    );
    const slots = Object.keys(item.Item ?? {}).filter((k) => k.startsWith('c2_'));
    expect(slots.length).toBeLessThanOrEqual(22);
  });
});
