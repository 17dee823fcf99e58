/**
 * How state changes become webhook events without the use cases doing more than publishing: the
 * stores the use cases already write through are wrapped (in the wiring) so that each write that
 * changes a message, a suppression or a stream adds its event to a buffer, and the buffer is flushed
 * to the events queue once per invocation (one SQS request per ten events, after the work is done:
 * nothing is added to a send's own latency). A record that is rolled back takes its event with it.
 */
import { randomUUID } from 'node:crypto';
import type { MessageEvent, MessageRecord } from '../core/message';
import { METRICS } from '../core/metric-names';
import { EVENT_TYPES, type EventType, type QueuedEvent, queuedEvent } from '../core/webhook-events';
import type {
  EventPublisher,
  FeedbackResult,
  FinishPatch,
  MessageStore,
  ReputationStore,
  SuppressionEntry,
  SuppressionKey,
  SuppressionStore,
} from '../ports';
import type { AppLogger, AppMetrics } from './observability';
import { retrying } from './retrying';

/** Events gathered during one invocation, published together at its end. */
export class EventBuffer {
  private pending: QueuedEvent[] = [];

  constructor(
    private readonly publisher: EventPublisher,
    private readonly logger: AppLogger,
    private readonly metrics: AppMetrics,
  ) {}

  add(...events: QueuedEvent[]): void {
    this.pending.push(...events);
  }

  /** Forgets the events of messages whose records were removed again (a request that failed). */
  drop(messageIds: readonly string[]): void {
    const gone = new Set(messageIds);
    this.pending = this.pending.filter((e) => e.messageId === undefined || !gone.has(e.messageId));
  }

  /** Publishes what was gathered (retried); never throws: what is lost is logged and counted. */
  async flush(): Promise<void> {
    const events = this.pending;
    this.pending = [];
    if (events.length === 0) return;
    try {
      await retrying(() => this.publisher.publish(events), { attempts: 3, pauseMs: 100 });
    } catch (error) {
      this.metrics.addMetric(METRICS.webhookEventsLost, 'Count', events.length);
      this.logger.error('webhook events could not be queued', {
        error: error as Error,
        eventIds: events.map((e) => e.id),
        types: [...new Set(events.map((e) => e.type))],
      });
    }
  }
}

/** A middy middleware that flushes the buffer when the invocation ends, well or not. */
export const flushEvents = (buffer: EventBuffer | undefined) => ({
  after: async () => buffer?.flush(),
  onError: async () => buffer?.flush(),
});

const isEventType = (t: string): t is EventType => (EVENT_TYPES as readonly string[]).includes(t);

/** The event of a message's new status (`email.sent`, `email.failed`, …), if the status has one. */
function statusEvent(id: string, patch: FinishPatch): QueuedEvent | undefined {
  const type = `email.${patch.status}`;
  if (!isEventType(type) || patch.status === 'queued') return undefined;
  return queuedEvent(
    type,
    id,
    patch.event.at,
    {
      ...(patch.provider ? { provider: patch.provider } : {}),
      ...(patch.providerMessageId ? { provider_message_id: patch.providerMessageId } : {}),
      ...(patch.reason ? { reason: patch.reason } : {}),
    },
    id,
  );
}

/** SES feedback on the timeline → its webhook event type and detail. */
function feedbackEvent(id: string, key: string, event: MessageEvent): QueuedEvent | undefined {
  const detail = event.detail ?? {};
  const recipients = detail.recipients;
  const common = recipients === undefined ? {} : { recipients };
  switch (event.type) {
    case 'delivered':
      return queuedEvent('email.delivered', key, event.at, { ...common, smtp_response: detail.smtpResponse }, id);
    case 'delayed':
      return queuedEvent('email.delivery_delayed', key, event.at, { ...common, delay: detail }, id);
    case 'bounced':
    case 'soft_bounced':
      return queuedEvent(
        'email.bounced',
        key,
        event.at,
        {
          ...common,
          bounce: {
            type: detail.bounceType,
            sub_type: detail.bounceSubType,
            permanent: event.type === 'bounced',
            diagnostic_code: detail.diagnosticCode,
          },
        },
        id,
      );
    case 'complained':
      return queuedEvent(
        'email.complained',
        key,
        event.at,
        { ...common, complaint: { feedback_type: detail.feedbackType, sub_type: detail.complaintSubType } },
        id,
      );
    case 'rejected':
      return queuedEvent('email.rejected', key, event.at, { reason: detail.reason }, id);
    default:
      return undefined;
  }
}

/** email.queued, or email.scheduled for a record that waits. */
function createdEvent(r: MessageRecord): QueuedEvent {
  const status: string = r.status;
  const type: EventType = status === 'scheduled' ? 'email.scheduled' : 'email.queued';
  const event = r.events[0];
  return queuedEvent(type, r.id, r.createdAt, { ...(event?.detail ?? {}) }, r.id);
}

/**
 * The message store, publishing: records created (email.queued, or email.scheduled for a record that
 * waits), final statuses (sent, rejected, failed, suppressed, …), SES feedback applied once, opens and
 * clicks (machine ones flagged).
 */
