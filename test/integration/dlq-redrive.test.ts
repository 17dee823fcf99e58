import { rmSync } from 'node:fs';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { describe, expect, it, onTestFinished } from 'vitest';
import { redriveDlq } from '../../bin/dlq-redrive';
import { toSqsEvent } from '../../bin/local/event-sources';
import { fakeContext } from '../../bin/local/lambda';
import { boundResources, deployableProviders, localDeployment } from '../../bin/local/wiring';
import type { LocalStack } from '../../bin/local-stack';
import { createDispatchHandler } from '../../functions/app/dispatch';
import { dispatchConfig } from '../../functions/config';
import { SendEmailBody, toQueuedEmail } from '../../functions/core/email';
import { dispatchDeps } from '../../functions/handlers/wiring';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoMessageStore } from '../../functions/store/message-store';
import { StaticSigningKeys } from '../../functions/store/secrets';
import { toQueueBody } from '../../functions/store/sqs';
import { QUEUES } from '../../lib/resources';
import { functionEnvironment, paramsFor } from '../../lib/spec';
import { drained, inbox, queueDepth, runCli, stateDir, statusOf, useLocalStack } from '../support/local';
import { record } from '../support/records';
import { startRelay } from '../support/relay';

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
      expect(await store().get(id)).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^retries exhausted/),
      });

      const real = await runCli('dlq-redrive.ts', [], cwd);
      expect(real.stdout).toMatch(/: moved 1 message/);
      await statusOf(stack, id, 'sent');
      expect((await sentSubjects()).sort()).toEqual(['redrive-cli', 'redrive-exhausted']);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('covers every send DLQ; --queue bulk moves only the bulk DLQ, back to the bulk queue', async () => {
    const bulkId = '11111111-0000-0000-0000-000000000006';
    const criticalId = '11111111-0000-0000-0000-000000000007';
    await store().createMany([
      { ...record(bulkId, { subject: 'redrive-bulk' }), status: 'failed', reason: 'retries exhausted (down: 503)' },
      {
        ...record(criticalId, { subject: 'redrive-critical' }),
        status: 'failed',
        reason: 'retries exhausted (down: 503)',
      },
    ]);
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queues.sendBulkDlq, MessageBody: body(bulkId, 'redrive-bulk') }),
    );
    await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.sendCriticalDlq,
        MessageBody: body(criticalId, 'redrive-critical'),
      }),
    );
    const cwd = stateDir(stack);
    try {
      const dry = await runCli('dlq-redrive.ts', ['--dry-run'], cwd);
      expect(dry.stdout).toMatch(/would move 1 message\(s\) back to the critical send queue/);
      expect(dry.stdout).toMatch(/would move 1 message\(s\) back to the bulk send queue/);

      const bulk = await runCli('dlq-redrive.ts', ['--queue', 'bulk'], cwd);
      expect(bulk.stdout).toMatch(/moved 1 message\(s\) back to the bulk send queue/);
      expect(bulk.stdout).not.toMatch(/critical/);
      await statusOf(stack, bulkId, 'sent');
      expect(await counts(stack.queues.sendBulkDlq)).toEqual({ visible: 0, inFlight: 0 });
      expect(await counts(stack.queues.sendCriticalDlq)).toEqual({ visible: 1, inFlight: 0 });
      expect(await store().get(criticalId)).toMatchObject({ status: 'failed' });

      const critical = await redriveDlq({
        ...deps(),
        queueUrl: stack.queues.sendCritical,
        dlqUrl: stack.queues.sendCriticalDlq,
      });
      expect(critical.moved).toEqual([criticalId]);
      await statusOf(stack, criticalId, 'sent');

      await expect(runCli('dlq-redrive.ts', ['--queue', 'newsletters'], cwd)).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--queue must be one of all, critical, transactional, bulk'),
      });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    // Three runs of the CLI (each starts tsx): longer than the default on a loaded machine.
  }, 180_000);

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

