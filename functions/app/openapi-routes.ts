/**
 * What the OpenAPI document says about each route: summary, scope, parameters, request body (the
 * schema the handler validates with), answers and error codes. Typed by the route list, so a route
 * without its entry does not compile; test/unit/app/openapi.test.ts checks every entry is complete.
 * The audience routes' docs live in one module per capability (openapi-routes-*.ts).
 */
import { BatchEmails, SendEmailBody } from '../core/email';
import { EmailSearchQuery } from '../core/email-search';
import { ResendBatchBody, ResendEmailBody, ResendUpdateBody } from '../core/resend';
import type { RouteKey } from '../core/routes';
import { ActivateBody, CreateTemplateBody, RenderBody, UpdateTemplateBody } from '../core/template';
import { UploadRequest } from './attachment-uploads';
import { ASSET_TYPES } from './console-assets';
import type { ParamDoc, ResponseDoc, RouteDoc } from './openapi-doc';
import { BROADCAST_ROUTE_DOCS } from './openapi-routes-broadcasts';
import { CONTACT_IMPORT_ROUTE_DOCS, CONTACT_LIST_ROUTE_DOCS, CONTACT_ROUTE_DOCS } from './openapi-routes-contacts';
import { RULE_ROUTE_DOCS } from './openapi-routes-rules';
import type { ResponseSchemaName } from './openapi-schemas';
import { DocumentBody, UpdateBody } from './provider-settings';
import { QUEUE_NAMES, RedriveBody } from './queues';
import { RescheduleBody } from './scheduling';
import { PutBody } from './suppressions';
import { CreateBody, DELIVERY_STATUSES, PatchBody, ReplayBody } from './webhook-api';

export { type ParamDoc, type ResponseDoc, type RouteDoc, TAGS, type Tag } from './openapi-doc';

