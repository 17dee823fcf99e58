/**
 * The one HTTP helper every API function uses: middleware in the same order everywhere (logger
 * context, metrics, error mapping), the body parsed and size-checked once, the caller
 * authenticated, and domain errors mapped to JSON responses in exactly one place.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DomainError, isDomainError, isTransient, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../core/errors';
import { API_ROUTES, type ApiRoute, CATCH_ALL } from '../core/routes';
import type { RequestRateLimiter, Scope } from '../ports';
import type { Authenticator, Caller } from './auth';
import { publishMetrics, traceInvocation } from './observability';
import { type EventBuffer, flushEvents } from './webhook-events';

export interface ApiRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
  /** The parsed JSON body (undefined for requests without one). */
  readonly body: unknown;
  readonly caller: Caller | undefined;
  header(name: string): string | undefined;
  param(name: string): string | undefined;
}

export interface ApiResult {
  readonly status: number;
  /** A JSON body. */
  readonly body?: unknown;
  /** An HTML page instead of JSON (public pages such as unsubscribe). */
  readonly html?: string;
  /** A binary body (base64) with its content type, e.g. the open pixel. */
  readonly binary?: { readonly contentType: string; readonly base64: string };
  /** Extra response headers (Location of a redirect, cache control). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
  /** The scope an API key needs for this route; false for public routes (signed links, health). */
  readonly auth: Scope | false;
  /** Largest accepted request body, in bytes. @default 0 (no body) */
  readonly maxBodyBytes?: number;
  /** 'json' parses and requires JSON; 'raw' hands the body over as text (forms). @default 'json' */
  readonly bodyType?: 'json' | 'raw';
  readonly handle: (req: ApiRequest) => Promise<ApiResult>;
  /**
   * How this route writes an error: the API's envelope, or that of another API the route is
   * compatible with (the Resend-compatible routes). @default errorResponse
   */
  readonly errorResponse?: (e: DomainError) => APIGatewayProxyStructuredResultV2;
}

/**
 * A function's handlers by API Gateway route key: exactly the keys `K` (with `K = RouteKey<'ingest'>`,
 * a route of the list without a handler is a missing property, a handler without a route an excess one).
 */
export type RouteMap<K extends string> = { readonly [P in K]: Route };

export interface HttpDeps {
  /** Needed when any route needs a key. */
  readonly auth?: Authenticator;
  /** Enforces each key's request rate. */
  readonly rateLimit?: RequestRateLimiter;
  readonly now?: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Webhook events of the request's state changes, published when it ends. @default - none */
  readonly events?: EventBuffer;
}

const json = (status: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

const html = (status: number, page: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  },
  body: page,
});

export function errorResponse(e: DomainError): APIGatewayProxyStructuredResultV2 {
  const response = json(e.status, {
    error: { code: e.code, message: e.message, ...(e.details && e.details.length > 0 ? { details: e.details } : {}) },
  });
  // A 503 always says when to try again.
  const retryAfter = e.retryAfterSeconds ?? (e.code === 'unavailable' ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined) response.headers = { ...response.headers, 'retry-after': String(retryAfter) };
  return response;
}

function parseBody(event: APIGatewayProxyEventV2, maxBytes: number, type: 'json' | 'raw'): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > maxBytes) {
    throw new DomainError(
      'payload_too_large',
      maxBytes === 0 ? 'This route takes no request body.' : `The request body is larger than ${maxBytes} bytes.`,
    );
  }
  if (type === 'raw') return raw.toString('utf8');
  const contentType = (event.headers?.['content-type'] ?? '').toLowerCase();
  if (contentType && !/^application\/(?:[\w.+-]*\+)?json\b/.test(contentType)) {
    throw new DomainError(
      'unsupported_media_type',
      'Send the request body as JSON with "Content-Type: application/json".',
    );
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new DomainError('bad_request', 'The request body is not valid JSON.', undefined, { cause: e });
  }
}

/** Whether a request path matches an API Gateway path template (`{name}` is one non-empty segment). */
function pathMatches(template: string, path: string): boolean {
  const t = template.split('/');
  const p = path.split('/');
  return t.length === p.length && t.every((seg, i) => (/^\{\w+\}$/.test(seg) ? (p[i] ?? '') !== '' : seg === p[i]));
}

/** The methods the route list has for a request path, in the list's order (none: no such path). */
export function methodsAt(path: string, routes: readonly Pick<ApiRoute, 'method' | 'path'>[] = API_ROUTES): string[] {
  return [...new Set(routes.filter((r) => pathMatches(r.path, path)).map((r) => r.method))];
}

