import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import type { Priority } from '../../../functions/core/priority';
import { QueuedEmail } from '../../../functions/core/queued-email';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const KEY = 'mr_test_key_123456';
const email = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', html: '<p>Hello</p>' };

let messages: MemoryMessageStore;
let queues: Record<Priority, MemoryQueue>;
let handler: ReturnType<typeof createIngestHandler>;

beforeEach(async () => {
  messages = new MemoryMessageStore();
  queues = { critical: new MemoryQueue(), transactional: new MemoryQueue(), bulk: new MemoryQueue() };
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), {
    name: 'app',
    createdAt: '2026-01-01T00:00:00Z',
    scopes: ['send', 'read'],
    senderDomains: ['example.com'],
    ratePerSecond: 100,
  });
  let ids = 0;
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      queues,
      auth: new Authenticator(keys),
      newId: () => `id-${++ids}`,
      now: () => new Date('2026-11-22T10:00:00Z'),
    }),
  );
});

async function call(routeKey: string, body: unknown) {
  const event = httpEvent(routeKey, { body: JSON.stringify(body), headers: { authorization: `Bearer ${KEY}` } });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

/** The ids on each queue, and the priority each queued message carries. */
const onQueues = () =>
  Object.fromEntries(
    Object.entries(queues).map(([priority, q]) => [
      priority,
      q.sent.map((e) => {
        const parsed = QueuedEmail.parse(JSON.parse(e.body));
        return `${parsed.id}:${parsed.priority}`;
      }),
    ]),
  );

describe('priority of one email', () => {
  it.each([
    [{}, 'transactional'],
    [{ category: 'transactional' }, 'transactional'],
    [{ category: 'newsletter' }, 'bulk'],
    [{ priority: 'critical' }, 'critical'],
    [{ category: 'newsletter', priority: 'transactional' }, 'transactional'],
    [{ category: 'transactional', priority: 'bulk' }, 'bulk'],
  ] as const)(
    '%j goes to the %s queue, with the priority on the record, the timeline and the view',
    async (extra, priority) => {
      const res = await call('POST /v1/emails', { ...email, ...extra });
      expect(res).toEqual({ status: 202, body: { id: 'id-1' } });
      expect(onQueues()).toEqual({
        critical: priority === 'critical' ? ['id-1:critical'] : [],
        transactional: priority === 'transactional' ? ['id-1:transactional'] : [],
        bulk: priority === 'bulk' ? ['id-1:bulk'] : [],
      });
      expect(messages.items.get('id-1')).toMatchObject({
        priority,
        events: [{ type: 'queued', at: '2026-11-22T10:00:00.000Z', detail: { priority } }],
      });
      const event = httpEvent('GET /v1/emails/{id}', {
        path: { id: 'id-1' },
        headers: { authorization: `Bearer ${KEY}` },
      });
      const view = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
      expect(JSON.parse(view.body ?? '')).toMatchObject({ id: 'id-1', priority, events: [{ detail: { priority } }] });
    },
  );

  it('refuses an unknown priority with a 422 in the error envelope, and records and queues nothing', async () => {
    const res = await call('POST /v1/emails', { ...email, priority: 'urgent' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      error: {
        code: 'validation_failed',
        message: expect.any(String),
        details: [{ path: 'priority', message: expect.stringMatching(/"critical", "transactional", "bulk"/) }],
      },
    });
    expect(messages.items.size).toBe(0);
    expect(Object.values(queues).every((q) => q.sent.length === 0)).toBe(true);
  });
});

describe('priority of batch items', () => {
  it('puts each email of a mixed batch on its own priority queue, ids in request order', async () => {
    const res = await call('POST /v1/emails/batch', {
      emails: [
        { ...email, category: 'newsletter' },
        { ...email, priority: 'critical' },
        email,
        { ...email, category: 'newsletter', priority: 'bulk' },
      ],
    });
    expect(res).toEqual({
      status: 202,
      body: { data: [{ id: 'id-1' }, { id: 'id-2' }, { id: 'id-3' }, { id: 'id-4' }] },
    });
    expect(onQueues()).toEqual({
      critical: ['id-2:critical'],
      transactional: ['id-3:transactional'],
      bulk: ['id-1:bulk', 'id-4:bulk'],
    });
    expect([...messages.items.values()].map((r) => [r.id, r.priority])).toEqual([
      ['id-1', 'bulk'],
      ['id-2', 'critical'],
      ['id-3', 'transactional'],
      ['id-4', 'bulk'],
    ]);
  });

  it('refuses a batch with an unknown priority (422 naming the item), and sends none', async () => {
    const res = await call('POST /v1/emails/batch', { emails: [email, { ...email, priority: 'low' }] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['emails.1.priority']);
    expect(messages.items.size).toBe(0);
    expect(Object.values(queues).every((q) => q.sent.length === 0)).toBe(true);
  });

  it('rolls back every record of a mixed batch when one priority queue fails (all or nothing)', async () => {
    queues.bulk.failAll = true;
    const res = await call('POST /v1/emails/batch', {
      emails: [{ ...email, priority: 'critical' }, email, { ...email, category: 'newsletter' }],
    });
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    expect(messages.items.size).toBe(0);
  });

  it('rolls back when a priority queue throws instead of answering', async () => {
    queues.critical.send = async () => {
      throw new Error('network');
    };
    const res = await call('POST /v1/emails/batch', { emails: [email, { ...email, priority: 'critical' }] });
    expect(res.status).toBe(503);
    expect(messages.items.size).toBe(0);
  });
});
