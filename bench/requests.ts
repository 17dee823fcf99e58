/**
 * AWS requests per email on the local stack, every request the service makes counted by SDK
 * middleware (the event-source poller's own ReceiveMessage and DeleteMessageBatch included, as AWS
 * bills them), then priced with public on-demand unit prices. Two paths: 1,000 emails through the
 * batch API (100 per request), and 1,000 single sends each with its own Idempotency-Key — the path
 * most applications use.
 */
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type LocalStack, startLocalStack } from '../bin/local-stack';
import { CONTENT_EXPIRY_DAYS, contentKindOf } from '../functions/core/content-keys';
import { QUEUES } from '../lib/resources';

/** Public on-demand prices, us-east-1, USD (checked 2026-11). */
export const PRICES = {
  dynamodbPerMillionWRU: 0.625,
  dynamodbPerMillionRRU: 0.125,
  dynamodbStoragePerGBMonth: 0.25,
  dynamodbPitrPerGBMonth: 0.2,
  sqsPerMillionRequests: 0.4,
  lambdaArmPerGBSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  httpApiPerMillionRequests: 1.0,
  logsIngestPerGB: 0.5,
  /** S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET $0.0004 per 1,000; storage $0.023 per GB-month (first 50 TB). https://aws.amazon.com/s3/pricing/ */
  s3PerMillionPut: 5.0,
  s3PerMillionGet: 0.4,
  s3StandardPerGBMonth: 0.023,
} as const;

/** What the local run cannot observe, stated rather than hidden. */
export const ASSUMPTIONS = {
  batchApiEmailsPerRequest: 100,
  ingestMemoryGB: 0.5,
  /** A batch request of 100 emails. */
  ingestSecondsPerRequest: 0.25,
  /** A single send: authentication (cached), idempotency record, one record write, one enqueue. */
  ingestSecondsPerSingleRequest: 0.04,
  dispatchMemoryGB: 0.5,
  dispatchBatchSize: 10,
  /** SES answers in ~50-100 ms; a batch's sends run concurrently, its DynamoDB writes add ~20 ms. */
  dispatchSecondsPerBatch: 0.15,
  /** Lambda START/END/REPORT lines plus one EMF metrics record per invocation. */
  logBytesPerInvocation: 900,
  /** A dispatch batch also prints one EMF record per provider it used (measured: ~340 B). */
  providerMetricsBytesPerBatch: 340,
  retentionDays: 30,
} as const;

/**
 * An item's size as DynamoDB counts it: attribute names plus values (strings in UTF-8 bytes,
 * numbers ~1 byte per 2 digits + 1, lists and maps 3 bytes + 1 per element plus their contents).
 */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
    if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\./g, '').length / 2) + 1;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.L) return 3 + v.L.reduce((n, x) => n + 1 + value(x), 0);
    if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + value(x), 0);
    if (v.SS) return v.SS.reduce((n, x) => n + Buffer.byteLength(x), 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + value(v), 0);
}

type Counter = Map<string, { requests: number; units: number }>;

/** Capacity units a DynamoDB request consumes, given the item size in KB (ceil to 1 KB writes / 4 KB reads). */
function dynamoUnits(op: string, input: unknown, itemKB: number): number {
  const i = (input ?? {}) as Record<string, unknown>;
  const w = Math.max(1, Math.ceil(itemKB));
  switch (op) {
    case 'BatchWriteItem':
      return Object.values((i.RequestItems ?? {}) as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0) * w;
    case 'BatchGetItem':
      // Eventually consistent: 0.5 RRU per key (per 4 KB), found or not.
      return (
        Object.values((i.RequestItems ?? {}) as Record<string, { Keys: unknown[] }>).reduce(
          (n, r) => n + r.Keys.length,
          0,
        ) * 0.5
      );
    case 'GetItem':
      return i.ConsistentRead ? 1 : 0.5;
    default:
      return w; // PutItem, UpdateItem, DeleteItem
  }
}

/** How the emails reach the API: batch requests of 100, or one request per email with an Idempotency-Key. */
export type SendPath = 'batch' | 'single';

