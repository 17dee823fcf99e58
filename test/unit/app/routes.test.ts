import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../../functions/app/auth';
import { createConsoleHandler } from '../../../functions/app/console';
import type { Route, RouteMap } from '../../../functions/app/http';
import { createIngestHandler } from '../../../functions/app/ingest';
import { createTrackingHandler } from '../../../functions/app/tracking';
import { createWebhookApiHandler } from '../../../functions/app/webhook-api';
import { API_FUNCTIONS, type ApiFunction, type RouteKey, routeKeysOf } from '../../../functions/core/routes';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue, MemoryRateLimiter, MemorySuppression } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';
import { FAKE_QUEUE_URLS, MemoryQueueAdmin } from '../../support/queue-admin-fake';
import { MemoryPublisher, MemoryWebhookDeliveries, MemoryWebhookEndpoints } from '../../support/webhook-fakes';

const ingest = createIngestHandler(
  ingestTestDeps({
    messages: new MemoryMessageStore(),
    queues: { critical: new MemoryQueue(), transactional: new MemoryQueue(), bulk: new MemoryQueue() },
    auth: new Authenticator(new MemoryKeys()),
    // No request here carries an Idempotency-Key, so this layer is never reached.
    rateLimit: new MemoryRateLimiter(),
  }),
);

const tracking = createTrackingHandler({
  messages: new MemoryMessageStore(),
  suppression: new MemorySuppression(),
  keys: new StaticSigningKeys({ current: 'k1', keys: { k1: 'route-test-key-0123456789abcdef0123' } }),
});

const webhookApi = createWebhookApiHandler({
  endpoints: new MemoryWebhookEndpoints(),
  deliveries: new MemoryWebhookDeliveries(),
  events: new MemoryPublisher(),
  retries: new MemoryQueue(),
  keys: new StaticSigningKeys({ current: 'k1', keys: { k1: 'route-test-key-0123456789abcdef0123' } }),
  policy: { allowPrivate: false },
  resolve: async () => ['93.184.215.14'],
  auth: new Authenticator(new MemoryKeys()),
  rateLimit: new MemoryRateLimiter(),
});

const consoleFn = createConsoleHandler({
  assets: { html: '<!doctype html><title>console</title>', js: '', css: '' },
  auth: new Authenticator(new MemoryKeys()),
  messages: new MemoryMessageStore(),
  queues: new MemoryQueueAdmin(),
  urls: FAKE_QUEUE_URLS,
});

const handlers = { ingest, tracking, webhookApi, console: consoleFn } satisfies Record<ApiFunction, unknown>;

describe.each(API_FUNCTIONS)('the %s function', (fn) => {
  const handler = handlers[fn];

  it('has a handler for every route the route list gives it, and none for another', () => {
    expect([...handler.routeKeys].sort()).toEqual([...routeKeysOf(fn)].sort());
  });

  it.each(routeKeysOf(fn))('serves %s (the request reaches a handler, not the "no route" answer)', async (key) => {
    const event = httpEvent(key, { path: { id: 'x', email: 'user@example.org', token: 'x' } });
    const response = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    const body = typeof response.body === 'string' && response.body.startsWith('{') ? JSON.parse(response.body) : {};
    expect(body.error?.message ?? '').not.toMatch(/^No route/);
  });

  it('answers 404 for a route key that is not in the route list', async () => {
    const response = (await handler(httpEvent('GET /nowhere'), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(String(response.body)).error.message).toBe('No route GET /nowhere.');
  });
});

describe('the type of a handler map', () => {
  const route: Route = { auth: false, handle: async () => ({ status: 204 }) };

  it('accepts exactly the route keys of its function', () => {
    const map: RouteMap<RouteKey<'tracking'>> = {
      'GET /o/{token}': route,
      'GET /c/{token}': route,
      'HEAD /c/{token}': route,
      'GET /u/{token}': route,
      'POST /u/{token}': route,
    };
    expect(Object.keys(map).sort()).toEqual([...routeKeysOf('tracking')].sort());
  });

  it('rejects a map that misses a route, or has a handler without a route (checked by tsc)', () => {
    // @ts-expect-error a route of the list without a handler is a missing property
    const missing: RouteMap<RouteKey<'tracking'>> = {
      'GET /o/{token}': route,
      'GET /c/{token}': route,
      'HEAD /c/{token}': route,
      'GET /u/{token}': route,
    };
    const extra: RouteMap<RouteKey<'tracking'>> = {
      'GET /o/{token}': route,
      'GET /c/{token}': route,
      'HEAD /c/{token}': route,
      'GET /u/{token}': route,
      'POST /u/{token}': route,
      // @ts-expect-error a handler without a route is an excess property
      'DELETE /u/{token}': route,
    };
    expect(Object.keys(missing)).toHaveLength(routeKeysOf('tracking').length - 1);
    expect(Object.keys(extra)).toHaveLength(routeKeysOf('tracking').length + 1);
  });
});
