/**
 * The metrics mailroute's handlers really print: every handler (ingest, dispatch, ses-events,
 * tracking) driven through representative scenarios with the in-memory fakes, with the functions'
 * own kind of Powertools Metrics, and every embedded-metric-format line they write to stdout read
 * back. Nothing here names a metric: whatever the handlers stop emitting is missing from the result.
 */

import { vi } from 'vitest';
import { Authenticator, hashKey } from '../../functions/app/auth';
import { createDispatchHandler } from '../../functions/app/dispatch';
import { createIngestHandler } from '../../functions/app/ingest';
import { logger, newMetrics } from '../../functions/app/observability';
import { createSesEventsHandler } from '../../functions/app/ses-events';
import { type StreamGate, streamGate } from '../../functions/app/streams';
import { createTrackingHandler } from '../../functions/app/tracking';
import { EventBuffer, publishingSuppressions } from '../../functions/app/webhook-events';
import { createWebhooksHandler } from '../../functions/app/webhooks';
import { DEFAULTS } from '../../functions/core/defaults';
import type { SendOutcome } from '../../functions/core/dispatch';
import { SendEmailBody, toQueuedEmail } from '../../functions/core/email';
import { MACHINE_CLICK_WINDOW_SECONDS } from '../../functions/core/engagement';
import { newRecord } from '../../functions/core/message';
import type { Priority } from '../../functions/core/priority';
import type { RateWindow } from '../../functions/core/rate-window';
import { hourBucket } from '../../functions/core/reputation';
import { sign } from '../../functions/core/signing';
import { initialStream } from '../../functions/core/stream';
import { queuedEvent } from '../../functions/core/webhook-events';
import { newWebhookSecret, sealSecret } from '../../functions/core/webhook-secret';
import type { EmailProvider, SigningKeys, WebhookResponse } from '../../functions/ports';
import { StaticSigningKeys } from '../../functions/store/secrets';
import { MemoryCooldownStore } from './cooldown-fakes';
import { queuesByName, SEND_QUEUE } from './dispatch';
import { httpEvent, lambdaContext, sqsEvent, sqsRecord } from './events';
import {
  MemoryKeys,
  MemoryMessageStore,
  MemoryQueue,
  MemoryReputationStore,
  MemorySuppression,
  MemoryVisibility,
  memoryChain,
  memoryStreams,
  ScriptedProvider,
} from './fakes';
import { sesFixture } from './fixtures';
import { ingestTestDeps } from './ingest';
import { record } from './records';
import { FakeSender, MemoryPublisher, MemoryWebhookDeliveries, MemoryWebhookEndpoints } from './webhook-fakes';

/** One metric of one EMF line. */
export interface EmittedMetric {
  readonly namespace: string;
  readonly name: string;
  /** The dimension names it was emitted with, sorted. */
  readonly dimensions: readonly string[];
  /** The dimensions' values. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The scenario that emitted it. */
  readonly scenario: string;
}

const NOW = Date.parse('2026-11-22T10:00:00Z');
const RING = { current: 'k', keys: { k: 'metric-scenarios-key-0123456789abcdef' } };
const keys = new StaticSigningKeys(RING);

/** Every metric in EMF lines of `chunks` (anything else printed is ignored). */
function parse(chunks: readonly string[], scenario: string): EmittedMetric[] {
  const out: EmittedMetric[] = [];
  for (const chunk of chunks)
    for (const line of chunk.split('\n')) {
      if (!line.includes('"_aws"')) continue;
      const emf = JSON.parse(line) as Record<string, unknown> & {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      };
      for (const def of emf._aws.CloudWatchMetrics)
        for (const dims of def.Dimensions)
          for (const m of def.Metrics)
            out.push({
              namespace: def.Namespace,
              name: m.Name,
              dimensions: [...dims].sort(),
              values: Object.fromEntries(dims.map((d) => [d, emf[d]])),
              scenario,
            });
    }
  return out;
}

