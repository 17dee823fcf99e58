/**
 * The ReputationStore contract: the same cases against the in-memory fake and the DynamoDB adapter
 * on dynalite (shared counters, stream state with versions, racing pauses and resumes).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { logger, newMetrics } from '../../../functions/app/observability';
import { recordFeedback } from '../../../functions/app/streams';
import { reputationCountsKey } from '../../../functions/core/keys';
import { bucketExpiresAt, hourBucket, judge } from '../../../functions/core/reputation';
import { afterJudgement, initialStream, resumed, type StreamRecord } from '../../../functions/core/stream';
import type { ReputationStore } from '../../../functions/ports';
import { DynamoReputationStore } from '../../../functions/store/reputation-store';
import { useDynalite } from '../../support/dynalite';
import { MemoryReputationStore } from '../../support/fakes';

const dynalite = useDynalite();
const NOW = Date.parse('2026-11-29T12:00:00Z');
const AT = new Date(NOW).toISOString();
const settings = {
  windowHours: 24,
  minVolume: 10,
  bounce: { warnPercent: 4, pausePercent: 8 },
  complaint: { warnPercent: 0.08, pausePercent: 0.3 },
};
const pausing = judge({ sends: 100, bounces: 20, complaints: 0 }, settings);

describe.each([
  ['the fake', (): ReputationStore => new MemoryReputationStore(), false],
  ['DynamoDB', (): ReputationStore => new DynamoReputationStore(dynalite.db.doc, dynalite.db.tables.reputation), true],
] as const)('ReputationStore contract: %s', (_name, make, shared) => {
  /** Streams live in one item per priority: DynamoDB cases start from an empty table. */
  const fresh = async () => {
    if (shared) await dynalite.db.reset();
    return make();
  };

  it('adds counts per priority and hour bucket, without losing any to racing writers', async () => {
    const s = await fresh();
    const b = hourBucket(NOW);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.add('bulk', b, i % 2 === 0 ? { sends: 3 } : { bounces: 1 }, bucketExpiresAt(b)),
      ),
    );
    await s.add('bulk', b - 1, { complaints: 2 }, bucketExpiresAt(b - 1));
    await s.add('transactional', b, { sends: 7 }, bucketExpiresAt(b));
    await s.add('transactional', b, {}, bucketExpiresAt(b));
    const bulk = await s.counts('bulk', [b - 2, b - 1, b]);
    expect(bulk.size).toBe(2);
    expect(bulk.get(b)).toEqual({ sends: 30, bounces: 10, complaints: 0 });
    expect(bulk.get(b - 1)).toEqual({ sends: 0, bounces: 0, complaints: 2 });
    expect(bulk.has(b - 2)).toBe(false);
    expect((await s.counts('transactional', [b])).get(b)).toEqual({ sends: 7, bounces: 0, complaints: 0 });
    expect((await s.counts('critical', [b])).size).toBe(0);
  });

  it('reads a week of buckets at once (more than one batch of keys)', async () => {
    const s = await fresh();
    const b = hourBucket(NOW);
    for (const offset of [0, 50, 120, 167]) await s.add('bulk', b - offset, { sends: 1 }, bucketExpiresAt(b));
    const buckets = Array.from({ length: 168 }, (_, i) => b - i);
    expect([...(await s.counts('bulk', buckets)).keys()].sort()).toEqual([b - 167, b - 120, b - 50, b].sort());
  });

  it('has every stream active before anything happened to it', async () => {
    const s = await fresh();
    expect(await s.streams()).toEqual({
      critical: initialStream('critical'),
      transactional: initialStream('transactional'),
      bulk: initialStream('bulk'),
    });
  });

  it('saves a stream only from the version it was read at, and reads back what it saved', async () => {
    const s = await fresh();
    const paused = afterJudgement(initialStream('bulk'), pausing, AT) as StreamRecord;
    expect(await s.saveStream(paused, 0)).toBe(true);
    expect(await s.saveStream(paused, 0)).toBe(false);
    expect((await s.streams()).bulk).toEqual(paused);
    const from = { bucket: hourBucket(NOW), baseline: { sends: 5, bounces: 1, complaints: 0 }, at: AT };
    const back = resumed(paused, AT, from, 'ops') as StreamRecord;
    expect(await s.saveStream(back, 0)).toBe(false);
    expect(await s.saveStream(back, 1)).toBe(true);
    expect((await s.streams()).bulk).toEqual(back);
    expect((await s.streams()).transactional).toEqual(initialStream('transactional'));
  });

  it('lets exactly one of two racing pauses, and one of two racing resumes, through', async () => {
    const s = await fresh();
    const paused = afterJudgement(initialStream('bulk'), pausing, AT) as StreamRecord;
    const pauses = await Promise.all([s.saveStream(paused, 0), s.saveStream(paused, 0)]);
    expect(pauses.filter(Boolean)).toHaveLength(1);
    const from = { bucket: hourBucket(NOW), baseline: { sends: 0, bounces: 0, complaints: 0 }, at: AT };
    const resumes = await Promise.all([
      s.saveStream(resumed(paused, AT, from, 'ops-a') as StreamRecord, 1),
      s.saveStream(resumed(paused, AT, from, 'ops-b') as StreamRecord, 1),
    ]);
    expect(resumes.filter(Boolean)).toHaveLength(1);
    const bulk = (await s.streams()).bulk;
    expect(bulk.timeline.map((e) => e.type)).toEqual(['paused', 'resumed']);
    expect(bulk.version).toBe(2);
  });

  it('judged by several functions at once, a stream is paused once, with one event', async () => {
    const s = await fresh();
    await s.add('bulk', hourBucket(NOW), { sends: 20 }, bucketExpiresAt(hourBucket(NOW)));
    const deps = { store: s, settings, now: () => NOW, logger, metrics: newMetrics };
    const events = await Promise.all(
      Array.from({ length: 4 }, () => recordFeedback(deps, 'bulk', { bounces: 1, complaints: 0 })),
    );
    expect(events.filter((e) => e?.type === 'paused')).toHaveLength(1);
    const bulk = (await s.streams()).bulk;
    expect(bulk.state).toBe('paused');
    expect(bulk.timeline.filter((e) => e.type === 'paused')).toHaveLength(1);
    expect((await s.counts('bulk', [hourBucket(NOW)])).get(hourBucket(NOW))?.bounces).toBe(4);
  });

  if (shared) {
    it('stores counters under the key builders of core/keys.ts, expiring (TTL) after the longest window', async () => {
      const s = await fresh();
      const b = hourBucket(NOW);
      await s.add('bulk', b, { sends: 1 }, bucketExpiresAt(b));
      const out = await dynalite.db.doc.send(
        new GetCommand({ TableName: dynalite.db.tables.reputation, Key: { pk: reputationCountsKey('bulk', b) } }),
      );
      expect(out.Item).toMatchObject({ sends: 1, expiresAt: bucketExpiresAt(b) });
    });
  }
});
