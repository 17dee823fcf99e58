/**
 * The dispatcher: for one SQS batch, one suppression look-up for every recipient, then per
 * message a conditional claim, the provider call and the recorded result. Records are independent:
 * failures are reported per message (partial batch response), never swallowed.
 */
import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { normaliseAddress } from '../core/address';
import { type Action, claimConflict, claimLeaseMs, decide, RETRIES_EXHAUSTED } from '../core/dispatch';
import { rewriteHtml } from '../core/html-tracking';
import type { MessageEvent } from '../core/message';
import { TRANSACTIONAL } from '../core/message';
import { METRICS } from '../core/metric-names';
import { addressOf, QueuedEmail } from '../core/queued-email';
import { sign } from '../core/signing';
import { isSuppressed, scopesFor } from '../core/suppression';
import type {
  EmailProvider,
  MessageStore,
  SigningKeys,
  SuppressionKey,
  SuppressionStore,
  VisibilityControl,
} from '../store/ports';
import { logger as defaultLogger, metrics as defaultMetrics, publishMetrics } from './observability';

export interface DispatchDeps {
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  readonly provider: EmailProvider;
  readonly visibility: VisibilityControl;
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
    acceptedAt: number | undefined,
    sentDetail: Record<string, unknown>,
  ): Promise<void> {
    const provider = deps.provider.id;
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
          event: event('rejected', { provider, reason: action.reason }),
        });
        metrics.addMetric(METRICS.rejected, 'Count', 1);
        return;
      case 'failed':
      case 'ambiguous':
        await deps.messages.finish(id, token, {
          status: 'failed',
          provider,
          reason: action.kind === 'ambiguous' ? `ambiguous: ${action.reason}` : action.reason,
          event: event(action.kind, { provider, reason: action.reason }),
        });
        metrics.addMetric(action.kind === 'ambiguous' ? METRICS.ambiguous : METRICS.failed, 'Count', 1);
        if (action.kind === 'failed') throw new Error(action.reason); // to the DLQ, record already final
        return;
      case 'retry':
        await deps.messages.release(id, token, event('retry', { provider, reason: action.reason }));
        metrics.addMetric(METRICS.retried, 'Count', 1);
        throw new RetryLater(action.delaySeconds, action.reason);
    }
  }

  async function dispatchOne(rec: SQSRecord, suppressed: ReadonlySet<string>): Promise<void> {
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

    const token = randomUUID();
    const claim = await deps.messages.claim(email.id, token, now());
    if (!claim.ok) return resolveConflict(email.id, claim.current);

    if (dropped.length > 0) metrics.addMetric(METRICS.suppressed, 'Count', dropped.length);
    const outcome = await deps.provider.send(outbound);
    const action = decide(outcome, receiveCount, deps.maxReceiveCount, random);
    await record(action, email.id, token, acceptedAt, dropped.length > 0 ? { suppressedRecipients: dropped } : {});
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

    const delays: { receiptHandle: string; seconds: number }[] = [];
    const handleRecord = async (rec: SQSRecord) => {
      try {
        await dispatchOne(rec, suppressed);
      } catch (e) {
        if (e instanceof RetryLater) delays.push({ receiptHandle: rec.receiptHandle, seconds: e.seconds });
        else {
          logger.error('message failed', { error: e as Error, sqsMessageId: rec.messageId });
          await failOnLastReceive(rec, e);
        }
        throw e;
      }
    };
    // A processor per invocation: it keeps the batch's state, and the local stack runs batches concurrently.
    const response = await processPartialResponse(sqsEvent, handleRecord, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
    if (delays.length > 0) {
      await deps.visibility.delay(delays).catch((error) => logger.warn('could not set back-off', { error }));
    }
    return response;
  };

  return middy(core)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics));
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
