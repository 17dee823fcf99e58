import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler, type IngestDeps } from '../../../functions/app/ingest';
import type { ScheduleChange } from '../../../functions/app/scheduling';
import { scheduledBodyKey } from '../../../functions/core/schedule';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';
import { FaultyContentStore, MemoryScheduler } from '../../support/scheduling-fakes';

const KEY = 'mr_test_key_123456';
const OTHER = 'mr_test_other_123456';
const NOW = Date.parse('2026-11-22T10:00:00Z');
const ARNS = {
  critical: 'arn:aws:sqs:eu-west-1:111111111111:critical',
  transactional: 'arn:aws:sqs:eu-west-1:111111111111:send',
  bulk: 'arn:aws:sqs:eu-west-1:111111111111:bulk',
};
const email = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'Hello' };
const at = (ms: number) => new Date(NOW + ms).toISOString();

let messages: MemoryMessageStore;
let queue: MemoryQueue;
let scheduler: MemoryScheduler;
let content: FaultyContentStore;
let changes: ScheduleChange[];
let nowMs: number;
let handler: ReturnType<typeof createIngestHandler>;

function build(given: Partial<IngestDeps> = {}) {
  const keys = new MemoryKeys();
  const base = { createdAt: '2026-01-01T00:00:00Z', senderDomains: ['example.com'], ratePerSecond: 100 };
  void keys.put(hashKey(KEY), { ...base, name: 'app', scopes: ['send', 'read'] });
  void keys.put(hashKey(OTHER), { ...base, name: 'other', scopes: ['send', 'read'] });
  let ids = 0;
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      newId: () => `id-${++ids}`,
      now: () => new Date(nowMs),
      scheduling: {
        scheduler,
        content,
        queueArns: ARNS,
        changed: async (c) => {
          changes.push(c);
        },
      },
      ...given,
    }),
  );
}

beforeEach(() => {
  messages = new MemoryMessageStore();
  queue = new MemoryQueue();
  scheduler = new MemoryScheduler();
  content = new FaultyContentStore();
  changes = [];
  nowMs = NOW;
  build();
});

async function call(routeKey: string, opts: Parameters<typeof httpEvent>[1] & { key?: string } = {}) {
  const event = httpEvent(routeKey, {
    ...opts,
    headers: { authorization: `Bearer ${opts.key ?? KEY}`, ...opts.headers },
  });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}
const send = (extra: Record<string, unknown>) =>
  call('POST /v1/emails', { body: JSON.stringify({ ...email, ...extra }) });

