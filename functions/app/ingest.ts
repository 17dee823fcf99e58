/**
 * The API: accept emails (validate, record, enqueue), read them back. "Accepted means durable": a
 * 202 is returned only after every record is in DynamoDB and every message is in SQS; if the
 * enqueue fails, the records are removed again so nothing is half-done.
 */
import { randomUUID } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type * as z from 'zod/mini';
import { BatchBody, BatchEmails, type SendEmail, SendEmailBody } from '../core/email';
import { DomainError, type FieldIssue } from '../core/errors';
import { toView } from '../core/message';
import type { Priority } from '../core/priority';
import { SQS_MAX_BYTES } from '../core/queued-email';
import type { RouteKey } from '../core/routes';
import { API_ERRORS } from '../core/zod-locale';
import type {
  ContentStore,
  MessageStore,
  RequestRateLimiter,
  RuleStore,
  SendQueue,
  SuppressionStore,
  TemplateStore,
  UploadSigner,
} from '../ports';
import { type Accepted, createAccept, schedulingOr422 as schedulingOr422For } from './accept';
import { uploadRoutes } from './attachment-uploads';
import type { Authenticator, Caller } from './auth';
import { type BroadcastApiDeps, broadcastRoutes } from './broadcasts';
import { contactImportRoutes } from './contact-imports';
import { contactListRoutes } from './contact-lists';
import { type ContactsDeps, contactRoutes } from './contacts';
import { type EmailSearchDeps, emailSearchRoutes } from './email-search';
import { eventRoutes } from './events';
import { type ApiRequest, createHttpHandler, type RouteMap } from './http';
import { logger as defaultLogger, metrics as defaultMetrics, newMetrics } from './observability';
import { apiReferenceRoutes } from './openapi-docs';
import { type ProviderSettingsDeps, providerSettingsRoutes } from './provider-settings';
import { resendRoutes } from './resend-api';
import { ruleRoutes } from './rules';
import { cancelEmail, rescheduleEmail, type SchedulingDeps } from './scheduling';
import { type StreamApiDeps, streamRoutes } from './stream-settings';
import { suppressionRoutes } from './suppressions';
import { templateRoutes } from './templates';
import type { EventBuffer } from './webhook-events';

export interface IngestDeps {
  /** Webhook events of this invocation's state changes, published when it ends. @default - none */
  readonly events?: EventBuffer;
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  /** The send queue of each priority: an email goes to its own priority's queue. */
  readonly queues: { readonly [P in Priority]: SendQueue };
  readonly auth: Authenticator;
  readonly rateLimit?: RequestRateLimiter;
  /** Where Idempotency-Key records live (Powertools persistence layer). */
  readonly idempotency: BasePersistenceLayer;
  readonly retentionDays: number;
  /** The provider chain's definitions and live settings (GET/PUT /v1/settings/providers). */
  readonly providerSettings: ProviderSettingsDeps;
  /** The reputation guard's streams (GET /v1/settings/streams, POST …/{priority}/resume). */
  readonly streams: StreamApiDeps;
  /** Templates: the template API, and emails sent with a `template` rendered at accept time. */
  readonly templates: TemplateStore;
  /** The content store: attachments, and bodies too large for a queue message (claim-check). */
  readonly content: ContentStore;
  /** Presigned upload URLs into the content store (POST /v1/attachments). */
  readonly uploads: UploadSigner;
  /** The largest message any provider of the deployment takes, in bytes (core/attachment.ts `messageBytes`). */
  readonly maxMessageBytes: number;
  /**
   * Scheduled sends (`scheduledAt`, PATCH and cancel): the Scheduler, the content store for the
   * waiting bodies, the send queues' ARNs. @default - none: a `scheduledAt` is refused (422)
   */
  readonly scheduling?: Pick<SchedulingDeps, 'scheduler' | 'content' | 'queueArns' | 'changed'>;
  /** Contacts, lists and CSV imports (/v1/contacts, /v1/lists): their stores and the audience jobs queue. */
  readonly contacts: ContactsDeps;
  /** Event rules (/v1/rules), read by POST /v1/events. */
  readonly rules: RuleStore;
  /** Message search (GET /v1/emails): the index `messages` writes as it creates records. */
  readonly search: EmailSearchDeps;
  /** Broadcasts (/v1/broadcasts): their store, the lists and the audience jobs queue. */
  readonly broadcasts: BroadcastApiDeps;
  /** The draw that splits a canary's sends (in [0, 1)). @default Math.random */
  readonly random?: () => number;
  readonly now?: () => Date;
  readonly newId?: () => string;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

/** Largest single-email request; the queued message must also fit SQS's 1 MiB. */
export const MAX_EMAIL_BYTES = SQS_MAX_BYTES;
/** Largest batch request: well under Lambda's 6 MB synchronous payload. */
export const MAX_BATCH_BYTES = 5_000_000;
export const IDEMPOTENCY_TTL_SECONDS = 86_400;

const issuesOf = (error: z.core.$ZodError, prefix: (string | number)[] = []): FieldIssue[] =>
  error.issues.map((i) => ({ path: [...prefix, ...i.path].map(String).join('.') || '(body)', message: i.message }));

function validate<T extends z.ZodMiniType>(schema: T, body: unknown) {
  if (body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
  return schema.safeParse(body, API_ERRORS);
}

/** Validates an Idempotency-Key header value. */
function idempotencyKeyOf(req: ApiRequest): string | undefined {
  const key = req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,256}$/.test(key)) {
    throw new DomainError('validation_failed', 'Idempotency-Key must be 1 to 256 printable ASCII characters.', [
      { path: 'headers.Idempotency-Key', message: 'invalid' },
    ]);
  }
  return key;
}

