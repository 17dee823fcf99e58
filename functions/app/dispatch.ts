/**
 * The dispatcher: for one SQS batch, one suppression look-up for every recipient, then per
 * message a conditional claim and the provider chain (DESIGN §3): each provider in the live order
 * that is enabled, not behind an open circuit and has room in its rate windows is tried until one
 * takes the message; throttled, down and broken providers fail over to the next. Records are
 * independent: failures are reported per message (partial batch response), never swallowed.
 *
 * When no provider can take a message now (all full, open or slowing us down) the message waits:
 * it goes back on the queue with a delay until the first one has room, without using up one of its
 * receives. Only real failures (every provider tried failed) count towards the DLQ.
 */
import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { normaliseAddress } from '../core/address';
import {
  type Action,
  backoffSeconds,
  claimConflict,
  claimLeaseMs,
  decide,
  RETRIES_EXHAUSTED,
  type SendOutcome,
} from '../core/dispatch';
import { rewriteHtml } from '../core/html-tracking';
import type { MessageEvent } from '../core/message';
import { TRANSACTIONAL } from '../core/message';
import { METRICS } from '../core/metric-names';
import { addressOf, QueuedEmail } from '../core/queued-email';
import { sign } from '../core/signing';
import { isSuppressed, scopesFor } from '../core/suppression';
import type {
  MessageStore,
  SendQueue,
  SigningKeys,
  SuppressionKey,
  SuppressionStore,
  VisibilityControl,
} from '../ports';
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
import type { BatchRouting, Candidate, ProviderChain } from './provider-chain';

export interface DispatchDeps {
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  /** The providers in their live order, with health and rate windows. */
  readonly chain: ProviderChain;
  readonly visibility: VisibilityControl;
  /** The send queue: a message that must wait for capacity goes back on it with a delay. */
  readonly queue: SendQueue;
  /** Signs the links written into emails: one-click unsubscribe (RFC 8058), click tracking, open pixel. */
  readonly links: { readonly baseUrl: string; readonly keys: SigningKeys };
  /** Whether HTML mail is tracked when its request did not say. */
  readonly trackDefaults: { readonly opens: boolean; readonly clicks: boolean };
  readonly maxReceiveCount: number;
  /** The dispatch function's timeout; a claim older than this (plus a margin) is stale. */
  readonly timeoutSeconds: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
  /** A fresh metrics buffer per provider record (per-provider dimensions). @default newMetrics */
  readonly providerMetrics?: typeof newMetrics;
}

