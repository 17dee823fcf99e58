/**
 * The routes of the HTTP API, as data. The CDK stack adds one API Gateway route per entry, the local
 * server matches requests against the same list, and each function's handler map is typed by the
 * route keys of its function (`RouteKey<'ingest'>`), so a route without a handler, or a handler
 * without a route, does not compile (and test/unit/app/routes.test.ts checks it at run time too).
 * Pure data: lib/api-routes.ts re-exports it for the CDK code.
 */

/**
 * The functions behind the API: ingest serves the keyed /v1 API; tracking serves the public links
 * written into emails; webhookApi serves /v1/webhooks (its own function: it seals endpoint secrets
 * with the signing keys, which the sending path never loads); console serves the operator console's
 * page and the admin queue routes it needs (SQS, which ingest cannot reach).
 */
export const API_FUNCTIONS = ['ingest', 'tracking', 'webhookApi', 'console'] as const;
export type ApiFunction = (typeof API_FUNCTIONS)[number];

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRoute {
  readonly method: HttpMethod;
  /** API Gateway path template, e.g. /v1/emails/{id}. */
  readonly path: string;
  /** The Lambda that serves the route. */
  readonly fn: ApiFunction;
}

export const API_ROUTES = [
  { method: 'GET', path: '/health', fn: 'ingest' },
  // The API reference: the OpenAPI document and a page that renders it (app/openapi.ts), both public.
  { method: 'GET', path: '/v1/openapi.json', fn: 'ingest' },
  { method: 'GET', path: '/docs', fn: 'ingest' },
  { method: 'POST', path: '/v1/emails', fn: 'ingest' },
  { method: 'POST', path: '/v1/emails/batch', fn: 'ingest' },
  { method: 'GET', path: '/v1/emails/{id}', fn: 'ingest' },
  { method: 'POST', path: '/v1/attachments', fn: 'ingest' },
  // Scheduled sends: reschedule (a new scheduledAt) and cancel, while the email is scheduled.
  { method: 'PATCH', path: '/v1/emails/{id}', fn: 'ingest' },
  { method: 'POST', path: '/v1/emails/{id}/cancel', fn: 'ingest' },
  // Message search (app/email-search.ts).
  { method: 'GET', path: '/v1/emails', fn: 'ingest' },
  // Broadcasts (app/broadcasts.ts): a template to every consenting contact of a list, with a lifecycle.
  { method: 'POST', path: '/v1/broadcasts', fn: 'ingest' },
  { method: 'GET', path: '/v1/broadcasts', fn: 'ingest' },
  { method: 'GET', path: '/v1/broadcasts/{id}', fn: 'ingest' },
  { method: 'PATCH', path: '/v1/broadcasts/{id}', fn: 'ingest' },
  { method: 'POST', path: '/v1/broadcasts/{id}/schedule', fn: 'ingest' },
  { method: 'POST', path: '/v1/broadcasts/{id}/send', fn: 'ingest' },
  { method: 'POST', path: '/v1/broadcasts/{id}/pause', fn: 'ingest' },
  { method: 'POST', path: '/v1/broadcasts/{id}/resume', fn: 'ingest' },
  { method: 'POST', path: '/v1/broadcasts/{id}/cancel', fn: 'ingest' },
  { method: 'GET', path: '/v1/suppressions', fn: 'ingest' },
  { method: 'GET', path: '/v1/suppressions/{email}', fn: 'ingest' },
  { method: 'PUT', path: '/v1/suppressions/{email}', fn: 'ingest' },
  { method: 'DELETE', path: '/v1/suppressions/{email}', fn: 'ingest' },
  // Contacts, their consent, CSV imports and lists (app/contacts.ts, app/contact-imports.ts,
  // app/contact-lists.ts). The imports' literal paths come before `{id}`: the local stand-in takes the
  // first route that matches, as API Gateway takes the most specific.
  { method: 'GET', path: '/v1/contacts', fn: 'ingest' },
  { method: 'POST', path: '/v1/contacts', fn: 'ingest' },
  { method: 'POST', path: '/v1/contacts/imports', fn: 'ingest' },
  { method: 'GET', path: '/v1/contacts/imports/{id}', fn: 'ingest' },
  { method: 'POST', path: '/v1/contacts/imports/{id}/start', fn: 'ingest' },
  { method: 'GET', path: '/v1/contacts/{id}', fn: 'ingest' },
  { method: 'PATCH', path: '/v1/contacts/{id}', fn: 'ingest' },
  { method: 'DELETE', path: '/v1/contacts/{id}', fn: 'ingest' },
  { method: 'GET', path: '/v1/contacts/{id}/export', fn: 'ingest' },
  { method: 'GET', path: '/v1/lists', fn: 'ingest' },
  { method: 'POST', path: '/v1/lists', fn: 'ingest' },
  { method: 'GET', path: '/v1/lists/{id}', fn: 'ingest' },
  { method: 'DELETE', path: '/v1/lists/{id}', fn: 'ingest' },
  { method: 'GET', path: '/v1/lists/{id}/members', fn: 'ingest' },
  { method: 'POST', path: '/v1/lists/{id}/members', fn: 'ingest' },
  { method: 'DELETE', path: '/v1/lists/{id}/members', fn: 'ingest' },
  { method: 'GET', path: '/v1/settings/providers', fn: 'ingest' },
  { method: 'PUT', path: '/v1/settings/providers', fn: 'ingest' },
  { method: 'GET', path: '/v1/settings/streams', fn: 'ingest' },
  { method: 'POST', path: '/v1/settings/streams/{priority}/resume', fn: 'ingest' },
  { method: 'GET', path: '/v1/templates', fn: 'ingest' },
  { method: 'POST', path: '/v1/templates', fn: 'ingest' },
  { method: 'GET', path: '/v1/templates/{slug}', fn: 'ingest' },
  { method: 'PUT', path: '/v1/templates/{slug}', fn: 'ingest' },
  { method: 'POST', path: '/v1/templates/{slug}/publish', fn: 'ingest' },
  { method: 'POST', path: '/v1/templates/{slug}/activate', fn: 'ingest' },
  { method: 'GET', path: '/v1/templates/{slug}/versions', fn: 'ingest' },
  { method: 'POST', path: '/v1/templates/{slug}/render', fn: 'ingest' },
  { method: 'POST', path: '/v1/templates/{slug}/canary/promote', fn: 'ingest' },
  { method: 'POST', path: '/v1/templates/{slug}/canary/rollback', fn: 'ingest' },
  // Event-triggered sends: emit an event, and the rules that map event names to templated sends.
  { method: 'POST', path: '/v1/events', fn: 'ingest' },
  { method: 'GET', path: '/v1/rules', fn: 'ingest' },
  { method: 'POST', path: '/v1/rules', fn: 'ingest' },
  { method: 'GET', path: '/v1/rules/{id}', fn: 'ingest' },
  { method: 'PATCH', path: '/v1/rules/{id}', fn: 'ingest' },
  { method: 'DELETE', path: '/v1/rules/{id}', fn: 'ingest' },
  // Webhook endpoints, their deliveries and replays (admin keys).
  { method: 'GET', path: '/v1/webhooks', fn: 'webhookApi' },
  { method: 'POST', path: '/v1/webhooks', fn: 'webhookApi' },
  { method: 'GET', path: '/v1/webhooks/{id}', fn: 'webhookApi' },
  { method: 'PATCH', path: '/v1/webhooks/{id}', fn: 'webhookApi' },
  { method: 'DELETE', path: '/v1/webhooks/{id}', fn: 'webhookApi' },
  { method: 'POST', path: '/v1/webhooks/{id}/rotate-secret', fn: 'webhookApi' },
  { method: 'POST', path: '/v1/webhooks/{id}/test', fn: 'webhookApi' },
  { method: 'GET', path: '/v1/webhooks/{id}/deliveries', fn: 'webhookApi' },
  { method: 'POST', path: '/v1/webhooks/{id}/deliveries/{deliveryId}/replay', fn: 'webhookApi' },
  { method: 'POST', path: '/v1/webhooks/{id}/replay', fn: 'webhookApi' },
  // The Resend-compatible API (app/resend-api.ts): Resend's paths under /resend.
  { method: 'POST', path: '/resend/emails', fn: 'ingest' },
  { method: 'POST', path: '/resend/emails/batch', fn: 'ingest' },
  { method: 'GET', path: '/resend/emails/{id}', fn: 'ingest' },
  { method: 'PATCH', path: '/resend/emails/{id}', fn: 'ingest' },
  { method: 'POST', path: '/resend/emails/{id}/cancel', fn: 'ingest' },
  { method: 'GET', path: '/u/{token}', fn: 'tracking' },
  { method: 'POST', path: '/u/{token}', fn: 'tracking' },
  { method: 'GET', path: '/o/{token}', fn: 'tracking' },
  { method: 'GET', path: '/c/{token}', fn: 'tracking' },
  // Link scanners often check a link with HEAD first; it redirects too and counts as a machine click.
  { method: 'HEAD', path: '/c/{token}', fn: 'tracking' },
  // The operator console: its page and assets (public; every call it makes carries the operator's key),
  // and the admin routes for the queues (depth, dead letters, redrive).
  { method: 'GET', path: '/console', fn: 'console' },
  { method: 'GET', path: '/console/{asset}', fn: 'console' },
  // The caller's own key (name and scopes): the console shows only what the key may see and do.
  { method: 'GET', path: '/v1/key', fn: 'console' },
  { method: 'GET', path: '/v1/queues', fn: 'console' },
  { method: 'GET', path: '/v1/queues/{queue}/dead-letters', fn: 'console' },
  { method: 'POST', path: '/v1/queues/{queue}/redrive', fn: 'console' },
] as const satisfies readonly ApiRoute[];

