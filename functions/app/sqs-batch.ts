/**
 * The SQS batch adapter of the dispatcher: reads each record, runs the send step for it (at most
 * `concurrency` at once) and carries out the plan it returns, on the queue the record came from:
 *
 * - `done`: acknowledged;
 * - `retry`: reported failed, and made visible again after its delay (visibility change);
 * - `wait`: a delayed copy goes on the record's queue and the record is acknowledged (if the copy
 *   cannot be sent, the record is reported failed and made visible after the delay instead);
 * - `fail` (its record is final, `failed`): moved to the dead-letter queue at once — a copy goes to
 *   the DLQ of the record's queue, then the record is acknowledged — so the DLQ holds it as soon as
 *   its record says `failed` (SQS would move it only once its visibility timeout ends);
 * - an unreadable record, or an error: reported failed (partial batch response), so SQS retries it;
 *   on its last receive it is moved to the DLQ at once, as a `fail` is.
 *
 * A move never loses a message: the copy is sent before the original is acknowledged, and if the
 * copy cannot be sent (or the queue has no DLQ configured) the record is reported failed and SQS
 * moves it after its visibility timeout, as before. A crash between the two leaves a second copy,
 * which SQS moves to the DLQ too; `dlq:redrive` sends such an email at most once (its record decides).
 *
 * Each record's queue is found by its `eventSourceARN`, so several queues (one per priority) feed one
 * dispatcher; each has its own maxReceiveCount and DLQ, and a waiting message goes back on its own queue.
 * Records are independent: one that fails never fails the batch, and no error is swallowed. On the
 * last receive a message that failed before its claim is settled `failed` (never left `queued`
 * while it sits in the DLQ). The settle is tried a few times; one that still fails (or a record a
 * failed write left `sending`) is logged at error level with the message id and counted, and the
 * message is not moved to the DLQ behind an unsettled record: where the dispatcher moves messages
 * itself, a fresh copy goes back on the record's queue for a later receive (and the original is
 * acknowledged), else it stays reported failed for SQS.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { RETRIES_EXHAUSTED } from '../core/dispatch';
import { type MessageEvent, TERMINAL } from '../core/message';
import { METRICS } from '../core/metric-names';
import { QueuedEmail } from '../core/queued-email';
import type { SendPlan } from '../core/send-plan';
import type { MessageStore, SendQueue, VisibilityControl } from '../ports';
import { limiter } from './limiter';
import { type AppLogger, type AppMetrics, maskAddresses } from './observability';
import { retrying } from './retrying';
import { type FiringRead, firingOf } from './scheduling';
import type { Received } from './send-step';

/** What the adapter needs of the queue a record came from. */
export interface QueueRoute {
  /** Where a message that must wait goes back, as a delayed copy. */
  readonly queue: SendQueue;
  /** Sets when a received message becomes visible again. */
  readonly visibility: VisibilityControl;
  /**
   * The queue's dead-letter queue, where a message the dispatcher gives up on is moved at once.
   * @default - none: SQS moves it after its last receive, once its visibility timeout ends
   */
  readonly deadLetter?: SendQueue;
  /**
   * The queue's maxReceiveCount (its redrive policy): the receive on which a failing message is final.
   * @default - the dispatcher's `maxReceiveCount`
   */
  readonly maxReceiveCount?: number;
}

/** The queues that feed the dispatcher, by the `eventSourceARN` of their records. */
export interface QueueRoutes {
  /** The queue of a record's source, or undefined for a source the dispatcher does not know. */
  of(sourceArn: string): QueueRoute | undefined;
}

/** A record the last receive could not settle. */
interface Unsettled {
  readonly messageId: string;
  readonly reason: string;
}