describe('accepting a scheduled email', () => {
  it('up to 15 minutes ahead: its firing waits on its queue with a delivery delay, its body in the content store', async () => {
    const res = await send({ scheduledAt: '2026-11-22T11:10:00+01:00' });
    expect(res).toEqual({ status: 202, body: { id: 'id-1', scheduledAt: '2026-11-22T10:10:00.000Z' } });
    expect(messages.items.get('id-1')).toMatchObject({
      status: 'scheduled',
      scheduledAt: '2026-11-22T10:10:00.000Z',
      scheduleRev: 1,
      scheduleVia: 'queue',
    });
    expect(queue.sent).toEqual([
      {
        id: 'id-1',
        body: JSON.stringify({ v: 1, kind: 'scheduled', id: 'id-1', rev: 1, priority: 'transactional' }),
        delaySeconds: 600,
      },
    ]);
    // No body in the queue message or the record: it waits in the content store.
    const stored = JSON.parse(new TextDecoder().decode(await content.get(scheduledBodyKey('id-1'))));
    expect(stored).toMatchObject({ keyHash: hashKey(KEY), email: { id: 'id-1', text: 'Hello' } });
    expect(scheduler.schedules.size).toBe(0);
    expect(changes).toEqual([
      { type: 'email.scheduled', id: 'id-1', at: at(0), scheduledAt: '2026-11-22T10:10:00.000Z' },
    ]);
  });

  it("further ahead: a one-time schedule whose target is its priority's queue", async () => {
    const res = await send({ scheduledAt: at(20 * 60_000), priority: 'bulk' });
    expect(res.status).toBe(202);
    expect(scheduler.schedules.get('m-id-1')).toEqual({
      name: 'm-id-1',
      expression: 'at(2026-11-22T10:20:00)',
      queueArn: ARNS.bulk,
      body: JSON.stringify({ v: 1, kind: 'scheduled', id: 'id-1', rev: 1, priority: 'bulk' }),
    });
    expect(queue.sent).toHaveLength(0);
    expect(messages.items.get('id-1')).toMatchObject({ status: 'scheduled', scheduleVia: 'scheduler' });
  });

  it('mixes a batch: immediate emails are queued, scheduled ones wait, each answered with its time', async () => {
    const res = await call('POST /v1/emails/batch', {
      body: JSON.stringify({ emails: [email, { ...email, scheduledAt: at(3600_000) }] }),
    });
    expect(res).toEqual({ status: 202, body: { data: [{ id: 'id-1' }, { id: 'id-2', scheduledAt: at(3600_000) }] } });
    expect(messages.items.get('id-1')?.status).toBe('queued');
    expect(messages.items.get('id-2')?.status).toBe('scheduled');
  });

  it('refuses bad times with their paths (422) and writes nothing', async () => {
    const res = await call('POST /v1/emails/batch', {
      body: JSON.stringify({
        emails: [
          { ...email, scheduledAt: '2026-11-22T12:00:00' },
          email,
          { ...email, scheduledAt: at(-1) },
          { ...email, scheduledAt: at(31 * 86_400_000) },
          { ...email, scheduledAt: 1700000000 },
        ],
      }),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['emails.4.scheduledAt']);
    const times = await call('POST /v1/emails/batch', {
      body: JSON.stringify({
        emails: [
          { ...email, scheduledAt: '2026-11-22T12:00:00' },
          email,
          { ...email, scheduledAt: at(-1) },
          { ...email, scheduledAt: at(31 * 86_400_000) },
        ],
      }),
    });
    expect(times.status).toBe(422);
    expect(times.body.error.details).toEqual([
      { path: 'emails.0.scheduledAt', message: expect.stringContaining('with an offset') },
      { path: 'emails.2.scheduledAt', message: 'scheduledAt is in the past' },
      { path: 'emails.3.scheduledAt', message: 'scheduledAt is at most 30 days ahead' },
    ]);
    expect(messages.items.size).toBe(0);
    expect(content.objects.size).toBe(0);
  });

  it('leaves nothing behind when a schedule cannot be created (503)', async () => {
    scheduler.failCreate = true;
    const res = await call('POST /v1/emails/batch', {
      body: JSON.stringify({ emails: [email, { ...email, scheduledAt: at(3600_000) }] }),
    });
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(messages.items.size).toBe(0);
    expect(content.objects.size).toBe(0);
    expect(changes).toEqual([]);
  });

  it('leaves nothing behind when the body cannot be stored (503)', async () => {
    content.failPut = true;
    expect((await send({ scheduledAt: at(3600_000) })).status).toBe(503);
    expect(messages.items.size).toBe(0);
    expect(scheduler.schedules.size).toBe(0);
  });

  it('is a 422 where the deployment has no scheduling', async () => {
    build({ scheduling: undefined });
    const res = await send({ scheduledAt: at(3600_000) });
    expect(res).toMatchObject({ status: 422, body: { error: { details: [{ path: 'scheduledAt' }] } } });
    expect(messages.items.size).toBe(0);
  });
});

describe('PATCH /v1/emails/{id}', () => {
  const patch = (id: string, body: unknown, key = KEY) =>
    call('PATCH /v1/emails/{id}', { path: { id }, body: JSON.stringify(body), key });

  it('moves the schedule: the record first (next version), then the schedule, with a timeline event', async () => {
    await send({ scheduledAt: at(3600_000) });
    const res = await patch('id-1', { scheduledAt: '2026-11-23T09:00:00-02:00' });
    expect(res).toMatchObject({ status: 200, body: { status: 'scheduled', scheduledAt: '2026-11-23T11:00:00.000Z' } });
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual(['scheduled', 'rescheduled']);
    expect(messages.items.get('id-1')).toMatchObject({ scheduleRev: 2, scheduleVia: 'scheduler' });
    expect(scheduler.schedules.get('m-id-1')).toMatchObject({
      expression: 'at(2026-11-23T11:00:00)',
      body: expect.stringContaining('"rev":2'),
    });
    expect(changes.at(-1)).toMatchObject({ type: 'email.rescheduled', scheduledAt: '2026-11-23T11:00:00.000Z' });
  });

  it('moving near: a delayed queue message of the next version, the old schedule deleted', async () => {
    await send({ scheduledAt: at(3600_000) });
    await patch('id-1', { scheduledAt: at(60_000) });
    expect(queue.sent.at(-1)).toMatchObject({ delaySeconds: 60, body: expect.stringContaining('"rev":2') });
    expect(scheduler.schedules.size).toBe(0);
  });

  it('a schedule that already fired is created again', async () => {
    await send({ scheduledAt: at(3600_000) });
    scheduler.schedules.clear();
    expect((await patch('id-1', { scheduledAt: at(7200_000) })).status).toBe(200);
    expect(scheduler.calls.slice(-2)).toEqual(['update m-id-1', 'create m-id-1']);
  });

  it('keeps its time when the schedule cannot be changed (503), the record back at its version', async () => {
    await send({ scheduledAt: at(3600_000) });
    scheduler.failUpdate = true;
    const res = await patch('id-1', { scheduledAt: at(7200_000) });
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(messages.items.get('id-1')).toMatchObject({ scheduledAt: at(3600_000), scheduleRev: 1 });
    expect(scheduler.schedules.get('m-id-1')?.body).toContain('"rev":1');
  });

  it('is a 409 with the status once it is not scheduled, 422 for a bad body or time, 404 for another key', async () => {
    await send({});
    expect(await patch('id-1', { scheduledAt: at(60_000) })).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', details: [{ path: 'status', message: 'queued' }] } },
    });
    await send({ scheduledAt: at(3600_000) });
    expect((await patch('id-2', { scheduledAt: at(60_000), extra: 1 })).status).toBe(422);
    expect((await patch('id-2', {})).status).toBe(422);
    expect((await patch('id-2', { scheduledAt: 'soon' })).status).toBe(422);
    expect((await patch('id-2', { scheduledAt: at(-1) })).status).toBe(422);
    expect((await patch('id-2', { scheduledAt: at(60_000) }, OTHER)).status).toBe(404);
    expect(messages.items.get('id-2')?.scheduleRev).toBe(1);
  });
});

