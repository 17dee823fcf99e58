/**
 * The reputation guard on the local stack: hard bounces on bulk mail (SES notifications published to
 * the SES events topic, as SES would, for real-looking addresses: the simulator's never count) pause
 * the bulk stream only; transactional mail keeps flowing; bulk mail accepted meanwhile waits; a
 * resume sends each waiting email exactly once.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { sesFixture } from '../support/fixtures';
import { api, drained, eventually, inbox, queueCounts, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;

useLocalStack(
  (s) => {
    stack = s;
  },
  // A small volume decides; held mail is looked at again every second; a resume is seen at once.
  { guard: { minVolume: 5, heldWaitSeconds: 1 }, settingsCacheMs: 200 },
);

const newsletter = (i: number, run: string) => ({
  from: 'news@example.com',
  to: `reader-${run}-${i}@example.org`,
  subject: `news-${run}-${i}`,
  text: 'This week',
  category: 'newsletter',
});
const reset = (subject: string) => ({
  from: 'app@example.com',
  to: 'jane@example.org',
  subject,
  text: 'Your code',
  category: 'transactional',
});

/** A hard bounce of one of our emails, published to the SES events topic as SES does. */
async function publishBounce(messageId: string, address: string) {
  const n = sesFixture('event-bounce-permanent.json', messageId) as {
    bounce: { feedbackId: string; bouncedRecipients: { emailAddress: string }[] };
  };
  n.bounce.feedbackId = `fb-${messageId}`;
  n.bounce.bouncedRecipients = [{ emailAddress: address }];
  await stack.clients.sns.send(new PublishCommand({ TopicArn: stack.sesEventsTopicArn, Message: JSON.stringify(n) }));
}

const streamOf = async (priority: string) => {
  const r = await api(stack, 'GET', '/v1/settings/streams');
  return r.body.streams.find((s: { priority: string }) => s.priority === priority);
};

describe('the reputation guard on the local stack', () => {
  it('a rising hard-bounce rate on bulk mail pauses bulk only; resume sends what waited, each exactly once', async () => {
    // A newsletter goes out (10 sends counted for bulk), and a password reset (transactional).
    const sent = await api(stack, 'POST', '/v1/emails/batch', {
      emails: Array.from({ length: 10 }, (_, i) => newsletter(i, 'a')),
    });
    expect(sent.status).toBe(202);
    const ids: string[] = sent.body.data.map((d: { id: string }) => d.id);
    for (const id of ids) await statusOf(stack, id, 'sent');
    const before = await api(stack, 'POST', '/v1/emails', reset('reset-1'));
    await statusOf(stack, before.body.id, 'sent');
    expect((await streamOf('bulk')).rates.sends).toBe(10);

    // Two of the ten bounce hard (20 %, over the pause line of 8 %).
    await publishBounce(ids[0] as string, 'reader-a-0@example.org');
    await publishBounce(ids[1] as string, 'reader-a-1@example.org');
    const paused = await eventually(async () => {
      const s = await streamOf('bulk');
      return s.state === 'paused' && s.rates.bounces === 2 ? s : undefined;
    }, 'the bulk stream to be paused, with both bounces counted');
    // Paused once (by the first bounce already: 10 %), whatever came after.
    expect(paused.timeline.map((e: { type: string }) => e.type)).toEqual(['paused']);
    expect(paused.rates).toMatchObject({ sends: 10, bounces: 2, bounceRatePercent: 20 });
    expect(await streamOf('transactional')).toMatchObject({ state: 'active' });
    expect(await streamOf('critical')).toMatchObject({ state: 'active' });

    // While paused: bulk mail is accepted and waits; transactional and critical mail goes out.
    const waiting = await api(stack, 'POST', '/v1/emails/batch', {
      emails: Array.from({ length: 3 }, (_, i) => newsletter(i, 'b')),
    });
    expect(waiting.status).toBe(202);
    const waitingIds: string[] = waiting.body.data.map((d: { id: string }) => d.id);
    const after = await api(stack, 'POST', '/v1/emails', reset('reset-2'));
    const critical = await api(stack, 'POST', '/v1/emails', { ...reset('reset-3'), priority: 'critical' });
    await statusOf(stack, after.body.id, 'sent');
    await statusOf(stack, critical.body.id, 'sent');
    // The newsletter has been looked at and put back on the bulk queue to wait (a delayed copy), not sent.
    await eventually(
      async () => ((await queueCounts(stack, stack.queues.sendBulk)).delayed > 0 ? true : undefined),
      'held mail',
    );
    for (const id of waitingIds) {
      const view = await api(stack, 'GET', `/v1/emails/${id}`);
      expect(view.body).toMatchObject({ status: 'queued', priority: 'bulk' });
    }
    expect((await inbox(stack)).filter((e) => e.subject.startsWith('news-b-'))).toEqual([]);

    // An admin resumes the stream: what waited goes out, each email once.
    const resumed = await api(stack, 'POST', '/v1/settings/streams/bulk/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ priority: 'bulk', state: 'active' });
    expect(resumed.body.timeline.map((e: { type: string }) => e.type)).toEqual(['resumed', 'paused']);
    for (const id of waitingIds) await statusOf(stack, id, 'sent');
    await drained(stack);
    const mail = await inbox(stack);
    for (let i = 0; i < 3; i++)
      expect(
        mail.filter((e) => e.subject === `news-b-${i}`),
        `news-b-${i}`,
      ).toHaveLength(1);
    expect(mail.filter((e) => e.subject === 'reset-2')).toHaveLength(1);

    // A second resume finds nothing paused; an unknown stream is named.
    const again = await api(stack, 'POST', '/v1/settings/streams/bulk/resume');
    expect(again.status).toBe(409);
    expect(again.body.error.details).toEqual([{ path: 'state', message: 'active' }]);
    const unknown = await api(stack, 'POST', '/v1/settings/streams/newsletter/resume');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('"newsletter"');
  });

  it('mail to the SES simulator never counts: its bounces pause nothing', async () => {
    const before = await streamOf('transactional');
    const r = await api(stack, 'POST', '/v1/emails/batch', {
      emails: Array.from({ length: 6 }, (_, i) => ({
        ...reset(`sim-${i}`),
        to: `bounce+${i}@simulator.amazonses.com`,
      })),
    });
    for (const d of r.body.data as { id: string }[]) await statusOf(stack, d.id, 'bounced');
    await drained(stack);
    const after = await streamOf('transactional');
    expect(after).toMatchObject({ state: 'active', warning: false });
    expect(after.rates).toMatchObject({ sends: before.rates.sends, bounces: before.rates.bounces });
  });
});
