/**
 * The webhooks function (DESIGN §1, §2.8): consumes the events queue and the retries queue. An event
 * fans out to every enabled endpoint subscribed to its type as one delivery per (event, endpoint),
 * whose id is the `webhook-id` header on every attempt; the delivery's exact bytes are stored before
 * the first attempt. A failed attempt is tried again on the retry schedule (core/webhook-retry.ts)
 * through the retries queue: SQS delays a message 15 minutes at most, so a longer wait is a chain of
 * re-delays (the message carries the time it is due). A 410 disables the endpoint at once; too many
 * failures in a row disable it too. Every delivery ends `delivered` or `failed`, never dropped.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { METRICS } from '../core/metric-names';
import { deliveryIdOf, type MessageFacts, payloadOf, QueuedEvent, subscribed } from '../core/webhook-events';
import {
  MAX_QUEUE_DELAY_SECONDS,
  nextRetrySeconds,
  parseRetryAfter,
  RetryMessage,
  retryBody,
} from '../core/webhook-retry';
import { openSecret } from '../core/webhook-secret';
import type {
  BroadcastStore,
  MessageStore,
  SendQueue,
  SigningKeys,
  WebhookDelivery,
  WebhookDeliveryStore,
  WebhookEndpoint,
  WebhookEndpointStore,
  WebhookSender,
} from '../ports';
import { BroadcastBatchCounts, countedMessage } from './broadcast-counts';
import {
  logger as defaultLogger,
  metrics as defaultMetrics,
  maskAddresses,
  publishMetrics,
  traceInvocation,
} from './observability';
import { eachRecord } from './sqs-records';

export interface WebhookPolicy {
  /** Seconds before each retry (RETRY_SCHEDULE_SECONDS in AWS). */
  readonly schedule: readonly number[];
  /** Failed attempts in a row that disable an endpoint… */
  readonly failureLimit: number;
  /** …once the streak is at least this many hours old. */
  readonly failingHours: number;
  /** Days a delivery is kept (TTL). */
  readonly retentionDays: number;
}

export interface WebhooksDeps {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: WebhookDeliveryStore;
  /** The message records events are enriched from (recipients, subject, tags, provider). */
  readonly messages: Pick<MessageStore, 'get'>;
  readonly sender: WebhookSender;
  /** The retries queue. */
  readonly retries: SendQueue;
  /** The keyring that opens endpoint secrets. */
  readonly keys: SigningKeys;
  readonly policy: WebhookPolicy;
  /** Where the events of broadcast emails are counted (app/broadcast-counts.ts). @default - not counted */
  readonly broadcastCounts?: Pick<BroadcastStore, 'addCounts'>;
  /** How long the endpoint list is reused. @default 5000 */
  readonly cacheMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

export const ENDPOINT_CACHE_MS = 5000;

/** Signs `payload` with every live secret of the endpoint (rotation: old and new both sign for 24 h). */
export async function signatureOf(
  endpoint: WebhookEndpoint,
  keys: SigningKeys,
  msgId: string,
  at: Date,
  payload: string,
): Promise<string> {
  const ring = await keys.keyring();
  const live = endpoint.secrets.filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > at.getTime());
  return live.map((s) => new Webhook(openSecret(s.sealed, ring, endpoint.id)).sign(msgId, at, payload)).join(' ');
}

