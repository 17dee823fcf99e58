/**
 * The routes of the HTTP API, as data. The CDK stack adds one API Gateway route per entry and the
 * local server (bin/local.ts) matches requests against the same list, so both expose the same API.
 */

/** ingest serves the keyed /v1 API; tracking serves the public links written into emails. */
export type ApiFunction = 'ingest' | 'tracking';

export interface ApiRoute {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path template, e.g. /v1/emails/{id}. */
  readonly path: string;
  /** The Lambda that serves the route. */
  readonly fn: ApiFunction;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/health', fn: 'ingest' },
  { method: 'POST', path: '/v1/emails', fn: 'ingest' },
  { method: 'POST', path: '/v1/emails/batch', fn: 'ingest' },
  { method: 'GET', path: '/v1/emails/{id}', fn: 'ingest' },
  { method: 'GET', path: '/v1/suppressions', fn: 'ingest' },
  { method: 'GET', path: '/v1/suppressions/{email}', fn: 'ingest' },
  { method: 'PUT', path: '/v1/suppressions/{email}', fn: 'ingest' },
  { method: 'DELETE', path: '/v1/suppressions/{email}', fn: 'ingest' },
  { method: 'GET', path: '/v1/settings/providers', fn: 'ingest' },
  { method: 'PUT', path: '/v1/settings/providers', fn: 'ingest' },
  { method: 'GET', path: '/u/{token}', fn: 'tracking' },
  { method: 'POST', path: '/u/{token}', fn: 'tracking' },
  { method: 'GET', path: '/o/{token}', fn: 'tracking' },
  { method: 'GET', path: '/c/{token}', fn: 'tracking' },
  // Link scanners often check a link with HEAD first; it redirects too and counts as a machine click.
  { method: 'HEAD', path: '/c/{token}', fn: 'tracking' },
];

/** The API Gateway route key ("POST /v1/emails") of a route. */
export const routeKey = (r: Pick<ApiRoute, 'method' | 'path'>): string => `${r.method} ${r.path}`;
