import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redriveDlq, redriveTargets } from '../../../bin/dlq-redrive';
import { SendEmailBody, toQueuedEmail } from '../../../functions/core/email';
import type { Status } from '../../../functions/core/message';
import { toQueueBody } from '../../../functions/store/sqs';
import { MemoryMessageStore } from '../../support/fakes';
import { record } from '../../support/records';

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

const DLQ = 'http://sqs/dlq';
const QUEUE = 'http://sqs/send';
const id = (n: number) => `22222222-0000-0000-0000-00000000000${n}`;

let store: MemoryMessageStore;
beforeEach(() => {
  store = new MemoryMessageStore();
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});

function recorded(n: number, status: Status, reason?: string) {
  store.items.set(id(n), { ...record(id(n)), status, ...(reason ? { reason } : {}) });
}

/** A DLQ message as ingest enqueued it; the receipt handle names the receive it came from. */
const message = (n: number, receive = 1): Message => ({
  MessageId: `m${n}`,
  ReceiptHandle: `m${n}-r${receive}`,
  Body: toQueueBody(
    toQueuedEmail(
      id(n),
      SendEmailBody.parse({ from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'x' }),
    ),
  ),
});

/** The DLQ hands out these batches, then nothing. */
function dlq(...batches: Message[][]) {
  const receive = sqs.on(ReceiveMessageCommand);
  for (const b of batches) receive.resolvesOnce({ Messages: b });
  receive.resolves({});
}