export interface RequestFigures {
  path: SendPath;
  emails: number;
  seconds: number;
  dynamodb: number;
  sqs: number;
  byOperation: Record<string, number>;
  dynamodbWRU: number;
  dynamodbRRU: number;
  /** Of `dynamodbWRU`: the search index's entries (GET /v1/emails), per email. */
  searchIndexWRU: number;
  /** The search index's bytes per email (its entries' sizes as DynamoDB counts them). */
  searchIndexBytes: number;
  itemBytes: number;
  /** ReceiveMessage calls of the idle SES-events poller during the run (fixed cost, not per email). */
  idleSesEventsPolls: number;
  /** Idle long polls of the critical and bulk queues (these emails are transactional). */
  idlePriorityPolls: number;
  costPerMillionUSD: number;
  costBreakdownUSD: Record<string, number>;
}

/**
 * Another mix of emails than the default receipts (bench/attachments.ts). `setup` runs on the started
 * stack before counting; it returns the email numbered n and any requests the run makes outside the
 * service's clients (a client's PUT to a presigned URL), per run, with the bytes each one stores.
 */
export interface RequestsOptions {
  readonly setup: (stack: LocalStack) => Promise<{
    readonly email: (n: number) => Record<string, unknown>;
    readonly outside?: readonly { readonly op: string; readonly key: string; readonly bytes: number }[];
  }>;
  /** Seconds an ingest invocation takes (one request of the path). @default ASSUMPTIONS for the path */
  readonly ingestSeconds?: number;
  /** Seconds a dispatch batch takes. @default ASSUMPTIONS.dispatchSecondsPerBatch */
  readonly dispatchSecondsPerBatch?: number;
  /** How often the SES inbox is read to see whether all were sent (large emails make each read costly). @default 50 */
  readonly inboxPollMs?: number;
  /** Single sends in flight at once. @default SINGLE_SEND_CONCURRENCY */
  readonly concurrency?: number;
}

/** Requests in flight at once on the single-send path (an application's web servers sending in parallel). */
const SINGLE_SEND_CONCURRENCY = 10;

const receipt = (n: number) => ({
  from: 'Acme <notifications@example.com>',
  to: `user${n}@example.org`,
  subject: `Your receipt #${n}`,
  html: `<p>Thanks for your order #${n}.</p>`,
  text: `Thanks for your order #${n}.`,
  tags: { kind: 'receipt' },
});