const IDEMPOTENCY_KEY: ParamDoc = {
  name: 'Idempotency-Key',
  description:
    'Within 24 hours, per API key and route: the same key with the same body returns the first answer and sends nothing new; with another body it is a 409.',
  schema: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' },
};
const PAGE: readonly ParamDoc[] = [
  {
    name: 'limit',
    description: 'Items per page, 1 to 100 (default 50).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  { name: 'cursor', description: 'The `next` of the page before.', schema: { type: 'string' } },
];
const ok = (body: ResponseSchemaName, description = 'OK', status = 200): ResponseDoc => ({ status, description, body });

export const ROUTE_DOCS: { readonly [K in RouteKey]: RouteDoc } = {
  'GET /health': {
    tag: 'public',
    summary: 'Health check',
    auth: false,
    responses: [ok('Health', 'The API is up')],
    errors: [],
  },
  'GET /v1/openapi.json': {
    tag: 'public',
    summary: 'This OpenAPI 3.1 document',
    auth: false,
    responses: [{ status: 200, description: 'The document', body: 'none' }],
    errors: [],
  },
  'GET /docs': {
    tag: 'public',
    summary: 'The API reference page',
    description: 'Renders this document in the browser, with a form to try each request. No third-party requests.',
    auth: false,
    responses: [{ status: 200, description: 'An HTML page', body: 'html' }],
    errors: [],
  },
  'POST /v1/emails': {
    tag: 'emails',
    summary: 'Send one email',
    description:
      'Validates, records and queues the email. A 202 means its record is stored and it is on its queue. Unknown fields are refused. With `scheduledAt` (up to 30 days ahead) it waits as `scheduled` until then, and the answer echoes the time in UTC; `attachments` are checked and stored before the answer (a large file goes through POST /v1/attachments first).',
    auth: 'send',
    headers: [IDEMPOTENCY_KEY],
    body: () => [SendEmailBody],
    responses: [ok('Accepted', 'Accepted: recorded and queued', 202)],
    errors: ['idempotency_conflict'],
  },
  'POST /v1/emails/batch': {
    tag: 'emails',
    summary: 'Send up to 100 emails',
    description:
      'Each email is validated on its own; the batch is accepted or refused as a whole. Ids are in the order of `emails`.',
    auth: 'send',
    headers: [IDEMPOTENCY_KEY],
    body: () => [BatchEmails],
    responses: [ok('BatchAccepted', 'Accepted: every email recorded and queued', 202)],
    errors: ['idempotency_conflict'],
  },
  'GET /v1/emails': {
    tag: 'emails',
    summary: 'Search sent mail',
    description:
      'Newest first, paged. A key sees only its own mail unless it is an admin key. `to` is any recipient (to, cc, bcc); `tag` is `name` or `name:value`; `after` is inclusive, `before` exclusive. A page may hold fewer than `limit` emails while `next` is not null: follow `next` until it is null.',
    auth: 'read',
    query: () => EmailSearchQuery,
    responses: [ok('EmailPage', 'A page of emails, each as GET /v1/emails/{id} shows it')],
    errors: ['validation_failed'],
  },
  ...BROADCAST_ROUTE_DOCS,
  'GET /v1/emails/{id}': {
    tag: 'emails',
    summary: "An email's status and timeline",
    auth: 'read',
    responses: [ok('EmailStatus')],
    errors: ['not_found'],
  },
  'POST /v1/attachments': {
    tag: 'emails',
    summary: 'Upload a large attachment (a presigned URL)',
    description:
      'For a file too large to send inline: give its name, type and exact size; PUT the bytes to `uploadUrl` with the `headers` given, within 15 minutes (until `expiresAt`). Then name it as `attachmentId` in the `attachments` of any number of emails until `usableUntil`. The name and type are checked now (executables and scripts are refused by extension); the bytes are sniffed and checked when an email uses them.',
    auth: 'send',
    body: () => [UploadRequest],
    responses: [ok('AttachmentUpload', 'The upload URL and the id to send with', 201)],
    errors: [],
  },
  'PATCH /v1/emails/{id}': {
    tag: 'emails',
    summary: 'Reschedule a scheduled email',
    description:
      'Moves an email sent with `scheduledAt` to another time (an RFC 3339 date-time with an offset, from now to 30 days ahead), while it is still `scheduled`. A key changes the emails it sent; an admin key, any. A 503 leaves the email at its former time. A deployment without scheduled sends answers 422.',
    auth: 'send',
    body: () => [RescheduleBody],
    responses: [ok('EmailStatus', 'The email, at its new time')],
    errors: ['not_found', 'conflict'],
  },
  'POST /v1/emails/{id}/cancel': {
    tag: 'emails',
    summary: 'Cancel a scheduled email',
    description:
      'Cancels an email sent with `scheduledAt` while it is still `scheduled`; it is then `canceled` and never sent. An email already being sent (or sent) answers 409 with its status. A key cancels the emails it sent; an admin key, any. A deployment without scheduled sends answers 422.',
    auth: 'send',
    responses: [ok('EmailStatus', 'The email, canceled')],
    errors: ['not_found', 'conflict', 'validation_failed'],
  },
  ...CONTACT_ROUTE_DOCS,
  ...CONTACT_IMPORT_ROUTE_DOCS,
  ...CONTACT_LIST_ROUTE_DOCS,
  'GET /v1/suppressions': {
    tag: 'suppressions',
    summary: 'List suppressions',
    auth: 'read',
    queryParams: PAGE,
    responses: [ok('SuppressionPage')],
    errors: ['validation_failed'],
  },
  'GET /v1/suppressions/{email}': {
    tag: 'suppressions',
    summary: "One address's active suppressions",
    auth: 'read',
    responses: [ok('AddressSuppressions')],
    errors: ['not_found', 'validation_failed'],
  },
  'PUT /v1/suppressions/{email}': {
    tag: 'suppressions',
    summary: 'Suppress an address',
    auth: 'admin',
    body: () => [PutBody],
    bodyOptional: true,
    responses: [ok('Suppression')],
    errors: [],
  },
  'DELETE /v1/suppressions/{email}': {
    tag: 'suppressions',
    summary: 'Lift a suppression (re-enable the address)',
    auth: 'admin',
    queryParams: [
      { name: 'scope', description: '`*` (all mail, the default) or a category.', schema: { type: 'string' } },
    ],
    responses: [ok('SuppressionLifted')],
    errors: ['not_found', 'validation_failed'],
  },
  'GET /v1/settings/providers': {
    tag: 'settings',
    summary: 'The live provider chain, with health, throttle and warm-up',
    auth: 'admin',
    responses: [ok('ProviderSettings')],
    errors: [],
  },
  'PUT /v1/settings/providers': {
    tag: 'settings',
    summary: 'Change the chain, enabled flags, limits or warm-up',
    description:
      'A partial update, or the document GET returned, edited. `version` makes the save conditional (409 when it moved).',
    auth: 'admin',
    body: () => [UpdateBody, DocumentBody],
    responses: [ok('ProviderSettings', 'The saved settings')],
    errors: ['conflict'],
  },
  'GET /v1/settings/streams': {
    tag: 'settings',
    summary: 'The priority streams: state, rates, thresholds, timeline',
    auth: 'admin',
    responses: [ok('Streams')],
    errors: [],
  },
  'POST /v1/settings/streams/{priority}/resume': {
    tag: 'settings',
    summary: 'Resume a paused stream',
    auth: 'admin',
    responses: [ok('Stream', 'The stream, active again')],
    errors: ['not_found', 'conflict'],
  },
  'GET /v1/templates': {
    tag: 'templates',
    summary: 'List templates',
    auth: 'read',
    queryParams: PAGE,
    responses: [ok('TemplatePage')],
    errors: ['validation_failed'],
  },
  'POST /v1/templates': {
    tag: 'templates',
    summary: "Create a template's draft",
    auth: 'admin',
    body: () => [CreateTemplateBody],
    responses: [ok('Template', 'Created', 201)],
    errors: ['conflict'],
  },
  'GET /v1/templates/{slug}': {
    tag: 'templates',
    summary: 'A template, with the counters of its active and canary versions',
    auth: 'read',
    responses: [ok('Template')],
    errors: ['not_found'],
  },
  'PUT /v1/templates/{slug}': {
    tag: 'templates',
    summary: "Edit a template's draft",
    auth: 'admin',
    body: () => [UpdateTemplateBody],
    responses: [ok('Template')],
    errors: ['not_found', 'conflict'],
  },
  'POST /v1/templates/{slug}/publish': {
    tag: 'templates',
    summary: 'Publish the draft as the next version',
    auth: 'admin',
    responses: [ok('TemplateVersion', 'Published', 201)],
    errors: ['not_found', 'conflict', 'validation_failed'],
  },
  'POST /v1/templates/{slug}/activate': {
    tag: 'templates',
    summary: 'Activate a version, or start a canary',
    auth: 'admin',
    body: () => [ActivateBody],
    responses: [ok('Template')],
    errors: ['not_found', 'conflict'],
  },
  'GET /v1/templates/{slug}/versions': {
    tag: 'templates',
    summary: "A template's versions, newest first",
    auth: 'read',
    queryParams: PAGE,
    responses: [ok('TemplateVersionPage')],
    errors: ['not_found', 'validation_failed'],
  },
  'POST /v1/templates/{slug}/render': {
    tag: 'templates',
    summary: 'Preview the draft or a version',
    auth: 'read',
    body: () => [RenderBody],
    bodyOptional: true,
    responses: [ok('TemplatePreview')],
    errors: ['not_found'],
  },
  'POST /v1/templates/{slug}/canary/promote': {
    tag: 'templates',
    summary: "Make the canary's version the active one",
    auth: 'admin',
    responses: [ok('Template')],
    errors: ['not_found', 'conflict'],
  },
  'POST /v1/templates/{slug}/canary/rollback': {
    tag: 'templates',
    summary: 'End the canary, keeping the active version',
    auth: 'admin',
    responses: [ok('Template')],
    errors: ['not_found', 'conflict'],
  },
  ...RULE_ROUTE_DOCS,
  'GET /v1/webhooks': {
    tag: 'webhooks',
    summary: 'List webhook endpoints',
    description: 'Every endpoint (at most 50), without their secrets.',
    auth: 'admin',
    responses: [ok('WebhookEndpointList')],
    errors: [],
  },
  'POST /v1/webhooks': {
    tag: 'webhooks',
    summary: 'Register a webhook endpoint',
    description:
      "The URL must be https and, in AWS, resolve only to public addresses. `events` are event types (`email.delivered`), prefixes (`email.*`) or `*`. The answer carries the endpoint's `whsec_` signing secret: it is shown this once. An account has at most 50 endpoints (409 beyond).",
    auth: 'admin',
    body: () => [CreateBody],
    responses: [ok('WebhookEndpointCreated', 'Created, with its signing secret (shown once)', 201)],
    errors: ['conflict'],
  },
  'GET /v1/webhooks/{id}': {
    tag: 'webhooks',
    summary: 'A webhook endpoint',
    auth: 'admin',
    responses: [ok('WebhookEndpoint')],
    errors: ['not_found'],
  },
  'PATCH /v1/webhooks/{id}': {
    tag: 'webhooks',
    summary: 'Change a webhook endpoint',
    description:
      'Any of `url`, `events`, `description`, `enabled` (true re-enables an endpoint disabled after failing); fields left out keep their value. The URL is checked as at registration.',
    auth: 'admin',
    body: () => [PatchBody],
    bodyOptional: true,
    responses: [ok('WebhookEndpoint', 'The changed endpoint')],
    errors: ['not_found'],
  },
  'DELETE /v1/webhooks/{id}': {
    tag: 'webhooks',
    summary: 'Delete a webhook endpoint',
    auth: 'admin',
    responses: [ok('WebhookEndpointDeleted', 'Deleted')],
    errors: ['not_found'],
  },
  'POST /v1/webhooks/{id}/rotate-secret': {
    tag: 'webhooks',
    summary: "Rotate an endpoint's signing secret",
    description:
      'A new `whsec_` secret, shown this once. For 24 hours (until `previousSecretExpiresAt`) every delivery is signed with both the old and the new secret, so the receiver can switch without missing one.',
    auth: 'admin',
    responses: [ok('WebhookSecretRotated', 'The new secret')],
    errors: ['not_found'],
  },
  'POST /v1/webhooks/{id}/test': {
    tag: 'webhooks',
    summary: 'Send a test event to an endpoint',
    description:
      "Queues a `webhook.test` event for this endpoint only (whatever its filter); follow it in the endpoint's deliveries by `deliveryId`.",
    auth: 'admin',
    responses: [ok('WebhookTestSent', 'Queued', 202)],
    errors: ['not_found'],
  },
  'GET /v1/webhooks/{id}/deliveries': {
    tag: 'webhooks',
    summary: "An endpoint's deliveries, newest first",
    auth: 'admin',
    queryParams: [
      ...PAGE,
      {
        name: 'status',
        description: 'Only deliveries in this state.',
        schema: { type: 'string', enum: [...DELIVERY_STATUSES] },
      },
    ],
    responses: [ok('WebhookDeliveryPage')],
    errors: ['not_found', 'validation_failed'],
  },
  'POST /v1/webhooks/{id}/deliveries/{deliveryId}/replay': {
    tag: 'webhooks',
    summary: 'Replay one delivery',
    description:
      'Sends the delivery again with the same `webhook-id` and payload (receivers deduplicate on it), whatever its state; its attempts start over.',
    auth: 'admin',
    responses: [ok('WebhookDelivery', 'Queued again', 202)],
    errors: ['not_found'],
  },
  'POST /v1/webhooks/{id}/replay': {
    tag: 'webhooks',
    summary: 'Replay the failed deliveries since a time',
    description:
      'Queues again every `failed` delivery of the endpoint since `since` (an RFC 3339 date-time with an offset), up to 1000 per request: `more` is true when some were left; call again for them.',
    auth: 'admin',
    body: () => [ReplayBody],
    responses: [ok('WebhookReplay', 'Queued again', 202)],
    errors: ['not_found'],
  },
  'POST /resend/emails': {
    tag: 'resend',
    summary: 'Send an email (Resend: POST /emails)',
    description:
      'Goes through the same checks, templates (`template.id` is a mailroute template slug), suppression, idempotency and queues as POST /v1/emails. `scheduled_at`, `attachments` and `topic_id` are refused by name.',
    auth: 'send',
    headers: [IDEMPOTENCY_KEY],
    body: () => [ResendEmailBody],
    responses: [ok('ResendCreated')],
    errors: ['idempotency_conflict'],
    resendErrors: true,
  },
  'POST /resend/emails/batch': {
    tag: 'resend',
    summary: 'Send up to 100 emails (Resend: POST /emails/batch)',
    description:
      '`x-batch-validation: strict` (the default) refuses the whole batch if one email is invalid; `permissive` sends the valid ones and lists the others in `errors` by index.',
    auth: 'send',
    headers: [
      IDEMPOTENCY_KEY,
      {
        name: 'x-batch-validation',
        description: '`strict` (default) or `permissive`.',
        schema: { type: 'string', enum: ['strict', 'permissive'] },
      },
    ],
    body: () => [ResendBatchBody],
    responses: [ok('ResendBatchCreated')],
    errors: ['idempotency_conflict'],
    resendErrors: true,
  },
  'GET /resend/emails/{id}': {
    tag: 'resend',
    summary: 'Retrieve an email (Resend: GET /emails/{id})',
    description: 'Bodies are never stored: `html` and `text` are null.',
    auth: 'read',
    responses: [ok('ResendEmail')],
    errors: ['not_found'],
    resendErrors: true,
  },
  'PATCH /resend/emails/{id}': {
    tag: 'resend',
    summary: 'Reschedule an email (Resend: PATCH /emails/{id})',
    description:
      'Not supported through the Resend-compatible API (it refuses `scheduled_at` at send): a found email answers 409, even one scheduled through POST /v1/emails; reschedule those with PATCH /v1/emails/{id}.',
    auth: 'send',
    body: () => [ResendUpdateBody],
    responses: [ok('ResendCreated', 'Rescheduled')],
    errors: ['not_found', 'conflict'],
    resendErrors: true,
  },
  'POST /resend/emails/{id}/cancel': {
    tag: 'resend',
    summary: 'Cancel a scheduled email (Resend: POST /emails/{id}/cancel)',
    description:
      'Not supported through the Resend-compatible API (it refuses `scheduled_at` at send): a found email answers 409, even one scheduled through POST /v1/emails; cancel those with POST /v1/emails/{id}/cancel.',
    auth: 'send',
    responses: [ok('ResendCreated', 'Canceled')],
    errors: ['not_found', 'conflict'],
    resendErrors: true,
  },
  'GET /u/{token}': {
    tag: 'public',
    summary: 'Unsubscribe page (a person clicking the link)',
    description: 'Shows a confirm button; never unsubscribes by itself (mail scanners fetch links).',
    auth: false,
    responses: [
      { status: 200, description: 'The page', body: 'html' },
      { status: 400, description: 'A changed or truncated link', body: 'html' },
    ],
    errors: [],
  },
  'POST /u/{token}': {
    tag: 'public',
    summary: 'One-click unsubscribe (RFC 8058)',
    description: "Form-encoded `List-Unsubscribe=One-Click`: suppresses the address for the email's category.",
    auth: false,
    responses: [
      { status: 200, description: 'Unsubscribed', body: 'html' },
      { status: 400, description: 'A changed or truncated link', body: 'html' },
    ],
    errors: [],
  },
  'GET /o/{token}': {
    tag: 'public',
    summary: 'Open pixel',
    description: 'Always a 1×1 GIF, never cached, the same for valid, unknown and forged tokens.',
    auth: false,
    responses: [{ status: 200, description: 'A 1×1 transparent GIF', body: 'gif' }],
    errors: [],
  },
  'GET /c/{token}': {
    tag: 'public',
    summary: 'Click redirect',
    description: 'Redirects only to the URL the signed token carries.',
    auth: false,
    responses: [
      { status: 302, description: 'To the link the email carried', body: 'none', headers: ['Location'] },
      { status: 400, description: 'A changed, truncated or unsigned link', body: 'html' },
    ],
    errors: [],
  },
  'HEAD /c/{token}': {
    tag: 'public',
    summary: 'Click redirect, checked by a link scanner',
    auth: false,
    responses: [
      {
        status: 302,
        description: 'To the link the email carried (counted as a machine click)',
        body: 'none',
        headers: ['Location'],
      },
      { status: 400, description: 'A changed, truncated or unsigned link', body: 'none' },
    ],
    errors: [],
  },
  'GET /console': {
    tag: 'operations',
    summary: 'The operator console',
    description:
      "A page for operators: the queues (depths, dead letters, redrive), emails, templates, suppressions, the provider chain and the priority streams. The page holds no data and needs no key; every call it makes carries the key the operator gives it, and it shows only what that key's scopes allow.",
    auth: false,
    responses: [{ status: 200, description: 'An HTML page', body: 'html' }],
    errors: [],
  },
  'GET /console/{asset}': {
    tag: 'operations',
    summary: "The console's script and style sheet",
    auth: false,
    params: [{ name: 'asset', description: 'The file.', schema: { type: 'string', enum: Object.keys(ASSET_TYPES) } }],
    responses: [{ status: 200, description: 'The file', body: { text: Object.values(ASSET_TYPES) } }],
    errors: ['not_found'],
  },
  'GET /v1/key': {
    tag: 'operations',
    summary: "The caller's own key: name, scopes, sender domains, rate",
    description: 'Any valid key may read its own; the console uses it to show only what the key may see and do.',
    auth: 'any',
    responses: [ok('ApiKey')],
    errors: [],
  },
  'GET /v1/queues': {
    tag: 'operations',
    summary: 'The queues: depth and dead letters',
    description:
      "Each send queue (one per priority) and the SES events queue, with its dead-letter queue's depth and the age of its oldest dead letter among those one look sees (null when there are none). `redrive` says whether its dead letters can be redriven.",
    auth: 'admin',
    responses: [ok('Queues')],
    errors: [],
  },
  'GET /v1/queues/{queue}/dead-letters': {
    tag: 'operations',
    summary: "A queue's dead letters (a look, up to 10)",
    description:
      'Up to 10 messages of the dead-letter queue, with the email each carries and its status now. They are only looked at: they stay in the queue.',
    auth: 'admin',
    params: [{ name: 'queue', description: 'The queue.', schema: { type: 'string', enum: [...QUEUE_NAMES] } }],
    responses: [ok('DeadLetters')],
    errors: ['not_found'],
  },
  'POST /v1/queues/{queue}/redrive': {
    tag: 'operations',
    summary: "Redrive a send queue's dead letters",
    description:
      'As `npm run dlq:redrive`: an email goes back to its queue only if its retries ran out (or it is still queued), so none is sent twice; emails in a final state are dropped from the dead-letter queue, ambiguous ones left. Up to 1000 messages per request. `dryRun: true` reports what it would do and changes nothing. The SES events queue answers 409: its dead letters are not emails.',
    auth: 'admin',
    params: [{ name: 'queue', description: 'The queue.', schema: { type: 'string', enum: [...QUEUE_NAMES] } }],
    body: () => [RedriveBody],
    bodyOptional: true,
    responses: [ok('Redrive', 'What was moved, dropped and left')],
    errors: ['not_found', 'conflict'],
  },
};
