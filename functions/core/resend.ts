/**
 * The Resend-compatible API's shapes (under /resend): Resend's snake_case request bodies turned
 * into mailroute's own (validated by mailroute's schema, so every rule holds), a message record
 * shown as Resend's email object, and mailroute's errors in Resend's error shape
 * (`{"statusCode","message","name"}`). Pure: the routes are in app/resend-api.ts.
 */
import * as z from 'zod/mini';
import type { ErrorCode, FieldIssue } from './errors';
import type { MessageRecord } from './message';

/** One address or a list of them, as Resend takes `to`, `cc`, `bcc` and `reply_to`. */
const addresses = z.union([z.string(), z.array(z.string())]);

/**
 * A Resend email (POST /emails, and each item of POST /emails/batch). Unknown fields are refused, as
 * on mailroute's own API; fields Resend has that mailroute does not do (yet) are refused by name.
 */
export const ResendEmailBody = z.strictObject({
  from: z.string(),
  to: addresses,
  subject: z.optional(z.string()),
  html: z.optional(z.string()),
  text: z.optional(z.string()),
  cc: z.optional(addresses),
  bcc: z.optional(addresses),
  reply_to: z.optional(addresses),
  headers: z.optional(z.record(z.string(), z.string())),
  tags: z.optional(z.array(z.strictObject({ name: z.string(), value: z.string() }))),
  /** A mailroute template by its slug (Resend's template id), with its variables. */
  template: z.optional(z.strictObject({ id: z.string(), variables: z.optional(z.record(z.string(), z.unknown())) })),
  /** RFC 3339 with an offset (mailroute's `scheduledAt`); Resend's natural language ("in 1 hour") is not taken. */
  scheduled_at: z.optional(z.string()),
  /** Files as base64 `content` (the SDK encodes a Buffer so); `path` (a URL to fetch) is refused by name. */
  attachments: z.optional(
    z.array(
      z.object({
        filename: z.optional(z.string()),
        content: z.optional(z.string()),
        path: z.optional(z.string()),
        content_type: z.optional(z.string()),
        content_id: z.optional(z.string()),
      }),
    ),
  ),
  /** Not supported: refused by name (see `UNSUPPORTED`). */
  topic_id: z.optional(z.nullable(z.string())),
});
export type ResendEmailBody = z.infer<typeof ResendEmailBody>;

/** A batch: a list of 1 to 100 emails (Resend's body is the list itself). */
export const ResendBatchBody = z.array(z.unknown()).check(z.minLength(1), z.maxLength(100));

/** PATCH /emails/{id}: a new `scheduled_at`. */
export const ResendUpdateBody = z.strictObject({ scheduled_at: z.string() });

/** Resend fields mailroute does not do, and why a request that uses them is refused rather than sent without them. */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  topic_id: 'topics are not supported by this service',
};

/** What mailroute's schema (core/email.ts SendEmailBody) takes for a Resend email. */
export function toMailrouteInput(e: ResendEmailBody): Record<string, unknown> {
  return {
    from: e.from,
    to: e.to,
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    ...(e.html !== undefined ? { html: e.html } : {}),
    ...(e.text !== undefined ? { text: e.text } : {}),
    ...(e.cc !== undefined ? { cc: e.cc } : {}),
    ...(e.bcc !== undefined ? { bcc: e.bcc } : {}),
    ...(e.reply_to !== undefined ? { replyTo: e.reply_to } : {}),
    ...(e.headers !== undefined ? { headers: e.headers } : {}),
    ...(e.tags !== undefined ? { tags: Object.fromEntries(e.tags.map((t) => [t.name, t.value])) } : {}),
    ...(e.template !== undefined ? { template: { slug: e.template.id, variables: e.template.variables ?? {} } } : {}),
    ...(e.scheduled_at !== undefined ? { scheduledAt: e.scheduled_at } : {}),
    ...(e.attachments !== undefined && e.attachments.length > 0
      ? {
          attachments: e.attachments.map((a) => ({
            filename: a.filename,
            content: a.content,
            ...(a.content_type !== undefined ? { contentType: a.content_type } : {}),
            // Resend marks an inline image by its content id alone.
            ...(a.content_id !== undefined ? { disposition: 'inline', contentId: a.content_id } : {}),
          })),
        }
      : {}),
  };
}

/** The problems of a Resend email that uses a field mailroute does not do. */
export function unsupportedFields(e: ResendEmailBody): FieldIssue[] {
  const byPath = (e.attachments ?? []).flatMap((a, i) =>
    a.path !== undefined
      ? [{ path: `attachments.${i}.path`, message: 'attachments by URL are not supported; send the file as `content`' }]
      : [],
  );
  return [...byPath, ...unsupportedByName(e)];
}

function unsupportedByName(e: ResendEmailBody): FieldIssue[] {
  return Object.entries(UNSUPPORTED)
    .filter(([field]) => {
      const v = (e as Record<string, unknown>)[field];
      return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
    })
    .map(([path, message]) => ({ path, message }));
}

