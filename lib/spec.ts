/**
 * mailroute as one declarative spec: its functions, queues, tables, secrets, routes and event
 * sources, as plain data (no AWS SDK, no CDK). The CDK stack (lib/mailroute-stack.ts), the local
 * stack (bin/local/) and the monitoring construct all iterate it, so adding a queue with its
 * consumer, or a route, is an entry here (or in lib/api-routes.ts) plus its use case.
 *
 * - tables and queues: lib/resources.ts (key schemas, TTL, DLQs, retention, visibility);
 * - routes: lib/api-routes.ts (method, path and the function that serves each);
 * - functions, secrets and event sources: below.
 */
import type { ContentKind } from '../functions/core/content-keys';
import { DEFAULTS } from '../functions/core/defaults';
import { PRIORITIES } from '../functions/core/priority';
import type { GuardSettings } from '../functions/core/reputation';
import { API_ROUTES, type ApiFunction, type ApiRoute } from './api-routes';
import {
  AUDIENCE_BATCH_SIZE,
  AUDIENCE_TIMEOUT_SECONDS,
  BUCKETS,
  type BucketName,
  DISPATCH_BATCH_SIZE,
  DISPATCH_TIMEOUT_SECONDS,
  PRIORITY_QUEUES,
  QUEUES,
  type QueueName,
  type QueueSpec,
  SEND_QUEUE_NAMES,
  SES_EVENTS_BATCH_SIZE,
  SES_EVENTS_TIMEOUT_SECONDS,
  SES_EVENTS_TOPIC,
  type SendQueueName,
  TABLES,
  type TableName,
  WEBHOOKS_BATCH_SIZE,
  WEBHOOKS_TIMEOUT_SECONDS,
} from './resources';

export type { BucketName, BucketSpec, QueueName, QueueSpec, SendQueueName, TableName, TableSpec } from './resources';
export { PRIORITY_QUEUES, SEND_QUEUE_NAMES } from './resources';

/** DynamoDB item actions a scoped table grant may allow. */
export type ItemAction = 'GetItem' | 'BatchGetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

/**
 * Named sets of partition keys a function may reach in a shared table (IAM `dynamodb:LeadingKeys`).
 * The CDK stack resolves each name with the key builders the stores use (lib/constructs/item-keys.ts),
 * from the deployment's provider definitions.
 * - `liveProviderSettings`: the live provider settings item;
 * - `providerSettingsAndHealth`: that item and one health item per defined provider;
 * - `providerRateWindows`: one rate-window item per defined provider;
 * - `reputationStreamsAndCounts`: each priority's stream item and its hourly counter items;
 * - `apiKeys`: the API key items (a scheduled email's key is read again at send time).
 * - `apiKeys`: the API key items (looked up by the hash of a key);
 * - `apiRequestCounters`: the per-key request counters of the rate-windows table;
 * - `everyItem`: any item (only the actions are limited).
 */
export type ItemKeySet =
  | 'apiKeys'
  | 'liveProviderSettings'
  | 'providerSettingsAndHealth'
  | 'providerRateWindows'
  | 'reputationStreamsAndCounts'
  | 'apiKeys'
  | 'apiRequestCounters'
  | 'everyItem';

/** Only some item actions, on only the items a key set names. */
export interface ItemGrant {
  readonly actions: readonly ItemAction[];
  readonly keys: ItemKeySet;
}

/** read = Get/Query/Scan/BatchGet, write = Put/Update/Delete/BatchWrite (L2 grants), or an `ItemGrant`. */
export type TableAccess = 'read' | 'write' | 'readWrite' | ItemGrant;

/** A table a function uses: it gets the table's variable (`TABLES[table].env`) and the access. */
export interface TableGrant {
  readonly table: TableName;
  readonly access: TableAccess;
}

/** send = SendMessage; consume = receive, delete, change visibility. */
export type QueueAccess = 'send' | 'consume';

/**
 * A queue a function uses by URL: it gets the queue's variable (`QUEUES[queue].env`) and each access.
 * A function that only consumes a queue through an event source needs no grant here (the event
 * source grants what it needs, and the function never needs the URL).
 */
export interface QueueGrant {
  readonly queue: QueueName;
  readonly access: readonly QueueAccess[];
  /**
   * Bound only when the function's construct is given the queue (a function built on its own, outside
   * the stack, goes without: its config treats the variable as optional).
   * @default false
   */
  readonly optional?: boolean;
}

/** read = GetObject (and ListBucket, so an absent key reads as absent), write = PutObject, delete = DeleteObject. */
export type BucketAccess = 'read' | 'write' | 'delete';

