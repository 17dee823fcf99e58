/**
 * `cooldown` on the API's sends: validated (a clear 422 naming the field), carried on the queued
 * email and on the record (GET /v1/emails/{id} shows it), and taken from the template's default
 * unless the send gives its own (`null` turns the default off).
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { QueuedEmail } from '../../../functions/core/queued-email';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';
import { MemoryTemplateStore } from '../../support/template-fakes';

const KEY = 'mr_test_key_123456';
const email = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'Hello' };
const digest = { key: 'digest', hours: 24 };

let messages: MemoryMessageStore;
let queue: MemoryQueue;
let handler: ReturnType<typeof createIngestHandler>;

beforeEach(async () => {
  messages = new MemoryMessageStore();
  queue = new MemoryQueue();
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), {
    name: 'app',
    createdAt: '2026-01-01T00:00:00Z',
    scopes: ['send', 'read', 'admin'],
    senderDomains: ['example.com'],
    ratePerSecond: 100,
  });
  let ids = 0;
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      templates: new MemoryTemplateStore(),
      newId: () => `id-${++ids}`,
      now: () => new Date('2026-11-22T10:00:00Z'),
    }),
  );
});

async function call(routeKey: string, body?: unknown, pathParameters?: Record<string, string>) {
  const event = httpEvent(routeKey, {
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headers: { authorization: `Bearer ${KEY}` },
    ...(pathParameters ? { path: pathParameters } : {}),
  });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const queuedCooldowns = () => queue.sent.map((e) => QueuedEmail.parse(JSON.parse(e.body)).cooldown);

describe('cooldown on a send', () => {
  it('is carried on the queued email and shown on the record', async () => {
    expect((await call('POST /v1/emails', { ...email, cooldown: digest })).status).toBe(202);
    expect(queuedCooldowns()).toEqual([digest]);
    const view = await call('GET /v1/emails/{id}', undefined, { id: 'id-1' });
    expect(view.body).toMatchObject({ id: 'id-1', status: 'queued', cooldown: digest });
  });

  it('is taken per email of a batch', async () => {
    const res = await call('POST /v1/emails/batch', {
      emails: [{ ...email, cooldown: { key: 'reminder:42', hours: 1.5 } }, email],
    });
    expect(res.status).toBe(202);
    expect(queuedCooldowns()).toEqual([{ key: 'reminder:42', hours: 1.5 }, undefined]);
    expect(messages.items.get('id-2')).not.toHaveProperty('cooldown');
  });

  it.each([
    [{ key: 'digest' }, 'cooldown.hours'],
    [{ key: 'has space', hours: 24 }, 'cooldown.key'],
    [{ key: 'digest', hours: 0 }, 'cooldown.hours'],
    [{ key: 'digest', hours: 9000 }, 'cooldown.hours'],
    [{ key: 'digest', hours: 24, window: 1 }, 'cooldown'],
    ['digest', 'cooldown'],
  ])('refuses %j with a 422 naming %s, and queues nothing', async (cooldown, path) => {
    const res = await call('POST /v1/emails', { ...email, cooldown });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(queue.sent).toEqual([]);
    expect(messages.items.size).toBe(0);
  });
});

describe("a template's default cooldown", () => {
  beforeEach(async () => {
    const created = await call('POST /v1/templates', {
      slug: 'weekly',
      name: 'Weekly digest',
      subject: 'Your week',
      text: 'Here is your week.',
      cooldown: { key: 'weekly-digest', hours: 144 },
    });
    expect(created.status).toBe(201);
    expect(created.body.draft.cooldown).toEqual({ key: 'weekly-digest', hours: 144 });
    expect((await call('POST /v1/templates/{slug}/publish', undefined, { slug: 'weekly' })).status).toBe(201);
  });

  const send = (extra: Record<string, unknown> = {}) =>
    call('POST /v1/emails', { from: email.from, to: email.to, template: { slug: 'weekly' }, ...extra });

  it("applies to its sends; a send's own cooldown wins; null turns it off", async () => {
    expect((await send()).status).toBe(202);
    expect((await send({ cooldown: digest })).status).toBe(202);
    expect((await send({ cooldown: null })).status).toBe(202);
    expect(queuedCooldowns()).toEqual([{ key: 'weekly-digest', hours: 144 }, digest, undefined]);
    expect(messages.items.get('id-1')?.cooldown).toEqual({ key: 'weekly-digest', hours: 144 });
  });

  it('is removed from the draft with null; versions published before keep theirs', async () => {
    const edited = await call('PUT /v1/templates/{slug}', { cooldown: null }, { slug: 'weekly' });
    expect(edited.status).toBe(200);
    expect(edited.body.draft.cooldown).toBeNull();
    await send();
    expect(queuedCooldowns()).toEqual([{ key: 'weekly-digest', hours: 144 }]);
  });

  it('is refused on a layout, and when invalid', async () => {
    const layout = await call('POST /v1/templates', {
      slug: 'frame',
      kind: 'layout',
      name: 'Frame',
      text: '{% content %}',
      cooldown: digest,
    });
    expect(layout.status).toBe(422);
    expect(layout.body.error.details).toEqual([expect.objectContaining({ path: 'cooldown' })]);
    const bad = await call('PUT /v1/templates/{slug}', { cooldown: { key: 'x', hours: 0 } }, { slug: 'weekly' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'cooldown.hours' })]);
  });
});
