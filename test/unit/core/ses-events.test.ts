import { describe, expect, it } from 'vitest';
import { interpret, SesNotification, unwrap } from '../../../functions/core/ses-events';
import { sesFixture } from '../../support/fixtures';

const read = (name: string) => interpret(SesNotification.parse(sesFixture(name)));

describe('interpret (event publishing and identity notifications)', () => {
  it.each(['event-bounce-permanent.json', 'identity-bounce.json'])(
    'a permanent bounce suppresses and bounces (%s)',
    (f) => {
      const fb = read(f);
      expect(fb).toMatchObject({ status: 'bounced', messageId: 'msg-1', event: { type: 'bounced' } });
      expect(fb?.suppress).toEqual([expect.objectContaining({ address: 'user@example.org', reason: 'hard_bounce' })]);
      expect(fb?.key).toMatch(/^bounce:0100019a-fb-/);
    },
  );

  it('treats every Permanent subtype as a hard bounce, including ones SES added later', () => {
    for (const f of ['event-bounce-on-account-suppression.json', 'event-bounce-unknown-subtype.json']) {
      expect(read(f)?.suppress).toHaveLength(1);
    }
  });

  it('keeps the diagnostic code with the suppression', () => {
    expect(read('event-bounce-permanent.json')?.suppress[0]?.detail).toMatchObject({
      bounceSubType: 'General',
      diagnosticCode: 'smtp; 550 5.1.1 user unknown',
    });
  });

  it.each(['event-bounce-transient.json', 'event-bounce-undetermined.json'])(
    'a transient or undetermined bounce only counts towards the soft-bounce limit (%s)',
    (f) => {
      const fb = read(f);
      expect(fb?.status).toBeUndefined();
      expect(fb?.suppress).toEqual([]);
      expect(fb?.softBounces).toEqual(['user@example.org']);
      expect(fb?.event.type).toBe('soft_bounced');
    },
  );

  it.each(['event-complaint.json', 'identity-complaint.json'])('a complaint suppresses (%s)', (f) => {
    const fb = read(f);
    expect(fb).toMatchObject({ status: 'complained', event: { type: 'complained' } });
    expect(fb?.suppress[0]).toMatchObject({ address: 'user@example.org', reason: 'complaint' });
  });

  it('a not-spam report does not suppress', () => {
    const fb = read('event-complaint-not-spam.json');
    expect(fb?.suppress).toEqual([]);
    expect(fb?.status).toBeUndefined();
  });

  it.each(['event-delivery.json', 'identity-delivery.json'])('a delivery marks delivered (%s)', (f) => {
    expect(read(f)).toMatchObject({ status: 'delivered', event: { type: 'delivered' }, suppress: [] });
  });

  it('a delivery delay is an event on the timeline only', () => {
    const fb = read('event-delivery-delay.json');
    expect(fb?.status).toBeUndefined();
    expect(fb?.event).toMatchObject({ type: 'delayed', detail: { delayType: 'TransientCommunicationFailure' } });
  });

  it('a reject and a rendering failure mark rejected with the reason', () => {
    expect(read('event-reject.json')).toMatchObject({
      status: 'rejected',
      event: { detail: { reason: expect.stringMatching(/Bad content/) } },
    });
    expect(read('event-rendering-failure.json')?.event.detail?.reason).toMatch(/not present in the rendering data/);
  });

  it('ignores kinds mailroute does not act on', () => {
    expect(read('event-send.json')).toBeUndefined();
    expect(read('event-open.json')).toBeUndefined();
  });

  it('keeps fields SES adds (loose schemas)', () => {
    const n = SesNotification.parse(sesFixture('event-bounce-permanent.json'));
    expect(n.bounce).toHaveProperty('someNewField');
  });

  it('gives the same notification the same key, and different notifications different keys', () => {
    const keys = [
      'event-bounce-permanent.json',
      'event-complaint.json',
      'event-delivery.json',
      'event-delivery-delay.json',
    ].map((f) => read(f)?.key);
    expect(new Set(keys).size).toBe(4);
    expect(read('event-delivery.json')?.key).toBe(read('event-delivery.json')?.key);
  });
});

describe('unwrap', () => {
  it('takes the SES notification out of an SNS envelope, and leaves a raw one as it is', () => {
    const raw = sesFixture('event-delivery.json');
    expect(unwrap({ Type: 'Notification', MessageId: 'x', Message: JSON.stringify(raw) })).toEqual(raw);
    expect(unwrap(raw)).toBe(raw);
  });
});
