/**
 * The OpenAPI document: every route of the spec is documented (request, answers, error codes, the
 * key it needs), it is what GET /v1/openapi.json serves, the README's curl examples are requests it
 * describes, and the /docs page renders it without any third-party request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createConsoleHandler } from '../../../functions/app/console';
import { createIngestHandler } from '../../../functions/app/ingest';
import { buildOpenApi } from '../../../functions/app/openapi';
import { DOCS_CSP, DOCS_PAGE } from '../../../functions/app/openapi-docs';
import { ROUTE_DOCS } from '../../../functions/app/openapi-routes';
import { responseSchemas } from '../../../functions/app/openapi-schemas';
import { createWebhookApiHandler } from '../../../functions/app/webhook-api';
import { toView } from '../../../functions/core/message';
import { toResendEmail } from '../../../functions/core/resend';
import { type RouteKey, routeKey } from '../../../functions/core/routes';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { ROUTES } from '../../../lib/spec';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';
import { findOperation, type Json, validator } from '../../support/openapi';
import { FAKE_QUEUE_URLS, MemoryQueueAdmin } from '../../support/queue-admin-fake';
import { curlExamples } from '../../support/readme-curl';
import { record } from '../../support/records';
import { MemoryPublisher, MemoryWebhookDeliveries, MemoryWebhookEndpoints } from '../../support/webhook-fakes';

const doc = buildOpenApi();
const SEND_ONLY = 'mr_send_only_key_0123456789';
const README = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');

describe('the OpenAPI document', () => {
  it.each(ROUTES.map((r) => routeKey(r)))('documents %s: summary, request, answers, error codes', (key) => {
    const [method = '', path = ''] = key.split(' ');
    const found = findOperation(doc, method, path.replace(/\{\w+\}/g, 'x'));
    expect(found?.path).toBe(path);
    const op = found?.op;
    if (!op) return;
    expect(op.summary.length).toBeGreaterThan(3);
    const statuses = Object.keys(op.responses).map(Number);
    expect(statuses.some((s) => s >= 200 && s < 400)).toBe(true);
    expect(statuses.some((s) => s >= 400)).toBe(true);
    for (const [, name] of path.matchAll(/\{(\w+)\}/g))
      expect(op.parameters?.some((p) => p.in === 'path' && p.name === name)).toBe(true);
    const entry = ROUTE_DOCS[key as RouteKey];
    if (entry.body) {
      expect(op.requestBody?.content['application/json'].schema).toBeDefined();
      expect(statuses).toContain(422);
    }
    if (entry.auth === 'any') {
      // Any valid key: checked by the handler itself, so no scope to lack (403) and no rate limit (429).
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(statuses).toContain(401);
      expect(statuses).not.toContain(403);
      expect(statuses).not.toContain(429);
    } else if (entry.auth) {
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(statuses).toEqual(expect.arrayContaining([401, 429]));
    } else expect(op.security).toEqual([]);
  });

  it('says which routes need a key as the handlers do (a keyed route without one is a 401, a public one is not)', async () => {
    const ingest = createIngestHandler(ingestTestDeps());
    for (const r of ROUTES.filter((x) => x.fn === 'ingest')) {
      const res = (await ingest(
        httpEvent(routeKey(r), { path: { id: 'x', email: 'a@example.org', slug: 'x', priority: 'bulk' }, headers: {} }),
        lambdaContext(),
      )) as APIGatewayProxyStructuredResultV2;
      const keyed = ROUTE_DOCS[routeKey(r) as RouteKey].auth !== false;
      expect(res.statusCode === 401 || res.statusCode === 403, routeKey(r)).toBe(keyed);
    }
  });

  it('says which routes of the webhook API and the console need a key, and which scope, as their handlers do', async () => {
    const keys = new MemoryKeys();
    const key = { createdAt: '', senderDomains: ['*'], ratePerSecond: 100 };
    await keys.put(hashKey(SEND_ONLY), { ...key, name: 'app', scopes: ['send'] });
    const auth = new Authenticator(keys);
    const handlers = {
      webhookApi: createWebhookApiHandler({
        endpoints: new MemoryWebhookEndpoints(),
        deliveries: new MemoryWebhookDeliveries(),
        events: new MemoryPublisher(),
        retries: new MemoryQueue(),
        keys: new StaticSigningKeys({ current: 'k1', keys: { k1: 'webhook-api-key-0123456789abcdef0123' } }),
        policy: { allowPrivate: false },
        resolve: async () => ['93.184.215.14'],
        auth,
      }),
      console: createConsoleHandler({
        assets: { html: '<!doctype html><title>console</title>', js: '', css: '' },
        auth,
        messages: new MemoryMessageStore(),
        queues: new MemoryQueueAdmin(),
        urls: FAKE_QUEUE_URLS,
      }),
    };
    const path = { id: 'ep_x', deliveryId: 'msg_x', asset: 'console.js', queue: 'bulk' };
    for (const r of ROUTES.filter((x) => x.fn === 'webhookApi' || x.fn === 'console')) {
      const key = routeKey(r) as RouteKey;
      const call = async (headers: Record<string, string>) =>
        (
          (await handlers[r.fn as keyof typeof handlers](
            httpEvent(key, { path, headers }),
            lambdaContext(),
          )) as APIGatewayProxyStructuredResultV2
        ).statusCode;
      const documented = ROUTE_DOCS[key].auth;
      const anonymous = await call({});
      expect(anonymous === 401, `${key} without a key`).toBe(documented !== false);
      // A key with the send scope only: refused by every route that documents another scope.
      const sendOnly = await call({ authorization: `Bearer ${SEND_ONLY}` });
      expect(sendOnly === 403, `${key} with a send-only key`).toBe(
        documented !== false && documented !== 'any' && documented !== 'send',
      );
    }
  });

  it('is what GET /v1/openapi.json serves, without a key', async () => {
    const ingest = createIngestHandler(ingestTestDeps());
    const res = (await ingest(httpEvent('GET /v1/openapi.json'), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual(doc);
  });

  it('documents request bodies with the schemas the handlers validate with (a typo is refused, as by the API)', () => {
    const send = findOperation(doc, 'POST', '/v1/emails')?.op.requestBody?.content['application/json'].schema ?? {};
    const valid = validator(doc, send);
    expect(valid.safeParse({ from: 'a@b.example', to: 'c@d.example', subject: 'Hi', text: 'Hi' }).success).toBe(true);
    expect(valid.safeParse({ from: 'a@b.example', to: ['c@d.example'], subject: 'Hi', htm: 'Hi' }).success).toBe(false);
    expect(valid.safeParse({ from: 'a@b.example', to: 'c@d.example', priority: 'urgent' }).success).toBe(false);
  });

  it("describes every answer's fields as the handlers write them", () => {
    const schemas = responseSchemas();
    const components = (doc.components as { schemas: Record<string, { properties?: Json }> }).schemas;
    const props = (name: keyof typeof schemas) => Object.keys(components[name]?.properties ?? {});
    const view = toView({
      ...record('m-1', { template: { slug: 't', version: 1 } }),
      reason: 'x',
      scheduledAt: '2026-12-01T09:00:00.000Z',
    });
    expect(Object.keys(view).sort()).toEqual(props('EmailStatus').sort());
    expect(schemas.EmailStatus.safeParse(view).success).toBe(true);
    const resend = toResendEmail(record('m-2'));
    expect(Object.keys(resend).sort()).toEqual(props('ResendEmail').sort());
    expect(schemas.ResendEmail.safeParse(resend).success).toBe(true);
  });
});

describe("the README's curl examples", () => {
  // A PUT of a file to its presigned upload URL (S3, not the API) is not in the document.
  const examples = curlExamples(README)
    .filter((e) => !e.command.includes('"$UPLOAD_URL"'))
    .map((e) => {
      const url = /"?(?:\$API|http:\/\/127\.0\.0\.1:3000)([^"\s]*)"?/.exec(e.command)?.[1] ?? '';
      const [path = '', query = ''] = url.replace(/\$ID|5b0c8f0e-…/g, 'some-id').split('?');
      // A time the shell fills in (`'"$(node -p '…')"'`, a moment from now) stands in as a fixed one.
      const filled = e.command.replace(/'"\$\([\s\S]*?\)"'/g, '2030-01-01T00:00:00Z');
      const data = /-d '([\s\S]*?)'/.exec(filled)?.[1];
      const method = /-X (\w+)/.exec(e.command)?.[1] ?? (data !== undefined ? 'POST' : 'GET');
      return { ...e, path, query: new URLSearchParams(query), method, data };
    });

  it('are found', () => {
    expect(examples.length).toBeGreaterThan(20);
    expect(examples.filter((e) => e.data !== undefined).length).toBeGreaterThan(10);
  });

  it.each(examples.map((e) => [`line ${e.line}: ${e.method} ${e.path}`, e] as const))(
    'call a documented operation with a documented status: %s',
    (_name, e) => {
      const found = findOperation(doc, e.method, e.path);
      // The examples of the catch-all (no such route, or not that method) are the ones the document has not.
      const noRoute = e.status === 405 || (e.status === 404 && (e.body ?? '').includes('No route'));
      if (noRoute) {
        expect(found, `${e.method} ${e.path} is in the document`).toBeUndefined();
        return;
      }
      expect(found, `${e.method} ${e.path} is not in the document`).toBeDefined();
      if (e.status !== undefined) expect(Object.keys(found?.op.responses ?? {})).toContain(String(e.status));
      const params = new Set((found?.op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
      for (const name of e.query.keys()) expect(params, `query parameter ${name}`).toContain(name);
    },
  );

  it.each(
    examples
      .filter((e) => e.data !== undefined && (e.status === undefined || e.status < 300))
      .map((e) => [`line ${e.line}: ${e.method} ${e.path}`, e] as const),
  )('send bodies the document describes: %s', (_name, e) => {
    const schema = findOperation(doc, e.method, e.path)?.op.requestBody?.content['application/json'].schema;
    expect(schema).toBeDefined();
    const parsed = validator(doc, schema ?? {}).safeParse(JSON.parse(e.data ?? ''));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});

describe('the /docs page', () => {
  it('is self-contained: no URL of another origin, inline style and script allowed only by their hashes', () => {
    expect(DOCS_PAGE).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//);
    expect(DOCS_PAGE).not.toMatch(/https?:\/\//);
    expect(DOCS_CSP).toMatch(/default-src 'none'/);
    expect(DOCS_CSP).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(DOCS_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it('is served with that policy, without a key', async () => {
    const ingest = createIngestHandler(ingestTestDeps());
    const res = (await ingest(httpEvent('GET /docs'), lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/^text\/html/);
    expect(res.headers?.['content-security-policy']).toBe(DOCS_CSP);
    expect(res.body).toBe(DOCS_PAGE);
  });
});
