/**
 * The routes of the HTTP API, as data. The CDK stack adds one API Gateway route per entry and the
 * local server (bin/local.ts) matches requests against the same list, so both expose the same API.
 */

export type ApiFunction = 'ingest';

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
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
];

/** The API Gateway route key ("POST /v1/emails") of a route. */
export const routeKey = (r: Pick<ApiRoute, 'method' | 'path'>): string => `${r.method} ${r.path}`;
