import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { withSearchIndex } from '../../../functions/app/email-search';
import { createIngestHandler } from '../../../functions/app/ingest';
import { decodeCursor, type IndexEntry, mergeReads } from '../../../functions/core/email-search';
import { EMAIL_INDEX_SHARDS } from '../../../functions/core/keys';
import { newRecord } from '../../../functions/core/message';
import { MemoryEmailIndex } from '../../support/email-index-fake';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const APP = 'mr_test_app_123456';
const OTHER = 'mr_test_other_123456';
const ADMIN = 'mr_test_admin_123456';
const base = { createdAt: '2026-01-01T00:00:00Z', senderDomains: ['*'], ratePerSecond: 1000 };

let messages: MemoryMessageStore;
let index: MemoryEmailIndex;
let handler: ReturnType<typeof createIngestHandler>;
let clock: number;

beforeEach(async () => {
  const keys = new MemoryKeys();
  await keys.put(hashKey(APP), { ...base, name: 'app', scopes: ['send', 'read'] });
  await keys.put(hashKey(OTHER), { ...base, name: 'other', scopes: ['send', 'read'] });
  await keys.put(hashKey(ADMIN), { ...base, name: 'ops', scopes: ['send', 'read', 'admin'] });
  messages = new MemoryMessageStore();
  index = new MemoryEmailIndex(messages);
  clock = Date.parse('2026-11-22T10:00:00Z');
  let n = 0;
  const queue = new MemoryQueue();
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      search: { index },
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      newId: () => `id-${String(++n).padStart(3, '0')}`,
      // Each reading of the clock a second later than the one before.
      now: () => {
        clock += 1000;
        return new Date(clock);
      },
    }),
  );
});

async function call(
  routeKey: string,
  key: string,
  opts: { body?: unknown; query?: Record<string, string>; path?: Record<string, string> } = {},
) {
  const event = httpEvent(routeKey, {
    headers: { authorization: `Bearer ${key}` },
    ...(opts.body ? { body: JSON.stringify(opts.body) } : {}),
    ...(opts.path ? { path: opts.path } : {}),
  });
  if (opts.query) event.queryStringParameters = opts.query;
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const send = async (key: string, email: Record<string, unknown>) => {
  const res = await call('POST /v1/emails', key, {
    body: { from: 'app@acme.example', to: 'jane@example.org', subject: 'Hi', text: 'Hi', ...email },
  });
  expect(res.status).toBe(202);
  return res.body.id as string;
};

const search = (key: string, query: Record<string, string> = {}) => call('GET /v1/emails', key, { query });
const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((e) => e.id);

describe('GET /v1/emails', () => {
  it("finds a key's own emails, newest first, each as GET /v1/emails/{id} shows it", async () => {
    const first = await send(APP, {});
    const second = await send(APP, { to: 'John <John@Example.org>' });
    await send(OTHER, {});
    const res = await search(APP);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([second, first]);
    expect(res.body.next).toBeNull();
    const one = await call('GET /v1/emails/{id}', APP, { path: { id: first } });
    expect(res.body.data[1]).toEqual(one.body);
  });

  it('lets an admin key see every key’s emails, and no other key', async () => {
    const mine = await send(APP, {});
    const theirs = await send(OTHER, {});
    expect(ids(await search(ADMIN))).toEqual([theirs, mine]);
    expect(ids(await search(OTHER))).toEqual([theirs]);
  });

  it('filters by recipient (any of to, cc, bcc, in normal form), sender, tag, priority and status', async () => {
    const toJane = await send(APP, { to: ['jane@example.org'], tags: { kind: 'receipt' } });
    const ccJane = await send(APP, { to: 'x@example.org', cc: 'JANE@example.org', priority: 'critical' });
    const fromBilling = await send(APP, { from: 'Billing <billing@acme.example>', to: 'y@example.org' });
    await send(OTHER, { to: 'jane@example.org' });
    expect(ids(await search(APP, { to: 'Jane@Example.org' }))).toEqual([ccJane, toJane]);
    expect(ids(await search(ADMIN, { to: 'jane@example.org' }))).toHaveLength(3);
    expect(ids(await search(APP, { from: 'billing@acme.example' }))).toEqual([fromBilling]);
    expect(ids(await search(APP, { tag: 'kind:receipt' }))).toEqual([toJane]);
    expect(ids(await search(APP, { tag: 'kind' }))).toEqual([toJane]);
    expect(ids(await search(APP, { tag: 'kind:invoice' }))).toEqual([]);
    expect(ids(await search(APP, { priority: 'critical' }))).toEqual([ccJane]);
    const record = messages.items.get(toJane);
    if (record) record.status = 'delivered';
    expect(ids(await search(APP, { status: 'delivered' }))).toEqual([toJane]);
    expect(ids(await search(APP, { status: 'queued', to: 'jane@example.org' }))).toEqual([ccJane]);
  });

  it('bounds by time: after is inclusive, before exclusive', async () => {
    const all = [await send(APP, {}), await send(APP, {}), await send(APP, {})];
    const at = (id: string) => messages.items.get(id)?.createdAt ?? '';
    expect(ids(await search(APP, { after: at(all[1] as string) }))).toEqual([all[2], all[1]]);
    expect(ids(await search(APP, { before: at(all[1] as string) }))).toEqual([all[0]]);
  });

  it('pages with next until it is null, each email once, in order', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 23; i++) sent.push(await send(APP, {}));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await search(APP, { limit: '5', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(5);
      seen.push(...ids(res));
      cursor = res.body.next ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual([...sent].reverse());
  });

  it('keeps paging past emails a status filter drops (a short page still has next)', async () => {
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) sent.push(await send(APP, {}));
    const failed = sent[2] as string;
    const record = messages.items.get(failed);
    if (record) record.status = 'failed';
    const found: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await search(APP, { status: 'failed', limit: '1', ...(cursor ? { cursor } : {}) });
      found.push(...ids(res));
      cursor = res.body.next ?? undefined;
    } while (cursor);
    expect(found).toEqual([failed]);
  });

  it.each([
    [{ status: 'lost' }, 'status'],
    [{ to: 'not-an-address' }, 'to'],
    [{ from: 'x' }, 'from'],
    [{ tag: 'a b' }, 'tag'],
    [{ priority: 'urgent' }, 'priority'],
    [{ after: 'yesterday' }, 'after'],
    [{ before: '2026-13-45' }, 'before'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ cursor: 'bm9wZQ' }, 'cursor'],
  ])('refuses %o with a 422 naming %s, and reads nothing', async (query, path) => {
    const res = await search(APP, query);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(index.reads).toBe(0);
  });

  it('refuses an unknown parameter (a misspelt filter never widens a search)', async () => {
    const res = await search(APP, { stauts: 'sent' });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.error)).toContain('stauts');
  });

  it('needs the read scope', async () => {
    const keys = new MemoryKeys();
    await keys.put(hashKey('mr_send_only_123456'), { ...base, name: 'sender', scopes: ['send'] });
    const h = createIngestHandler(ingestTestDeps({ auth: new Authenticator(keys) }));
    const event = httpEvent('GET /v1/emails', { headers: { authorization: 'Bearer mr_send_only_123456' } });
    const res = (await h(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(403);
  });
});

