/**
 * The small interfaces the application code depends on. AWS adapters (store/dynamo.ts,
 * store/sqs.ts, providers/ses.ts) implement them; tests pass fakes or the same adapters pointed at
 * emulators.
 */

import type { ThrottleState } from './core/aimd';
import type { SendOutcome } from './core/dispatch';
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

export type ClaimResult =
  | {
      readonly ok: true;
      readonly attempts: number;
      /** The only provider this message may be sent through (set after an ambiguous idempotent send). */
      readonly pin?: string;
    }
  | { readonly ok: false; readonly current?: { status: Status; claimedAt?: number | undefined } };

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
  /** Writes new records (status queued). All or nothing: throws if any could not be written. */
  createMany(records: readonly MessageRecord[]): Promise<void>;
  /** Removes records that are still queued (rollback of an enqueue that failed). */
  deleteQueued(ids: readonly string[]): Promise<void>;
  get(id: string): Promise<MessageRecord | undefined>;
  /** queued → sending, with a claim token, in one conditional write. */
  claim(id: string, token: string, nowMs: number): Promise<ClaimResult>;
  /** Ends a claim held by `token` with a new status. False if the claim is no longer ours. */
  finish(id: string, token: string, patch: FinishPatch): Promise<boolean>;
  /** sending → queued for a retry, if the claim is still ours; `pin` limits the retry to that provider. */
  release(id: string, token: string, event: MessageEvent, pin?: string): Promise<boolean>;
  /** queued → `patch.status` without a claim (e.g. every recipient suppressed). */
  settleQueued(id: string, patch: FinishPatch): Promise<boolean>;
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
export type OutboundEmail = QueuedEmail;

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