/** A retry the record handler asks for: the message becomes visible again after `seconds`. */
class RetryLater extends Error {
  constructor(
    readonly seconds: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/** No provider can take the message now: it goes back on the queue after `seconds`, not counted as a failure. */
class WaitForCapacity extends Error {
  constructor(
    readonly seconds: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'WaitForCapacity';
  }
}

/**
 * Messages of one batch are sent concurrently, at most this many at a time (sockets, memory): a
 * batch of 100 to a provider answering in 50 ms takes about 50 ms, not 5 s.
 */
export const MAX_CONCURRENT_SENDS = 100;

/** SQS delivery delays are at most 15 minutes; a longer wait is taken in steps. */
export const MAX_WAIT_SECONDS = 900;

const keyOf = (formatted: string) => normaliseAddress(addressOf(formatted)) ?? addressOf(formatted).toLowerCase();

export function createDispatchHandler(deps: DispatchDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const logger = deps.logger ?? defaultLogger;
  const metrics = deps.metrics ?? defaultMetrics;
  const leaseMs = claimLeaseMs(deps.timeoutSeconds);
  const event = (type: string, detail?: Record<string, unknown>): MessageEvent => ({
    type,
    at: new Date(now()).toISOString(),
    ...(detail ? { detail } : {}),
  });

  async function record(
    action: Action,
    id: string,
    token: string,
    provider: string,
    acceptedAt: number | undefined,
    sentDetail: Record<string, unknown>,
    /** Kept on a retry: the message may go through this provider only. */
    pin?: string,
  ): Promise<void> {
    const reason = 'reason' in action ? maskAddresses(action.reason) : undefined;
    // One line per message result; successes only at DEBUG (log volume is paid per byte).
    if (action.kind === 'sent') logger.debug('message sent', { messageId: id, provider });
    else logger.warn(`message ${action.kind}`, { messageId: id, provider, reason });
    switch (action.kind) {
      case 'sent':
        await deps.messages.finish(id, token, {
          status: 'sent',
          provider,
          providerMessageId: action.providerMessageId,
          event: event('sent', { provider, providerMessageId: action.providerMessageId, ...sentDetail }),
        });
        metrics.addMetric(METRICS.sent, 'Count', 1);
        if (acceptedAt) metrics.addMetric(METRICS.acceptToSendMs, 'Milliseconds', now() - acceptedAt);
        return;
      case 'rejected':
        await deps.messages.finish(id, token, {
          status: 'rejected',
          provider,
          reason: action.reason,
          event: event('rejected', { provider, reason: action.reason, ...sentDetail }),
        });
        metrics.addMetric(METRICS.rejected, 'Count', 1);
        return;
      case 'failed':
      case 'ambiguous':
        await deps.messages.finish(id, token, {
          status: 'failed',
          provider,
          reason: action.kind === 'ambiguous' ? `ambiguous: ${action.reason}` : action.reason,
          event: event(action.kind, { provider, reason: action.reason, ...sentDetail }),
        });
        metrics.addMetric(action.kind === 'ambiguous' ? METRICS.ambiguous : METRICS.failed, 'Count', 1);
        if (action.kind === 'failed') throw new Error(action.reason); // to the DLQ, record already final
        return;
      case 'retry': {
        const released = await deps.messages.release(
          id,
          token,
          event('retry', { provider, reason: action.reason, ...sentDetail }),
          pin,
        );
        if (released) metrics.addMetric(METRICS.retried, 'Count', 1);
        throw new RetryLater(action.delaySeconds, action.reason);
      }
    }
  }

  async function dispatchOne(rec: SQSRecord, suppressed: ReadonlySet<string>, routing: BatchRouting): Promise<void> {
    const email = QueuedEmail.parse(JSON.parse(rec.body));
    const receiveCount = Number(rec.attributes.ApproximateReceiveCount ?? '1');
    const acceptedAt = Number(rec.attributes.SentTimestamp) || undefined;

    const blocked = (m: string) => isSuppressed(suppressed, keyOf(m), email.category);
    const keep = (list: string[]) => list.filter((m) => !blocked(m));
    const dropped = [...email.to, ...email.cc, ...email.bcc].filter(blocked).map(addressOf);
    const to = keep(email.to);
    const cc = keep(email.cc);
    const bcc = keep(email.bcc);

    if (to.length + cc.length + bcc.length === 0) {
      const settled = await deps.messages.settleQueued(email.id, {
        status: 'suppressed',
        reason: 'every recipient is suppressed',
        event: event('suppressed', { recipients: dropped }),
      });
      if (settled) metrics.addMetric(METRICS.suppressed, 'Count', 1);
      else await resolveConflict(email.id);
      return;
    }

    const view = await deps.chain.current();
    // Nothing is spent (no claim, no capacity) when no provider could take the message now.
    const usable = view.entries.filter((c) => routing.mightUse(c));
    if (usable.length === 0) throw waitFor(view.entries, routing);

    // Prepared before the claim: a failure here (e.g. reading the signing keys) leaves the message
    // queued for a plain retry, where a failure after the claim would look like an ambiguous send.
    const outbound = {
      ...email,
      to,
      cc,
      bcc,
      headers: await withUnsubscribe(email),
      ...(email.html !== undefined ? { html: await tracked(email, email.html) } : {}),
    };

    const detail: Record<string, unknown> = dropped.length > 0 ? { suppressedRecipients: dropped } : {};
    const failures: { provider: string; outcome: Extract<SendOutcome, { kind: 'throttled' | 'down' | 'broken' }> }[] =
      [];
    // The claim is taken once a provider has room, so a message that must wait costs no write.
    let token: string | undefined;
    let pin: string | undefined;
    let candidates: readonly Candidate[] = usable;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i] as Candidate;
      const pick = await routing.pick(c);
      if (!pick.ok) continue;
      if (token === undefined) {
        const t = randomUUID();
        const claim = await deps.messages.claim(email.id, t, now());
        if (!claim.ok) {
          routing.unpick(c, pick);
          return resolveConflict(email.id, claim.current);
        }
        token = t;
        if (dropped.length > 0) metrics.addMetric(METRICS.suppressed, 'Count', dropped.length);
        if (claim.pin) {
          // After an ambiguous outcome of an idempotent provider only that provider may be
          // retried: it deduplicates by message id, another provider would not.
          pin = claim.pin;
          const pinned = deps.chain.candidate(pin);
          if (!pinned) {
            return record(
              {
                kind: 'ambiguous',
                reason: `pinned to provider "${pin}", which is no longer configured; not sent elsewhere`,
              },
              email.id,
              token,
              pin,
              acceptedAt,
              detail,
            );
          }
          if (!pinned.enabled) {
            // Never another provider, and not one an operator switched off: wait until it is back.
            routing.unpick(c, pick);
            await deps.messages.release(
              email.id,
              token,
              event('waiting', { reason: `pinned provider "${pin}" is disabled` }),
              pin,
            );
            throw waitFor([pinned], routing);
          }
          if (pinned.id !== c.id) {
            routing.unpick(c, pick);
            candidates = [pinned];
            i = -1;
            continue;
          }
          candidates = [c];
        }
      }
      const outcome = await c.provider.send(outbound);
      routing.note(c, outcome, pick.probe);
      const sentDetail = failures.length > 0 ? { ...detail, failedOver: failures.map(describe) } : detail;
      switch (outcome.kind) {
        case 'accepted':
        case 'rejected':
          return record(
            decide(outcome, receiveCount, deps.maxReceiveCount, random),
            email.id,
            token,
            c.id,
            acceptedAt,
            sentDetail,
          );
        case 'ambiguous':
          return ambiguous(c, outcome.reason, email.id, token, receiveCount, acceptedAt, sentDetail);
        default:
          failures.push({ provider: c.id, outcome });
          if (i < candidates.length - 1) routing.failedOver(c);
          logger.warn('provider did not take the message', {
            messageId: email.id,
            provider: c.id,
            outcome: outcome.kind,
            reason: maskAddresses(outcome.reason),
          });
      }
    }

    if (token === undefined) throw waitFor(candidates, routing);
    const last = failures[failures.length - 1];
    if (!last) {
      // The pinned provider had no room after all: hand the claim back and wait.
      await deps.messages.release(email.id, token, event('waiting', { reason: 'no provider has room now' }), pin);
      throw waitFor(candidates, routing);
    }
    const reason =
      failures.length === 1 ? `${last.provider}: ${last.outcome.reason}` : failures.map(describe).join('; ');
    const action = decide({ ...last.outcome, reason }, receiveCount, deps.maxReceiveCount, random);
    if (action.kind === 'retry') {
      // Retry no sooner than a provider has room again.
      const soonest = Math.min(...candidates.map((c) => routing.untilOf(c))) - now();
      const delaySeconds = Math.min(MAX_WAIT_SECONDS, Math.max(action.delaySeconds, Math.ceil(soonest / 1000)));
      return record({ ...action, delaySeconds }, email.id, token, last.provider, acceptedAt, detail, pin);
    }
    return record(action, email.id, token, last.provider, acceptedAt, detail);
  }

