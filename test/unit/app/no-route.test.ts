import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../../functions/app/auth';
import { methodsAt, noRouteResponse } from '../../../functions/app/http';
import { createIngestHandler } from '../../../functions/app/ingest';
import { API_ROUTES, CATCH_ALL } from '../../../functions/core/routes';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue, MemoryRateLimiter, MemorySuppression } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const messages = new MemoryMessageStore();
const suppression = new MemorySuppression();
const queue = new MemoryQueue();
const ingest = createIngestHandler(
  ingestTestDeps({
    messages,
    suppression,
    queues: { critical: queue, transactional: queue, bulk: queue },
    auth: new Authenticator(new MemoryKeys()),
    rateLimit: new MemoryRateLimiter(),
  }),
);

/** The event API Gateway sends to the `$default` route: the request's method and path, no path parameters. */
function catchAllEvent(method: string, path: string, opts: { body?: string; authorization?: string } = {}) {
  const event = httpEvent(`${method} ${path}`, {
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.authorization ? { headers: { authorization: opts.authorization } } : {}),
  });
  return {
    ...event,
    routeKey: CATCH_ALL.routeKey,
    requestContext: { ...event.requestContext, routeKey: CATCH_ALL.routeKey },
  } satisfies APIGatewayProxyEventV2;
}

async function call(event: APIGatewayProxyEventV2) {
  const response = (await ingest(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, headers: response.headers ?? {}, body: JSON.parse(String(response.body)) };
}

describe('the catch-all route, served by ingest', () => {
  it('answers 404 not_found in the error envelope for a path the API does not have', async () => {
    const res = await call(catchAllEvent('GET', '/v1/nope'));
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No route GET /v1/nope.' } });
  });

  it('answers 405 method_not_allowed with Allow for a known path with another method', async () => {
    const res = await call(catchAllEvent('DELETE', '/v1/emails/5b0c8f0e'));
    expect(res.status).toBe(405);
    // GET reads it; PATCH reschedules it (scheduled sends).
    expect(res.headers.allow).toBe('GET, PATCH');
    expect(res.body.error.code).toBe('method_not_allowed');
    expect(res.body.error.message).toBe('DELETE is not allowed on /v1/emails/5b0c8f0e; it takes GET, PATCH.');
  });

  it('lists every method of the path in Allow, in the order of the route list', async () => {
    expect((await call(catchAllEvent('PATCH', '/v1/suppressions/jane@example.org'))).headers.allow).toBe(
      'GET, PUT, DELETE',
    );
    // /v1/emails/batch is the batch route's path and a value of GET /v1/emails/{id}'s.
    expect((await call(catchAllEvent('PUT', '/v1/emails/batch'))).headers.allow).toBe('POST, GET, PATCH');
    // The tracking function's paths are the API's too.
    expect((await call(catchAllEvent('POST', '/c/some-token'))).headers.allow).toBe('GET, HEAD');
    expect((await call(catchAllEvent('PATCH', '/v1/settings/providers'))).headers.allow).toBe('GET, PUT');
  });

  it('needs no key and reaches no use case: no authentication, nothing read or written', async () => {
    for (const authorization of [undefined, 'Bearer mr_not_a_key']) {
      const notFound = await call(
        catchAllEvent('POST', '/v1/nope', { body: '{"to":"x"}', ...(authorization ? { authorization } : {}) }),
      );
      expect(notFound.status).toBe(404);
      const notAllowed = await call(
        catchAllEvent('DELETE', '/v1/settings/providers', { ...(authorization ? { authorization } : {}) }),
      );
      expect(notAllowed.status).toBe(405);
    }
    expect(queue.sent).toHaveLength(0);
    expect(messages.items.size).toBe(0);
    expect(suppression.records.size).toBe(0);
  });

  it('answers 404 for paths that only look like routes (an empty parameter, a trailing slash, another prefix)', async () => {
    for (const path of ['/v1/emails/', '/v1/emails/a/b', '/v2/emails', '/', '/v1']) {
      const res = await call(catchAllEvent('GET', path));
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe('not_found');
    }
  });

  it('cuts a long path short in the message', async () => {
    const res = await call(catchAllEvent('GET', `/${'x'.repeat(5000)}`));
    expect(res.status).toBe(404);
    expect(res.body.error.message.length).toBeLessThan(240);
  });
});

describe('methodsAt', () => {
  it('gives the methods of every route whose template matches the path', () => {
    expect(methodsAt('/v1/emails')).toEqual(['POST', 'GET']);
    expect(methodsAt('/v1/emails/abc')).toEqual(['GET', 'PATCH']);
    expect(methodsAt('/health')).toEqual(['GET']);
    expect(methodsAt('/u/t')).toEqual(['GET', 'POST']);
    expect(methodsAt('/nowhere')).toEqual([]);
  });

  it('matches every route of the list on its own path (with parameters filled in)', () => {
    for (const route of API_ROUTES) {
      const path = route.path.replace(/\{\w+\}/g, 'x');
      expect(methodsAt(path), route.path).toContain(route.method);
    }
  });

  it('is what noRouteResponse answers for a route key a function does not have', () => {
    const res = noRouteResponse(httpEvent('PUT /v1/emails'));
    expect(res.statusCode).toBe(405);
    expect(res.headers?.allow).toBe('POST, GET');
  });
});
