import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhooksHandler } from '../../../functions/app/webhooks';
import { queuedEvent } from '../../../functions/core/webhook-events';
import { RetryMessage } from '../../../functions/core/webhook-retry';
import { newWebhookSecret, sealSecret } from '../../../functions/core/webhook-secret';
import type { WebhookEndpoint } from '../../../functions/ports';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { record } from '../../support/records';
import { FakeSender, MemoryWebhookDeliveries, MemoryWebhookEndpoints } from '../../support/webhook-fakes';

const ring = { current: 'k1', keys: { k1: 'webhook-test-key-0123456789abcdef0123' } };
const T0 = Date.parse('2026-11-29T10:00:00Z');

let now: number;
let endpoints: MemoryWebhookEndpoints;
let deliveries: MemoryWebhookDeliveries;
let retries: MemoryQueue;
let sender: FakeSender;
let messages: MemoryMessageStore;
let secret: string;
let handler: ReturnType<typeof createWebhooksHandler>;

function endpoint(over: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  const id = over.id ?? 'ep_1';
  return {
    id,
    url: 'https://hooks.example.com/in',
    events: ['*'],
    enabled: true,
    secrets: [{ sealed: sealSecret(secret, ring, id) }],
    failures: 0,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...over,
  };
}

// A receiver's clock reads the time the deliveries were signed at (Standard Webhooks checks it).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

beforeEach(async () => {
  now = T0;
  secret = newWebhookSecret();
  endpoints = new MemoryWebhookEndpoints();
  deliveries = new MemoryWebhookDeliveries();
  retries = new MemoryQueue();
  sender = new FakeSender();
  messages = new MemoryMessageStore();
  await messages.createMany([record('m1', { subject: 'Your receipt' })]);
  handler = createWebhooksHandler({
    endpoints,
    deliveries,
    messages,
    sender,
    retries,
    keys: new StaticSigningKeys(ring),
    policy: { schedule: [5, 300, 1800], failureLimit: 3, failingHours: 1, retentionDays: 30 },
    cacheMs: 0,
    now: () => now,
    random: () => 0.5,
  });
});

const run = (...bodies: string[]) =>
  handler(sqsEvent(...bodies.map((b, i) => sqsRecord(b, { messageId: `sqs-${i}` }))), lambdaContext());
const sentEvent = () => queuedEvent('email.sent', 'm1', new Date(T0).toISOString(), { provider: 'ses' }, 'm1');

/** Runs the retry that was queued last, `seconds` after it was planned. */
async function fireRetry(after: number) {
  const entry = retries.sent.at(-1);
  if (!entry) throw new Error('no retry queued');
  now += after * 1000;
  return run(entry.body);
}

