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
import { type AttachmentRef, messageBytes } from '../core/attachment';
import { contentKey } from '../core/content-keys';
import { BatchBody, BatchEmails, type SendEmail, SendEmailBody, toQueuedEmail } from '../core/email';
import { DomainError, type FieldIssue } from '../core/errors';
import { newRecord, toView } from '../core/message';
import { METRICS } from '../core/metric-names';
import { defaultPriority, PRIORITIES, type Priority } from '../core/priority';
import { type QueuedEmail, SQS_MAX_BYTES, toQueueBody } from '../core/queued-email';
import type { RouteKey } from '../core/routes';
import { API_ERRORS } from '../core/zod-locale';
import type {
  ContentStore,
  MessageStore,
  QueueEntry,
  RequestRateLimiter,
  SendQueue,
  SuppressionStore,
  TemplateStore,
  UploadSigner,
} from '../ports';
import { uploadRoutes } from './attachment-uploads';
import { storeAttachments } from './attachments';
import { type Authenticator, type Caller, maySendFrom } from './auth';
import { type EmailSearchDeps, emailSearchRoutes } from './email-search';
import { type ApiRequest, createHttpHandler, type RouteMap } from './http';
import { logger as defaultLogger, metrics as defaultMetrics, newMetrics } from './observability';
import { apiReferenceRoutes } from './openapi-docs';
import { type ProviderSettingsDeps, providerSettingsRoutes } from './provider-settings';
import { resendRoutes } from './resend-api';
import { retrying } from './retrying';
import {
  announceScheduled,
  cancelEmail,
  discardScheduled,
  placeFirings,
  placementFor,
  rescheduleEmail,
  type SchedulingDeps,
  scheduledTimes,
  storeBodies,
  type ToSchedule,
} from './scheduling';
import { type StreamApiDeps, streamRoutes } from './stream-settings';
import { suppressionRoutes } from './suppressions';
import { countSends, renderTemplates } from './template-send';
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
  /** Message search (GET /v1/emails): the index `messages` writes as it creates records. */
  readonly search: EmailSearchDeps;
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

