/**
 * The MessageStore contract: the same cases against the in-memory fake the unit tests use and the
 * DynamoDB adapter on dynalite, so the fake cannot promise a condition DynamoDB does not keep.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RETRIES_EXHAUSTED } from '../../../functions/core/dispatch';
import { MAX_EVENTS, type MessageRecord } from '../../../functions/core/message';
import type { MessageStore } from '../../../functions/ports';
import { DynamoMessageStore } from '../../../functions/store/message-store';
import { useDynalite } from '../../support/dynalite';
import { MemoryMessageStore } from '../../support/fakes';
import { record } from '../../support/records';

const dynalite = useDynalite();
const at = '2026-11-22T10:00:00.000Z';
const ev = (type: string, when = at) => ({ type, at: when });

describe.each([
  ['the fake', (): MessageStore => new MemoryMessageStore()],
  ['DynamoDB', (): MessageStore => new DynamoMessageStore(dynalite.db.doc, dynalite.db.tables.messages)],
] as const)('MessageStore contract: %s', (_name, make) => {
  let store: MessageStore;
  /** A new queued record with a fresh id. */
  const seed = async (over: Partial<MessageRecord> = {}): Promise<string> => {
    const id = randomUUID();
    await store.createMany([
      { ...record(id, { from: 'a@example.com', to: ['b@example.org'], subject: 's' }, at), ...over },
    ]);
    return id;
  };
  const fresh = () => {
    store = make();
  };

  describe('createMany, get, deleteQueued', () => {
    it('reads back exactly the record it wrote, for more records than one batch write takes', async () => {
      fresh();
      const records = Array.from({ length: 30 }, () =>
        record(randomUUID(), { cc: ['c@example.org'], tags: { campaign: 'spring' }, category: 'news' }, at),
      );
      await store.createMany(records);
      for (const r of records) expect(await store.get(r.id)).toEqual(r);
    });

    it('answers undefined for an id it never wrote', async () => {
      fresh();
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('createNew writes only records whose id is free, never overwriting one, and names the others', async () => {
      fresh();
      const sent = await seed({ subject: 'first' });
      await store.claim(sent, 'a', 1_000);
      const fresh1 = record(randomUUID(), { from: 'a@example.com', to: ['b@example.org'], subject: 'new' }, at);
      const again = record(sent, { from: 'a@example.com', to: ['b@example.org'], subject: 'second' }, at);
      expect(await store.createNew([fresh1, again])).toEqual([sent]);
      expect(await store.get(fresh1.id)).toEqual(fresh1);
      const kept = await store.get(sent);
      expect(kept?.subject).toBe('first');
      expect(kept?.status).toBe('sending');
    });

    it('rolls back only records that are still queued', async () => {
      fresh();
      const queued = await seed();
      const claimed = await seed();
      await store.claim(claimed, 'a', 1_000);
      await store.deleteQueued([queued, claimed, randomUUID()]);
      expect(await store.get(queued)).toBeUndefined();
      expect((await store.get(claimed))?.status).toBe('sending');
    });
  });

  describe('claim', () => {
    it('lets exactly one of many concurrent claims win', async () => {
      fresh();
      const id = await seed();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claim(id, `t${i}`, 1_000)));
      expect(results.filter((r) => r.ok)).toEqual([{ ok: true, attempts: 1 }]);
      for (const r of results.filter((x) => !x.ok))
        expect(r).toEqual({ ok: false, current: { status: 'sending', claimedAt: 1_000 } });
    });

    it('moves queued to sending with the token, the time and one more attempt', async () => {
      fresh();
      const id = await seed();
      expect(await store.claim(id, 'mine', Date.parse('2026-11-22T10:05:00Z'))).toEqual({ ok: true, attempts: 1 });
      expect(await store.get(id)).toMatchObject({
        status: 'sending',
        claimToken: 'mine',
        claimedAt: Date.parse('2026-11-22T10:05:00Z'),
        attempts: 1,
        updatedAt: '2026-11-22T10:05:00.000Z',
      });
    });

    it('claims only from queued: a finished message shows its status and no claim time', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      await store.finish(id, 'a', { status: 'sent', event: ev('sent') });
      expect(await store.claim(id, 'b', 2_000)).toEqual({ ok: false, current: { status: 'sent' } });
      const settled = await seed();
      await store.settleQueued(settled, { status: 'suppressed', event: ev('suppressed') });
      expect(await store.claim(settled, 'b', 2_000)).toEqual({ ok: false, current: { status: 'suppressed' } });
    });

    it('reports a claim on a missing record as not ok, without current state', async () => {
      fresh();
      expect(await store.claim('nope', 't', 1_000)).toEqual({ ok: false });
      expect(await store.get('nope')).toBeUndefined();
    });
  });

  describe('finish and release', () => {
    it('finishes only with the claim token it holds', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'mine', 1_000);
      expect(await store.finish(id, 'not-mine', { status: 'sent', event: ev('sent') })).toBe(false);
      expect(
        await store.finish(id, 'mine', { status: 'sent', provider: 'ses', providerMessageId: 'p1', event: ev('sent') }),
      ).toBe(true);
      const r = await store.get(id);
      expect(r).toMatchObject({ status: 'sent', provider: 'ses', providerMessageId: 'p1', attempts: 1 });
      expect(r?.claimToken).toBeUndefined();
      expect(r?.claimedAt).toBeUndefined();
      expect(r?.updatedAt).toBe(at);
      expect(r?.events.map((e) => e.type)).toEqual(['queued', 'sent']);
      // The claim is over: the same token finishes nothing any more.
      expect(await store.finish(id, 'mine', { status: 'failed', event: ev('failed') })).toBe(false);
      expect((await store.get(id))?.status).toBe('sent');
    });

    it('finishes nothing on a queued message or a missing one', async () => {
      fresh();
      const id = await seed();
      expect(await store.finish(id, 'any', { status: 'sent', event: ev('sent') })).toBe(false);
      expect((await store.get(id))?.status).toBe('queued');
      expect(await store.finish(randomUUID(), 'any', { status: 'sent', event: ev('sent') })).toBe(false);
    });

    it('releases a claim for a retry, after which it can be claimed again (and the old token is void)', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      expect(await store.release(id, 'b', ev('retry'))).toBe(false);
      expect(await store.release(id, 'a', ev('retry'))).toBe(true);
      const released = await store.get(id);
      expect(released).toMatchObject({ status: 'queued', attempts: 1 });
      expect(released?.claimToken).toBeUndefined();
      expect(released?.claimedAt).toBeUndefined();
      expect(await store.claim(id, 'b', 2_000)).toEqual({ ok: true, attempts: 2 });
      expect(await store.release(id, 'a', ev('retry'))).toBe(false);
    });

    it('a release with a pin hands the pin to the next claim; a clean send clears pin and reason', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      expect(await store.release(id, 'a', ev('ambiguous'), 'relay-a')).toBe(true);
      expect((await store.get(id))?.pin).toBe('relay-a');
      expect(await store.claim(id, 'b', 2_000)).toEqual({ ok: true, attempts: 2, pin: 'relay-a' });
      expect(await store.finish(id, 'b', { status: 'sent', provider: 'relay-a', event: ev('sent') })).toBe(true);
      const sent = await store.get(id);
      expect(sent?.pin).toBeUndefined();
      expect(sent?.reason).toBeUndefined();
    });

    it('keeps the reason of a finish that gives one, and the pin a finish sets', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      await store.release(id, 'a', ev('retry'));
      await store.claim(id, 'b', 2_000);
      expect(
        await store.finish(id, 'b', { status: 'failed', reason: 'ambiguous: timeout', pin: 'relay-a', event: ev('f') }),
      ).toBe(true);
      expect(await store.get(id)).toMatchObject({ status: 'failed', reason: 'ambiguous: timeout', pin: 'relay-a' });
    });

    it('a sent finish with a reason keeps it', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      await store.finish(id, 'a', { status: 'sent', reason: 'after a fail-over', event: ev('sent') });
      expect((await store.get(id))?.reason).toBe('after a fail-over');
    });
  });

  describe('settleQueued', () => {
    it('settles only a queued message', async () => {
      fresh();
      const id = await seed();
      expect(await store.settleQueued(id, { status: 'suppressed', event: ev('suppressed') })).toBe(true);
      expect(await store.settleQueued(id, { status: 'suppressed', event: ev('suppressed') })).toBe(false);
      const r = await store.get(id);
      expect(r?.status).toBe('suppressed');
      expect(r?.events.map((e) => e.type)).toEqual(['queued', 'suppressed']);
    });

    it('never settles a claimed message, nor a missing one', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      expect(await store.settleQueued(id, { status: 'failed', event: ev('failed') })).toBe(false);
      expect(await store.get(id)).toMatchObject({ status: 'sending', claimToken: 'a' });
      expect(await store.settleQueued(randomUUID(), { status: 'failed', event: ev('failed') })).toBe(false);
    });
  });

  describe('failStale', () => {
    const stale = { status: 'failed', reason: 'ambiguous', event: ev('ambiguous') } as const;

    it('fails a stale claim only while it is the same claim', async () => {
      fresh();
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      expect(await store.failStale(id, 999, stale)).toBe(false);
      expect(await store.failStale(id, 1_000, stale)).toBe(true);
      const r = await store.get(id);
      expect(r).toMatchObject({ status: 'failed', reason: 'ambiguous' });
      expect(r?.claimToken).toBeUndefined();
      expect(r?.claimedAt).toBeUndefined();
      // Done once: the same claim time matches nothing any more.
      expect(await store.failStale(id, 1_000, stale)).toBe(false);
    });

    it('never fails a message that is not sending', async () => {
      fresh();
      const id = await seed();
      expect(await store.failStale(id, undefined, stale)).toBe(false);
      expect((await store.get(id))?.status).toBe('queued');
    });

    it('without a claim time, fails only a sending message that has none', async () => {
      fresh();
      const legacy = await seed({ status: 'sending' });
      expect(await store.failStale(legacy, undefined, stale)).toBe(true);
      expect((await store.get(legacy))?.status).toBe('failed');
      const claimed = await seed();
      await store.claim(claimed, 'a', 1_000);
      expect(await store.failStale(claimed, undefined, stale)).toBe(false);
    });
  });

  describe('applyFeedback', () => {
    const sent = async () => {
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      await store.finish(id, 'a', { status: 'sent', event: ev('sent') });
      return id;
    };

    it('applies a notification once per key, moving the status forward', async () => {
      fresh();
      const id = await sent();
      const before = Date.now();
      expect(await store.applyFeedback(id, 'fb-1', ev('bounced'), 'bounced', ['sent', 'delivered'])).toBe('applied');
      const r = await store.get(id);
      expect(r?.status).toBe('bounced');
      expect(r?.events.map((e) => e.type)).toEqual(['queued', 'sent', 'bounced']);
      expect(r?.seen).toEqual(['fb-1']);
      expect(Date.parse(r?.updatedAt ?? '')).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(await store.applyFeedback(id, 'fb-1', ev('bounced'), 'bounced', ['sent', 'delivered'])).toBe('duplicate');
      expect((await store.get(id))?.events).toHaveLength(3);
    });

    it('never moves a status back: a late Delivery after a Bounce is recorded, the status stays', async () => {
      fresh();
      const id = await sent();
      await store.applyFeedback(id, 'bounce', ev('bounced'), 'bounced', ['sent', 'delivered']);
      expect(await store.applyFeedback(id, 'delivery', ev('delivered'), 'delivered', ['sent'])).toBe('applied');
      const r = await store.get(id);
      expect(r?.status).toBe('bounced');
      expect(r?.events.map((e) => e.type)).toEqual(['queued', 'sent', 'bounced', 'delivered']);
      expect(r?.seen).toEqual(['bounce', 'delivery']);
      expect(await store.applyFeedback(id, 'delivery', ev('delivered'), 'delivered', ['sent'])).toBe('duplicate');
    });

    it('an event without a status is recorded on any message it finds', async () => {
      fresh();
      const id = await sent();
      expect(await store.applyFeedback(id, 'delay', ev('delayed'), undefined, [])).toBe('applied');
      const r = await store.get(id);
      expect(r?.status).toBe('sent');
      expect(r?.events.at(-1)?.type).toBe('delayed');
    });

    it('a status change for a message not yet sent waits (not-yet-sent), changing nothing', async () => {
      fresh();
      const queued = await seed();
      expect(await store.applyFeedback(queued, 'k', ev('delivered'), 'delivered', ['sent'])).toBe('not-yet-sent');
      const sending = await seed();
      await store.claim(sending, 'a', 1_000);
      expect(await store.applyFeedback(sending, 'k', ev('delivered'), 'delivered', ['sent'])).toBe('not-yet-sent');
      for (const id of [queued, sending]) {
        const r = await store.get(id);
        expect(r?.seen).toEqual([]);
        expect(r?.events.map((e) => e.type)).toEqual(['queued']);
      }
      // Once sent, the same notification applies.
      await store.finish(sending, 'a', { status: 'sent', event: ev('sent') });
      expect(await store.applyFeedback(sending, 'k', ev('delivered'), 'delivered', ['sent'])).toBe('applied');
      expect((await store.get(sending))?.status).toBe('delivered');
    });

    it('a notification for an unknown message is missing and creates nothing', async () => {
      fresh();
      const id = randomUUID();
      expect(await store.applyFeedback(id, 'k', ev('bounced'), 'bounced', ['sent'])).toBe('missing');
      expect(await store.applyFeedback(id, 'k', ev('delayed'), undefined, [])).toBe('missing');
      expect(await store.get(id)).toBeUndefined();
    });

    it('of the same notification applied concurrently, exactly one applies', async () => {
      fresh();
      const id = await sent();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.applyFeedback(id, 'race', ev('complained'), 'complained', ['sent'])),
      );
      expect(results.filter((r) => r === 'applied')).toHaveLength(1);
      expect(results.filter((r) => r === 'duplicate')).toHaveLength(4);
      expect((await store.get(id))?.events.filter((e) => e.type === 'complained')).toHaveLength(1);
    });
  });

  describe('requeueFailed', () => {
    const failedWith = async (reason: string) => {
      const id = await seed();
      await store.claim(id, 'a', 1_000);
      await store.finish(id, 'a', { status: 'failed', reason, event: ev('failed') });
      return id;
    };

    it('requeues a message whose retries ran out, which can then be claimed', async () => {
      fresh();
      const id = await failedWith(`${RETRIES_EXHAUSTED} (down: SES 503)`);
      expect(await store.requeueFailed(id, ev('redriven', '2026-11-22T11:00:00.000Z'))).toBe(true);
      const r = await store.get(id);
      expect(r).toMatchObject({ status: 'queued', updatedAt: '2026-11-22T11:00:00.000Z' });
      expect(r?.events.map((e) => e.type)).toEqual(['queued', 'failed', 'redriven']);
      expect(await store.requeueFailed(id, ev('redriven'))).toBe(false);
      expect(await store.claim(id, 'b', 2_000)).toEqual({ ok: true, attempts: 2 });
    });

    it('never requeues an ambiguous failure, a sent or queued message, or a missing one', async () => {
      fresh();
      const ambiguous = await failedWith('ambiguous: socket hang up');
      expect(await store.requeueFailed(ambiguous, ev('redriven'))).toBe(false);
      expect((await store.get(ambiguous))?.status).toBe('failed');
      const queued = await seed();
      expect(await store.requeueFailed(queued, ev('redriven'))).toBe(false);
      const sent = await seed();
      await store.claim(sent, 'a', 1_000);
      await store.finish(sent, 'a', { status: 'sent', event: ev('sent') });
      expect(await store.requeueFailed(sent, ev('redriven'))).toBe(false);
      expect((await store.get(sent))?.status).toBe('sent');
      expect(await store.requeueFailed(randomUUID(), ev('redriven'))).toBe(false);
    });

    it('a failure without a reason is not requeued', async () => {
      fresh();
      const id = await seed({ status: 'failed' });
      expect(await store.requeueFailed(id, ev('redriven'))).toBe(false);
    });
  });

  describe('recordEngagement', () => {
    it('counts people and machines apart; only a person sets the first open and click', async () => {
      fresh();
      const id = await seed();
      await store.recordEngagement(id, 'open', true, ev('opened', '2026-11-22T10:01:00.000Z'));
      await store.recordEngagement(id, 'open', false, ev('opened', '2026-11-22T10:02:00.000Z'));
      await store.recordEngagement(id, 'open', false, ev('opened', '2026-11-22T10:03:00.000Z'));
      await store.recordEngagement(id, 'click', true, ev('clicked', '2026-11-22T10:04:00.000Z'));
      await store.recordEngagement(id, 'click', false, ev('clicked', '2026-11-22T10:05:00.000Z'));
      const r = await store.get(id);
      expect(r).toMatchObject({
        opens: 2,
        machineOpens: 1,
        clicks: 1,
        machineClicks: 1,
        firstOpenAt: '2026-11-22T10:02:00.000Z',
        firstClickAt: '2026-11-22T10:05:00.000Z',
        updatedAt: '2026-11-22T10:05:00.000Z',
      });
      expect(r?.events.map((e) => e.type)).toEqual(['queued', 'opened', 'opened', 'opened', 'clicked', 'clicked']);
    });

    it('keeps at most MAX_EVENTS events, and goes on counting past them', async () => {
      fresh();
      const id = await seed();
      for (let i = 0; i < MAX_EVENTS + 3; i++) await store.recordEngagement(id, 'open', false, ev('opened'));
      const r = await store.get(id);
      expect(r?.events).toHaveLength(MAX_EVENTS);
      expect(r?.opens).toBe(MAX_EVENTS + 3);
    });

    it('does nothing for a message it does not have', async () => {
      fresh();
      const id = randomUUID();
      await store.recordEngagement(id, 'click', false, ev('clicked'));
      expect(await store.get(id)).toBeUndefined();
    });
  });
});