/**
 * A bucket a function uses: it gets the bucket's variable (`BUCKETS[bucket].env`) and each access, on
 * the objects under the listed prefixes only (kinds of core/content-keys.ts).
 */
export interface BucketGrant {
  readonly bucket: BucketName;
  readonly access: readonly BucketAccess[];
  readonly prefixes: readonly ContentKind[];
}

/** The secrets the stack creates, and the variable through which functions learn each one's ARN. */
export const SECRETS = {
  /** The keys that sign the links written into emails (lib/constructs/signing-keys.ts). */
  signingKeys: { env: 'SIGNING_KEYS_SECRET' },
} as const satisfies Record<string, { readonly env: string }>;

export type SecretName = keyof typeof SECRETS;

/**
 * What a deployment supplies to function environments beyond tables, queues and secrets: the CDK
 * stack from its props (cdk.json), the local stack from its options.
 */
export interface DeploymentParams {
  /** Days a message record is kept. */
  readonly retentionDays: number;
  /** The provider definitions and default chain, as JSON (secrets by name). */
  readonly providersJson: string;
  /** The SES configuration set every email is sent with (none locally). */
  readonly sesConfigurationSet?: string | undefined;
  /** Base URL of the links written into emails (no trailing slash). */
  readonly publicBaseUrl: string;
  readonly trackOpens: boolean;
  readonly trackClicks: boolean;
  readonly softBounce: { readonly limit: number; readonly windowHours: number };
  /** Percent of each provider rate window held back from bulk mail while critical/transactional mail is around. */
  readonly bulkReservePercent: number;
  /** The reputation guard: window, minimum volume, thresholds, and how long held mail waits. */
  readonly guard: GuardParams;
  /**
   * Webhook delivery settings.
   * @default - https public endpoints only, the standard retry schedule, WEBHOOK_DEFAULTS
   */
  readonly webhooks?: WebhookParams | undefined;
}

/** How webhooks are delivered in a deployment (the local stack allows http and loopback receivers). */
export interface WebhookParams {
  /** http URLs and private or loopback addresses are allowed. Never in AWS. @default false */
  readonly allowPrivateUrls?: boolean;
  /** Seconds before each retry. @default RETRY_SCHEDULE_SECONDS (core/webhook-retry.ts) */
  readonly retryScheduleSeconds?: readonly number[];
  /** Failed attempts in a row that disable an endpoint. @default WEBHOOK_DEFAULTS.failureLimit */
  readonly failureLimit?: number;
  /** Hours a failure streak must last before it disables. @default WEBHOOK_DEFAULTS.failingHours */
  readonly failingHours?: number;
}

/** The webhook variables (functions/config.ts parses them). */
const webhookEnv = (w: WebhookParams | undefined): Record<string, string> => ({
  ...(w?.allowPrivateUrls ? { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } : {}),
  ...(w?.retryScheduleSeconds ? { WEBHOOK_RETRY_SCHEDULE: w.retryScheduleSeconds.join(',') } : {}),
  ...(w?.failureLimit === undefined ? {} : { WEBHOOK_FAILURE_LIMIT: String(w.failureLimit) }),
  ...(w?.failingHours === undefined ? {} : { WEBHOOK_FAILING_HOURS: String(w.failingHours) }),
});

/** Every function that changes a message, a suppression or a stream publishes its events there. */
const PUBLISHES_EVENTS = { queue: 'webhookEvents', access: ['send'], optional: true } as const satisfies QueueGrant;

/** The reputation guard's settings as a deployment gives them (cdk.json `guard`). */
export interface GuardParams extends GuardSettings {
  /** Seconds an email of a paused stream waits on its queue before the dispatcher looks at it again. */
  readonly heldWaitSeconds: number;
}

/** The guard's variables (functions/config.ts parses them). */
const guardEnv = (g: GuardSettings): Record<string, string> => ({
  GUARD_WINDOW_HOURS: String(g.windowHours),
  GUARD_MIN_VOLUME: String(g.minVolume),
  GUARD_BOUNCE_WARN_PERCENT: String(g.bounce.warnPercent),
  GUARD_BOUNCE_PAUSE_PERCENT: String(g.bounce.pausePercent),
  GUARD_COMPLAINT_WARN_PERCENT: String(g.complaint.warnPercent),
  GUARD_COMPLAINT_PAUSE_PERCENT: String(g.complaint.pausePercent),
});

