/**
 * Webhooks on the local stack: one endpoint subscribed to every event (a real receiver on this
 * machine), emails sent to SES's success simulator (three events each: queued, sent, delivered).
 * Counts every AWS request the events add (publishing, the webhooks function's queue traffic, the
 * delivery records, the message reads), prices them per event and per million emails at five events
 * each, and times each event from its state change (`created_at`) to the receiver.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalStack } from '../bin/local-stack';
import { QUEUES } from '../lib/resources';
import { PRICES } from './requests';

/** What the local run cannot observe, stated rather than hidden. */
export const WEBHOOK_ASSUMPTIONS = {
  eventsPerEmail: 5,
  /** The webhooks function: 256 MB, a batch of 10 events POSTed concurrently to a receiver answering in ~100 ms. */
  webhooksMemoryGB: 0.25,
  webhooksSecondsPerBatch: 0.15,
  eventsPerInvocation: 10,
  /** Lambda START/END/REPORT lines plus one EMF record per invocation. */
  logBytesPerInvocation: 900,
} as const;

export interface WebhookFigures {
  emails: number;
  events: number;
  byOperation: Record<string, number>;
  sqsPerEvent: number;
  dynamodbPerEvent: number;
  wruPerEvent: number;
  rruPerEvent: number;
  costPerMillionEventsUSD: Record<string, number>;
  addedCostPerMillionEmailsUSD: number;
  latencyMs: { p50: number; p99: number };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export async function measureWebhooks(emails = 200): Promise<WebhookFigures> {
  const arrivals: { at: number; createdAt: number }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const at = Date.now();
      arrivals.push({ at, createdAt: Date.parse((JSON.parse(body) as { created_at: string }).created_at) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;

  const ops = new Map<string, { requests: number; units: number }>();
  let counting = false;
  const webhookQueues = [QUEUES.webhookEvents.id, QUEUES.webhookRetries.id];
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    onAwsRequest: (service, op, input) => {
      if (!counting) return;
      const i = (input ?? {}) as { QueueUrl?: string; TableName?: string; Entries?: unknown[] };
      const url = String(i.QueueUrl ?? '');
      // Only what webhooks add: traffic of their queues and table, and the message reads for payloads.
      const events = service === 'sqs' && webhookQueues.some((id) => url.endsWith(`/${id}`));
      const table =
        service === 'dynamodb' && (i.TableName === 'Webhooks' || (i.TableName === 'Messages' && op === 'GetItem'));
      if (!events && !table) return;
      // An empty long poll is a fixed cost per poller, not per event.
      const key = `${service}.${op}`;
      const e = ops.get(key) ?? { requests: 0, units: 0 };
      e.requests += 1;
      e.units += op === 'GetItem' ? 0.5 : op === 'Query' ? 0.5 : service === 'dynamodb' ? 2 : 0;
      ops.set(key, e);
    },
  });
  try {
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
    const created = await fetch(`${stack.apiUrl}/v1/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: receiverUrl, events: ['*'] }),
    });
    if (created.status !== 201) throw new Error(`POST /v1/webhooks answered ${created.status}`);
    counting = true;
    for (let b = 0; b < emails / 100; b++) {
      const res = await fetch(`${stack.apiUrl}/v1/emails/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          emails: Array.from({ length: Math.min(100, emails - b * 100) }, (_, i) => ({
            from: 'app@example.com',
            to: `success+${b * 100 + i}@simulator.amazonses.com`,
            subject: `Receipt ${b * 100 + i}`,
            text: 'Thanks',
          })),
        }),
      });
      if (res.status !== 202) throw new Error(`batch answered ${res.status}`);
    }
    const expected = emails * 3;
    const started = Date.now();
    while (arrivals.length < expected) {
      if (Date.now() - started > 120_000) throw new Error(`only ${arrivals.length} of ${expected} events arrived`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    counting = false;
  } finally {
    await stack.stop();
    server.closeAllConnections();
    server.close();
  }
  const events = arrivals.length;
  // Long polls that found nothing are a fixed cost (a poller per queue); count the rest per event.
  const byOperation = Object.fromEntries([...ops].map(([k, v]) => [k, v.requests / events]));
  const sqs = [...ops].filter(([k]) => k.startsWith('sqs.')).reduce((n, [, v]) => n + v.requests, 0) / events;
  const dynamodb = [...ops].filter(([k]) => k.startsWith('dynamodb.')).reduce((n, [, v]) => n + v.requests, 0) / events;
  const wru = [...ops].filter(([k]) => /dynamodb\.(Put|Update)/.test(k)).reduce((n, [, v]) => n + v.units, 0) / events;
  const rru = [...ops].filter(([k]) => /dynamodb\.(Get|Query)/.test(k)).reduce((n, [, v]) => n + v.units, 0) / events;
  const a = WEBHOOK_ASSUMPTIONS;
  const invocations = 1 / a.eventsPerInvocation;
  const perMillionEvents = {
    sqs: sqs * PRICES.sqsPerMillionRequests,
    dynamodbWrites: wru * PRICES.dynamodbPerMillionWRU,
    dynamodbReads: rru * PRICES.dynamodbPerMillionRRU,
    lambdaRequests: invocations * PRICES.lambdaPerMillionRequests,
    lambdaCompute: invocations * 1e6 * a.webhooksMemoryGB * a.webhooksSecondsPerBatch * PRICES.lambdaArmPerGBSecond,
    logs: (invocations * 1e6 * a.logBytesPerInvocation * PRICES.logsIngestPerGB) / 1e9,
  };
  const total = Object.values(perMillionEvents).reduce((n, v) => n + v, 0);
  const latencies = arrivals.map((x) => x.at - x.createdAt).sort((x, y) => x - y);
  return {
    emails,
    events,
    byOperation,
    sqsPerEvent: sqs,
    dynamodbPerEvent: dynamodb,
    wruPerEvent: wru,
    rruPerEvent: rru,
    costPerMillionEventsUSD: perMillionEvents,
    addedCostPerMillionEmailsUSD: total * a.eventsPerEmail,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await measureWebhooks(Number(process.env.BENCH_WEBHOOK_EMAILS ?? 200));
  process.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
}
