/**
 * Every AWS call may fail. A seeded fault layer on the local stack's AWS clients (bin/local/aws-faults.ts)
 * makes about one DynamoDB, SQS or SNS command in AWS_FAULT_RATE fail — throttling, 5xx, a timeout
 * before the request left, a timeout after the service did the work, and partial batch failures
 * (SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch failed entries, BatchWriteItem
 * UnprocessedItems, BatchGetItem UnprocessedKeys) — while traffic goes through every step: ingest
 * (single, batch, with and without Idempotency-Key, API key and rate look-ups), dispatch (suppression
 * read, claim, reservation, finish, release, delayed copies, deletes), SES events (bounce, complaint,
 * delivery through the simulator and SNS) and tracking (opens, clicks). Then the faults stop, and
 * once every message has ended the invariants must hold:
 *
 * - every accepted message is in exactly one final state, and nothing accepted is lost;
 * - no message is sent twice, unless its record says ambiguous (the documented exception);
 * - every API answer is a success, or a 4xx, or a 503 with Retry-After — and a request that did not
 *   succeed created nothing;
 * - bounces are suppressed;
 * - every failure a message met is counted in a metric and logged with its id.
 *
 * AWS_FAULT_SEED=<n> replays a run's faults (timing still varies); the seed is in the test's name
 * and printed on failure.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { AwsFaults } from '../../bin/local/aws-faults';
import { type LocalStack, startLocalStack } from '../../bin/local-stack';
import { logger, metrics } from '../../functions/app/observability';
import { TERMINAL } from '../../functions/core/message';
import { METRICS } from '../../functions/core/metric-names';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoMessageStore } from '../../functions/store/message-store';
import { type InboxEmail, inbox } from '../support/local';

const SEED = process.env.AWS_FAULT_SEED ? Number(process.env.AWS_FAULT_SEED) : Math.floor(Math.random() * 2 ** 31);
const RATE = Number(process.env.AWS_FAULT_RATE ?? '0.08');
const CHAOS_MS = 9_000;
const SETTLE_TIMEOUT_MS = 35_000;

const SUCCESS = 'success@simulator.amazonses.com';
const BOUNCE = 'bounce@simulator.amazonses.com';
const COMPLAINT = 'complaint@simulator.amazonses.com';
/** What each simulator address ends as, when it was sent. */
const EXPECTED: Record<string, string> = { [SUCCESS]: 'delivered', [BOUNCE]: 'bounced', [COMPLAINT]: 'complained' };

interface Answer {
  readonly request: string;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: unknown;
}

let stack: LocalStack;
const faults = new AwsFaults({ seed: SEED, rate: RATE, only: (service) => service !== 'ses' });
const answers: Answer[] = [];
const logged: { level: string; message: string; extra: Record<string, unknown> }[] = [];
const counted = new Map<string, number>();

beforeAll(async () => {
  stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    instrumentAws: faults.instrument,
    visibilityTimeoutSeconds: 2,
  });
  for (const level of ['error', 'warn'] as const) {
    vi.spyOn(logger, level).mockImplementation((message: unknown, ...extra: unknown[]) => {
      logged.push({ level, message: String(message), extra: (extra[0] ?? {}) as Record<string, unknown> });
    });
  }
  const add = metrics.addMetric.bind(metrics);
  vi.spyOn(metrics, 'addMetric').mockImplementation((name, unit, value) => {
    counted.set(name, (counted.get(name) ?? 0) + value);
    return add(name, unit, value);
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await stack?.stop();
});

/** One API request, retried (as a client would) while it answers 503 or the connection fails. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  for (let attempt = 1; ; attempt++) {
    let answer: Answer;
    try {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        redirect: 'manual',
        headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // a pixel or a redirect
      }
      answer = {
        request: `${method} ${path}`,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: parsed,
      };
    } catch (e) {
      answer = { request: `${method} ${path}`, status: 0, retryAfter: null, body: String(e) };
    }
    answers.push(answer);
    if (answer.status !== 503 || attempt >= 6) return answer;
    await new Promise((r) => setTimeout(r, 150));
  }
}

const email = (to: string, n: number, html = false) => ({
  from: 'app@example.com',
  to,
  subject: `fault ${n}`,
  ...(html ? { html: `<p>Hi <a href="https://example.com/n/${n}">link</a></p>` } : { text: 'Hello' }),
});

const idsOf = (a: Answer): string[] => {
  const b = a.body as { id?: string; data?: { id: string }[] } | undefined;
  if (a.status !== 202 || !b) return [];
  return b.id ? [b.id] : (b.data ?? []).map((d) => d.id);
};

/** The mailroute id an inbox email carries. */
const mailrouteId = (e: InboxEmail) => e.headers?.find((h) => h.name.toLowerCase() === 'x-mailroute-id')?.value;

