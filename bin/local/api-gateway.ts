/**
 * The stand-in for the HTTP API: matches each request against the spec's routes (lib/api-routes.ts),
 * as API Gateway does, and invokes the function that serves the route with a payload format 2.0
 * event. Until a function is wired it answers 503; an unknown route is a 404, a body over 10 MB a 413.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ApiFunction, type ApiRoute, routeKey } from '../../lib/api-routes';
import { FUNCTIONS, ROUTES } from '../../lib/spec';
import { close, listen } from './emulators';
import { fakeContext, type HttpHandler } from './lambda';

/** API Gateway HTTP APIs accept at most 10 MB per request. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

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

function toEvent(
  req: IncomingMessage,
  url: URL,
  route: ApiRoute,
  params: Record<string, string>,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    pathParameters: params,
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
      routeKey: routeKey(route),
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
    const matched = routes
      .map((r) => ({ route: r, params: r.method === req.method ? matchPath(r.path, url.pathname) : undefined }))
      .find((m) => m.params);
    if (!matched?.params) return send(404, JSON.stringify({ message: 'Not Found' }));
    const { route, params } = matched;
    const body = await readBody(req);
    if (body === 'too-large') return send(413, JSON.stringify({ message: 'Request Entity Too Large' }));
    const handler = handlers[route.fn];
    if (!handler) return send(503, JSON.stringify({ message: 'Service Unavailable: starting' }));
    try {
      const out = await handler(
        toEvent(req, url, route, params, body),
        fakeContext(`mailroute-${route.fn}`, FUNCTIONS[route.fn].timeoutSeconds),
      );
      const headers = (out.headers ?? {}) as Record<string, string>;
      res.writeHead(out.statusCode ?? 200, { 'content-type': 'application/json', ...headers });
      res.end(out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? ''));
    } catch {
      send(500, JSON.stringify({ message: 'Internal Server Error' }));
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
