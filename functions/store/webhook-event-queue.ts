/** The events queue as an `EventPublisher`: each event one SQS message, ten per request. */
import type { QueuedEvent } from '../core/webhook-events';
import type { EventPublisher, SendQueue } from '../ports';

export class SqsEventPublisher implements EventPublisher {
  constructor(private readonly queue: SendQueue) {}

  async publish(events: readonly QueuedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const failed = await this.queue.send(events.map((e) => ({ id: e.id, body: JSON.stringify(e) })));
    if (failed.length > 0) {
      throw Object.assign(new Error(`${failed.length} webhook events could not be queued`), { eventIds: failed });
    }
  }
}