/** Parameters each function gets from its own spec entry. */
export interface FunctionContext {
  /** The function's timeout. */
  readonly timeoutSeconds: number;
  /**
   * maxReceiveCount of the queue its (first) event source consumes (0 for a function no queue invokes).
   */
  readonly maxReceiveCount: number;
  /** maxReceiveCount of each queue whose event source invokes it (a function fed by several queues). */
  readonly maxReceiveCounts: { readonly [K in QueueName]?: number };
}

/** Everything a function's `env` may read; each function picks what it needs. */
export type Params = DeploymentParams & FunctionContext;

/**
 * One Lambda function. `P` (a pick of `Params`) is what its environment needs beyond its tables,
 * queues and secrets; `env` turns it into the variables that functions/config.ts parses.
 */
export interface FunctionSpec<P> {
  /** The entry file (exports `handler`), relative to the repository root. */
  readonly entry: string;
  /** The function's name on the dashboard and in alarms. */
  readonly label: string;
  readonly description: string;
  /** MiB. */
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly tables: readonly TableGrant[];
  readonly queues: readonly QueueGrant[];
  /**
   * Queues whose dead-letter queue the function sends to: it moves a message it gives up on there
   * itself, at once, instead of leaving SQS to move it once its visibility timeout ends. It gets the
   * DLQ's variable (`QUEUES[queue].deadLetterEnv`) and SendMessage on that DLQ only.
   * @default - none
   */
  readonly deadLetterQueues?: readonly QueueName[];
  /**
   * Queues the function shows to operators: it gets the queue's and its DLQ's variables, GetQueueAttributes
   * on both, and receive, delete and change visibility on the DLQ only (to read and move dead letters).
   * Moving them back needs `send` on the queue, in `queues`.
   * @default - none
   */
  readonly inspectQueues?: readonly QueueName[];
  readonly secrets: readonly SecretName[];
  /**
   * Buckets it reads or writes objects of.
   * @default - none
   */
  readonly buckets?: readonly BucketGrant[];
  readonly env: (params: P) => Readonly<Record<string, string>>;
}

const fn = <P extends Partial<Params> = Record<never, never>>(spec: FunctionSpec<P>): FunctionSpec<P> => spec;

