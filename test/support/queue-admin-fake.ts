import { randomUUID } from 'node:crypto';
import type { HeldMessage, QueueAdmin, QueueDepth } from '../../functions/ports';

interface Stored {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: string;
  receiveCount: number;
  /** Invisible until this time (ms); a receipt handle names one receive. */
  invisibleUntil: number;
  receipt: string;
}

/** Queues in memory, by URL: enough of SQS for the operator's queue view and the redrive. */
export class MemoryQueueAdmin implements QueueAdmin {
  readonly queues = new Map<string, Stored[]>();
  constructor(private readonly now: () => number = Date.now) {}

  private of(url: string): Stored[] {
    let q = this.queues.get(url);
    if (!q) {
      q = [];
      this.queues.set(url, q);
    }
    return q;
  }

  put(url: string, body: string, sentAt = new Date(this.now()).toISOString()): void {
    this.of(url).push({ messageId: randomUUID(), body, sentAt, receiveCount: 0, invisibleUntil: 0, receipt: '' });
  }

  bodies(url: string): string[] {
    return this.of(url).map((m) => m.body);
  }

  async depth(url: string): Promise<QueueDepth> {
    const q = this.of(url);
    const inFlight = q.filter((m) => m.invisibleUntil > this.now()).length;
    return { visible: q.length - inFlight, inFlight, delayed: 0 };
  }

  async receive(url: string, options: { max: number; holdSeconds: number }): Promise<HeldMessage[]> {
    const visible = this.of(url)
      .filter((m) => m.invisibleUntil <= this.now())
      .slice(0, options.max);
    return visible.map((m) => {
      m.receiveCount += 1;
      m.invisibleUntil = this.now() + options.holdSeconds * 1000;
      m.receipt = randomUUID();
      return {
        messageId: m.messageId,
        receiptHandle: m.receipt,
        body: m.body,
        sentAt: m.sentAt,
        receiveCount: m.receiveCount,
      };
    });
  }

  async remove(url: string, receiptHandle: string): Promise<void> {
    const q = this.of(url);
    const i = q.findIndex((m) => m.receipt === receiptHandle);
    if (i >= 0) q.splice(i, 1);
  }

  async send(url: string, body: string): Promise<void> {
    this.put(url, body);
  }

  async release(url: string, receiptHandles: readonly string[]): Promise<number> {
    for (const m of this.of(url)) if (receiptHandles.includes(m.receipt)) m.invisibleUntil = 0;
    return 0;
  }
}

/** Queue URLs for the console's four queues. */
export const FAKE_QUEUE_URLS = {
  critical: { url: 'q://critical', dlqUrl: 'q://critical-dlq' },
  transactional: { url: 'q://transactional', dlqUrl: 'q://transactional-dlq' },
  bulk: { url: 'q://bulk', dlqUrl: 'q://bulk-dlq' },
  'ses-events': { url: 'q://ses-events', dlqUrl: 'q://ses-events-dlq' },
} as const;
