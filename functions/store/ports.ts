/**
 * The small interfaces the application code depends on. AWS adapters (store/dynamo.ts,
 * store/sqs.ts, providers/ses.ts) implement them; tests pass fakes or the same adapters pointed at
 * emulators.
 */
import type { SendOutcome } from '../core/dispatch';
import type { MessageEvent, MessageRecord, Status } from '../core/message';
import type { QueuedEmail } from '../core/queued-email';

export type ClaimResult =
  | { readonly ok: true; readonly attempts: number }
  | { readonly ok: false; readonly current?: { status: Status; claimedAt?: number | undefined } };

export interface FinishPatch {
  readonly status: Status;
  readonly event: MessageEvent;
  readonly provider?: string;
  readonly providerMessageId?: string;
  readonly reason?: string;
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
  /** sending → queued for a retry, if the claim is still ours. */
  release(id: string, token: string, event: MessageEvent): Promise<boolean>;
  /** queued → `patch.status` without a claim (e.g. every recipient suppressed). */
  settleQueued(id: string, patch: FinishPatch): Promise<boolean>;
  /** sending → failed for a claim left by a dispatcher that stopped (claimedAt must still match). */
  failStale(id: string, claimedAt: number | undefined, patch: FinishPatch): Promise<boolean>;
}

export interface SuppressionStore {
  /** The subset of `addresses` (normalised) suppressed for all mail. */
  suppressedAmong(addresses: readonly string[]): Promise<Set<string>>;
}

export interface QueueEntry {
  readonly id: string;
  readonly body: string;
}

export interface SendQueue {
  /** Enqueues every entry; returns the ids that could not be enqueued after retries. */
  send(entries: readonly QueueEntry[]): Promise<string[]>;
}

export interface VisibilityControl {
  /** Sets when each received message becomes visible again. */
  delay(entries: readonly { receiptHandle: string; seconds: number }[]): Promise<void>;
}

export interface ApiKeyRecord {
  readonly name: string;
  readonly createdAt: string;
  readonly revoked?: boolean;
}

export interface KeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  put(hash: string, key: ApiKeyRecord): Promise<void>;
}

/** One email as a provider sends it: the queued email with the recipients still to be mailed. */
export type OutboundEmail = QueuedEmail;

export interface EmailProvider {
  readonly id: string;
  send(email: OutboundEmail): Promise<SendOutcome>;
}
