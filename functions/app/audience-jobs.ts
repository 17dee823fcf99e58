/**
 * The audience function's jobs: JSON messages `{ kind, ... }` on the audience jobs queue, each a page
 * of work (a broadcast's fan-out page, a part of a contact import) that checkpoints its progress and
 * queues the next page itself. Each kind has one handler, registered by the wiring; a job of a kind
 * nobody handles fails (and reaches the jobs DLQ and its alarm) rather than vanishing.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger as defaultLogger, metrics as defaultMetrics, publishMetrics, traceInvocation } from './observability';
import { eachRecord } from './sqs-records';
import { type EventBuffer, flushEvents } from './webhook-events';

/** What a job handler gets: the parsed job (it validates its own fields) and the receive count. */
export interface JobContext {
  /** How many times this job's message was received (1 the first time). */
  readonly receiveCount: number;
}

export type JobHandler = (job: Readonly<Record<string, unknown>>, context: JobContext) => Promise<void>;

export interface AudienceJobsDeps {
  /** The handler of each job kind. */
  readonly kinds: Readonly<Record<string, JobHandler>>;
  /** Webhook events of the invocation's state changes (emails a job accepted), published when it ends. */
  readonly events?: EventBuffer;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

/** The body of a job message. */
export const jobBody = (kind: string, fields: Readonly<Record<string, unknown>>): string =>
  JSON.stringify({ ...fields, kind });

export function createAudienceJobsHandler(deps: AudienceJobsDeps) {
  const logger = deps.logger ?? defaultLogger;
  const metrics = deps.metrics ?? defaultMetrics;
  const core = eachRecord(
    async (rec) => {
      let job: unknown;
      try {
        job = JSON.parse(rec.body);
      } catch {
        throw new Error('an audience job that is not JSON');
      }
      if (typeof job !== 'object' || job === null || Array.isArray(job))
        throw new Error('an audience job that is not an object');
      const kind = (job as { kind?: unknown }).kind;
      const handle = typeof kind === 'string' && Object.hasOwn(deps.kinds, kind) ? deps.kinds[kind] : undefined;
      if (!handle) throw new Error(`no handler for audience jobs of kind ${JSON.stringify(kind)}`);
      const receiveCount = Number(rec.attributes?.ApproximateReceiveCount ?? '1') || 1;
      await handle(job as Record<string, unknown>, { receiveCount });
    },
    logger,
    'audience job',
  );
  return middy(core)
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .use(flushEvents(deps.events));
}
