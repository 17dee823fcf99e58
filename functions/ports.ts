/**
 * The small interfaces the application code depends on. AWS adapters (store/dynamo.ts,
 * store/sqs.ts, providers/ses.ts) implement them; tests pass fakes or the same adapters pointed at
 * emulators.
 */

import type { ThrottleState } from './core/aimd';
import type { ClaimCurrent, Due } from './core/claim';
import type { SendOutcome } from './core/dispatch';
import type { IndexEntry, PartitionRead } from './core/email-search';
import type { BucketCounts, CircuitState, ProviderHealth } from './core/health';
import type { MessageEvent, MessageRecord, Status } from './core/message';
import type { Priority } from './core/priority';
import type { LiveSettings } from './core/providers';
import type { QueuedEmail } from './core/queued-email';
import type { Grant, RateWindow } from './core/rate-window';
import type { Counts } from './core/reputation';
import type { SharesGrant, Wanted } from './core/shares';
import type { Keyring } from './core/signing';
import type { StreamRecord } from './core/stream';
import type { SuppressionReason } from './core/suppression';
import type { TemplateContent, TemplateCounts, TemplateKind } from './core/template';
import type { QueuedEvent } from './core/webhook-events';

// The ports of each capability live in ports/<capability>.ts; this module re-exports them.
export * from './ports/broadcasts';
export * from './ports/contact-imports';
export * from './ports/contacts';
export * from './ports/cooldowns';
export * from './ports/rules';

export type ClaimResult =
  | {
      readonly ok: true;
      readonly attempts: number;
      /** The only provider this message may be sent through (set after an ambiguous idempotent send). */
      readonly pin?: string;
    }
  | { readonly ok: false; readonly current?: ClaimCurrent };

export interface FinishPatch {
  readonly status: Status;
  readonly event: MessageEvent;
  readonly provider?: string;
  readonly providerMessageId?: string;
  readonly reason?: string;
  /**
   * Pins the message to one provider: after an ambiguous outcome of an idempotent provider, a
   * retry through that provider (same idempotency key) cannot send twice; another provider could.
   */
  readonly pin?: string;
}

export interface MessageStore {
  /** Writes new records (status queued or scheduled). All or nothing: throws if any could not be written. */
  createMany(records: readonly MessageRecord[]): Promise<void>;
  /**
   * Writes records whose ids are derived from their meaning (a broadcast and a contact, an event and
   * a rule), each only if no record has its id: never overwrites one. Returns the ids that existed.
   * Throws if a write failed for another reason (the ones written stay; the caller removes them).
   */
  createNew(records: readonly MessageRecord[]): Promise<string[]>;
  /** Removes records that are still queued or scheduled (rollback of an enqueue that failed). */
  deleteQueued(ids: readonly string[]): Promise<void>;
  get(id: string): Promise<MessageRecord | undefined>;
  /**
   * queued → sending, with a claim token, in one conditional write. With `due` (a scheduled
   * firing) also scheduled → sending, only once the record's `scheduledAt` has come and only for
   * the record's current schedule version: a canceled, rescheduled or not yet due message is refused.
   */
  claim(id: string, token: string, nowMs: number, due?: Due): Promise<ClaimResult>;
  /** Ends a claim held by `token` with a new status. False if the claim is no longer ours. */
  finish(id: string, token: string, patch: FinishPatch): Promise<boolean>;
  /** sending → queued for a retry, if the claim is still ours; `pin` limits the retry to that provider. */
  release(id: string, token: string, event: MessageEvent, pin?: string): Promise<boolean>;
  /**
   * queued → `patch.status` without a claim (e.g. every recipient suppressed); with `due`, a due
   * scheduled message of that schedule version too (as `claim`), at `nowMs`.
   */
  settleQueued(id: string, patch: FinishPatch, due?: Due & { readonly nowMs: number }): Promise<boolean>;
  /**
   * scheduled → scheduled at another time, if its schedule version is still `rev`: the version
   * becomes `rev + 1` (firings of `rev` then send nothing). False when it is no longer scheduled at `rev`.
   */
  reschedule(
    id: string,
    rev: number,
    next: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ): Promise<boolean>;
  /**
   * Undoes a reschedule whose new firing could not be placed: back to `previous` at version `rev`,
   * if the record is still scheduled at `rev + 1`.
   */
  unreschedule(
    id: string,
    rev: number,
    previous: { readonly scheduledAt: string; readonly via: 'queue' | 'scheduler' },
    event: MessageEvent,
  ): Promise<boolean>;
  /** scheduled → canceled in one conditional write; false when it is no longer scheduled. */
  cancelScheduled(id: string, event: MessageEvent): Promise<boolean>;
  /** sending → failed for a claim left by a dispatcher that stopped (claimedAt must still match). */
  failStale(id: string, claimedAt: number | undefined, patch: FinishPatch): Promise<boolean>;
  /**
   * Applies an SES notification once (by `key`): appends `event`, and moves the status to `status`
   * when the current one is in `from` (status only moves forward).
   */
  applyFeedback(
    id: string,
    key: string,
    event: MessageEvent,
    status: Status | undefined,
    from: readonly Status[],
  ): Promise<FeedbackResult>;
  /**
   * failed → queued, only for a message whose retries ran out (never an ambiguous send, which
   * may have been delivered): the step before moving it back from the dead-letter queue.
   */
  requeueFailed(id: string, event: MessageEvent): Promise<boolean>;
  /** Counts an open or click (a person's or a machine's) and puts it on the timeline. No read. */
  recordEngagement(id: string, kind: 'open' | 'click', machine: boolean, event: MessageEvent): Promise<void>;
}

