/**
 * The reputation guard's use cases, one per side of it:
 *
 * - the dispatcher's gate: which priorities are paused (read once per batch, cached briefly, as the
 *   provider settings are), and the sends of a batch counted per priority (one write per priority);
 * - the SES events side: a hard bounce or complaint counted, then the stream judged over its window
 *   and, when a line is crossed, warned or paused (a conditional write: racing functions apply it once);
 * - the API's side is stream-settings.ts (GET /v1/settings/streams, POST …/{priority}/resume).
 *
 * Each change (warned, cleared, paused, resumed) is an event on the stream's timeline, a log line
 * and a metric with the `priority` dimension; `StreamPaused` drives one alarm per stream.
 */
import { DIMENSIONS, STREAM_METRICS } from '../core/metric-names';
import { defaultPriority, PRIORITIES, type Priority } from '../core/priority';
import type { QueuedEmail } from '../core/queued-email';
import {
  bucketExpiresAt,
  type Counts,
  countedRecipients,
  type GuardSettings,
  hourBucket,
  type Judgement,
  judge,
  windowBuckets,
  windowCounts,
} from '../core/reputation';
import type { WaitPlan } from '../core/send-plan';
import { afterJudgement, type StreamEvent, type StreamRecord } from '../core/stream';
import type { ReputationStore } from '../ports';
import type { AppLogger, AppMetrics } from './observability';

/** The priority of a queued email or record: its own, else the one its category implies. */
export const priorityOf = (e: { readonly priority?: Priority | undefined; readonly category: string }): Priority =>
  e.priority ?? defaultPriority(e.category);

/** A fresh metrics buffer (one EMF record per stream figure, with its `priority` dimension). */
export type MetricsFactory = () => AppMetrics;

/** Publishes one stream figure with the `priority` dimension. */
export function publishStreamMetric(
  make: MetricsFactory,
  priority: Priority,
  name: (typeof STREAM_METRICS)[keyof typeof STREAM_METRICS],
  value: number,
  unit: 'Count' | 'Percent' = 'Count',
): void {
  const m = make();
  m.addDimension(DIMENSIONS.priority, priority);
  m.addMetric(name, unit, value);
  m.publishStoredMetrics();
}

/** Where the counters of a time go, and when they expire. */
function bucketAt(nowMs: number) {
  const bucket = hourBucket(nowMs);
  return { bucket, expiresAt: bucketExpiresAt(bucket) };
}

export type { GuardSettings };

// ---- The dispatcher's gate -------------------------------------------------------------------

export interface StreamGateDeps {
  readonly store: ReputationStore;
  /** How long a read of the streams' states is used. */
  readonly cacheMs: number;
  /** How long a held email waits before it is looked at again. */
  readonly waitSeconds: number;
  readonly now: () => number;
  readonly logger: AppLogger;
}

export interface StreamGate {
  /** The paused priorities (cached for `cacheMs`; on a failed read, the last known, else none). */
  paused(): Promise<ReadonlySet<Priority>>;
  /** The plan of an email held back because its stream is paused. */
  hold(priority: Priority): WaitPlan;
  /** Counts the recipients sent to, per priority: one write per priority with sends. */
  countSends(sends: ReadonlyMap<Priority, number>): Promise<void>;
}

export function streamGate(deps: StreamGateDeps): StreamGate {
  let cached: { at: number; paused: ReadonlySet<Priority> } | undefined;
  return {
    async paused() {
      const nowMs = deps.now();
      if (cached && nowMs - cached.at < deps.cacheMs) return cached.paused;
      try {
        const streams = await deps.store.streams();
        const paused = new Set(PRIORITIES.filter((p) => streams[p].state === 'paused'));
        cached = { at: nowMs, paused };
        return paused;
      } catch (error) {
        // Advice, not the send: a store that cannot be read holds nothing new back.
        deps.logger.warn('could not read the streams; using the last known state', { error });
        return cached?.paused ?? new Set();
      }
    },
    hold: (priority) => ({
      kind: 'wait',
      seconds: deps.waitSeconds,
      reason: `the ${priority} stream is paused by the reputation guard`,
    }),
    async countSends(sends) {
      const { bucket, expiresAt } = bucketAt(deps.now());
      await Promise.all(
        [...sends]
          .filter(([, n]) => n > 0)
          .map(([priority, n]) =>
            deps.store.add(priority, bucket, { sends: n }, expiresAt).catch((error) => {
              deps.logger.warn('could not count sends for the reputation guard', { error, priority });
            }),
          ),
      );
    },
  };
}

/** The guard's side of one dispatch batch. */
export interface GuardedBatch<R> {
  /** The records that may be sent now (those of paused streams left out). */
  readonly sendable: readonly R[];
  /** The wait plan of a record held back (its stream is paused), else undefined. */
  hold(record: R): WaitPlan | undefined;
  /** Told of each email a provider took: its recipients are counted against its priority. */
  sent(email: QueuedEmail): void;
  /** After the batch: the sends counted (one write per priority), held mail in the metrics. */
  end(): Promise<void>;
}

