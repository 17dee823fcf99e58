/**
 * The SendQueue contract: the same cases against the in-memory fake and the SQS adapter on fauxqs
 * (every entry enqueued once, delays kept, entries SQS cannot take reported by id).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueEntry, SendQueue } from '../../../functions/ports';
import { SQS_MAX_BYTES, SqsSendQueue } from '../../../functions/store/sqs';
import { MemoryQueue } from '../../support/fakes';

let sqs: SQSClient;
let stop: (() => Promise<void>) | undefined;
beforeAll(async () => {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  stop = () => server.stop();
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${server.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sqs?.destroy();
  await stop?.();
});

/** A queue implementation and what ended up on it: bodies ready now, and how many are delayed. */
interface Subject {
  readonly queue: SendQueue;
  onQueue(): Promise<{ ready: string[]; delayed: number }>;
}

function fake(): Subject {
  const queue = new MemoryQueue();
  return {
    queue,
    onQueue: async () => ({
      ready: queue.sent.filter((e) => !e.delaySeconds).map((e) => e.body),
      delayed: queue.sent.filter((e) => e.delaySeconds).length,
    }),
  };
}

async function real(): Promise<Subject> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `contract-${randomUUID()}` }));
  const url = QueueUrl as string;
  return {
    queue: new SqsSendQueue(sqs, url),
    onQueue: async () => {
      const ready: string[] = [];
      for (;;) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
        const messages = out.Messages ?? [];
        if (messages.length === 0) break;
        ready.push(...messages.map((m) => m.Body ?? ''));
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }),
      );
      return { ready, delayed: Number(attrs.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0) };
    },
  };
}

const entries = (n: number, over: Partial<QueueEntry> = {}): QueueEntry[] =>
  Array.from({ length: n }, () => {
    const id = randomUUID();
    return { id, body: JSON.stringify({ id, pad: 'x'.repeat(100) }), ...over };
  });

describe.each([
  ['the fake', async () => fake()],
  ['SQS', real],
] as const)('SendQueue contract: %s', (_name, make) => {
  it('enqueues every entry once, over more than one batch request, and reports no failure', async () => {
    const s = await make();
    const sent = entries(25);
    expect(await s.queue.send(sent)).toEqual([]);
    const { ready, delayed } = await s.onQueue();
    expect(ready.sort()).toEqual(sent.map((e) => e.body).sort());
    expect(delayed).toBe(0);
  });

  it('keeps each entry its delay', async () => {
    const s = await make();
    const now = entries(3);
    const later = entries(4, { delaySeconds: 900 });
    expect(await s.queue.send([...later.slice(0, 2), ...now, ...later.slice(2)])).toEqual([]);
    const { ready, delayed } = await s.onQueue();
    expect(ready.sort()).toEqual(now.map((e) => e.body).sort());
    expect(delayed).toBe(4);
  });

  it('takes ids SQS would not take as batch entry ids', async () => {
    const s = await make();
    const odd = [
      { id: 'a.b/c:d', body: 'one' },
      { id: `${'z'.repeat(90)}#1`, body: 'two' },
    ];
    expect(await s.queue.send(odd)).toEqual([]);
    expect((await s.onQueue()).ready.sort()).toEqual(['one', 'two']);
  });

  it('takes ids that would clash once made into batch entry ids', async () => {
    const s = await make();
    expect(
      await s.queue.send([
        { id: 'a.b/c:d', body: 'one' },
        { id: 'a_b_c_d', body: 'two' },
      ]),
    ).toEqual([]);
    expect((await s.onQueue()).ready.sort()).toEqual(['one', 'two']);
  });

  it('returns a body over the SQS limit as failed and still enqueues the others', async () => {
    const s = await make();
    const ok = { id: randomUUID(), body: 'ok' };
    const tooBig = { id: randomUUID(), body: 'x'.repeat(SQS_MAX_BYTES + 1) };
    expect(await s.queue.send([ok, tooBig])).toEqual([tooBig.id]);
    expect((await s.onQueue()).ready).toEqual(['ok']);
  });

  it('sends nothing for no entries', async () => {
    const s = await make();
    expect(await s.queue.send([])).toEqual([]);
    expect(await s.onQueue()).toEqual({ ready: [], delayed: 0 });
  });

  it('a body at the SQS limit is enqueued', async () => {
    const s = await make();
    const big = { id: randomUUID(), body: 'x'.repeat(SQS_MAX_BYTES) };
    expect(await s.queue.send([big])).toEqual([]);
    expect((await s.onQueue()).ready).toEqual([big.body]);
  });
});