export async function measureRequests(
  emails = 1000,
  path: SendPath = 'batch',
  options?: RequestsOptions,
): Promise<RequestFigures> {
  const counter: Counter = new Map();
  let counting = false;
  const pending: { service: string; op: string; input: unknown }[] = [];
  let idlePolls = 0;
  let idlePriorityPolls = 0;
  // These emails are transactional: the critical and bulk queues stay empty, their pollers idle.
  const idleQueues = [QUEUES.sendCritical.id, QUEUES.sendBulk.id];
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    onAwsRequest: (service, op, input) => {
      if (!counting) return;
      // The SES-events queue's poller long-polls while idle (these emails make no SES events): a
      // fixed cost per poller, whatever the volume, so it is counted apart from the per-email figures.
      const queueUrl = String((input as { QueueUrl?: string })?.QueueUrl ?? '');
      if (service === 'sqs' && queueUrl.includes(QUEUES.sesEvents.id)) {
        idlePolls += 1;
        return;
      }
      // Likewise the pollers of the priority queues these emails do not use.
      if (service === 'sqs' && idleQueues.some((id) => queueUrl.endsWith(`/${id}`))) {
        idlePriorityPolls += 1;
        return;
      }
      pending.push({ service, op, input });
    },
  });
  try {
    // The SES emulator keeps its inbox per process: count only what this run adds to it.
    const inbox = async () =>
      ((await (await fetch(`${stack.sesUrl}/store`)).json()) as { emails: unknown[] }).emails.length;
    const mix = options ? await options.setup(stack) : undefined;
    const emailOf = mix?.email ?? receipt;
    const before = await inbox();
    const started = Date.now();
    counting = true;
    const ids: string[] = [];
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
    if (path === 'batch') {
      for (let b = 0; b < Math.ceil(emails / ASSUMPTIONS.batchApiEmailsPerRequest); b++) {
        const res = await fetch(`${stack.apiUrl}/v1/emails/batch`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            emails: Array.from({ length: ASSUMPTIONS.batchApiEmailsPerRequest }, (_, i) => emailOf(b * 100 + i)),
          }),
        });
        if (res.status !== 202) throw new Error(`batch API answered ${res.status}: ${await res.text()}`);
        ids.push(...((await res.json()) as { data: { id: string }[] }).data.map((d) => d.id));
      }
    } else {
      let next = 0;
      const worker = async () => {
        for (let n = next++; n < emails; n = next++) {
          const res = await fetch(`${stack.apiUrl}/v1/emails`, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': `receipt-${n}` },
            body: JSON.stringify(emailOf(n)),
          });
          if (res.status !== 202) throw new Error(`send API answered ${res.status}: ${await res.text()}`);
          ids.push(((await res.json()) as { id: string }).id);
        }
      };
      await Promise.all(Array.from({ length: options?.concurrency ?? SINGLE_SEND_CONCURRENCY }, worker));
    }
    // Done when the SES inbox holds every email (reading it makes no AWS request of ours).
    for (;;) {
      const sent = (await inbox()) - before;
      if (sent >= emails) break;
      if (Date.now() - started > 120_000) throw new Error(`only ${sent} of ${emails} sent in 120 s`);
      await new Promise((r) => setTimeout(r, options?.inboxPollMs ?? 50));
    }
    // Let the pollers delete the last batch before counting stops.
    await new Promise((r) => setTimeout(r, 300));
    counting = false;
    const seconds = (Date.now() - started) / 1000;

    const sample = await stack.clients.dynamodb.send(
      new GetItemCommand({ TableName: stack.tables.messages, Key: { id: { S: ids[0] ?? '' } } }),
    );
    const itemBytes = dynamoItemBytes(sample.Item ?? {});
    const itemKB = itemBytes / 1024;

    // What the content store keeps, for as long as its prefix's lifecycle keeps it: GB-months per run.
    let s3GBMonths = 0;
    const kept = (key: string, bytes: number) => {
      const kind = contentKindOf(key);
      s3GBMonths += (bytes / 1024 ** 3) * ((kind ? CONTENT_EXPIRY_DAYS[kind] : 30) / 30);
    };
    for (const o of mix?.outside ?? []) {
      const c = counter.get(o.op) ?? { requests: 0, units: 0 };
      counter.set(o.op, { requests: c.requests + 1, units: c.units + 1 });
      kept(o.key, o.bytes);
    }
    // The search index's entries are small items of their own table: counted apart, by their own size.
    let indexBytes = 0;
    for (const { service, op, input } of pending) {
      const indexItems =
        service === 'dynamodb' && op === 'BatchWriteItem'
          ? (input as { RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, AttributeValue> } }[]> })
              .RequestItems?.[stack.tables.emailIndex]
          : undefined;
      const key = indexItems ? `${service}:${op} (EmailIndex)` : `${service}:${op}`;
      const c = counter.get(key) ?? { requests: 0, units: 0 };
      c.requests += 1;
      if (indexItems) {
        for (const r of indexItems) {
          const bytes = dynamoItemBytes(r.PutRequest?.Item ?? {});
          indexBytes += bytes;
          c.units += Math.max(1, Math.ceil(bytes / 1024));
        }
      } else c.units += service === 'dynamodb' ? dynamoUnits(op, input, itemKB) : 1;
      counter.set(key, c);
      if (service === 's3' && op === 'PutObject') {
        const put = input as { Key?: string; ContentLength?: number };
        kept(put.Key ?? '', put.ContentLength ?? 0);
      }
    }
    const per = (n: number) => n / emails;
    const sum = (service: string, f: (k: string, v: { requests: number; units: number }) => number) =>
      [...counter].filter(([k]) => k.startsWith(`${service}:`)).reduce((n, [k, v]) => n + f(k, v), 0);
    const isRead = (k: string) => /:(Get|BatchGet|Query|Scan)/.test(k);
    const wru = per(sum('dynamodb', (k, v) => (isRead(k) ? 0 : v.units)));
    const indexWru = per(counter.get('dynamodb:BatchWriteItem (EmailIndex)')?.units ?? 0);
    const indexBytesPerEmail = per(indexBytes);
    const rru = per(sum('dynamodb', (k, v) => (isRead(k) ? v.units : 0)));
    const sqs = per(sum('sqs', (_k, v) => v.requests));
    const dynamodb = per(sum('dynamodb', (_k, v) => v.requests));

    const M = 1_000_000;
    const ingestInvocations = path === 'batch' ? M / ASSUMPTIONS.batchApiEmailsPerRequest : M;
    const ingestSeconds =
      options?.ingestSeconds ??
      (path === 'batch' ? ASSUMPTIONS.ingestSecondsPerRequest : ASSUMPTIONS.ingestSecondsPerSingleRequest);
    const dispatchSeconds = options?.dispatchSecondsPerBatch ?? ASSUMPTIONS.dispatchSecondsPerBatch;
    const dispatchInvocations = M / ASSUMPTIONS.dispatchBatchSize;
    const storageGBMonths = ((itemBytes * M) / 1024 ** 3) * (ASSUMPTIONS.retentionDays / 30);
    const indexGBMonths = ((indexBytesPerEmail * M) / 1024 ** 3) * (ASSUMPTIONS.retentionDays / 30);
    const breakdown = {
      dynamodbWrites: (wru - indexWru) * M * (PRICES.dynamodbPerMillionWRU / M),
      dynamodbReads: rru * M * (PRICES.dynamodbPerMillionRRU / M),
      dynamodbStorageAndPitr: storageGBMonths * (PRICES.dynamodbStoragePerGBMonth + PRICES.dynamodbPitrPerGBMonth),
      sqs: sqs * M * (PRICES.sqsPerMillionRequests / M),
      lambda:
        ((ingestInvocations + dispatchInvocations) * PRICES.lambdaPerMillionRequests) / M +
        (ingestInvocations * ingestSeconds * ASSUMPTIONS.ingestMemoryGB +
          dispatchInvocations * dispatchSeconds * ASSUMPTIONS.dispatchMemoryGB) *
          PRICES.lambdaArmPerGBSecond,
      apiGateway: (ingestInvocations * PRICES.httpApiPerMillionRequests) / M,
      // Message search: the index entries' writes and their storage (GET /v1/emails reads are per search, not per email).
      searchIndex:
        indexWru * M * (PRICES.dynamodbPerMillionWRU / M) +
        indexGBMonths * (PRICES.dynamodbStoragePerGBMonth + PRICES.dynamodbPitrPerGBMonth),
      logs:
        (((ingestInvocations + dispatchInvocations) * ASSUMPTIONS.logBytesPerInvocation +
          dispatchInvocations * ASSUMPTIONS.providerMetricsBytesPerBatch) /
          1024 ** 3) *
        PRICES.logsIngestPerGB,
      // The content store (attachments): only where the run made S3 requests, so other figures keep their lines.
      ...(sum('s3', (_k, v) => v.requests) > 0
        ? {
            s3Requests:
              per(sum('s3', (k, v) => (/:(Put|Copy|Post|List|CreateMultipart|UploadPart)/.test(k) ? v.requests : 0))) *
                PRICES.s3PerMillionPut +
              per(sum('s3', (k, v) => (/:(Get|Head)/.test(k) ? v.requests : 0))) * PRICES.s3PerMillionGet,
            s3Storage: per(s3GBMonths) * M * PRICES.s3StandardPerGBMonth,
          }
        : {}),
    };
    const round = (n: number, d = 3) => Number(n.toFixed(d));
    return {
      path,
      emails,
      seconds: round(seconds, 1),
      dynamodb: round(dynamodb),
      sqs: round(sqs),
      byOperation: Object.fromEntries([...counter].sort().map(([k, v]) => [k, round(per(v.requests))])),
      dynamodbWRU: round(wru),
      dynamodbRRU: round(rru),
      searchIndexWRU: round(indexWru),
      searchIndexBytes: Math.round(indexBytesPerEmail),
      itemBytes,
      idleSesEventsPolls: idlePolls,
      idlePriorityPolls,
      costPerMillionUSD: round(
        Object.values(breakdown).reduce((a, b) => a + b, 0),
        2,
      ),
      costBreakdownUSD: Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, round(v)])),
    };
  } finally {
    await stack.stop();
  }
}
