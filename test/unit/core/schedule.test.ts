import { describe, expect, it } from 'vitest';
import { claimConflict } from '../../../functions/core/claim';
import {
  atExpression,
  checkScheduledAt,
  MAX_QUEUE_DELAY_SECONDS,
  parseRfc3339,
  placementOf,
  ScheduledFiring,
  scheduleNameOf,
} from '../../../functions/core/schedule';
import { planOfConflict } from '../../../functions/core/send-plan';

const NOW = Date.parse('2026-03-28T12:00:00.000Z');

describe('scheduledAt', () => {
  it('takes RFC 3339 with Z or an offset, and answers the same instant in UTC', () => {
    expect(checkScheduledAt('2026-03-29T09:30:00Z', NOW)).toEqual({
      ok: true,
      atMs: Date.parse('2026-03-29T09:30:00Z'),
      iso: '2026-03-29T09:30:00.000Z',
    });
    expect(checkScheduledAt('2026-03-29T11:30:00+02:00', NOW)).toMatchObject({ iso: '2026-03-29T09:30:00.000Z' });
    expect(checkScheduledAt('2026-03-29T04:00:00-05:30', NOW)).toMatchObject({ iso: '2026-03-29T09:30:00.000Z' });
    expect(checkScheduledAt('2026-03-29t09:30:00.25z', NOW)).toMatchObject({ iso: '2026-03-29T09:30:00.250Z' });
  });

  it('refuses a time without an offset, or that is not a real date-time', () => {
    for (const v of [
      '2026-03-29T09:30:00',
      '2026-03-29',
      '2026-03-29 09:30',
      '2026-02-30T09:30:00Z',
      '2026-03-29T24:00:00Z',
      '2026-03-29T09:60:00Z',
      '2026-03-29T09:30:00+2:00',
      'tomorrow',
      '',
    ]) {
      const r = checkScheduledAt(v, NOW);
      expect(r.ok, v).toBe(false);
      expect(r.ok ? '' : r.message, v).toMatch(/RFC 3339 date-time with an offset/);
    }
  });

  it('is at least now and at most 30 days ahead', () => {
    expect(checkScheduledAt('2026-03-28T12:00:00Z', NOW).ok).toBe(true);
    expect(checkScheduledAt('2026-03-28T11:59:59.999Z', NOW)).toEqual({
      ok: false,
      message: 'scheduledAt is in the past',
    });
    expect(checkScheduledAt('2026-04-27T12:00:00Z', NOW).ok).toBe(true);
    expect(checkScheduledAt('2026-04-27T12:00:00.001Z', NOW)).toEqual({
      ok: false,
      message: 'scheduledAt is at most 30 days ahead',
    });
  });

  it('is DST-free: across a daylight-saving change the offset alone decides the instant', () => {
    // Europe changes clocks at 01:00 UTC on 2026-03-29: local 03:30+02:00 and 01:30+01:00 are one hour apart in UTC.
    const ms = (v: string) => parseRfc3339(v) ?? Number.NaN;
    const before = ms('2026-03-29T01:30:00+01:00');
    const after = ms('2026-03-29T03:30:00+02:00');
    expect(after - before).toBe(3_600_000);
    expect(new Date(after).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // A whole day later by the clock is always 86 400 s in UTC: no local time rules are applied.
    expect(ms('2026-03-30T00:00:00Z') - ms('2026-03-29T00:00:00Z')).toBe(86_400_000);
  });
});

describe('placement', () => {
  it('waits on the queue up to 15 minutes ahead (rounded up), on a schedule beyond', () => {
    expect(placementOf(NOW, NOW)).toEqual({ via: 'queue', delaySeconds: 0 });
    expect(placementOf(NOW + 1500, NOW)).toEqual({ via: 'queue', delaySeconds: 2 });
    expect(placementOf(NOW + MAX_QUEUE_DELAY_SECONDS * 1000, NOW)).toEqual({ via: 'queue', delaySeconds: 900 });
    expect(placementOf(NOW + MAX_QUEUE_DELAY_SECONDS * 1000 + 1, NOW)).toEqual({
      via: 'scheduler',
      expression: 'at(2026-03-28T12:15:01)',
    });
  });

  it("writes Scheduler's at() in UTC, whole seconds, never early", () => {
    expect(atExpression(Date.parse('2026-12-01T09:00:00.000Z'))).toBe('at(2026-12-01T09:00:00)');
    expect(atExpression(Date.parse('2026-12-01T09:00:00.001Z'))).toBe('at(2026-12-01T09:00:01)');
  });

  it('names one schedule per message within the 64 characters Scheduler allows', () => {
    expect(scheduleNameOf('5d0e6c6e-2a8b-4a53-9a0c-0c5a5e6f8f11')).toBe('m-5d0e6c6e-2a8b-4a53-9a0c-0c5a5e6f8f11');
    expect(scheduleNameOf('x'.repeat(64))).toHaveLength(64);
  });

  it('reads a firing back from its queue message', () => {
    const firing = { v: 1, kind: 'scheduled', id: 'm1', rev: 2, priority: 'bulk' };
    expect(ScheduledFiring.parse(firing)).toEqual(firing);
    expect(ScheduledFiring.safeParse({ ...firing, rev: 0 }).success).toBe(false);
  });
});

describe('a scheduled firing whose claim did not take', () => {
  const lease = 60_000;
  it('waits again when it came before its time', () => {
    const current = { status: 'scheduled' as const, scheduledAt: new Date(NOW + 90_500).toISOString(), scheduleRev: 1 };
    const conflict = claimConflict(current, NOW, lease, { rev: 1 });
    expect(conflict).toEqual({ kind: 'not-due', waitSeconds: 91 });
    expect(planOfConflict(conflict)).toEqual({ kind: 'wait', seconds: 91, reason: 'scheduled later' });
  });

  it('sends nothing when its schedule version was rescheduled since, or the email was canceled', () => {
    const moved = { status: 'scheduled' as const, scheduledAt: new Date(NOW).toISOString(), scheduleRev: 2 };
    expect(claimConflict(moved, NOW, lease, { rev: 1 })).toEqual({ kind: 'superseded' });
    expect(planOfConflict({ kind: 'superseded' })).toEqual({ kind: 'done' });
    expect(claimConflict({ ...moved, status: 'queued' }, NOW, lease, { rev: 1 })).toEqual({ kind: 'superseded' });
    expect(claimConflict({ status: 'canceled', scheduleRev: 1 }, NOW, lease, { rev: 1 })).toEqual({
      kind: 'duplicate',
      status: 'canceled',
    });
  });

  it('an immediate copy of a still scheduled email sends nothing', () => {
    expect(claimConflict({ status: 'scheduled', scheduleRev: 1 }, NOW, lease)).toEqual({ kind: 'superseded' });
  });
});
