/**
 * Moving a send queue's dead letters back, still sending each email at most once: a message goes back
 * only when its record says its retries ran out (or it is still `queued`); the record returns to `queued`
 * first (one conditional write), so the dispatcher claims and sends it as any other. Ambiguous sends and
 * emails already in a final state are not sent again; their DLQ copies are removed. What is not a
 * mailroute email stays in the DLQ. Every message a run keeps in the DLQ stays invisible while the run goes
 * on (so none is read twice) and is made visible again at the end. Used by `npm run dlq:redrive` and by
 * the console's `POST /v1/queues/{queue}/redrive`.
 */
import { RETRIES_EXHAUSTED } from '../core/dispatch';
import type { MessageRecord } from '../core/message';
import { QueuedEmail } from '../core/queued-email';
import type { HeldMessage, MessageStore, QueueAdmin } from '../ports';

export interface RedriveReport {
  /** Email ids moved back to the send queue (record requeued first). */
  readonly moved: string[];
  /** Removed from the DLQ without sending, with why. */
  readonly dropped: { id: string; why: string }[];
  /** Kept in the DLQ, with why; `id` is the email id, or the SQS message id of a body that is no email. */
  readonly left: { id: string; why: string }[];
  /** Messages this run could not make visible again: they reappear when their hold ends. */
  unreleased: number;
}

export interface RedriveOptions {
  /** Report what a run would do; change nothing. */
  readonly dryRun?: boolean;
  /** Look at no more than this many DLQ messages. @default 10000 */
  readonly max?: number;
  /**
   * How long a message read by this run stays invisible if the run cannot release it (it dies).
   * A run that outlives it reads such a message again; it then keeps the newer receipt handle and
   * does not decide twice. @default 300
   */
  readonly holdSeconds?: number;
  /** Stops reading; what was held is still released. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface QueueRedriveDeps {
  readonly queues: QueueAdmin;
  readonly messages: MessageStore;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

type Verdict =
  | { readonly kind: 'move'; readonly id: string; readonly requeue: boolean }
  | { readonly kind: 'drop'; readonly id: string; readonly why: string }
  | { readonly kind: 'leave'; readonly id: string; readonly why: string };

/** What happens to a DLQ message, from its email id and its record (no I/O). */
export function verdictFor(id: string, record: MessageRecord | undefined): Verdict {
  if (!record) return { kind: 'drop', id, why: 'no record (never accepted, or expired)' };
  if (record.status === 'queued') return { kind: 'move', id, requeue: false };
  if (record.status === 'failed' && record.reason?.startsWith(RETRIES_EXHAUSTED)) {
    return { kind: 'move', id, requeue: true };
  }
  if (record.status === 'sending') {
    // Not final: a dispatcher claimed it and has not recorded the result. Sending it again could
    // duplicate; removing it could leave the record `sending` for good. A person (or a later run) decides.
    return { kind: 'leave', id, why: 'sending: claimed by a dispatcher, no result yet' };
  }
  // A reason explains a failure; a record that was sent after a redrive still carries its old one.
  const reason = (record.status === 'failed' || record.status === 'rejected') && record.reason;
  return { kind: 'drop', id, why: `${record.status}${reason ? `: ${reason}` : ''}; not sent again` };
}

/** The email id a queue message carries (undefined: not a mailroute email). */
export function emailIdOf(body: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = QueuedEmail.safeParse(json);
  return parsed.success ? parsed.data.id : undefined;
}

export async function redriveQueue(deps: QueueRedriveDeps, options: RedriveOptions = {}): Promise<RedriveReport> {
  const report: RedriveReport = { moved: [], dropped: [], left: [], unreleased: 0 };
  const max = options.max ?? 10_000;
  const holdSeconds = options.holdSeconds ?? 300;
  const now = options.now ?? (() => new Date());
  const { queues, dlqUrl } = deps;
  /** SQS message id → receipt handle of its latest receive, for every message this run keeps. */
  const held = new Map<string, string>();
  const seen = new Set<string>();
  const movedIds = new Set<string>();

  const remove = async (m: HeldMessage) => {
    await queues.remove(dlqUrl, m.receiptHandle);
    held.delete(m.messageId);
  };

  async function handle(m: HeldMessage): Promise<void> {
    const id = emailIdOf(m.body);
    if (id === undefined) {
      report.left.push({ id: m.messageId, why: 'not a mailroute email' });
      return;
    }
    const verdict: Verdict = movedIds.has(id)
      ? { kind: 'drop', id, why: 'another copy of this email was moved back in this run' }
      : verdictFor(id, await deps.messages.get(id));
    if (verdict.kind === 'leave') {
      report.left.push({ id, why: verdict.why });
      return;
    }
    if (verdict.kind === 'drop') {
      if (!options.dryRun) await remove(m);
      report.dropped.push({ id, why: verdict.why });
      return;
    }
    if (!options.dryRun) {
      // The record first: once it is queued, the dispatcher's claim decides, so a copy sent twice
      // (a crash between the send and the delete below) is still sent at most once.
      if (verdict.requeue) {
        const requeued = await deps.messages.requeueFailed(id, { type: 'redriven', at: now().toISOString() });
        if (!requeued) {
          report.left.push({ id, why: 'record changed since it was read; run again' });
          return;
        }
      }
      await queues.send(deps.queueUrl, m.body);
      await remove(m);
    }
    movedIds.add(id);
    report.moved.push(id);
  }

  try {
    while (seen.size < max && !options.signal?.aborted) {
      let received: HeldMessage[];
      try {
        received = await queues.receive(
          dlqUrl,
          { max: Math.min(10, max - seen.size), holdSeconds, waitSeconds: 1 },
          options.signal,
        );
      } catch (e) {
        if (options.signal?.aborted) break;
        throw e;
      }
      // Empty: every message is either handled or held by this run (long polling asks every SQS host).
      if (received.length === 0) break;
      const fresh: HeldMessage[] = [];
      for (const m of received) {
        // Read again (this run outlived the hold): only the newest receipt handle can release it.
        held.set(m.messageId, m.receiptHandle);
        if (!seen.has(m.messageId)) fresh.push(m);
        seen.add(m.messageId);
      }
      for (const m of fresh) {
        if (options.signal?.aborted) break;
        await handle(m);
      }
    }
  } finally {
    report.unreleased = await queues.release(dlqUrl, [...held.values()]);
  }
  return report;
}
