/**
 * Priority under load: one provider limited to 50 emails a second, a backlog of bulk emails (5,000
 * by default), then 100 transactional emails accepted over 5 seconds (20 a second, 40 % of the limit;
 * `spreadMs` sets another pace) while the backlog drains.
 * Reported:
 *
 * - accept-to-provider of the transactional emails (p50, p99, max): from its acceptance (record
 *   written, message on its queue) to the moment the provider received it;
 * - bulk throughput while they pass, as a share of the provider's limit: bulk emails the provider
 *   received from the first transactional acceptance to the last transactional arrival, per second.
 *
 * The real dispatcher (functions/app/dispatch.ts: send step, rate windows, capacity waits as delayed
 * copies on the queue a message came from) runs in this process against in-memory stores and
 * in-memory SQS queues, one per priority, each played by its own pollers as its event source mapping
 * would: the bulk one at its maximum concurrency (`dispatch.bulkMaxConcurrency`, 2), the others with
 * the five pollers an SQS event source starts with. Every store request takes 5 ms (about DynamoDB
 * in-region), every SQS request 10 ms and the provider 50 ms, as in AWS, so pollers cannot spin
 * faster than Lambda would. The emulators of the local stack are left out on purpose: on this shared
 * machine their CPU cost, not the design, would set the figures.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createDispatchHandler } from '../functions/app/dispatch';
import { DEFAULTS } from '../functions/core/defaults';
import { SendEmailBody, toQueuedEmail } from '../functions/core/email';
import { newRecord } from '../functions/core/message';
import { PRIORITIES, type Priority } from '../functions/core/priority';
import { toQueueBody } from '../functions/core/queued-email';
import type { OutboundEmail, QueueEntry, SendQueue, VisibilityControl } from '../functions/ports';
import { StaticSigningKeys } from '../functions/store/secrets';
import { DISPATCH_BATCH_SIZE, QUEUES, SEND_QUEUE_VISIBILITY_SECONDS } from '../lib/resources';
import { lambdaContext } from '../test/support/events';
import {
  MemoryMessageStore,
  MemoryRateWindows,
  MemorySuppression,
  memoryChain,
  ScriptedProvider,
} from '../test/support/fakes';

export interface PriorityFigures {
  readonly limitPerSecond: number;
  readonly bulkBacklog: number;
  readonly transactional: number;
  /** Seconds over which the transactional emails were accepted (evenly). */
  readonly spreadSeconds: number;
  /** Pollers per queue (the event source's concurrency). */
  readonly pollers: Readonly<Record<Priority, number>>;
  /** Bulk emails the provider had received when the first transactional email was accepted. */
  readonly bulkSentBefore: number;
  readonly acceptToProviderMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Bulk emails per second received while the transactional ones passed. */
  readonly bulkPerSecondWhilePassing: number;
  /** That, as a share of the provider's limit. */
  readonly bulkShareOfLimit: number;
  /** Seconds from the first transactional acceptance to the last transactional arrival. */
  readonly windowSeconds: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Request latencies of the stand-ins, in ms: DynamoDB in-region, SQS, the provider. */
export const LATENCY_MS = { store: 5, sqs: 10, provider: 50 } as const;

/** Wraps every async method of a store with a fixed delay (a network round trip), as bench/throughput.ts does. */
function slow<T extends object>(store: T, ms: number): T {
  return new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        await sleep(ms);
        return v.apply(target, args);
      };
    },
  });
}

/** The q-quantile (nearest rank) of `xs`. */
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
};

interface Held {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  visibleAt: number;
  receiveCount: number;
  receipt: string;
}

/**
 * An SQS standard queue in memory, enough for the dispatcher: send (with a delay), receive (oldest
 * visible first, invisible for the visibility timeout), delete by receipt handle, change visibility.
 */
class SimQueue implements SendQueue, VisibilityControl {
  private readonly messages = new Map<string, Held>();
  private next = 0;
  constructor(
    readonly arn: string,
    private readonly visibilitySeconds: number,
  ) {}

