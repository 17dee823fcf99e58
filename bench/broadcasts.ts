/**
 * Broadcasts on the local stack.
 *
 * 1. The fan-out of a large list (100,000 contacts by default, BENCH_BROADCAST_CONTACTS): contacts
 *    per second accepted, and the AWS requests per contact the fan-out makes (the audience worker's
 *    jobs and everything they call, the event source's receive and delete of each job included).
 *    Only the fan-out runs: the audience function is driven as its event source would (one job per
 *    receive), no dispatcher drains the bulk queue meanwhile.
 * 2. Cost per 1M broadcast emails end to end, provider excluded: a smaller broadcast through the
 *    whole local stack (fan-out, dispatch, the events and their counts), every request counted and
 *    priced, with Lambda time and API calls from stated assumptions.
 *
 * Run alone with `npx tsx bench/run.ts broadcasts` (or `npx tsx bench/broadcasts.ts`).
 */
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { type LocalStack, startLocalStack } from '../bin/local-stack';
import { createAudienceJobsHandler } from '../functions/app/audience-jobs';
import { DEFAULT_PROVIDERS } from '../functions/config';
import { audienceDeps } from '../functions/handlers/audience-wiring';
import { addressItemKey, contactKey, memberKey, membershipKey } from '../functions/store/contact-store';
import { chunk, documentClient } from '../functions/store/dynamo';
import { PRICES } from './requests';

/** Bytes of a list member item (key-only: `L#<list>` and `M#<id>`), for the Query's read units. */
const MEMBER_ITEM_BYTES = 60;

export const BROADCAST_TARGETS = {
  /** DynamoDB read units per contact in the fan-out. */
  dynamodbReadsPerContact: 1.2,
  /** SQS requests per contact in the fan-out. */
  sqsPerContact: 0.11,
} as const;

export const BROADCAST_ASSUMPTIONS = {
  /** A fan-out page of 1,000 contacts in Lambda (512 MB): reads, renders, accepts, checkpoints. */
  audienceSecondsPerPage: 3,
  audienceMemoryGB: 0.5,
  /** As bench/requests.ts: a dispatch batch of 10 (SES ~50-100 ms, concurrent). */
  dispatchSecondsPerBatch: 0.15,
  dispatchMemoryGB: 0.5,
  /** A batch of 10 events: enrich, count. */
  webhooksSecondsPerBatch: 0.05,
  webhooksMemoryGB: 0.25,
  logBytesPerInvocation: 900,
} as const;

type Counts = Map<string, number>;

