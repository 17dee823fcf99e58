/**
 * The SQS batch adapter: each plan carried out on the queue its record came from, an unknown
 * source failing only its record, and a settle on the last receive that is never swallowed.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { type ReceivedRecord, sqsBatch, UNSETTLED_REQUEUE_SECONDS } from '../../../functions/app/sqs-batch';
import { METRICS } from '../../../functions/core/metric-names';
import type { SendPlan } from '../../../functions/core/send-plan';
import { DispatchWorld, NOW, queuesByName, recordFrom } from '../../support/dispatch';
import { sqsEvent } from '../../support/events';
import { MemoryQueue, MemoryVisibility } from '../../support/fakes';

/** A logger and metrics that remember what they were given. */
function observed() {
  const errors: { message: string; extra: unknown }[] = [];
  const counted: string[] = [];
  const logger = new Logger({ serviceName: 'test' });
  vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
  vi.spyOn(logger, 'error').mockImplementation((message: unknown, ...extra: unknown[]) => {
    errors.push({ message: String(message), extra: extra[0] });
  });
  const metrics = new Metrics({ namespace: 'Test' });
  vi.spyOn(metrics, 'addMetric').mockImplementation((name: string) => {
    counted.push(name);
    return metrics;
  });
  return { errors, counted, logger, metrics };
}

/** Two queues feeding one adapter, whose step answers each email by its subject. */
function twoQueues(plans: Record<string, SendPlan>) {
  const world = new DispatchWorld();
  const bulk = { queue: new MemoryQueue(), visibility: new MemoryVisibility() };
  const obs = observed();
  const seen: string[] = [];
  let ended = 0;
  const handle = sqsBatch(
    {
      queues: queuesByName({ critical: world.route, bulk }),
      messages: world.messages,
      maxReceiveCount: 5,
      concurrency: 10,
      now: () => NOW,
      logger: obs.logger,
      metrics: obs.metrics,
    },
    async (records: readonly ReceivedRecord[]) => {
      seen.push(...records.map((r) => r.email.id));
      return {
        step: async (r) => {
          const plan = plans[r.email.subject];
          if (!plan) throw new Error(`no plan for ${r.email.subject}`);
          return plan;
        },
        end: async () => {
          ended += 1;
        },
      };
    },
  );
  return { world, bulk, obs, seen, handle, ended: () => ended };
}

describe('sqsBatch', () => {
  it('puts a waiting message back on the queue it came from, and retries each on its own queue', async () => {
    const t = twoQueues({
      wait: { kind: 'wait', seconds: 20, reason: 'full' },
      retry: { kind: 'retry', seconds: 40, reason: 'down' },
      done: { kind: 'done' },
    });
    const { world, bulk } = t;
    const res = await t.handle(
      sqsEvent(
        recordFrom('critical', world.queued('c1', { subject: 'wait' }), { messageId: 'c1' }),
        recordFrom('bulk', world.queued('b1', { subject: 'wait' }), { messageId: 'b1' }),
        recordFrom('bulk', world.queued('b2', { subject: 'retry' }), { messageId: 'b2' }),
        recordFrom('critical', world.queued('c2', { subject: 'done' }), { messageId: 'c2' }),
      ),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'b2' }]);
    expect(world.queue.sent.map((e) => [JSON.parse(e.body).id, e.delaySeconds])).toEqual([['c1', 20]]);
    expect(bulk.queue.sent.map((e) => [JSON.parse(e.body).id, e.delaySeconds])).toEqual([['b1', 20]]);
    expect(bulk.visibility.delays).toEqual([{ receiptHandle: 'rh-b2', seconds: 40 }]);
    expect(world.visibility.delays).toEqual([]);
    expect(t.ended()).toBe(1);
  });

  it('fails a record from a queue it does not know, and handles the rest', async () => {
    const t = twoQueues({ done: { kind: 'done' } });
    const { world } = t;
    const res = await t.handle(
      sqsEvent(
        recordFrom('elsewhere', world.queued('x1', { subject: 'done' }), { messageId: 'x1' }),
        recordFrom('critical', world.queued('c1', { subject: 'done' }), { messageId: 'c1' }),
      ),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'x1' }]);
    expect(t.seen).toEqual(['c1']);
    expect(t.obs.errors).toEqual([
      {
        message: 'message failed',
        extra: expect.objectContaining({ sqsMessageId: 'x1', reason: expect.stringMatching(/no queue is known/) }),
      },
    ]);
  });

  it('reports a `fail` plan failed, without a visibility change (it goes to the DLQ)', async () => {
    const t = twoQueues({ fail: { kind: 'fail', reason: 'retries exhausted (down: 503)' } });
    const res = await t.handle(
      sqsEvent(recordFrom('critical', t.world.queued('c1', { subject: 'fail' }), { messageId: 'c1' })),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'c1' }]);
    expect(t.world.visibility.delays).toEqual([]);
  });

  it('settles a message that errs on its last receive `failed`, never leaving it queued', async () => {
    const t = twoQueues({});
    const q = t.world.queued('c1', { subject: 'boom' });
    await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'c1', receiveCount: 5 })));
    expect(t.world.messages.items.get('c1')).toMatchObject({
      status: 'failed',
      reason: 'retries exhausted: no plan for boom',
    });
    expect(t.obs.counted).toEqual([METRICS.failed]);
  });

  it('logs at error level and counts a settle that fails on the last receive (never swallowed)', async () => {
    const t = twoQueues({});
    const q = t.world.queued('c1', { subject: 'boom' });
    t.world.messages.settleQueued = async () => Promise.reject(new Error('DynamoDB unavailable'));
    const res = await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'c1', receiveCount: 5 })));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'c1' }]);
    expect(t.obs.counted).toEqual([METRICS.settleFailures]);
    expect(t.obs.errors.map((e) => e.message)).toContain(
      'message record not settled on its last receive; its message goes to the dead-letter queue',
    );
    expect(t.obs.errors.find((e) => e.message.startsWith('message record not settled'))?.extra).toMatchObject({
      messageId: 'c1',
      reason: expect.stringMatching(/DynamoDB unavailable/),
    });
  });

  it('counts a record a failed write left `sending` on the last receive', async () => {
    const t = twoQueues({});
    const q = t.world.queued('c1', { subject: 'boom' });
    await t.world.messages.claim('c1', 'ours', NOW);
    await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'c1', receiveCount: 5 })));
    expect(t.obs.counted).toEqual([METRICS.settleFailures]);
    expect(t.obs.errors.find((e) => e.message.startsWith('message record not settled'))?.extra).toMatchObject({
      reason: expect.stringMatching(/^left sending/),
    });
  });

  it('does not count a record that is final already', async () => {
    const t = twoQueues({});
    const q = t.world.queued('c1', { subject: 'boom' });
    const r = t.world.messages.items.get('c1');
    if (r) r.status = 'sent';
    await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'c1', receiveCount: 5 })));
    expect(t.obs.counted).toEqual([]);
  });
});