export const FUNCTIONS = {
  /** The keyed /v1 API and /health. */
  ingest: fn<Pick<Params, 'retentionDays' | 'providersJson' | 'guard'>>({
    entry: 'functions/handlers/ingest.ts',
    label: 'ingest',
    description: 'mailroute HTTP API: accepts, records and enqueues emails',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: [
      { table: 'messages', access: 'readWrite' },
      { table: 'idempotency', access: 'readWrite' },
      // API keys and provider health are read; PUT /v1/settings/providers writes the live settings item,
      // and no other (the API keys are written by the operator's tooling, never by the API).
      { table: 'settings', access: 'read' },
      { table: 'settings', access: { actions: ['PutItem'], keys: 'liveProviderSettings' } },
      // The suppression API (GET/PUT/DELETE /v1/suppressions/{email}).
      { table: 'suppression', access: 'readWrite' },
      // Contacts, lists and CSV imports (/v1/contacts, /v1/lists); an erase removes a contact's items.
      { table: 'contacts', access: 'readWrite' },
      // Broadcasts (/v1/broadcasts): created, edited, moved through their states; their counts read.
      { table: 'broadcasts', access: 'readWrite' },
      // Per-API-key request counters: the function counts each key's requests per one-second window.
      { table: 'rateWindows', access: 'readWrite' },
      // The streams' states and rates (GET /v1/settings/streams); a resume writes the stream's item.
      { table: 'reputation', access: 'readWrite' },
      // The template API, and the templates rendered at accept time (with their per-version counters).
      { table: 'templates', access: 'readWrite' },
      // Event rules: the rules API writes them, POST /v1/events reads those of an event name.
      { table: 'rules', access: 'readWrite' },
      // Message search: each accepted email's index entries written, and read by GET /v1/emails.
      { table: 'emailIndex', access: 'readWrite' },
    ],
    // Each email goes to its priority's queue (PRIORITY_QUEUES).
    queues: [
      ...SEND_QUEUE_NAMES.map((queue) => ({ queue, access: ['send'] as const })),
      PUBLISHES_EVENTS,
      // A broadcast's first page job (send, resume), and a contact import's.
      { queue: 'audienceJobs', access: ['send'] },
    ],
    secrets: [],
    // The content store: it writes attachments, large and scheduled bodies at accept time, reads what a
    // client uploaded (to check it) and scheduled bodies (reschedule), and deletes them (cancel, rollback).
    buckets: [
      { bucket: 'content', access: ['read', 'write', 'delete'], prefixes: ['attachments', 'bodies', 'scheduled'] },
      // Presigned upload URLs are signed with the function's role, so it needs PutObject there too.
      { bucket: 'content', access: ['read', 'write'], prefixes: ['uploads'] },
      // The upload URL of a contact import (the audience worker reads the file and deletes it).
      { bucket: 'content', access: ['write'], prefixes: ['imports'] },
    ],
    env: (p) => ({ RETENTION_DAYS: String(p.retentionDays), PROVIDERS: p.providersJson, ...guardEnv(p.guard) }),
  }),
  /** The send queues' consumer (one event source per priority): suppression check, claim, provider chain, record. */
  dispatch: fn<
    Pick<
      Params,
      | 'sesConfigurationSet'
      | 'maxReceiveCount'
      | 'maxReceiveCounts'
      | 'timeoutSeconds'
      | 'publicBaseUrl'
      | 'trackOpens'
      | 'trackClicks'
      | 'providersJson'
      | 'bulkReservePercent'
      | 'guard'
    >
  >({
    entry: 'functions/handlers/dispatch.ts',
    label: 'dispatch',
    description: 'mailroute dispatcher: sends queued emails through the provider chain',
    memorySize: 512,
    timeoutSeconds: DISPATCH_TIMEOUT_SECONDS,
    tables: [
      { table: 'messages', access: 'readWrite' },
      { table: 'suppression', access: 'read' },
      // Cooldowns: one conditional put per recipient; the holder is read back only where a refused put omits it.
      { table: 'cooldowns', access: { actions: ['PutItem', 'GetItem'], keys: 'everyItem' } },
      // The settings table also holds the API keys: only the live provider settings (read) and each
      // provider's health item (read, counted and moved with UpdateItem).
      { table: 'settings', access: { actions: ['BatchGetItem', 'UpdateItem'], keys: 'providerSettingsAndHealth' } },
      // The rate-windows table also holds the API's per-key request counters: only the providers' windows.
      { table: 'rateWindows', access: { actions: ['GetItem', 'UpdateItem'], keys: 'providerRateWindows' } },
      // The reputation guard: the streams' states (read once per batch, cached) and the send counters.
      { table: 'reputation', access: { actions: ['BatchGetItem', 'UpdateItem'], keys: 'reputationStreamsAndCounts' } },
      // Scheduled sends: the key that scheduled an email is read again when it is due (revoked, scopes).
      { table: 'settings', access: { actions: ['GetItem'], keys: 'apiKeys' } },
    ],
    // It changes the visibility of messages it retries later (so it needs the URL), and puts a message
    // waiting for provider capacity back on the queue it came from as a delayed copy.
    queues: [...SEND_QUEUE_NAMES.map((queue) => ({ queue, access: ['consume', 'send'] as const })), PUBLISHES_EVENTS],
    // A message whose record it ends `failed` goes to its queue's DLQ at once, so `dlq:redrive` finds
    // it right away (SQS would move it only once its visibility timeout ends, minutes later).
    deadLetterQueues: SEND_QUEUE_NAMES,
    secrets: ['signingKeys'],
    // The content store: it reads the parts of the emails it sends (attachments, uploads they name, large
    // and scheduled bodies). It deletes nothing: parts may be shared by a batch's emails, and every
    // prefix expires by the bucket's lifecycle after the send (and any redrive) is over.
    buckets: [{ bucket: 'content', access: ['read'], prefixes: ['attachments', 'uploads', 'bodies', 'scheduled'] }],
    env: (p) => ({
      ...(p.sesConfigurationSet === undefined ? {} : { SES_CONFIGURATION_SET: p.sesConfigurationSet }),
      // On the last receive a failing message is marked failed: each queue's own count.
      SEND_MAX_RECEIVE_COUNT: String(p.maxReceiveCounts.send ?? p.maxReceiveCount),
      SEND_CRITICAL_MAX_RECEIVE_COUNT: String(p.maxReceiveCounts.sendCritical ?? p.maxReceiveCount),
      SEND_BULK_MAX_RECEIVE_COUNT: String(p.maxReceiveCounts.sendBulk ?? p.maxReceiveCount),
      // A claim older than the function's timeout was left by a dispatcher that stopped.
      DISPATCH_TIMEOUT_SECONDS: String(p.timeoutSeconds),
      PUBLIC_BASE_URL: p.publicBaseUrl,
      // Deployment defaults for tracking HTML mail; a request may say otherwise.
      TRACK_OPENS: String(p.trackOpens),
      TRACK_CLICKS: String(p.trackClicks),
      PROVIDERS: p.providersJson,
      // The share of each rate window bulk mail leaves to critical/transactional mail.
      BULK_RESERVE_PERCENT: String(p.bulkReservePercent),
      GUARD_HELD_WAIT_SECONDS: String(p.guard.heldWaitSeconds),
    }),
  }),
  /** The SES events queue's consumer: delivery outcomes, suppression of bouncing and complaining addresses. */
  sesEvents: fn<Pick<Params, 'softBounce' | 'guard'>>({
    entry: 'functions/handlers/ses-events.ts',
    label: 'ses-events',
    description: 'mailroute SES events: records delivery outcomes, suppresses bouncing and complaining addresses',
    memorySize: 256,
    timeoutSeconds: SES_EVENTS_TIMEOUT_SECONDS,
    tables: [
      { table: 'messages', access: 'readWrite' },
      { table: 'suppression', access: 'readWrite' },
      // The reputation guard: bounces and complaints counted per priority; a stream paused or warned.
      { table: 'reputation', access: 'readWrite' },
      // Bounces, complaints and rejections counted per template version; a failing canary rolled back.
      { table: 'templates', access: 'readWrite' },
    ],
    queues: [PUBLISHES_EVENTS],
    secrets: [],
    env: (p) => ({
      SOFT_BOUNCE_LIMIT: String(p.softBounce.limit),
      SOFT_BOUNCE_WINDOW_HOURS: String(p.softBounce.windowHours),
      ...guardEnv(p.guard),
    }),
  }),
  /** The public links in emails: unsubscribe, open pixel, click redirect. */
  tracking: fn({
    entry: 'functions/handlers/tracking.ts',
    label: 'tracking',
    description: 'mailroute public links: verifies signed links, records opens and clicks, unsubscribes',
    memorySize: 256,
    // A recipient's browser or mail client is waiting.
    timeoutSeconds: 5,
    tables: [
      { table: 'messages', access: 'readWrite' },
      { table: 'suppression', access: 'readWrite' },
    ],
    queues: [PUBLISHES_EVENTS],
    secrets: ['signingKeys'],
    env: () => ({}),
  }),
  /**
   * The events and retries queues' consumer: fans each event out to the endpoints subscribed to it,
   * signs and POSTs each delivery, retries, disables failing endpoints.
   */
  webhooks: fn<Pick<Params, 'webhooks' | 'retentionDays'>>({
    entry: 'functions/handlers/webhooks.ts',
    label: 'webhooks',
    description: 'mailroute webhooks: signs and delivers events to endpoints, retries, disables failing ones',
    memorySize: 256,
    timeoutSeconds: WEBHOOKS_TIMEOUT_SECONDS,
    tables: [
      { table: 'webhooks', access: 'readWrite' },
      // Events are enriched with their message's recipients, subject, tags and provider.
      { table: 'messages', access: 'read' },
      // A broadcast email's events add to its broadcast's counters (atomic ADDs, nothing else).
      { table: 'broadcasts', access: { actions: ['UpdateItem'], keys: 'everyItem' } },
    ],
    // A failed delivery is queued again, delayed.
    queues: [{ queue: 'webhookRetries', access: ['send'] }],
    // The signing keys open the endpoints' sealed secrets.
    secrets: ['signingKeys'],
    env: (p) => ({ RETENTION_DAYS: String(p.retentionDays), ...webhookEnv(p.webhooks) }),
  }),
  /** /v1/webhooks: endpoints, secrets, test events, deliveries and replays (admin keys). */
  webhookApi: fn<Pick<Params, 'webhooks'>>({
    entry: 'functions/handlers/webhook-api.ts',
    label: 'webhook-api',
    description: 'mailroute webhook API: endpoints, secrets, deliveries and replays',
    memorySize: 256,
    timeoutSeconds: 10,
    tables: [
      { table: 'webhooks', access: 'readWrite' },
      // API keys (read); per-API-key request counters.
      { table: 'settings', access: 'read' },
      { table: 'rateWindows', access: 'readWrite' },
    ],
    queues: [
      // webhook.test events.
      PUBLISHES_EVENTS,
      // Replays.
      { queue: 'webhookRetries', access: ['send'] },
    ],
    // The signing keys seal new endpoint secrets.
    secrets: ['signingKeys'],
    env: (p) => ({ ...webhookEnv(p.webhooks) }),
  }),
  /** The operator console's page, and the admin queue routes it needs (depth, dead letters, redrive). */
  console: fn({
    entry: 'functions/handlers/console.ts',
    label: 'console',
    description: "mailroute console: the operator console's page, queue depths, dead letters and redrive",
    memorySize: 256,
    // A redrive moves up to 1000 dead letters, one receive of ten at a time.
    timeoutSeconds: 30,
    tables: [
      // The caller's API key (looked up by its hash), and its request counter: nothing else of either table.
      { table: 'settings', access: { actions: ['GetItem'], keys: 'apiKeys' } },
      { table: 'rateWindows', access: { actions: ['UpdateItem'], keys: 'apiRequestCounters' } },
      // A dead letter's record is read; a redrive returns a failed record to queued (one conditional update).
      { table: 'messages', access: { actions: ['GetItem', 'UpdateItem'], keys: 'everyItem' } },
    ],
    // A redrive sends each email back to its priority's queue.
    queues: SEND_QUEUE_NAMES.map((queue) => ({ queue, access: ['send'] as const })),
    inspectQueues: [...SEND_QUEUE_NAMES, 'sesEvents'],
    secrets: [],
    env: () => ({}),
  }),
  /**
   * The audience jobs queue's consumer: one job at a time, each a page of work that checkpoints and
   * queues the next (a broadcast's fan-out, a contact import). Job kinds: functions/app/audience-jobs.ts.
   */
  audience: fn<Pick<Params, 'retentionDays' | 'providersJson'>>({
    entry: 'functions/handlers/audience.ts',
    label: 'audience',
    description: 'mailroute audience jobs: broadcast fan-out and contact imports, one checkpointed page at a time',
    memorySize: 512,
    timeoutSeconds: AUDIENCE_TIMEOUT_SECONDS,
    tables: [
      // A broadcast's fan-out: its checkpoint and counts, its list's members and contacts (read), its
      // template (read; sends counted per version), and the emails' records and search index entries.
      { table: 'broadcasts', access: 'readWrite' },
      // Contact imports (and a fan-out's list members and contacts, read): contacts created or
      // updated, list members added, the import's checkpoints.
      { table: 'contacts', access: 'readWrite' },
      { table: 'templates', access: 'readWrite' },
      { table: 'messages', access: 'readWrite' },
      { table: 'emailIndex', access: 'readWrite' },
    ],
    // A job queues its next page (delayed, to keep a broadcast's pace); a broadcast's emails go to the
    // bulk queue (always bulk), and their state changes to the webhook events queue.
    queues: [
      { queue: 'audienceJobs', access: ['send'] },
      { queue: PRIORITY_QUEUES.bulk, access: ['send'] },
      PUBLISHES_EVENTS,
    ],
    secrets: [],
    // A body too large for a queue message waits in the content store (claim-check), as at accept.
    buckets: [
      { bucket: 'content', access: ['write'], prefixes: ['bodies'] },
      // A contact import reads its uploaded file, and deletes it once imported (personal data).
      { bucket: 'content', access: ['read', 'delete'], prefixes: ['imports'] },
    ],
    env: (p) => ({ RETENTION_DAYS: String(p.retentionDays), PROVIDERS: p.providersJson }),
  }),
};

