import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { QueuedEmail } from '../../../functions/core/queued-email';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue, MemoryRateLimiter } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const KEY = 'mr_test_key_123456';
const READER = 'mr_test_reader_123456';
const ADMIN = 'mr_test_admin_123456';
const APP_KEY = {
  name: 'app',
  createdAt: '2026-01-01T00:00:00Z',
  scopes: ['send', 'read'] as const,
  senderDomains: ['example.com'],
  ratePerSecond: 3,
};
const email = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', html: '<p>Hello</p>' };

let messages: MemoryMessageStore;
let queue: MemoryQueue;
let keys: MemoryKeys;
let handler: ReturnType<typeof createIngestHandler>;
let ids: number;
let limiter: MemoryRateLimiter;

beforeEach(async () => {
  messages = new MemoryMessageStore();
  queue = new MemoryQueue();
  keys = new MemoryKeys();
  await keys.put(hashKey(KEY), { ...APP_KEY });
  await keys.put(hashKey(READER), { ...APP_KEY, name: 'reader', scopes: ['read'] });
  await keys.put(hashKey(ADMIN), { ...APP_KEY, name: 'ops', scopes: ['send', 'read', 'admin'], senderDomains: ['*'] });
  ids = 0;
  limiter = new MemoryRateLimiter();
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      rateLimit: limiter,
      newId: () => `id-${++ids}`,
      now: () => new Date('2026-11-22T10:00:00Z'),
    }),
  );
});

