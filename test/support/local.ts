/** Helpers for integration tests that run against a local stack on free ports. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../bin/local-stack';

const execFileAsync = promisify(execFile);

/** Starts a local stack on free ports for the test file (beforeAll) and stops it after (afterAll). */
export function useLocalStack(ready: (stack: LocalStack) => void, options: LocalStackOptions = {}): void {
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    stack = await startLocalStack({ apiPort: 0, sesPort: 0, awsPort: 0, dynamodbPort: 0, ...options });
    ready(stack);
  });
  afterAll(async () => {
    await stack?.stop();
  });
}

export interface InboxEmail {
  messageId: string;
  from: string;
  subject: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
}

export async function api(
  stack: LocalStack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export async function inbox(stack: LocalStack): Promise<InboxEmail[]> {
  const res = await fetch(`${stack.sesUrl}/store`);
  return ((await res.json()) as { emails: InboxEmail[] }).emails;
}

export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function statusOf(stack: LocalStack, id: string, wanted: string) {
  return eventually(async () => {
    const r = await api(stack, 'GET', `/v1/emails/${id}`);
    return r.body?.status === wanted ? r.body : undefined;
  }, `${id} to be ${wanted}`);
}

export async function countItems(stack: LocalStack, table: string): Promise<number> {
  const out = await stack.clients.dynamodb.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
  return out.Count ?? 0;
}

/** A queue's messages: visible, in flight (received, not yet deleted) and delayed. */
export async function queueCounts(
  stack: LocalStack,
  url: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const out = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const n = (name: QueueAttributeName) => Number(out.Attributes?.[name] ?? 0);
  return {
    visible: n('ApproximateNumberOfMessages'),
    inFlight: n('ApproximateNumberOfMessagesNotVisible'),
    delayed: n('ApproximateNumberOfMessagesDelayed'),
  };
}

/**
 * Waits until the stack has nothing left to do on its queues (by default the send queues of every
 * priority and the SES events queue): no message visible, in flight or delayed on any of them. This is the check
 * before asserting that nothing else happened ("sent once", "never sent"): everything accepted
 * before the call has been dispatched, and every notification published before it processed.
 *
 * The pollers need no check of their own: a message a poller has received stays in flight until
 * its handler has returned and the poller has deleted it, and a message a handler puts back (a
 * retry, a wait for capacity) is in flight or delayed. What the queues cannot show is work that
 * has not reached them yet (the local SES simulator publishes its events a moment after a send,
 * as SES does): wait for its effect (statusOf, eventually) before calling this.
 */
export async function drained(
  stack: LocalStack,
  urls: readonly string[] = [
    stack.queues.sendCritical,
    stack.queues.send,
    stack.queues.sendBulk,
    stack.queues.sesEvents,
  ],
  timeoutMs = 30_000,
): Promise<void> {
  let last: unknown;
  try {
    await eventually(
      async () => {
        const counts = await Promise.all(urls.map((url) => queueCounts(stack, url)));
        last = counts;
        return counts.every((c) => c.visible + c.inFlight + c.delayed === 0) ? true : undefined;
      },
      'the queues to drain',
      timeoutMs,
    );
  } catch {
    throw new Error(`the queues did not drain within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }
}

export async function queueDepth(stack: LocalStack, url: string): Promise<number> {
  const out = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * A working directory whose `.local/state.json` points at `stack`, as `npm start` writes it, for
 * running the operator CLIs against a test's stack without touching the project's own `.local`.
 * The pid is this test process, which is alive while the CLI runs.
 */
export function stateDir(stack: LocalStack): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroute-cli-'));
  mkdirSync(join(dir, '.local'));
  const { awsEndpoint, dynamodbEndpoint, tables, queues } = stack;
  writeFileSync(
    join(dir, '.local', 'state.json'),
    JSON.stringify({ pid: process.pid, awsEndpoint, dynamodbEndpoint, tables, queues }),
  );
  return dir;
}

/** Runs a CLI in bin/ (through tsx) with `cwd` as its working directory. */
export function runCli(script: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const root = join(import.meta.dirname, '..', '..');
  return execFileAsync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bin', script), ...args], {
    cwd,
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
  });
}