function queued(
  messages: MemoryMessageStore,
  id: string,
  to: string | string[] = 'user@example.org',
  receiveCount = 1,
  extra: Record<string, unknown> = {},
) {
  const q = toQueuedEmail(id, SendEmailBody.parse({ from: 'app@example.com', to, subject: 'Hi', text: 'x', ...extra }));
  messages.items.set(id, newRecord({ ...q, apiKey: 'app' }, new Date(NOW - 1_000), 30));
  return sqsRecord(q, { messageId: `sqs-${id}`, receiveCount });
}

/** A dispatcher over fakes, with the functions' own metrics factory. */
function dispatcher(
  providers: EmailProvider[],
  options: {
    messages?: MemoryMessageStore;
    suppression?: MemorySuppression;
    limits?: Record<string, RateWindow[]>;
    keys?: SigningKeys;
    streams?: StreamGate;
    cooldowns?: MemoryCooldownStore;
  },
) {
  return createDispatchHandler({
    messages: options.messages ?? new MemoryMessageStore(),
    suppression: options.suppression ?? new MemorySuppression(),
    chain: memoryChain(providers, { now: () => NOW, ...(options.limits ? { limits: options.limits } : {}) }).chain,
    queues: queuesByName({ [SEND_QUEUE]: { queue: new MemoryQueue(), visibility: new MemoryVisibility() } }),
    links: { baseUrl: 'https://mail.example.com', keys: options.keys ?? keys },
    trackDefaults: { opens: true, clicks: true },
    maxReceiveCount: 5,
    timeoutSeconds: 30,
    now: () => NOW,
    random: () => 0.5,
    metrics: newMetrics(),
    ...(options.streams ? { streams: options.streams } : {}),
    ...(options.cooldowns ? { cooldowns: options.cooldowns } : {}),
  });
}

/** A reputation store whose `priority` stream is paused (as the guard leaves it). */
async function pausedStore(priority: Priority): Promise<MemoryReputationStore> {
  const store = new MemoryReputationStore();
  const at = new Date(NOW).toISOString();
  await store.saveStream(
    { ...initialStream(priority), state: 'paused', version: 1, since: at, timeline: [{ type: 'paused', at }] },
    0,
  );
  return store;
}

function guardScenarios(): Scenario[] {
  const guard = { ...DEFAULTS.guard, minVolume: 10 };
  /** SES events on a stream that sent `sends` emails this hour, with the guard judging it. */
  const judged = async (sends: number, fixture: string) => {
    const store = new MemoryReputationStore();
    await store.add('transactional', hourBucket(NOW), { sends }, 0);
    const messages = new MemoryMessageStore();
    const r = record('msg-1');
    r.status = 'sent';
    messages.items.set('msg-1', r);
    const handler = createSesEventsHandler({
      messages,
      suppression: new MemorySuppression(),
      softBounce: { limit: 1, windowHours: 72 },
      guard: { store, settings: guard },
      now: () => NOW,
      metrics: newMetrics(),
    });
    return handler(sqsEvent(sqsRecord(sesFixture(fixture))), lambdaContext());
  };
  return [
    [
      'mail of a paused stream held',
      async () => {
        const messages = new MemoryMessageStore();
        const streams = streamGate({
          store: await pausedStore('transactional'),
          cacheMs: 0,
          waitSeconds: 60,
          now: () => NOW,
          logger,
        });
        return dispatcher([ses()], { messages, streams })(sqsEvent(queued(messages, 'h1')), lambdaContext());
      },
    ],
    // One hard bounce in 20 sends (5 %): over the warn line (4 %), under the pause line (8 %).
    ['a stream warned', () => judged(20, 'event-bounce-permanent.json')],
    // One hard bounce in 10 sends (10 %): over the pause line.
    ['a stream paused', () => judged(10, 'event-bounce-permanent.json')],
    [
      'a stream resumed',
      async () => {
        const keysStore = new MemoryKeys();
        await keysStore.put(hashKey('mr_metrics_admin_123456'), {
          name: 'ops',
          createdAt: '2026-01-01T00:00:00Z',
          scopes: ['admin'],
          senderDomains: ['*'],
          ratePerSecond: 100,
        });
        const handler = createIngestHandler(
          ingestTestDeps({
            messages: new MemoryMessageStore(),
            queues: { critical: new MemoryQueue(), transactional: new MemoryQueue(), bulk: new MemoryQueue() },
            auth: new Authenticator(keysStore),
            streams: memoryStreams(await pausedStore('bulk')),
            now: () => new Date(NOW),
            metrics: newMetrics(),
          }),
        );
        return handler(
          httpEvent('POST /v1/settings/streams/{priority}/resume', {
            path: { priority: 'bulk' },
            headers: { authorization: 'Bearer mr_metrics_admin_123456' },
          }),
          lambdaContext(),
        );
      },
    ],
  ];
}

