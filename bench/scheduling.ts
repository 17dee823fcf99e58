/**
 * Scheduled sends on the local stack: AWS requests (and their price) per scheduled email next to an
 * immediate one, and firing accuracy (median and p99 lateness of emails scheduled for the same second).
 * Run alone with `tsx bench/scheduling.ts`.
 */
import { startLocalStack } from '../bin/local-stack';
import { countByStatus } from '../bin/local-status';
import { PRICES } from './requests';

/** Prices the requests bench does not have (us-east-1, USD, checked 2026-11). */
export const SCHEDULING_PRICES = {
  s3PutPerMillion: 5.0,
  s3GetPerMillion: 0.4,
  /** EventBridge Scheduler: per invocation (the create/update/delete API calls are not billed). */
  schedulerPerMillionInvocations: 1.0,
} as const;

type Counts = Map<string, number>;

export interface SchedulingFigures {
  readonly emails: number;
  readonly immediate: Record<string, number>;
  readonly scheduled: Record<string, number>;
  readonly immediateCostPerMillionUSD: number;
  readonly scheduledCostPerMillionUSD: number;
  readonly lateness: { readonly emails: number; readonly medianMs: number; readonly p99Ms: number };
}

const perEmail = (counts: Counts, n: number) =>
  Object.fromEntries([...counts].sort().map(([k, v]) => [k, Number((v / n).toFixed(3))]));

