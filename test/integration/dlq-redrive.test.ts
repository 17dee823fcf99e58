import { rmSync } from 'node:fs';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { redriveDlq } from '../../bin/dlq-redrive';
import type { LocalStack } from '../../bin/local-stack';
import { SendEmailBody, toQueuedEmail } from '../../functions/core/email';
import { DynamoMessageStore, documentClient } from '../../functions/store/dynamo';
import { toQueueBody } from '../../functions/store/sqs';
import { drained, inbox, queueDepth, runCli, stateDir, statusOf, useLocalStack } from '../support/local';
import { record } from '../support/records';

let stack: LocalStack;
useLocalStack((s) => {
  stack = s;
});

const EXHAUSTED = '11111111-0000-0000-0000-000000000001';
const AMBIGUOUS = '11111111-0000-0000-0000-000000000002';
const SENT = '11111111-0000-0000-0000-000000000003';

const store = () => new DynamoMessageStore(documentClient(stack.clients.dynamodb), stack.tables.messages);
const deps = () => ({
  sqs: stack.clients.sqs,
  messages: store(),
  queueUrl: stack.queues.send,
  dlqUrl: stack.queues.sendDlq,
});

/** The queue body of an email with this id and subject (as ingest enqueues it). */
const body = (id: string, subject: string) =>
  toQueueBody(
    toQueuedEmail(id, SendEmailBody.parse({ from: 'app@example.com', to: 'user@example.org', subject, text: 'x' })),
  );

const toDlq = (messageBody: string) =>
  stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.sendDlq, MessageBody: messageBody }));

/** An email recorded as `status`/`reason` whose queue message sits in the DLQ. */
async function inDlq(id: string, subject: string, status: 'failed' | 'sent', reason?: string) {
  await store().createMany([{ ...record(id, { subject }), status, ...(reason ? { reason } : {}) }]);
  await toDlq(body(id, subject));
}

/** Visible and in-flight messages of a queue. */
async function counts(url: string) {
  const out = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

const sentSubjects = async () => (await inbox(stack)).map((e) => e.subject).filter((s) => s.startsWith('redrive-'));

/** What a record looks like, minus what may not change in a dry run anyway. */
const snapshot = async (id: string) => {
  const r = await store().get(id);
  return r && { status: r.status, reason: r.reason, events: r.events, updatedAt: r.updatedAt };
};

describe('dlq:redrive', () => {
  it('moves an email whose retries ran out (sent once), drops ambiguous and finished ones, leaves foreign bodies', async () => {
    await inDlq(EXHAUSTED, 'redrive-exhausted', 'failed', 'retries exhausted (down: SES 503)');
    await inDlq(AMBIGUOUS, 'redrive-ambiguous', 'failed', 'ambiguous: socket hang up');
    await inDlq(SENT, 'redrive-sent', 'sent');
    await toDlq('not an email');
    const before = await Promise.all([EXHAUSTED, AMBIGUOUS, SENT].map(snapshot));

    // Dry run: the report of a real run, and the DLQ, the records and the send queue as they were.
    const dry = await redriveDlq(deps(), { dryRun: true });
    expect(dry.moved).toEqual([EXHAUSTED]);
    expect(dry.dropped.map((d) => d.id).sort()).toEqual([AMBIGUOUS, SENT]);
    expect(dry.dropped.find((d) => d.id === AMBIGUOUS)?.why).toMatch(/^failed: ambiguous/);
    expect(dry.left).toEqual([{ id: expect.any(String), why: 'not a mailroute email' }]);
    expect(dry.unreleased).toBe(0);
    expect(await counts(stack.queues.sendDlq)).toEqual({ visible: 4, inFlight: 0 });
    expect(await Promise.all([EXHAUSTED, AMBIGUOUS, SENT].map(snapshot))).toEqual(before);
    expect(await queueDepth(stack, stack.queues.send)).toBe(0);

    // A second dry run sees the same: nothing was held back by the first.
    const dryAgain = await redriveDlq(deps(), { dryRun: true });
    expect(dryAgain).toEqual(dry);
    expect(await counts(stack.queues.sendDlq)).toEqual({ visible: 4, inFlight: 0 });

    const run = await redriveDlq(deps());
    expect(run.moved).toEqual([EXHAUSTED]);
    expect(run.dropped.map((d) => d.id).sort()).toEqual([AMBIGUOUS, SENT]);
    expect(run.left).toHaveLength(1);
    // Only the body that is no email is still in the DLQ, visible for a person to look at.
    expect(await counts(stack.queues.sendDlq)).toEqual({ visible: 1, inFlight: 0 });

    const view = await statusOf(stack, EXHAUSTED, 'sent');
    const types: string[] = view.events.map((e: { type: string }) => e.type);
    expect(types).toContain('redriven');
    expect(types.indexOf('redriven')).toBeLessThan(types.indexOf('sent'));
    // The ambiguous and the sent record are untouched.
    expect(await snapshot(AMBIGUOUS)).toEqual(before[1]);
    expect(await snapshot(SENT)).toEqual(before[2]);
    expect(await sentSubjects()).toEqual(['redrive-exhausted']);
  });

  it('a copy of a redriven email that comes back to the DLQ is dropped, not sent twice', async () => {
    // As after a run that stopped between sending the message back and deleting its DLQ copy.
    await toDlq(body(EXHAUSTED, 'redrive-exhausted'));
    const again = await redriveDlq(deps());
    expect(again.moved).toEqual([]);
    expect(again.dropped).toEqual([{ id: EXHAUSTED, why: 'sent; not sent again' }]);
    expect(again.left).toHaveLength(1); // the foreign body from the first test
    await drained(stack); // a dispatcher has sent whatever was queued
    expect(await queueDepth(stack, stack.queues.send)).toBe(0);
    expect(await sentSubjects()).toEqual(['redrive-exhausted']);
  });

  it('npm run dlq:redrive finds the local stack; --dry-run changes nothing', async () => {
    const id = '11111111-0000-0000-0000-000000000004';
    await inDlq(id, 'redrive-cli', 'failed', 'retries exhausted (throttled: 429)');
    const cwd = stateDir(stack);
    try {
      const dry = await runCli('dlq-redrive.ts', ['--dry-run'], cwd);
      expect(dry.stdout).toMatch(/local stack .*\(dry run, nothing changed\): would move 1 message/);
      expect(dry.stdout).toContain(`would move ${id}`);
      expect(dry.stdout).toMatch(/left \S+ in the DLQ: not a mailroute email/);
      expect(await counts(stack.queues.sendDlq)).toEqual({ visible: 2, inFlight: 0 });
      expect((await store().get(id))?.status).toBe('failed');

      const real = await runCli('dlq-redrive.ts', [], cwd);
      expect(real.stdout).toMatch(/: moved 1 message/);
      await statusOf(stack, id, 'sent');
      expect((await sentSubjects()).sort()).toEqual(['redrive-cli', 'redrive-exhausted']);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('the CLI without a local stack asks the deployed one, and fails clearly when there is none', async () => {
    await expect(
      runCli('dlq-redrive.ts', ['--stack', 'NoSuchStackHere'], import.meta.dirname, {
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
      }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/dlq:redrive failed/) });
  });
});
