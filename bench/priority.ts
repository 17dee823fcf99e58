/**
 * Priority under load, on the local stack: one provider (an HTTP relay) limited to 50 emails a
 * second, a backlog of bulk emails (5,000 by default) accepted through the batch API, then 100
 * transactional emails accepted one at a time while the backlog drains. Reported:
 *
 * - accept-to-provider of the transactional emails (p50, p99, max): from the moment its request was
 *   made to the moment the provider received it;
 * - bulk throughput while they pass, as a share of the provider's limit: bulk emails the provider
 *   received between the first transactional request and the last transactional arrival, per second.
 *
 * The run stops once the last transactional email has reached the provider: the rest of the backlog
 * is not waited for. The relay answers at once; the local stack plays the event sources with its
 * pollers (2 per queue, the bulk queue at its cap).
 */
import { startLocalStack } from '../bin/local-stack';
import { type Relay, startRelay } from '../test/support/relay';

export interface PriorityFigures {
  readonly limitPerSecond: number;
  readonly bulkBacklog: number;
  readonly transactional: number;
  /** Bulk emails the provider had received when the first transactional email was accepted. */
  readonly bulkSentBefore: number;
  readonly acceptToProviderMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Bulk emails per second received while the transactional ones passed, and that as a share of the limit. */
  readonly bulkPerSecondWhilePassing: number;
  readonly bulkShareOfLimit: number;
  /** Seconds from the first transactional request to the last transactional arrival. */
  readonly windowSeconds: number;
  /** Most emails the provider received in any one second (the limit holds). */
  readonly maxInAnySecond: number;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The q-quantile (nearest rank) of `xs`. */
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
};

/** Most of `times` (ms) within any window of `windowMs`. */
const maxInAnyWindow = (times: readonly number[], windowMs: number): number => {
  const s = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while ((s[i] as number) - (s[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
};

export async function measurePriority(
  options: { bulk?: number; transactional?: number; limitPerSecond?: number; spreadMs?: number } = {},
): Promise<PriorityFigures> {
  const bulk = options.bulk ?? 5000;
  const transactional = options.transactional ?? 100;
  const limit = options.limitPerSecond ?? 50;
  // The transactional emails arrive over a few seconds (a login wave), not in one burst.
  const spreadMs = options.spreadMs ?? 5000;
  const started = Date.now();
  const relay: Relay = await startRelay();
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    providers: {
      providers: [
        {
          id: 'relay',
          type: 'http',
          url: relay.url,
          token: 'bench-relay-token-0123456789',
          limits: [{ limit, windowSeconds: 1 }],
        },
      ],
      chain: ['relay'],
    },
  });
  try {
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status !== 202) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return res.json() as Promise<{ id?: string; data?: { id: string }[] }>;
    };

    // The backlog: newsletters, 100 per batch request, 4 requests at a time.
    const bulkIds = new Set<string>();
    let nextBatch = 0;
    const batches = Math.ceil(bulk / 100);
    const batchWorker = async () => {
      for (let b = nextBatch++; b < batches; b = nextBatch++) {
        const count = Math.min(100, bulk - b * 100);
        const out = await post('/v1/emails/batch', {
          emails: Array.from({ length: count }, (_, i) => ({
            from: 'news@example.com',
            to: `reader-${b * 100 + i}@example.org`,
            subject: 'This week',
            text: 'The news of the week.',
            category: 'newsletter',
          })),
        });
        for (const d of out.data ?? []) bulkIds.add(d.id);
      }
    };
    await Promise.all(Array.from({ length: 4 }, batchWorker));
    // The backlog is draining at the limit before the transactional emails come.
    while (relay.sent().length < 2 * limit) await sleep(50);

    const bulkSentBefore = relay.sent().length;
    const acceptedAt = new Map<string, number>();
    const firstAt = Date.now();
    await Promise.all(
      Array.from({ length: transactional }, async (_, i) => {
        await sleep((spreadMs * i) / transactional);
        const at = Date.now();
        const out = await post('/v1/emails', {
          from: 'app@example.com',
          to: `user-${i}@example.org`,
          subject: 'Your sign-in code',
          text: `Your code is ${100000 + i}`,
        });
        if (out.id) acceptedAt.set(out.id, at);
      }),
    );
    // Until every transactional email has reached the provider.
    const arrival = () => {
      const first = new Map<string, number>();
      for (const r of relay.requests) if (r.took && !first.has(r.id)) first.set(r.id, r.at);
      return first;
    };
    const deadline = Date.now() + 180_000;
    for (;;) {
      const got = arrival();
      if ([...acceptedAt.keys()].every((id) => got.has(id))) break;
      if (Date.now() > deadline) throw new Error('the transactional emails did not all reach the provider in 180 s');
      await sleep(50);
    }
    const got = arrival();
    const latencies = [...acceptedAt].map(([id, at]) => (got.get(id) as number) - at);
    const lastAt = Math.max(...[...acceptedAt.keys()].map((id) => got.get(id) as number));
    const windowSeconds = (lastAt - firstAt) / 1000;
    const bulkWhile = [...got].filter(([id, at]) => bulkIds.has(id) && at >= firstAt && at <= lastAt).length;
    const bulkPerSecond = bulkWhile / windowSeconds;
    return {
      limitPerSecond: limit,
      bulkBacklog: bulk,
      transactional,
      bulkSentBefore,
      acceptToProviderMs: {
        p50: Math.round(quantile(latencies, 0.5)),
        p99: Math.round(quantile(latencies, 0.99)),
        max: Math.round(Math.max(...latencies)),
      },
      bulkPerSecondWhilePassing: Math.round(bulkPerSecond * 10) / 10,
      bulkShareOfLimit: Math.round((bulkPerSecond / limit) * 1000) / 1000,
      windowSeconds: Math.round(windowSeconds * 10) / 10,
      maxInAnySecond: maxInAnyWindow(
        relay.requests.filter((r) => r.took).map((r) => r.at),
        1000,
      ),
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await stack.stop();
    await relay.close();
  }
}
