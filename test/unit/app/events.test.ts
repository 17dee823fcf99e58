/**
 * POST /v1/events and the rules API through the ingest handler, on fakes: a rule sends once per
 * event however often it is emitted, consent and conditions are checked, one rule's problem skips
 * only that rule.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { responseSchemas } from '../../../functions/app/openapi-schemas';
import { QueuedEmail } from '../../../functions/core/queued-email';
import { MemoryContactStore } from '../../support/contact-fakes';
import { MemoryContactImportStore } from '../../support/contact-import-fakes';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';
import { MemoryRuleStore } from '../../support/rule-fakes';

const KEY = 'mr_test_key_123456';
const READER = 'mr_test_reader_123456';
const ADMIN = 'mr_test_admin_123456';
const APP_KEY = {
  name: 'app',
  createdAt: '2026-01-01T00:00:00Z',
  scopes: ['send', 'read'] as const,
  senderDomains: ['example.com'],
  ratePerSecond: 100,
};
const NOW = new Date('2026-11-22T10:00:00Z');

let messages: MemoryMessageStore;
let queue: MemoryQueue;
let contacts: MemoryContactStore;
let rules: MemoryRuleStore;
let handler: ReturnType<typeof createIngestHandler>;
let ids: number;

beforeEach(async () => {
  messages = new MemoryMessageStore();
  queue = new MemoryQueue();
  contacts = new MemoryContactStore();
  rules = new MemoryRuleStore();
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), { ...APP_KEY });
  await keys.put(hashKey(READER), { ...APP_KEY, name: 'reader', scopes: ['read'] });
  await keys.put(hashKey(ADMIN), {
    ...APP_KEY,
    name: 'ops',
    scopes: ['send', 'read', 'admin'],
    senderDomains: ['example.com'],
  });
  ids = 0;
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      contacts: { store: contacts, imports: new MemoryContactImportStore(), jobs: new MemoryQueue() },
      rules,
      newId: () => `id-${++ids}`,
      now: () => NOW,
    }),
  );
  await template('welcome', 'Welcome, {{ name }}', ['name']);
});

async function call(
  routeKey: string,
  opts: { body?: unknown; key?: string; path?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const event = httpEvent(routeKey, {
    headers: { authorization: `Bearer ${opts.key ?? KEY}` },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    ...(opts.path ? { path: opts.path } : {}),
  });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode ?? 0, body: res.body ? JSON.parse(res.body) : undefined };
}

async function template(slug: string, subject: string, variables: string[]) {
  const created = await call('POST /v1/templates', {
    key: ADMIN,
    body: {
      slug,
      name: slug,
      subject,
      text: `Hello ${variables.map((v) => `{{ ${v} }}`).join(' ')}`,
      variables: variables.map((name) => ({ name, type: 'string' })),
    },
  });
  expect(created.status).toBe(201);
  expect((await call('POST /v1/templates/{slug}/publish', { key: ADMIN, path: { slug } })).status).toBe(201);
}

async function rule(body: Record<string, unknown>): Promise<string> {
  const res = await call('POST /v1/rules', {
    key: ADMIN,
    body: { event: 'user.signed_up', template: { slug: 'welcome' }, from: 'Acme <app@example.com>', ...body },
  });
  expect(res.status).toBe(201);
  return (res.body as { id: string }).id;
}

const emit = (body: Record<string, unknown>) =>
  call('POST /v1/events', { body: { name: 'user.signed_up', contact: { email: 'ann@example.org' }, ...body } });

const sent = () => [...new Set(queue.sent.map((e) => e.id))];

describe('POST /v1/events', () => {
  it('a rule replayed five times sends one email (the others answer duplicate)', async () => {
    const id = await rule({ keyFields: ['user_id'] });
    const answers = [];
    for (let i = 0; i < 5; i++)
      answers.push(await emit({ data: { user_id: 'u-1', name: 'Ann', at: `2026-11-22T10:00:0${i}Z` } }));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    const statuses = answers.map((a) => (a.body as { sends: { status: string }[] }).sends.map((s) => s.status));
    expect(statuses).toEqual([['queued'], ['duplicate'], ['duplicate'], ['duplicate'], ['duplicate']]);
    const first = (answers[0]?.body as undefined | { sends: { rule: string; email_id: string }[] })?.sends[0];
    expect(first?.rule).toBe(id);
    expect(first?.email_id).toMatch(/^e-[0-9a-f]{32}$/);
    // One record, one email: re-enqueues of a record still queued carry the same id (the dispatcher's claim sends once).
    expect(messages.items.size).toBe(1);
    expect(sent()).toEqual([first?.email_id]);
    const queued = QueuedEmail.parse(JSON.parse(queue.sent[0]?.body ?? '{}'));
    expect(queued).toMatchObject({ to: ['ann@example.org'], subject: 'Welcome, Ann', tags: { rule: id } });
    // As the rule's key: its record is the key's.
    expect(messages.items.get(first?.email_id ?? '')?.apiKey).toBe('ops');
  });

  it("a rule's cooldown rides on its email, for the dispatcher to check per recipient", async () => {
    await rule({ cooldown: { key: 'welcome', hours: 24 } });
    await emit({ data: { name: 'Ann' } });
    const queued = QueuedEmail.parse(JSON.parse(queue.sent[0]?.body ?? '{}'));
    expect(queued.cooldown).toEqual({ key: 'welcome', hours: 24 });
  });

  it('another value of a key field is another event; a volatile field is not', async () => {
    await rule({ keyFields: ['user_id'] });
    await emit({ data: { user_id: 'u-1', name: 'Ann', at: 1 } });
    await emit({ data: { user_id: 'u-1', name: 'Ann', at: 2 } });
    await emit({ data: { user_id: 'u-2', name: 'Ann', at: 1 } });
    expect(messages.items.size).toBe(2);
  });

  it('an idempotencyKey wins over the derived key', async () => {
    await rule({ keyFields: ['user_id'] });
    const a = await emit({ data: { user_id: 'u-1', name: 'Ann' }, idempotencyKey: 'k-1' });
    // Same key fields, another key: another event.
    const b = await emit({ data: { user_id: 'u-1', name: 'Ann' }, idempotencyKey: 'k-2' });
    // Other key fields, the same key: the same event.
    const c = await emit({ data: { user_id: 'u-9', name: 'Ann' }, idempotencyKey: 'k-1' });
    const status = (r: { body: unknown }) => (r.body as { sends: { status: string }[] }).sends[0]?.status;
    expect([status(a), status(b), status(c)]).toEqual(['queued', 'queued', 'duplicate']);
    expect(messages.items.size).toBe(2);
  });

  it('skips a rule whose consent category the contact has not agreed to, and sends once it has', async () => {
    const id = await rule({ consentCategory: 'product-news', category: 'product-news' });
    const first = await emit({ data: { name: 'Ann' } });
    expect(first.body).toEqual({
      event: 'user.signed_up',
      contact: expect.any(String),
      sends: [{ rule: id, status: 'skipped', reason: 'no_consent' }],
    });
    expect(messages.items.size).toBe(0);
    // A new address became a contact, without consent.
    const contact = await contacts.byAddress('ann@example.org');
    expect(contact).toMatchObject({ consent: {}, attributes: {} });
    await contacts.update(
      contact?.id ?? '',
      { consent: { 'product-news': { granted: true, source: 'api', at: NOW.toISOString() } } },
      NOW.toISOString(),
    );
    const second = await call('POST /v1/events', {
      body: { name: 'user.signed_up', contact: { id: contact?.id }, data: { name: 'Ann' } },
    });
    expect((second.body as { sends: { status: string }[] }).sends[0]?.status).toBe('queued');
    expect(messages.items.size).toBe(1);
  });

  it('sends nothing when the condition does not hold, or the rule is disabled', async () => {
    await rule({ condition: [{ path: 'plan', op: 'eq', value: 'pro' }] });
    await rule({ enabled: false });
    const res = await emit({ data: { plan: 'free', name: 'Ann' } });
    expect(res).toEqual({ status: 202, body: { event: 'user.signed_up', contact: expect.any(String), sends: [] } });
    const pro = await emit({ data: { plan: 'pro', name: 'Ann' } });
    expect((pro.body as { sends: unknown[] }).sends).toHaveLength(1);
    expect(messages.items.size).toBe(1);
  });

  it('an event no rule names answers 202 with no sends', async () => {
    await rule({});
    const res = await call('POST /v1/events', {
      body: { name: 'nobody.listens', contact: { email: 'ann@example.org' } },
    });
    expect(res).toEqual({ status: 202, body: { event: 'nobody.listens', contact: expect.any(String), sends: [] } });
    expect(messages.items.size).toBe(0);
  });

  it("one rule's template failing to render skips that rule; the others send", async () => {
    await template('receipt', 'Order {{ orderId }}', ['orderId']);
    const broken = await rule({ template: { slug: 'receipt' } });
    const good = await rule({});
    const res = await emit({ data: { name: 'Ann' } });
    const sends = (res.body as { sends: { rule: string; status: string; reason?: string }[] }).sends;
    expect(sends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: broken, status: 'skipped', reason: 'template' }),
        expect.objectContaining({ rule: good, status: 'queued' }),
      ]),
    );
    expect(messages.items.size).toBe(1);
  });

  it('fills variables from the rule, then data, then the contact attributes, then the address', async () => {
    await template('hello', 'Hi {{ name }} {{ city }} {{ email }} {{ plan }}', ['name', 'city', 'email', 'plan']);
    await contacts.create({
      id: 'c-1',
      address: 'bob@example.org',
      attributes: { name: 'Bob', city: 'Gent' },
      consent: {},
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
    await rule({ template: { slug: 'hello' }, variables: { plan: 'Gold' } });
    await call('POST /v1/events', {
      body: { name: 'user.signed_up', contact: { id: 'c-1' }, data: { name: 'Robert', plan: 'ignored', unused: 1 } },
    });
    const queued = QueuedEmail.parse(JSON.parse(queue.sent[0]?.body ?? '{}'));
    expect(queued.subject).toBe('Hi Robert Gent bob@example.org Gold');
  });

  it('a rule with a delay schedules its email; without scheduling it is skipped, never a 5xx', async () => {
    await rule({ delay: 3600 });
    const res = await emit({ data: { name: 'Ann' } });
    expect((res.body as { sends: { status: string; reason?: string }[] }).sends[0]).toMatchObject({
      status: 'skipped',
      reason: 'not_sendable',
    });
  });

  it('refuses bad input with a 4xx and does nothing: an unknown contact id (404), bad fields (422), no body (400)', async () => {
    await rule({});
    expect((await call('POST /v1/events', { body: { name: 'user.signed_up', contact: { id: 'nope' } } })).status).toBe(
      404,
    );
    const bad = await call('POST /v1/events', {
      body: { name: 'User Signed Up', contact: { email: 'not-an-address' } },
    });
    expect(bad.status).toBe(422);
    const badAddress = await emit({ contact: { email: 'not-an-address' } });
    expect(badAddress.body).toMatchObject({ error: { details: [{ path: 'contact.email' }] } });
    expect((await call('POST /v1/events')).status).toBe(400);
    // A read key cannot emit events.
    expect(
      (await emit({ data: { name: 'Ann' } }).then(() => call('POST /v1/events', { key: READER, body: {} }))).status,
    ).toBe(403);
    expect(messages.items.size).toBe(1);
    expect(contacts.contacts.size).toBe(1);
  });
});

describe('/v1/rules', () => {
  it('creates, reads, lists, changes and deletes a rule; writes need an admin key', async () => {
    expect(
      (await call('POST /v1/rules', { body: { event: 'a', template: { slug: 'welcome' }, from: 'app@example.com' } }))
        .status,
    ).toBe(403);
    const id = await rule({ keyFields: ['user_id'] });
    const read = await call('GET /v1/rules/{id}', { key: READER, path: { id } });
    expect(read.body).toMatchObject({
      id,
      event: 'user.signed_up',
      enabled: true,
      category: 'transactional',
      keyFields: ['user_id'],
      apiKey: 'ops',
      delay: null,
    });
    expect(JSON.stringify(read.body)).not.toContain('keyHash');
    expect((await call('GET /v1/rules', { key: READER })).body).toMatchObject({ data: [{ id }], next: null });
    const patched = await call('PATCH /v1/rules/{id}', {
      key: ADMIN,
      path: { id },
      body: { enabled: false, delay: 60 },
    });
    expect(patched.body).toMatchObject({ enabled: false, delay: 60 });
    const cleared = await call('PATCH /v1/rules/{id}', { key: ADMIN, path: { id }, body: { delay: null } });
    expect(cleared.body).toMatchObject({ enabled: false, delay: null });
    expect((await call('PATCH /v1/rules/{id}', { key: ADMIN, path: { id }, body: { event: 'x' } })).status).toBe(422);
    expect((await call('DELETE /v1/rules/{id}', { key: ADMIN, path: { id } })).status).toBe(204);
    expect((await call('GET /v1/rules/{id}', { path: { id } })).status).toBe(404);
    expect((await call('DELETE /v1/rules/{id}', { key: ADMIN, path: { id } })).status).toBe(404);
  });

  it("refuses a sender outside the key's domains (403), and an invalid rule (422) naming the field", async () => {
    const foreign = await call('POST /v1/rules', {
      key: ADMIN,
      body: { event: 'a', template: { slug: 'welcome' }, from: 'app@elsewhere.example' },
    });
    expect(foreign).toMatchObject({ status: 403, body: { error: { details: [{ path: 'from' }] } } });
    const invalid = await call('POST /v1/rules', {
      key: ADMIN,
      body: { event: 'a', template: { slug: 'welcome' }, from: 'app@example.com', delay: -1 },
    });
    expect(invalid).toMatchObject({ status: 422, body: { error: { details: [{ path: 'delay' }] } } });
    expect(rules.rules.size).toBe(0);
  });

  it('a rule deleted or disabled sends nothing from then on', async () => {
    const id = await rule({});
    await call('PATCH /v1/rules/{id}', { key: ADMIN, path: { id }, body: { enabled: false } });
    expect((await emit({ data: { name: 'Ann' } })).body).toMatchObject({ sends: [] });
    await call('PATCH /v1/rules/{id}', { key: ADMIN, path: { id }, body: { enabled: true } });
    expect((await emit({ data: { name: 'Ann' } })).body).toMatchObject({ sends: [{ status: 'queued' }] });
    await call('DELETE /v1/rules/{id}', { key: ADMIN, path: { id } });
    expect((await emit({ data: { name: 'Ann' } })).body).toMatchObject({ sends: [] });
  });
});

describe('the answers, as the API reference describes them', () => {
  it('a rule and an event answer have exactly the documented fields', async () => {
    const schemas = responseSchemas();
    const id = await rule({ delay: 0, consentCategory: 'news', cooldown: { key: 'welcome', hours: 24 } });
    const read = (await call('GET /v1/rules/{id}', { path: { id } })).body as Record<string, unknown>;
    expect(Object.keys(read).sort()).toEqual(Object.keys(schemas.Rule.shape).sort());
    expect(schemas.Rule.safeParse(read).success).toBe(true);
    expect(schemas.RulePage.safeParse((await call('GET /v1/rules')).body).success).toBe(true);
    const emitted = await emit({ data: { name: 'Ann' } });
    expect(schemas.EventAccepted.safeParse(emitted.body).success).toBe(true);
    expect((emitted.body as { sends: { reason: string }[] }).sends[0]?.reason).toBe('no_consent');
  });
});
