/**
 * The stand-in for the HTTP API: matches each request against the spec's routes (lib/api-routes.ts),
 * as API Gateway does, and invokes the function that serves the route with a payload format 2.0
 * event. A request no route matches goes to the catch-all's function (`CATCH_ALL`, the `$default`
 * route in AWS), which answers 404 or 405 in the API's envelope. What API Gateway answers by itself,
 * this answers the same way: a body over 10 MB is `413 {"message":"Request Entity Too Large"}`, a
 * function that throws `500 {"message":"Internal Server Error"}`. Until a function is wired it
 * answers 503 (local only: the stack is starting).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ApiFunction, type ApiRoute, CATCH_ALL, routeKey } from '../../lib/api-routes';
import { FUNCTIONS, ROUTES } from '../../lib/spec';
import { close, listen } from './emulators';
import { fakeContext, type HttpHandler } from './lambda';

/** API Gateway HTTP APIs accept at most 10 MB per request. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** What API Gateway itself answers, where no function is involved (the README's Errors section shows them). */
export const GATEWAY_ANSWERS = {
  tooLarge: { status: 413, body: { message: 'Request Entity Too Large' } },
  internal: { status: 500, body: { message: 'Internal Server Error' } },
} as const;

/** Matches a request path against an API Gateway path template; returns the path parameters. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] ?? '';
    const got = p[i] ?? '';
    const m = /^\{(\w+)\}$/.exec(seg);
    if (m?.[1]) {
      if (!got) return undefined;
      params[m[1]] = decodeURIComponent(got);
    } else if (seg !== got) return undefined;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The route a request reached: one of the list, or the catch-all (no path parameters). */
type Matched = { readonly fn: ApiFunction; readonly routeKey: string; readonly params?: Record<string, string> };

function toEvent(req: IncomingMessage, url: URL, matched: Matched, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return {
    version: '2.0',
    routeKey: matched.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    ...(matched.params ? { pathParameters: matched.params } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: matched.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: body.length > 0 ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  } as APIGatewayProxyEventV2;
}

/** The request listener: routes → the functions in `handlers` (filled in once they are wired). */
export function apiGateway(handlers: Partial<Record<ApiFunction, HttpHandler>>, routes: readonly ApiRoute[] = ROUTES) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    // API Gateway refuses an oversized request before it routes it.
    const body = await readBody(req);
    if (body === 'too-large') {
      // Like API Gateway, answer and close the connection without reading the rest of the upload.
      res.once('finish', () => req.destroy());
      return send(GATEWAY_ANSWERS.tooLarge.status, JSON.stringify(GATEWAY_ANSWERS.tooLarge.body), {
        connection: 'close',
      });
    }
    const found = routes
      .map((r) => ({ route: r, params: r.method === req.method ? matchPath(r.path, url.pathname) : undefined }))
      .find((m) => m.params);
    const matched: Matched = found?.params
      ? { fn: found.route.fn, routeKey: routeKey(found.route), params: found.params }
      : { fn: CATCH_ALL.fn, routeKey: CATCH_ALL.routeKey };
    const handler = handlers[matched.fn];
    if (!handler) return send(503, JSON.stringify({ message: 'Service Unavailable: starting' }));
    try {
      const out = await handler(
        toEvent(req, url, matched, body),
        fakeContext(`mailroute-${matched.fn}`, FUNCTIONS[matched.fn].timeoutSeconds),
      );
      const headers = (out.headers ?? {}) as Record<string, string>;
      // A body without a content type is JSON; an answer without a body (a redirect, a 204) has none.
      const typed = out.body ? { 'content-type': 'application/json', ...headers } : headers;
      res.writeHead(out.statusCode ?? 200, typed);
      res.end(out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? ''));
    } catch {
      send(GATEWAY_ANSWERS.internal.status, JSON.stringify(GATEWAY_ANSWERS.internal.body));
    }
  };
}

export interface ApiGateway {
  readonly url: string;
  /** The functions serving the routes; the server answers 503 for a route until its function is set. */
  readonly handlers: Partial<Record<ApiFunction, HttpHandler>>;
  stop(): Promise<void>;
}

/** Listens first (answering 503 until the functions are wired): the dispatcher's links need its URL. */
export async function startApiGateway(options: { readonly host: string; readonly port?: number }): Promise<ApiGateway> {
  const handlers: Partial<Record<ApiFunction, HttpHandler>> = {};
  const server = createServer(apiGateway(handlers));
  const port = await listen(server, options.port ?? 0, options.host);
  return { url: `http://${options.host}:${port}`, handlers, stop: () => close(server) };
}