export function createWebhooksHandler(deps: WebhooksDeps) {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const logger = deps.logger ?? defaultLogger;
  const metrics = deps.metrics ?? defaultMetrics;
  const cacheMs = deps.cacheMs ?? ENDPOINT_CACHE_MS;
  let cached: { until: number; endpoints: Promise<WebhookEndpoint[]> } | undefined;

  const endpoints = (): Promise<WebhookEndpoint[]> => {
    if (!cached || cached.until <= now()) {
      const list = deps.endpoints.list();
      cached = { until: now() + cacheMs, endpoints: list };
      list.catch(() => {
        cached = undefined;
      });
    }
    return cached.endpoints;
  };

  const iso = (ms: number) => new Date(ms).toISOString();

  async function disable(endpoint: WebhookEndpoint, reason: string): Promise<void> {
    if (await deps.endpoints.disable(endpoint.id, reason, iso(now()))) {
      metrics.addMetric(METRICS.webhookDisabled, 'Count', 1);
      logger.warn('webhook endpoint disabled', { endpointId: endpoint.id, reason });
      cached = undefined;
    }
  }

  /** One attempt of a delivery; its outcome recorded, a retry planned or the endpoint disabled. */
  async function attempt(endpoint: WebhookEndpoint, d: WebhookDelivery): Promise<void> {
    const atMs = now();
    const at = iso(atMs);
    if (!endpoint.enabled) {
      await deps.deliveries.recordAttempt(endpoint.id, d.id, d.attempts, {
        status: 'failed',
        lastAttemptAt: at,
        lastError: `the endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`,
      });
      metrics.addMetric(METRICS.webhookGaveUp, 'Count', 1);
      return;
    }
    const sentAt = new Date(Math.floor(atMs / 1000) * 1000);
    const signature = await signatureOf(endpoint, deps.keys, d.id, sentAt, d.payload);
    const response = await deps.sender.post(
      endpoint.url,
      {
        'content-type': 'application/json',
        'user-agent': 'mailroute-webhooks/1',
        'webhook-id': d.id,
        'webhook-timestamp': String(sentAt.getTime() / 1000),
        'webhook-signature': signature,
      },
      d.payload,
    );
    const status = response.kind === 'response' ? response.status : undefined;
    if (status !== undefined && status >= 200 && status < 300) {
      metrics.addMetric(METRICS.webhookDelivered, 'Count', 1);
      await deps.deliveries.recordAttempt(endpoint.id, d.id, d.attempts, {
        status: 'delivered',
        lastAttemptAt: at,
        lastStatusCode: status,
      });
      if (endpoint.failures > 0) await deps.endpoints.recordSuccess(endpoint.id);
      return;
    }
    metrics.addMetric(METRICS.webhookAttemptFailed, 'Count', 1);
    const lastError =
      response.kind === 'error'
        ? maskAddresses(response.error).slice(0, 200)
        : `the endpoint answered ${response.status}`;
    if (status === 410) {
      await deps.deliveries.recordAttempt(endpoint.id, d.id, d.attempts, {
        status: 'failed',
        lastAttemptAt: at,
        lastStatusCode: status,
        lastError: `${lastError} (Gone): the endpoint is disabled`,
      });
      metrics.addMetric(METRICS.webhookGaveUp, 'Count', 1);
      await disable(endpoint, 'the endpoint answered 410 Gone');
      return;
    }
    const retryAfter =
      response.kind === 'response' && (status === 429 || status === 503)
        ? parseRetryAfter(response.retryAfter, atMs)
        : undefined;
    const wait = nextRetrySeconds(d.attempts + 1, deps.policy.schedule, random(), retryAfter);
    if (wait === undefined) {
      await deps.deliveries.recordAttempt(endpoint.id, d.id, d.attempts, {
        status: 'failed',
        lastAttemptAt: at,
        ...(status === undefined ? {} : { lastStatusCode: status }),
        lastError: `${lastError}; no retries left`,
      });
      metrics.addMetric(METRICS.webhookGaveUp, 'Count', 1);
    } else {
      const dueAt = iso(atMs + wait * 1000);
      // The retry is queued before the attempt is recorded: a retry can come twice, never not at all.
      await queueRetry({ endpointId: endpoint.id, deliveryId: d.id, dueAt, attempts: d.attempts + 1 }, wait);
      await deps.deliveries.recordAttempt(endpoint.id, d.id, d.attempts, {
        status: 'retrying',
        lastAttemptAt: at,
        ...(status === undefined ? {} : { lastStatusCode: status }),
        lastError,
        nextAttemptAt: dueAt,
      });
    }
    const streak = await deps.endpoints.recordFailure(endpoint.id, at);
    const longEnough = atMs - Date.parse(streak.failingSince) >= deps.policy.failingHours * 3_600_000;
    if (streak.failures >= deps.policy.failureLimit && longEnough) {
      await disable(
        endpoint,
        `${streak.failures} attempts failed in a row since ${streak.failingSince} (last: ${lastError})`,
      );
    }
  }

  async function queueRetry(r: RetryMessage['retry'], waitSeconds: number): Promise<void> {
    const failed = await deps.retries.send([
      {
        id: r.deliveryId,
        body: retryBody(r),
        delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, waitSeconds)),
      },
    ]);
    if (failed.length > 0) throw new Error('the retry could not be queued');
  }

  /** An event: one delivery per subscribed endpoint, each attempted at once. */
  async function fanOut(event: QueuedEvent, recordId: string, counts: BroadcastBatchCounts | undefined): Promise<void> {
    const all = await endpoints();
    const targets = all.filter((e) =>
      event.endpointId === undefined ? e.enabled && subscribed(e.events, event.type) : e.id === event.endpointId,
    );
    // A broadcast email's event adds to its broadcast's counts (its record says which broadcast).
    const counted = counts ? countedMessage(event) : undefined;
    if (targets.length === 0 && counted === undefined) return;
    const record = event.messageId !== undefined ? await deps.messages.get(event.messageId) : undefined;
    const facts: MessageFacts | undefined = record;
    if (counted !== undefined)
      counts?.add(recordId, event, counted === event.messageId ? record : await deps.messages.get(counted));
    if (targets.length === 0) return;
    const payload = JSON.stringify(payloadOf(event, facts));
    const expiresAt = Math.floor(now() / 1000) + deps.policy.retentionDays * 86_400;
    const failures = await Promise.allSettled(
      targets.map(async (endpoint) => {
        const fresh: WebhookDelivery = {
          endpointId: endpoint.id,
          id: deliveryIdOf(event, endpoint.id),
          eventId: event.id,
          type: event.type,
          payload,
          createdAt: event.at,
          status: 'pending',
          attempts: 0,
          expiresAt,
        };
        // Made before: this event came again (a redelivery); its stored bytes are what is sent.
        const d = (await deps.deliveries.create(fresh)) ? fresh : await deps.deliveries.get(endpoint.id, fresh.id);
        if (d?.status === 'pending') await attempt(endpoint, d);
      }),
    );
    const failure = failures.find((f) => f.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /** A retry: re-delayed while it is not due; attempted when the delivery still waits for it. */
  async function retry(r: RetryMessage['retry']): Promise<void> {
    const remaining = Math.ceil((Date.parse(r.dueAt) - now()) / 1000);
    if (remaining > 1) {
      await queueRetry(r, remaining);
      return;
    }
    const d = await deps.deliveries.get(r.endpointId, r.deliveryId);
    if (!d || d.attempts !== r.attempts || (d.status !== 'retrying' && d.status !== 'pending')) return;
    const endpoint = await deps.endpoints.get(r.endpointId);
    if (!endpoint) {
      await deps.deliveries.recordAttempt(r.endpointId, d.id, d.attempts, {
        status: 'failed',
        lastAttemptAt: iso(now()),
        lastError: 'the endpoint was deleted',
      });
      return;
    }
    await attempt(endpoint, d);
  }

  async function handleRecord(rec: SQSRecord, counts: BroadcastBatchCounts | undefined): Promise<void> {
    const body: unknown = JSON.parse(rec.body);
    const asRetry = RetryMessage.safeParse(body);
    if (asRetry.success) return retry(asRetry.data.retry);
    const event = QueuedEvent.safeParse(body);
    if (!event.success) throw new Error(`not a webhook event: ${event.error.issues[0]?.message ?? ''}`);
    return fanOut(event.data, rec.messageId, counts);
  }

  /** Each record on its own; then the batch's broadcast counts, for the records it processed well. */
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const counts = deps.broadcastCounts
      ? new BroadcastBatchCounts({ store: deps.broadcastCounts, logger, metrics })
      : undefined;
    const response = await eachRecord((rec) => handleRecord(rec, counts), logger, 'webhook record')(event, context);
    if (!counts) return response;
    const failures = response.batchItemFailures;
    const again = await counts.flush(new Set(failures.map((f) => f.itemIdentifier)));
    return { batchItemFailures: [...failures, ...again.map((itemIdentifier) => ({ itemIdentifier }))] };
  };

  return middy(core)
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics));
}
