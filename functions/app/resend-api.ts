/**
 * The Resend-compatible API under /resend: Resend's paths, snake_case fields, answers and error
 * shapes, so an application using a Resend SDK switches by changing its base URL. Each email goes
 * through mailroute's own ingest use case (`accept`: validation by mailroute's schema, templates,
 * sender domains, Idempotency-Key, record and queue), so every guarantee of /v1 holds here too.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { type SendEmail, SendEmailBody } from '../core/email';
import { DomainError, type FieldIssue } from '../core/errors';
import {
  ResendBatchBody,
  ResendEmailBody,
  ResendUpdateBody,
  resendError,
  resendMessage,
  resendPath,
  toMailrouteInput,
  toResendEmail,
  unsupportedFields,
} from '../core/resend';
import type { RouteKey } from '../core/routes';
import { API_ERRORS } from '../core/zod-locale';
import type { MessageStore } from '../ports';
import { type Caller, maySendFrom } from './auth';
import type { ApiRequest, Route, RouteMap } from './http';

export interface ResendApiDeps {
  /** mailroute's ingest use case: emails rendered, checked, recorded and queued, at most once per Idempotency-Key. */
  readonly accept: (req: ApiRequest, emails: SendEmail[]) => Promise<string[]>;
  readonly messages: Pick<MessageStore, 'get'>;
  /** mailroute's reschedule and cancel use cases (app/scheduling.ts), for the caller's scheduled email. */
  readonly reschedule: (req: ApiRequest, id: string, scheduledAt: string) => Promise<unknown>;
  readonly cancel: (req: ApiRequest, id: string) => Promise<unknown>;
  /** Largest bodies, as on /v1: one email, and a batch. */
  readonly maxBytes: { readonly email: number; readonly batch: number };
}

/** The routes under /resend. */
export type ResendRouteKey = Extract<RouteKey<'ingest'>, `${string} /resend/${string}`>;

/** A mailroute error in Resend's shape: `{"statusCode","message","name"}`. */
export function resendErrorResponse(e: DomainError): APIGatewayProxyStructuredResultV2 {
  const { statusCode, name } = resendError(e.code, e.message, e.details);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  };
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  else if (e.code === 'unavailable') headers['retry-after'] = '1';
  return {
    statusCode,
    headers,
    body: JSON.stringify({ statusCode, message: resendMessage(e.message, e.details), name }),
  };
}

const issuesOf = (error: z.core.$ZodError, prefix: string): FieldIssue[] =>
  error.issues.map((i) => ({
    path: resendPath([prefix, ...i.path.map(String)].filter((p) => p !== '').join('.')) || '(body)',
    message: i.message,
  }));

/** A Resend email as mailroute's, or the problems that keep it from being sent (paths as Resend names them). */
export function parseResendEmail(body: unknown, prefix = ''): { email: SendEmail } | { issues: FieldIssue[] } {
  const shape = ResendEmailBody.safeParse(body, API_ERRORS);
  if (!shape.success) return { issues: issuesOf(shape.error, prefix) };
  const unsupported = unsupportedFields(shape.data).map((i) => ({
    ...i,
    path: prefix ? `${prefix}.${i.path}` : i.path,
  }));
  const email = SendEmailBody.safeParse(toMailrouteInput(shape.data), API_ERRORS);
  const issues = [...unsupported, ...(email.success ? [] : issuesOf(email.error, prefix))];
  return email.success && issues.length === 0 ? { email: email.data } : { issues };
}

const idOf = (req: ApiRequest): string => {
  const id = req.param('id') ?? '';
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new DomainError('not_found', `No email with id "${id.slice(0, 64)}".`);
  return id;
};