/** One accepted email: its id, and for a scheduled one its time in UTC. */
interface Accepted {
  readonly id: string;
  readonly scheduledAt?: string;
}

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
  /** The scheduling use cases, or a 422 where this deployment has none. */
  const schedulingOr422 = (): SchedulingDeps => {
    if (scheduling) return scheduling;
    throw new DomainError('validation_failed', 'Scheduled sends are not enabled in this deployment.', [
      { path: 'scheduledAt', message: 'not supported here' },
    ]);
  };

  /** The queued email with its attachments' references and its size as providers count it. */
  function withParts(q: QueuedEmail, refs: AttachmentRef[] | undefined): QueuedEmail {
    if (!refs || refs.length === 0) return q;
    return { ...q, attachments: refs, size: messageBytes({ ...q, attachments: refs }) };
  }

  /** A body too large for a queue message waits in the content store; the message carries its key. */
  async function claimCheckBody(q: QueuedEmail): Promise<void> {
    if (Buffer.byteLength(toQueueBody(q), 'utf8') <= SQS_MAX_BYTES) return;
    const key = contentKey('bodies', q.id);
    const body = JSON.stringify({ html: q.html, text: q.text });
    await deps.content.put(key, new TextEncoder().encode(body), 'application/json');
    q.bodyKey = key;
    delete q.html;
    delete q.text;
  }

  /** Records, then enqueues, a validated set of emails. Returns their ids, in order. */
  /** Removes the records of a request that failed, retried; what still fails is logged with the ids. */
  async function removeRecords(ids: readonly string[]): Promise<void> {
    await retrying(() => deps.messages.deleteQueued(ids)).catch((error) =>
      logger.error('could not remove the records of a request that failed', { messageIds: ids, error }),
    );
  }

  async function accept(caller: Caller, given: readonly SendEmail[]): Promise<Accepted[]> {
    // Times first: a bad `scheduledAt` refuses the request before anything is rendered or written.
    const times = scheduledTimes(given, now().getTime(), given.length > 1);
    // Emails sent with a template are rendered first: any problem refuses the whole request (422).
    const { emails, refs } = await renderTemplates(templateDeps, given, logger);
    // A key sends only as its own application: `from` must be in one of its sender domains.
    const foreign = emails.flatMap((e, i) =>
      maySendFrom(caller, e.from.address)
        ? []
        : [
            {
              path: emails.length > 1 ? `emails.${i}.from` : 'from',
              message: `${e.from.address} is not in a sender domain of this key`,
            },
          ],
    );
    if (foreign.length > 0) {
      throw new DomainError(
        'forbidden',
        `This API key may send from ${caller.senderDomains.join(', ')} only; nothing was sent.`,
        foreign,
      );
    }
    // Attachments are checked and stored (422 naming each refused one); the queue carries references.
    const pathOf = (i: number) => (emails.length > 1 ? `emails.${i}` : '');
    const parts = await storeAttachments({ content: deps.content, now }, emails, pathOf);
    const at = now();
    const queued = emails.map((e, i) => withParts(toQueuedEmail(newId(), e), parts[i]));
    const oversized = queued.flatMap((q, i) =>
      q.size !== undefined && q.size > deps.maxMessageBytes
        ? [
            {
              path: pathOf(i) || '(body)',
              message: `about ${q.size} bytes once encoded; no provider takes more than ${deps.maxMessageBytes}`,
            },
          ]
        : [],
    );
    if (oversized.length > 0) {
      throw new DomainError(
        'validation_failed',
        'No provider of this deployment can take an email this large.',
        oversized,
      );
    }
    await Promise.all(queued.map((q) => claimCheckBody(q)));
    const all: (QueueEntry & { priority: Priority })[] = queued.map((q) => ({
      id: q.id,
      body: toQueueBody(q),
      priority: q.priority ?? defaultPriority(q.category),
    }));
    // Scheduled emails wait in the content store and on a firing; the others go on their queue now.
    const later: ToSchedule[] = [];
    const entries = all.filter((e, i) => {
      const t = times[i];
      const q = queued[i];
      if (!t || !q) return true;
      const sched = schedulingOr422();
      later.push({ email: q, priority: e.priority, at: t, placement: placementFor(sched, t) });
      return false;
    });
    const tooLarge = entries.findIndex((e) => Buffer.byteLength(e.body, 'utf8') > SQS_MAX_BYTES);
    if (tooLarge >= 0) {
      throw new DomainError('payload_too_large', `Each email must be under ${SQS_MAX_BYTES} bytes once queued.`, [
        { path: emails.length > 1 ? `emails.${tooLarge}` : '(body)', message: 'too large' },
      ]);
    }
    // newRecord keeps addresses, subject, tags and category: never the body.
    const laterById = new Map(later.map((s) => [s.email.id, s]));
    const records = queued.map((q, i) => {
      const s = laterById.get(q.id);
      return newRecord(
        {
          ...q,
          apiKey: caller.keyName,
          template: refs[i],
          ...(s ? { schedule: { at: s.at.iso, via: s.placement.via } } : {}),
        },
        at,
        deps.retentionDays,
      );
    });
    const ids = records.map((r) => r.id);
    if (later.length > 0) {
      // The bodies first: a record never waits for a body that is not there.
      try {
        await storeBodies(schedulingOr422(), later, caller.keyHash ?? '');
      } catch (e) {
        logger.error('could not store scheduled bodies', { error: e as Error });
        await discardScheduled(schedulingOr422(), later);
        throw new DomainError('unavailable', 'The email could not be scheduled; nothing was sent. Try again.');
      }
    }
    try {
      await deps.messages.createMany(records);
    } catch (e) {
      // Some records may be written: none stays (a 503 creates nothing).
      await removeRecords(ids);
      if (later.length > 0) await discardScheduled(schedulingOr422(), later);
      throw e;
    }
    // Each email to its priority's queue; a batch of mixed priorities goes to several, at once.
    const failed = (
      await Promise.all(
        PRIORITIES.map(async (priority) => {
          const part = entries.filter((e) => e.priority === priority).map(({ priority: _, ...entry }) => entry);
          if (part.length === 0) return [];
          try {
            return await deps.queues[priority].send(part);
          } catch (e) {
            logger.error('enqueue failed', { error: e as Error, priority });
            return part.map((x) => x.id);
          }
        }),
      )
    ).flat();
    if (later.length > 0) failed.push(...(await placeFirings(schedulingOr422(), later)));
    if (failed.length > 0) {
      // All or nothing: drop every record of this request; a message that reached SQS anyway (on any
      // priority's queue) finds no record and is discarded by the dispatcher, so nothing is sent for a
      // request that failed.
      await removeRecords(ids);
      if (later.length > 0) await discardScheduled(schedulingOr422(), later);
      throw new DomainError('unavailable', 'The email could not be queued; nothing was sent. Try again.');
    }
    metrics.addMetric(METRICS.accepted, 'Count', records.length);
    await countSends(templateDeps, refs, logger);
    if (later.length > 0) await announceScheduled(schedulingOr422(), later);
    return records.map((r) => {
      const s = laterById.get(r.id);
      return s ? { id: r.id, scheduledAt: s.at.iso } : { id: r.id };
    });
  }

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
    ...templateRoutes(templateDeps, now),
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
