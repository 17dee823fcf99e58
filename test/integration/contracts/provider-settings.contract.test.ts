/**
 * The ProviderSettingsStore contract: the same cases against the in-memory fake and the DynamoDB
 * adapter on dynalite (live-settings versions, outcome counters, circuit moves).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bucketOf, HEALTHY, staleBuckets } from '../../../functions/core/health';
import type { LiveSettings } from '../../../functions/core/providers';
import type { ProviderSettingsStore } from '../../../functions/ports';
import { DynamoProviderSettings } from '../../../functions/store/provider-settings';
import { useDynalite } from '../../support/dynalite';
import { MemoryProviderSettings } from '../../support/fakes';

const dynalite = useDynalite();
const NOW = Date.parse('2026-11-22T10:00:00Z');

/** One provider id per case: every case has its own health items. */
const pid = () => `p-${randomUUID().slice(0, 8)}`;

describe.each([
  ['the fake', (): ProviderSettingsStore => new MemoryProviderSettings(), false],
  [
    'DynamoDB',
    (): ProviderSettingsStore => new DynamoProviderSettings(dynalite.db.doc, dynalite.db.tables.settings),
    true,
  ],
] as const)('ProviderSettingsStore contract: %s', (_name, make, shared) => {
  /** The live settings live in one item per table: DynamoDB cases start from an empty table. */
  const fresh = async () => {
    if (shared) await dynalite.db.reset();
    return make();
  };

  describe('live settings', () => {
    it('saves live settings once per version: a stale writer is refused', async () => {
      const s = await fresh();
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

    it('reads back exactly what it saved', async () => {
      const s = await fresh();
      const live: LiveSettings = {
        chain: ['relay', 'ses'],
        providers: {
          relay: { enabled: false, limits: [] },
          ses: {
            enabled: true,
            limits: [
              { limit: 14, windowSeconds: 1 },
              { limit: 50_000, windowSeconds: 86_400 },
            ],
          },
        },
        updatedAt: '2026-11-22T10:00:00.000Z',
        version: 1,
      };
      expect(await s.saveLive(live, 0)).toBe(true);
      expect((await s.load(['relay', 'ses'])).live).toEqual(live);
    });

    it('of two admins saving over the same version at once, exactly one wins', async () => {
      const s = await fresh();
      await s.saveLive({ chain: ['a'], providers: {}, version: 1 }, 0);
      const results = await Promise.all(
        ['x', 'y', 'z'].map((id) => s.saveLive({ chain: [id], providers: {}, version: 2 }, 1)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('health', () => {
    it('a provider never seen is healthy: closed, no counts', async () => {
      const s = await fresh();
      const id = pid();
      expect((await s.load([id])).health).toEqual({ [id]: HEALTHY });
    });

    it('adds outcomes from racing dispatchers without losing any, and drops old buckets', async () => {
      const s = await fresh();
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
      expect((await s.load(['race'])).health.race).toEqual(after);
    });

    it('counting never touches the circuit', async () => {
      const s = await fresh();
      const id = pid();
      await s.moveCircuit(id, { state: 'closed' }, { state: 'open', untilMs: NOW + 30_000, reason: 'down: 503' });
      const after = await s.recordOutcomes(id, bucketOf(NOW), { attempts: 2, errors: 2 }, []);
      expect(after).toMatchObject({ state: 'open', untilMs: NOW + 30_000, reason: 'down: 503' });
      expect(after.buckets).toEqual({ [bucketOf(NOW)]: { attempts: 2, errors: 2 } });
    });
  });

  describe('moveCircuit', () => {
    it('moves a circuit only from the state it expects: one dispatcher wins the probe', async () => {
      const s = await fresh();
      expect(
        await s.moveCircuit('p', { state: 'closed' }, { state: 'open', untilMs: NOW + 30_000, reason: 'broken: 401' }),
      ).toBe(true);
      expect(await s.moveCircuit('p', { state: 'closed' }, { state: 'open', untilMs: NOW + 99_000 })).toBe(false);
      // Before the cool-down ends nobody may probe.
      expect(
        await s.moveCircuit('p', { state: 'open', dueBy: NOW }, { state: 'half-open', untilMs: NOW + 60_000 }),
      ).toBe(false);
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

    it('a provider never seen counts as closed, never as open', async () => {
      const s = await fresh();
      expect(await s.moveCircuit(pid(), { state: 'open' }, { state: 'half-open', untilMs: NOW })).toBe(false);
      expect(await s.moveCircuit(pid(), { state: 'half-open' }, { state: 'closed' })).toBe(false);
      const id = pid();
      expect(await s.moveCircuit(id, { state: 'closed', dueBy: NOW }, { state: 'open', untilMs: NOW + 1 })).toBe(true);
      expect((await s.load([id])).health[id]).toMatchObject({ state: 'open', untilMs: NOW + 1 });
    });

    it('keeps the counts, drops the cool-down when none is given, and keeps at most 500 characters of reason', async () => {
      const s = await fresh();
      const id = pid();
      await s.recordOutcomes(id, bucketOf(NOW), { attempts: 3, errors: 3 }, []);
      expect(
        await s.moveCircuit(id, { state: 'closed' }, { state: 'open', untilMs: NOW + 30_000, reason: 'x'.repeat(600) }),
      ).toBe(true);
      const open = (await s.load([id])).health[id];
      expect(open?.reason).toBe('x'.repeat(500));
      expect(open?.buckets).toEqual({ [bucketOf(NOW)]: { attempts: 3, errors: 3 } });
      // Re-opened without an end and without a reason: no cool-down, the reason stays.
      expect(await s.moveCircuit(id, { state: 'open' }, { state: 'open' })).toBe(true);
      const reopened = (await s.load([id])).health[id];
      expect(reopened?.untilMs).toBeUndefined();
      expect(reopened?.reason).toBe('x'.repeat(500));
    });
  });
});
