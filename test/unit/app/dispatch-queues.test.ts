/**
 * One dispatcher fed by the three priority queues: each record is judged by its own queue's
 * maxReceiveCount, moved to its own queue's DLQ, and a waiting message goes back on its own queue.
 */
import { describe, expect, it } from 'vitest';
import type { QueueRoute } from '../../../functions/app/dispatch';
import { DispatchWorld, dispatcher, queuesByName, recordFrom, runRecords } from '../../support/dispatch';
import { MemoryQueue, MemoryVisibility, ScriptedProvider } from '../../support/fakes';

/** A route per priority queue, each with its DLQ and its own maxReceiveCount. */
function priorityQueues(counts: { critical: number; transactional: number; bulk: number }) {
  const route = (maxReceiveCount: number) => ({
    queue: new MemoryQueue(),
    visibility: new MemoryVisibility(),
    deadLetter: new MemoryQueue(),
    maxReceiveCount,
  });
  const routes = {
    critical: route(counts.critical),
    transactional: route(counts.transactional),
    bulk: route(counts.bulk),
  } satisfies Record<string, QueueRoute>;
  return { routes, queues: queuesByName(routes) };
}

const down = () => new ScriptedProvider(() => ({ kind: 'down', reason: '503' }));

describe("the dispatcher with a queue per priority (each queue's own maxReceiveCount and DLQ)", () => {
  it("ends a message `failed` on its own queue's last receive, and moves it to that queue's DLQ", async () => {
    const world = new DispatchWorld();
    const { routes, queues } = priorityQueues({ critical: 2, transactional: 5, bulk: 8 });
    const { handler } = dispatcher(world, down(), { queues });
    const res = await runRecords(
      handler,
      recordFrom('critical', world.queued('c', { priority: 'critical' }), { messageId: 'mc', receiveCount: 2 }),
      recordFrom('bulk', world.queued('b', { category: 'news' }), { messageId: 'mb', receiveCount: 2 }),
    );
    // Critical: receive 2 of 2 is its last: failed, and in the critical DLQ at once.
    expect(world.messages.items.get('c')).toMatchObject({ status: 'failed' });
    expect(routes.critical.deadLetter.sent.map((e) => e.id)).toEqual(['mc']);
    // Bulk: receive 2 of 8 is not: retried later on its own queue (visibility), in no DLQ.
    expect(world.messages.items.get('b')).toMatchObject({ status: 'queued' });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'mb' }]);
    expect(routes.bulk.visibility.delays).toHaveLength(1);
    expect(routes.critical.visibility.delays).toEqual([]);
    expect(routes.bulk.deadLetter.sent).toEqual([]);
    expect(routes.transactional.deadLetter.sent).toEqual([]);
  });

  it("moves an unreadable record to its own queue's DLQ on that queue's last receive", async () => {
    const world = new DispatchWorld();
    const { routes, queues } = priorityQueues({ critical: 5, transactional: 5, bulk: 3 });
    const { handler } = dispatcher(world, down(), { queues });
    const res = await runRecords(
      handler,
      recordFrom('bulk', 'not an email', { messageId: 'bulk-last', receiveCount: 3 }),
      recordFrom('transactional', 'not an email', { messageId: 'tx-early', receiveCount: 3 }),
    );
    expect(routes.bulk.deadLetter.sent.map((e) => e.id)).toEqual(['bulk-last']);
    expect(routes.transactional.deadLetter.sent).toEqual([]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'tx-early' }]);
  });

  it('puts a message waiting for capacity back on the queue it came from (a delayed copy there)', async () => {
    const world = new DispatchWorld();
    const { routes, queues } = priorityQueues({ critical: 5, transactional: 5, bulk: 5 });
    // One send a minute: the first email takes it, the others wait.
    const { handler } = dispatcher(world, new ScriptedProvider(), {
      queues,
      limits: { ses: [{ limit: 1, windowSeconds: 60 }] },
    });
    await runRecords(handler, recordFrom('critical', world.queued('c', { priority: 'critical' }), { messageId: 'mc' }));
    const res = await runRecords(
      handler,
      recordFrom('bulk', world.queued('b', { category: 'news' }), { messageId: 'mb' }),
      recordFrom('transactional', world.queued('t'), { messageId: 'mt' }),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(routes.bulk.queue.sent.map((e) => e.id)).toEqual(['mb']);
    expect(routes.transactional.queue.sent.map((e) => e.id)).toEqual(['mt']);
    expect(routes.critical.queue.sent).toEqual([]);
    expect(routes.bulk.queue.sent[0]?.delaySeconds).toBeGreaterThan(0);
  });
});
