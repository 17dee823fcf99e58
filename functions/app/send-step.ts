/**
 * One message through the dispatcher (DESIGN §1, §3): its suppressed recipients dropped, a
 * conditional claim, then the provider chain — each provider in the live order that is enabled,
 * not behind an open circuit and has room in its rate windows is tried until one takes the message;
 * throttled, down and broken providers fail over to the next — and the result recorded. Once
 * claimed, its recipients in a cooldown are dropped (cooldown-step.ts; none left: `throttled`). Returns
 * the send plan (core/send-plan.ts) for the SQS message; only unexpected errors (a store that
 * cannot be reached) are thrown.
 *
 * When no provider can take the message now (all full, open or slowing us down) it waits, without
 * a claim and without using up one of its receives. Only real failures (every provider tried
 * failed) count towards the dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import { claimConflict, claimLeaseMs, type Due } from '../core/claim';
import { type Action, decide, type SendOutcome } from '../core/dispatch';
import type { MessageEvent } from '../core/message';
import { METRICS } from '../core/metric-names';
import { defaultPriority, type Priority } from '../core/priority';
import type { QueuedEmail } from '../core/queued-email';
import { noneLeft, recipientsOf } from '../core/recipients';
import {
  ambiguousPolicy,
  DONE,
  planOf,
  planOfConflict,
  retryDelaySeconds,
  type SendPlan,
  waitFor,
} from '../core/send-plan';
import type { ClaimResult, MessageStore, OutboundEmail } from '../ports';
import type { BatchRouting, Candidate } from './batch-routing';
import type { CooldownStep } from './cooldown-step';
import { type AppLogger, type AppMetrics, maskAddresses } from './observability';
import type { PrepareOutbound } from './outbound';
import type { ProviderChain } from './provider-chain';
import { retrying } from './retrying';

export interface SendStepDeps {
  readonly messages: MessageStore;
  /** The providers in their live order, with health and rate windows. */
  readonly chain: ProviderChain;
  readonly maxReceiveCount: number;
  /** The dispatch function's timeout; a claim older than this (plus a margin) is stale. */
  readonly timeoutSeconds: number;
  readonly now: () => number;
  readonly random: () => number;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
  /**
   * Called once a scheduled email's record is final through this step (its body can go).
   * @default none
   */
  readonly scheduledDone?: (id: string) => Promise<void>;
  /**
   * Takes the cooldowns of a claimed email's recipients, ending it `throttled` when none is left
   * (cooldown-step.ts). @default none: an email's `cooldown` is not checked
   */
  readonly cooldowns?: CooldownStep;
}

/** One queue message, read. */
export interface Received {
  readonly email: QueuedEmail;
  /** SQS's receive count of this delivery (1 on the first). */
  readonly receiveCount: number;
  /** When the API put it on the queue (for the accept-to-send latency). */
  readonly acceptedAt?: number | undefined;
  /**
   * The maxReceiveCount of the queue it came from (each priority's queue has its own).
   * @default - the step's `maxReceiveCount`
   */
  readonly maxReceiveCount?: number | undefined;
  /** A scheduled firing: the schedule version it fires (the claim takes it only while due at that version). */
  readonly due?: Due | undefined;
  /** Why the key that scheduled it may no longer send it (checked at send time): it ends `failed`. */
  readonly refused?: string | undefined;
}

/** What the messages of one batch share. */
export interface BatchScope {
  /** Active suppressions among the batch's recipients, as "address|scope" keys. */
  readonly suppressed: ReadonlySet<string>;
  readonly routing: BatchRouting;
  readonly prepare: PrepareOutbound;
  /** Told of each email a provider took (the reputation guard counts its recipients). */
  readonly sent?: (email: OutboundEmail) => void;
}

type Failure = { provider: string; outcome: Extract<SendOutcome, { kind: 'throttled' | 'down' | 'broken' }> };

/** The result of one message, written to its record. */
interface Result {
  readonly action: Action;
  readonly id: string;
  /** The claim token the record is held with. */
  readonly token: string;
  readonly provider: string;
  readonly acceptedAt?: number | undefined;
  /** Added to the event's detail (suppressed recipients, fail-overs). */
  readonly detail: Record<string, unknown>;
  /** A scheduled email's firing (its body goes once the record is final). */
  readonly due?: Due | undefined;
  /** Kept on a retry: the message may go through this provider only. */
  readonly pin?: string | undefined;
}

export type SendStep = (message: Received, batch: BatchScope) => Promise<SendPlan>;

