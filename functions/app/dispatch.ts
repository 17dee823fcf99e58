/**
 * The dispatcher (DESIGN §1, §3), composed: for one SQS batch, one suppression look-up for every
 * recipient and the routing of the provider chain, then per message the send step (send-step.ts:
 * claim → provider chain → record), whose plan the SQS batch adapter (sqs-batch.ts) carries out on
 * the queue the message came from. After the batch: provider health written, per-provider
 * metrics, circuit changes logged.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { METRICS } from '../core/metric-names';
import { defaultPriority } from '../core/priority';
import type { QueuedEmail } from '../core/queued-email';
import { suppressionKeys } from '../core/recipients';
import type { ContentStore, CooldownStore, MessageStore, SuppressionStore } from '../ports';
import type { BatchRouting } from './batch-routing';
import { createCooldownStep } from './cooldown-step';
import {
  logger as defaultLogger,
  metrics as defaultMetrics,
  maskAddresses,
  newMetrics,
  publishMetrics,
  publishProviderMetrics,
  traceInvocation,
  tracer,
} from './observability';
import { type OutboundDeps, outboundPreparer } from './outbound';
import type { ProviderChain } from './provider-chain';
import { type FiringDeps, readFiring } from './scheduling';
import { createSendStep } from './send-step';
import { type QueueRoutes, sqsBatch } from './sqs-batch';
import { withStoredParts } from './stored-parts';
import { guardBatch, type StreamGate } from './streams';
import { type EventBuffer, flushEvents } from './webhook-events';

export type { QueueRoute, QueueRoutes } from './sqs-batch';

export interface DispatchDeps extends OutboundDeps {
  /** Webhook events of this invocation's state changes, published when it ends. @default - none */
  readonly events?: EventBuffer;
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  /**
   * Emails with a `cooldown`: one conditional write per recipient once claimed (cooldown-step.ts).
   * @default - none: cooldowns are not checked
   */
  readonly cooldowns?: CooldownStore;
  /** The providers in their live order, with health and rate windows. */
  readonly chain: ProviderChain;
  /**
   * The queues that feed this dispatcher, by their ARN: a message that must wait goes back on the
   * queue it came from, with a delay; a retry changes its visibility there.
   */
  readonly queues: QueueRoutes;
  /** The content store: parts of emails that wait outside the queue (attachments, large bodies). */
  readonly content?: ContentStore;
  readonly maxReceiveCount: number;
  /**
   * The reputation guard: an email of a paused stream waits on its queue (not failed, no receive
   * used up); the recipients of each batch's sends are counted per priority.
   * @default - no guard
   */
  readonly streams?: StreamGate;
  /** The dispatch function's timeout; a claim older than this (plus a margin) is stale. */
  readonly timeoutSeconds: number;
  /**
   * Scheduled sends: where their bodies wait and the keys whose rights are checked again at send
   * time (scheduling.ts). @default - none: a scheduled firing is an unreadable message
   */
  readonly scheduled?: Pick<FiringDeps, 'content' | 'keys'>;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
  /** A fresh metrics buffer per provider record (per-provider dimensions). @default newMetrics */
  readonly providerMetrics?: typeof newMetrics;
}

/**
 * Messages of one batch are sent concurrently, at most this many at a time (sockets, memory): a
 * batch of 100 to a provider answering in 50 ms takes about 50 ms, not 5 s.
 */
export const MAX_CONCURRENT_SENDS = 100;

export function createDispatchHandler(deps: DispatchDeps) {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? defaultLogger;
  const metrics = deps.metrics ?? defaultMetrics;
  const firingDeps: FiringDeps | undefined = deps.scheduled && {
    ...deps.scheduled,
    messages: deps.messages,
    now,
    logger,
  };
  const step = createSendStep({
    messages: deps.messages,
    chain: deps.chain,
    maxReceiveCount: deps.maxReceiveCount,
    timeoutSeconds: deps.timeoutSeconds,
    now,
    random: deps.random ?? Math.random,
    logger,
    metrics,
    ...(deps.cooldowns
      ? { cooldowns: createCooldownStep({ cooldowns: deps.cooldowns, messages: deps.messages, now, logger, metrics }) }
      : {}),
  });

  /** After the batch: health written (never fails the batch), per-provider metrics, circuit changes. */
  async function endBatch(routing: BatchRouting): Promise<void> {
    await routing.flush().catch((error) => logger.warn('could not record provider health', { error }));
    const view = await deps.chain.current().catch(() => undefined);
    for (const c of view?.entries ?? []) {
      const open = deps.chain.healthOf(c.id).state !== 'closed';
      publishProviderMetrics(deps.providerMetrics ?? newMetrics, c.id, routing.stats.get(c.id), open);
    }
    for (const c of routing.circuitChanges) {
      if (c.state === 'open') {
        metrics.addMetric(METRICS.circuitOpened, 'Count', 1);
        logger.warn('provider circuit opened', { provider: c.id, reason: maskAddresses(c.reason ?? '') });
      } else logger.info(`provider circuit ${c.state}`, { provider: c.id });
    }
  }

  const handleBatch = sqsBatch(
    {
      queues: deps.queues,
      messages: deps.messages,
      maxReceiveCount: deps.maxReceiveCount,
      concurrency: MAX_CONCURRENT_SENDS,
      ...(firingDeps ? { firing: (f) => readFiring(firingDeps, f) } : {}),
      now,
      logger,
      metrics,
    },
    async (all) => {
      // The reputation guard: mail of a paused stream waits; the rest goes on (one cached read per batch).
      const guard = await guardBatch(deps.streams, all, deps.providerMetrics ?? newMetrics);
      const records = guard.sendable;
      // One suppression look-up for every recipient of the batch, in every scope that can stop it.
      const keys = suppressionKeys(records.map((r) => r.email));
      const suppressed = keys.length > 0 ? await deps.suppression.suppressedAmong(keys) : new Set<string>();
      const priorityOf = (e: QueuedEmail) => e.priority ?? defaultPriority(e.category);
      const bulk = records.filter((r) => priorityOf(r.email) === 'bulk').length;
      const batch = {
        suppressed,
        routing: deps.chain.batch(records.length, bulk),
        prepare: deps.content
          ? withStoredParts(outboundPreparer(deps, now), deps.content)
          : outboundPreparer(deps, now),
        sent: guard.sent,
      };
      return {
        step: async (received) =>
          guard.hold(received) ?? step(received, batch).finally(() => batch.routing.done(priorityOf(received.email))),
        end: () => endBatch(batch.routing).then(guard.end),
      };
    },
  );

  const core = (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => handleBatch(event);

  return middy(core)
    .use(traceInvocation(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .use(flushEvents(deps.events));
}