  /**
   * The ambiguous-outcome policy (DESIGN §2.2). An idempotent provider (Azure's operation id, the
   * HTTP provider's Idempotency-Key) deduplicates a retry of the same message, so the message is
   * retried through that provider only (pinned), never another. SES has no such key: the message
   * is never sent again and ends failed as ambiguous. Both are counted and on the timeline.
   */
  async function ambiguous(
    c: Candidate,
    reason: string,
    id: string,
    token: string,
    receiveCount: number,
    acceptedAt: number | undefined,
    detail: Record<string, unknown>,
  ): Promise<void> {
    if (c.provider.idempotent && receiveCount < deps.maxReceiveCount) {
      metrics.addMetric(METRICS.ambiguous, 'Count', 1);
      await deps.messages.release(
        id,
        token,
        event('ambiguous', {
          provider: c.id,
          reason,
          retry: 'same provider (it deduplicates by message id)',
          ...detail,
        }),
        c.id,
      );
      throw new RetryLater(backoffSeconds(receiveCount, random), `ambiguous: ${reason}`);
    }
    const why = c.provider.idempotent ? `${reason} (retries exhausted)` : reason;
    return record({ kind: 'ambiguous', reason: why }, id, token, c.id, acceptedAt, detail);
  }

  /** The wait until the first of `candidates` has room (at least a second, at most SQS's longest delay). */
  function waitFor(candidates: readonly Candidate[], routing: BatchRouting): WaitForCapacity {
    const enabled = candidates.filter((c) => c.enabled);
    const soonest = enabled.length > 0 ? Math.min(...enabled.map((c) => routing.untilOf(c))) : now() + 30_000;
    const seconds = Math.min(MAX_WAIT_SECONDS, Math.max(1, Math.ceil((soonest - now()) / 1000)));
    return new WaitForCapacity(
      seconds,
      enabled.length > 0 ? 'every provider is full, open or slowing us down' : 'no provider is enabled',
    );
  }

