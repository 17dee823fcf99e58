import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../functions/core/defaults';
import {
  bucketExpiresAt,
  type Counts,
  countedBounces,
  countedComplaints,
  countedRecipients,
  type GuardSettings,
  HOUR_MS,
  hourBucket,
  isSimulatorAddress,
  judge,
  MAX_WINDOW_HOURS,
  ratesOf,
  windowBuckets,
  windowCounts,
} from '../../../functions/core/reputation';

const settings: GuardSettings = {
  windowHours: DEFAULTS.guard.windowHours,
  minVolume: DEFAULTS.guard.minVolume,
  bounce: DEFAULTS.guard.bounce,
  complaint: DEFAULTS.guard.complaint,
};

const counts = (sends: number, bounces = 0, complaints = 0): Counts => ({ sends, bounces, complaints });

/** Thresholds with warn < pause, as cdk.json validation leaves them. */
const thresholds = fc
  .tuple(fc.double({ min: 0.01, max: 50, noNaN: true }), fc.double({ min: 0.01, max: 50, noNaN: true }))
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => ({ warnPercent: Math.min(a, b), pausePercent: Math.max(a, b) }));
const guardSettings = fc.record({
  windowHours: fc.integer({ min: 1, max: MAX_WINDOW_HOURS }),
  minVolume: fc.integer({ min: 1, max: 10_000 }),
  bounce: thresholds,
  complaint: thresholds,
});
const someCounts = fc
  .integer({ min: 0, max: 100_000 })
  .chain((sends) =>
    fc.record({ sends: fc.constant(sends), bounces: fc.nat({ max: sends }), complaints: fc.nat({ max: sends }) }),
  );

describe('the simulator never counts', () => {
  it('knows the simulator addresses, bare, formatted, labelled or in any case', () => {
    expect(isSimulatorAddress('bounce@simulator.amazonses.com')).toBe(true);
    expect(isSimulatorAddress('Bounce+campaign-7@Simulator.AmazonSES.com')).toBe(true);
    expect(isSimulatorAddress('"Test" <complaint@simulator.amazonses.com>')).toBe(true);
    expect(isSimulatorAddress('user@example.org')).toBe(false);
    expect(isSimulatorAddress('simulator.amazonses.com@example.org')).toBe(false);
    expect(isSimulatorAddress('user@notsimulator.amazonses.com')).toBe(false);
  });

  it('in sends, bounces and complaints: only the other recipients count', () => {
    const real = fc.emailAddress().filter((a) => !a.toLowerCase().endsWith('@simulator.amazonses.com'));
    const sim = fc.constantFrom('success', 'bounce', 'complaint', 'ooto').map((s) => `${s}@simulator.amazonses.com`);
    fc.assert(
      fc.property(fc.array(real, { maxLength: 5 }), fc.array(sim, { maxLength: 5 }), (reals, sims) => {
        const all = [...reals, ...sims];
        expect(countedRecipients({ to: all, cc: [], bcc: [] })).toBe(reals.length);
        expect(countedRecipients({ to: sims, cc: reals, bcc: sims })).toBe(reals.length);
        expect(countedBounces({ bounceType: 'Permanent', bounceSubType: 'General', recipients: all })).toBe(
          reals.length,
        );
        expect(countedComplaints({ feedbackType: 'abuse', recipients: all })).toBe(reals.length);
      }),
    );
  });
});

describe('what counts as a bounce or a complaint', () => {
  it('counts hard bounces only, and not those SES leaves out of its own rate', () => {
    const recipients = ['a@example.org', 'b@example.org'];
    expect(countedBounces({ bounceType: 'Permanent', bounceSubType: 'NoEmail', recipients })).toBe(2);
    expect(countedBounces({ bounceType: 'Permanent', bounceSubType: 'General', recipients })).toBe(2);
    expect(countedBounces({ bounceType: 'Transient', bounceSubType: 'MailboxFull', recipients })).toBe(0);
    expect(countedBounces({ bounceType: 'Undetermined', recipients })).toBe(0);
    expect(countedBounces({ bounceType: 'Permanent', bounceSubType: 'OnAccountSuppressionList', recipients })).toBe(0);
  });

  it('counts complaints, but not a not-spam report or an account-suppressed one', () => {
    const recipients = ['a@example.org'];
    expect(countedComplaints({ feedbackType: 'abuse', recipients })).toBe(1);
    expect(countedComplaints({ feedbackType: null, recipients })).toBe(1);
    expect(countedComplaints({ feedbackType: 'not-spam', recipients })).toBe(0);
    expect(countedComplaints({ subType: 'OnAccountSuppressionList', recipients })).toBe(0);
  });
});