function addCount(counts: Counts, key: string, n = 1) {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

/** Read units of a DynamoDB request (eventually consistent unless it says; items under 4 KB). */
function readUnits(op: string, input: Record<string, unknown>): number {
  if (op === 'GetItem') return input.ConsistentRead ? 1 : 0.5;
  if (op === 'BatchGetItem')
    return Object.values(
      (input.RequestItems ?? {}) as Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>,
    ).reduce((n, r) => n + r.Keys.length * (r.ConsistentRead ? 1 : 0.5), 0);
  if (op === 'Query') {
    const items = typeof input.Limit === 'number' ? input.Limit : 1;
    return Math.max(0.5, Math.ceil((items * MEMBER_ITEM_BYTES) / 4096) * (input.ConsistentRead ? 1 : 0.5));
  }
  return 0;
}

/** Write units of a DynamoDB request (items under 1 KB count one; a message record ~1-2 KB: see below). */
function writeUnits(op: string, input: Record<string, unknown>): number {
  if (op === 'BatchWriteItem')
    return Object.values((input.RequestItems ?? {}) as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0);
  if (op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem') return 1;
  return 0;
}

interface Meter {
  counting: boolean;
  requests: Counts;
  rru: number;
  wru: number;
}

function meter(): { meter: Meter; listener: (service: string, op: string, input: unknown) => void } {
  const m: Meter = { counting: false, requests: new Map(), rru: 0, wru: 0 };
  return {
    meter: m,
    listener: (service, op, input) => {
      if (!m.counting) return;
      const i = (input ?? {}) as Record<string, unknown>;
      const queue = typeof i.QueueUrl === 'string' ? i.QueueUrl.slice(i.QueueUrl.lastIndexOf('/') + 1) : '';
      addCount(m.requests, `${service.toLowerCase()}.${op}${queue ? ` ${queue}` : ''}`);
      if (service.toLowerCase() === 'dynamodb') {
        m.rru += readUnits(op, i);
        m.wru += writeUnits(op, i);
      }
    },
  };
}

/** Writes `n` contacts (every one consenting to `newsletter` but every 20th) and their list memberships, uncounted. */
async function seed(stack: LocalStack, list: string, n: number): Promise<void> {
  const doc = documentClient(stack.clients.dynamodb);
  const table = stack.tables.contacts;
  const at = new Date().toISOString();
  await doc.send(
    new BatchWriteCommand({
      RequestItems: { [table]: [{ PutRequest: { Item: { pk: 'LISTS', sk: list, name: 'Bench', createdAt: at } } }] },
    }),
  );
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const id = `c${String(i).padStart(7, '0')}`;
    const address = `reader${i}@example.org`;
    items.push(
      {
        ...contactKey(id),
        id,
        address,
        attributes: { first_name: `Reader ${i}` },
        consent: { newsletter: { granted: i % 20 !== 0, source: 'import', at } },
        createdAt: at,
        updatedAt: at,
      },
      { ...addressItemKey(address), contactId: id, at },
      memberKey(list, id),
      { ...membershipKey(id, list), at },
    );
  }
  const batches = chunk(items, 25);
  for (const group of chunk(batches, 16))
    await Promise.all(
      group.map(async (b) => {
        let pending: Record<string, unknown>[] = b;
        while (pending.length > 0) {
          const out = await doc.send(
            new BatchWriteCommand({ RequestItems: { [table]: pending.map((Item) => ({ PutRequest: { Item } })) } }),
          );
          pending = (out.UnprocessedItems?.[table] ?? []).flatMap((r) =>
            r.PutRequest?.Item ? [r.PutRequest.Item] : [],
          );
        }
      }),
    );
}

async function call(stack: LocalStack, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown> & { id: string; state: string };
}

async function createBroadcast(stack: LocalStack, list: string): Promise<string> {
  const b = await call(stack, 'POST', '/v1/broadcasts', {
    name: 'Bench',
    listId: list,
    template: { slug: 'newsletter' },
    variables: { company: 'Acme' },
    from: 'news@example.com',
    category: 'newsletter',
  });
  if (!b.id) throw new Error(`broadcast not created: ${JSON.stringify(b)}`);
  return b.id;
}

export interface FanoutFigures {
  readonly contacts: number;
  readonly targeted: number;
  readonly seconds: number;
  readonly contactsPerSecond: number;
  readonly pages: number;
  /** Requests per contact, by service, operation and queue. */
  readonly perContact: Record<string, number>;
  readonly dynamodbRequestsPerContact: number;
  readonly dynamodbReadUnitsPerContact: number;
  readonly dynamodbWriteUnitsPerContact: number;
  /** The fan-out's own: its jobs and the emails it puts on the bulk queue. */
  readonly sqsPerContact: number;
  /** The webhook events every accepted email publishes (email.queued), not the fan-out's own. */
  readonly sqsEventsPerContact: number;
}

/** The fan-out alone: the audience function driven as its event source would, one job per receive. */
export async function measureFanout(contacts = 100_000): Promise<FanoutFigures> {
  const { meter: m, listener } = meter();
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    pollers: 0,
    seedTemplates: true,
    onAwsRequest: listener,
  });
  try {
    await seed(stack, 'bench', contacts);
    const handler = createAudienceJobsHandler(
      audienceDeps(
        {
          jobsQueueUrl: stack.queues.audienceJobs,
          webhookEventsQueueUrl: stack.queues.webhookEvents,
          contactsTable: stack.tables.contacts,
          contentBucket: stack.buckets.content,
          fanout: {
            tables: {
              broadcasts: stack.tables.broadcasts,
              contacts: stack.tables.contacts,
              templates: stack.tables.templates,
              messages: stack.tables.messages,
              emailIndex: stack.tables.emailIndex,
            },
            bulkQueueUrl: stack.queues.sendBulk,
            contentBucket: stack.buckets.content,
            retentionDays: 30,
            providers: DEFAULT_PROVIDERS,
          },
        },
        stack.clients,
      ),
    );
    const id = await createBroadcast(stack, 'bench');
    const started = Date.now();
    m.counting = true;
    await call(stack, 'POST', `/v1/broadcasts/${id}/send`);
    let pages = 0;
    for (;;) {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.audienceJobs,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          // A job that failed (an emulator under load) comes back in 30 s, not the queue's 12 minutes.
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const msg = out.Messages?.[0];
      if (!msg) {
        const b = await call(stack, 'GET', `/v1/broadcasts/${id}`);
        if (b.state === 'sent') break;
        continue;
      }
      const event = {
        Records: [
          {
            messageId: msg.MessageId ?? '',
            receiptHandle: msg.ReceiptHandle ?? '',
            body: msg.Body ?? '',
            attributes: { ApproximateReceiveCount: msg.Attributes?.ApproximateReceiveCount ?? '1' },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: '',
            awsRegion: 'us-east-1',
          },
        ],
      } as unknown as SQSEvent;
      const result = (await handler(event, {} as never)) as { batchItemFailures: unknown[] };
      if (result.batchItemFailures.length === 0) {
        await stack.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: stack.queues.audienceJobs, ReceiptHandle: msg.ReceiptHandle }),
        );
        pages++;
      }
    }
    m.counting = false;
    const seconds = (Date.now() - started) / 1000;
    const b = (await call(stack, 'GET', `/v1/broadcasts/${id}`)) as unknown as { counts: { targeted: number } };
    // The bench's own polls of the broadcast (GET /v1/broadcasts/{id} while the queue was empty) are ingest's reads, not the fan-out's.
    const per = (k: string) =>
      [...m.requests].filter(([op]) => op.startsWith(k)).reduce((n, [, v]) => n + v, 0) / contacts;
    const eventsQueue = stack.queues.webhookEvents.slice(stack.queues.webhookEvents.lastIndexOf('/') + 1);
    const sqsAll = per('sqs.');
    const sqsEvents =
      [...m.requests]
        .filter(([op]) => op.startsWith('sqs.') && op.endsWith(eventsQueue))
        .reduce((n, [, v]) => n + v, 0) / contacts;
    return {
      contacts,
      targeted: b.counts.targeted,
      seconds: Number(seconds.toFixed(1)),
      contactsPerSecond: Math.round(contacts / seconds),
      pages,
      perContact: Object.fromEntries([...m.requests].sort().map(([k, v]) => [k, Number((v / contacts).toFixed(4))])),
      dynamodbRequestsPerContact: Number(per('dynamodb.').toFixed(4)),
      dynamodbReadUnitsPerContact: Number((m.rru / contacts).toFixed(3)),
      dynamodbWriteUnitsPerContact: Number((m.wru / contacts).toFixed(3)),
      sqsPerContact: Number((sqsAll - sqsEvents).toFixed(4)),
      sqsEventsPerContact: Number(sqsEvents.toFixed(4)),
    };
  } finally {
    await stack.stop();
  }
}