const provider = (id: string, outcome: SendOutcome, idempotent = false) =>
  new ScriptedProvider(() => outcome, id, idempotent);
const ses = () => new ScriptedProvider(undefined, 'ses');

type Scenario = readonly [name: string, run: () => Promise<unknown>];

function dispatchScenarios(): Scenario[] {
  const one = async (providers: EmailProvider[], receiveCount = 1, limits?: Record<string, RateWindow[]>) => {
    const messages = new MemoryMessageStore();
    return dispatcher(providers, { messages, ...(limits ? { limits } : {}) })(
      sqsEvent(queued(messages, 'm1', 'user@example.org', receiveCount)),
      lambdaContext(),
    );
  };
  return [
    ['send', () => one([ses()], 1, { ses: [{ limit: 14, windowSeconds: 1 }] })],
    [
      'batch',
      async () => {
        const messages = new MemoryMessageStore();
        const records = Array.from({ length: 5 }, (_, i) => queued(messages, `b${i}`));
        return dispatcher([ses()], { messages })(sqsEvent(...records), lambdaContext());
      },
    ],
    [
      'throttled by a cooldown, and one recipient of another email skipped',
      async () => {
        const messages = new MemoryMessageStore();
        const cooldowns = new MemoryCooldownStore();
        const cooldown = { key: 'digest', hours: 24 };
        const handler = dispatcher([ses()], { messages, cooldowns });
        await handler(sqsEvent(queued(messages, 'c1', 'held@example.org', 1, { cooldown })), lambdaContext());
        return handler(
          sqsEvent(
            queued(messages, 'c2', 'held@example.org', 1, { cooldown }),
            queued(messages, 'c3', ['held@example.org', 'free@example.org'], 1, { cooldown }),
          ),
          lambdaContext(),
        );
      },
    ],
    [
      'suppressed',
      async () => {
        const messages = new MemoryMessageStore();
        const suppression = new MemorySuppression();
        suppression.add('gone@example.org');
        return dispatcher([ses()], { messages, suppression })(
          sqsEvent(queued(messages, 'm1', 'gone@example.org')),
          lambdaContext(),
        );
      },
    ],
    ['rejected by the provider', () => one([provider('ses', { kind: 'rejected', reason: 'MessageRejected' })])],
    ['fail-over', () => one([provider('relay', { kind: 'down', reason: 'HTTP 503' }), ses()])],
    ['throttled, then fail-over', () => one([provider('relay', { kind: 'throttled', reason: 'HTTP 429' }), ses()])],
    ['retry', () => one([provider('ses', { kind: 'down', reason: 'HTTP 503' })])],
    ['retries exhausted', () => one([provider('ses', { kind: 'down', reason: 'HTTP 503' })], 5)],
    ['ambiguous', () => one([provider('ses', { kind: 'ambiguous', reason: 'socket hang up' })])],
    [
      'ambiguous at an idempotent provider',
      () => one([provider('relay', { kind: 'ambiguous', reason: 'timeout' }, true)]),
    ],
    ['circuit open', () => one([provider('relay', { kind: 'broken', reason: 'HTTP 401' }), ses()])],
    [
      'capacity wait',
      async () => {
        const messages = new MemoryMessageStore();
        const records = [queued(messages, 'w1'), queued(messages, 'w2')];
        return dispatcher([ses()], { messages, limits: { ses: [{ limit: 1, windowSeconds: 60 }] } })(
          sqsEvent(...records),
          lambdaContext(),
        );
      },
    ],
    [
      'a record not settled on its last receive',
      async () => {
        // The signing keys cannot be read (before the claim) and the record cannot be settled either.
        const messages = new MemoryMessageStore();
        messages.settleQueued = () => Promise.reject(new Error('DynamoDB unavailable'));
        const rec = queued(messages, 'u1', 'user@example.org', 5);
        const broken: SigningKeys = { keyring: () => Promise.reject(new Error('secret unavailable')) };
        const html = { ...rec, body: JSON.stringify({ ...JSON.parse(rec.body), html: '<p>hi</p>' }) };
        return dispatcher([ses()], { messages, keys: broken })(sqsEvent(html), lambdaContext());
      },
    ],
    [
      'duplicate delivery',
      async () => {
        const messages = new MemoryMessageStore();
        const rec = queued(messages, 'd1');
        const handler = dispatcher([ses()], { messages });
        await handler(sqsEvent(rec), lambdaContext());
        return handler(sqsEvent(rec), lambdaContext());
      },
    ],
  ];
}

