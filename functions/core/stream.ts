/**
 * A priority's stream, as state: `active` or `paused`, whether its rates are over a warn line, where
 * its counting starts (after a resume), and its timeline of warn, pause and resume events. The
 * transitions are pure: the store writes the next state with a condition on the version it read, so
 * two functions that decide at once cannot both apply a change.
 */
import type { Priority } from './priority';
import type { CountFrom, Judgement } from './reputation';
import { roundRate } from './reputation';

export type StreamState = 'active' | 'paused';

/** What happened to a stream: each is an event on its timeline, a metric and (paused) an alarm. */
export type StreamEventType = 'warned' | 'cleared' | 'paused' | 'resumed';

export interface StreamEvent {
  readonly type: StreamEventType;
  /** ISO time. */
  readonly at: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface StreamRecord {
  readonly priority: Priority;
  readonly state: StreamState;
  /** Whether its rates were last over a warn line (a `warned` event was emitted, no `cleared` since). */
  readonly warned: boolean;
  /** 0 for a stream never changed (no item stored); each change adds one. */
  readonly version: number;
  /** When the current state began (ISO); absent for a stream never changed. */
  readonly since?: string | undefined;
  /** After a resume: counting starts there. */
  readonly countFrom?: CountFrom | undefined;
  /** The most recent events, oldest first (at most TIMELINE_LIMIT). */
  readonly timeline: readonly StreamEvent[];
}

/** Events kept on a stream's timeline; older ones are dropped. */
export const TIMELINE_LIMIT = 50;

/** A stream nothing has happened to. */
export const initialStream = (priority: Priority): StreamRecord => ({
  priority,
  state: 'active',
  warned: false,
  version: 0,
  timeline: [],
});

const appended = (timeline: readonly StreamEvent[], e: StreamEvent) => [...timeline, e].slice(-TIMELINE_LIMIT);

const ratesDetail = (j: Judgement) => ({
  sends: j.counts.sends,
  bounces: j.counts.bounces,
  complaints: j.counts.complaints,
  bounceRatePercent: roundRate(j.rates.bouncePercent),
  complaintRatePercent: roundRate(j.rates.complaintPercent),
  reasons: j.reasons,
});

/**
 * What a judgement does to a stream: pause it (the pause line crossed), warn (a warn line crossed
 * and not warned yet), clear a warning (judged below every line again), or nothing (undefined). A
 * paused stream stays paused until it is resumed: no judgement changes it.
 */
export function afterJudgement(s: StreamRecord, j: Judgement, atIso: string): StreamRecord | undefined {
  if (s.state === 'paused') return undefined;
  if (j.level === 'pause') {
    const e: StreamEvent = { type: 'paused', at: atIso, detail: ratesDetail(j) };
    return {
      ...s,
      state: 'paused',
      warned: true,
      version: s.version + 1,
      since: atIso,
      timeline: appended(s.timeline, e),
    };
  }
  if (j.level === 'warn' && !s.warned) {
    const e: StreamEvent = { type: 'warned', at: atIso, detail: ratesDetail(j) };
    return { ...s, warned: true, version: s.version + 1, timeline: appended(s.timeline, e) };
  }
  if (j.level === 'ok' && j.judged && s.warned) {
    const e: StreamEvent = { type: 'cleared', at: atIso, detail: ratesDetail(j) };
    return { ...s, warned: false, version: s.version + 1, timeline: appended(s.timeline, e) };
  }
  return undefined;
}

/**
 * Resumes a paused stream (undefined if it is not paused): active again, no warning, and counting
 * starts afresh from `from`, so the mail that paused it is not held against it again.
 */
export function resumed(
  s: StreamRecord,
  atIso: string,
  from: CountFrom,
  by: string | undefined,
): StreamRecord | undefined {
  if (s.state !== 'paused') return undefined;
  const e: StreamEvent = { type: 'resumed', at: atIso, ...(by ? { detail: { by } } : {}) };
  return {
    ...s,
    state: 'active',
    warned: false,
    version: s.version + 1,
    since: atIso,
    countFrom: from,
    timeline: appended(s.timeline, e),
  };
}