export interface SqsBatchDeps {
  readonly queues: QueueRoutes;
  /** Settles, on its last receive, a message that failed before its claim. */
  readonly messages: Pick<MessageStore, 'settleQueued' | 'get'>;
  readonly maxReceiveCount: number;
  /** Records handled at once (sockets, memory). */
  readonly concurrency: number;
  readonly now: () => number;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
  /**
   * Reads a scheduled firing (scheduling.ts `readFiring`): its body and the key's rights now.
   * @default none: a firing is an unreadable message
   */
  readonly firing?: (firing: NonNullable<ReturnType<typeof firingOf>>) => Promise<FiringRead>;
}

/** One readable record of the batch and the queue it came from. */
export interface ReceivedRecord extends Received {
  readonly record: SQSRecord;
  readonly route: QueueRoute;
}

/** The dispatcher's side of one batch, started with every readable record (for batched look-ups). */
export type BatchWork = (records: readonly ReceivedRecord[]) => Promise<{
  /** Handles one record: the plan for its message. */
  readonly step: (received: ReceivedRecord) => Promise<SendPlan>;
  /** Called once every record is handled, before the plans are carried out (never throws). */
  readonly end: () => Promise<void>;
}>;

type Read =
  | { readonly ok: true; readonly value: ReceivedRecord }
  /** A scheduled firing with nothing to send (its record is final): acknowledged. */
  | { readonly ok: 'settled' }
  | { readonly ok: false; readonly reason: string; readonly route?: QueueRoute | undefined };

const receiveCountOf = (rec: SQSRecord) => Number(rec.attributes.ApproximateReceiveCount ?? '1');

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** When a message whose record could not be settled is received again. */
export const UNSETTLED_REQUEUE_SECONDS = 60;

