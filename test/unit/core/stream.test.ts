import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Counts, type Judgement, judge, type Level, ratesOf } from '../../../functions/core/reputation';
import {
  afterJudgement,
  initialStream,
  resumed,
  type StreamRecord,
  TIMELINE_LIMIT,
} from '../../../functions/core/stream';

const AT = '2026-11-29T12:00:00.000Z';
const settings = {
  windowHours: 24,
  minVolume: 100,
  bounce: { warnPercent: 4, pausePercent: 8 },
  complaint: { warnPercent: 0.08, pausePercent: 0.3 },
};
const judged = (sends: number, bounces: number): Judgement => judge({ sends, bounces, complaints: 0 }, settings);
const levelOf = (level: Level): Judgement => {
  const counts: Counts = { sends: 1000, bounces: 0, complaints: 0 };
  return { level, judged: true, counts, rates: ratesOf(counts), reasons: [] };
};

describe('a stream after a judgement', () => {
  it('pauses at the pause line, with the rates on the timeline', () => {
    const next = afterJudgement(initialStream('bulk'), judged(1000, 90), AT);
    expect(next).toMatchObject({ state: 'paused', version: 1, since: AT });
    expect(next?.timeline).toEqual([
      {
        type: 'paused',
        at: AT,
        detail: {
          sends: 1000,
          bounces: 90,
          complaints: 0,
          bounceRatePercent: 9,
          complaintRatePercent: 0,
          reasons: ['bounce rate 9% ≥ pause 8% of 1000 sends'],
        },
      },
    ]);
  });

  it('warns once, clears once it is judged below the lines again, and does nothing below the minimum volume', () => {
    const warned = afterJudgement(initialStream('bulk'), judged(1000, 50), AT) as StreamRecord;
    expect(warned).toMatchObject({ state: 'active', warned: true, version: 1 });
    expect(afterJudgement(warned, judged(1000, 50), AT)).toBeUndefined();
    expect(afterJudgement(warned, judged(10, 0), AT)).toBeUndefined();
    const cleared = afterJudgement(warned, judged(1000, 1), AT);
    expect(cleared).toMatchObject({ warned: false, version: 2 });
    expect(cleared?.timeline.map((e) => e.type)).toEqual(['warned', 'cleared']);
  });

  it('stays paused whatever is judged: only a resume ends a pause', () => {
    fc.assert(
      fc.property(fc.constantFrom<Level>('ok', 'warn', 'pause'), (level) => {
        const paused = afterJudgement(initialStream('bulk'), levelOf('pause'), AT) as StreamRecord;
        expect(afterJudgement(paused, levelOf(level), AT)).toBeUndefined();
      }),
    );
  });

  it('changes the version by one with every change, and keeps the newest events only', () => {
    let s: StreamRecord = initialStream('transactional');
    for (let i = 0; i < TIMELINE_LIMIT + 10; i++) {
      const next = afterJudgement(
        s,
        levelOf(i % 2 === 0 ? 'warn' : 'ok'),
        `2026-11-29T12:00:${String(i % 60).padStart(2, '0')}.000Z`,
      );
      expect(next?.version).toBe(s.version + 1);
      s = next as StreamRecord;
    }
    expect(s.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(s.timeline.at(-1)?.type).toBe('cleared');
  });
});

describe('a resume', () => {
  const from = { bucket: 494_000, baseline: { sends: 10, bounces: 5, complaints: 0 }, at: AT };

  it('makes a paused stream active, without a warning, counting afresh, with who resumed it', () => {
    const paused = afterJudgement(initialStream('bulk'), levelOf('pause'), AT) as StreamRecord;
    const next = resumed(paused, AT, from, 'ops');
    expect(next).toMatchObject({ state: 'active', warned: false, version: 2, countFrom: from, since: AT });
    expect(next?.timeline.map((e) => e.type)).toEqual(['paused', 'resumed']);
    expect(next?.timeline.at(-1)).toEqual({ type: 'resumed', at: AT, detail: { by: 'ops' } });
  });

  it('is nothing for a stream that is not paused', () => {
    expect(resumed(initialStream('bulk'), AT, from, 'ops')).toBeUndefined();
  });
});