  async send(entries: readonly QueueEntry[]): Promise<string[]> {
    await sleep(LATENCY_MS.sqs);
    const now = Date.now();
    for (const e of entries) {
      const messageId = `m${++this.next}`;
      this.messages.set(messageId, {
        messageId,
        body: e.body,
        sentAt: now,
        visibleAt: now + (e.delaySeconds ?? 0) * 1000,
        receiveCount: 0,
        receipt: '',
      });
    }
    return [];
  }

  async delay(entries: readonly { receiptHandle: string; seconds: number }[]): Promise<void> {
    await sleep(LATENCY_MS.sqs);
    const now = Date.now();
    for (const e of entries) {
      const m = this.byReceipt(e.receiptHandle);
      if (m) m.visibleAt = now + e.seconds * 1000;
    }
  }

  receive(max: number): SQSRecord[] {
    const now = Date.now();
    const out: SQSRecord[] = [];
    // Insertion order: the oldest first, as SQS mostly does.
    for (const m of this.messages.values()) {
      if (out.length === max) break;
      if (m.visibleAt > now) continue;
      m.receiveCount += 1;
      m.receipt = `${m.messageId}:${m.receiveCount}`;
      m.visibleAt = now + this.visibilitySeconds * 1000;
      out.push({
        messageId: m.messageId,
        receiptHandle: m.receipt,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: this.arn,
        awsRegion: 'us-east-1',
      });
    }
    return out;
  }

  delete(receiptHandle: string): void {
    const m = this.byReceipt(receiptHandle);
    if (m) this.messages.delete(m.messageId);
  }

  private byReceipt(receipt: string): Held | undefined {
    const m = this.messages.get(receipt.slice(0, receipt.indexOf(':')));
    return m && m.receipt === receipt ? m : undefined;
  }
}

const QUEUE_OF: Record<Priority, keyof typeof QUEUES> = {
  critical: 'sendCritical',
  transactional: 'send',
  bulk: 'sendBulk',
};

