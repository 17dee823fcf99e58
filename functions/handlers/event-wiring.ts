/**
 * The events buffer of the functions that change state: their stores are wrapped so that each write
 * that changes a message, a suppression or a stream publishes its webhook event (app/webhook-events.ts),
 * flushed to the events queue once per invocation. Apart from webhook-wiring.ts so that these
 * functions load nothing of the delivery side.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { logger, metrics } from '../app/observability';
import { EventBuffer, publishingMessages, publishingStreams, publishingSuppressions } from '../app/webhook-events';
import type { MessageStore, ReputationStore, SuppressionStore } from '../ports';
import { SqsSendQueue } from '../store/sqs';
import { SqsEventPublisher } from '../store/webhook-event-queue';

/** The events buffer of a function whose config names the events queue (none: it publishes nothing). */
export function eventBuffer(
  config: { readonly webhookEventsQueueUrl?: string },
  sqs: SQSClient,
): EventBuffer | undefined {
  return config.webhookEventsQueueUrl === undefined
    ? undefined
    : new EventBuffer(new SqsEventPublisher(new SqsSendQueue(sqs, config.webhookEventsQueueUrl)), logger, metrics);
}

/** Wraps a function's stores so their state changes publish to `buffer` (none: the stores as they are). */
export const withEvents = (buffer: EventBuffer | undefined) => ({
  messages: (s: MessageStore): MessageStore => (buffer ? publishingMessages(s, buffer) : s),
  suppression: (s: SuppressionStore): SuppressionStore => (buffer ? publishingSuppressions(s, buffer) : s),
  reputation: (s: ReputationStore): ReputationStore => (buffer ? publishingStreams(s, buffer) : s),
  /** The buffer as a deps field, for the use case to flush when an invocation ends. */
  deps: buffer ? { events: buffer } : {},
});
