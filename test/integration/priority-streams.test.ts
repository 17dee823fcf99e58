/**
 * Priority streams on the local stack: a transactional email accepted behind a bulk backlog goes out
 * before the backlog has drained, because it waits in its own queue with its own pollers. Asserted by
 * the order the provider received the emails in, never by timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../bin/local-stack';
import { countPipeline } from '../../bin/local-status';
import { api, drained, eventually, statusOf } from '../support/local';
import { type Relay, startRelay } from '../support/relay';

const BULK = 200;
/** The relay's rate limit: the backlog takes about BULK / LIMIT seconds to drain. */
const LIMIT = 20;

let stack: LocalStack;
let relay: Relay;

beforeAll(async () => {
  relay = await startRelay();
  stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    providers: {
      providers: [
        {
          id: 'relay',
          type: 'http',
          url: relay.url,
          token: 'relay-token-0123456789',
          limits: [{ limit: LIMIT, windowSeconds: 1 }],
        },
      ],
      chain: ['relay'],
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await relay?.close();
});

const newsletter = (i: number) => ({
  from: 'news@example.com',
  to: `reader-${i}@example.org`,
  subject: `newsletter ${i}`,
  text: 'This week…',
  category: 'newsletter',
});

describe('a transactional email accepted behind a bulk backlog', () => {
  it('is sent before the backlog drains, and every bulk email is still sent exactly once', async () => {
    const bulkIds: string[] = [];
    for (let start = 0; start < BULK; start += 100) {
      const res = await api(stack, 'POST', '/v1/emails/batch', {
        emails: Array.from({ length: 100 }, (_, i) => newsletter(start + i)),
      });
      expect(res.status).toBe(202);
      bulkIds.push(...res.body.data.map((d: { id: string }) => d.id));
    }
    // The backlog is draining (some bulk mail already went out) when the password reset arrives.
    await eventually(async () => (relay.sent().length > 0 ? true : undefined), 'the first bulk send');
    const reset = await api(stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'user@example.org',
      subject: 'Reset your password',
      text: 'Your code is 123456',
    });
    expect(reset.status).toBe(202);
    const view = await statusOf(stack, reset.body.id, 'sent');
    expect(view.priority).toBe('transactional');
    expect(view.events[0]).toMatchObject({ type: 'queued', detail: { priority: 'transactional' } });

    // When it was sent, bulk mail was still waiting: the provider got it before the last newsletter.
    const order = relay.sent();
    const position = order.indexOf(reset.body.id);
    expect(position).toBeGreaterThanOrEqual(0);
    const bulkBefore = order.slice(0, position).length;
    expect(bulkBefore).toBeLessThan(BULK);
    const counts = await countPipeline(stack.clients.dynamodb, stack.tables.messages);
    expect(counts.byPriority.transactional).toEqual({ sent: 1 });

    // The backlog drains in the end, each newsletter once, all of them after the reset in priority.
    await drained(stack, undefined, 60_000);
    const sent = relay.sent();
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.filter((id) => bulkIds.includes(id)).sort()).toEqual([...bulkIds].sort());
  }, 120_000);
});