/**
 * The catch-all: API Gateway's `$default` route takes every request no route above matches, and its
 * function answers `404 not_found` (no such path) or `405 method_not_allowed` with `Allow` (the path
 * exists with other methods) in the API's error envelope. It carries no authorizer and reaches no use
 * case. The local stand-in sends unmatched requests the same way.
 */
export const CATCH_ALL = { routeKey: '$default', fn: 'ingest' } as const satisfies {
  readonly routeKey: string;
  readonly fn: ApiFunction;
};

type KeyOf<R> = R extends { readonly method: infer M extends string; readonly path: infer P extends string }
  ? `${M} ${P}`
  : never;

/** The API Gateway route keys ("POST /v1/emails") of a function's routes (of all routes without `F`). */
export type RouteKey<F extends ApiFunction = ApiFunction> = KeyOf<Extract<(typeof API_ROUTES)[number], { fn: F }>>;

/** The API Gateway route key ("POST /v1/emails") of a route. */
export const routeKey = <const R extends Pick<ApiRoute, 'method' | 'path'>>(r: R): `${R['method']} ${R['path']}` =>
  `${r.method} ${r.path}`;

/** The route keys of one function, in the order of `API_ROUTES`. */
export const routeKeysOf = <F extends ApiFunction>(fn: F): RouteKey<F>[] =>
  API_ROUTES.filter((r) => r.fn === fn).map((r) => routeKey(r) as RouteKey<F>);