/** Outcome of applying an SES notification to its message. */
export type FeedbackResult =
  /** Recorded (event appended; status moved if it could move forward). */
  | 'applied'
  /** This notification was applied before: nothing done. */
  | 'duplicate'
  /** The message is not recorded as sent yet (SES was faster than the dispatcher): try later. */
  | 'not-yet-sent'
  /** No such message (expired, or not ours). */
  | 'missing';

export interface SuppressionKey {
  /** Normalised address. */
  readonly address: string;
  /** "*" for all mail, or a category. */
  readonly scope: string;
}

export interface SuppressionEntry extends SuppressionKey {
  readonly reason: SuppressionReason;
  /** Where it came from: "ses", "api", "unsubscribe". */
  readonly source: string;
  /** When it happened (ISO): a re-enable after this time wins over it. */
  readonly at: string;
  readonly detail?: Record<string, unknown>;
  readonly messageId?: string;
}

export interface SuppressionRecord extends SuppressionEntry {
  readonly active: boolean;
  readonly reenabledAt?: string;
}

export interface SuppressionStore {
  /** Which of `keys` are actively suppressed, as "address|scope" strings. One round trip per 100 keys. */
  suppressedAmong(keys: readonly SuppressionKey[]): Promise<Set<string>>;
  /**
   * Suppresses unless the address was re-enabled (for that scope) after `entry.at`, so a replayed
   * old bounce never undoes a re-enable. True when the suppression is in force afterwards.
   */
  suppress(entry: SuppressionEntry): Promise<boolean>;
  /** Lifts a suppression; false when there was no active one. */
  reenable(key: SuppressionKey, at: string): Promise<boolean>;
  /** Every scope of one address (active and lifted). */
  get(address: string): Promise<SuppressionRecord[]>;
  /** Active suppressions, paged. */
  list(limit: number, cursor?: string): Promise<{ items: SuppressionRecord[]; next?: string }>;
  /** Records a transient bounce (idempotent per feedback id); returns the count within the window. */
  recordSoftBounce(
    address: string,
    feedbackId: string,
    at: string,
    windowHours: number,
    nowMs: number,
  ): Promise<number>;
}

export interface QueueEntry {
  readonly id: string;
  readonly body: string;
  /** Deliver after this many seconds (0-900). */
  readonly delaySeconds?: number;
}

export interface SendQueue {
  /** Enqueues every entry; returns the ids that could not be enqueued after retries. */
  send(entries: readonly QueueEntry[]): Promise<string[]>;
}

export interface VisibilityControl {
  /** Sets when each received message becomes visible again. */
  delay(entries: readonly { receiptHandle: string; seconds: number }[]): Promise<void>;
}

export interface SigningKeys {
  keyring(): Promise<Keyring>;
}

export type Scope = 'send' | 'read' | 'admin';

