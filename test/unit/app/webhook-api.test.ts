import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createWebhookApiHandler } from '../../../functions/app/webhook-api';
import { openSecret } from '../../../functions/core/webhook-secret';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryQueue } from '../../support/fakes';
import { MemoryPublisher, MemoryWebhookDeliveries, MemoryWebhookEndpoints } from '../../support/webhook-fakes';

const ADMIN = 'mr_admin_key_0123456789';
const SENDER = 'mr_send_key_0123456789';
const ring = { current: 'k1', keys: { k1: 'webhook-api-key-0123456789abcdef0123' } };

let endpoints: MemoryWebhookEndpoints;
let deliveries: MemoryWebhookDeliveries;
let events: MemoryPublisher;
let retries: MemoryQueue;
let dns: Record<string, string[]>;
let handler: ReturnType<typeof createWebhookApiHandler>;

beforeEach(async () => {
  endpoints = new MemoryWebhookEndpoints();
  deliveries = new MemoryWebhookDeliveries();
  events = new MemoryPublisher();
  retries = new MemoryQueue();
  dns = { 'hooks.example.com': ['93.184.215.14'], 'rebind.example.com': ['93.184.215.14', '169.254.169.254'] };
  const keys = new MemoryKeys();
  const key = { createdAt: '', senderDomains: ['*'], ratePerSecond: 100 };
  await keys.put(hashKey(ADMIN), { ...key, name: 'ops', scopes: ['read', 'admin'] });
  await keys.put(hashKey(SENDER), { ...key, name: 'app', scopes: ['send', 'read'] });
  handler = createWebhookApiHandler({
    endpoints,
    deliveries,
    events,
    retries,
    keys: new StaticSigningKeys(ring),
    policy: { allowPrivate: false },
    resolve: async (host) => dns[host] ?? Promise.reject(new Error('ENOTFOUND')),
    auth: new Authenticator(keys),
    now: () => new Date('2026-11-29T10:00:00Z'),
  });
});

async function call(routeKey: string, opts: { body?: unknown; path?: Record<string, string>; key?: string } = {}) {
  const event = httpEvent(routeKey, {
    headers: { authorization: `Bearer ${opts.key ?? ADMIN}` },
    ...(opts.path ? { path: opts.path } : {}),
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}
const create = (body: unknown, key?: string) => call('POST /v1/webhooks', { body, ...(key ? { key } : {}) });

describe('the webhook API', () => {
  it('registers an endpoint: its secret is answered once and stored sealed', async () => {
    const res = await create({ url: 'https://hooks.example.com/in', events: ['email.*', 'email.*'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: 'https://hooks.example.com/in', events: ['email.*'], enabled: true });
    const stored = await endpoints.get(res.body.id);
    expect(JSON.stringify(stored)).not.toContain(res.body.secret.slice(6));
    expect(openSecret(stored?.secrets[0]?.sealed ?? '', ring, res.body.id)).toBe(res.body.secret);
    const read = await call('GET /v1/webhooks/{id}', { path: { id: res.body.id } });
    expect(JSON.stringify(read.body)).not.toContain('secret');
  });

  it.each([
    ['an http URL', 'http://hooks.example.com/in'],
    ['the metadata address', 'https://169.254.169.254/latest'],
    ['a host resolving to a private address among public ones', 'https://rebind.example.com/in'],
    ['a host that does not resolve', 'https://nowhere.example.com/in'],
  ])('refuses %s with a 422 on url, and creates nothing', async (_what, url) => {
    const res = await create({ url, events: ['*'] });
    expect(res).toMatchObject({
      status: 422,
      body: { error: { code: 'validation_failed', details: [{ path: 'url' }] } },
    });
    expect(endpoints.items.size).toBe(0);
  });

  it('refuses unknown event types, unknown fields, and keys without the admin scope', async () => {
    expect((await create({ url: 'https://hooks.example.com/in', events: ['email.sentt'] })).body.error.details).toEqual(
      [{ path: 'events.0', message: expect.stringContaining('email.sentt') }],
    );
    expect((await create({ url: 'https://hooks.example.com/in', events: ['*'], secret: 'x' })).status).toBe(422);
    expect((await create({ url: 'https://hooks.example.com/in', events: ['*'] }, SENDER)).status).toBe(403);
    expect(endpoints.items.size).toBe(0);
  });

  it('a PATCH to a private URL is refused and changes nothing', async () => {
    const { body } = await create({ url: 'https://hooks.example.com/in', events: ['*'] });
    const res = await call('PATCH /v1/webhooks/{id}', {
      path: { id: body.id },
      body: { url: 'https://rebind.example.com/in', events: ['email.sent'] },
    });
    expect(res.status).toBe(422);
    expect((await endpoints.get(body.id))?.events).toEqual(['*']);
  });

  it('the test route queues a webhook.test event for that endpoint only', async () => {
    const { body } = await create({ url: 'https://hooks.example.com/in', events: ['email.sent'] });
    const res = await call('POST /v1/webhooks/{id}/test', { path: { id: body.id } });
    expect(res.status).toBe(202);
    expect(events.events).toEqual([expect.objectContaining({ type: 'webhook.test', endpointId: body.id })]);
  });

  it('rotating keeps the old secret signing for 24 hours', async () => {
    const { body } = await create({ url: 'https://hooks.example.com/in', events: ['*'] });
    const res = await call('POST /v1/webhooks/{id}/rotate-secret', { path: { id: body.id } });
    expect(res.body.previousSecretExpiresAt).toBe('2026-11-30T10:00:00.000Z');
    const secrets = (await endpoints.get(body.id))?.secrets ?? [];
    expect(secrets.map((s) => openSecret(s.sealed, ring, body.id))).toEqual([res.body.secret, body.secret]);
    expect(secrets[1]?.expiresAt).toBe('2026-11-30T10:00:00.000Z');
  });

  it('replay {since} starts failed deliveries over and queues them at once', async () => {
    const { body } = await create({ url: 'https://hooks.example.com/in', events: ['*'] });
    const base = { endpointId: body.id, eventId: 'evt_1', type: 'email.sent', payload: '{}', expiresAt: 0 };
    await deliveries.create({ ...base, id: 'msg_a', createdAt: '2026-11-29T09:00:00Z', status: 'failed', attempts: 8 });
    await deliveries.create({ ...base, id: 'msg_b', createdAt: '2026-11-28T09:00:00Z', status: 'failed', attempts: 8 });
    await deliveries.create({
      ...base,
      id: 'msg_c',
      createdAt: '2026-11-29T09:30:00Z',
      status: 'delivered',
      attempts: 1,
    });
    const res = await call('POST /v1/webhooks/{id}/replay', {
      path: { id: body.id },
      body: { since: '2026-11-29T00:00:00Z' },
    });
    expect(res).toMatchObject({ status: 202, body: { replayed: 1, deliveryIds: ['msg_a'] } });
    expect((await deliveries.get(body.id, 'msg_a'))?.status).toBe('pending');
    expect(retries.sent).toHaveLength(1);
    const bad = await call('POST /v1/webhooks/{id}/replay', { path: { id: body.id }, body: { since: 'yesterday' } });
    expect(bad.status).toBe(422);
  });
});