export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** What the deployment supplies to a function's environment (see `FunctionSpec`). */
export type FunctionParams<N extends FunctionName> = Parameters<(typeof FUNCTIONS)[N]['env']>[0];

/** A Lambda SQS event source mapping: the queue, the function it invokes, and how. */
export interface EventSourceSpec {
  readonly queue: QueueName;
  readonly fn: FunctionName;
  /** Messages per invocation. */
  readonly batchSize: number;
  /**
   * Most concurrent invocations the event source starts (2..1000).
   * @default - no limit but the function's
   */
  readonly maxConcurrency?: number;
  /** The function reports partial batch failures (`batchItemFailures`). */
  readonly reportBatchItemFailures: boolean;
}

/** The concurrency of each send queue's event source: bulk is capped, so a campaign cannot take the dispatcher. */
export const SEND_CONCURRENCY: { readonly [K in SendQueueName]: number } = {
  send: DEFAULTS.dispatch.maxConcurrency,
  sendCritical: DEFAULTS.dispatch.maxConcurrency,
  sendBulk: DEFAULTS.dispatch.bulkMaxConcurrency,
};

export const EVENT_SOURCES: readonly EventSourceSpec[] = [
  // One per priority, the transactional queue first. maxConcurrency is the default of the stack's
  // dispatchMaxConcurrency (cdk.json dispatch.maxConcurrency), and for bulk of its
  // bulkMaxConcurrency (cdk.json dispatch.bulkMaxConcurrency).
  ...(['send', 'sendCritical', 'sendBulk'] as const).map(
    (queue): EventSourceSpec => ({
      queue,
      fn: 'dispatch',
      batchSize: DISPATCH_BATCH_SIZE,
      maxConcurrency: SEND_CONCURRENCY[queue],
      reportBatchItemFailures: true,
    }),
  ),
  { queue: 'sesEvents', fn: 'sesEvents', batchSize: SES_EVENTS_BATCH_SIZE, reportBatchItemFailures: true },
  { queue: 'webhookEvents', fn: 'webhooks', batchSize: WEBHOOKS_BATCH_SIZE, reportBatchItemFailures: true },
  { queue: 'webhookRetries', fn: 'webhooks', batchSize: WEBHOOKS_BATCH_SIZE, reportBatchItemFailures: true },
  { queue: 'audienceJobs', fn: 'audience', batchSize: AUDIENCE_BATCH_SIZE, reportBatchItemFailures: true },
];