describe('the minimum volume', () => {
  it('decides nothing below it, whatever the rates', () => {
    fc.assert(
      fc.property(guardSettings, someCounts, (s, c) => {
        fc.pre(c.sends < s.minVolume);
        const j = judge(c, s);
        expect(j).toMatchObject({ level: 'ok', judged: false, reasons: [] });
      }),
    );
  });

  it('judges at and above it', () => {
    fc.assert(
      fc.property(guardSettings, someCounts, (s, c) => {
        fc.pre(c.sends >= s.minVolume && c.sends > 0);
        expect(judge(c, s).judged).toBe(true);
      }),
    );
  });

  it('with the defaults: 499 sends that all bounced decide nothing, 500 with 40 bounces pause', () => {
    expect(judge(counts(499, 499, 499), settings).level).toBe('ok');
    expect(judge(counts(500, 40), settings).level).toBe('pause');
  });
});

describe('the thresholds', () => {
  it('give the level of the worse rate: pause at or over a pause line, warn at or over a warn line', () => {
    fc.assert(
      fc.property(guardSettings, someCounts, (s, c) => {
        fc.pre(c.sends >= s.minVolume && c.sends > 0);
        const b = (100 * c.bounces) / c.sends;
        const k = (100 * c.complaints) / c.sends;
        const expected =
          b >= s.bounce.pausePercent || k >= s.complaint.pausePercent
            ? 'pause'
            : b >= s.bounce.warnPercent || k >= s.complaint.warnPercent
              ? 'warn'
              : 'ok';
        const j = judge(c, s);
        expect(j.level).toBe(expected);
        expect(j.reasons.length > 0).toBe(expected !== 'ok');
      }),
    );
  });

  it('only rise with more bounces or complaints on the same sends', () => {
    const order = { ok: 0, warn: 1, pause: 2 } as const;
    fc.assert(
      fc.property(guardSettings, someCounts, fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), (s, c, db, dc) => {
        const more = { ...c, bounces: c.bounces + db, complaints: c.complaints + dc };
        expect(order[judge(more, s).level]).toBeGreaterThanOrEqual(order[judge(c, s).level]);
      }),
    );
  });

  it('with the defaults (bounce 4 % / 8 %, complaint 0.08 % / 0.3 %)', () => {
    expect(judge(counts(1000, 39), settings).level).toBe('ok');
    expect(judge(counts(1000, 40), settings).level).toBe('warn');
    expect(judge(counts(1000, 79), settings).level).toBe('warn');
    expect(judge(counts(1000, 80), settings).level).toBe('pause');
    expect(judge(counts(10_000, 0, 7), settings).level).toBe('ok');
    expect(judge(counts(10_000, 0, 8), settings).level).toBe('warn');
    expect(judge(counts(10_000, 0, 30), settings).level).toBe('pause');
    expect(judge(counts(1000, 80), settings).reasons).toEqual(['bounce rate 8% ≥ pause 8% of 1000 sends']);
  });

  it('rates are percentages of the sends, none without sends', () => {
    expect(ratesOf(counts(0))).toEqual({ bouncePercent: null, complaintPercent: null });
    expect(ratesOf(counts(200, 10, 1))).toEqual({ bouncePercent: 5, complaintPercent: 0.5 });
  });
});

describe('the rolling window', () => {
  const NOW = Date.parse('2026-11-29T12:30:00Z');

  it('sums the last windowHours hour buckets, the current one included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_WINDOW_HOURS }),
        fc.array(fc.tuple(fc.integer({ min: -300, max: 0 }), fc.nat({ max: 1000 })), { maxLength: 30 }),
        (windowHours, entries) => {
          const current = hourBucket(NOW);
          const buckets = new Map<number, Counts>();
          for (const [offset, sends] of entries) {
            const b = current + offset;
            const c = buckets.get(b) ?? counts(0);
            buckets.set(b, counts(c.sends + sends));
          }
          const inWindow = [...buckets].filter(([b]) => b > current - windowHours && b <= current);
          expect(windowCounts(buckets, NOW, windowHours).sends).toBe(inWindow.reduce((n, [, c]) => n + c.sends, 0));
          expect(windowBuckets(NOW, windowHours)).toHaveLength(windowHours);
        },
      ),
    );
  });

  it('after a resume, counts only what came after it (the baseline of its hour is subtracted)', () => {
    const current = hourBucket(NOW);
    const buckets = new Map<number, Counts>([
      [current - 2, counts(1000, 200)],
      [current - 1, counts(100, 50)],
      [current, counts(300, 20, 3)],
    ]);
    const from = { bucket: current, baseline: counts(250, 20, 3), at: new Date(NOW).toISOString() };
    expect(windowBuckets(NOW, 24, from)).toEqual([current]);
    expect(windowCounts(buckets, NOW, 24, from)).toEqual(counts(50, 0, 0));
    // An hour later the resume's hour is still less its baseline.
    expect(windowCounts(buckets, NOW + HOUR_MS, 24, from)).toEqual(counts(50, 0, 0));
    // Once the window has moved past the resume, it no longer matters.
    expect(windowCounts(buckets, NOW + 30 * HOUR_MS, 24, from)).toEqual(counts(0));
  });

  it('keeps counters a day beyond the longest window', () => {
    const b = hourBucket(NOW);
    expect(bucketExpiresAt(b) * 1000).toBe((b + 1 + MAX_WINDOW_HOURS + 24) * HOUR_MS);
  });
});