export async function measurePriority(
  options: { bulk?: number; transactional?: number; limitPerSecond?: number; spreadMs?: number } = {},
): Promise<PriorityFigures> {
  const bulk = options.bulk ?? 5000;
  const transactional = options.transactional ?? 100;
  const limit = options.limitPerSecond ?? 50;
  const spreadMs = options.spreadMs ?? 5000;
  // An SQS event source starts with five concurrent pollers; the bulk one is capped below that.
  const pollers: Record<Priority, number> = {
    critical: 5,
    transactional: 5,
    bulk: Math.min(5, DEFAULTS.dispatch.bulkMaxConcurrency),
  };
  const started = Date.now();

  const queues = Object.fromEntries(
    PRIORITIES.map((p) => [
      p,
      new SimQueue(`arn:aws:sqs:us-east-1:000000000000:${QUEUES[QUEUE_OF[p]].id}`, SEND_QUEUE_VISIBILITY_SECONDS),
    ]),
  ) as Record<Priority, SimQueue>;
  const byArn = new Map(PRIORITIES.map((p) => [queues[p].arn, { queue: queues[p], visibility: queues[p] }]));

  const messages = new MemoryMessageStore();
  const arrivals = new Map<string, number>();
  const provider = new ScriptedProvider(
    (email: OutboundEmail) => {
      arrivals.set(email.id, Date.now());
      return { kind: 'accepted', providerMessageId: `p-${email.id}` };
    },
    'relay',
    true,
  );
  const send = provider.send.bind(provider);
  provider.send = async (e: OutboundEmail) => {
    const out = await send(e);
    await sleep(LATENCY_MS.provider);
    return out;
  };
  const { chain } = memoryChain([provider], {
    limits: { relay: [{ limit, windowSeconds: 1 }] },
    windows: slow(new MemoryRateWindows(), LATENCY_MS.store),
    // The deployed default: bulk leaves this share of each window to critical and transactional mail.
    bulkReserve: DEFAULTS.capacity.bulkReservePercent / 100,
  });
  const handler = createDispatchHandler({
    messages: slow(messages, LATENCY_MS.store),
    suppression: slow(new MemorySuppression(), LATENCY_MS.store),
    chain,
    queues: { of: (arn) => byArn.get(arn) },
    links: {
      baseUrl: 'https://mail.example.com',
      keys: new StaticSigningKeys({ current: 'k1', keys: { k1: 'bench-signing-key-0123456789abcdef0123' } }),
    },
    trackDefaults: { opens: false, clicks: false },
    maxReceiveCount: QUEUES.send.maxReceiveCount,
    timeoutSeconds: 30,
  });

  /** Records and queues one email as ingest does; returns its id and when it was accepted. */
  const accept = async (id: string, input: Record<string, unknown>) => {
    const q = toQueuedEmail(id, SendEmailBody.parse(input));
    messages.items.set(id, newRecord({ ...q, apiKey: 'bench' }, new Date(), 30));
    await queues[q.priority ?? 'transactional'].send([{ id, body: toQueueBody(q) }]);
    return Date.now();
  };

  let stopped = false;
  const poller = async (queue: SimQueue) => {
    while (!stopped) {
      await sleep(LATENCY_MS.sqs);
      const records = queue.receive(DISPATCH_BATCH_SIZE);
      if (records.length === 0) {
        await sleep(20); // a long poll that found nothing yet
        continue;
      }
      const event: SQSEvent = { Records: records };
      const out = await handler(event, lambdaContext('dispatch'));
      const failed = new Set(out.batchItemFailures.map((f) => f.itemIdentifier));
      await sleep(LATENCY_MS.sqs); // DeleteMessageBatch
      for (const r of records) if (!failed.has(r.messageId)) queue.delete(r.receiptHandle);
    }
  };

  const bulkIds = new Set<string>();
  for (let i = 0; i < bulk; i++) {
    const id = `bulk-${i}`;
    bulkIds.add(id);
    await accept(id, {
      from: 'news@example.com',
      to: `reader-${i}@example.org`,
      subject: 'This week',
      text: 'The news of the week.',
      category: 'newsletter',
    });
  }
  const loops = PRIORITIES.flatMap((p) => Array.from({ length: pollers[p] }, () => poller(queues[p])));
  try {
    // The backlog is draining at the limit before the transactional emails come.
    while (arrivals.size < 2 * limit) await sleep(20);
    const bulkSentBefore = arrivals.size;
    const acceptedAt = new Map<string, number>();
    const firstAt = Date.now();
    await Promise.all(
      Array.from({ length: transactional }, async (_, i) => {
        await sleep((spreadMs * i) / transactional);
        const id = `tx-${i}`;
        acceptedAt.set(
          id,
          await accept(id, {
            from: 'app@example.com',
            to: `user-${i}@example.org`,
            subject: 'Your sign-in code',
            text: `Your code is ${100000 + i}`,
          }),
        );
      }),
    );
    const deadline = Date.now() + 120_000;
    while (![...acceptedAt.keys()].every((id) => arrivals.has(id))) {
      if (Date.now() > deadline) throw new Error('the transactional emails did not all reach the provider in 120 s');
      await sleep(20);
    }
    const latencies = [...acceptedAt].map(([id, at]) => (arrivals.get(id) as number) - at);
    const lastAt = Math.max(...[...acceptedAt.keys()].map((id) => arrivals.get(id) as number));
    const windowSeconds = (lastAt - firstAt) / 1000;
    const bulkWhile = [...arrivals].filter(([id, at]) => bulkIds.has(id) && at >= firstAt && at <= lastAt).length;
    const bulkPerSecond = bulkWhile / windowSeconds;
    return {
      limitPerSecond: limit,
      bulkBacklog: bulk,
      transactional,
      spreadSeconds: spreadMs / 1000,
      pollers,
      bulkSentBefore,
      acceptToProviderMs: {
        p50: Math.round(quantile(latencies, 0.5)),
        p99: Math.round(quantile(latencies, 0.99)),
        max: Math.round(Math.max(...latencies)),
      },
      bulkPerSecondWhilePassing: Math.round(bulkPerSecond * 10) / 10,
      bulkShareOfLimit: Math.round((bulkPerSecond / limit) * 1000) / 1000,
      windowSeconds: Math.round(windowSeconds * 10) / 10,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    stopped = true;
    await Promise.allSettled(loops);
  }
}