/** The routes of the HTTP API, each with the function that serves it (lib/api-routes.ts). */
export const ROUTES: readonly ApiRoute[] = API_ROUTES;

/** What the monitoring construct watches beyond each queue's DLQ and each function's errors. */
export const MONITORING = {
  /** The (transactional) queue whose oldest message says mail is late, and its runbook section. */
  backlog: { queue: PRIORITY_QUEUES.transactional, runbook: 'send-queue-backlog' },
  /** The critical queue, whose oldest message says a sign-in code or alert is late (a tighter threshold). */
  criticalBacklog: { queue: PRIORITY_QUEUES.critical, runbook: 'critical-queue-backlog' },
  /** One alarm per priority stream while the reputation guard holds it paused, and its runbook section. */
  pausedStreams: { priorities: PRIORITIES, runbook: 'stream-paused' },
  /** The `webhook.disabled` alarm: an endpoint was disabled (410 Gone, or failing for too long). */
  webhookDisabled: { runbook: 'webhook-endpoint-disabled' },
} as const satisfies {
  readonly backlog: { readonly queue: QueueName; readonly runbook: string };
  readonly criticalBacklog: { readonly queue: QueueName; readonly runbook: string };
  readonly pausedStreams: { readonly priorities: readonly string[]; readonly runbook: string };
  readonly webhookDisabled: { readonly runbook: string };
};

