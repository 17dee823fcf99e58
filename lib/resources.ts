/**
 * The tables and queues of mailroute, as plain data (part of the spec in lib/spec.ts). The CDK stack
 * builds its resources from these specs and the local stack (bin/local/provisioning.ts) creates the
 * same tables and queues on the emulators, so there is one source of truth for key schemas, TTL
 * attributes and queue settings.
 */
import { CONTENT_EXPIRY_DAYS, CONTENT_PREFIXES, type ContentKind } from '../functions/core/content-keys';
import { DEFAULTS } from '../functions/core/defaults';
import type { Priority } from '../functions/core/priority';

export type KeyType = 'S' | 'N';

export interface TableSpec {
  /** Stable construct id; also the local table name. */
  readonly id: string;
  /** Environment variable through which functions learn the table's name. */
  readonly env: string;
  readonly partitionKey: { readonly name: string; readonly type: KeyType };
  readonly sortKey?: { readonly name: string; readonly type: KeyType };
  /** Attribute holding an epoch-seconds expiry, if items of this table expire. */
  readonly ttlAttribute?: string;
  readonly description: string;
}

export const TABLES = {
  messages: {
    id: 'Messages',
    env: 'TABLE_MESSAGES',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiresAt',
    description: 'One item per message: status, recipients, provider result and its event timeline. Never the body.',
  },
  idempotency: {
    id: 'Idempotency',
    env: 'TABLE_IDEMPOTENCY',
    partitionKey: { name: 'id', type: 'S' },
    ttlAttribute: 'expiration',
    description: 'Idempotency-Key records of the API (Powertools idempotency layout).',
  },
  suppression: {
    id: 'Suppression',
    env: 'TABLE_SUPPRESSION',
    partitionKey: { name: 'address', type: 'S' },
    sortKey: { name: 'scope', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'Suppressed addresses (normalised) per scope: "*" for all mail, or a category; transient bounces (scope "#soft#…", expiring).',
  },
  contacts: {
    id: 'Contacts',
    env: 'TABLE_CONTACTS',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'Contacts (attributes, consent), their unique address keys, lists and list memberships (functions/store/contact-store.ts); CSV imports and their refused rows (expiring).',
  },
  cooldowns: {
    id: 'Cooldowns',
    env: 'TABLE_COOLDOWNS',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'Cooldowns: per "<key>|<normalised address>", the message that last sent that key to the address and when its window ends (expiring).',
  },
  rateWindows: {
    id: 'RateWindows',
    env: 'TABLE_RATE_WINDOWS',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expiresAt',
    description: 'Request counters: per API key and second (request rates), and per provider and rate window.',
  },
  settings: {
    id: 'Settings',
    env: 'TABLE_SETTINGS',
    partitionKey: { name: 'pk', type: 'S' },
    description: 'API keys (hashed) and run-time settings.',
  },
  reputation: {
    id: 'Reputation',
    env: 'TABLE_REPUTATION',
    partitionKey: { name: 'pk', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'The reputation guard: sends, hard bounces and complaints per priority and hour (expiring), and the state and timeline of each stream (one per priority).',
  },
  templates: {
    id: 'Templates',
    env: 'TABLE_TEMPLATES',
    partitionKey: { name: 'slug', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    description:
      'Email templates per slug: the head (draft, latest and active version, canary), each published version (immutable) and its counters.',
  },
  broadcasts: {
    id: 'Broadcasts',
    env: 'TABLE_BROADCASTS',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    description:
      "Broadcasts (one partition, newest first): definition, state, the sending key, the fan-out's checkpoint and its counts; and per broadcast a counters item message events add to.",
  },
  rules: {
    id: 'Rules',
    env: 'TABLE_RULES',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    description:
      'Event rules (POST /v1/events): each rule under its event name (one Query per event), and an index of every rule by id.',
  },
  webhooks: {
    id: 'Webhooks',
    env: 'TABLE_WEBHOOKS',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'Webhook endpoints (one partition; secrets sealed) and their deliveries (per endpoint, newest first: status, attempts, the exact bytes sent; expiring).',
  },
  emailIndex: {
    id: 'EmailIndex',
    env: 'TABLE_EMAIL_INDEX',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'The search index of GET /v1/emails: newest-first timelines per API key, for the whole API (both in shards) and per recipient. Entries never change; they expire with their message.',
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;

export interface QueueSpec {
  /** Stable construct id; also the local queue name (its DLQ is `<id>-dlq`). */
  readonly id: string;
  /** Environment variable through which functions granted the queue learn its URL. */
  readonly env: string;
  /**
   * Environment variable through which a function that moves the queue's failed messages to its
   * dead-letter queue itself (`FunctionSpec.deadLetterQueues`) learns the DLQ's URL.
   */
  readonly deadLetterEnv: string;
  /** Receives before SQS moves a message to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  /**
   * How long a received message stays invisible, in seconds.
   * @default - six times the consuming function's timeout
   */
  readonly visibilityTimeoutSeconds?: number;
  /** How the queue is named on the dashboard (its DLQ is `<label> DLQ`). */
  readonly label: string;
  /**
   * The alarm on its dead-letter queue (every queue with a consumer has one): what a message there
   * means, and the README runbook section (an anchor under `## Runbook`) that says what to do.
   */
  readonly deadLetterAlarm: { readonly what: string; readonly runbook: string };
}

/** Lambda timeout of the dispatch function, in seconds. */
export const DISPATCH_TIMEOUT_SECONDS = DEFAULTS.dispatch.timeoutSeconds;
/** AWS advises a source-queue visibility timeout of at least 6x the function timeout. */
export const SEND_QUEUE_VISIBILITY_SECONDS = DISPATCH_TIMEOUT_SECONDS * 6;
/** Messages per dispatch invocation (Lambda event source mapping batch size). */
export const DISPATCH_BATCH_SIZE = 10;

/** Lambda timeout of the ses-events function, in seconds. */
export const SES_EVENTS_TIMEOUT_SECONDS = 30;
/** Messages per ses-events invocation. */
export const SES_EVENTS_BATCH_SIZE = 10;

/** Lambda timeout of the webhooks function: a batch's deliveries run at once, each 15 s at most. */
export const WEBHOOKS_TIMEOUT_SECONDS = 60;
/** Events or retries per webhooks invocation. */
export const WEBHOOKS_BATCH_SIZE = 10;

/** Lambda timeout of the audience function: one job (a page of a broadcast's fan-out, a part of an import). */
export const AUDIENCE_TIMEOUT_SECONDS = 120;
/** Jobs per audience invocation: each is a page of work, so one at a time. */
export const AUDIENCE_BATCH_SIZE = 1;

export const QUEUES = {
  /**
   * Accepted transactional emails (ingest → this queue) for the dispatch function. Its construct id
   * stays `SendQueue` (the queue of every email before priorities existed): renaming it would replace
   * the deployed queue and lose the mail in flight.
   */
  send: {
    id: 'SendQueue',
    env: 'QUEUE_SEND_URL',
    deadLetterEnv: 'QUEUE_SEND_DLQ_URL',
    maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount,
    retentionDays: 4,
    visibilityTimeoutSeconds: SEND_QUEUE_VISIBILITY_SECONDS,
    label: 'transactional send',
    deadLetterAlarm: {
      what: 'emails are in the send dead-letter queue (dispatch gave up on them after every retry)',
      runbook: 'send-dead-letter-queue-not-empty',
    },
  },
  /** Accepted critical emails (sign-in codes, security alerts) for the dispatch function. */
  sendCritical: {
    id: 'CriticalSendQueue',
    env: 'QUEUE_SEND_CRITICAL_URL',
    deadLetterEnv: 'QUEUE_SEND_CRITICAL_DLQ_URL',
    maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount,
    retentionDays: 4,
    visibilityTimeoutSeconds: SEND_QUEUE_VISIBILITY_SECONDS,
    label: 'critical send',
    deadLetterAlarm: {
      what: 'emails are in the critical send dead-letter queue (dispatch gave up on them after every retry)',
      runbook: 'critical-send-dead-letter-queue-not-empty',
    },
  },
  /** Accepted bulk emails (newsletters, campaigns) for the dispatch function, consumed at a capped concurrency. */
  sendBulk: {
    id: 'BulkSendQueue',
    env: 'QUEUE_SEND_BULK_URL',
    deadLetterEnv: 'QUEUE_SEND_BULK_DLQ_URL',
    maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount,
    retentionDays: 4,
    visibilityTimeoutSeconds: SEND_QUEUE_VISIBILITY_SECONDS,
    label: 'bulk send',
    deadLetterAlarm: {
      what: 'emails are in the bulk send dead-letter queue (dispatch gave up on them after every retry)',
      runbook: 'bulk-send-dead-letter-queue-not-empty',
    },
  },
  /** SES events (SNS topic → this queue, raw message delivery) for the ses-events function. */
  sesEvents: {
    id: 'SesEventsQueue',
    env: 'QUEUE_SES_EVENTS_URL',
    deadLetterEnv: 'QUEUE_SES_EVENTS_DLQ_URL',
    maxReceiveCount: 5,
    retentionDays: 4,
    label: 'SES events',
    deadLetterAlarm: {
      what: 'SES events are in their dead-letter queue (bounces or complaints may not be recorded or suppressed)',
      runbook: 'ses-events-dead-letter-queue-not-empty',
    },
  },
  /** State changes (every function that changes a message, a suppression or a stream) for the webhooks function. */
  webhookEvents: {
    id: 'WebhookEventsQueue',
    env: 'QUEUE_WEBHOOK_EVENTS_URL',
    deadLetterEnv: 'QUEUE_WEBHOOK_EVENTS_DLQ_URL',
    maxReceiveCount: 5,
    retentionDays: 4,
    label: 'webhook events',
    deadLetterAlarm: {
      what: 'webhook events are in their dead-letter queue (the webhooks function could not fan them out to endpoints)',
      runbook: 'webhook-events-dead-letter-queue-not-empty',
    },
  },
  /** Webhook deliveries due for another attempt (delayed, re-delayed in steps of 15 minutes) for the webhooks function. */
  webhookRetries: {
    id: 'WebhookRetriesQueue',
    env: 'QUEUE_WEBHOOK_RETRIES_URL',
    deadLetterEnv: 'QUEUE_WEBHOOK_RETRIES_DLQ_URL',
    maxReceiveCount: 5,
    retentionDays: 4,
    label: 'webhook retries',
    deadLetterAlarm: {
      what: 'webhook retries are in their dead-letter queue (some deliveries are stuck in retrying)',
      runbook: 'webhook-retries-dead-letter-queue-not-empty',
    },
  },
  /** Audience jobs (broadcast fan-out pages, contact imports) for the audience function. */
  audienceJobs: {
    id: 'AudienceJobsQueue',
    env: 'QUEUE_AUDIENCE_JOBS_URL',
    deadLetterEnv: 'QUEUE_AUDIENCE_JOBS_DLQ_URL',
    maxReceiveCount: 5,
    retentionDays: 4,
    label: 'audience jobs',
    deadLetterAlarm: {
      what: 'audience jobs are in their dead-letter queue (a broadcast fan-out or a contact import stopped)',
      runbook: 'audience-jobs-dead-letter-queue-not-empty',
    },
  },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = keyof typeof QUEUES;

/**
 * The send queue of each priority (core/priority.ts): ingest puts an email on its priority's queue,
 * and each has its own event source into the dispatcher, so a password reset never waits behind a
 * newsletter. In the order the priorities rank.
 */
export const PRIORITY_QUEUES = {
  critical: 'sendCritical',
  transactional: 'send',
  bulk: 'sendBulk',
} as const satisfies Record<Priority, QueueName>;

export type SendQueueName = (typeof PRIORITY_QUEUES)[Priority];
/** The send queues, in the order the priorities rank (critical first). */
export const SEND_QUEUE_NAMES: readonly SendQueueName[] = Object.values(PRIORITY_QUEUES);

/**
 * The SNS topic SES publishes its events to (the configuration set's event destination), and the queue
 * subscribed to it (raw message delivery).
 */
export const SES_EVENTS_TOPIC = {
  id: 'SesEventsTopic',
  localName: 'ses-events',
  queue: 'sesEvents',
} as const satisfies { readonly id: string; readonly localName: string; readonly queue: QueueName };

/** The DLQ keeps messages for the longest retention SQS allows, so an operator has time to redrive. */
export const DLQ_RETENTION_DAYS = 14;

export interface BucketSpec {
  /** Stable construct id; the local bucket's name is `localName`. */
  readonly id: string;
  /** The bucket's name on the local stack (S3 names are lower case). */
  readonly localName: string;
  /** Environment variable through which functions granted the bucket learn its name. */
  readonly env: string;
  /** The key prefixes objects live under, each with the days its objects are kept (lifecycle expiry). */
  readonly prefixes: { readonly [K in ContentKind]: { readonly prefix: string; readonly expireDays: number } };
  readonly description: string;
}

export const BUCKETS = {
  /** The content store (claim-check): attachments, uploads, large and scheduled bodies (core/content-keys.ts). */
  content: {
    id: 'ContentBucket',
    localName: 'mailroute-content',
    env: 'CONTENT_BUCKET',
    prefixes: Object.fromEntries(
      (Object.keys(CONTENT_PREFIXES) as ContentKind[]).map((kind) => [
        kind,
        { prefix: CONTENT_PREFIXES[kind], expireDays: CONTENT_EXPIRY_DAYS[kind] },
      ]),
    ) as BucketSpec['prefixes'],
    description:
      'Bytes kept outside the queues: attachments, uploaded files, bodies too large for a queue message and scheduled bodies; encrypted, expiring per prefix.',
  },
} as const satisfies Record<string, BucketSpec>;

export type BucketName = keyof typeof BUCKETS;