describe('POST /v1/emails/{id}/cancel', () => {
  const cancel = (id: string, key = KEY) => call('POST /v1/emails/{id}/cancel', { path: { id }, key });

  it('cancels: canceled on the record, schedule and body deleted', async () => {
    await send({ scheduledAt: at(3600_000) });
    const res = await cancel('id-1');
    expect(res).toMatchObject({ status: 200, body: { status: 'canceled', reason: 'canceled before it was due' } });
    expect(scheduler.schedules.size).toBe(0);
    expect(content.objects.size).toBe(0);
    expect(changes.at(-1)).toMatchObject({ type: 'email.canceled', id: 'id-1' });
  });

  it('counts a schedule already gone as fired: the record decides', async () => {
    await send({ scheduledAt: at(3600_000) });
    scheduler.schedules.clear();
    expect((await cancel('id-1')).status).toBe(200);
  });

  it('loses to a firing that claimed first: 409 with the status, nothing deleted', async () => {
    await send({ scheduledAt: at(3600_000) });
    nowMs = NOW + 3600_000;
    expect((await messages.claim('id-1', 't', nowMs, { rev: 1 })).ok).toBe(true);
    expect(await cancel('id-1')).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', details: [{ path: 'status', message: 'sending' }] } },
    });
    expect(content.objects.size).toBe(1);
  });

  it("is a 404 for another key's email", async () => {
    await send({ scheduledAt: at(3600_000) });
    expect((await cancel('id-1', OTHER)).status).toBe(404);
    expect(messages.items.get('id-1')?.status).toBe('scheduled');
  });
});

describe('the claim of a scheduled firing', () => {
  it('takes the message only when due, at its version; a canceled one never', async () => {
    await send({ scheduledAt: at(3600_000) });
    expect(await messages.claim('id-1', 't', NOW + 3599_000, { rev: 1 })).toMatchObject({ ok: false });
    expect(await messages.claim('id-1', 't', NOW + 3600_000, { rev: 2 })).toMatchObject({ ok: false });
    expect(await messages.claim('id-1', 't', NOW + 3600_000)).toMatchObject({ ok: false });
    expect(await messages.claim('id-1', 't', NOW + 3600_000, { rev: 1 })).toMatchObject({ ok: true });
    await send({ scheduledAt: at(60_000) });
    await call('POST /v1/emails/{id}/cancel', { path: { id: 'id-2' } });
    expect(await messages.claim('id-2', 't', NOW + 60_000, { rev: 1 })).toMatchObject({
      ok: false,
      current: { status: 'canceled' },
    });
  });
});