describe('sqsBatch: moving a message it gives up on to the dead-letter queue at once', () => {
  /** One queue with a DLQ feeding an adapter whose step answers each email by its subject. */
  function withDlq(plans: Record<string, SendPlan>) {
    const world = new DispatchWorld();
    const dlq = new MemoryQueue();
    const route = { queue: world.queue, visibility: world.visibility, deadLetter: dlq };
    const obs = observed();
    const handle = sqsBatch(
      {
        queues: queuesByName({ critical: route }),
        messages: world.messages,
        maxReceiveCount: 5,
        concurrency: 10,
        now: () => NOW,
        logger: obs.logger,
        metrics: obs.metrics,
      },
      async () => ({
        step: async (r) => {
          const plan = plans[r.email.subject];
          if (!plan) throw new Error(`no plan for ${r.email.subject}`);
          return plan;
        },
        end: async () => undefined,
      }),
    );
    return { world, dlq, obs, handle };
  }
  const dlqIds = (dlq: MemoryQueue) => dlq.sent.map((e) => e.id);

  it('sends a `fail` (its record is `failed`) to the DLQ with its body, then acknowledges it', async () => {
    const t = withDlq({ fail: { kind: 'fail', reason: 'retries exhausted (down: 503)' }, done: { kind: 'done' } });
    const q = t.world.queued('c1', { subject: 'fail' });
    const rec = recordFrom('critical', q, { messageId: 'm1', receiveCount: 5 });
    const res = await t.handle(
      sqsEvent(rec, recordFrom('critical', t.world.queued('c2', { subject: 'done' }), { messageId: 'm2' })),
    );
    // Acknowledged (not a batch item failure): SQS deletes it now, and its copy is in the DLQ.
    expect(res.batchItemFailures).toEqual([]);
    expect(t.dlq.sent).toEqual([{ id: 'm1', body: rec.body }]);
    expect(t.world.visibility.delays).toEqual([]);
    expect(t.world.queue.sent).toEqual([]);
  });

  it('moves a message that errs on its last receive once its record is settled `failed`', async () => {
    const t = withDlq({});
    const q = t.world.queued('c1', { subject: 'boom' });
    const res = await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'm1', receiveCount: 5 })));
    expect(t.world.messages.items.get('c1')).toMatchObject({ status: 'failed' });
    expect(res.batchItemFailures).toEqual([]);
    expect(dlqIds(t.dlq)).toEqual(['m1']);
  });

  it('leaves an error before the last receive to SQS (retried, not moved)', async () => {
    const t = withDlq({});
    const q = t.world.queued('c1', { subject: 'boom' });
    const res = await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'm1', receiveCount: 4 })));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(t.dlq.sent).toEqual([]);
    expect(t.world.messages.items.get('c1')?.status).toBe('queued');
  });

  it('moves an unreadable record on its last receive only', async () => {
    const t = withDlq({});
    const res = await t.handle(
      sqsEvent(
        recordFrom('critical', 'not an email', { messageId: 'early', receiveCount: 1 }),
        recordFrom('critical', 'not an email', { messageId: 'last', receiveCount: 5 }),
      ),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'early' }]);
    expect(t.dlq.sent).toEqual([{ id: 'last', body: 'not an email' }]);
  });

  it('retries a settle that fails on the last receive, and moves the message once it is settled', async () => {
    const t = withDlq({});
    const q = t.world.queued('c1', { subject: 'boom' });
    const settle = t.world.messages.settleQueued.bind(t.world.messages);
    let calls = 0;
    t.world.messages.settleQueued = async (...args) => {
      calls += 1;
      if (calls < 3) throw new Error('ProvisionedThroughputExceededException');
      return settle(...args);
    };
    const res = await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'm1', receiveCount: 5 })));
    expect(calls).toBe(3);
    expect(t.world.messages.items.get('c1')).toMatchObject({ status: 'failed' });
    expect(res.batchItemFailures).toEqual([]);
    expect(dlqIds(t.dlq)).toEqual(['m1']);
    expect(t.obs.counted).toEqual([METRICS.failed]);
  });

  it('never moves a message behind a record it could not settle: queued again, counted and logged with its id', async () => {
    const t = withDlq({});
    const q = t.world.queued('c1', { subject: 'boom' });
    t.world.messages.settleQueued = async () => Promise.reject(new Error('DynamoDB unavailable'));
    const rec = recordFrom('critical', q, { messageId: 'm1', receiveCount: 5 });
    const res = await t.handle(sqsEvent(rec));
    // Not in the DLQ while its record says `queued`: a fresh copy waits on its queue for a later receive.
    expect(t.dlq.sent).toEqual([]);
    expect(t.world.queue.sent).toEqual([{ id: 'm1', body: rec.body, delaySeconds: UNSETTLED_REQUEUE_SECONDS }]);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.world.messages.items.get('c1')?.status).toBe('queued');
    expect(t.obs.counted).toEqual([METRICS.settleFailures]);
    expect(t.obs.errors.find((e) => e.message.startsWith('message record not settled'))).toEqual({
      message: 'message record not settled on its last receive; its message is queued again for a later receive',
      extra: expect.objectContaining({
        messageId: 'c1',
        sqsMessageId: 'm1',
        reason: expect.stringMatching(/DynamoDB unavailable/),
      }),
    });
  });

  it('queues again a message whose record a failed write left `sending` (a later receive settles it)', async () => {
    const t = withDlq({});
    const q = t.world.queued('c1', { subject: 'boom' });
    await t.world.messages.claim('c1', 'ours', NOW);
    const res = await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'm1', receiveCount: 5 })));
    expect(t.dlq.sent).toEqual([]);
    expect(t.world.queue.sent.map((e) => e.id)).toEqual(['m1']);
    expect(res.batchItemFailures).toEqual([]);
    expect(t.obs.counted).toEqual([METRICS.settleFailures]);
  });

  it('keeps an unsettled message reported failed when its copy cannot be queued again, and says so', async () => {
    const t = withDlq({});
    const q = t.world.queued('c1', { subject: 'boom' });
    t.world.messages.settleQueued = async () => Promise.reject(new Error('DynamoDB unavailable'));
    t.world.queue.failAll = true;
    const res = await t.handle(sqsEvent(recordFrom('critical', q, { messageId: 'm1', receiveCount: 5 })));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(t.dlq.sent).toEqual([]);
    expect(t.obs.counted).toEqual([METRICS.settleFailures]);
    expect(t.obs.errors.map((e) => e.message)).toContain(
      'could not queue again a message whose record is not settled; SQS moves it to the DLQ',
    );
  });

  it('keeps a message reported failed when its copy cannot be sent (never lost: SQS moves it later)', async () => {
    const plans: Record<string, SendPlan> = { fail: { kind: 'fail', reason: 'retries exhausted (down: 503)' } };
    const t = withDlq(plans);
    t.dlq.failIds.add('m1');
    const res = await t.handle(
      sqsEvent(
        recordFrom('critical', t.world.queued('c1', { subject: 'fail' }), { messageId: 'm1', receiveCount: 5 }),
        recordFrom('critical', t.world.queued('c2', { subject: 'fail' }), { messageId: 'm2', receiveCount: 5 }),
      ),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(dlqIds(t.dlq)).toEqual(['m2']);

    const down = withDlq(plans);
    down.dlq.send = async () => Promise.reject(new Error('SQS unavailable'));
    const res2 = await down.handle(
      sqsEvent(
        recordFrom('critical', down.world.queued('c1', { subject: 'fail' }), { messageId: 'm1', receiveCount: 5 }),
      ),
    );
    expect(res2.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });
});