export interface EndToEndFigures {
  readonly emails: number;
  readonly seconds: number;
  readonly perEmail: Record<string, number>;
  readonly costBreakdownUSD: Record<string, number>;
  readonly costPerMillionUSD: number;
}

/** A broadcast through the whole local stack: fan-out, dispatch, events and their counts; requests priced per 1M emails. */
export async function measureEndToEnd(contacts = 1000): Promise<EndToEndFigures> {
  const { meter: m, listener } = meter();
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    seedTemplates: true,
    onAwsRequest: listener,
  });
  try {
    await seed(stack, 'e2e', contacts);
    const id = await createBroadcast(stack, 'e2e');
    const started = Date.now();
    m.counting = true;
    await call(stack, 'POST', `/v1/broadcasts/${id}/send`);
    let targeted = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 1000));
      const b = (await call(stack, 'GET', `/v1/broadcasts/${id}`)) as unknown as {
        state: string;
        counts: { targeted: number; sent: number; skipped: { suppressed: number } };
      };
      targeted = b.counts.targeted;
      const events = await stack.clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.queues.webhookEvents,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const left =
        Number(events.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(events.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      if (b.state === 'sent' && b.counts.sent >= targeted && left === 0) break;
    }
    m.counting = false;
    const seconds = (Date.now() - started) / 1000;
    const emails = targeted;
    const perEmail = Object.fromEntries([...m.requests].sort().map(([k, v]) => [k, Number((v / emails).toFixed(4))]));
    // The bench's own reads (polling the broadcast and the queue) are left out of the price.
    const count = (pred: (op: string) => boolean) =>
      [...m.requests].filter(([op]) => pred(op)).reduce((n, [, v]) => n + v, 0) / emails;
    const sqs = count((op) => op.startsWith('sqs.') && !op.startsWith('sqs.GetQueueAttributes'));
    const a = BROADCAST_ASSUMPTIONS;
    const perMillion = 1_000_000;
    const pages = Math.ceil(contacts / 1000);
    const gbSeconds =
      (pages / emails) * a.audienceSecondsPerPage * a.audienceMemoryGB +
      (1 / 10) * a.dispatchSecondsPerBatch * a.dispatchMemoryGB +
      (count((op) => op.startsWith('sqs.ReceiveMessage') && op.includes('WebhookEvents')) || 0.4) *
        a.webhooksSecondsPerBatch *
        a.webhooksMemoryGB;
    const invocations = pages / emails + 1 / 10 + 0.4;
    const breakdown = {
      'DynamoDB writes': (m.wru / emails) * PRICES.dynamodbPerMillionWRU,
      'DynamoDB reads': (m.rru / emails) * PRICES.dynamodbPerMillionRRU,
      SQS: sqs * PRICES.sqsPerMillionRequests,
      'Lambda compute': gbSeconds * PRICES.lambdaArmPerGBSecond * perMillion,
      'Lambda requests': invocations * PRICES.lambdaPerMillionRequests,
      'CloudWatch Logs': ((invocations * a.logBytesPerInvocation) / 1e9) * PRICES.logsIngestPerGB * perMillion,
    };
    const costBreakdownUSD = Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, Number(v.toFixed(3))]));
    const costPerMillionUSD = Number(
      Object.values(breakdown)
        .reduce((x, y) => x + y, 0)
        .toFixed(2),
    );
    return { emails, seconds: Number(seconds.toFixed(1)), perEmail, costBreakdownUSD, costPerMillionUSD };
  } finally {
    await stack.stop();
  }
}