function sesEventScenarios(): Scenario[] {
  const deliver = async (fixture: string | Record<string, unknown>) => {
    const messages = new MemoryMessageStore();
    const r = record('msg-1');
    r.status = 'sent';
    messages.items.set('msg-1', r);
    const handler = createSesEventsHandler({
      messages,
      suppression: new MemorySuppression(),
      softBounce: { limit: 1, windowHours: 72 },
      now: () => Date.parse('2026-11-22T12:00:00Z'),
      metrics: newMetrics(),
    });
    const body = typeof fixture === 'string' ? sesFixture(fixture) : fixture;
    return handler(sqsEvent(sqsRecord(body)), lambdaContext());
  };
  /** An identity notification whose headers SES left out: it cannot name the message. */
  const headerless = () => {
    const n = sesFixture('identity-bounce.json');
    delete (n.mail as { headers?: unknown }).headers;
    return n;
  };
  return [
    ['delivered', () => deliver('event-delivery.json')],
    ['bounced', () => deliver('event-bounce-permanent.json')],
    ['complaint', () => deliver('event-complaint.json')],
    ['soft bounce', () => deliver('event-bounce-transient.json')],
    ['rejected by SES', () => deliver('event-reject.json')],
    ['delivery delayed', () => deliver('event-delivery-delay.json')],
    ['identity notification', () => deliver('identity-bounce.json')],
    ['identity notification without headers', () => deliver(headerless())],
  ];
}

function ingestScenarios(): Scenario[] {
  return [
    [
      'accepted',
      async () => {
        const keysStore = new MemoryKeys();
        await keysStore.put(hashKey('mr_metrics_key_123456'), {
          name: 'app',
          createdAt: '2026-01-01T00:00:00Z',
          scopes: ['send', 'read'],
          senderDomains: ['*'],
          ratePerSecond: 100,
        });
        let n = 0;
        const handler = createIngestHandler(
          ingestTestDeps({
            messages: new MemoryMessageStore(),
            queues: { critical: new MemoryQueue(), transactional: new MemoryQueue(), bulk: new MemoryQueue() },
            auth: new Authenticator(keysStore),
            // No request here carries an Idempotency-Key: this layer is never reached.
            newId: () => `id-${++n}`,
            now: () => new Date(NOW),
            metrics: newMetrics(),
          }),
        );
        const headers = { authorization: 'Bearer mr_metrics_key_123456' };
        const body = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'x' };
        await handler(httpEvent('POST /v1/emails', { headers, body: JSON.stringify(body) }), lambdaContext());
        return handler(
          httpEvent('POST /v1/emails/batch', { headers, body: JSON.stringify({ emails: [body, body] }) }),
          lambdaContext(),
        );
      },
    ],
  ];
}