describe('the dispatcher moves a message it gives up on to the DLQ itself', () => {
  const VISIBILITY_SECONDS = 600;

  /** A send queue and its DLQ of their own (no poller reads them), as the spec sets them up. */
  async function queuePair(name: string) {
    const sqs = stack.clients.sqs;
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn as string;
    const url = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(VISIBILITY_SECONDS),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: QUEUES.send.maxReceiveCount,
            }),
          },
        }),
      )
    ).QueueUrl as string;
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn as string;
    return { url, arn, dlqUrl };
  }

  it('after the last failure the message is in the DLQ at once, so dlq:redrive finds it right away', async () => {
    const id = '11111111-0000-0000-0000-000000000005';
    const pair = await queuePair('dlq-move');
    // The dispatch function as the spec builds its environment (QUEUE_SEND_DLQ_URL included), on
    // these queues, with one provider that is down (HTTP 500 to every request).
    const relay = await startRelay();
    onTestFinished(() => relay.close());
    relay.behave('error');
    const { providers, secrets } = deployableProviders({
      providers: [{ id: 'down', type: 'http', url: relay.url, token: 'relay-token-0123456789' }],
      chain: ['down'],
    });
    const env = functionEnvironment('dispatch', paramsFor('dispatch', localDeployment(stack.apiUrl, providers)), {
      ...boundResources({
        tables: stack.tables,
        queues: {
          send: pair,
          sendCritical: { url: stack.queues.sendCritical, arn: '', dlqUrl: stack.queues.sendCriticalDlq },
          sendBulk: { url: stack.queues.sendBulk, arn: '', dlqUrl: stack.queues.sendBulkDlq },
          sesEvents: { url: stack.queues.sesEvents, arn: '', dlqUrl: stack.queues.sesEventsDlq },
          webhookEvents: { url: stack.queues.webhookEvents, arn: '', dlqUrl: stack.queues.webhookEventsDlq },
          webhookRetries: { url: stack.queues.webhookRetries, arn: '', dlqUrl: stack.queues.webhookRetriesDlq },
          audienceJobs: { url: stack.queues.audienceJobs, arn: '', dlqUrl: stack.queues.audienceJobsDlq },
        },
        sesEventsTopicArn: stack.sesEventsTopicArn,
        buckets: stack.buckets,
      }),
    });
    const config = dispatchConfig(env);
    expect(config.sendDeadLetterQueueUrl).toBe(pair.dlqUrl);
    const dispatch = createDispatchHandler(
      dispatchDeps(
        config,
        { ...stack.clients, signingKeys: new StaticSigningKeys(stack.keyring) },
        { secret: async (name) => secrets.get(name) ?? '' },
      ),
    );

    await store().createMany([record(id, { subject: 'redrive-moved' })]);
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: pair.url, MessageBody: body(id, 'redrive-moved') }),
    );
    const receive = async (visibility: number): Promise<Message> => {
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pair.url,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          VisibilityTimeout: visibility,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const [m] = out.Messages ?? [];
      if (!m) throw new Error('no message on the queue');
      return m;
    };
    // Receives 1 to 4 used up (as failed attempts would), then the last one, with the queue's
    // visibility timeout, goes to the dispatcher, as the event source mapping hands it over.
    for (let i = 0; i < QUEUES.send.maxReceiveCount - 1; i++) await receive(0);
    const last = await receive(VISIBILITY_SECONDS);
    expect(last.Attributes?.ApproximateReceiveCount).toBe(String(QUEUES.send.maxReceiveCount));
    const res = (await dispatch(toSqsEvent([last], pair.arn), fakeContext('dispatch', 60))) as SQSBatchResponse;

    // The record says failed, and the message is acknowledged (the mapping deletes it) with its
    // copy already in the DLQ: no visibility timeout to wait out.
    expect(await store().get(id)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^retries exhausted/),
    });
    expect(res.batchItemFailures).toEqual([]);
    await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: pair.url, ReceiptHandle: last.ReceiptHandle }));
    expect(await counts(pair.dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(await counts(pair.url)).toEqual({ visible: 0, inFlight: 0 });

    // dlq:redrive right after finds it and moves it back (to the stack's send queue, whose
    // dispatcher sends it through the local SES).
    const run = await redriveDlq({ ...deps(), dlqUrl: pair.dlqUrl });
    expect(run.moved).toEqual([id]);
    await statusOf(stack, id, 'sent');
  });
});