/** The lines `npm run bench` prints. */
export function broadcastLines(f: FanoutFigures, e: EndToEndFigures): string[] {
  const t = BROADCAST_TARGETS;
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  return [
    '',
    `Broadcast fan-out (${f.contacts} contacts on the local stack, ${f.targeted} consenting; ${f.pages} pages, ${f.seconds} s)`,
    `  ${f.contactsPerSecond} contacts/s accepted (records, search index, bulk queue, checkpoints; emulators on this machine)`,
    ...Object.entries(f.perContact).map(([op, n]) => `  ${op.padEnd(48)} ${n.toFixed(4)}`),
    `  DynamoDB  ${f.dynamodbReadUnitsPerContact} read units/contact (${f.dynamodbRequestsPerContact} requests; ${f.dynamodbWriteUnitsPerContact} write units)  target ≤ ${t.dynamodbReadsPerContact}: ${mark(f.dynamodbReadUnitsPerContact <= t.dynamodbReadsPerContact)}`,
    `  SQS       ${f.sqsPerContact} requests/contact (jobs and the bulk queue)  target ≤ ${t.sqsPerContact}: ${mark(f.sqsPerContact <= t.sqsPerContact)}`,
    `            + ${f.sqsEventsPerContact} for the email.queued events every accepted email publishes (the webhooks' cost, priced below)`,
    '',
    `Cost per 1M broadcast emails end to end, provider excluded (${e.emails} emails through the whole local stack, ${e.seconds} s)`,
    ...Object.entries(e.costBreakdownUSD).map(([k, v]) => `  ${k.padEnd(24)} $${v.toFixed(3)}`),
    `  total                    $${e.costPerMillionUSD.toFixed(2)}`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await measureFanout(Number(process.env.BENCH_BROADCAST_CONTACTS ?? 20_000));
  const e = await measureEndToEnd(Number(process.env.BENCH_BROADCAST_E2E ?? 1000));
  process.stdout.write(`${broadcastLines(f, e).join('\n')}\n`);
}