describe('the webhooks function', () => {
  it('delivers an event to each subscribed endpoint, signed, enriched from the message record', async () => {
    await endpoints.create(endpoint());
    await endpoints.create(endpoint({ id: 'ep_2', events: ['email.bounced'] }));
    await endpoints.create(endpoint({ id: 'ep_3', enabled: false }));
    expect(await run(JSON.stringify(sentEvent()))).toEqual({ batchItemFailures: [] });
    expect(sender.requests).toHaveLength(1);
    const [req] = sender.requests;
    const body = new Webhook(secret).verify(req?.body ?? '', { ...req?.headers }) as { type: string; data: object };
    expect(body).toMatchObject({
      type: 'email.sent',
      data: { email_id: 'm1', subject: 'Your receipt', provider: 'ses' },
    });
    // Verification checks the timestamp against this clock: the signature was made at T0.
    expect(req?.headers['webhook-timestamp']).toBe(String(T0 / 1000));
    const [d] = [...deliveries.items.values()];
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, payload: req?.body });
  });

  it('the same event coming again is not delivered twice', async () => {
    await endpoints.create(endpoint());
    const body = JSON.stringify(sentEvent());
    await run(body);
    await run(body);
    expect(sender.requests).toHaveLength(1);
  });

  it('retries on the schedule with the same id and bytes, then records the delivery failed', async () => {
    await endpoints.create(endpoint());
    sender.answer = () => ({ kind: 'response', status: 500 });
    await run(JSON.stringify(sentEvent()));
    const first = retries.sent.at(-1);
    expect(first?.delaySeconds).toBe(5);
    await fireRetry(5);
    expect(retries.sent.at(-1)?.delaySeconds).toBe(300);
    await fireRetry(300);
    // 1800 s is more than SQS delays: the retry is re-delayed until it is due.
    expect(retries.sent.at(-1)?.delaySeconds).toBe(900);
    await fireRetry(900);
    expect(sender.requests).toHaveLength(3);
    expect(retries.sent.at(-1)?.delaySeconds).toBe(900);
    await fireRetry(900);
    expect(sender.requests).toHaveLength(4);
    expect(new Set(sender.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(sender.requests.map((r) => r.body)).size).toBe(1);
    const [d] = [...deliveries.items.values()];
    expect(d).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 500 });
    expect(d?.lastError).toMatch(/no retries left/);
  });

  it('honours Retry-After on a 429', async () => {
    await endpoints.create(endpoint());
    sender.answer = () => ({ kind: 'response', status: 429, retryAfter: '120' });
    await run(JSON.stringify(sentEvent()));
    const retry = RetryMessage.parse(JSON.parse(retries.sent.at(-1)?.body ?? '{}'));
    expect(Date.parse(retry.retry.dueAt) - T0).toBe(120_000);
  });

  it('a 410 disables the endpoint at once; a later retry for it fails the delivery', async () => {
    await endpoints.create(endpoint());
    sender.answer = () => ({ kind: 'response', status: 410 });
    await run(JSON.stringify(sentEvent()));
    expect((await endpoints.get('ep_1'))?.enabled).toBe(false);
    expect((await endpoints.get('ep_1'))?.disabledReason).toMatch(/410/);
    expect([...deliveries.items.values()][0]?.status).toBe('failed');
    expect(retries.sent).toHaveLength(0);
  });

  it('failures in a row disable the endpoint only once the streak is old enough', async () => {
    await endpoints.create(endpoint());
    sender.answer = () => ({ kind: 'error', error: 'ECONNREFUSED: connect refused' });
    for (let i = 0; i < 4; i++)
      await run(JSON.stringify(queuedEvent('email.sent', `m${i}`, new Date(now).toISOString(), {}, `m${i}`)));
    // Four failures, but all within the hour: still enabled.
    expect((await endpoints.get('ep_1'))?.enabled).toBe(true);
    now += 3_600_000;
    await run(JSON.stringify(queuedEvent('email.sent', 'm9', new Date(now).toISOString(), {}, 'm9')));
    expect(await endpoints.get('ep_1')).toMatchObject({ enabled: false, failures: 5 });
  });

  it('a success ends a failure streak', async () => {
    await endpoints.create(endpoint({ failures: 2, failingSince: new Date(T0 - 1000).toISOString() }));
    await run(JSON.stringify(sentEvent()));
    expect((await endpoints.get('ep_1'))?.failures).toBe(0);
  });

  it('signs with both secrets while a rotated-out one is still valid', async () => {
    const old = newWebhookSecret();
    await endpoints.create(
      endpoint({
        secrets: [
          { sealed: sealSecret(secret, ring, 'ep_1') },
          { sealed: sealSecret(old, ring, 'ep_1'), expiresAt: new Date(T0 + 3_600_000).toISOString() },
        ],
      }),
    );
    await run(JSON.stringify(sentEvent()));
    const req = sender.requests[0];
    for (const s of [secret, old])
      expect(() => new Webhook(s).verify(req?.body ?? '', { ...req?.headers })).not.toThrow();
  });

  it('a body that is neither an event nor a retry fails only its record', async () => {
    const out = await run('{"nope":1}', JSON.stringify(sentEvent()));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-0' }]);
  });
});