async function call(routeKey: string, opts: Parameters<typeof httpEvent>[1] & { key?: string } = {}) {
  const event = httpEvent(routeKey, {
    ...opts,
    headers: { authorization: `Bearer ${opts.key ?? KEY}`, ...opts.headers },
  });
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

  it('says the key is not valid for a well-formed header with a bad key; only a bad header gets the format hint', async () => {
    const send = (authorization: string) =>
      call('POST /v1/emails', { body: JSON.stringify(email), headers: { authorization } });
    const FORMAT = 'Send your API key as "Authorization: Bearer <key>".';
    const INVALID = 'The API key is not valid.';
    for (const header of ['', 'mr_test_key_123456', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b']) {
      expect(await send(header), header).toMatchObject({
        status: 401,
        body: { error: { code: 'unauthorized', message: FORMAT } },
      });
    }
    // Short (shorter than any key), long, unknown: the key is not valid, whatever its length.
    for (const key of ['abc', 'mr_x', 'x'.repeat(600), 'mr_unknown_key_123456']) {
      expect(await send(`Bearer ${key}`), key).toMatchObject({
        status: 401,
        body: { error: { code: 'unauthorized', message: INVALID } },
      });
    }
    await keys.put(hashKey(KEY), { ...APP_KEY, revoked: true });
    expect(await send(`Bearer ${KEY}`)).toMatchObject({ status: 401, body: { error: { message: INVALID } } });
    expect(messages.items.size).toBe(0);
  });

  it('answers 422 listing every problem in the API’s terms: a bad recipient and a missing body', async () => {
    const { html: _html, to: _to, ...rest } = email;
    const res = await call('POST /v1/emails', { body: JSON.stringify({ ...rest, to: ['bad'] }) });
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'validation_failed' } } });
    expect(res.body.error.details).toEqual([
      { path: 'to.0', message: '"bad": must be an email address like name@example.com' },
      { path: 'html', message: 'give html, text or both' },
    ]);
    const missing = await call('POST /v1/emails', { body: JSON.stringify(rest) });
    expect(missing.body.error.details).toEqual([
      { path: 'to', message: '`to` is required: an address or a list of addresses' },
      { path: 'html', message: 'give html, text or both' },
    ]);
    expect(messages.items.size).toBe(0);
  });

  it('a suppression PUT names its fields', async () => {
    const put = (body: unknown) =>
      call('PUT /v1/suppressions/{email}', {
        key: ADMIN,
        path: { email: 'a@example.org' },
        body: JSON.stringify(body),
      });
    expect((await put({ scope: 'x y', note: 'n'.repeat(501), reason: 'x' })).body.error.details).toEqual([
      { path: 'scope', message: 'scope is "*" (all mail) or a category name' },
      { path: 'note', message: '`note` must be at most 500 characters' },
      { path: '(body)', message: 'unknown field `reason`: it is not part of this request (check the spelling)' },
    ]);
    expect((await put({ scope: 5 })).body.error.details).toEqual([
      { path: 'scope', message: '`scope` must be a string' },
    ]);
    expect((await put(['*'])).body.error.details).toEqual([
      { path: '(body)', message: 'the body must be a JSON object' },
    ]);
  });

  it('refuses a revoked key', async () => {
    await keys.put(hashKey(KEY), { ...APP_KEY, revoked: true });
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
    expect(res.body.error.details[0].message).toBe('`emails.1.subject` must not be empty');
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

describe('scoped keys', () => {
  it('refuses (403) a key for one sender domain sending from another, and sends nothing', async () => {
    const res = await call('POST /v1/emails', { body: JSON.stringify({ ...email, from: 'ceo@other.example' }) });
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden', details: [{ path: 'from' }] } } });
    expect(res.body.error.message).toMatch(/example\.com only/);
    expect(messages.items.size).toBe(0);
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses a whole batch when one email is from a foreign domain', async () => {
    const res = await call('POST /v1/emails/batch', {
      body: JSON.stringify({ emails: [email, { ...email, from: 'x@other.example' }] }),
    });
    expect(res).toMatchObject({ status: 403, body: { error: { details: [{ path: 'emails.1.from' }] } } });
    expect(messages.items.size).toBe(0);
  });

  it('matches sender domains case-insensitively and allows display names', async () => {
    const res = await call('POST /v1/emails', { body: JSON.stringify({ ...email, from: 'Acme <news@EXAMPLE.com>' }) });
    expect(res.status).toBe(202);
  });

  it("checks each route's scope: a read-only key cannot send, a send key cannot manage suppressions", async () => {
    expect((await call('POST /v1/emails', { key: READER, body: JSON.stringify(email) })).status).toBe(403);
    expect((await call('PUT /v1/suppressions/{email}', { path: { email: 'a@example.org' } })).status).toBe(403);
    expect((await call('PUT /v1/suppressions/{email}', { key: ADMIN, path: { email: 'a@example.org' } })).status).toBe(
      200,
    );
  });

  it('lets a key read only the emails it sent (others get a 404, no oracle); an admin key reads any', async () => {
    await call('POST /v1/emails', { body: JSON.stringify(email) });
    expect((await call('GET /v1/emails/{id}', { path: { id: 'id-1' } })).status).toBe(200);
    expect((await call('GET /v1/emails/{id}', { key: READER, path: { id: 'id-1' } })).status).toBe(404);
    expect((await call('GET /v1/emails/{id}', { key: ADMIN, path: { id: 'id-1' } })).status).toBe(200);
  });

  it("answers 429 with Retry-After beyond the key's request rate", async () => {
    const event = () =>
      httpEvent('GET /v1/emails/{id}', { path: { id: 'x' }, headers: { authorization: `Bearer ${KEY}` } });
    const statuses: number[] = [];
    let last: APIGatewayProxyStructuredResultV2 | undefined;
    for (let i = 0; i < 5; i++) {
      last = (await handler(event(), lambdaContext())) as APIGatewayProxyStructuredResultV2;
      statuses.push(last.statusCode ?? 0);
    }
    // 3 per second for this key (the clock is fixed in these tests): the 4th and 5th are refused.
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    expect(last?.headers?.['retry-after']).toBeDefined();
    expect(JSON.parse(String(last?.body)).error.code).toBe('rate_limited');
  });
});

describe('auth cache', () => {
  it('looks a key up once per cache period, not on every request', async () => {
    await call('POST /v1/emails', { body: JSON.stringify(email) });
    await call('POST /v1/emails', { body: JSON.stringify(email) });
    expect(keys.lookups).toBe(1);
  });
});