export interface ApiKeyRecord {
  readonly name: string;
  readonly createdAt: string;
  readonly revoked?: boolean;
  /** What the key may do: send email, read emails and suppressions, manage suppressions. */
  readonly scopes: readonly Scope[];
  /** Domains the key may use in `from`; "*" for any. */
  readonly senderDomains: readonly string[];
  /** Requests per second the key may make. */
  readonly ratePerSecond: number;
  /** The first characters of the key, to tell keys apart in listings. */
  readonly prefix?: string;
}

export interface KeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  put(hash: string, key: ApiKeyRecord): Promise<void>;
  list(): Promise<ApiKeyRecord[]>;
  /** Revokes every key with this name or key prefix; returns how many. */
  revoke(match: { name?: string; prefix?: string }): Promise<number>;
}

export interface RequestRateLimiter {
  /** Counts a request of `key`; the seconds to wait when it is over `limitPerSecond`. */
  take(
    key: string,
    limitPerSecond: number,
    nowMs: number,
  ): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
}

/** One email as a provider sends it: the queued email with the recipients still to be mailed. */
/** An attachment as a provider is given it: the bytes, read back from the content store. */
export interface OutboundAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly disposition: 'attachment' | 'inline';
  readonly contentId?: string | undefined;
  readonly content: Uint8Array;
}

/** The email a provider sends: the queued one with its bodies and attachments read back from the content store. */
export type OutboundEmail = QueuedEmail & { readonly files?: readonly OutboundAttachment[] };

export interface EmailProvider {
  readonly id: string;
  /**
   * Whether a retry after an ambiguous outcome cannot send twice (the provider deduplicates on an
   * id mailroute derives from the message: Azure's operation id, the HTTP provider's
   * Idempotency-Key). SES has none. @default false
   */
  readonly idempotent?: boolean;
  send(email: OutboundEmail): Promise<SendOutcome>;
}

/** The live provider settings and each provider's health, kept in the settings table. */
export interface ProviderSettingsStore {
  /** The live settings (undefined when none were saved: the deployment's defaults apply) and health. */
  load(ids: readonly string[]): Promise<{ live?: LiveSettings; health: Record<string, ProviderHealth> }>;
  /** Saves new live settings if the stored version is still `expectedVersion` (0: none saved yet). */
  saveLive(next: LiveSettings, expectedVersion: number): Promise<boolean>;
  /** Adds outcomes to one bucket's counts, dropping old buckets; the health afterwards. */
  recordOutcomes(id: string, bucket: number, counts: BucketCounts, drop: readonly number[]): Promise<ProviderHealth>;
  /**
   * Moves a provider's circuit to `to` if it is in `from.state` (missing counts as closed) and,
   * when `from.dueBy` is set, its `untilMs` is not after it. False when another dispatcher moved first.
   */
  moveCircuit(
    id: string,
    from: { readonly state: CircuitState; readonly dueBy?: number },
    to: {
      readonly state: CircuitState;
      readonly untilMs?: number;
      readonly reason?: string;
      readonly sinceMs?: number;
    },
  ): Promise<boolean>;
}

export interface Reservation extends Grant {
  /** The time the admissions count at. */
  readonly atMs: number;
  /** Share (0-1) of the tightest window in use after this reservation. */
  readonly utilization: number;
}

/** What one reservation granted each capacity class (core/shares.ts). */
export interface ShareReservation extends SharesGrant {
  /** The time the admissions count at. */
  readonly atMs: number;
  /** Share (0-1) of the tightest (effective) window in use after this reservation. */
  readonly utilization: number;
  /** The adaptive throttle's factor (0-1] of the declared limits in effect (core/aimd.ts). */
  readonly rateFactor: number;
}

export interface ShareOptions {
  /** The share (0-0.9) of each window held back from bulk mail while critical/transactional mail is around. */
  readonly bulkReserve: number;
  /** The warm-up ramp's bulk-only window at a time, if the provider warms up (core/warm-up.ts). */
  readonly warmUp?: ((atMs: number) => RateWindow | undefined) | undefined;
}