/**
 * The answer to a request no route of this function serves (the catch-all route, or a route key it
 * does not have): `405 method_not_allowed` with `Allow` when the path exists with other methods,
 * `404 not_found` otherwise. It reads nothing and needs no key: it only names the API's own routes.
 */
export function noRouteResponse(event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 {
  const [keyMethod = '', keyPath = ''] = event.routeKey === CATCH_ALL.routeKey ? [] : event.routeKey.split(' ');
  const method = event.requestContext?.http?.method ?? keyMethod;
  const fullPath = event.rawPath ?? keyPath;
  const allow = methodsAt(fullPath);
  // Echoed in the message: the caller's own path, cut short.
  const path = fullPath.length > 200 ? `${fullPath.slice(0, 200)}…` : fullPath;
  if (allow.length > 0 && !allow.includes(method)) {
    const response = errorResponse(
      new DomainError('method_not_allowed', `${method} is not allowed on ${path}; it takes ${allow.join(', ')}.`),
    );
    return { ...response, headers: { ...response.headers, allow: allow.join(', ') } };
  }
  return errorResponse(new DomainError('not_found', `No route ${method} ${path}.`));
}

/**
 * The Lambda handler of an API function. `routeKeys` lists the route keys it serves (the keys of
 * `routes`), so tests can compare them with the route list.
 */
export function createHttpHandler<K extends string>(routes: RouteMap<K>, deps: HttpDeps) {
  const { logger, metrics } = deps;
  const byKey: Readonly<Record<string, Route | undefined>> = routes;

  const core = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = byKey[event.routeKey];
    if (!route) return noRouteResponse(event);
    logger.appendKeys({ route: event.routeKey, apiRequestId: event.requestContext?.requestId });
    let caller: Caller | undefined;
    if (route.auth) {
      if (!deps.auth) throw new Error(`route ${event.routeKey} needs an authenticator`);
      caller = await deps.auth.authenticate(event.headers?.authorization);
      logger.appendKeys({ apiKey: caller.keyName });
      if (!caller.scopes.includes(route.auth)) {
        throw new DomainError('forbidden', `This API key does not have the "${route.auth}" scope.`);
      }
      const rate = await deps.rateLimit?.take(caller.keyName, caller.ratePerSecond, (deps.now ?? Date.now)());
      if (rate && !rate.ok) {
        throw new DomainError(
          'rate_limited',
          `This API key may make ${caller.ratePerSecond} requests per second.`,
          undefined,
          {
            retryAfterSeconds: rate.retryAfterSeconds,
          },
        );
      }
    }
    const body = parseBody(event, route.maxBodyBytes ?? 0, route.bodyType ?? 'json');
    const headers = event.headers ?? {};
    const result = await route.handle({
      event,
      context,
      body,
      caller,
      header: (name) => headers[name.toLowerCase()],
      param: (name) => event.pathParameters?.[name],
    });
    const response = result.binary
      ? {
          statusCode: result.status,
          headers: { 'content-type': result.binary.contentType },
          body: result.binary.base64,
          isBase64Encoded: true,
        }
      : result.html !== undefined
        ? html(result.status, result.html)
        : result.status === 302 || result.status === 204
          ? { statusCode: result.status, headers: {} }
          : json(result.status, result.body);
    return { ...response, headers: { ...response.headers, ...result.headers } };
  };

  const handler = middy(core)
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .use(flushEvents(deps.events))
    .use({
      onError: async (request) => {
        const error = request.error;
        const respond = byKey[request.event.routeKey]?.errorResponse ?? errorResponse;
        if (isDomainError(error)) {
          if (error.status >= 500) logger.error('request failed', { code: error.code, error: error.cause ?? error });
          request.response = respond(error);
          return;
        }
        if (isTransient(error)) {
          // A dependency failed for now: a 503 the client may retry (the request created nothing).
          logger.error('request failed', { code: 'unavailable', error: error as Error });
          request.response = respond(
            new DomainError('unavailable', 'A service mailroute depends on did not answer; try again.', undefined, {
              retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
            }),
          );
          return;
        }
        logger.error('unexpected error', { error: error as Error });
        request.response = respond(new DomainError('internal', 'Something went wrong on our side; try again.'));
      },
    });
  const routeKeys: readonly K[] = Object.keys(routes) as K[];
  return Object.assign(handler, { routeKeys });
}
