/**
 * GET /v1/settings/streams and POST /v1/settings/streams/{priority}/resume (admin keys): each
 * priority stream's state, its rates over the guard's window, the thresholds and its timeline; a
 * paused stream resumed with one conditional write (a stream that is not paused: 409 with its state).
 */
import { DomainError } from '../core/errors';
import { PRIORITIES, type Priority } from '../core/priority';
import { type GuardSettings, hourBucket, type Judgement, roundRate, windowBuckets, ZERO } from '../core/reputation';
import type { RouteKey } from '../core/routes';
import { resumed, type StreamEvent, type StreamRecord } from '../core/stream';
import type { ReputationStore } from '../ports';
import type { Caller } from './auth';
import type { RouteMap } from './http';
import { announce, judged, type MetricsFactory, type StreamGuardDeps } from './streams';

/** The stream routes of the ingest function (/v1/settings/streams…). */
export type StreamRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/settings/streams${string}`>;

/** What the API's stream routes need of a deployment. */
export interface StreamApiDeps {
  readonly store: ReputationStore;
  readonly settings: GuardSettings;
  /** How long dispatchers use a read of the streams' states (shown, so a client knows when a resume applies). */
  readonly cacheMs: number;
  /** A fresh metrics buffer per figure. @default newMetrics */
  readonly metrics?: MetricsFactory;
}

export type StreamRoutesDeps = StreamApiDeps & StreamGuardDeps;

function streamView(s: StreamRecord, j: Judgement, settings: GuardSettings, nowMs: number) {
  // After a resume the stream is judged on mail sent since then, until the window has moved past it.
  const since = s.countFrom && windowBuckets(nowMs, settings.windowHours, s.countFrom)[0] === s.countFrom.bucket;
  return {
    priority: s.priority,
    state: s.state,
    since: s.since ?? null,
    warning: s.warned && s.state === 'active',
    rates: {
      windowHours: settings.windowHours,
      countingSince: since ? (s.countFrom?.at ?? null) : null,
      sends: j.counts.sends,
      bounces: j.counts.bounces,
      complaints: j.counts.complaints,
      bounceRatePercent: roundRate(j.rates.bouncePercent),
      complaintRatePercent: roundRate(j.rates.complaintPercent),
      judged: j.judged,
      level: j.level,
    },
    timeline: [...s.timeline].reverse(),
  };
}

/** The guard's settings as the API shows them. */
const thresholdsView = (settings: GuardSettings) => ({
  windowHours: settings.windowHours,
  minVolume: settings.minVolume,
  bounceRatePercent: { warn: settings.bounce.warnPercent, pause: settings.bounce.pausePercent },
  complaintRatePercent: { warn: settings.complaint.warnPercent, pause: settings.complaint.pausePercent },
});

function priorityParam(raw: string | undefined): Priority {
  let value = raw ?? '';
  try {
    value = decodeURIComponent(value);
  } catch {
    // shown as given
  }
  const p = PRIORITIES.find((x) => x === value);
  if (!p) {
    throw new DomainError(
      'not_found',
      `No stream "${value.slice(0, 64)}": the streams are ${PRIORITIES.map((x) => `"${x}"`).join(', ')}.`,
    );
  }
  return p;
}

export function streamRoutes(deps: StreamRoutesDeps): RouteMap<StreamRouteKey> {
  const view = async (s: StreamRecord, nowMs: number) =>
    streamView(s, await judged(deps, s, nowMs), deps.settings, nowMs);
  const document = async (streams: Record<Priority, StreamRecord>, nowMs: number) => ({
    thresholds: thresholdsView(deps.settings),
    streams: await Promise.all(PRIORITIES.map((p) => view(streams[p], nowMs))),
    cacheSeconds: deps.cacheMs / 1000,
  });

  return {
    'GET /v1/settings/streams': {
      auth: 'admin',
      handle: async () => {
        const nowMs = deps.now();
        return { status: 200, body: await document(await deps.store.streams(), nowMs) };
      },
    },

    'POST /v1/settings/streams/{priority}/resume': {
      auth: 'admin',
      handle: async (req) => {
        const priority = priorityParam(req.param('priority'));
        for (let attempt = 0; attempt < 3; attempt++) {
          const nowMs = deps.now();
          const s = (await deps.store.streams())[priority];
          if (s.state !== 'paused') {
            throw new DomainError(
              'conflict',
              `The ${priority} stream is not paused (it is ${s.state}${s.since ? ` since ${s.since}` : ''}); there is nothing to resume.`,
              [{ path: 'state', message: s.state }],
            );
          }
          // Counting starts afresh: what the current hour had counted by now is its baseline.
          const bucket = hourBucket(nowMs);
          const baseline = (await deps.store.counts(priority, [bucket])).get(bucket) ?? ZERO;
          const by = (req.caller as Caller | undefined)?.keyName;
          const at = new Date(nowMs).toISOString();
          const next = resumed(s, at, { bucket, baseline, at }, by) as StreamRecord;
          if (await deps.store.saveStream(next, s.version)) {
            announce(deps, priority, next.timeline[next.timeline.length - 1] as StreamEvent);
            return { status: 200, body: { ...(await view(next, nowMs)), cacheSeconds: deps.cacheMs / 1000 } };
          }
        }
        throw new DomainError('conflict', `The ${priority} stream changed while resuming it; read it and try again.`);
      },
    },
  };
}
