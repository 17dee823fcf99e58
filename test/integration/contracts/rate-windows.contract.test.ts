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
});

describe('DynamoRateWindows (DynamoDB only)', () => {
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
