/**
 * Cooldowns end to end on the local stack: the API, the send queue, the dispatcher's conditional
 * writes on dynalite, the SES inbox.
 */
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { countByStatus } from '../../bin/local-status';
import { api, inbox, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;
/** The injected clock: the API, the dispatcher and the local scheduler see real time plus this. */
let offsetMs = 0;
const now = () => Date.now() + offsetMs;
const HOUR = 3_600_000;
const email = (subject: string, to: string | string[], cooldown: unknown) => ({
  from: 'app@example.com',
  to,
  subject,
  text: 'Hello',
  cooldown,
});
const inboxWith = async (subject: string) => (await inbox(stack)).filter((e) => e.subject === subject);

useLocalStack(
  (s) => {
    stack = s;
  },
  { now },
);

describe('cooldowns on the local stack', () => {
  it('sends the first email of a key to an address and throttles the second: one email in the inbox', async () => {
    const cooldown = { key: 'digest', hours: 24 };
    const first = await api(stack, 'POST', '/v1/emails', email('digest-1', 'reader@example.org', cooldown));
    expect(first.status).toBe(202);
    await statusOf(stack, first.body.id, 'sent');
    const second = await api(stack, 'POST', '/v1/emails', email('digest-2', 'Reader@Example.org', cooldown));
    expect(second.status).toBe(202);
    const view = await statusOf(stack, second.body.id, 'throttled');

    expect(view).toMatchObject({ cooldown, reason: expect.stringContaining('cooldown "digest"') });
    expect(view.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'throttled']);
    expect(view.events.at(-1).detail).toMatchObject({
      cooldown,
      throttledRecipients: [
        { address: 'Reader@example.org', lastSentAt: expect.any(String), until: expect.any(String) },
      ],
    });
    expect(await inboxWith('digest-1')).toHaveLength(1);
    expect(await inboxWith('digest-2')).toHaveLength(0);
    expect(await countByStatus(stack.clients.dynamodb, stack.tables.messages)).toMatchObject({ throttled: 1 });
  });

  it('sends an email to the recipients not in their cooldown, and other keys through', async () => {
    const cooldown = { key: 'reminder:42', hours: 2 };
    const first = await api(stack, 'POST', '/v1/emails', email('remind-1', 'held@example.org', cooldown));
    await statusOf(stack, first.body.id, 'sent');
    const both = await api(
      stack,
      'POST',
      '/v1/emails',
      email('remind-2', ['held@example.org', 'free@example.org'], cooldown),
    );
    const other = await api(
      stack,
      'POST',
      '/v1/emails',
      email('other-key', 'held@example.org', { key: 'reminder:43', hours: 2 }),
    );
    const view = await statusOf(stack, both.body.id, 'sent');
    await statusOf(stack, other.body.id, 'sent');
    expect(view.events.at(-1).detail.throttledRecipients).toEqual([
      expect.objectContaining({ address: 'held@example.org' }),
    ]);
    const [received] = await inboxWith('remind-2');
    expect(received?.destination.to).toEqual(['free@example.org']);
  });

  it('checks a scheduled email when it is due, not when it was accepted', async () => {
    const cooldown = { key: 'trial-ending', hours: 24 };
    const later = await api(stack, 'POST', '/v1/emails', {
      ...email('trial-scheduled', 'trial@example.org', cooldown),
      scheduledAt: new Date(now() + 20 * 60_000).toISOString(),
    });
    expect(later.status).toBe(202);
    const first = await api(stack, 'POST', '/v1/emails', email('trial-now', 'trial@example.org', cooldown));
    await statusOf(stack, first.body.id, 'sent');
    offsetMs += 20 * 60_000 + 1000;
    await stack.scheduler.fireDue();
    const view = await statusOf(stack, later.body.id, 'throttled');
    expect(view.events.map((e: { type: string }) => e.type)).toEqual(['scheduled', 'throttled']);
    expect(await inboxWith('trial-scheduled')).toHaveLength(0);
  });

  it("sends again once the window has ended by the dispatcher's clock", async () => {
    const cooldown = { key: 'weekly', hours: 1 };
    const first = await api(stack, 'POST', '/v1/emails', email('weekly-1', 'weekly@example.org', cooldown));
    await statusOf(stack, first.body.id, 'sent');
    offsetMs += HOUR;
    const second = await api(stack, 'POST', '/v1/emails', email('weekly-2', 'weekly@example.org', cooldown));
    await statusOf(stack, second.body.id, 'sent');
    expect(await inboxWith('weekly-2')).toHaveLength(1);
  });
});