function trackingScenarios(): Scenario[] {
  const sentSeconds = NOW / 1000 - 3_600;
  const human = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
  const hit = async (route: string, token: string, userAgent: string, body?: string) => {
    const messages = new MemoryMessageStore();
    messages.items.set('msg-1', record('msg-1'));
    const handler = createTrackingHandler({
      messages,
      suppression: new MemorySuppression(),
      keys,
      now: () => new Date(NOW),
      metrics: newMetrics(),
    });
    const event = httpEvent(route, {
      path: { token },
      headers: { 'user-agent': userAgent, 'content-type': 'application/x-www-form-urlencoded' },
      ...(body === undefined ? {} : { body }),
    });
    return handler(event, lambdaContext());
  };
  const open = sign({ k: 'o', m: 'msg-1', s: sentSeconds }, RING);
  const click = (s: number) => sign({ k: 'c', m: 'msg-1', i: 0, u: 'https://shop.example.com/', s }, RING);
  const unsubscribe = sign({ a: 'user@example.org', c: 'newsletter', m: 'msg-1' }, RING);
  return [
    ['open by a person', () => hit('GET /o/{token}', open, human)],
    ['open by a machine', () => hit('GET /o/{token}', open, 'Mozilla/5.0')],
    ['click by a person', () => hit('GET /c/{token}', click(sentSeconds), human)],
    ['click by a machine', () => hit('GET /c/{token}', click(NOW / 1000 - MACHINE_CLICK_WINDOW_SECONDS / 2), human)],
    ['one-click unsubscribe', () => hit('POST /u/{token}', unsubscribe, human, 'List-Unsubscribe=One-Click')],
  ];
}

function webhookScenarios(): Scenario[] {
  const secret = newWebhookSecret();
  const deliver = async (answer: WebhookResponse) => {
    const endpoints = new MemoryWebhookEndpoints();
    await endpoints.create({
      id: 'ep_1',
      url: 'https://hooks.example.com/in',
      events: ['*'],
      enabled: true,
      secrets: [{ sealed: sealSecret(secret, RING, 'ep_1') }],
      failures: 0,
      createdAt: new Date(NOW).toISOString(),
      updatedAt: new Date(NOW).toISOString(),
    });
    const sender = new FakeSender();
    sender.answer = () => answer;
    const messages = new MemoryMessageStore();
    messages.items.set('msg-1', record('msg-1'));
    const handler = createWebhooksHandler({
      endpoints,
      deliveries: new MemoryWebhookDeliveries(),
      messages,
      sender,
      retries: new MemoryQueue(),
      keys,
      policy: { schedule: [], failureLimit: 1, failingHours: 0, retentionDays: 30 },
      cacheMs: 0,
      now: () => NOW,
      metrics: newMetrics(),
    });
    const event = queuedEvent('email.sent', 'msg-1', new Date(NOW).toISOString(), {}, 'msg-1');
    return handler(sqsEvent(sqsRecord(JSON.stringify(event))), lambdaContext());
  };
  return [
    ['webhook delivered', () => deliver({ kind: 'response', status: 200 })],
    [
      'webhook failed, no retries left, endpoint disabled after too many failures',
      () => deliver({ kind: 'response', status: 500 }),
    ],
    [
      'webhook events that cannot be queued',
      async () => {
        const publisher = new MemoryPublisher();
        publisher.fail = true;
        const metrics = newMetrics();
        const events = new EventBuffer(publisher, logger, metrics);
        const messages = new MemoryMessageStore();
        messages.items.set('msg-1', record('msg-1'));
        // The unsubscribe suppresses the address: a suppression.added event, which cannot be queued.
        const handler = createTrackingHandler({
          messages,
          suppression: publishingSuppressions(new MemorySuppression(), events),
          keys,
          now: () => new Date(NOW),
          metrics,
          events,
        });
        const token = sign({ a: 'user@example.org', c: 'newsletter', m: 'msg-1' }, RING);
        return handler(
          httpEvent('POST /u/{token}', {
            path: { token },
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'List-Unsubscribe=One-Click',
          }),
          lambdaContext(),
        );
      },
    ],
  ];
}

/**
 * Runs every scenario with metrics enabled and returns what the handlers printed. Each scenario's
 * name is kept with its metrics, so a failure says which path stopped emitting what.
 */
export async function emittedMetrics(): Promise<EmittedMetric[]> {
  const scenarios = [
    ...ingestScenarios(),
    ...dispatchScenarios(),
    ...sesEventScenarios(),
    ...trackingScenarios(),
    ...guardScenarios(),
    ...webhookScenarios(),
  ];
  const out: EmittedMetric[] = [];
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  let chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    for (const [name, run] of scenarios) {
      chunks = [];
      await run();
      out.push(...parse(chunks, name));
    }
  } finally {
    write.mockRestore();
    vi.unstubAllEnvs();
  }
  return out;
}
