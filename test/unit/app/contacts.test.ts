/**
 * The contacts, lists and imports API through the ingest handler, on fakes: scopes, the error
 * envelope, every problem of a bad request listed (and nothing written), the erase path (data gone,
 * suppression kept) and the export.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { MemoryContactStore } from '../../support/contact-fakes';
import { MemoryContactImportStore } from '../../support/contact-import-fakes';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryQueue, MemorySuppression } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const ADMIN = 'mr_test_admin_123456';
const READER = 'mr_test_reader_123456';
const SENDER = 'mr_test_sender_123456';
const NOW = '2026-11-29T10:00:00.000Z';
const KEY = { createdAt: '2026-01-01T00:00:00Z', senderDomains: ['*'], ratePerSecond: 100 };

let store: MemoryContactStore;
let imports: MemoryContactImportStore;
let jobs: MemoryQueue;
let suppression: MemorySuppression;
let handler: ReturnType<typeof createIngestHandler>;
let ids: number;

beforeEach(async () => {
  const keys = new MemoryKeys();
  await keys.put(hashKey(ADMIN), { ...KEY, name: 'ops', scopes: ['send', 'read', 'admin'] });
  await keys.put(hashKey(READER), { ...KEY, name: 'reader', scopes: ['read'] });
  await keys.put(hashKey(SENDER), { ...KEY, name: 'app', scopes: ['send'] });
  store = new MemoryContactStore();
  imports = new MemoryContactImportStore();
  jobs = new MemoryQueue();
  suppression = new MemorySuppression();
  ids = 0;
  handler = createIngestHandler(
    ingestTestDeps({
      auth: new Authenticator(keys),
      suppression,
      contacts: { store, imports, jobs },
      newId: () => `id-${++ids}`,
      now: () => new Date(NOW),
    }),
  );
});

async function call(
  routeKey: string,
  opts: { body?: unknown; path?: Record<string, string>; query?: Record<string, string>; key?: string } = {},
) {
  const event = httpEvent(routeKey, {
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    ...(opts.path ? { path: opts.path } : {}),
    headers: { authorization: `Bearer ${opts.key ?? ADMIN}` },
  });
  if (opts.query) event.queryStringParameters = opts.query;
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const create = (body: unknown) => call('POST /v1/contacts', { body });

describe('POST /v1/contacts', () => {
  it('creates a contact: address normalised, consent with its source ("api" by default) and time', async () => {
    const res = await create({
      email: '  Ann@Example.COM ',
      attributes: { first_name: 'Ann', plan: 'pro', seats: 3 },
      consent: { newsletter: { granted: true }, product: { granted: false, source: 'form' } },
    });
    expect(res).toEqual({
      status: 201,
      body: {
        id: 'id-1',
        email: 'ann@example.com',
        attributes: { first_name: 'Ann', plan: 'pro', seats: 3 },
        consent: {
          newsletter: { granted: true, source: 'api', at: NOW },
          product: { granted: false, source: 'form', at: NOW },
        },
        createdAt: NOW,
        updatedAt: NOW,
      },
    });
    expect(await store.byAddress('ann@example.com')).toMatchObject({ id: 'id-1' });
  });

  it('refuses an address that is a contact already (409), however it is written', async () => {
    await create({ email: 'ann@example.com' });
    const res = await create({ email: 'ANN@example.com' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('id-1') });
    expect(store.contacts.size).toBe(1);
  });

  it('lists every problem of a bad contact in the API terms, and writes nothing', async () => {
    const res = await create({
      email: 'not an address',
      attributes: { email: 'x', '1st': 'y', ok: null },
      consent: {
        'News Letter': { granted: true },
        product: { granted: 'yes' },
        other: { granted: true, source: 'A B' },
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    const paths = (res.body.error.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(['consent.other.source', 'consent.product.granted']);
    // The shape is right once those are fixed: the names and the address are checked next, all at once.
    const again = await create({
      email: 'not an address',
      attributes: { email: 'x', '1st': 'y', ok: null },
      consent: { 'News Letter': { granted: true } },
    });
    expect(again.status).toBe(422);
    expect(again.body.error.details).toEqual([
      { path: 'email', message: expect.any(String) },
      { path: 'attributes.email', message: expect.stringContaining("the contact's address") },
      { path: 'attributes.1st', message: expect.stringContaining('attribute name') },
      { path: 'attributes.ok', message: expect.stringContaining('PATCH') },
      { path: 'consent.News Letter', message: expect.stringContaining('category') },
    ]);
    expect(store.contacts.size).toBe(0);
    expect((await create({ email: 'a@example.com', colour: 'red' })).body.error.details).toEqual([
      { path: '(body)', message: expect.stringContaining('colour') },
    ]);
    expect((await call('POST /v1/contacts')).status).toBe(400);
    expect(
      (
        await create({
          email: 'a@example.com',
          attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])),
        })
      ).body.error.details,
    ).toEqual([{ path: 'attributes', message: expect.stringContaining('50 attributes') }]);
  });

  it('needs an admin key to change contacts, a read key to read them', async () => {
    expect((await call('POST /v1/contacts', { body: { email: 'a@example.com' }, key: READER })).status).toBe(403);
    await create({ email: 'a@example.com' });
    expect((await call('GET /v1/contacts/{id}', { path: { id: 'id-1' }, key: READER })).status).toBe(200);
    expect((await call('GET /v1/contacts', { key: SENDER })).status).toBe(403);
    expect((await call('DELETE /v1/contacts/{id}', { path: { id: 'id-1' }, key: READER })).status).toBe(403);
    expect((await call('POST /v1/lists', { body: { name: 'x' }, key: READER })).status).toBe(403);
    expect((await call('POST /v1/contacts/imports', { body: { size: 10 }, key: READER })).status).toBe(403);
  });
});

describe('GET /v1/contacts and /v1/contacts/{id}', () => {
  it('reads a contact by id or by address (URL-encoded, any case); 404 for none, 422 for neither', async () => {
    await create({ email: 'ann@example.com' });
    for (const id of ['id-1', 'Ann%40Example.com', 'ann@example.com'])
      expect(await call('GET /v1/contacts/{id}', { path: { id } }), id).toMatchObject({
        status: 200,
        body: { id: 'id-1', email: 'ann@example.com' },
      });
    expect((await call('GET /v1/contacts/{id}', { path: { id: 'nobody@example.com' } })).status).toBe(404);
    expect((await call('GET /v1/contacts/{id}', { path: { id: 'id-9' } })).status).toBe(404);
    const bad = await call('GET /v1/contacts/{id}', { path: { id: 'a@b@c' } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('id');
  });

  it('pages contacts; a limit out of range or a foreign cursor is a 422', async () => {
    for (let i = 0; i < 5; i++) await create({ email: `c${i}@example.com` });
    const first = await call('GET /v1/contacts', { query: { limit: '3' } });
    expect(first.body.data).toHaveLength(3);
    const second = await call('GET /v1/contacts', { query: { limit: '3', cursor: first.body.next } });
    expect(second.body).toMatchObject({ next: null });
    expect([...first.body.data, ...second.body.data].map((c: { email: string }) => c.email).sort()).toEqual(
      ['c0', 'c1', 'c2', 'c3', 'c4'].map((c) => `${c}@example.com`),
    );
    expect((await call('GET /v1/contacts', { query: { limit: '0' } })).status).toBe(422);
    expect((await call('GET /v1/contacts', { query: { cursor: 'zz' } })).status).toBe(422);
  });
});

describe('PATCH /v1/contacts/{id}', () => {
  it('merges attributes (null removes one) and replaces consent per category with its source and time', async () => {
    await create({
      email: 'ann@example.com',
      attributes: { first_name: 'Ann', plan: 'free' },
      consent: { newsletter: { granted: true, source: 'form' } },
    });
    const res = await call('PATCH /v1/contacts/{id}', {
      path: { id: 'ann@example.com' },
      body: { attributes: { plan: 'pro', first_name: null }, consent: { product: { granted: true } } },
    });
    expect(res).toMatchObject({
      status: 200,
      body: {
        attributes: { plan: 'pro' },
        consent: {
          newsletter: { granted: true, source: 'form', at: NOW },
          product: { granted: true, source: 'api', at: NOW },
        },
      },
    });
    const withdrawn = await call('PATCH /v1/contacts/{id}', {
      path: { id: 'id-1' },
      body: { consent: { newsletter: { granted: false, source: 'unsubscribe' } } },
    });
    expect(withdrawn.body.consent.newsletter).toEqual({ granted: false, source: 'unsubscribe', at: NOW });
  });

  it('refuses an empty change, bad names (every one listed) and a missing contact', async () => {
    await create({ email: 'ann@example.com' });
    expect((await call('PATCH /v1/contacts/{id}', { path: { id: 'id-1' }, body: {} })).status).toBe(422);
    const bad = await call('PATCH /v1/contacts/{id}', {
      path: { id: 'id-1' },
      body: { attributes: { 'a-b': 1, email: 2 }, consent: { '*': { granted: true } } },
    });
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'attributes.a-b',
      'attributes.email',
      'consent.*',
    ]);
    expect((await store.get('id-1'))?.attributes).toEqual({});
    expect(
      (await call('PATCH /v1/contacts/{id}', { path: { id: 'id-7' }, body: { attributes: { a: 1 } } })).status,
    ).toBe(404);
  });
});

describe('DELETE /v1/contacts/{id}: the GDPR erase path', () => {
  it('removes the contact, its address key and its memberships; keeps the suppression list', async () => {
    await create({ email: 'ann@example.com', attributes: { first_name: 'Ann' } });
    await call('POST /v1/lists', { body: { id: 'news', name: 'News' } });
    await call('POST /v1/lists/{id}/members', { path: { id: 'news' }, body: { contacts: ['id-1'] } });
    await suppression.suppress({ address: 'ann@example.com', scope: '*', reason: 'complaint', source: 'ses', at: NOW });
    const res = await call('DELETE /v1/contacts/{id}', { path: { id: 'ann@example.com' } });
    expect(res).toEqual({
      status: 200,
      body: { id: 'id-1', email: 'ann@example.com', erased: true, suppressionKept: ['*'] },
    });
    expect(store.contacts.size).toBe(0);
    expect(await store.byAddress('ann@example.com')).toBeUndefined();
    expect(await store.listsOf('id-1')).toEqual([]);
    expect((await store.members('news', 10)).ids).toEqual([]);
    // What suppression needs stays: the address is still never sent to.
    expect((await suppression.get('ann@example.com')).filter((r) => r.active)).toHaveLength(1);
    expect((await call('GET /v1/contacts/{id}', { path: { id: 'id-1' } })).status).toBe(404);
    expect((await call('DELETE /v1/contacts/{id}', { path: { id: 'id-1' } })).status).toBe(404);
    // The address may come back as a new contact.
    expect((await create({ email: 'ann@example.com' })).status).toBe(201);
  });
});

describe('GET /v1/contacts/{id}/export', () => {
  it('gives everything held about a contact: the contact with its consent, its lists, its suppression entries', async () => {
    await create({
      email: 'ann@example.com',
      attributes: { city: 'Lyon' },
      consent: { newsletter: { granted: true } },
    });
    await call('POST /v1/lists', { body: { id: 'news', name: 'News' } });
    await call('POST /v1/lists/{id}/members', { path: { id: 'news' }, body: { contacts: ['ann@example.com'] } });
    await suppression.suppress({
      address: 'ann@example.com',
      scope: 'promotions',
      reason: 'unsubscribe',
      source: 'unsubscribe',
      at: NOW,
    });
    const res = await call('GET /v1/contacts/{id}/export', { path: { id: 'id-1' }, key: READER });
    expect(res).toEqual({
      status: 200,
      body: {
        exportedAt: NOW,
        contact: {
          id: 'id-1',
          email: 'ann@example.com',
          attributes: { city: 'Lyon' },
          consent: { newsletter: { granted: true, source: 'api', at: NOW } },
          createdAt: NOW,
          updatedAt: NOW,
        },
        lists: [{ id: 'news', name: 'News' }],
        suppressions: [
          {
            scope: 'promotions',
            active: true,
            reason: 'unsubscribe',
            source: 'unsubscribe',
            suppressedAt: NOW,
          },
        ],
      },
    });
  });
});

describe('lists', () => {
  it('creates lists with a chosen id or a made one; 409 for a taken id; pages, reads and deletes them', async () => {
    expect(await call('POST /v1/lists', { body: { id: 'news', name: 'News', description: 'Monthly' } })).toEqual({
      status: 201,
      body: { id: 'news', name: 'News', description: 'Monthly', createdAt: NOW },
    });
    expect((await call('POST /v1/lists', { body: { name: 'Other' } })).body.id).toBe('id-1');
    expect((await call('POST /v1/lists', { body: { id: 'news', name: 'Again' } })).status).toBe(409);
    const bad = await call('POST /v1/lists', { body: { id: 'No Spaces', name: '' } });
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['id', 'name']);
    expect((await call('GET /v1/lists', { key: READER })).body.data.map((l: { id: string }) => l.id)).toEqual([
      'id-1',
      'news',
    ]);
    expect((await call('GET /v1/lists/{id}', { path: { id: 'news' } })).body.name).toBe('News');
    expect(await call('DELETE /v1/lists/{id}', { path: { id: 'news' } })).toEqual({
      status: 200,
      body: { id: 'news', deleted: true },
    });
    expect((await call('GET /v1/lists/{id}', { path: { id: 'news' } })).status).toBe(404);
  });

  it('adds members by id or address, creating contacts for new addresses (without consent); pages them', async () => {
    await create({ email: 'ann@example.com' });
    await call('POST /v1/lists', { body: { id: 'news', name: 'News' } });
    const res = await call('POST /v1/lists/{id}/members', {
      path: { id: 'news' },
      body: { contacts: ['id-1', 'Bob@Example.com', 'ann@example.com'] },
    });
    expect(res).toEqual({
      status: 200,
      body: {
        listId: 'news',
        data: [
          { id: 'id-1', email: 'ann@example.com', created: false },
          { id: 'id-2', email: 'bob@example.com', created: true },
        ],
      },
    });
    expect((await store.get('id-2'))?.consent).toEqual({});
    const page = await call('GET /v1/lists/{id}/members', { path: { id: 'news' }, query: { limit: '1' } });
    expect(page.body.data.map((c: { email: string }) => c.email)).toEqual(['ann@example.com']);
    const rest = await call('GET /v1/lists/{id}/members', {
      path: { id: 'news' },
      query: { limit: '1', cursor: page.body.next },
    });
    expect(rest.body.data.map((c: { email: string }) => c.email)).toEqual(['bob@example.com']);
    expect(
      await call('DELETE /v1/lists/{id}/members', { path: { id: 'news' }, body: { contacts: ['bob@example.com'] } }),
    ).toEqual({ status: 200, body: { listId: 'news', removed: ['id-2'] } });
    expect((await store.members('news', 10)).ids).toEqual(['id-1']);
    // The contact stays.
    expect(await store.get('id-2')).toBeDefined();
  });

  it('changes nothing when any member is not valid or does not exist, and lists each problem', async () => {
    await call('POST /v1/lists', { body: { id: 'news', name: 'News' } });
    const bad = await call('POST /v1/lists/{id}/members', {
      path: { id: 'news' },
      body: { contacts: ['new@example.com', 'x@', 'bad id!'] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['contacts.1', 'contacts.2']);
    const unknown = await call('POST /v1/lists/{id}/members', {
      path: { id: 'news' },
      body: { contacts: ['new@example.com', 'id-404'] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([{ path: 'contacts', message: 'no contact with the id "id-404"' }]);
    expect(store.contacts.size).toBe(0);
    expect((await store.members('news', 10)).ids).toEqual([]);
    expect(
      (await call('POST /v1/lists/{id}/members', { path: { id: 'nope' }, body: { contacts: ['a@example.com'] } }))
        .status,
    ).toBe(404);
    expect((await call('POST /v1/lists/{id}/members', { path: { id: 'news' }, body: { contacts: [] } })).status).toBe(
      422,
    );
  });
});

describe('CSV imports through the API', () => {
  it('gives a presigned upload URL for the exact size, starts once (a job on the audience queue), reports status', async () => {
    await call('POST /v1/lists', { body: { id: 'news', name: 'News' } });
    const created = await call('POST /v1/contacts/imports', {
      body: { size: 120, listId: 'news', consent: { category: 'newsletter' } },
    });
    expect(created).toEqual({
      status: 201,
      body: {
        id: 'imp-id-1',
        status: 'waiting_upload',
        uploadUrl: 'https://uploads.example.com/imports/imp-id-1/contacts.csv?signed',
        expiresAt: '2026-11-29T10:15:00.000Z',
        headers: { 'Content-Type': 'text/csv', 'Content-Length': '120' },
      },
    });
    const started = await call('POST /v1/contacts/imports/{id}/start', { path: { id: 'imp-id-1' } });
    expect(started).toMatchObject({ status: 202, body: { id: 'imp-id-1', status: 'queued' } });
    expect(jobs.sent.map((e) => JSON.parse(e.body))).toEqual([{ kind: 'import', importId: 'imp-id-1' }]);
    expect((await call('POST /v1/contacts/imports/{id}/start', { path: { id: 'imp-id-1' } })).status).toBe(409);
    expect(await call('GET /v1/contacts/imports/{id}', { path: { id: 'imp-id-1' }, key: READER })).toEqual({
      status: 200,
      body: {
        id: 'imp-id-1',
        status: 'queued',
        listId: 'news',
        consent: { category: 'newsletter', source: 'import' },
        counts: { rows: 0, created: 0, updated: 0, refused: 0 },
        refused: [],
        createdAt: NOW,
        updatedAt: NOW,
      },
    });
    expect((await call('GET /v1/contacts/imports/{id}', { path: { id: 'imp-nope' } })).status).toBe(404);
  });

  it('refuses a bad import (every problem listed) and an unknown list, writing nothing', async () => {
    const bad = await call('POST /v1/contacts/imports', {
      body: { size: 0, listId: 'Bad List', consent: { category: '*' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['size', 'listId', 'consent.category']);
    const noList = await call('POST /v1/contacts/imports', { body: { size: 10, listId: 'news' } });
    expect(noList.body.error.details).toEqual([{ path: 'listId', message: 'no list "news"' }]);
    expect(imports.imports.size).toBe(0);
  });

  it('leaves an import waiting for its start when the job cannot be queued (503)', async () => {
    await call('POST /v1/contacts/imports', { body: { size: 10 } });
    jobs.failAll = true;
    const res = await call('POST /v1/contacts/imports/{id}/start', { path: { id: 'imp-id-1' } });
    expect(res.status).toBe(503);
    expect((await imports.get('imp-id-1'))?.status).toBe('waiting_upload');
    jobs.failAll = false;
    expect((await call('POST /v1/contacts/imports/{id}/start', { path: { id: 'imp-id-1' } })).status).toBe(202);
  });
});