/**
 * Scheduled sends (lib/constructs/scheduling.ts): the functions that create, update and delete
 * schedules, the variables they get (functions/config.ts), and the scheduler DLQ's alarm.
 */
export const SCHEDULING = {
  functions: ['ingest'] as readonly FunctionName[],
  env: {
    group: 'SCHEDULE_GROUP',
    roleArn: 'SCHEDULER_ROLE_ARN',
    deadLetterArn: 'SCHEDULER_DLQ_ARN',
    queueArns: { transactional: 'QUEUE_SEND_ARN', critical: 'QUEUE_SEND_CRITICAL_ARN', bulk: 'QUEUE_SEND_BULK_ARN' },
    /** The audience jobs queue: the target of a broadcast's schedule. */
    jobsQueueArn: 'QUEUE_AUDIENCE_JOBS_ARN',
  },
  deadLetterAlarm: {
    what: 'scheduled emails could not be put on their send queue (the scheduler gave up on them)',
    runbook: 'scheduler-dead-letter-queue-not-empty',
  },
} as const;

/** What a deployment's scheduling resources are called (CDK tokens, or local names). */
export interface BoundScheduling {
  readonly group: string;
  readonly roleArn: string;
  readonly deadLetterArn: string;
  readonly queueArns: { readonly transactional: string; readonly critical: string; readonly bulk: string };
  readonly jobsQueueArn: string;
}

/** The scheduling variables of a function that schedules. */
export function schedulingEnvironment(b: BoundScheduling): Record<string, string> {
  const env = SCHEDULING.env;
  return {
    [env.group]: b.group,
    [env.roleArn]: b.roleArn,
    [env.deadLetterArn]: b.deadLetterArn,
    [env.queueArns.transactional]: b.queueArns.transactional,
    [env.queueArns.critical]: b.queueArns.critical,
    [env.queueArns.bulk]: b.queueArns.bulk,
    [env.jobsQueueArn]: b.jobsQueueArn,
  };
}

/** The whole spec, for code that walks all of it. */
export const SPEC = {
  tables: TABLES,
  queues: QUEUES,
  topics: { sesEvents: SES_EVENTS_TOPIC },
  secrets: SECRETS,
  buckets: BUCKETS,
  functions: FUNCTIONS,
  eventSources: EVENT_SOURCES,
  routes: ROUTES,
  monitoring: MONITORING,
} as const;