  /**
   * An error before the claim (e.g. the signing keys could not be read) leaves the message queued
   * for SQS to retry; on its last receive SQS moves it to the DLQ, so its record ends `failed` with
   * the reason and is never left `queued`.
   */
  async function failOnLastReceive(rec: SQSRecord, error: unknown): Promise<void> {
    const receiveCount = Number(rec.attributes.ApproximateReceiveCount ?? '1');
    const parsed = QueuedEmail.safeParse(safeJson(rec.body));
    if (receiveCount < deps.maxReceiveCount || !parsed.success) return;
    const reason = `${RETRIES_EXHAUSTED}: ${(error as Error)?.message ?? String(error)}`.slice(0, 500);
    const settled = await deps.messages
      .settleQueued(parsed.data.id, { status: 'failed', reason, event: event('failed', { reason }) })
      .catch(() => false);
    if (settled) metrics.addMetric(METRICS.failed, 'Count', 1);
  }

  /** Non-transactional mail (one recipient, enforced by the API) gets a signed one-click unsubscribe link. */
  async function withUnsubscribe(email: QueuedEmail): Promise<Record<string, string>> {
    const recipient = email.to[0];
    if (email.category === TRANSACTIONAL || !recipient) return email.headers;
    const token = sign({ a: keyOf(recipient), c: email.category, m: email.id }, await deps.links.keys.keyring());
    return {
      ...email.headers,
      'List-Unsubscribe': `<${deps.links.baseUrl}/u/${token}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }

  /**
   * The HTML with signed click-tracking links and an open pixel, as the message and the deployment
   * ask. The tokens carry the send time, which the machine-event rules compare hits against.
   */
  async function tracked(email: QueuedEmail, html: string): Promise<string> {
    const opens = email.track?.opens ?? deps.trackDefaults.opens;
    const clicks = email.track?.clicks ?? deps.trackDefaults.clicks;
    if (!opens && !clicks) return html;
    const ring = await deps.links.keys.keyring();
    const base = deps.links.baseUrl;
    const s = Math.floor(now() / 1000);
    return rewriteHtml(html, {
      ...(opens ? { pixelUrl: `${base}/o/${sign({ k: 'o', m: email.id, s }, ring)}` } : {}),
      ...(clicks
        ? {
            // mailroute's own links (unsubscribe, already tracked) stay as they are.
            clickUrl: (i: number, u: string) =>
              u.startsWith(`${base}/`) ? undefined : `${base}/c/${sign({ k: 'c', m: email.id, i, u, s }, ring)}`,
          }
        : {}),
    }).html;
  }

  /** The claim did not take: decide from the record's current state (DESIGN §2.2). */
  async function resolveConflict(id: string, known?: Parameters<typeof claimConflict>[0]): Promise<void> {
    const current = known ?? (await deps.messages.get(id));
    const conflict = claimConflict(current, now(), leaseMs);
    switch (conflict.kind) {
      case 'duplicate':
        metrics.addMetric(METRICS.duplicateDelivery, 'Count', 1);
        logger.info('duplicate delivery acknowledged', { messageId: id, status: conflict.status });
        return;
      case 'missing':
        logger.warn('no record for queued message; it was never accepted, dropping it', { messageId: id });
        return;
      case 'in-flight':
        throw new RetryLater(conflict.retryInSeconds, 'another dispatcher holds the claim');
      case 'stale': {
        // A dispatcher stopped between claim and result: SES may have sent it. Policy: never send
        // again; end `failed` as ambiguous, visible on the message and counted.
        const reason = 'ambiguous: the dispatcher stopped during the send; not sent again to avoid a duplicate';
        await deps.messages.failStale(id, current?.claimedAt, {
          status: 'failed',
          reason,
          event: event('ambiguous', { reason }),
        });
        metrics.addMetric(METRICS.ambiguous, 'Count', 1);
        return;
      }
    }
  }

  const core = async (sqsEvent: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // One suppression look-up for every recipient of the batch, in every scope that can stop it.
    const keys: SuppressionKey[] = [];
    for (const r of sqsEvent.Records) {
      const parsed = QueuedEmail.safeParse(safeJson(r.body));
      if (!parsed.success) continue;
      const { to, cc, bcc, category } = parsed.data;
      for (const m of [...to, ...cc, ...bcc])
        for (const scope of scopesFor(category)) keys.push({ address: keyOf(m), scope });
    }
    const suppressed = keys.length > 0 ? await deps.suppression.suppressedAmong(keys) : new Set<string>();

    const routing = deps.chain.batch(sqsEvent.Records.length);
    const delays: { receiptHandle: string; seconds: number }[] = [];
    const waits: { rec: SQSRecord; seconds: number }[] = [];
    const slots = limiter(MAX_CONCURRENT_SENDS);
    const handleRecord = async (rec: SQSRecord) => {
      try {
        await slots(() => dispatchOne(rec, suppressed, routing));
      } catch (e) {
        if (e instanceof WaitForCapacity) {
          waits.push({ rec, seconds: e.seconds });
          return; // acknowledged once its delayed copy is on the queue (below)
        }
        if (e instanceof RetryLater) delays.push({ receiptHandle: rec.receiptHandle, seconds: e.seconds });
        else {
          const message = e instanceof Error ? e.message : String(e);
          logger.error('message failed', { reason: maskAddresses(message), sqsMessageId: rec.messageId });
          await failOnLastReceive(rec, e);
        }
        throw e;
      } finally {
        routing.done();
      }
    };
    // A processor per invocation: it keeps the batch's state, and the local stack runs batches concurrently.
    const processed = await processPartialResponse(sqsEvent, handleRecord, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
    // A copy: for a batch without failures Powertools returns one shared object.
    const response: SQSBatchResponse = { batchItemFailures: [...processed.batchItemFailures] };
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
    if (waits.length > 0) {
      // A waiting message goes back as a delayed copy (a fresh receive count: waiting is not
      // failing); if the copy cannot be sent, the original stays and becomes visible later.
      const failed = new Set(
        await deps.queue
          .send(waits.map((w) => ({ id: w.rec.messageId, body: w.rec.body, delaySeconds: w.seconds })))
          .catch(() => waits.map((w) => w.rec.messageId)),
      );
      metrics.addMetric(METRICS.waited, 'Count', waits.length - failed.size);
      for (const w of waits) {
        if (!failed.has(w.rec.messageId)) continue;
        response.batchItemFailures.push({ itemIdentifier: w.rec.messageId });
        delays.push({ receiptHandle: w.rec.receiptHandle, seconds: w.seconds });
      }
    }
    if (delays.length > 0) {
      await deps.visibility.delay(delays).catch((error) => logger.warn('could not set back-off', { error }));
    }
    return response;
  };

  return middy(core)
    .use(traceInvocation(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics));
}

const describe = (f: { provider: string; outcome: { kind: string; reason: string } }): string =>
  `${f.provider} ${f.outcome.kind}: ${f.outcome.reason}`.slice(0, 300);

/** Runs at most `max` of the functions given to it at once. */
function limiter(max: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((r) => queue.push(r));
    running += 1;
    try {
      return await fn();
    } finally {
      running -= 1;
      queue.shift()?.();
    }
  };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
