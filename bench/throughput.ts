/**
 * Dispatch throughput per invocation: one dispatcher handles batches of N messages through a
 * provider that answers in 50 ms. Sends within a batch run concurrently (bounded), so a batch
 * should take about one provider round trip, not N of them. Reported as emails per second per
 * invocation (median over runs), against N / latency.
 *
 * Two set-ups: stores in memory (the dispatcher's own cost), and stores that answer in 5 ms per
 * request (about DynamoDB's in-region latency), to show what the store round trips add.
 */
import { createDispatchHandler } from '../functions/app/dispatch';
import { SendEmailBody, toQueuedEmail } from '../functions/core/email';
import { newRecord } from '../functions/core/message';
import type { MessageStore, OutboundEmail, SuppressionStore } from '../functions/ports';
import { StaticSigningKeys } from '../functions/store/secrets';
import { lambdaContext, sqsEvent, sqsRecord } from '../test/support/events';
import {
  MemoryMessageStore,
  MemoryQueue,
  MemorySuppression,
  MemoryVisibility,
  memoryChain,
  ScriptedProvider,
} from '../test/support/fakes';

export const PROVIDER_LATENCY_MS = 50;
const KEYRING = { current: 'k1', keys: { k1: 'bench-signing-key-0123456789abcdef0123' } };

export interface ThroughputFigures {
  batchSize: number;
  storeLatencyMs: number;
  medianMs: number;
  emailsPerSecond: number;
  /** batch size / provider latency: every send of the batch at once. */
  idealPerSecond: number;
  ratio: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wraps every async method of a store with a fixed delay (a network round trip). */
function slow<T extends object>(store: T, ms: number): T {
  if (ms === 0) return store;
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export async function measureThroughput(
  batchSize: number,
  storeLatencyMs: number,
  runs = 15,
): Promise<ThroughputFigures> {
  const messages = new MemoryMessageStore();
  const provider = new ScriptedProvider(() => ({ kind: 'accepted', providerMessageId: 'x' }), 'relay', true);
  const send = provider.send.bind(provider);
  provider.send = async (e: OutboundEmail) => {
    await sleep(PROVIDER_LATENCY_MS);
    return send(e);
  };
  const { chain } = memoryChain([provider], { limits: { relay: [{ limit: 1_000_000, windowSeconds: 1 }] } });
  // Every record comes from the one send queue (nothing waits here).
  const route = { queue: new MemoryQueue(), visibility: new MemoryVisibility() };
  const handler = createDispatchHandler({
    messages: slow(messages, storeLatencyMs) as MessageStore,
    suppression: slow(new MemorySuppression(), storeLatencyMs) as SuppressionStore,
    chain,
    queues: { of: () => route },
    links: { baseUrl: 'https://mail.example.com', keys: new StaticSigningKeys(KEYRING) },
    trackDefaults: { opens: true, clicks: true },
    maxReceiveCount: 5,
    timeoutSeconds: 30,
  });
  const times: number[] = [];
  for (let run = 0; run < runs + 2; run++) {
    const records = Array.from({ length: batchSize }, (_, i) => {
      const id = `r${run}-${i}`;
      const q = toQueuedEmail(
        id,
        SendEmailBody.parse({
          from: 'app@example.com',
          to: `user${i}@example.org`,
          subject: 'Your receipt',
          html: '<p>Thanks! <a href="https://example.com/orders/1">Your order</a></p>',
        }),
      );
      messages.items.set(id, newRecord({ ...q, apiKey: 'bench' }, new Date(), 30));
      return sqsRecord(q, { messageId: id });
    });
    const t0 = performance.now();
    const res = await handler(sqsEvent(...records), lambdaContext('dispatch'));
    const ms = performance.now() - t0;
    if (res.batchItemFailures.length > 0) throw new Error(`bench batch had ${res.batchItemFailures.length} failures`);
    if (run >= 2) times.push(ms); // the first runs warm up the JIT and caches
  }
  const medianMs = median(times);
  const idealPerSecond = batchSize / (PROVIDER_LATENCY_MS / 1000);
  const emailsPerSecond = Math.round((batchSize / medianMs) * 1000);
  return {
    batchSize,
    storeLatencyMs,
    medianMs: Math.round(medianMs * 10) / 10,
    emailsPerSecond,
    idealPerSecond,
    ratio: Math.round((emailsPerSecond / idealPerSecond) * 1000) / 1000,
  };
}
