/**
 * Per-broadcast counts from message events, in the webhooks consumer: every state change of a
 * message is on the events queue already, and an email a broadcast sent carries the tag
 * `broadcast: <id>`. Each event of such an email adds to its broadcast's counters item: one
 * UpdateItem (atomic ADDs) per broadcast per batch of events, and one metric per outcome (no
 * dimension per broadcast).
 *
 * Which events count, and as what:
 * - `email.sent`, `email.delivered`, `email.complained`: sent, delivered, complained;
 * - `email.bounced` when permanent (a soft bounce may still be delivered): bounced;
 * - `email.opened` / `email.clicked` by a person, the first one of the email (its time is the
 *   record's first open or click): opened, clicked, so they count emails, not opens;
 * - `email.suppressed` and `email.throttled` (the dispatcher's checks at send time): skipped
 *   `suppressed` and `cooldown`; `email.failed` and `email.rejected`: failed;
 * - `suppression.added` by an unsubscribe, from the email it came in: unsubscribed.
 *
 * Only emails with derived broadcast ids (`b-…`) are looked at, so other mail costs no read. Counting
 * is at least once: an event counts once per batch (by its stable id), the counts of a batch are
 * written only for the records the batch processed well, and a counter write that fails sends its
 * records back to the queue. An event counts twice only when its batch comes again after its counts
 * were written (the function stopped between the write and its answer to SQS) or when the same
 * state change was published twice; exactly once would need a conditional write per event, which
 * would cost more than the rest of the count.
 */
import { BROADCAST_TAG, EVENT_COUNTERS, type EventCounter } from '../core/broadcast';
import type { MessageRecord } from '../core/message';
import { BROADCAST_METRICS } from '../core/metric-names';
import type { QueuedEvent } from '../core/webhook-events';
import type { BroadcastStore } from '../ports';
import type { AppLogger, AppMetrics } from './observability';

/** Derived broadcast email ids (core/broadcast.ts `broadcastEmailId`). */
const BROADCAST_ID_PREFIX = 'b-';

export interface BroadcastCountingDeps {
  readonly store: Pick<BroadcastStore, 'addCounts'>;
  readonly logger: AppLogger;
  readonly metrics: Pick<AppMetrics, 'addMetric'>;
}

/** The counter an event may add to (before its message is read), or undefined. */
function counterOf(event: QueuedEvent): EventCounter | undefined {
  switch (event.type) {
    case 'email.sent':
      return 'sent';
    case 'email.delivered':
      return 'delivered';
    case 'email.bounced':
      return (event.data.bounce as { permanent?: unknown } | undefined)?.permanent === true ? 'bounced' : undefined;
    case 'email.complained':
      return 'complained';
    case 'email.opened':
      return (event.data.open as { machine?: unknown } | undefined)?.machine === true ? undefined : 'opened';
    case 'email.clicked':
      return (event.data.click as { machine?: unknown } | undefined)?.machine === true ? undefined : 'clicked';
    case 'email.suppressed':
      return 'suppressed';
    case 'email.throttled':
      return 'cooldown';
    case 'email.failed':
    case 'email.rejected':
      return 'failed';
    case 'suppression.added':
      return event.data.reason === 'unsubscribe' ? 'unsubscribed' : undefined;
    default:
      return undefined;
  }
}

/** The message an event is about: its own, or for an unsubscribe the email it came in. */
function messageOf(event: QueuedEvent): string | undefined {
  if (event.messageId !== undefined) return event.messageId;
  const id = event.data.email_id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The message whose record an event needs to be counted (the record says which broadcast), or
 * undefined: the event counts for no broadcast, and nothing is read for it.
 */
export function countedMessage(event: QueuedEvent): string | undefined {
  const id = messageOf(event);
  return id?.startsWith(BROADCAST_ID_PREFIX) && counterOf(event) !== undefined ? id : undefined;
}

/** The counts of one batch of events, written once the batch is processed. */
export class BroadcastBatchCounts {
  /** Per SQS record: the broadcast and counter its event adds to. */
  private readonly byRecord = new Map<string, { broadcastId: string; counter: EventCounter }>();
  private readonly seen = new Set<string>();

  constructor(private readonly deps: BroadcastCountingDeps) {}

  /** Notes what the event of SQS record `recordId` counts, given its message's record. */
  add(
    recordId: string,
    event: QueuedEvent,
    message: (Pick<MessageRecord, 'tags'> & Partial<MessageRecord>) | undefined,
  ): void {
    const counter = counterOf(event);
    const broadcastId = message?.tags[BROADCAST_TAG];
    if (!counter || !broadcastId || this.seen.has(event.id)) return;
    // The first open or click of the email by a person: its time is the record's first one.
    if (counter === 'opened' && message?.firstOpenAt !== event.at) return;
    if (counter === 'clicked' && message?.firstClickAt !== event.at) return;
    this.seen.add(event.id);
    this.byRecord.set(recordId, { broadcastId, counter });
  }

  /**
   * Writes the counts of the records not in `failed` (one UpdateItem per broadcast) and emits the
   * metrics. Returns the records whose counts could not be written (to be received again).
   */
  async flush(failed: ReadonlySet<string>): Promise<string[]> {
    const groups = new Map<string, { counts: Partial<Record<EventCounter, number>>; records: string[] }>();
    for (const [recordId, { broadcastId, counter }] of this.byRecord) {
      if (failed.has(recordId)) continue;
      const g = groups.get(broadcastId) ?? { counts: {}, records: [] };
      g.counts[counter] = (g.counts[counter] ?? 0) + 1;
      g.records.push(recordId);
      groups.set(broadcastId, g);
    }
    this.byRecord.clear();
    const again: string[] = [];
    const total: Partial<Record<EventCounter, number>> = {};
    await Promise.all(
      [...groups].map(async ([broadcastId, g]) => {
        try {
          await this.deps.store.addCounts(broadcastId, g.counts);
          for (const [c, n] of Object.entries(g.counts))
            total[c as EventCounter] = (total[c as EventCounter] ?? 0) + (n ?? 0);
        } catch (error) {
          this.deps.logger.error('broadcast counts not written; their events come again', {
            error: error as Error,
            broadcastId,
          });
          again.push(...g.records);
        }
      }),
    );
    for (const c of EVENT_COUNTERS) {
      const n = total[c];
      if (n) this.deps.metrics.addMetric(BROADCAST_METRICS[c], 'Count', n);
    }
    return again;
  }
}
