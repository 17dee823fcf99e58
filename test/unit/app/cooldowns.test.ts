/**
 * Cooldowns through the dispatcher, with fakes: recipients who got the same key within the window
 * are skipped at send time; a message with nobody left ends `throttled` (final); the same message
 * retried passes its own cooldown.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { newMetrics } from '../../../functions/app/observability';
import { EventBuffer, publishingMessages } from '../../../functions/app/webhook-events';
import { cooldownId } from '../../../functions/core/cooldown';
import type { SendOutcome } from '../../../functions/core/dispatch';
import { TERMINAL } from '../../../functions/core/message';
import { METRICS } from '../../../functions/core/metric-names';
import { MemoryCooldownStore } from '../../support/cooldown-fakes';
import { DispatchWorld, dispatcher, NOW, run } from '../../support/dispatch';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { ScriptedProvider } from '../../support/fakes';
import { MemoryPublisher } from '../../support/webhook-fakes';

const HOUR = 3_600_000;
const digest = { key: 'digest', hours: 24 };

let world: DispatchWorld;
let cooldowns: MemoryCooldownStore;
let clock: number;

beforeEach(() => {
  world = new DispatchWorld();
  cooldowns = new MemoryCooldownStore();
  clock = NOW;
});

const handlerOf = (provider: ScriptedProvider) => dispatcher(world, provider, { cooldowns, now: () => clock }).handler;

describe('cooldowns in the dispatcher', () => {
  it('sends the first email of a key and throttles a second one to the same address within the window', async () => {
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    await run(send, world.queued('first', { cooldown: digest }));
    clock = NOW + 2 * HOUR;
    const res = await run(send, world.queued('second', { to: 'USER@example.org', cooldown: digest }));

    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls.map((c) => c.id)).toEqual(['first']);
    expect(world.messages.items.get('first')?.status).toBe('sent');
    const second = world.messages.items.get('second');
    expect(second).toMatchObject({ status: 'throttled', cooldown: digest });
    expect(second?.reason).toContain('cooldown "digest"');
    // Claimed once, then final: the claim ends with it.
    expect(second?.attempts).toBe(1);
    expect(second?.events.map((e) => e.type)).toEqual(['queued', 'throttled']);
    expect(second?.events.at(-1)?.detail).toEqual({
      cooldown: digest,
      throttledRecipients: [
        {
          address: 'USER@example.org',
          lastSentAt: new Date(NOW).toISOString(),
          until: new Date(NOW + 24 * HOUR).toISOString(),
        },
      ],
    });
  });

  it('sends again once the window has ended (compared with the dispatcher clock, not left to TTL)', async () => {
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    await run(send, world.queued('first', { cooldown: digest }));
    clock = NOW + 24 * HOUR;
    await run(send, world.queued('later', { cooldown: digest }));
    expect(provider.calls.map((c) => c.id)).toEqual(['first', 'later']);
    expect(cooldowns.items.get(cooldownId('digest', 'user@example.org'))).toMatchObject({
      messageId: 'later',
      sentAt: NOW + 24 * HOUR,
    });
  });

  it('lets other keys, other addresses and emails without a cooldown through', async () => {
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    await run(send, world.queued('a', { cooldown: digest }));
    await run(
      send,
      world.queued('other-key', { cooldown: { key: 'reminder:42', hours: 24 } }),
      world.queued('other-address', { to: 'someone@example.org', cooldown: digest }),
      world.queued('no-cooldown'),
    );
    expect(provider.calls.map((c) => c.id).sort()).toEqual(['a', 'no-cooldown', 'other-address', 'other-key']);
  });

  it('sends to the recipients not in their cooldown and names the skipped ones on the sent event', async () => {
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    await run(send, world.queued('first', { to: 'held@example.org', cooldown: digest }));
    await run(
      send,
      world.queued('both', { to: ['held@example.org', 'free@example.org'], cc: 'Held@Example.org', cooldown: digest }),
    );
    const call = provider.calls.find((c) => c.id === 'both');
    expect(call?.to).toEqual(['free@example.org']);
    expect(call?.cc).toEqual([]);
    const both = world.messages.items.get('both');
    expect(both?.status).toBe('sent');
    expect(both?.events.at(-1)).toMatchObject({
      type: 'sent',
      detail: { cooldown: digest, throttledRecipients: [{ address: 'held@example.org' }] },
    });
    // Only the address it was sent to is now in its cooldown through this message.
    expect(cooldowns.items.get(cooldownId('digest', 'free@example.org'))?.messageId).toBe('both');
    expect(cooldowns.items.get(cooldownId('digest', 'held@example.org'))?.messageId).toBe('first');
  });

  it('retries the same message after a provider failure without throttling it by its own cooldown', async () => {
    const down: SendOutcome = { kind: 'down', reason: 'HTTP 503' };
    const provider = new ScriptedProvider((_e, n) =>
      n === 1 ? down : { kind: 'accepted', providerMessageId: 'prov-2' },
    );
    const send = handlerOf(provider);
    const email = world.queued('retried', { cooldown: digest });
    const first = await send(sqsEvent(sqsRecord(email, { receiveCount: 1 })), lambdaContext());
    expect(first.batchItemFailures).toHaveLength(1);
    expect(world.messages.items.get('retried')?.status).toBe('queued');
    clock = NOW + HOUR;
    await send(sqsEvent(sqsRecord(email, { receiveCount: 2 })), lambdaContext());
    expect(provider.calls).toHaveLength(2);
    expect(world.messages.items.get('retried')?.status).toBe('sent');
  });

  it('never sends a throttled message on a redelivery: throttled is final', async () => {
    expect(TERMINAL.has('throttled')).toBe(true);
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    await run(send, world.queued('first', { cooldown: digest }));
    const second = world.queued('second', { cooldown: digest });
    await run(send, second);
    // The holder's window ends; the throttled message is delivered again by SQS: still not sent.
    clock = NOW + 48 * HOUR;
    const again = await send(sqsEvent(sqsRecord(second, { receiveCount: 2 })), lambdaContext());
    expect(again.batchItemFailures).toEqual([]);
    expect(provider.calls.map((c) => c.id)).toEqual(['first']);
    expect(world.messages.items.get('second')?.status).toBe('throttled');
  });

  it('throttles only the later of two messages of one batch to the same address', async () => {
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    await run(send, world.queued('x', { cooldown: digest }), world.queued('y', { cooldown: digest }));
    expect(provider.calls).toHaveLength(1);
    const statuses = ['x', 'y'].map((id) => world.messages.items.get(id)?.status).sort();
    expect(statuses).toEqual(['sent', 'throttled']);
  });

  it('takes one conditional write per distinct recipient, and none for an email without a cooldown', async () => {
    const send = handlerOf(new ScriptedProvider());
    await run(send, world.queued('plain'));
    expect(cooldowns.writes).toBe(0);
    await run(
      send,
      world.queued('three', {
        to: ['a@example.org', 'b@example.org'],
        bcc: ['c@example.org', 'A@example.org'],
        cooldown: digest,
      }),
    );
    expect(cooldowns.writes).toBe(3);
  });

  it('checks after suppression: a suppressed recipient takes no cooldown', async () => {
    world.suppression.add('gone@example.org');
    const send = handlerOf(new ScriptedProvider());
    await run(send, world.queued('s', { to: ['gone@example.org', 'user@example.org'], cooldown: digest }));
    expect([...cooldowns.items.keys()]).toEqual([cooldownId('digest', 'user@example.org')]);
  });

  it('hands the claim back when the cooldowns cannot be checked; the message is retried, not sent', async () => {
    cooldowns.failWith = new Error('DynamoDB unavailable');
    const provider = new ScriptedProvider();
    const send = handlerOf(provider);
    const res = await run(send, world.queued('c', { cooldown: digest }));
    expect(res.batchItemFailures).toHaveLength(1);
    expect(provider.calls).toHaveLength(0);
    const record = world.messages.items.get('c');
    expect(record?.status).toBe('queued');
    expect(record?.events.at(-1)).toMatchObject({
      type: 'retry',
      detail: { reason: 'the cooldowns could not be checked' },
    });
    cooldowns.failWith = undefined;
    await run(send, world.queued('c', { cooldown: digest }));
    expect(world.messages.items.get('c')?.status).toBe('sent');
  });

  it('counts throttled emails and skipped recipients', async () => {
    const metrics = new Metrics({ namespace: 'Test' });
    const added = vi.spyOn(metrics, 'addMetric');
    const send = dispatcher(world, new ScriptedProvider(), { cooldowns, now: () => clock, metrics }).handler;
    await run(send, world.queued('first', { cooldown: digest }));
    await run(send, world.queued('second', { cooldown: digest }));
    expect(added).toHaveBeenCalledWith(METRICS.throttled, 'Count', 1);
    expect(added).toHaveBeenCalledWith(METRICS.cooldownSkipped, 'Count', 1);
  });
});

describe('the webhook event of a throttled email', () => {
  it('is email.throttled, with the reason naming the key', async () => {
    const publisher = new MemoryPublisher();
    const quiet = () => undefined;
    const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet, appendKeys: quiet };
    const buffer = new EventBuffer(publisher, logger, newMetrics());
    const messages = publishingMessages(world.messages, buffer);
    const send = handlerOf(new ScriptedProvider());
    await run(send, world.queued('first', { cooldown: digest }));
    await run(send, world.queued('second', { cooldown: digest }));
    // What the dispatcher wrote, through the publishing store as the wiring wraps it.
    const record = world.messages.items.get('second');
    const event = record?.events.at(-1);
    if (!record || !event) throw new Error('no throttled record');
    await world.messages.createMany([{ ...record, id: 'again', status: 'queued', events: [] }]);
    await messages.claim('again', 'tok', clock);
    await messages.finish('again', 'tok', { status: 'throttled', reason: record.reason ?? '', event });
    await buffer.flush();
    expect(publisher.events).toEqual([
      expect.objectContaining({
        type: 'email.throttled',
        messageId: 'again',
        data: { reason: expect.stringContaining('cooldown "digest"') },
      }),
    ]);
  });
});