export function resendRoutes(deps: ResendApiDeps): RouteMap<ResendRouteKey> {
  const route = (r: Route): Route => ({ ...r, errorResponse: resendErrorResponse });

  /** An email the caller may see (its own, or any for an admin key); others are not found. */
  const visible = async (req: ApiRequest) => {
    const id = idOf(req);
    const record = await deps.messages.get(id);
    const caller = req.caller as Caller;
    if (!record || (record.apiKey !== caller.keyName && !caller.scopes.includes('admin')))
      throw new DomainError('not_found', `No email with id "${id}".`);
    return record;
  };

  return {
    'POST /resend/emails': route({
      auth: 'send',
      maxBodyBytes: deps.maxBytes.email,
      handle: async (req) => {
        if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
        const parsed = parseResendEmail(req.body);
        if ('issues' in parsed) throw new DomainError('validation_failed', 'The email is not valid:', parsed.issues);
        const [id] = await deps.accept(req, [parsed.email]);
        return { status: 200, body: { id } };
      },
    }),

    'POST /resend/emails/batch': route({
      auth: 'send',
      maxBodyBytes: deps.maxBytes.batch,
      handle: async (req) => {
        const mode = (req.header('x-batch-validation') ?? 'strict').toLowerCase();
        if (mode !== 'strict' && mode !== 'permissive') {
          throw new DomainError('validation_failed', 'The x-batch-validation header is "strict" or "permissive".', [
            { path: 'headers.x-batch-validation', message: 'invalid' },
          ]);
        }
        if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
        const list = ResendBatchBody.safeParse(req.body, API_ERRORS);
        if (!list.success) {
          throw new DomainError(
            'validation_failed',
            'The batch is a list of 1 to 100 emails:',
            issuesOf(list.error, ''),
          );
        }
        const caller = req.caller as Caller;
        const parsed = list.data.map((body, index) => {
          const one = parseResendEmail(body, String(index));
          // A permissive batch leaves out an email its key may not send, instead of refusing the rest.
          if ('email' in one && mode === 'permissive' && !maySendFrom(caller, one.email.from.address))
            return {
              issues: [
                { path: `${index}.from`, message: `${one.email.from.address} is not in a sender domain of this key` },
              ],
            };
          return one;
        });
        const invalid = parsed.flatMap((p, index) => ('issues' in p ? [{ index, issues: p.issues }] : []));
        if (mode === 'strict' && invalid.length > 0) {
          throw new DomainError(
            'validation_failed',
            'Some emails of the batch are not valid; none was sent:',
            invalid.flatMap((i) => i.issues),
          );
        }
        const emails = parsed.flatMap((p) => ('email' in p ? [p.email] : []));
        const ids = emails.length > 0 ? await deps.accept(req, emails) : [];
        return {
          status: 200,
          body: {
            data: ids.map((id) => ({ id })),
            ...(mode === 'permissive'
              ? { errors: invalid.map((i) => ({ index: i.index, message: resendMessage('', i.issues).trim() })) }
              : {}),
          },
        };
      },
    }),

    'GET /resend/emails/{id}': route({
      auth: 'read',
      handle: async (req) => ({ status: 200, body: toResendEmail(await visible(req)) }),
    }),

    // Rescheduling and canceling act on the caller's scheduled emails only (409 otherwise), as on /v1.
    'PATCH /resend/emails/{id}': route({
      auth: 'send',
      maxBodyBytes: 4096,
      handle: async (req) => {
        const body = ResendUpdateBody.safeParse(req.body ?? {}, API_ERRORS);
        if (!body.success)
          throw new DomainError('validation_failed', 'The update is not valid:', issuesOf(body.error, ''));
        const record = await visible(req);
        await deps.reschedule(req, record.id, body.data.scheduled_at);
        return { status: 200, body: { object: 'email', id: record.id } };
      },
    }),

    'POST /resend/emails/{id}/cancel': route({
      auth: 'send',
      handle: async (req) => {
        const record = await visible(req);
        await deps.cancel(req, record.id);
        return { status: 200, body: { object: 'email', id: record.id } };
      },
    }),
  };
}
