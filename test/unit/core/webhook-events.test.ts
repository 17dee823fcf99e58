import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  deliveryIdOf,
  EVENT_TYPES,
  payloadOf,
  queuedEvent,
  subscribed,
  validFilter,
} from '../../../functions/core/webhook-events';

describe('Standard Webhooks signatures', () => {
  // The example of the Standard Webhooks specification (spec/standard-webhooks.md, "Signature scheme").
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const msgId = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = new Date(1614265330 * 1000);
  const payload = '{"test": 2432232314}';

  it('signs the specification example as the specification says', () => {
    expect(new Webhook(secret).sign(msgId, timestamp, payload)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('a signature over other bytes (a re-serialized body) does not verify', () => {
    const signature = new Webhook(secret).sign(msgId, new Date(), payload);
    const headers = {
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': signature,
    };
    expect(() => new Webhook(secret).verify(payload, headers)).not.toThrow();
    expect(() => new Webhook(secret).verify(JSON.stringify(JSON.parse(payload)), headers)).toThrow();
  });
});

describe('event catalog and filters', () => {
  it('has every type the API promises, the scheduled-send and cooldown ones included', () => {
    for (const t of [
      'email.queued',
      'email.scheduled',
      'email.sent',
      'email.delivered',
      'email.delivery_delayed',
      'email.bounced',
      'email.complained',
      'email.opened',
      'email.clicked',
      'email.suppressed',
      'email.rejected',
      'email.failed',
      'email.canceled',
      'email.throttled',
      'suppression.added',
      'suppression.removed',
      'stream.paused',
      'stream.resumed',
      'webhook.test',
    ])
      expect(EVENT_TYPES).toContain(t);
  });

  it('matches exact types, prefixes and "*"; webhook.test reaches any endpoint', () => {
    expect(subscribed(['email.sent'], 'email.sent')).toBe(true);
    expect(subscribed(['email.sent'], 'email.bounced')).toBe(false);
    expect(subscribed(['email.*'], 'email.bounced')).toBe(true);
    expect(subscribed(['email.*'], 'suppression.added')).toBe(false);
    expect(subscribed(['*'], 'stream.paused')).toBe(true);
    expect(subscribed(['suppression.added'], 'webhook.test')).toBe(true);
  });

  it('accepts only filters that name something', () => {
    expect(['*', 'email.*', 'stream.paused'].every(validFilter)).toBe(true);
    expect(['email.sentt', 'mail.*', '', 'email'].some(validFilter)).toBe(false);
  });
});

describe('ids and payloads', () => {
  const at = '2026-11-29T10:00:00.000Z';

  it('the same state change is the same event; the delivery id is stable per endpoint and sorts by time', () => {
    const a = queuedEvent('email.sent', 'm1', at, {}, 'm1');
    expect(queuedEvent('email.sent', 'm1', at, {}, 'm1').id).toBe(a.id);
    expect(queuedEvent('email.failed', 'm1', at, {}, 'm1').id).not.toBe(a.id);
    expect(deliveryIdOf(a, 'ep_1')).toBe(deliveryIdOf(a, 'ep_1'));
    expect(deliveryIdOf(a, 'ep_2')).not.toBe(deliveryIdOf(a, 'ep_1'));
    const later = queuedEvent('email.sent', 'm2', '2026-11-29T10:00:01.000Z', {}, 'm2');
    expect(deliveryIdOf(later, 'ep_1') > deliveryIdOf(a, 'ep_1')).toBe(true);
    expect(deliveryIdOf(a, 'ep_1')).toMatch(/^msg_[A-Za-z0-9_-]+$/);
  });

  it('a payload is {type, created_at, data} with the message fields and a sequence in the life of the message', () => {
    const e = queuedEvent('email.bounced', 'k', at, { bounce: { type: 'Permanent' } }, 'm1');
    const p = payloadOf(e, {
      from: 'a@example.com',
      to: ['b@example.org'],
      cc: [],
      bcc: [],
      subject: 'Hi',
      tags: { order: '1' },
      category: 'transactional',
      provider: 'ses',
    });
    expect(p).toEqual({
      type: 'email.bounced',
      created_at: at,
      data: {
        email_id: 'm1',
        from: 'a@example.com',
        to: ['b@example.org'],
        subject: 'Hi',
        tags: { order: '1' },
        category: 'transactional',
        provider: 'ses',
        bounce: { type: 'Permanent' },
        sequence: 5,
      },
    });
    const queued = payloadOf(queuedEvent('email.queued', 'm1', at, {}, 'm1')).data as { sequence: number };
    const sent = payloadOf(queuedEvent('email.sent', 'm1', at, {}, 'm1')).data as { sequence: number };
    expect(queued.sequence).toBeLessThan(sent.sequence);
  });
});