describe(`every AWS call may fail (AWS_FAULT_SEED=${SEED})`, () => {
  it('keeps every invariant', async () => {
    onTestFailed(() => {
      process.stderr.write(
        `\nAWS fault suite failed: replay with AWS_FAULT_SEED=${SEED} AWS_FAULT_RATE=${RATE}\ninjected: ${JSON.stringify(faults.summary())}\n` +
          `answers other than 2xx:\n${answers
            .filter((a) => a.status < 200 || a.status >= 300)
            .map((a) => `  ${a.request} ${a.status} ${JSON.stringify(a.body)}`)
            .join('\n')}\n`,
      );
    });
    const recipients = [SUCCESS, SUCCESS, SUCCESS, BOUNCE, COMPLAINT];
    const started = Date.now();
    faults.active = true;

    // Ingest: singles (some with html, tracked), singles with an Idempotency-Key sent twice, batches.
    const singles = Array.from({ length: 15 }, (_, i) =>
      call('POST', '/v1/emails', email(recipients[i % recipients.length] as string, i, i % 3 === 0)),
    );
    const keyed = Array.from({ length: 6 }, async (_, i) => {
      const body = email(recipients[i % recipients.length] as string, 100 + i);
      const headers = { 'idempotency-key': `fault-${SEED}-${i}` };
      const first = await call('POST', '/v1/emails', body, headers);
      const again = await call('POST', '/v1/emails', body, headers);
      return { first, again };
    });
    const batches = Array.from({ length: 3 }, (_, b) =>
      call(
        'POST',
        '/v1/emails/batch',
        {
          emails: Array.from({ length: 4 }, (_, i) =>
            email(recipients[(b + i) % recipients.length] as string, 200 + b * 10 + i, i === 0),
          ),
        },
        b === 0 ? { 'idempotency-key': `fault-batch-${SEED}` } : {},
      ),
    );
    const single = await Promise.all(singles);
    const pairs = await Promise.all(keyed);
    const batch = await Promise.all(batches);
    const accepted = new Set([...single, ...pairs.flatMap((p) => [p.first, p.again]), ...batch].flatMap(idsOf));

    // The same Idempotency-Key gives the same ids, whatever failed in between.
    for (const { first, again } of pairs) {
      if (first.status === 202 && again.status === 202) expect(idsOf(again)).toEqual(idsOf(first));
    }

    // Tracking while the faults last: open and click what has been sent so far.
    const tracked = new Set<string>();
    while (Date.now() - started < CHAOS_MS) {
      for (const e of await inbox(stack)) {
        const id = mailrouteId(e);
        if (!id || tracked.has(id) || !e.body.html) continue;
        tracked.add(id);
        for (const m of e.body.html.matchAll(/(?:src|href)="([^"]+\/(?:o|c)\/[^"]+)"/g)) {
          const url = new URL((m[1] as string).replace(/&amp;/g, '&'));
          await call('GET', `${url.pathname}${url.search}`);
        }
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    faults.active = false;

    // Every accepted message ends, and stays ended (deliveries and bounces arrive after `sent`).
    const store = new DynamoMessageStore(documentClient(stack.clients.dynamodb), stack.tables.messages);
    const until = Date.now() + SETTLE_TIMEOUT_MS;
    let records = await Promise.all([...accepted].map((id) => store.get(id)));
    const done = (r: (typeof records)[number]) => {
      if (!r || !TERMINAL.has(r.status)) return false;
      const expected = EXPECTED[r.to[0] ?? ''];
      return r.status !== 'sent' || expected === undefined;
    };
    while (!records.every(done) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      records = await Promise.all([...accepted].map((id) => store.get(id)));
    }
    const problems: string[] = [];
    const sentTimes = new Map<string, number>();
    for (const e of await inbox(stack)) {
      const id = mailrouteId(e);
      if (id) sentTimes.set(id, (sentTimes.get(id) ?? 0) + 1);
    }
    for (const [i, id] of [...accepted].entries()) {
      const r = records[i];
      // Nothing accepted is lost; one final state each.
      if (!r) {
        problems.push(`${id}: accepted, but it has no record`);
        continue;
      }
      if (!TERMINAL.has(r.status)) problems.push(`${id}: still ${r.status}`);
      if (r.events.filter((e) => e.type === 'sent').length > 1) problems.push(`${id}: two sends on its timeline`);
      const times = sentTimes.get(id) ?? 0;
      const ambiguous = (r.reason ?? '').includes('ambiguous');
      if (times > 1 && !ambiguous) problems.push(`${id}: sent ${times} times`);
      const expected = EXPECTED[r.to[0] ?? ''];
      if (['sent', 'delivered', 'bounced', 'complained'].includes(r.status)) {
        if (times === 0) problems.push(`${id}: ${r.status} but never sent`);
        if (expected && r.status !== expected) problems.push(`${id}: ${r.status}, expected ${expected}`);
      } else if (r.status === 'failed') {
        if (!r.reason) problems.push(`${id}: failed without a reason`);
        if (times > 0 && !ambiguous) problems.push(`${id}: failed, yet sent`);
      } else if (r.status !== 'suppressed') {
        problems.push(`${id}: ended ${r.status}`);
      }
      // Every failure it met is logged with its id (and counted, below).
      const troubled = r.status === 'failed' || r.events.some((e) => ['retry', 'ambiguous', 'failed'].includes(e.type));
      if (troubled && !logged.some((l) => l.extra.messageId === id)) problems.push(`${id}: troubled, never logged`);
    }

    // API answers: a success, a 4xx, or a 503 with Retry-After.
    for (const a of answers) {
      const ok = (a.status >= 200 && a.status < 500) || (a.status === 503 && a.retryAfter !== null);
      if (!ok)
        problems.push(`${a.request} answered ${a.status} (retry-after ${a.retryAfter}): ${JSON.stringify(a.body)}`);
    }
    // A request that did not succeed created nothing: every message record is an accepted one.
    const doc = documentClient(stack.clients.dynamodb);
    const items = await doc.send(new ScanCommand({ TableName: stack.tables.messages }));
    for (const item of items.Items ?? []) {
      const id = String(item.id ?? item.pk ?? '');
      if (item.status !== undefined && !accepted.has(id)) {
        problems.push(`record ${id} (${String(item.status)}) exists, but no answer accepted it`);
      }
    }

    // Bounces are suppressed.
    if (records.some((r) => r?.status === 'bounced')) {
      const res = await fetch(`${stack.apiUrl}/v1/suppressions/${encodeURIComponent(BOUNCE)}`, {
        headers: { authorization: `Bearer ${stack.apiKey}` },
      });
      if (res.status !== 200) problems.push(`a bounce was recorded but ${BOUNCE} is not suppressed (${res.status})`);
    }

    // Counted: every failed message in EmailsFailed or AmbiguousSends, every unsettled record in SettleFailures.
    const failedRecords = records.filter((r) => r?.status === 'failed').length;
    const failureCount = (counted.get(METRICS.failed) ?? 0) + (counted.get(METRICS.ambiguous) ?? 0);
    if (failureCount < failedRecords) problems.push(`${failedRecords} failed records, ${failureCount} counted`);
    const unsettled = logged.filter((l) => l.message.startsWith('message record not settled')).length;
    if ((counted.get(METRICS.settleFailures) ?? 0) < unsettled) problems.push('a settle failure was not counted');
    // Every error logged about a message names it.
    for (const l of logged.filter((x) => x.level === 'error')) {
      const named = ['messageId', 'messageIds', 'sqsMessageId', 'code'].some((k) => l.extra[k] !== undefined);
      if (!named) problems.push(`error logged without a message id: ${l.message}`);
    }

    expect(faults.injected.length, 'the run injected faults').toBeGreaterThan(0);
    expect(accepted.size, 'the run accepted emails').toBeGreaterThan(10);
    expect(problems).toEqual([]);
  }, 90_000);
});