/** The event sources that invoke a function. */
export const eventSourcesOf = (name: FunctionName): EventSourceSpec[] => EVENT_SOURCES.filter((s) => s.fn === name);

/** The event source that consumes a queue, if any (at most one per queue). */
export function consumerOf(queue: QueueName): EventSourceSpec | undefined {
  const consumers = EVENT_SOURCES.filter((s) => s.queue === queue);
  if (consumers.length > 1)
    throw new Error(`spec: queue "${queue}" has ${consumers.length} event sources; give it one`);
  return consumers[0];
}

/** The queues that have a consumer: each gets a DLQ alarm. */
export const consumedQueues = (): QueueName[] =>
  (Object.keys(QUEUES) as QueueName[]).filter((queue) => consumerOf(queue) !== undefined);

/** AWS advises a source-queue visibility timeout of at least this many times the consumer's timeout. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

/** The timeout of the function that consumes the queue, in seconds (a queue nothing consumes: none). */
export function consumerTimeoutSeconds(queue: QueueName): number | undefined {
  const consumer = consumerOf(queue);
  return consumer && FUNCTIONS[consumer.fn].timeoutSeconds;
}

/** The queue's visibility timeout: its spec's, or six times its consumer's timeout. */
export function visibilityTimeoutSeconds(queue: QueueName): number {
  const spec: QueueSpec = QUEUES[queue];
  return spec.visibilityTimeoutSeconds ?? VISIBILITY_TO_TIMEOUT_RATIO * (consumerTimeoutSeconds(queue) ?? 30);
}

/** A function's parameters in a deployment: the deployment's, and those of its own spec entry. */
export function paramsFor(name: FunctionName, deployment: DeploymentParams): Params {
  const sources = eventSourcesOf(name);
  const source = sources[0];
  return {
    ...deployment,
    timeoutSeconds: FUNCTIONS[name].timeoutSeconds,
    maxReceiveCount: source ? QUEUES[source.queue].maxReceiveCount : 0,
    maxReceiveCounts: Object.fromEntries(sources.map((s) => [s.queue, QUEUES[s.queue].maxReceiveCount])),
  };
}

/** Names of the tables, queues and secrets as a deployment sees them (CDK tokens, or local names). */
export interface BoundResources {
  readonly tables: { readonly [K in TableName]: string };
  readonly queues: { readonly [K in QueueName]: string };
  /** Each queue's dead-letter queue (URL). */
  readonly deadLetterQueues: { readonly [K in QueueName]: string };
  readonly secrets: { readonly [K in SecretName]: string };
  /** The scheduling resources (scheduled sends). @default - none: scheduled sends are off */
  readonly scheduling?: BoundScheduling;
  readonly buckets: { readonly [K in BucketName]: string };
}

/**
 * A function's environment as the spec defines it: a variable per table, queue, dead-letter queue and
 * secret it is granted, and the variables of its deployment parameters. The CDK stack sets the same variables
 * through `bindTable` / `bindQueue` / `bindSecret` (lib/constructs/spec-function.ts); the local stack
 * passes this map through the function's own config parser (functions/config.ts).
 */
export function functionEnvironment(name: FunctionName, params: Params, bound: BoundResources): Record<string, string> {
  const spec: FunctionSpec<Params> = FUNCTIONS[name];
  return {
    ...spec.env(params),
    ...Object.fromEntries(spec.tables.map((g) => [TABLES[g.table].env, bound.tables[g.table]])),
    ...Object.fromEntries(spec.queues.map((g) => [QUEUES[g.queue].env, bound.queues[g.queue]])),
    ...Object.fromEntries(
      (spec.deadLetterQueues ?? []).map((q) => [QUEUES[q].deadLetterEnv, bound.deadLetterQueues[q]]),
    ),
    ...Object.fromEntries(
      (spec.inspectQueues ?? []).flatMap((q) => [
        [QUEUES[q].env, bound.queues[q]],
        [QUEUES[q].deadLetterEnv, bound.deadLetterQueues[q]],
      ]),
    ),
    ...Object.fromEntries(spec.secrets.map((s) => [SECRETS[s].env, bound.secrets[s]])),
    ...(bound.scheduling && SCHEDULING.functions.includes(name) ? schedulingEnvironment(bound.scheduling) : {}),
    ...Object.fromEntries((spec.buckets ?? []).map((b) => [BUCKETS[b.bucket].env, bound.buckets[b.bucket]])),
  };
}

/** The functions that serve routes of the HTTP API. */
export const API_FUNCTIONS = [...new Set(ROUTES.map((r) => r.fn))] as ApiFunction[];