export function publishingMessages(inner: MessageStore, buffer: EventBuffer): MessageStore {
  const onStatus = async (id: string, patch: FinishPatch, write: Promise<boolean>) => {
    const done = await write;
    const event = done ? statusEvent(id, patch) : undefined;
    if (event) buffer.add(event);
    return done;
  };
  // Each call goes to the store with all its arguments (a dropped optional one would change its meaning).
  return {
    async createMany(records) {
      await inner.createMany(records);
      buffer.add(...records.map(createdEvent));
    },
    async createNew(records) {
      const existed = await inner.createNew(records);
      const old = new Set(existed);
      buffer.add(...records.filter((r) => !old.has(r.id)).map(createdEvent));
      return existed;
    },
    async deleteQueued(ids) {
      await inner.deleteQueued(ids);
      buffer.drop(ids);
    },
    get: (id) => inner.get(id),
    claim: (id, token, nowMs, due) => inner.claim(id, token, nowMs, due),
    finish: (id, token, patch) => onStatus(id, patch, inner.finish(id, token, patch)),
    release: (id, token, event, pin) => inner.release(id, token, event, pin),
    settleQueued: (id, patch, due) => onStatus(id, patch, inner.settleQueued(id, patch, due)),
    failStale: (id, claimedAt, patch) => onStatus(id, patch, inner.failStale(id, claimedAt, patch)),
    async applyFeedback(id, key, event, status, from): Promise<FeedbackResult> {
      const result = await inner.applyFeedback(id, key, event, status, from);
      const published = result === 'applied' ? feedbackEvent(id, `${id}|${key}`, event) : undefined;
      if (published) buffer.add(published);
      return result;
    },
    requeueFailed: (id, event) => inner.requeueFailed(id, event),
    async reschedule(id, rev, next, event) {
      const moved = await inner.reschedule(id, rev, next, event);
      if (moved)
        buffer.add(
          queuedEvent(
            'email.scheduled',
            `${id}|scheduled|${rev + 1}`,
            event.at,
            { scheduled_at: next.scheduledAt },
            id,
          ),
        );
      return moved;
    },
    unreschedule: (id, rev, previous, event) => inner.unreschedule(id, rev, previous, event),
    async cancelScheduled(id, event) {
      const canceled = await inner.cancelScheduled(id, event);
      if (canceled)
        buffer.add(queuedEvent('email.canceled', `${id}|canceled`, event.at, { ...(event.detail ?? {}) }, id));
      return canceled;
    },
    async recordEngagement(id, kind, machine, event) {
      await inner.recordEngagement(id, kind, machine, event);
      const detail = event.detail ?? {};
      const data =
        kind === 'open'
          ? { open: { user_agent: detail.userAgent, machine, machine_reason: detail.machineReason } }
          : {
              click: { link: detail.url, user_agent: detail.userAgent, machine, machine_reason: detail.machineReason },
            };
      buffer.add(queuedEvent(kind === 'open' ? 'email.opened' : 'email.clicked', randomUUID(), event.at, data, id));
    },
  };
}

/** The suppression store, publishing suppression.added and suppression.removed. */
export function publishingSuppressions(inner: SuppressionStore, buffer: EventBuffer): SuppressionStore {
  const view = (k: SuppressionKey) => ({ address: k.address, scope: k.scope });
  return {
    suppressedAmong: (keys) => inner.suppressedAmong(keys),
    async suppress(entry: SuppressionEntry) {
      const inForce = await inner.suppress(entry);
      if (inForce) {
        buffer.add(
          queuedEvent('suppression.added', `${entry.address}|${entry.scope}|${entry.at}`, entry.at, {
            ...view(entry),
            reason: entry.reason,
            source: entry.source,
            ...(entry.messageId ? { email_id: entry.messageId } : {}),
          }),
        );
      }
      return inForce;
    },
    async reenable(key, at) {
      const lifted = await inner.reenable(key, at);
      if (lifted) buffer.add(queuedEvent('suppression.removed', `${key.address}|${key.scope}|${at}`, at, view(key)));
      return lifted;
    },
    get: (address) => inner.get(address),
    list: (limit, cursor) => inner.list(limit, cursor),
    recordSoftBounce: (address, feedbackId, at, windowHours, nowMs) =>
      inner.recordSoftBounce(address, feedbackId, at, windowHours, nowMs),
  };
}

/** The reputation store, publishing stream.paused and stream.resumed. */
export function publishingStreams(inner: ReputationStore, buffer: EventBuffer): ReputationStore {
  return {
    add: (priority, bucket, counts, expiresAt) => inner.add(priority, bucket, counts, expiresAt),
    counts: (priority, buckets) => inner.counts(priority, buckets),
    streams: () => inner.streams(),
    async saveStream(next, expectedVersion) {
      const saved = await inner.saveStream(next, expectedVersion);
      const last = next.timeline[next.timeline.length - 1];
      if (saved && last && (last.type === 'paused' || last.type === 'resumed')) {
        const type = last.type === 'paused' ? 'stream.paused' : 'stream.resumed';
        buffer.add(
          queuedEvent(type, `${next.priority}|${last.at}`, last.at, {
            priority: next.priority,
            detail: last.detail ?? {},
          }),
        );
      }
      return saved;
    },
  };
}