/** Exact rate windows per provider (conditional writes; see core/rate-window.ts). */
export interface RateWindowStore {
  /** Reserves up to `wanted` sends of `provider` in every window at once (all of them critical/transactional). */
  reserve(provider: string, windows: readonly RateWindow[], wanted: number, nowMs: number): Promise<Reservation>;
  /**
   * Reserves sends of each capacity class in one conditional write: bulk mail only above the
   * reserve and within the warm-up ramp, every class within the effective (throttled) limits.
   */
  reserveShares(
    provider: string,
    windows: readonly RateWindow[],
    wanted: Wanted,
    nowMs: number,
    options: ShareOptions,
  ): Promise<ShareReservation>;
  /** The provider throttled without a Retry-After: lowers its effective rate (shared); the factor afterwards. */
  throttled(provider: string, nowMs: number): Promise<number>;
  /** Each provider's adaptive-throttle state (undefined: never throttled). */
  throttleStates(providers: readonly string[]): Promise<Record<string, ThrottleState | undefined>>;
}

/**
 * The reputation guard's shared state (core/reputation.ts, core/stream.ts): counters per priority
 * and hour bucket, and each priority's stream. Shared by every dispatcher, the SES events function
 * and the API.
 */
export interface ReputationStore {
  /** Adds to one bucket's counters (one write); `expiresAt` in epoch seconds. */
  add(priority: Priority, bucket: number, counts: Partial<Counts>, expiresAt: number): Promise<void>;
  /** The counters of the given buckets (missing ones left out). */
  counts(priority: Priority, buckets: readonly number[]): Promise<Map<number, Counts>>;
  /** Each priority's stream (a stream never changed is its initial state). */
  streams(): Promise<Record<Priority, StreamRecord>>;
  /**
   * Writes a stream's next state if it is still at `expectedVersion` (0: never written). False when
   * another writer changed it first: re-read and decide again.
   */
  saveStream(next: StreamRecord, expectedVersion: number): Promise<boolean>;
}

/** A canary: a share of sends gets `version`, the rest the template's active version. */
export interface TemplateCanary {
  readonly version: number;
  readonly percent: number;
  readonly minSends: number;
  /** How much higher (0-1) the canary's rejection or bounce rate may be than the active version's. */
  readonly margin: number;
  readonly startedAt: string;
}

/** A template's head item: what it is, its draft, and which version sends use. */
export interface TemplateHead {
  readonly slug: string;
  readonly kind: TemplateKind;
  readonly draft: TemplateContent;
  /** Bumped by every draft edit (optimistic concurrency). */
  readonly revision: number;
  /** The newest published version (0: none yet). */
  readonly latestVersion: number;
  /** The version sends use (0: none active). */
  readonly activeVersion: number;
  readonly canary?: TemplateCanary | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TemplateVersion {
  readonly slug: string;
  readonly version: number;
  readonly content: TemplateContent;
  readonly publishedAt: string;
}

export interface TemplateStore {
  /** Writes a new template's head; false when the slug is taken. */
  create(head: TemplateHead): Promise<boolean>;
  head(slug: string): Promise<TemplateHead | undefined>;
  /** Several heads in one round trip (a batch's templates and their layouts). */
  heads(slugs: readonly string[]): Promise<Map<string, TemplateHead>>;
  list(limit: number, cursor?: string): Promise<{ items: TemplateHead[]; next?: string }>;
  /** Replaces the draft if the head's revision is still `revision`. */
  saveDraft(slug: string, draft: TemplateContent, revision: number, at: string): Promise<boolean>;
  /**
   * Publishes `content` as version `latestVersion + 1`: claims the number on the head (conditional on
   * `latestVersion`), then writes the immutable version. False when another publish came first.
   */
  publish(slug: string, latestVersion: number, content: TemplateContent, at: string): Promise<boolean>;
  version(slug: string, version: number): Promise<TemplateVersion | undefined>;
  /** Published versions, newest first, without their content. */
  versions(
    slug: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Omit<TemplateVersion, 'content'>[]; next?: string }>;
  /**
   * Sets the active version and the canary if the head still has `expected` (its active version and
   * canary version, 0 for none). False when another change came first.
   */
  activate(
    slug: string,
    next: { readonly activeVersion: number; readonly canary?: TemplateCanary | undefined },
    expected: { readonly activeVersion: number; readonly canaryVersion: number },
    at: string,
  ): Promise<boolean>;
  /** Adds to a version's counters. */
  count(slug: string, version: number, add: Partial<TemplateCounts>): Promise<void>;
  /** The counters of every version that has any. */
  stats(slug: string): Promise<Map<number, TemplateCounts>>;
}

/**
 * One-time schedules that put a message on a send queue at a time (EventBridge Scheduler in AWS,
 * bin/local/scheduler.ts locally). One schedule per message, by name.
 */
export interface ScheduleRequest {
  /** The schedule's name (unique in the stack's schedule group). */
  readonly name: string;
  /** `at(yyyy-mm-ddThh:mm:ss)`, in UTC. */
  readonly expression: string;
  /** The send queue's ARN the target puts the message on. */
  readonly queueArn: string;
  /** The queue message. */
  readonly body: string;
}

export interface Scheduler {
  create(request: ScheduleRequest): Promise<void>;
  /** Replaces a schedule's time and message; false when it is gone (it fired, or was deleted). */
  update(request: ScheduleRequest): Promise<boolean>;
  /** Deletes a schedule; false when it was already gone (it fired: counts as done). */
  delete(name: string): Promise<boolean>;
}

/** Bytes kept outside the queue (claim-check): attachments, large bodies, scheduled bodies. */
export interface ContentStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>; // undefined when absent
  delete(key: string): Promise<void>; // absent is fine
}

