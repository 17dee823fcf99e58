import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createConsoleHandler } from '../../../functions/app/console';
import { CONSOLE_CSP } from '../../../functions/app/console-assets';
import { RETRIES_EXHAUSTED } from '../../../functions/core/dispatch';
import { SendEmailBody, toQueuedEmail } from '../../../functions/core/email';
import type { Scope } from '../../../functions/ports';
import { toQueueBody } from '../../../functions/store/sqs';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore } from '../../support/fakes';
import { FAKE_QUEUE_URLS, MemoryQueueAdmin } from '../../support/queue-admin-fake';
import { record } from '../../support/records';

const ASSETS = { html: '<!doctype html><title>console</title>', js: 'console.log(1)', css: 'body{}' };
const NOW = Date.parse('2026-11-29T12:00:00Z');

let keys: MemoryKeys;
let messages: MemoryMessageStore;
let queues: MemoryQueueAdmin;
let handler: ReturnType<typeof createConsoleHandler>;

beforeEach(() => {
  keys = new MemoryKeys();
  messages = new MemoryMessageStore();
  queues = new MemoryQueueAdmin(() => NOW);
  handler = createConsoleHandler({
    assets: ASSETS,
    auth: new Authenticator(keys),
    messages,
    queues,
    urls: FAKE_QUEUE_URLS,
    now: () => new Date(NOW),
  });
});

async function keyWith(name: string, scopes: Scope[]): Promise<string> {
  const key = `mr_test_${name}_0123456789`;
  await keys.put(hashKey(key), {
    name,
    createdAt: '2026-11-01T00:00:00Z',
    scopes,
    senderDomains: ['*'],
    ratePerSecond: 100,
  });
  return key;
}

async function call(routeKey: string, opts: { key?: string; path?: Record<string, string>; body?: unknown } = {}) {
  const res = (await handler(
    httpEvent(routeKey, {
      ...(opts.key ? { headers: { authorization: `Bearer ${opts.key}` } } : {}),
      ...(opts.path ? { path: opts.path } : {}),
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    }),
    lambdaContext(),
  )) as APIGatewayProxyStructuredResultV2;
  const text = res.isBase64Encoded ? Buffer.from(String(res.body), 'base64').toString('utf8') : String(res.body ?? '');
  return { status: res.statusCode, headers: res.headers ?? {}, text, json: () => JSON.parse(text) };
}

const queuedBody = (id: string) =>
  toQueueBody(
    toQueuedEmail(id, SendEmailBody.parse({ from: 'app@example.com', to: 'u@example.org', subject: 's', text: 'x' })),
  );

describe('the console page and assets', () => {
  it('serves the page with a strict CSP that allows only its own origin, and no framing', async () => {
    const res = await call('GET /console');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toBe(ASSETS.html);
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/default-src 'none'/);
    expect(CONSOLE_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(CONSOLE_CSP).toMatch(/connect-src 'self'(;|$)/);
    expect(CONSOLE_CSP).toMatch(/frame-ancestors 'none'/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:|\*/);
  });

  it('serves its script and style sheet with their types, and 404 for any other name', async () => {
    const js = await call('GET /console/{asset}', { path: { asset: 'console.js' } });
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.text).toBe(ASSETS.js);
    const css = await call('GET /console/{asset}', { path: { asset: 'console.css' } });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.text).toBe(ASSETS.css);
    const other = await call('GET /console/{asset}', { path: { asset: 'index.html' } });
    expect(other.status).toBe(404);
    expect(other.json().error.code).toBe('not_found');
  });
});

describe('GET /v1/key', () => {
  it('tells any valid key its own name and scopes, so the console shows only what the key may use', async () => {
    const key = await keyWith('sender', ['send']);
    const res = await call('GET /v1/key', { key });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ name: 'sender', scopes: ['send'], senderDomains: ['*'], ratePerSecond: 100 });
  });

  it('answers 401 without a valid key', async () => {
    expect((await call('GET /v1/key')).status).toBe(401);
    expect((await call('GET /v1/key', { key: 'mr_unknown_key_0000' })).status).toBe(401);
  });
});

