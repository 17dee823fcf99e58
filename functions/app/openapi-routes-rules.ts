/**
 * The OpenAPI entries of the event rules and events routes (spread into ROUTE_DOCS of
 * app/openapi-routes.ts).
 */

import type { RouteKey } from '../core/routes';
import { CreateRuleBody, EmitEventBody, PatchRuleBody } from '../core/rule';
import type { ParamDoc, RouteDoc } from './openapi-doc';

type RuleRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/rules${string}` | 'POST /v1/events'>;

const PAGE: readonly ParamDoc[] = [
  {
    name: 'limit',
    description: 'Items per page, 1 to 100 (default 50).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  { name: 'cursor', description: 'The `next` of the page before.', schema: { type: 'string' } },
];
const RULE_ID: readonly ParamDoc[] = [{ name: 'id', description: "The rule's id.", schema: { type: 'string' } }];

export const RULE_ROUTE_DOCS = {
  'POST /v1/events': {
    tag: 'events',
    summary: 'Emit an event about a contact',
    description:
      "Every enabled rule of the event's name whose condition holds sends one templated email to the contact. Each email's id is derived from the rule, the event name, the contact and `idempotencyKey` (or, without it, the values of the rule's `keyFields` in `data`), so emitting the same event again sends nothing new: that rule answers `duplicate`. A contact given by address is created (without consent) when there is none; one given by id must exist (404). A rule whose `consentCategory` the contact has not agreed to is `skipped` with `no_consent`; a rule whose template cannot be rendered with the values is `skipped` with `template`; the others still send. No matching rule: 202 with an empty `sends`.",
    auth: 'send',
    body: () => [EmitEventBody],
    responses: [{ status: 202, description: 'What each matching rule did', body: 'EventAccepted' }],
    errors: ['not_found'],
  },
  'GET /v1/rules': {
    tag: 'events',
    summary: 'List the event rules',
    auth: 'read',
    queryParams: PAGE,
    responses: [{ status: 200, description: 'OK', body: 'RulePage' }],
    errors: ['validation_failed'],
  },
  'POST /v1/rules': {
    tag: 'events',
    summary: 'Create an event rule',
    description:
      "Maps an event name to a templated send. Its sends run as the key that creates it: `from` must be in one of that key's sender domains. `delay` (seconds, up to 30 days) sends later; `keyFields` name the `data` fields that identify an event (leave out timestamps and counters).",
    auth: 'admin',
    body: () => [CreateRuleBody],
    responses: [{ status: 201, description: 'Created', body: 'Rule' }],
    errors: ['conflict'],
  },
  'GET /v1/rules/{id}': {
    tag: 'events',
    summary: 'An event rule',
    auth: 'read',
    params: RULE_ID,
    responses: [{ status: 200, description: 'OK', body: 'Rule' }],
    errors: ['not_found'],
  },
  'PATCH /v1/rules/{id}': {
    tag: 'events',
    summary: 'Change an event rule',
    description:
      "The fields given replace the rule's; `null` clears an optional one. The event name cannot change (create another rule). The rule's sends then run as the key that changed it.",
    auth: 'admin',
    params: RULE_ID,
    body: () => [PatchRuleBody],
    responses: [{ status: 200, description: 'OK', body: 'Rule' }],
    errors: ['not_found'],
  },
  'DELETE /v1/rules/{id}': {
    tag: 'events',
    summary: 'Delete an event rule',
    description: 'The emails it sent stay as they are.',
    auth: 'admin',
    params: RULE_ID,
    responses: [{ status: 204, description: 'Deleted', body: 'none' }],
    errors: ['not_found'],
  },
} as const satisfies Record<RuleRouteKey, RouteDoc>;