/** Presigned uploads into the content store: a client PUTs a file straight to S3, within limits. */
export interface UploadSigner {
  /**
   * A URL that accepts one PUT of exactly `size` bytes of `contentType` under `key` until `expiresInSeconds`
   * have passed (the signature covers Content-Type and Content-Length).
   */
  presignPut(key: string, contentType: string, size: number, expiresInSeconds: number): Promise<string>;
}

// ── Webhooks (core/webhook-events.ts; app/webhook-events.ts, app/webhooks.ts, app/webhook-api.ts) ──

/** Puts webhook events on the events queue (batched: one request per ten events). */
export interface EventPublisher {
  publish(events: readonly QueuedEvent[]): Promise<void>;
}

/** A signing secret of an endpoint, sealed (core/webhook-secret.ts). */
export interface SealedSecret {
  readonly sealed: string;
  /** A rotated-out secret keeps signing until then (ISO); the current one has none. */
  readonly expiresAt?: string | undefined;
}

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly description?: string | undefined;
  /** Event types, "email.*"-style prefixes or "*". */
  readonly events: readonly string[];
  readonly enabled: boolean;
  readonly disabledReason?: string | undefined;
  readonly disabledAt?: string | undefined;
  /** The current secret first, then rotated-out ones that still sign. */
  readonly secrets: readonly SealedSecret[];
  /** Failed attempts in a row (a success resets it), and when the streak began. */
  readonly failures: number;
  readonly failingSince?: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type EndpointPatch = Partial<Pick<WebhookEndpoint, 'url' | 'events' | 'enabled' | 'description' | 'secrets'>>;

export interface WebhookEndpointStore {
  /** False when the id is taken. */
  create(endpoint: WebhookEndpoint): Promise<boolean>;
  get(id: string): Promise<WebhookEndpoint | undefined>;
  list(): Promise<WebhookEndpoint[]>;
  /** Changes an endpoint; enabling one clears its failures and disabled reason. Undefined when there is none. */
  update(id: string, patch: EndpointPatch, at: string): Promise<WebhookEndpoint | undefined>;
  delete(id: string): Promise<boolean>;
  /** Counts a failed attempt; the streak afterwards. */
  recordFailure(id: string, at: string): Promise<{ failures: number; failingSince: string }>;
  /** Ends a failure streak. */
  recordSuccess(id: string): Promise<void>;
  /** Disables an enabled endpoint; false when it was not enabled (or is gone). */
  disable(id: string, reason: string, at: string): Promise<boolean>;
}

export type DeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed';

