import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { QueuedEmail } from '../../../functions/core/queued-email';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue, MemorySuppression } from '../../support/fakes';

const KEY = 'mr_test_key_123456';
const email = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', html: '<p>Hello</p>' };

let messages: MemoryMessageStore;
let queue: MemoryQueue;
let keys: MemoryKeys;
let handler: ReturnType<typeof createIngestHandler>;
let ids: number;

beforeEach(async () => {
  messages = new MemoryMessageStore();
  queue = new MemoryQueue();
  keys = new MemoryKeys();
  await keys.put(hashKey(KEY), { name: 'app', createdAt: '2026-01-01T00:00:00Z' });
  ids = 0;
  handler = createIngestHandler({
    messages,
    suppression: new MemorySuppression(),
    queue,
    auth: new Authenticator(keys),
    // Requests in this file carry no Idempotency-Key, so this layer is never reached.
    idempotency: new DynamoDBPersistenceLayer({
      tableName: 'unused',
      awsSdkV3Client: new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 }),
    }),
    retentionDays: 30,
    newId: () => `id-${++ids}`,
    now: () => new Date('2026-11-22T10:00:00Z'),
  });
});

async function call(routeKey: string, opts: Parameters<typeof httpEvent>[1] = {}) {
  const event = httpEvent(routeKey, { ...opts, headers: { authorization: `Bearer ${KEY}`, ...opts.headers } });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

describe('POST /v1/emails', () => {
  it('records the message, queues it with its body, and answers 202 with the id', async () => {
    const res = await call('POST /v1/emails', { body: JSON.stringify(email) });
    expect(res).toEqual({ status: 202, body: { id: 'id-1' } });
    expect(messages.items.get('id-1')).toMatchObject({ status: 'queued', to: ['user@example.org'], apiKey: 'app' });
    expect(messages.items.get('id-1')).not.toHaveProperty('html');
    expect(QueuedEmail.parse(JSON.parse(queue.sent[0]?.body ?? ''))).toMatchObject({
      id: 'id-1',
      html: '<p>Hello</p>',
    });
  });

  it('answers 401 without a key and with an unknown key, and does nothing', async () => {
    expect(
      (await call('POST /v1/emails', { body: JSON.stringify(email), headers: { authorization: '' } })).status,
    ).toBe(401);
    const bad = await call('POST /v1/emails', {
      body: JSON.stringify(email),
      headers: { authorization: 'Bearer nope-nope-nope' },
    });
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(messages.items.size).toBe(0);
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses a revoked key', async () => {
    await keys.put(hashKey(KEY), { name: 'app', createdAt: '2026-01-01T00:00:00Z', revoked: true });
    expect((await call('POST /v1/emails', { body: JSON.stringify(email) })).status).toBe(401);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await call('POST /v1/emails', { body: '{"from":' });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await call('POST /v1/emails', {
      body: 'from=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
  });

  it('answers 422 with field paths and leaves nothing behind', async () => {
    const res = await call('POST /v1/emails', { body: JSON.stringify({ ...email, to: ['ok@example.org', 'bad'] }) });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details[0].path).toBe('to.1');
    expect(messages.items.size).toBe(0);
    expect(queue.sent).toHaveLength(0);
  });

  it('answers 413 for a body over the queue limit', async () => {
    const res = await call('POST /v1/emails', { body: JSON.stringify({ ...email, html: 'x'.repeat(1_100_000) }) });
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(messages.items.size).toBe(0);
  });

  it('rolls the record back and answers 503 when the message cannot be queued', async () => {
    queue.failAll = true;
    const res = await call('POST /v1/emails', { body: JSON.stringify(email) });
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(messages.items.size).toBe(0);
  });

  it('answers 500 without internals when the store fails', async () => {
    messages.failCreate = true;
    const res = await call('POST /v1/emails', { body: JSON.stringify(email) });
    expect(res).toEqual({ status: 500, body: { error: { code: 'internal', message: expect.any(String) } } });
    expect(JSON.stringify(res.body)).not.toMatch(/DynamoDB/);
  });
});

describe('POST /v1/emails/batch', () => {
  it('accepts every email and answers with ids in order', async () => {
    const res = await call('POST /v1/emails/batch', {
      body: JSON.stringify({ emails: [email, { ...email, subject: 'Two' }] }),
    });
    expect(res).toEqual({ status: 202, body: { data: [{ id: 'id-1' }, { id: 'id-2' }] } });
    expect(queue.sent).toHaveLength(2);
  });

  it('refuses the whole batch when one email is bad, naming its index, and sends none', async () => {
    const res = await call('POST /v1/emails/batch', {
      body: JSON.stringify({ emails: [email, { ...email, subject: '' }, email] }),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['emails.1.subject']);
    expect(messages.items.size).toBe(0);
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses more than 100 emails', async () => {
    const res = await call('POST /v1/emails/batch', { body: JSON.stringify({ emails: Array(101).fill(email) }) });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].message).toMatch(/100/);
  });

  it('rolls back every record when part of the batch cannot be queued', async () => {
    queue.failIds = new Set(['id-2']);
    const res = await call('POST /v1/emails/batch', { body: JSON.stringify({ emails: [email, email, email] }) });
    expect(res.status).toBe(503);
    expect(messages.items.size).toBe(0);
  });
});

describe('GET /v1/emails/{id}', () => {
  it('shows the message with its timeline', async () => {
    await call('POST /v1/emails', { body: JSON.stringify(email) });
    const res = await call('GET /v1/emails/{id}', { path: { id: 'id-1' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: 'id-1',
      status: 'queued',
      from: 'app@example.com',
      to: ['user@example.org'],
      subject: 'Hi',
      provider: null,
      providerMessageId: null,
      events: [{ type: 'queued', at: '2026-11-22T10:00:00.000Z' }],
    });
    expect(res.body).not.toHaveProperty('claimToken');
  });

  it('answers 404 for an unknown id', async () => {
    const res = await call('GET /v1/emails/{id}', { path: { id: 'nope' } });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });
});

describe('GET /health', () => {
  it('needs no key', async () => {
    const res = (await handler(httpEvent('GET /health'), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
  });
});

describe('auth cache', () => {
  it('looks a key up once per cache period, not on every request', async () => {
    await call('POST /v1/emails', { body: JSON.stringify(email) });
    await call('POST /v1/emails', { body: JSON.stringify(email) });
    expect(keys.lookups).toBe(1);
  });
});
