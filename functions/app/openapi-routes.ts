/**
 * What the OpenAPI document says about each route: summary, scope, parameters, request body (the
 * schema the handler validates with), answers and error codes. Typed by the route list, so a route
 * without its entry does not compile; test/unit/app/openapi.test.ts checks every entry is complete.
 */
import type * as z from 'zod/mini';
import { BatchEmails, SendEmailBody } from '../core/email';
import { EmailSearchQuery } from '../core/email-search';
import type { ErrorCode } from '../core/errors';
import { ResendBatchBody, ResendEmailBody, ResendUpdateBody } from '../core/resend';
import type { RouteKey } from '../core/routes';
import { ActivateBody, CreateTemplateBody, RenderBody, UpdateTemplateBody } from '../core/template';
import type { Scope } from '../ports';
import type { ResponseSchemaName } from './openapi-schemas';
import { DocumentBody, UpdateBody } from './provider-settings';
import { PutBody } from './suppressions';

export const TAGS = {
  emails: 'Send email, read its status and timeline, search sent mail.',
  templates: 'Stored Liquid templates: drafts, immutable versions, activation and canaries.',
  suppressions: 'Addresses mail is never sent to, per scope (all mail or one category).',
  settings: 'The live provider chain and the priority streams (admin keys).',
  resend: "Resend's API, for applications using a Resend SDK: set the SDK's base URL to `<API>/resend`.",
  public: 'Unauthenticated: health, this reference, and the links written into emails.',
} as const;
export type Tag = keyof typeof TAGS;

/** A parameter the handler reads by hand (not through a schema). */
export interface ParamDoc {
  readonly name: string;
  readonly description: string;
  readonly schema: Readonly<Record<string, unknown>>;
  readonly required?: boolean;
}

export interface ResponseDoc {
  readonly status: number;
  readonly description: string;
  /** A JSON answer's schema; `html`, `gif` or `none` for the other kinds. */
  readonly body: ResponseSchemaName | 'html' | 'gif' | 'none';
  /** Response headers worth naming (Location of a redirect). */
  readonly headers?: readonly string[];
}

export interface RouteDoc {
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  /** The scope a key needs; false for a public route. Must match the handler's (a test checks). */
  readonly auth: Scope | false;
  /** The query string's schema, as the handler validates it (every parameter a string). */
  readonly query?: () => z.ZodMiniType;
  /** Query parameters the handler reads by hand. */
  readonly queryParams?: readonly ParamDoc[];
  readonly headers?: readonly ParamDoc[];
  /** The request body's schema(s), as the handler validates it; several: any one of them. */
  readonly body?: () => readonly z.ZodMiniType[];
  /** The body may be left out. @default false */
  readonly bodyOptional?: boolean;
  readonly responses: readonly ResponseDoc[];
  /** Error codes the route answers beyond those of its kind (a key, a body: see app/openapi.ts). */
  readonly errors: readonly ErrorCode[];
  /** Errors in Resend's shape instead of the API's envelope. */
  readonly resendErrors?: boolean;
}

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
      'Validates, records and queues the email. A 202 means its record is stored and it is on its queue. Unknown fields are refused.',
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
  'GET /v1/emails/{id}': {
    tag: 'emails',
    summary: "An email's status and timeline",
    auth: 'read',
    responses: [ok('EmailStatus')],
    errors: ['not_found'],
  },
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
      'Only a scheduled email can be rescheduled; this service does not schedule emails yet, so a found email answers 409.',
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
      'Only a scheduled email can be canceled; this service does not schedule emails yet, so a found email answers 409.',
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
};
