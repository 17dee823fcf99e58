/**
 * The shapes of the API's answers, for the OpenAPI document (app/openapi.ts). Requests are
 * documented from the schemas the handlers validate with; answers have no validator, so their
 * schemas are here, built on first use, and tests hold the handlers to them (each view's keys,
 * the README's answers on the local stack).
 */
import * as z from 'zod/mini';
import { ERROR_STATUS } from '../core/errors';
import { STATUSES } from '../core/message';
import { PRIORITIES } from '../core/priority';
import type { Scope } from '../ports';
import { broadcastResponseSchemas } from './openapi-schemas-broadcasts';
import { contactResponseSchemas } from './openapi-schemas-contacts';
import { ruleResponseSchemas } from './openapi-schemas-rules';
import { QUEUE_NAMES } from './queues';
import { DELIVERY_STATUSES } from './webhook-api';

const str = () => z.string();
const nullableStr = () => z.nullable(z.string());
const SCOPES = ['send', 'read', 'admin'] as const satisfies readonly Scope[];

/** Every answer's schema, by name (a component of the document). */
export const responseSchemas = () => {
  const MessageEvent = z.object({
    type: str(),
    at: str(),
    detail: z.optional(z.record(z.string(), z.unknown())),
  });
  const EmailStatus = z.object({
    id: str(),
    status: z.enum(STATUSES),
    from: str(),
    to: z.array(str()),
    cc: z.array(str()),
    bcc: z.array(str()),
    subject: str(),
    tags: z.record(z.string(), z.string()),
    category: str(),
    priority: z.enum(PRIORITIES),
    template: z.optional(z.object({ slug: str(), version: z.int() })),
    /** Only on an email sent with a cooldown (its own or its template's): recipients who got `key` within `hours` are skipped. */
    cooldown: z.optional(z.object({ key: str(), hours: z.number() })),
    /** Only on an email sent with `scheduledAt`: its time (UTC), kept after it is sent or canceled. */
    scheduledAt: z.optional(str()),
    createdAt: str(),
    updatedAt: str(),
    attempts: z.int(),
    provider: nullableStr(),
    providerMessageId: nullableStr(),
    reason: z.optional(str()),
    engagement: z.object({
      opens: z.int(),
      clicks: z.int(),
      machineOpens: z.int(),
      machineClicks: z.int(),
      firstOpenAt: nullableStr(),
      firstClickAt: nullableStr(),
    }),
    events: z.array(MessageEvent),
  });
  const Suppression = z.object({
    address: str(),
    scope: str(),
    reason: str(),
    source: str(),
    suppressedAt: str(),
    messageId: z.optional(str()),
    detail: z.optional(z.record(z.string(), z.unknown())),
  });
  const page = <T extends z.ZodMiniType>(item: T) => z.object({ data: z.array(item), next: nullableStr() });
  const Template = z.looseObject({
    slug: str(),
    kind: z.enum(['template', 'layout']),
    name: str(),
    latestVersion: z.int(),
    activeVersion: z.nullable(z.int()),
    canary: z.nullable(z.looseObject({ version: z.int(), percent: z.number() })),
  });
  const WebhookEndpoint = z.object({
    id: str(),
    url: str(),
    description: nullableStr(),
    events: z.array(str()),
    enabled: z.boolean(),
    /** Only on a disabled endpoint. */
    disabledReason: z.optional(nullableStr()),
    disabledAt: z.optional(nullableStr()),
    consecutiveFailures: z.int(),
    createdAt: str(),
    updatedAt: str(),
  });
  const WebhookDelivery = z.object({
    id: str(),
    eventId: str(),
    type: str(),
    createdAt: str(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.int(),
    lastAttemptAt: nullableStr(),
    lastStatusCode: z.nullable(z.int()),
    lastError: nullableStr(),
    nextAttemptAt: nullableStr(),
  });
  const QueueDepth = z.object({ visible: z.int(), inFlight: z.int(), delayed: z.int() });
  const reasoned = z.array(z.object({ id: str(), why: str() }));
  return {
    Error: z.object({
      error: z.object({
        code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
        message: str(),
        details: z.optional(z.array(z.object({ path: str(), message: str() }))),
      }),
    }),
    Health: z.object({ status: z.literal('ok') }),
    // `scheduledAt` only on an email sent with one: its time, in UTC.
    Accepted: z.object({ id: str(), scheduledAt: z.optional(str()) }),
    BatchAccepted: z.object({ data: z.array(z.object({ id: str(), scheduledAt: z.optional(str()) })) }),
    AttachmentUpload: z.object({
      id: str(),
      uploadUrl: str(),
      expiresAt: str(),
      headers: z.object({ 'Content-Type': str(), 'Content-Length': str() }),
      usableUntil: str(),
    }),
    EmailStatus,
    EmailPage: page(EmailStatus),
    Suppression,
    SuppressionPage: page(Suppression),
    AddressSuppressions: z.object({ address: str(), suppressions: z.array(Suppression) }),
    SuppressionLifted: z.object({ address: str(), scope: str(), suppressed: z.literal(false) }),
    ...contactResponseSchemas(),
    ProviderSettings: z.looseObject({
      chain: z.array(str()),
      source: str(),
      version: z.int(),
      updatedAt: nullableStr(),
      cacheSeconds: z.number(),
      providers: z.array(z.looseObject({ id: str(), type: str(), enabled: z.boolean() })),
    }),
    Streams: z.looseObject({
      thresholds: z.record(z.string(), z.unknown()),
      streams: z.array(z.looseObject({ priority: z.enum(PRIORITIES), state: str() })),
      cacheSeconds: z.number(),
    }),
    Stream: z.looseObject({ priority: z.enum(PRIORITIES), state: str() }),
    Template,
    TemplatePage: page(Template),
    TemplateVersion: z.looseObject({ slug: str(), version: z.int(), publishedAt: str(), active: z.boolean() }),
    TemplateVersionPage: page(z.looseObject({ version: z.int(), publishedAt: str(), active: z.boolean() })),
    TemplatePreview: z.looseObject({
      version: z.union([z.int(), z.literal('draft')]),
      ok: z.boolean(),
      parts: z.record(z.string(), z.unknown()),
      errors: z.array(z.unknown()),
    }),
    ...ruleResponseSchemas(),
    ResendCreated: z.object({ id: str() }),
    ResendBatchCreated: z.object({
      data: z.array(z.object({ id: str() })),
      errors: z.optional(z.array(z.object({ index: z.int(), message: str() }))),
    }),
    ResendEmail: z.object({
      object: z.literal('email'),
      id: str(),
      to: z.array(str()),
      from: str(),
      created_at: str(),
      subject: str(),
      html: z.null(),
      text: z.null(),
      bcc: z.nullable(z.array(str())),
      cc: z.nullable(z.array(str())),
      reply_to: z.null(),
      last_event: str(),
      scheduled_at: z.null(),
      tags: z.array(z.object({ name: str(), value: str() })),
      message_id: nullableStr(),
    }),
    ResendError: z.object({ statusCode: z.int(), message: str(), name: str() }),
    WebhookEndpoint,
    WebhookEndpointCreated: z.extend(WebhookEndpoint, { secret: str() }),
    WebhookEndpointList: z.object({ data: z.array(WebhookEndpoint) }),
    WebhookEndpointDeleted: z.object({ id: str(), deleted: z.literal(true) }),
    WebhookSecretRotated: z.object({ id: str(), secret: str(), previousSecretExpiresAt: nullableStr() }),
    WebhookTestSent: z.object({ eventId: str(), deliveryId: str() }),
    WebhookDelivery,
    WebhookDeliveryPage: page(WebhookDelivery),
    WebhookReplay: z.object({ replayed: z.int(), more: z.boolean(), deliveryIds: z.array(str()) }),
    ApiKey: z.object({
      name: str(),
      scopes: z.array(z.enum(SCOPES)),
      senderDomains: z.array(str()),
      ratePerSecond: z.number(),
    }),
    Queues: z.object({
      data: z.array(
        z.object({
          queue: z.enum(QUEUE_NAMES),
          depth: QueueDepth,
          deadLetters: z.object({ depth: QueueDepth, oldestAgeSeconds: z.nullable(z.int()) }),
          redrive: z.boolean(),
        }),
      ),
    }),
    DeadLetters: z.object({
      data: z.array(
        z.object({
          messageId: str(),
          emailId: nullableStr(),
          sentAt: nullableStr(),
          receiveCount: z.nullable(z.int()),
          status: nullableStr(),
          reason: nullableStr(),
        }),
      ),
    }),
    Redrive: z.object({
      queue: z.enum(PRIORITIES),
      dryRun: z.boolean(),
      moved: z.array(str()),
      dropped: reasoned,
      left: reasoned,
      unreleased: z.int(),
    }),
    ...broadcastResponseSchemas(),
  };
};

export type ResponseSchemaName = keyof ReturnType<typeof responseSchemas>;
