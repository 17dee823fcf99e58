import { describe, expect, it } from 'vitest';
import { logger } from '../../../functions/app/observability';
import { createWebhooksHandler } from '../../../functions/app/webhooks';
import { type EventCounts, NO_EVENT_COUNTS } from '../../../functions/core/broadcast';
import { BROADCAST_METRICS } from '../../../functions/core/metric-names';
import { type QueuedEvent, queuedEvent } from '../../../functions/core/webhook-events';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { MemoryBroadcastStore } from '../../support/broadcast-fakes';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { record } from '../../support/records';
import { FakeSender, MemoryWebhookDeliveries, MemoryWebhookEndpoints } from '../../support/webhook-fakes';

const ring = { current: 'k1', keys: { k1: 'webhook-test-key-0123456789abcdef0123' } };

async function world() {
  const messages = new MemoryMessageStore();
  const broadcasts = new MemoryBroadcastStore();
  const emitted: [string, number][] = [];
  await messages.createMany([
    {
      ...record('b-one', { tags: { broadcast: 'brd_a' } }),
      firstOpenAt: '2026-11-29T10:00:01.000Z',
      firstClickAt: '2026-11-29T10:00:05.000Z',
    },
    record('b-two', { tags: { broadcast: 'brd_a' } }),
    record('b-three', { tags: { broadcast: 'brd_b' } }),
    // Not a broadcast email (its id is not derived), whatever its tags say: never read, never counted.
    record('m-plain', { tags: { broadcast: 'brd_a' } }),
  ]);
  const reads: string[] = [];
  const get = messages.get.bind(messages);
  messages.get = async (id) => {
    reads.push(id);
    return get(id);
  };
  const handler = createWebhooksHandler({
    endpoints: new MemoryWebhookEndpoints(),
    deliveries: new MemoryWebhookDeliveries(),
    messages,
    sender: new FakeSender(),
    retries: new MemoryQueue(),
    keys: new StaticSigningKeys(ring),
    policy: { schedule: [5], failureLimit: 3, failingHours: 1, retentionDays: 30 },
    cacheMs: 0,
    broadcastCounts: broadcasts,
    metrics: {
      addMetric: (name: string, _unit: string, n: number) => emitted.push([name, n]),
      addDimension: () => undefined,
      publishStoredMetrics: () => undefined,
      hasStoredMetrics: () => false,
      captureColdStartMetric: () => undefined,
      setDefaultDimensions: () => undefined,
      clearDefaultDimensions: () => undefined,
    } as unknown as Parameters<typeof createWebhooksHandler>[0]['metrics'],
    logger,
  });
  const run = (...events: QueuedEvent[]) =>
    handler(sqsEvent(...events.map((e, i) => sqsRecord(e, { messageId: `r${i}` }))), lambdaContext());
  return { broadcasts, run, reads, emitted };
}

const at = (s: number) => `2026-11-29T10:00:0${s}.000Z`;
const counts = (over: Partial<EventCounts>): EventCounts => ({ ...NO_EVENT_COUNTS, ...over });

describe('broadcast counts from message events', () => {
  it('adds each broadcast email event to its broadcast, one write per broadcast per batch', async () => {
    const w = await world();
    const out = await w.run(
      queuedEvent('email.sent', 'b-one', at(0), {}, 'b-one'),
      queuedEvent('email.sent', 'b-two', at(0), {}, 'b-two'),
      queuedEvent('email.sent', 'b-three', at(0), {}, 'b-three'),
      queuedEvent('email.delivered', 'b-one|d', at(1), {}, 'b-one'),
      queuedEvent('email.bounced', 'b-two|b', at(1), { bounce: { permanent: true } }, 'b-two'),
      // A soft bounce may still be delivered: not a bounce of the broadcast.
      queuedEvent('email.bounced', 'b-three|soft', at(1), { bounce: { permanent: false } }, 'b-three'),
      queuedEvent('email.sent', 'm-plain', at(0), {}, 'm-plain'),
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(await w.broadcasts.counts('brd_a')).toEqual(counts({ sent: 2, delivered: 1, bounced: 1 }));
    expect(await w.broadcasts.counts('brd_b')).toEqual(counts({ sent: 1 }));
    expect(w.broadcasts.writes).toBe(2);
    expect(w.reads).not.toContain('m-plain');
    expect(w.emitted).toContainEqual([BROADCAST_METRICS.sent, 3]);
  });

  it("counts the dispatcher's exclusions (suppressed, cooldown) as skipped, and an unsubscribe from the email it came in", async () => {
    const w = await world();
    await w.run(
      queuedEvent('email.suppressed', 'b-one', at(0), { reason: 'suppressed' }, 'b-one'),
      queuedEvent('email.throttled', 'b-two', at(0), { reason: 'cooldown' }, 'b-two'),
      queuedEvent('suppression.added', 'x|*|t', at(2), {
        address: 'x',
        scope: '*',
        reason: 'unsubscribe',
        source: 'unsubscribe',
        email_id: 'b-three',
      }),
      queuedEvent('suppression.added', 'y|*|t', at(2), {
        address: 'y',
        scope: '*',
        reason: 'bounce',
        source: 'ses',
        email_id: 'b-three',
      }),
    );
    expect(await w.broadcasts.counts('brd_a')).toEqual(counts({ suppressed: 1, cooldown: 1 }));
    expect(await w.broadcasts.counts('brd_b')).toEqual(counts({ unsubscribed: 1 }));
  });

  it('counts an email opened or clicked once, by a person, however often', async () => {
    const w = await world();
    await w.run(
      queuedEvent('email.opened', 'o1', at(1), { open: { machine: false } }, 'b-one'),
      queuedEvent('email.opened', 'o2', at(3), { open: { machine: false } }, 'b-one'),
      queuedEvent('email.opened', 'o3', at(0), { open: { machine: true } }, 'b-one'),
      queuedEvent('email.clicked', 'c1', at(5), { click: { machine: false } }, 'b-one'),
      queuedEvent('email.clicked', 'c2', at(6), { click: { machine: false } }, 'b-one'),
    );
    expect(await w.broadcasts.counts('brd_a')).toEqual(counts({ opened: 1, clicked: 1 }));
  });

  it('counts an event once per batch, and nothing of a record that failed (it comes again)', async () => {
    const w = await world();
    const sent = queuedEvent('email.sent', 'b-one', at(0), {}, 'b-one');
    await w.run(sent, sent);
    expect((await w.broadcasts.counts('brd_a')).sent).toBe(1);
    w.broadcasts.addCounts = async () => {
      throw new Error('DynamoDB unavailable');
    };
    const out = await w.run(queuedEvent('email.delivered', 'b-one|d', at(1), {}, 'b-one'));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'r0' }]);
  });
});
