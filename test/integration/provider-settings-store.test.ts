/** The provider settings and health adapter on DynamoDB (dynalite): its conditions and counters. */
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { bucketOf, staleBuckets } from '../../functions/core/health';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoProviderSettings } from '../../functions/store/provider-settings';
import { useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack(
  (s) => {
    stack = s;
  },
  { pollers: 0 },
);
const store = () => new DynamoProviderSettings(documentClient(stack.clients.dynamodb), stack.tables.settings);
const NOW = Date.parse('2026-11-22T10:00:00Z');

describe('provider settings on DynamoDB', () => {
  it('saves live settings once per version: a stale writer is refused', async () => {
    const s = store();
    expect((await s.load(['a'])).live).toBeUndefined();
    const v1 = {
      chain: ['a', 'b'],
      providers: { a: { enabled: true, limits: [{ limit: 5, windowSeconds: 1 }] } },
      version: 1,
    };
    expect(await s.saveLive(v1, 0)).toBe(true);
    expect(await s.saveLive({ ...v1, chain: ['b'] }, 0)).toBe(false); // someone saved first
    expect(await s.saveLive({ ...v1, chain: ['b', 'a'], version: 2 }, 1)).toBe(true);
    expect(await s.saveLive({ ...v1, chain: ['a'], version: 2 }, 1)).toBe(false);
    expect((await s.load([])).live).toMatchObject({ chain: ['b', 'a'], version: 2 });
  });

  it('adds outcomes from racing dispatchers without losing any, and drops old buckets', async () => {
    const s = store();
    const b = bucketOf(NOW);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => s.recordOutcomes('race', b, { attempts: 10, errors: i % 2 }, [])),
    );
    const h = (await s.load(['race'])).health.race;
    expect(h?.buckets[b]).toEqual({ attempts: 80, errors: 4 });
    // 6 minutes later the bucket no longer counts and the next write removes it.
    const later = NOW + 6 * 60_000;
    const after = await s.recordOutcomes(
      'race',
      bucketOf(later),
      { attempts: 1, errors: 0 },
      staleBuckets(h ?? { state: 'closed', buckets: {} }, later),
    );
    expect(Object.keys(after.buckets)).toEqual([String(bucketOf(later))]);
  });

  it('moves a circuit only from the state it expects: one dispatcher wins the probe', async () => {
    const s = store();
    expect(
      await s.moveCircuit('p', { state: 'closed' }, { state: 'open', untilMs: NOW + 30_000, reason: 'broken: 401' }),
    ).toBe(true);
    expect(await s.moveCircuit('p', { state: 'closed' }, { state: 'open', untilMs: NOW + 99_000 })).toBe(false);
    // Before the cool-down ends nobody may probe.
    expect(await s.moveCircuit('p', { state: 'open', dueBy: NOW }, { state: 'half-open', untilMs: NOW + 60_000 })).toBe(
      false,
    );
    const due = NOW + 30_000;
    const wins = await Promise.all(
      Array.from({ length: 5 }, () =>
        s.moveCircuit('p', { state: 'open', dueBy: due }, { state: 'half-open', untilMs: due + 60_000 }),
      ),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await s.load(['p'])).health.p).toMatchObject({
      state: 'half-open',
      untilMs: due + 60_000,
      reason: 'broken: 401',
    });
    expect(await s.moveCircuit('p', { state: 'half-open' }, { state: 'closed', sinceMs: due })).toBe(true);
    const closed = (await s.load(['p'])).health.p;
    expect(closed).toMatchObject({ state: 'closed', sinceMs: due });
    expect(closed?.untilMs).toBeUndefined();
    expect(closed?.reason).toBeUndefined();
  });
});