/** A mailroute field path as the Resend request names it (`replyTo` → `reply_to`, `tags.kind` → `tags`). */
export function resendPath(path: string): string {
  return path
    .replace(/(^|\.)replyTo(?=\.|$)/, '$1reply_to')
    .replace(/(^|\.)template\.slug(?=\.|$)/, '$1template.id')
    .replace(/(^|\.)tags\..*$/, '$1tags')
    .replace(/(^|\.)scheduledAt(?=\.|$)/, '$1scheduled_at')
    .replace(/(^|\.)contentType(?=\.|$)/, '$1content_type')
    .replace(/(^|\.)contentId(?=\.|$)/, '$1content_id')
    .replaceAll('`replyTo`', '`reply_to`');
}

/** Resend's `last_event` of an email, from its status and timeline. */
export type ResendLastEvent =
  | 'bounced'
  | 'canceled'
  | 'clicked'
  | 'complained'
  | 'delivered'
  | 'delivery_delayed'
  | 'failed'
  | 'opened'
  | 'queued'
  | 'scheduled'
  | 'sent'
  | 'suppressed';

const BY_STATUS: Readonly<Record<string, ResendLastEvent>> = {
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  bounced: 'bounced',
  complained: 'complained',
  suppressed: 'suppressed',
  rejected: 'failed',
  failed: 'failed',
  canceled: 'canceled',
  scheduled: 'scheduled',
  throttled: 'failed',
};
/** Timeline events that are Resend events of their own once they are the latest. */
const BY_EVENT: Readonly<Record<string, ResendLastEvent>> = {
  opened: 'opened',
  clicked: 'clicked',
  delayed: 'delivery_delayed',
};

export function lastEvent(r: Pick<MessageRecord, 'status' | 'events'>): ResendLastEvent {
  const latest = r.events.at(-1);
  // A machine's open or click (a scanner) is not one a person made.
  const human = latest && latest.detail?.machine !== true ? BY_EVENT[latest.type] : undefined;
  return human ?? BY_STATUS[r.status] ?? 'queued';
}

/** An email as Resend's GET /emails/{id} shows it. Bodies are never stored, so `html` and `text` are null. */
export function toResendEmail(r: MessageRecord) {
  return {
    object: 'email' as const,
    id: r.id,
    to: r.to,
    from: r.from,
    created_at: r.createdAt,
    subject: r.subject,
    html: null,
    text: null,
    bcc: r.bcc.length > 0 ? r.bcc : null,
    cc: r.cc.length > 0 ? r.cc : null,
    reply_to: null,
    last_event: lastEvent(r),
    scheduled_at: r.scheduledAt ?? null,
    tags: Object.entries(r.tags).map(([name, value]) => ({ name, value })),
    message_id: r.providerMessageId ?? null,
  };
}
export type ResendEmail = ReturnType<typeof toResendEmail>;

/** Resend's error names (the SDK's `RESEND_ERROR_CODE_KEY`). */
export type ResendErrorName =
  | 'invalid_idempotency_key'
  | 'validation_error'
  | 'missing_api_key'
  | 'restricted_api_key'
  | 'invalid_api_key'
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_idempotent_request'
  | 'concurrent_idempotent_requests'
  | 'invalid_from_address'
  | 'rate_limit_exceeded'
  | 'application_error'
  | 'internal_server_error';

/** The status and name Resend uses for a mailroute error (the details decide between Resend's finer names). */
export function resendError(
  code: ErrorCode,
  message: string,
  details: readonly FieldIssue[] = [],
): { statusCode: number; name: ResendErrorName } {
  const on = (path: string) => details.some((d) => d.path === path || d.path.endsWith(`.${path}`));
  switch (code) {
    case 'unauthorized':
      return message.startsWith('Send your API key')
        ? { statusCode: 401, name: 'missing_api_key' }
        : { statusCode: 403, name: 'invalid_api_key' };
    case 'forbidden':
      return on('from')
        ? { statusCode: 403, name: 'invalid_from_address' }
        : { statusCode: 401, name: 'restricted_api_key' };
    case 'validation_failed':
      return on('headers.Idempotency-Key')
        ? { statusCode: 400, name: 'invalid_idempotency_key' }
        : { statusCode: 422, name: 'validation_error' };
    case 'bad_request':
    case 'unsupported_media_type':
      return { statusCode: 400, name: 'validation_error' };
    case 'payload_too_large':
      return { statusCode: 413, name: 'validation_error' };
    case 'conflict':
      return { statusCode: 409, name: 'validation_error' };
    case 'idempotency_conflict':
      return /in progress/.test(message)
        ? { statusCode: 409, name: 'concurrent_idempotent_requests' }
        : { statusCode: 409, name: 'invalid_idempotent_request' };
    case 'not_found':
      return { statusCode: 404, name: 'not_found' };
    case 'method_not_allowed':
      return { statusCode: 405, name: 'method_not_allowed' };
    case 'rate_limited':
      return { statusCode: 429, name: 'rate_limit_exceeded' };
    case 'unavailable':
      return { statusCode: 503, name: 'application_error' };
    default:
      return { statusCode: 500, name: 'internal_server_error' };
  }
}

/** One message for a list of problems, each naming its field as the Resend request does. */
export function resendMessage(message: string, details: readonly FieldIssue[] = []): string {
  if (details.length === 0) return message;
  const problems = details.map((d) => {
    const path = resendPath(d.path);
    const text = resendPath(d.message);
    return text.includes(`\`${path}\``) || path === '(body)' ? text : `\`${path}\`: ${text}`;
  });
  return `${message} ${problems.join('; ')}`;
}