describe('the index', () => {
  it("spreads one key's emails over its shards, and reads every shard of a timeline", async () => {
    for (let i = 0; i < 40; i++) await send(APP, {});
    const shards = new Set([...index.entries.values()].filter((e) => e.pk.startsWith('key#app#')).map((e) => e.pk));
    expect(shards.size).toBe(EMAIL_INDEX_SHARDS);
    index.reads = 0;
    await search(APP, { limit: '100' });
    expect(index.reads).toBe(EMAIL_INDEX_SHARDS);
  });

  it('merges partitions: only what is certain to have no unread newer neighbour comes out', () => {
    const e = (sk: string): IndexEntry => ({
      pk: 'p',
      sk,
      id: sk,
      key: 'k',
      from: 'f',
      priority: 'transactional',
      tags: {},
      expiresAt: 0,
    });
    const merged = mergeReads([{ entries: [e('9'), e('5')], lastSk: '5' }, { entries: [e('8'), e('7'), e('3')] }], 10);
    expect(merged.entries.map((x) => x.sk)).toEqual(['9', '8', '7', '5']);
    expect(merged.next).toBe('5');
    expect(mergeReads([{ entries: [e('9'), e('8')] }], 1)).toEqual({ entries: [e('9')], next: '9' });
    expect(decodeCursor('garbage')).toBeUndefined();
  });
});

describe('the index written with the records', () => {
  it('passes a failed index write on only once the records are written, so removing them cannot race the write', async () => {
    const store = new MemoryMessageStore();
    let written = false;
    const slow = Object.assign(Object.create(store) as MemoryMessageStore, {
      createMany: async (records: Parameters<MemoryMessageStore['createMany']>[0]) => {
        await new Promise((r) => setTimeout(r, 20));
        await store.createMany(records);
        written = true;
      },
    });
    const failing = Object.assign(new MemoryEmailIndex(store), {
      add: async () => {
        throw new Error('index write failed');
      },
    });
    const record = newRecord(
      {
        id: 'm-race',
        from: 'a@example.com',
        to: ['b@example.org'],
        cc: [],
        bcc: [],
        subject: 's',
        tags: {},
        category: 'transactional',
        apiKey: 'app',
      },
      new Date('2026-01-01T00:00:00Z'),
      30,
    );
    await expect(withSearchIndex(slow, failing).createMany([record])).rejects.toThrow('index write failed');
    expect(written).toBe(true);
  });
});