export function createSendStep(deps: SendStepDeps): SendStep {
  const { now, logger, metrics } = deps;
  const leaseMs = claimLeaseMs(deps.timeoutSeconds);
  const event = (type: string, detail?: Record<string, unknown>): MessageEvent => ({
    type,
    at: new Date(now()).toISOString(),
    ...(detail ? { detail } : {}),
  });
  /** The wait until the first enabled one of `candidates` has room (for mail of `priority`). */
  const waitOn = (candidates: readonly Candidate[], routing: BatchRouting, priority: Priority): SendPlan =>
    waitFor(
      candidates.filter((c) => c.enabled).map((c) => routing.untilOf(c, priority)),
      now(),
    );

  async function record(r: Result): Promise<SendPlan> {
    const { action, id, token, provider, detail } = r;
    const reason = 'reason' in action ? maskAddresses(action.reason) : undefined;
    // One line per message result; successes only at DEBUG (log volume is paid per byte).
    if (action.kind === 'sent') logger.debug('message sent', { messageId: id, provider });
    else logger.warn(`message ${action.kind}`, { messageId: id, provider, reason });
    switch (action.kind) {
      case 'sent':
        await retrying(() =>
          deps.messages.finish(id, token, {
            status: 'sent',
            provider,
            providerMessageId: action.providerMessageId,
            event: event('sent', { provider, providerMessageId: action.providerMessageId, ...detail }),
          }),
        );
        metrics.addMetric(METRICS.sent, 'Count', 1);
        if (r.acceptedAt) metrics.addMetric(METRICS.acceptToSendMs, 'Milliseconds', now() - r.acceptedAt);
        break;
      case 'rejected':
        await retrying(() =>
          deps.messages.finish(id, token, {
            status: 'rejected',
            provider,
            reason: action.reason,
            event: event('rejected', { provider, reason: action.reason, ...detail }),
          }),
        );
        metrics.addMetric(METRICS.rejected, 'Count', 1);
        break;
      case 'failed':
      case 'ambiguous':
        await retrying(() =>
          deps.messages.finish(id, token, {
            status: 'failed',
            provider,
            reason: action.kind === 'ambiguous' ? `ambiguous: ${action.reason}` : action.reason,
            event: event(action.kind, { provider, reason: action.reason, ...detail }),
          }),
        );
        metrics.addMetric(action.kind === 'ambiguous' ? METRICS.ambiguous : METRICS.failed, 'Count', 1);
        break;
      case 'retry': {
        const released = await retrying(() =>
          deps.messages.release(id, token, event('retry', { provider, reason: action.reason, ...detail }), r.pin),
        );
        if (released) metrics.addMetric(METRICS.retried, 'Count', 1);
        break;
      }
    }
    // A scheduled email's body goes once it is final; a `failed` one keeps it for a redrive (it expires).
    if (r.due && (action.kind === 'sent' || action.kind === 'rejected' || action.kind === 'ambiguous')) {
      await deps.scheduledDone?.(id);
    }
    return planOf(action);
  }

  /**
   * The conditional claim. When the call fails, the write may still have happened (a timeout after
   * the request left): the record says whose claim it is, so a claim of ours is not mistaken for
   * another dispatcher's (which would leave the message `sending` until it went stale).
   */
  async function claimOrReadBack(id: string, token: string, due: Due | undefined): Promise<ClaimResult> {
    try {
      return await deps.messages.claim(id, token, now(), due);
    } catch (e) {
      const current = await retrying(() => deps.messages.get(id)).catch(() => undefined);
      if (current?.status !== 'sending' || current.claimToken !== token) throw e;
      logger.warn('claim answered with an error but was written; going on with it', { messageId: id });
      return { ok: true, attempts: current.attempts, ...(current.pin ? { pin: current.pin } : {}) };
    }
  }

  /** The claim did not take: decide from the record's current state (DESIGN §2.2). */
  async function resolveConflict(
    id: string,
    known: Extract<ClaimResult, { ok: false }>['current'] | undefined,
    due: Due | undefined,
  ): Promise<SendPlan> {
    const current = known ?? (await deps.messages.get(id));
    const conflict = claimConflict(current, now(), leaseMs, due);
    switch (conflict.kind) {
      case 'duplicate':
        metrics.addMetric(METRICS.duplicateDelivery, 'Count', 1);
        logger.info('duplicate delivery acknowledged', { messageId: id, status: conflict.status });
        break;
      case 'missing':
        logger.warn('no record for queued message; it was never accepted, dropping it', { messageId: id });
        break;
      case 'in-flight':
      case 'not-due':
        break;
      case 'superseded':
        logger.info('firing of a rescheduled email acknowledged; its newer firing sends it', { messageId: id });
        break;
      case 'stale': {
        // A dispatcher stopped between claim and result: SES may have sent it. Policy: never send
        // again; end `failed` as ambiguous, visible on the message and counted.
        const reason = 'ambiguous: the dispatcher stopped during the send; not sent again to avoid a duplicate';
        await deps.messages.failStale(id, current?.claimedAt, {
          status: 'failed',
          reason,
          event: event('ambiguous', { reason }),
        });
        metrics.addMetric(METRICS.ambiguous, 'Count', 1);
        break;
      }
    }
    return planOfConflict(conflict);
  }

  return async (
    { email, receiveCount, acceptedAt, maxReceiveCount: ofQueue, due, refused },
    { suppressed, routing, prepare, sent },
  ) => {
    // Its queue's own: the last receive of a critical message may differ from a bulk one's.
    const maxReceiveCount = ofQueue ?? deps.maxReceiveCount;
    const settleDue = due ? { ...due, nowMs: now() } : undefined;
    if (refused) {
      // Scheduled by a key that has since been revoked or lost its rights: never sent.
      const reason = `refused at send time: ${refused}`;
      const settled = await deps.messages.settleQueued(
        email.id,
        { status: 'failed', reason, event: event('failed', { reason }) },
        settleDue,
      );
      if (!settled) return resolveConflict(email.id, undefined, due);
      metrics.addMetric(METRICS.failed, 'Count', 1);
      await deps.scheduledDone?.(email.id);
      return DONE;
    }
    const recipients = recipientsOf(email, suppressed);
    const dropped = recipients.dropped;
    if (noneLeft(recipients)) {
      const settled = await deps.messages.settleQueued(
        email.id,
        {
          status: 'suppressed',
          reason: 'every recipient is suppressed',
          event: event('suppressed', { recipients: dropped }),
        },
        settleDue,
      );
      if (!settled) return resolveConflict(email.id, undefined, due);
      metrics.addMetric(METRICS.suppressed, 'Count', 1);
      if (due) await deps.scheduledDone?.(email.id);
      return DONE;
    }

    const view = await deps.chain.current();
    // Bulk mail takes only its share of the providers' capacity (core/shares.ts).
    const priority = email.priority ?? defaultPriority(email.category);
    // A provider that cannot take a message this large is skipped before trying (core/message-size.ts);
    // when no enabled provider can, the message is rejected without a claim.
    const tooLarge = oversized(email, view.entries);
    if (tooLarge) {
      const settled = await deps.messages.settleQueued(email.id, {
        status: 'rejected',
        reason: tooLarge,
        event: event('rejected', { reason: tooLarge }),
      });
      if (!settled) return resolveConflict(email.id, undefined, due);
      metrics.addMetric(METRICS.rejected, 'Count', 1);
      return DONE;
    }
    // Nothing is spent (no claim, no capacity) when no provider could take the message now.
    const usable = view.entries.filter((c) => fits(email, c) && routing.mightUse(c, priority));
    if (usable.length === 0) return waitOn(view.entries, routing, priority);

    // Prepared before the claim: a failure here (e.g. reading the signing keys) leaves the message
    // queued for a plain retry, where a failure after the claim would look like an ambiguous send.
    let outbound = await prepare(email, recipients);

    const id = email.id;
    let detail: Record<string, unknown> = dropped.length > 0 ? { suppressedRecipients: dropped } : {};
    const failures: Failure[] = [];
    // The claim is taken once a provider has room, so a message that must wait costs no write.
    let token: string | undefined;
    let pin: string | undefined;
    let candidates: readonly Candidate[] = usable;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i] as Candidate;
      const pick = await routing.pick(c, priority);
      if (!pick.ok) continue;
      if (token === undefined) {
        const t = randomUUID();
        const claim = await claimOrReadBack(id, t, due);
        if (!claim.ok) {
          routing.unpick(c, pick);
          return resolveConflict(id, claim.current, due);
        }
        token = t;
        if (dropped.length > 0) metrics.addMetric(METRICS.suppressed, 'Count', dropped.length);
        if (deps.cooldowns && email.cooldown) {
          const checked = await deps
            .cooldowns({ email, recipients, token, pin: claim.pin, detail })
            .catch((e: unknown) => {
              routing.unpick(c, pick);
              throw e;
            });
          if (checked.kind === 'throttled') {
            routing.unpick(c, pick);
            return checked.plan;
          }
          if (checked.skipped > 0) {
            // Only transactional mail has several recipients, so only it is ever sent to some of them.
            const { to, cc, bcc } = checked.recipients;
            outbound = { ...outbound, to, cc, bcc };
            detail = { ...detail, ...checked.detail };
          }
        }
        if (claim.pin) {
          // After an ambiguous outcome of an idempotent provider only that provider may be
          // retried: it deduplicates by message id, another provider would not.
          pin = claim.pin;
          const pinned = deps.chain.candidate(pin);
          if (!pinned) {
            return record({
              action: {
                kind: 'ambiguous',
                reason: `pinned to provider "${pin}", which is no longer configured; not sent elsewhere`,
              },
              id,
              token,
              provider: pin,
              acceptedAt,
              detail,
              due,
            });
          }
          if (!pinned.enabled) {
            // Never another provider, and not one an operator switched off: wait until it is back.
            routing.unpick(c, pick);
            await deps.messages.release(
              id,
              token,
              event('waiting', { reason: `pinned provider "${pin}" is disabled` }),
              pin,
            );
            return waitOn([pinned], routing, priority);
          }
          if (pinned.id !== c.id) {
            routing.unpick(c, pick);
            candidates = [pinned];
            i = -1;
            continue;
          }
          candidates = [c];
        }
      }
      const outcome = await c.provider.send(outbound);
      routing.note(c, outcome, pick.probe);
      if (outcome.kind === 'accepted') sent?.(outbound);
      const sentDetail = failures.length > 0 ? { ...detail, failedOver: failures.map(describe) } : detail;
      switch (outcome.kind) {
        case 'accepted':
        case 'rejected':
          return record({
            action: decide(outcome, receiveCount, maxReceiveCount, deps.random),
            id,
            token,
            provider: c.id,
            acceptedAt,
            detail: sentDetail,
            due,
          });
        case 'ambiguous': {
          const decision = ambiguousPolicy({
            idempotent: c.provider.idempotent === true,
            reason: outcome.reason,
            receiveCount,
            maxReceiveCount,
            random: deps.random,
          });
          if (decision.kind === 'ambiguous') {
            const action = { kind: 'ambiguous', reason: decision.reason } as const;
            return record({ action, id, token, provider: c.id, acceptedAt, detail: sentDetail, due });
          }
          // Retried through this provider only (pinned); counted and on the timeline.
          metrics.addMetric(METRICS.ambiguous, 'Count', 1);
          await deps.messages.release(
            id,
            token,
            event('ambiguous', {
              provider: c.id,
              reason: outcome.reason,
              retry: 'same provider (it deduplicates by message id)',
              ...sentDetail,
            }),
            c.id,
          );
          return { kind: 'retry', seconds: decision.seconds, reason: decision.reason };
        }
        default:
          failures.push({ provider: c.id, outcome });
          if (i < candidates.length - 1) routing.failedOver(c);
          logger.warn('provider did not take the message', {
            messageId: id,
            provider: c.id,
            outcome: outcome.kind,
            reason: maskAddresses(outcome.reason),
          });
      }
    }

    if (token === undefined) return waitOn(candidates, routing, priority);
    const last = failures[failures.length - 1];
    if (!last) {
      // The pinned provider had no room after all: hand the claim back and wait.
      await deps.messages.release(id, token, event('waiting', { reason: 'no provider has room now' }), pin);
      return waitOn(candidates, routing, priority);
    }
    const reason =
      failures.length === 1 ? `${last.provider}: ${last.outcome.reason}` : failures.map(describe).join('; ');
    const action = decide({ ...last.outcome, reason }, receiveCount, maxReceiveCount, deps.random);
    if (action.kind === 'retry') {
      // Retry no sooner than a provider has room again.
      const untilMs = candidates.map((c) => routing.untilOf(c, priority));
      const delaySeconds = retryDelaySeconds(action.delaySeconds, untilMs, now());
      return record({
        action: { ...action, delaySeconds },
        id,
        token,
        provider: last.provider,
        acceptedAt,
        detail,
        pin,
        due,
      });
    }
    return record({ action, id, token, provider: last.provider, acceptedAt, detail, due });
  };
}

const describe = (f: Failure): string => `${f.provider} ${f.outcome.kind}: ${f.outcome.reason}`.slice(0, 300);

/** Whether a provider takes a message of the email's size (an email without a known size fits any). */
const fits = (email: QueuedEmail, c: Pick<Candidate, 'maxMessageBytes'>): boolean =>
  email.size === undefined || c.maxMessageBytes === undefined || email.size <= c.maxMessageBytes;

/** Why no enabled provider can take the email, if none can. */
function oversized(email: QueuedEmail, entries: readonly Candidate[]): string | undefined {
  const enabled = entries.filter((c) => c.enabled);
  if (email.size === undefined || enabled.length === 0 || enabled.some((c) => fits(email, c))) return undefined;
  const largest = Math.max(...enabled.map((c) => c.maxMessageBytes ?? 0));
  return `the message is about ${email.size} bytes once encoded; no enabled provider takes more than ${largest}`;
}
