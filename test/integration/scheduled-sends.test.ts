import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { countByStatus } from '../../bin/local-status';
import { hashKey } from '../../functions/app/auth';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoKeyStore } from '../../functions/store/key-store';
import { api, drained, eventually, inbox, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;
/** The injected clock: the API, the dispatcher and the local scheduler see real time plus this. */
let offsetMs = 0;
const now = () => Date.now() + offsetMs;
const ahead = (ms: number) => new Date(now() + ms).toISOString();

const email = (subject: string, extra: Record<string, unknown> = {}) => ({
  from: 'app@example.com',
  to: 'user@example.org',
  subject,
  text: 'Hello',
  ...extra,
});
const inboxWith = async (subject: string) => (await inbox(stack)).filter((e) => e.subject === subject);
const types = (view: { events: { type: string }[] }) => view.events.map((e) => e.type);
/** Moves the clock on, and waits until the local scheduler has fired what is due by then. */
async function advance(ms: number) {
  offsetMs += ms;
  await stack.scheduler.fireDue();
}

useLocalStack(
  (s) => {
    stack = s;
  },
  { now },
);

describe('scheduled sends on the local stack', () => {
  it('sends an email scheduled 2 s ahead at its time, answering its time in UTC', async () => {
    const at = new Date(Math.ceil((now() + 2000) / 1000) * 1000);
    // The same instant, written with a +02:00 offset.
    const local = new Date(at.getTime() + 2 * 3_600_000).toISOString().replace('.000Z', '+02:00');
    const res = await api(stack, 'POST', '/v1/emails', email('sched-2s', { scheduledAt: local }));
    expect(res).toMatchObject({ status: 202, body: { scheduledAt: at.toISOString() } });
    const waiting = await api(stack, 'GET', `/v1/emails/${res.body.id}`);
    expect(waiting.body).toMatchObject({ status: 'scheduled', scheduledAt: at.toISOString() });
    expect(await countByStatus(stack.clients.dynamodb, stack.tables.messages)).toMatchObject({ scheduled: 1 });
    const sent = await statusOf(stack, res.body.id, 'sent');
    expect(types(sent)).toEqual(['scheduled', 'sent']);
    expect(await inboxWith('sched-2s')).toHaveLength(1);
  });

  it('sends an email scheduled 20 minutes ahead once the (injected) clock gets there', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('sched-20m', { scheduledAt: ahead(20 * 60_000) }));
    expect(res.status).toBe(202);
    await advance(10 * 60_000);
    expect((await api(stack, 'GET', `/v1/emails/${res.body.id}`)).body.status).toBe('scheduled');
    await advance(10 * 60_000 + 1000);
    await statusOf(stack, res.body.id, 'sent');
    expect(await inboxWith('sched-20m')).toHaveLength(1);
  });

  it('reschedules: a later time on the schedule, then a near one on the queue; sent once, at the last time', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('sched-move', { scheduledAt: ahead(20 * 60_000) }));
    const later = ahead(40 * 60_000);
    const moved = await api(stack, 'PATCH', `/v1/emails/${res.body.id}`, { scheduledAt: later });
    expect(moved).toMatchObject({ status: 200, body: { status: 'scheduled', scheduledAt: later } });
    await advance(25 * 60_000);
    expect((await api(stack, 'GET', `/v1/emails/${res.body.id}`)).body.status).toBe('scheduled');
    // Nearer than 15 minutes: a delayed queue message; the schedule is gone.
    const soon = new Date(Math.ceil((now() + 1000) / 1000) * 1000).toISOString();
    const again = await api(stack, 'PATCH', `/v1/emails/${res.body.id}`, { scheduledAt: soon });
    expect(again.body).toMatchObject({ status: 'scheduled', scheduledAt: soon });
    const sent = await statusOf(stack, res.body.id, 'sent');
    expect(types(sent)).toEqual(['scheduled', 'rescheduled', 'rescheduled', 'sent']);
    await advance(20 * 60_000);
    await drained(stack);
    expect(await inboxWith('sched-move')).toHaveLength(1);
  });

  it('cancels before the firing: never sent; a second cancel or a reschedule is a 409 with the status', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('sched-cancel', { scheduledAt: ahead(20 * 60_000) }));
    const canceled = await api(stack, 'POST', `/v1/emails/${res.body.id}/cancel`);
    expect(canceled).toMatchObject({ status: 200, body: { status: 'canceled' } });
    expect(types(canceled.body)).toEqual(['scheduled', 'canceled']);
    await advance(21 * 60_000);
    await drained(stack);
    expect(await inboxWith('sched-cancel')).toHaveLength(0);
    expect(await api(stack, 'POST', `/v1/emails/${res.body.id}/cancel`)).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', details: [{ path: 'status', message: 'canceled' }] } },
    });
    expect((await api(stack, 'PATCH', `/v1/emails/${res.body.id}`, { scheduledAt: ahead(60_000) })).status).toBe(409);
  });

  it('cancel racing the firing: a canceled email is never sent, a sent one was never canceled', async () => {
    const subjects = Array.from({ length: 10 }, (_, i) => `sched-race-${i}`);
    const accepted = await api(stack, 'POST', '/v1/emails/batch', {
      emails: subjects.map((s) => email(s, { scheduledAt: ahead(20 * 60_000) })),
    });
    expect(accepted.status).toBe(202);
    offsetMs += 20 * 60_000 + 1000;
    // The firings and the cancels at the same time.
    const [, ...cancels] = await Promise.all([
      stack.scheduler.fireDue(),
      ...accepted.body.data.map((d: { id: string }) => api(stack, 'POST', `/v1/emails/${d.id}/cancel`)),
    ]);
    await drained(stack);
    for (const [i, { id }] of (accepted.body.data as { id: string }[]).entries()) {
      const view = (await api(stack, 'GET', `/v1/emails/${id}`)).body;
      const received = await inboxWith(subjects[i] as string);
      if (cancels[i]?.status === 200) {
        expect(view.status).toBe('canceled');
        expect(received).toHaveLength(0);
      } else {
        expect(cancels[i]).toMatchObject({ status: 409 });
        expect(await statusOf(stack, id, 'sent')).toBeDefined();
        expect(received).toHaveLength(1);
      }
    }
  });

  it('checks suppression at send time: suppressed between accept and send, it ends suppressed', async () => {
    const to = 'later-suppressed@example.org';
    const res = await api(
      stack,
      'POST',
      '/v1/emails',
      email('sched-suppressed', { to, scheduledAt: ahead(20 * 60_000) }),
    );
    expect(res.status).toBe(202);
    expect((await api(stack, 'PUT', `/v1/suppressions/${to}`, {})).status).toBeLessThan(300);
    await advance(20 * 60_000 + 1000);
    const view = await statusOf(stack, res.body.id, 'suppressed');
    expect(types(view)).toEqual(['scheduled', 'suppressed']);
    expect(await inboxWith('sched-suppressed')).toHaveLength(0);
  });

  it('checks the key at send time: a key revoked after scheduling sends nothing and says why', async () => {
    const key = 'mr_sched_revoked_key_0001';
    const keys = new DynamoKeyStore(documentClient(stack.clients.dynamodb), stack.tables.settings);
    await keys.put(hashKey(key), {
      name: 'to-revoke',
      createdAt: new Date().toISOString(),
      scopes: ['send', 'read'],
      senderDomains: ['example.com'],
      ratePerSecond: 100,
    });
    const res = await api(stack, 'POST', '/v1/emails', email('sched-revoked', { scheduledAt: ahead(20 * 60_000) }), {
      authorization: `Bearer ${key}`,
    });
    expect(res.status).toBe(202);
    await keys.revoke({ name: 'to-revoke' });
    await advance(20 * 60_000 + 1000);
    const view = await statusOf(stack, res.body.id, 'failed');
    expect(view.reason).toBe('refused at send time: the API key that scheduled it was revoked');
    expect(await inboxWith('sched-revoked')).toHaveLength(0);
  });

  it('a schedule firing twice sends once', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('sched-twice', { scheduledAt: ahead(20 * 60_000) }));
    await advance(20 * 60_000 + 1000);
    await statusOf(stack, res.body.id, 'sent');
    const firing = stack.scheduler.fired.find((f) => f.body.includes(res.body.id));
    expect(firing).toBeDefined();
    // The same firing delivered again (Scheduler delivers at least once).
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: firing?.queueUrl, MessageBody: firing?.body }));
    await drained(stack);
    expect(await inboxWith('sched-twice')).toHaveLength(1);
    const view = (await api(stack, 'GET', `/v1/emails/${res.body.id}`)).body;
    expect(types(view).filter((t: string) => t === 'sent')).toHaveLength(1);
  });

  it('refuses a time without an offset, in the past or beyond 30 days (422, nothing created)', async () => {
    const before = await countByStatus(stack.clients.dynamodb, stack.tables.messages);
    for (const scheduledAt of ['2030-01-01T10:00:00', ahead(-60_000), ahead(31 * 86_400_000)]) {
      const res = await api(stack, 'POST', '/v1/emails', email('sched-bad', { scheduledAt }));
      expect(res, scheduledAt).toMatchObject({
        status: 422,
        body: { error: { code: 'validation_failed', details: [{ path: 'scheduledAt' }] } },
      });
    }
    expect(await countByStatus(stack.clients.dynamodb, stack.tables.messages)).toEqual(before);
    await eventually(async () => ((await inboxWith('sched-bad')).length === 0 ? true : undefined), 'no sched-bad');
  });
});