export function createIngestHandler(deps: IngestDeps) {
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const logger = deps.logger ?? defaultLogger;
  const metrics = deps.metrics ?? defaultMetrics;

  const templateDeps = { store: deps.templates, ...(deps.random ? { random: deps.random } : {}) };
  const scheduling: SchedulingDeps | undefined = deps.scheduling && {
    ...deps.scheduling,
    messages: deps.messages,
    queues: deps.queues,
    now: () => now().getTime(),
    logger,
  };
  const schedulingOr422 = () => schedulingOr422For(scheduling);

  const accept = createAccept({
    messages: deps.messages,
    queues: deps.queues,
    content: deps.content,
    maxMessageBytes: deps.maxMessageBytes,
    retentionDays: deps.retentionDays,
    templates: templateDeps,
    scheduling,
    now,
    ...(deps.newId ? { newId: deps.newId } : {}),
    logger,
    metrics,
  });

  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'payload',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const acceptOnce = makeIdempotent(
    async (input: {
      key: string;
      payload: unknown;
      caller: Caller;
      emails: SendEmail[];
      accepted: { items?: Accepted[] };
    }) => {
      input.accepted.items = await accept(input.caller, input.emails);
      // `ids` as before; `scheduledAt` beside it (null for an email sent at once).
      return {
        ids: input.accepted.items.map((a) => a.id),
        scheduledAt: input.accepted.items.map((a) => a.scheduledAt ?? null),
      };
    },
    { persistenceStore: deps.idempotency, config: idempotencyConfig, keyPrefix: 'api' },
  );

  /** Runs `accept` at most once per (API key, route, Idempotency-Key) within 24 h. */
  async function acceptIdempotent(req: ApiRequest, emails: SendEmail[]): Promise<Accepted[]> {
    const caller = req.caller as Caller;
    const key = idempotencyKeyOf(req);
    if (key === undefined) return accept(caller, emails);
    idempotencyConfig.registerLambdaContext(req.context);
    const accepted: { items?: Accepted[] } = {};
    try {
      const out = await acceptOnce({
        key: `${caller.keyName}|${req.event.routeKey}|${key}`,
        payload: req.body,
        caller,
        emails,
        accepted,
      });
      return out.ids.map((id, i) => {
        const scheduledAt = out.scheduledAt?.[i];
        return scheduledAt ? { id, scheduledAt } : { id };
      });
    } catch (e) {
      // The emails are accepted (recorded and queued) but their idempotency record was not saved:
      // the answer is still the success, never a 503 for a request that created them.
      if (accepted.items) {
        const messageIds = accepted.items.map((a) => a.id);
        logger.error('accepted, but the idempotency record was not saved', { messageIds, error: e });
        return accepted.items;
      }
      if (e instanceof IdempotencyValidationError) {
        throw new DomainError('idempotency_conflict', 'This Idempotency-Key was used with a different request body.');
      }
      if (e instanceof IdempotencyAlreadyInProgressError) {
        throw new DomainError('idempotency_conflict', 'A request with this Idempotency-Key is still in progress.');
      }
      throw e;
    }
  }

  const routes: RouteMap<RouteKey<'ingest'>> = {
    'GET /health': { auth: false, handle: async () => ({ status: 200, body: { status: 'ok' } }) },

    'POST /v1/emails': {
      auth: 'send',
      maxBodyBytes: MAX_EMAIL_BYTES,
      handle: async (req) => {
        const parsed = validate(SendEmailBody, req.body);
        if (!parsed.success) {
          throw new DomainError('validation_failed', 'The email is not valid.', issuesOf(parsed.error));
        }
        const [accepted] = await acceptIdempotent(req, [parsed.data]);
        return { status: 202, body: accepted };
      },
    },

    'POST /v1/emails/batch': {
      auth: 'send',
      maxBodyBytes: MAX_BATCH_BYTES,
      handle: async (req) => {
        const batch = validate(BatchBody, req.body);
        if (!batch.success)
          throw new DomainError('validation_failed', 'The batch is not valid.', issuesOf(batch.error));
        // Every email is validated on its own; one bad email refuses the whole batch (422 with
        // each problem's path), so a batch is accepted or refused as a unit.
        // One parse of every email, so each problem's message names its field as the path does (`emails.3.to`).
        const all = BatchEmails.safeParse({ emails: batch.data.emails }, API_ERRORS);
        if (!all.success) {
          throw new DomainError(
            'validation_failed',
            'Some emails in the batch are not valid; none was sent.',
            issuesOf(all.error),
          );
        }
        const accepted = await acceptIdempotent(req, all.data.emails);
        return { status: 202, body: { data: accepted } };
      },
    },

    'GET /v1/emails/{id}': {
      auth: 'read',
      handle: async (req) => {
        const id = req.param('id') ?? '';
        const record = /^[A-Za-z0-9-]{1,64}$/.test(id) ? await deps.messages.get(id) : undefined;
        // A key reads the email it sent; an admin key reads any. Others get the same 404 as a wrong id.
        const caller = req.caller as Caller;
        const visible = record && (record.apiKey === caller.keyName || caller.scopes.includes('admin'));
        if (!record || !visible) throw new DomainError('not_found', `No email with id "${id.slice(0, 64)}".`);
        return { status: 200, body: toView(record) };
      },
    },

    ...uploadRoutes({ uploads: deps.uploads, now }),

    // Scheduled sends (scheduling.ts): move one to another time, or cancel it, while it is scheduled.
    'PATCH /v1/emails/{id}': {
      auth: 'send',
      maxBodyBytes: 4096,
      handle: async (req) => ({
        status: 200,
        body: await rescheduleEmail(schedulingOr422(), req.caller as Caller, req.param('id') ?? '', req.body),
      }),
    },
    'POST /v1/emails/{id}/cancel': {
      auth: 'send',
      handle: async (req) => ({
        status: 200,
        body: await cancelEmail(schedulingOr422(), req.caller as Caller, req.param('id') ?? ''),
      }),
    },

    ...emailSearchRoutes(deps.search),
    ...broadcastRoutes(deps.broadcasts),
    ...apiReferenceRoutes(),
    ...resendRoutes({
      accept: async (req, emails) => (await acceptIdempotent(req, emails)).map((a) => a.id),
      messages: deps.messages,
      maxBytes: { email: MAX_EMAIL_BYTES, batch: MAX_BATCH_BYTES },
      reschedule: (req, id, scheduledAt) =>
        rescheduleEmail(schedulingOr422(), req.caller as Caller, id, { scheduledAt }),
      cancel: (req, id) => cancelEmail(schedulingOr422(), req.caller as Caller, id),
    }),
    ...suppressionRoutes(deps.suppression, now),
    ...contactRoutes({ store: deps.contacts.store, suppression: deps.suppression, now, newId }),
    ...contactImportRoutes({ ...deps.contacts, uploads: deps.uploads, now, newId }),
    ...contactListRoutes({ store: deps.contacts.store, now, newId }),
    ...templateRoutes(templateDeps, now),
    ...ruleRoutes({ rules: deps.rules, now, ...(deps.newId ? { newId: deps.newId } : {}) }),
    ...eventRoutes({
      rules: deps.rules,
      contacts: deps.contacts.store,
      templates: deps.templates,
      accept,
      now,
      ...(deps.newId ? { newId: deps.newId } : {}),
      ...(deps.random ? { random: deps.random } : {}),
    }),
    ...providerSettingsRoutes(deps.providerSettings, now),
    ...streamRoutes({ metrics: newMetrics, ...deps.streams, now: () => now().getTime(), logger }),
  };

  return createHttpHandler(routes, {
    auth: deps.auth,
    ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}),
    now: () => now().getTime(),
    logger,
    metrics,
    ...(deps.events ? { events: deps.events } : {}),
  });
}