/** Request cost per million emails: DynamoDB (1 KB items), SQS, S3 and Scheduler invocations. */
function costPerMillion(per: Record<string, number>): number {
  let usd = 0;
  for (const [op, n] of Object.entries(per)) {
    const [raw, operation] = op.split('.') as [string, string];
    const service = raw.toLowerCase();
    // Scans are the bench's own polling; a batch write of 25 records counts 25 WRU.
    if (service === 'dynamodb' && operation === 'Scan') continue;
    if (service === 'dynamodb' && operation === 'BatchWriteItem') {
      usd += n * 25 * PRICES.dynamodbPerMillionWRU;
      continue;
    }
    if (service === 'dynamodb') {
      if (/Get|Query|Scan/.test(operation)) usd += n * PRICES.dynamodbPerMillionRRU;
      else usd += n * PRICES.dynamodbPerMillionWRU;
    } else if (service === 'sqs') usd += n * PRICES.sqsPerMillionRequests;
    else if (service === 's3')
      usd +=
        n *
        (operation === 'PutObject'
          ? SCHEDULING_PRICES.s3PutPerMillion
          : operation === 'GetObject'
            ? SCHEDULING_PRICES.s3GetPerMillion
            : 0);
    else if (service === 'scheduler' && operation === 'Invocation')
      usd += n * SCHEDULING_PRICES.schedulerPerMillionInvocations;
  }
  return Number(usd.toFixed(2));
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export async function measureScheduling(emails = 200): Promise<SchedulingFigures> {
  let offsetMs = 0;
  const counts: Counts = new Map();
  let counting = false;
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    now: () => Date.now() + offsetMs,
    onAwsRequest: (service, operation) => {
      if (counting) counts.set(`${service}.${operation}`, (counts.get(`${service}.${operation}`) ?? 0) + 1);
    },
  });
  const post = async (body: unknown) => {
    const res = await fetch(`${stack.apiUrl}/v1/emails/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return ((await res.json()) as { data: { id: string }[] }).data.map((d) => d.id);
  };
  const view = async (id: string) =>
    (await (
      await fetch(`${stack.apiUrl}/v1/emails/${id}`, { headers: { authorization: `Bearer ${stack.apiKey}` } })
    ).json()) as { status: string; scheduledAt?: string; events: { type: string; at: string }[] };
  /** Waits (one table scan a second) until `total` messages are sent, then reads `ids` back one by one. */
  const until = async (ids: readonly string[], total: number) => {
    while (((await countByStatus(stack.clients.dynamodb, stack.tables.messages)).sent ?? 0) < total) {
      await new Promise((r) => setTimeout(r, 1000));
    }
    const views = [];
    for (const id of ids) views.push(await view(id));
    return views;
  };
  const email = (n: number, extra: Record<string, unknown> = {}) => ({
    from: 'app@example.com',
    to: `user${n}@example.org`,
    subject: `Reminder ${n}`,
    text: 'Your trial ends tomorrow.',
    ...extra,
  });
  const batches = (n: number, make: (i: number) => unknown) =>
    Array.from({ length: Math.ceil(n / 100) }, (_, b) =>
      Array.from({ length: Math.min(100, n - b * 100) }, (_, i) => make(b * 100 + i)),
    );
  try {
    // Immediate: accept to sent.
    counting = true;
    const immediate: string[] = [];
    for (const b of batches(emails, (i) => email(i))) immediate.push(...(await post({ emails: b })));
    await until([], emails);
    const immediateCounts = new Map(counts);
    counts.clear();

    // Scheduled 20 minutes ahead (EventBridge Scheduler): accept, firing (the clock moved on), sent.
    const at = new Date(Date.now() + 20 * 60_000).toISOString();
    const scheduled: string[] = [];
    for (const b of batches(emails, (i) => email(i, { scheduledAt: at })))
      scheduled.push(...(await post({ emails: b })));
    offsetMs = 20 * 60_000 + 1000;
    await stack.scheduler.fireDue();
    await until([], 2 * emails);
    // The Scheduler calls (not SDK calls locally): one create and one invocation per email.
    counts.set('Scheduler.CreateSchedule', emails);
    counts.set('Scheduler.Invocation', stack.scheduler.fired.length);
    const scheduledCounts = new Map(counts);
    counting = false;

    // Firing accuracy: emails scheduled for the same second, a few seconds ahead (on their queue with a delay).
    offsetMs = 0;
    const second = new Date(Math.ceil((Date.now() + 8000) / 1000) * 1000).toISOString();
    const same: string[] = [];
    for (const b of batches(emails, (i) => email(i, { scheduledAt: second })))
      same.push(...(await post({ emails: b })));
    const sent = await until(same, 3 * emails);
    const late = sent
      .map((v) => Date.parse(v.events.find((e) => e.type === 'sent')?.at ?? '') - Date.parse(second))
      .sort((a, b) => a - b);

    const immediatePer = perEmail(immediateCounts, emails);
    const scheduledPer = perEmail(scheduledCounts, emails);
    return {
      emails,
      immediate: immediatePer,
      scheduled: scheduledPer,
      immediateCostPerMillionUSD: costPerMillion(immediatePer),
      scheduledCostPerMillionUSD: costPerMillion(scheduledPer),
      lateness: { emails: late.length, medianMs: percentile(late, 50), p99Ms: percentile(late, 99) },
    };
  } finally {
    await stack.stop();
  }
}

/** The lines `npm run bench` prints. */
export function schedulingLines(f: SchedulingFigures, targetUSD: number): string[] {
  const ops = [...new Set([...Object.keys(f.immediate), ...Object.keys(f.scheduled)])].sort();
  return [
    '',
    `Scheduled sends (${f.emails} emails each way on the local stack; requests per email, immediate vs scheduled 20 min ahead)`,
    ...ops.map(
      (op) =>
        `  ${op.padEnd(34)} ${String(f.immediate[op] ?? 0).padStart(7)}  ${String(f.scheduled[op] ?? 0).padStart(7)}`,
    ),
    `  request cost per 1M (DynamoDB, SQS, S3, Scheduler): immediate $${f.immediateCostPerMillionUSD}, scheduled $${f.scheduledCostPerMillionUSD}  target ≤ $${targetUSD}  ${f.scheduledCostPerMillionUSD <= targetUSD ? 'met' : 'NOT MET'}`,
    `  firing accuracy (${f.lateness.emails} emails due the same second, accept to sent): median ${f.lateness.medianMs} ms, p99 ${f.lateness.p99Ms} ms late`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await measureScheduling(Number(process.env.BENCH_SCHEDULED ?? 200));
  process.stdout.write(`${schedulingLines(f, 5).join('\n')}\n`);
}