export function sqsBatch(deps: SqsBatchDeps, work: BatchWork): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const { logger, metrics } = deps;

  async function read(rec: SQSRecord): Promise<Read> {
    const route = deps.queues.of(rec.eventSourceARN);
    if (!route) return { ok: false, reason: `no queue is known for the record's source ${rec.eventSourceARN}` };
    const body = safeJson(rec.body);
    const parsed = QueuedEmail.safeParse(body);
    const firing = parsed.success || !deps.firing ? undefined : firingOf(body);
    let scheduled: Extract<FiringRead, { kind: 'email' }> | undefined;
    if (firing && deps.firing) {
      const r = await deps.firing(firing);
      if (r.kind === 'settled') return { ok: 'settled' };
      scheduled = r;
    }
    const email = parsed.success ? parsed.data : scheduled?.email;
    if (!email) return { ok: false, reason: 'the queue message is not a queued email', route };
    return {
      ok: true,
      value: {
        email,
        ...(scheduled ? { due: scheduled.due, refused: scheduled.refused } : {}),
        receiveCount: receiveCountOf(rec),
        acceptedAt: Number(rec.attributes.SentTimestamp) || undefined,
        maxReceiveCount: route.maxReceiveCount ?? deps.maxReceiveCount,
        record: rec,
        route,
      },
    };
  }

  /**
   * A settle (or an earlier write) that did not happen on the last receive: never silent. `requeued`:
   * its message goes back on its queue for a later receive, instead of to the dead-letter queue.
   */
  function unsettled(rec: SQSRecord, u: Unsettled, requeued: boolean): void {
    metrics.addMetric(METRICS.settleFailures, 'Count', 1);
    logger.error(
      requeued
        ? 'message record not settled on its last receive; its message is queued again for a later receive'
        : 'message record not settled on its last receive; its message goes to the dead-letter queue',
      { messageId: u.messageId, sqsMessageId: rec.messageId, reason: maskAddresses(u.reason) },
    );
  }

  /**
   * An error on the last receive (before the claim, e.g. the signing keys could not be read): SQS
   * moves the message to the DLQ, so its record ends `failed` with the reason, never left
   * `queued`. A record left non-final, or a settle that fails, is logged and counted.
   */
  const isLastReceive = (rec: SQSRecord) =>
    receiveCountOf(rec) >= (deps.queues.of(rec.eventSourceARN)?.maxReceiveCount ?? deps.maxReceiveCount);

  /** Settles the record on the last receive; what could not be settled, or undefined. */
  async function failOnLastReceive(rec: SQSRecord, error: unknown): Promise<Unsettled | undefined> {
    if (!isLastReceive(rec)) return undefined;
    const body = safeJson(rec.body);
    const parsed = QueuedEmail.safeParse(body);
    const firing = parsed.success ? undefined : firingOf(body);
    const id = parsed.success ? parsed.data.id : firing?.id;
    if (id === undefined) return undefined;
    // A scheduled firing settles its record only if it is due at that version.
    const due = firing ? { rev: firing.rev, nowMs: deps.now() } : undefined;
    const reason = `${RETRIES_EXHAUSTED}: ${errorMessage(error)}`.slice(0, 500);
    const event: MessageEvent = { type: 'failed', at: new Date(deps.now()).toISOString(), detail: { reason } };
    try {
      if (await retrying(() => deps.messages.settleQueued(id, { status: 'failed', reason, event }, due))) {
        metrics.addMetric(METRICS.failed, 'Count', 1);
        return undefined;
      }
      // Not queued: final already, or left `sending` by a write that failed after the claim.
      const current = await retrying(() => deps.messages.get(id));
      if (current && !TERMINAL.has(current.status))
        return { messageId: id, reason: `left ${current.status}: ${reason}` };
      return undefined;
    } catch (e) {
      return { messageId: id, reason: `${errorMessage(e)} (after: ${reason})` };
    }
  }

  return async (event) => {
    const failed = new Set<string>();
    type Delayed = { rec: SQSRecord; seconds: number; messageId?: string };
    type Dead = { rec: SQSRecord; messageId?: string | undefined };
    type OnRoute = { waits: Delayed[]; delays: Delayed[]; dead: Dead[]; unsettled: Delayed[] };
    const byRoute = new Map<QueueRoute, OnRoute>();
    const onRoute = (route: QueueRoute) => {
      let r = byRoute.get(route);
      if (!r) {
        r = { waits: [], delays: [], dead: [], unsettled: [] };
        byRoute.set(route, r);
      }
      return r;
    };
    /** Reported failed, and moved to the route's DLQ below (if it has one). */
    const toDeadLetter = (route: QueueRoute | undefined, rec: SQSRecord, messageId?: string) => {
      failed.add(rec.messageId);
      if (route?.deadLetter) onRoute(route).dead.push({ rec, messageId });
    };

    /**
     * After an error on the last receive: a settled message moves to the DLQ; an unsettled one goes
     * back on its queue (when the dispatcher moves messages itself) or stays reported failed.
     */
    async function afterError(rec: SQSRecord, error: unknown, route: QueueRoute | undefined, messageId?: string) {
      const u = await failOnLastReceive(rec, error);
      if (!isLastReceive(rec)) return;
      if (!u) return toDeadLetter(route, rec, messageId);
      const requeue = route?.deadLetter !== undefined;
      unsettled(rec, u, requeue);
      if (requeue && route)
        onRoute(route).unsettled.push({ rec, seconds: UNSETTLED_REQUEUE_SECONDS, messageId: u.messageId });
    }

    const fail = (rec: SQSRecord, reason: string, details: Record<string, unknown> = {}) => {
      failed.add(rec.messageId);
      logger.error('message failed', { reason: maskAddresses(reason), sqsMessageId: rec.messageId, ...details });
    };

    const readable: ReceivedRecord[] = [];
    const unreadable: { rec: SQSRecord; reason: string; route?: QueueRoute | undefined }[] = [];
    const reads = await Promise.all(
      event.Records.map((rec) =>
        read(rec).catch(
          (e): Read => ({ ok: false, reason: errorMessage(e), route: deps.queues.of(rec.eventSourceARN) }),
        ),
      ),
    );
    event.Records.forEach((rec, i) => {
      const r = reads[i] as Read;
      if (r.ok === 'settled') return;
      if (r.ok) readable.push(r.value);
      else unreadable.push({ rec, reason: r.reason, route: r.route });
    });
    for (const { rec, reason, route } of unreadable) {
      fail(rec, reason);
      await afterError(rec, new Error(reason), route);
    }

    if (readable.length > 0) {
      const { step, end } = await work(readable);
      const slots = limiter(deps.concurrency);
      await Promise.all(
        readable.map(async (received) => {
          const rec = received.record;
          let plan: SendPlan;
          try {
            plan = await slots(() => step(received));
          } catch (e) {
            fail(rec, errorMessage(e), { messageId: received.email.id });
            await afterError(rec, e, received.route, received.email.id);
            return;
          }
          switch (plan.kind) {
            case 'done':
              return;
            case 'fail':
              fail(rec, plan.reason, { messageId: received.email.id });
              toDeadLetter(received.route, rec, received.email.id);
              return;
            case 'retry':
              failed.add(rec.messageId);
              onRoute(received.route).delays.push({ rec, seconds: plan.seconds });
              return;
            case 'wait':
              // Acknowledged once its delayed copy is on the queue (below).
              onRoute(received.route).waits.push({ rec, seconds: plan.seconds });
              return;
          }
        }),
      );
      await end();
    }

    await Promise.all(
      [...byRoute].map(async ([route, { waits, delays, dead, unsettled: again }]) => {
        if (again.length > 0) {
          // A fresh copy (a fresh receive count) first, then the original is acknowledged; if the
          // copy cannot be sent, the original stays reported failed and SQS moves it later.
          const notSent = new Set(
            await route.queue
              .send(again.map((u) => ({ id: u.rec.messageId, body: u.rec.body, delaySeconds: u.seconds })))
              .catch(() => again.map((u) => u.rec.messageId)),
          );
          for (const u of again) {
            if (notSent.has(u.rec.messageId)) {
              logger.error('could not queue again a message whose record is not settled; SQS moves it to the DLQ', {
                messageId: u.messageId,
                sqsMessageId: u.rec.messageId,
              });
            } else failed.delete(u.rec.messageId);
          }
        }
        if (dead.length > 0 && route.deadLetter) {
          // The copy first, then the original is acknowledged (left out of the failures): never
          // lost. What could not be copied stays reported failed, for SQS to move later.
          const notMoved = new Set(
            await route.deadLetter.send(dead.map((d) => ({ id: d.rec.messageId, body: d.rec.body }))).catch((error) => {
              logger.warn('could not move messages to the dead-letter queue; SQS moves them later', { error });
              return dead.map((d) => d.rec.messageId);
            }),
          );
          for (const d of dead) {
            if (notMoved.has(d.rec.messageId)) continue;
            failed.delete(d.rec.messageId);
            logger.info('message moved to the dead-letter queue', {
              sqsMessageId: d.rec.messageId,
              ...(d.messageId ? { messageId: d.messageId } : {}),
            });
          }
        }
        if (waits.length > 0) {
          // A waiting message goes back as a delayed copy (a fresh receive count: waiting is not
          // failing); if the copy cannot be sent, the original stays and becomes visible later.
          const notSent = new Set(
            await route.queue
              .send(waits.map((w) => ({ id: w.rec.messageId, body: w.rec.body, delaySeconds: w.seconds })))
              .catch((error) => {
                logger.warn('could not queue the delayed copies of waiting messages', { error });
                return waits.map((w) => w.rec.messageId);
              }),
          );
          metrics.addMetric(METRICS.waited, 'Count', waits.length - notSent.size);
          for (const w of waits) {
            if (!notSent.has(w.rec.messageId)) continue;
            failed.add(w.rec.messageId);
            delays.push(w);
          }
        }
        if (delays.length > 0) {
          await route.visibility
            .delay(delays.map((d) => ({ receiptHandle: d.rec.receiptHandle, seconds: d.seconds })))
            .catch((error) => logger.warn('could not set back-off', { error }));
        }
      }),
    );
    // In the batch's order; a fresh object per invocation.
    return {
      batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
        itemIdentifier: r.messageId,
      })),
    };
  };
}