export interface WebhookDelivery {
  readonly endpointId: string;
  /** The `webhook-id` header: the same on every attempt and replay. */
  readonly id: string;
  readonly eventId: string;
  readonly type: string;
  /** The exact bytes every attempt sends. */
  readonly payload: string;
  /** The event's time (ISO). */
  readonly createdAt: string;
  readonly status: DeliveryStatus;
  /** Attempts since the delivery was made or last replayed. */
  readonly attempts: number;
  readonly lastAttemptAt?: string | undefined;
  /** The receiver's last HTTP status (none: no response). */
  readonly lastStatusCode?: number | undefined;
  /** Why the last attempt failed, short (never a response body in full). */
  readonly lastError?: string | undefined;
  readonly nextAttemptAt?: string | undefined;
  /** Epoch seconds (TTL). */
  readonly expiresAt: number;
}

export type AttemptPatch = Pick<WebhookDelivery, 'status' | 'lastAttemptAt'> &
  Partial<Pick<WebhookDelivery, 'lastStatusCode' | 'lastError' | 'nextAttemptAt'>>;

export interface WebhookDeliveryStore {
  /** Writes a new delivery; false when it exists already. */
  create(delivery: WebhookDelivery): Promise<boolean>;
  get(endpointId: string, id: string): Promise<WebhookDelivery | undefined>;
  /** Records an attempt (attempts + 1) if the delivery still has `attempts`; false when it moved on. */
  recordAttempt(endpointId: string, id: string, attempts: number, patch: AttemptPatch): Promise<boolean>;
  /** An endpoint's deliveries, newest first, without payloads; `since` (ISO) stops at older ones. */
  list(
    endpointId: string,
    options: { limit: number; cursor?: string | undefined; since?: string | undefined; status?: DeliveryStatus },
  ): Promise<{ items: Omit<WebhookDelivery, 'payload'>[]; next?: string }>;
  /** Starts a delivery over (pending, no attempts), unless it is pending already. The delivery afterwards. */
  replay(endpointId: string, id: string): Promise<WebhookDelivery | undefined>;
}

/** What a receiver answered (or why it did not). */
export type WebhookResponse =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfter?: string | undefined }
  | { readonly kind: 'error'; readonly error: string };

/** POSTs a delivery: a timeout, no redirects followed, addresses checked at connect time. */
export interface WebhookSender {
  post(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<WebhookResponse>;
}

/** The search index of GET /v1/emails (store/email-index.ts): newest-first timelines per key, recipient and API. */
export interface EmailIndex {
  /** Writes the index entries of newly accepted emails. */
  add(entries: readonly IndexEntry[]): Promise<void>;
  /**
   * Reads one partition newest first, below `before` and at or after `after`, at most `limit`
   * entries read (before the filters apply), keeping those of `key` and matching the filters.
   */
  read(
    partition: string,
    range: { readonly after?: string; readonly before?: string },
    filter: IndexFilter,
    limit: number,
  ): Promise<PartitionRead>;
  /** The message records of these ids (eventually consistent; missing ones left out). */
  records(ids: readonly string[]): Promise<MessageRecord[]>;
}

/** What a partition read keeps: every given field must match. */
export interface IndexFilter {
  readonly key?: string;
  readonly from?: string;
  readonly priority?: Priority;
  readonly tag?: { readonly name: string; readonly value?: string };
}

/** How many messages a queue holds, by state (SQS's approximate counts). */
export interface QueueDepth {
  /** Waiting to be received. */
  readonly visible: number;
  /** Received and not yet deleted (being processed, or held). */
  readonly inFlight: number;
  /** Sent with a delay that has not ended. */
  readonly delayed: number;
}

/** A message read from a queue without consuming it (it is held, then released). */
export interface HeldMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** When SQS first received it (ISO 8601). */
  readonly sentAt?: string;
  /** How many times it has been received. */
  readonly receiveCount?: number;
}

/** The operator's view of a queue and its dead-letter queue: depth, reading without consuming, moving back. */
export interface QueueAdmin {
  depth(queueUrl: string): Promise<QueueDepth>;
  /** Receives up to `max` (≤ 10) messages and keeps them invisible for `holdSeconds`. */
  receive(
    queueUrl: string,
    options: { readonly max: number; readonly holdSeconds: number; readonly waitSeconds: number },
    signal?: AbortSignal,
  ): Promise<HeldMessage[]>;
  remove(queueUrl: string, receiptHandle: string): Promise<void>;
  send(queueUrl: string, body: string): Promise<void>;
  /** Makes held messages visible again; returns how many could not be. */
  release(queueUrl: string, receiptHandles: readonly string[]): Promise<number>;
}