/**
 * Starts the guard's side of a dispatch batch: one (cached) read of the paused streams. Without a
 * gate every record may be sent and nothing is counted.
 */
export async function guardBatch<R extends { readonly email: QueuedEmail }>(
  gate: StreamGate | undefined,
  records: readonly R[],
  metrics: MetricsFactory,
): Promise<GuardedBatch<R>> {
  const paused = gate ? await gate.paused() : new Set<Priority>();
  const sends = new Map<Priority, number>();
  const held = new Map<Priority, number>();
  const isHeld = (r: R) => paused.has(priorityOf(r.email));
  return {
    sendable: paused.size > 0 ? records.filter((r) => !isHeld(r)) : records,
    hold: (r) => {
      if (!gate || !isHeld(r)) return undefined;
      const p = priorityOf(r.email);
      held.set(p, (held.get(p) ?? 0) + 1);
      return gate.hold(p);
    },
    sent: (email) => {
      const p = priorityOf(email);
      sends.set(p, (sends.get(p) ?? 0) + countedRecipients(email));
    },
    end: async () => {
      await gate?.countSends(sends);
      for (const [p, n] of held) {
        publishStreamMetric(metrics, p, STREAM_METRICS.held, n);
        // Repeated while paused mail waits: the stream's alarm stays on.
        publishStreamMetric(metrics, p, STREAM_METRICS.paused, 1);
      }
    },
  };
}

// ---- The SES events side ---------------------------------------------------------------------

export interface StreamGuardDeps {
  readonly store: ReputationStore;
  readonly settings: GuardSettings;
  readonly now: () => number;
  readonly logger: AppLogger;
  /** A fresh metrics buffer per figure. */
  readonly metrics: MetricsFactory;
}

/** The stream's counts over its window (since its resume, if that is later) and their judgement. */
export async function judged(
  deps: Pick<StreamGuardDeps, 'store' | 'settings'>,
  s: StreamRecord,
  nowMs: number,
): Promise<Judgement> {
  const buckets = windowBuckets(nowMs, deps.settings.windowHours, s.countFrom);
  const counts = windowCounts(
    await deps.store.counts(s.priority, buckets),
    nowMs,
    deps.settings.windowHours,
    s.countFrom,
  );
  return judge(counts, deps.settings);
}

export function announce(deps: StreamGuardDeps, priority: Priority, e: StreamEvent): void {
  const detail = { priority, ...(e.detail ?? {}) };
  switch (e.type) {
    case 'paused':
      deps.logger.error(`the ${priority} stream is paused by the reputation guard`, detail);
      publishStreamMetric(deps.metrics, priority, STREAM_METRICS.paused, 1);
      break;
    case 'warned':
      deps.logger.warn(`the ${priority} stream crossed a warn threshold`, detail);
      publishStreamMetric(deps.metrics, priority, STREAM_METRICS.warnings, 1);
      break;
    case 'cleared':
      deps.logger.info(`the ${priority} stream is below its warn thresholds again`, detail);
      break;
    case 'resumed':
      deps.logger.info(`the ${priority} stream is resumed`, detail);
      publishStreamMetric(deps.metrics, priority, STREAM_METRICS.paused, 0);
      publishStreamMetric(deps.metrics, priority, STREAM_METRICS.resumes, 1);
      break;
  }
}

/**
 * Counts hard bounces and complaints of one priority, then judges its stream: warns, pauses or
 * clears as its rates say (each change at most once, however many functions judge at the same time).
 * Returns the change applied, if any.
 */
export async function recordFeedback(
  deps: StreamGuardDeps,
  priority: Priority,
  counts: Pick<Counts, 'bounces' | 'complaints'>,
): Promise<StreamEvent | undefined> {
  if (counts.bounces <= 0 && counts.complaints <= 0) return undefined;
  const nowMs = deps.now();
  const { bucket, expiresAt } = bucketAt(nowMs);
  await deps.store.add(priority, bucket, counts, expiresAt);
  // A conditional write per change: when another function changed the stream first, decide again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const s = (await deps.store.streams())[priority];
    const j = await judged(deps, s, nowMs);
    if (j.judged) {
      if (j.rates.bouncePercent !== null)
        publishStreamMetric(deps.metrics, priority, STREAM_METRICS.bounceRate, j.rates.bouncePercent, 'Percent');
      if (j.rates.complaintPercent !== null)
        publishStreamMetric(deps.metrics, priority, STREAM_METRICS.complaintRate, j.rates.complaintPercent, 'Percent');
    }
    const next = afterJudgement(s, j, new Date(nowMs).toISOString());
    if (!next) return undefined;
    if (await deps.store.saveStream(next, s.version)) {
      const e = next.timeline[next.timeline.length - 1] as StreamEvent;
      announce(deps, priority, e);
      return e;
    }
  }
  deps.logger.warn('the stream changed under every attempt to judge it; the next event judges it again', {
    priority,
  });
  return undefined;
}
