/**
 * The OpenAPI entries of the broadcast routes (app/broadcasts.ts), spread into ROUTE_DOCS
 * (app/openapi-routes.ts); the schemas of their answers are in openapi-schemas-broadcasts.ts.
 */
import { CreateBroadcastBody, PatchBroadcastBody, ScheduleBroadcastBody } from '../core/broadcast-body';
import type { RouteKey } from '../core/routes';
import type { ParamDoc, RouteDoc } from './openapi-doc';

const LIFECYCLE =
  'States: `draft` → `scheduled` → `sending` → `sent`, and `paused`, `canceled`. An action the current state does not allow is a 409 whose `details` give the state.';

const PAGE: readonly ParamDoc[] = [
  {
    name: 'limit',
    description: 'Broadcasts per page, 1 to 100 (default 50).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  { name: 'cursor', description: 'The `next` of the page before.', schema: { type: 'string' } },
];

type BroadcastRouteKey = Extract<RouteKey, `${string} /v1/broadcasts${string}`>;

const action = (summary: string, description: string): RouteDoc => ({
  tag: 'broadcasts',
  summary,
  description: `${description} ${LIFECYCLE}`,
  auth: 'admin',
  responses: [{ status: 200, description: 'The broadcast afterwards', body: 'Broadcast' }],
  errors: ['not_found', 'conflict'],
});

export const BROADCAST_ROUTE_DOCS = {
  'POST /v1/broadcasts': {
    tag: 'broadcasts',
    summary: 'Create a broadcast (a draft)',
    description:
      "A template sent to every contact of a list who consents to the category. Each email's template variables come from the broadcast's `variables`, then the contact's attributes, then `email` (the address). The list and the template must exist; the key must be allowed the sender's domain, and the emails are sent as this key.",
    auth: 'admin',
    body: () => [CreateBroadcastBody],
    responses: [{ status: 201, description: 'The draft', body: 'Broadcast' }],
    errors: ['forbidden'],
  },
  'GET /v1/broadcasts': {
    tag: 'broadcasts',
    summary: 'Broadcasts, newest first',
    auth: 'read',
    queryParams: PAGE,
    responses: [{ status: 200, description: 'A page of broadcasts (without counts)', body: 'BroadcastPage' }],
    errors: ['validation_failed'],
  },
  'GET /v1/broadcasts/{id}': {
    tag: 'broadcasts',
    summary: 'A broadcast with its counts',
    description:
      '`counts`: `targeted` (emails accepted for consenting contacts), `skipped` by reason (`no_consent`, `render`: the fan-out left them out; `suppressed`, `cooldown`: the dispatcher did, at send time), and what happened to the emails (`sent`, `delivered`, `bounced`, `complained`, `opened` and `clicked` by a person, once per email, `unsubscribed`, `failed`).',
    auth: 'read',
    responses: [{ status: 200, description: 'The broadcast', body: 'Broadcast' }],
    errors: ['not_found'],
  },
  'PATCH /v1/broadcasts/{id}': {
    tag: 'broadcasts',
    summary: "Edit a draft's definition",
    description: `The fields given replace the draft's (\`null\` removes an optional one). Only a draft can be edited. ${LIFECYCLE}`,
    auth: 'admin',
    body: () => [PatchBroadcastBody],
    responses: [{ status: 200, description: 'The draft afterwards', body: 'Broadcast' }],
    errors: ['not_found', 'conflict', 'forbidden'],
  },
  'POST /v1/broadcasts/{id}/schedule': {
    ...action(
      'Schedule a draft',
      "At `scheduledAt` (in the body, or the draft's): up to 30 days ahead. The fan-out starts at that time.",
    ),
    body: () => [ScheduleBroadcastBody],
    bodyOptional: true,
  },
  'POST /v1/broadcasts/{id}/send': action(
    'Send now',
    'Starts the fan-out of a draft or a scheduled broadcast (its schedule is dropped).',
  ),
  'POST /v1/broadcasts/{id}/pause': action(
    'Pause the fan-out',
    'It stops before its next page; emails already queued are sent.',
  ),
  'POST /v1/broadcasts/{id}/resume': action(
    'Resume a paused broadcast',
    'The fan-out goes on from the page it stopped at; no contact gets the broadcast twice.',
  ),
  'POST /v1/broadcasts/{id}/cancel': action(
    'Cancel a broadcast',
    'No further page is fanned out; emails already queued are sent.',
  ),
} as const satisfies { readonly [K in BroadcastRouteKey]: RouteDoc };
