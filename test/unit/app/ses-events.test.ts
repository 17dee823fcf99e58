import { beforeEach, describe, expect, it } from 'vitest';
import { createSesEventsHandler } from '../../../functions/app/ses-events';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryMessageStore, MemorySuppression } from '../../support/fakes';
import { sesFixture } from '../../support/fixtures';
import { record } from '../../support/records';

let messages: MemoryMessageStore;
let suppression: MemorySuppression;
let handler: ReturnType<typeof createSesEventsHandler>;

beforeEach(() => {
  messages = new MemoryMessageStore();
  suppression = new MemorySuppression();
  handler = createSesEventsHandler({
    messages,
    suppression,
    softBounce: { limit: 3, windowHours: 72 },
    now: () => Date.parse('2026-11-22T12:00:00Z'),
  });
});

function sent(id = 'msg-1') {
  const r = record(id);
  r.status = 'sent';
  messages.items.set(id, r);
}

const deliver = (...bodies: unknown[]) =>
  handler(sqsEvent(...bodies.map((b, i) => sqsRecord(b, { messageId: `sqs-${i}` }))), lambdaContext());

describe('ses-events', () => {
  it('applies a notification replayed 5 times once: one suppression, one event', async () => {
    sent();
    const bounce = sesFixture('event-bounce-permanent.json');
    for (let i = 0; i < 5; i++) expect((await deliver(bounce)).batchItemFailures).toEqual([]);
    expect([...suppression.records.values()]).toEqual([
      expect.objectContaining({
        address: 'user@example.org',
        scope: '*',
        reason: 'hard_bounce',
        active: true,
        messageId: 'msg-1',
      }),
    ]);
    const m = messages.items.get('msg-1');
    expect(m?.status).toBe('bounced');
    expect(m?.events.filter((e) => e.type === 'bounced')).toHaveLength(1);
  });

  it('never lets a late Delivery overwrite bounced, but keeps it on the timeline', async () => {
    sent();
    await deliver(sesFixture('event-bounce-permanent.json'));
    await deliver(sesFixture('event-delivery.json'));
    const m = messages.items.get('msg-1');
    expect(m?.status).toBe('bounced');
    expect(m?.events.map((e) => e.type)).toEqual(['queued', 'bounced', 'delivered']);
  });

  it('does not re-suppress a re-enabled address when an older bounce is replayed', async () => {
    sent();
    await deliver(sesFixture('event-bounce-permanent.json'));
    await suppression.reenable({ address: 'user@example.org', scope: '*' }, '2026-11-22T11:00:00.000Z');
    const replay = sesFixture('event-bounce-permanent.json');
    (replay.bounce as { feedbackId: string }).feedbackId = 'another-delivery-of-the-old-bounce';
    await deliver(replay);
    expect(suppression.records.get('user@example.org|*')?.active).toBe(false);
  });

  it('suppresses on a bounce that happened after the re-enable', async () => {
    sent();
    await suppression.reenable({ address: 'user@example.org', scope: '*' }, '2026-11-22T09:00:00.000Z');
    await deliver(sesFixture('event-bounce-permanent.json'));
    expect(suppression.records.get('user@example.org|*')?.active).toBe(true);
  });

  it('converts 3 transient bounces within 72 h into a suppression, and not 2', async () => {
    sent();
    const soft = (id: string, at: string) => {
      const n = sesFixture('event-bounce-transient.json');
      Object.assign(n.bounce as object, { feedbackId: id, timestamp: at });
      return n;
    };
    await deliver(soft('s1', '2026-11-20T12:00:00.000Z'), soft('s2', '2026-11-21T12:00:00.000Z'));
    expect(suppression.records.size).toBe(0);
    await deliver(soft('s2', '2026-11-21T12:00:00.000Z')); // a replay does not count twice
    expect(suppression.records.size).toBe(0);
    await deliver(soft('s3', '2026-11-22T11:00:00.000Z'));
    expect(suppression.records.get('user@example.org|*')).toMatchObject({ reason: 'soft_bounce', active: true });
  });

  it('does not count transient bounces older than the window', async () => {
    sent();
    const soft = (id: string, at: string) => {
      const n = sesFixture('event-bounce-transient.json');
      Object.assign(n.bounce as object, { feedbackId: id, timestamp: at });
      return n;
    };
    await deliver(soft('o1', '2026-11-10T12:00:00.000Z'), soft('o2', '2026-11-11T12:00:00.000Z'));
    await deliver(soft('o3', '2026-11-22T11:00:00.000Z'));
    expect(suppression.records.size).toBe(0);
  });

  it('marks complained and suppresses, but a not-spam report suppresses nobody', async () => {
    sent('a');
    sent('b');
    await deliver(sesFixture('event-complaint-not-spam.json', 'b'));
    expect(suppression.records.size).toBe(0);
    await deliver(sesFixture('event-complaint.json', 'a'));
    expect(messages.items.get('a')?.status).toBe('complained');
    expect(suppression.records.get('user@example.org|*')?.reason).toBe('complaint');
  });

  it('retries a Delivery that arrives before the dispatcher recorded the send', async () => {
    sent();
    const m = messages.items.get('msg-1');
    if (m) m.status = 'sending';
    const res = await deliver(sesFixture('event-delivery.json'));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-0' }]);
    if (m) m.status = 'sent';
    expect((await deliver(sesFixture('event-delivery.json'))).batchItemFailures).toEqual([]);
    expect(messages.items.get('msg-1')?.status).toBe('delivered');
  });

  it('still suppresses when the notification does not name our message', async () => {
    const n = sesFixture('event-bounce-permanent.json');
    delete (n.mail as { tags?: unknown }).tags;
    expect((await deliver(n)).batchItemFailures).toEqual([]);
    expect(suppression.records.get('user@example.org|*')?.active).toBe(true);
  });

  it('reads the SNS envelope too, and reports a body that is no SES notification as failed', async () => {
    sent();
    const envelope = {
      Type: 'Notification',
      MessageId: 'sns-1',
      Message: JSON.stringify(sesFixture('event-delivery.json')),
    };
    const res = await deliver(envelope, { hello: 'world' });
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-1' }]);
    expect(messages.items.get('msg-1')?.status).toBe('delivered');
  });
});