const released = () =>
  sqs
    .commandCalls(ChangeMessageVisibilityBatchCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((e) => {
      expect(e.VisibilityTimeout).toBe(0);
      return e.ReceiptHandle;
    })
    .sort();
const deleted = () =>
  sqs
    .commandCalls(DeleteMessageCommand)
    .map((c) => c.args[0].input.ReceiptHandle)
    .sort();
const deps = () => ({ sqs: new SQSClient({ region: 'us-east-1' }), messages: store, queueUrl: QUEUE, dlqUrl: DLQ });

describe('redriveDlq', () => {
  beforeEach(() => {
    recorded(1, 'failed', 'retries exhausted (down: SES 503)');
    recorded(2, 'failed', 'ambiguous: socket hang up');
    recorded(3, 'sending');
    recorded(4, 'queued');
    recorded(5, 'delivered');
  });
  const all = () =>
    [1, 2, 3, 4, 5, 6].map((n) => message(n)).concat({ MessageId: 'x', ReceiptHandle: 'x-r1', Body: '{' });

  it('a dry run decides as a real run would, changes nothing and releases every message it read', async () => {
    dlq(all());
    const report = await redriveDlq(deps(), { dryRun: true });
    expect(report).toEqual({
      moved: [id(1), id(4)],
      dropped: [
        { id: id(2), why: 'failed: ambiguous: socket hang up; not sent again' },
        { id: id(5), why: 'delivered; not sent again' },
        { id: id(6), why: 'no record (never accepted, or expired)' },
      ],
      left: [
        { id: id(3), why: 'sending: claimed by a dispatcher, no result yet' },
        { id: 'x', why: 'not a mailroute email' },
      ],
      unreleased: 0,
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(deleted()).toEqual([]);
    expect(store.items.get(id(1))?.status).toBe('failed');
    expect(released()).toEqual(
      all()
        .map((m) => m.ReceiptHandle)
        .sort(),
    );
    // Every receive holds what it reads (never visibility 0), so nothing is read twice in one run.
    for (const c of sqs.commandCalls(ReceiveMessageCommand)) expect(c.args[0].input.VisibilityTimeout).toBe(300);
  });

  it('requeues the record before sending the message back, deletes what it moved or dropped, keeps the rest', async () => {
    dlq(all());
    sqs.on(SendMessageCommand).callsFake((input) => {
      // The dispatcher may receive the message at once: its record must already be queued.
      const sentId = JSON.parse(input.MessageBody).id;
      expect(store.items.get(sentId)?.status).toBe('queued');
      return {};
    });
    const report = await redriveDlq(deps(), { now: () => new Date('2026-11-22T12:00:00Z') });
    expect(report.moved).toEqual([id(1), id(4)]);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE, MessageBody: message(1).Body },
      { QueueUrl: QUEUE, MessageBody: message(4).Body },
    ]);
    expect(store.items.get(id(1))?.events.at(-1)).toEqual({ type: 'redriven', at: '2026-11-22T12:00:00.000Z' });
    expect(deleted()).toEqual(['m1-r1', 'm2-r1', 'm4-r1', 'm5-r1', 'm6-r1']);
    expect(released()).toEqual(['m3-r1', 'x-r1']);
    expect(store.items.get(id(2))?.status).toBe('failed'); // ambiguous: never requeued
  });

  it('moves one copy of an email; a second copy in the same run is dropped', async () => {
    dlq([message(1), { ...message(1), MessageId: 'm1-copy', ReceiptHandle: 'm1-copy-r1' }]);
    const report = await redriveDlq(deps());
    expect(report.moved).toEqual([id(1)]);
    expect(report.dropped).toEqual([{ id: id(1), why: 'another copy of this email was moved back in this run' }]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
  });

  it('a message read again (the run outlived its hold) is decided once and released with its newest handle', async () => {
    dlq([message(3), message(1)], [message(3, 2)]);
    const report = await redriveDlq(deps(), { dryRun: true });
    expect(report.left.map((l) => l.id)).toEqual([id(3)]);
    expect(report.moved).toEqual([id(1)]);
    expect(released()).toEqual(['m1-r1', 'm3-r2']);
  });

  it('leaves a message whose record changed after it was read', async () => {
    dlq([message(1)]);
    vi.spyOn(store, 'requeueFailed').mockResolvedValue(false);
    const report = await redriveDlq(deps());
    expect(report.left).toEqual([{ id: id(1), why: 'record changed since it was read; run again' }]);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(released()).toEqual(['m1-r1']);
  });

  it('when a send fails, what it held is still released (the record, queued, is moved by the next run)', async () => {
    dlq([message(3), message(1)]);
    sqs.on(SendMessageCommand).rejects(new Error('SQS unavailable'));
    await expect(redriveDlq(deps())).rejects.toThrow('SQS unavailable');
    expect(released()).toEqual(['m1-r1', 'm3-r1']);
    expect(store.items.get(id(1))?.status).toBe('queued');
  });

  it('counts messages it could not release', async () => {
    dlq([message(3), message(2)]);
    sqs
      .on(ChangeMessageVisibilityBatchCommand)
      .resolves({ Failed: [{ Id: '0', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] });
    expect((await redriveDlq(deps(), { dryRun: true })).unreleased).toBe(1);
  });

  it('stops when aborted (Ctrl-C) and still releases everything it read', async () => {
    const abort = new AbortController();
    dlq([message(3), message(1)], [message(4)]);
    const get = store.get.bind(store);
    vi.spyOn(store, 'get').mockImplementation(async (x) => {
      abort.abort(); // during the first message
      return get(x);
    });
    const report = await redriveDlq(deps(), { signal: abort.signal });
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    expect(report.left.map((l) => l.id)).toEqual([id(3)]);
    expect(report.moved).toEqual([]);
    expect(released()).toEqual(['m1-r1', 'm3-r1']);
  });
});

describe('redriveTargets', () => {
  const queues = {
    send: 'tx',
    sendDlq: 'tx-dlq',
    sendCritical: 'critical',
    sendCriticalDlq: 'critical-dlq',
    sendBulk: 'bulk',
    sendBulkDlq: 'bulk-dlq',
  };

  it('covers every send DLQ by default, critical first, each back to the queue it came from', () => {
    expect(redriveTargets(queues)).toEqual([
      { priority: 'critical', queueUrl: 'critical', dlqUrl: 'critical-dlq' },
      { priority: 'transactional', queueUrl: 'tx', dlqUrl: 'tx-dlq' },
      { priority: 'bulk', queueUrl: 'bulk', dlqUrl: 'bulk-dlq' },
    ]);
    expect(redriveTargets(queues, 'all')).toEqual(redriveTargets(queues));
  });

  it('covers one priority with --queue', () => {
    expect(redriveTargets(queues, 'bulk')).toEqual([{ priority: 'bulk', queueUrl: 'bulk', dlqUrl: 'bulk-dlq' }]);
    expect(redriveTargets(queues, 'transactional')).toEqual([
      { priority: 'transactional', queueUrl: 'tx', dlqUrl: 'tx-dlq' },
    ]);
  });

  it('refuses an unknown --queue, naming the choices', () => {
    expect(() => redriveTargets(queues, 'send')).toThrow(
      '--queue must be one of all, critical, transactional, bulk (got "send")',
    );
  });
});
