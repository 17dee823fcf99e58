import { beforeEach, describe, expect, it } from 'vitest';
import { newMetrics } from '../../../functions/app/observability';
import { EventBuffer, publishingMessages, publishingSuppressions } from '../../../functions/app/webhook-events';
import { METRICS } from '../../../functions/core/metric-names';
import type { MessageStore, SuppressionStore } from '../../../functions/ports';
import { MemoryMessageStore, MemorySuppression } from '../../support/fakes';
import { record } from '../../support/records';
import { MemoryPublisher } from '../../support/webhook-fakes';

const at = '2026-11-29T10:00:00.000Z';

let publisher: MemoryPublisher;
let buffer: EventBuffer;
let inner: MemoryMessageStore;
let messages: MessageStore;
let suppression: SuppressionStore;
let metrics: ReturnType<typeof newMetrics>;
const logged: string[] = [];

beforeEach(() => {
  publisher = new MemoryPublisher();
  metrics = newMetrics();
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (m: string) => void logged.push(m),
    appendKeys: () => undefined,
  };
  buffer = new EventBuffer(publisher, logger, metrics);
  inner = new MemoryMessageStore();
  messages = publishingMessages(inner, buffer);
  suppression = publishingSuppressions(new MemorySuppression(), buffer);
});

const types = () => publisher.events.map((e) => e.type);

describe('state changes publish webhook events', () => {
  it('nothing is published before the invocation ends; then once, together', async () => {
    await messages.createMany([record('m1'), record('m2')]);
    expect(publisher.events).toHaveLength(0);
    await buffer.flush();
    expect(types()).toEqual(['email.queued', 'email.queued']);
    await buffer.flush();
    expect(publisher.events).toHaveLength(2);
  });

  it('records removed again (a request that failed) take their events with them', async () => {
    await messages.createMany([record('m1'), record('m2')]);
    await messages.deleteQueued(['m1', 'm2']);
    await buffer.flush();
    expect(publisher.events).toHaveLength(0);
  });

  it('a final status publishes its event; a write that did not apply publishes nothing', async () => {
    await inner.createMany([record('m1')]);
    const claim = await messages.claim('m1', 'tok', Date.parse(at));
    expect(claim.ok).toBe(true);
    await messages.finish('m1', 'other-token', { status: 'sent', event: { type: 'sent', at } });
    await messages.finish('m1', 'tok', { status: 'sent', event: { type: 'sent', at }, provider: 'ses' });
    await buffer.flush();
    expect(publisher.events).toEqual([
      expect.objectContaining({ type: 'email.sent', messageId: 'm1', data: { provider: 'ses' } }),
    ]);
  });

  it('opens and clicks are published with the machine flag', async () => {
    await inner.createMany([record('m1')]);
    await messages.recordEngagement('m1', 'click', true, {
      type: 'clicked',
      at,
      detail: { url: 'https://example.com/a', machineReason: 'scanner' },
    });
    await buffer.flush();
    expect(publisher.events[0]).toMatchObject({
      type: 'email.clicked',
      data: { click: { link: 'https://example.com/a', machine: true } },
    });
  });

  it('suppressions added and lifted are published', async () => {
    await suppression.suppress({ address: 'a@example.org', scope: '*', reason: 'manual', source: 'api', at });
    await suppression.reenable({ address: 'a@example.org', scope: '*' }, at);
    await suppression.reenable({ address: 'a@example.org', scope: '*' }, at);
    await buffer.flush();
    expect(types()).toEqual(['suppression.added', 'suppression.removed']);
  });

  it('events that cannot be queued are counted and logged, never thrown into the use case', async () => {
    publisher.fail = true;
    await messages.createMany([record('m1')]);
    await expect(buffer.flush()).resolves.toBeUndefined();
    expect(logged).toContain('webhook events could not be queued');
    expect(JSON.stringify(metrics.serializeMetrics())).toContain(METRICS.webhookEventsLost);
  });
});