describe('the queue routes', () => {
  it('need an admin key', async () => {
    const reader = await keyWith('reader', ['read', 'send']);
    for (const routeKey of [
      'GET /v1/queues',
      'GET /v1/queues/{queue}/dead-letters',
      'POST /v1/queues/{queue}/redrive',
    ]) {
      const res = await call(routeKey, { key: reader, path: { queue: 'transactional' } });
      expect(res.status).toBe(403);
    }
  });

  it('show each queue and its DLQ depth, and the age of the oldest dead letter', async () => {
    const admin = await keyWith('admin', ['admin']);
    queues.put(FAKE_QUEUE_URLS.bulk.url, 'waiting');
    queues.put(FAKE_QUEUE_URLS.transactional.dlqUrl, queuedBody('e1'), new Date(NOW - 90_000).toISOString());
    queues.put(FAKE_QUEUE_URLS.transactional.dlqUrl, queuedBody('e2'), new Date(NOW - 30_000).toISOString());
    const res = await call('GET /v1/queues', { key: admin });
    expect(res.status).toBe(200);
    const data = res.json().data as { queue: string }[];
    expect(data.map((q) => q.queue)).toEqual(['critical', 'transactional', 'bulk', 'ses-events']);
    expect(data[1]).toEqual({
      queue: 'transactional',
      depth: { visible: 0, inFlight: 0, delayed: 0 },
      deadLetters: { depth: { visible: 2, inFlight: 0, delayed: 0 }, oldestAgeSeconds: 90 },
      redrive: true,
    });
    expect(data[2]).toMatchObject({ queue: 'bulk', depth: { visible: 1 }, deadLetters: { oldestAgeSeconds: null } });
    expect(data[3]).toMatchObject({ queue: 'ses-events', redrive: false });
    // Looking did not take the dead letters away.
    expect(await queues.depth(FAKE_QUEUE_URLS.transactional.dlqUrl)).toEqual({ visible: 2, inFlight: 0, delayed: 0 });
  });

  it("peek a DLQ's letters with each email's record status, leaving them in the queue", async () => {
    const admin = await keyWith('admin', ['admin']);
    await messages.createMany([{ ...record('e1'), status: 'failed', reason: `${RETRIES_EXHAUSTED}: down` }]);
    queues.put(FAKE_QUEUE_URLS.critical.dlqUrl, queuedBody('e1'));
    queues.put(FAKE_QUEUE_URLS.critical.dlqUrl, 'not json');
    const res = await call('GET /v1/queues/{queue}/dead-letters', { key: admin, path: { queue: 'critical' } });
    expect(res.status).toBe(200);
    expect(res.json().data).toEqual([
      expect.objectContaining({
        emailId: 'e1',
        status: 'failed',
        reason: `${RETRIES_EXHAUSTED}: down`,
        receiveCount: 1,
      }),
      expect.objectContaining({ emailId: null, status: null }),
    ]);
    expect((await queues.depth(FAKE_QUEUE_URLS.critical.dlqUrl)).visible).toBe(2);
  });

  it('redrive a send queue: an email whose retries ran out goes back queued; a sent one is dropped', async () => {
    const admin = await keyWith('admin', ['admin']);
    await messages.createMany([
      { ...record('e1'), status: 'failed', reason: `${RETRIES_EXHAUSTED}: down` },
      { ...record('e2'), status: 'sent' },
    ]);
    queues.put(FAKE_QUEUE_URLS.transactional.dlqUrl, queuedBody('e1'));
    queues.put(FAKE_QUEUE_URLS.transactional.dlqUrl, queuedBody('e2'));
    const res = await call('POST /v1/queues/{queue}/redrive', {
      key: admin,
      path: { queue: 'transactional' },
      body: {},
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      queue: 'transactional',
      dryRun: false,
      moved: ['e1'],
      dropped: [{ id: 'e2' }],
      left: [],
    });
    expect((await messages.get('e1'))?.status).toBe('queued');
    expect(queues.bodies(FAKE_QUEUE_URLS.transactional.url)).toEqual([queuedBody('e1')]);
    expect(queues.bodies(FAKE_QUEUE_URLS.transactional.dlqUrl)).toEqual([]);
  });

  it('a dry run changes nothing', async () => {
    const admin = await keyWith('admin', ['admin']);
    await messages.createMany([{ ...record('e1'), status: 'failed', reason: `${RETRIES_EXHAUSTED}: down` }]);
    queues.put(FAKE_QUEUE_URLS.bulk.dlqUrl, queuedBody('e1'));
    const res = await call('POST /v1/queues/{queue}/redrive', {
      key: admin,
      path: { queue: 'bulk' },
      body: { dryRun: true },
    });
    expect(res.json()).toMatchObject({ dryRun: true, moved: ['e1'] });
    expect((await messages.get('e1'))?.status).toBe('failed');
    expect(queues.bodies(FAKE_QUEUE_URLS.bulk.dlqUrl)).toHaveLength(1);
    expect((await queues.depth(FAKE_QUEUE_URLS.bulk.dlqUrl)).visible).toBe(1);
  });

  it('refuse an unknown queue (404), a bad body (422), and the SES events queue (409: its letters are not emails)', async () => {
    const admin = await keyWith('admin', ['admin']);
    const unknown = await call('GET /v1/queues/{queue}/dead-letters', { key: admin, path: { queue: 'nope' } });
    expect(unknown.status).toBe(404);
    const bad = await call('POST /v1/queues/{queue}/redrive', {
      key: admin,
      path: { queue: 'bulk' },
      body: { dry: 1 },
    });
    expect(bad.status).toBe(422);
    const ses = await call('POST /v1/queues/{queue}/redrive', { key: admin, path: { queue: 'ses-events' }, body: {} });
    expect(ses.status).toBe(409);
  });
});
