/**
 * Attachments through the API and the dispatcher: checked and stored at accept time (the queue carries
 * references), read back and given to the provider; refused with a 422 naming the attachment; a
 * provider too small for the message skipped before trying; a message no provider takes rejected.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { QueuedEmail } from '../../../functions/core/queued-email';
import { MemoryContentStore } from '../../support/content-store';
import { DispatchWorld, dispatcher, run } from '../../support/dispatch';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryMessageStore, MemoryQueue, ScriptedProvider } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const KEY = 'mr_test_key_123456';
/** The smallest PDF file-type recognises, and a PNG header. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001',
  'hex',
);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0')]);
const base = { from: 'app@example.com', to: 'user@example.org', subject: 'Invoice' };
const invoice = { filename: 'invoice.pdf', content: PDF.toString('base64'), contentType: 'application/pdf' };
const logo = { filename: 'logo.png', content: PNG.toString('base64'), disposition: 'inline', contentId: 'logo' };

let content: MemoryContentStore;
let queue: MemoryQueue;
let messages: MemoryMessageStore;
let handler: ReturnType<typeof createIngestHandler>;
let ids: number;

beforeEach(async () => {
  content = new MemoryContentStore();
  queue = new MemoryQueue();
  messages = new MemoryMessageStore();
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), {
    name: 'app',
    createdAt: '2026-01-01T00:00:00Z',
    scopes: ['send', 'read'],
    senderDomains: ['example.com'],
    ratePerSecond: 100,
  });
  ids = 0;
  handler = createIngestHandler(
    ingestTestDeps({
      messages,
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      content,
      newId: () => `id-${++ids}`,
      now: () => new Date('2026-11-22T10:00:00Z'),
      maxMessageBytes: 40_000_000,
    }),
  );
});

async function authWith() {
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), {
    name: 'app',
    createdAt: '2026-01-01T00:00:00Z',
    scopes: ['send', 'read'],
    senderDomains: ['example.com'],
    ratePerSecond: 100,
  });
  return { auth: new Authenticator(keys) };
}

async function post(routeKey: string, body: unknown) {
  const event = httpEvent(routeKey, { body: JSON.stringify(body), headers: { authorization: `Bearer ${KEY}` } });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const queuedBody = (i = 0) => QueuedEmail.parse(JSON.parse(queue.sent[i]?.body ?? ''));

describe('attachments at accept time', () => {
  it('stores a PDF and an inline logo, and queues only their references', async () => {
    const res = await post('POST /v1/emails', {
      ...base,
      html: '<img src="cid:logo"><p>Your invoice</p>',
      attachments: [invoice, logo],
    });
    expect(res).toEqual({ status: 202, body: { id: 'id-1' } });
    const q = queuedBody();
    expect(q.attachments).toEqual([
      expect.objectContaining({
        filename: 'invoice.pdf',
        contentType: 'application/pdf',
        disposition: 'attachment',
        size: PDF.length,
      }),
      expect.objectContaining({
        filename: 'logo.png',
        contentType: 'image/png',
        disposition: 'inline',
        contentId: 'logo',
      }),
    ]);
    expect(queue.sent[0]?.body).not.toContain(PDF.toString('base64'));
    for (const ref of q.attachments ?? []) expect(ref.key).toMatch(/^attachments\/[0-9a-f]{64}$/);
    expect(Buffer.from(content.objects.get(q.attachments?.[0]?.key ?? '')?.body ?? []).equals(PDF)).toBe(true);
    expect(q.size).toBeGreaterThan(PDF.length);
  });

  it('stores a file a batch sends to many recipients once', async () => {
    const res = await post('POST /v1/emails/batch', {
      emails: ['a', 'b', 'c'].map((u) => ({ ...base, to: `${u}@example.org`, text: 'x', attachments: [invoice] })),
    });
    expect(res.status).toBe(202);
    expect(content.calls.filter((c) => c.op === 'put')).toHaveLength(1);
    expect(new Set(queue.sent.map((_, i) => queuedBody(i).attachments?.[0]?.key)).size).toBe(1);
  });

  it.each([
    ['a denied extension', { ...invoice, filename: 'setup.exe' }, 'attachments.0.filename', /\.exe/],
    [
      'an executable named as a PDF',
      { ...invoice, content: EXE.toString('base64') },
      'attachments.0.content',
      /executable/,
    ],
    [
      'a declared type the content contradicts',
      { ...invoice, contentType: 'image/png' },
      'attachments.0.contentType',
      /application\/pdf/,
    ],
    ['a path in the file name', { ...invoice, filename: '../invoice.pdf' }, 'attachments.0.filename', /"\/"/],
  ])(
    'refuses %s with a 422 naming the attachment, and queues and stores nothing',
    async (_what, attachment, path, message) => {
      const res = await post('POST /v1/emails', { ...base, text: 'x', attachments: [attachment] });
      expect(res.status).toBe(422);
      expect(res.body.error.details).toContainEqual({ path, message: expect.stringMatching(message) });
      expect(queue.sent).toEqual([]);
      expect(messages.items.size).toBe(0);
      expect(content.objects.size).toBe(0);
    },
  );

  it('refuses a cid: no inline attachment has, naming the email in a batch', async () => {
    const res = await post('POST /v1/emails/batch', {
      emails: [
        { ...base, text: 'ok' },
        { ...base, html: '<img src="cid:logo">', attachments: [invoice] },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([{ path: 'emails.1.html', message: expect.stringMatching(/cid:logo/) }]);
  });

  it('refuses an email larger than any provider of the deployment takes', async () => {
    const small = createIngestHandler(
      ingestTestDeps({
        content,
        queues: { critical: queue, transactional: queue, bulk: queue },
        auth: (await authWith()).auth,
        maxMessageBytes: 1000,
      }),
    );
    const event = httpEvent('POST /v1/emails', {
      body: JSON.stringify({ ...base, text: 'x', attachments: [invoice] }),
      headers: { authorization: `Bearer ${KEY}` },
    });
    const res = (await small(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(422);
    expect(res.body).toMatch(/no provider takes more than 1000/);
    expect(queue.sent).toEqual([]);
  });
});

describe('uploads', () => {
  it('answers POST /v1/attachments with an id, a presigned URL and its expiry (15 minutes)', async () => {
    const res = await post('POST /v1/attachments', {
      filename: 'big.pdf',
      contentType: 'application/pdf',
      size: 20_000_000,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^up-\d{10}-/),
      uploadUrl: expect.stringContaining('uploads/up-'),
      expiresAt: '2026-11-22T10:15:00.000Z',
      headers: { 'Content-Type': 'application/pdf', 'Content-Length': '20000000' },
    });
  });

  it('refuses a file over the per-file limit and a denied name before signing anything', async () => {
    expect(
      (
        await post('POST /v1/attachments', {
          filename: 'a.pdf',
          contentType: 'application/pdf',
          size: 26 * 1024 * 1024,
        })
      ).status,
    ).toBe(422);
    const exe = await post('POST /v1/attachments', {
      filename: 'a.exe',
      contentType: 'application/octet-stream',
      size: 10,
    });
    expect(exe.status).toBe(422);
  });

  it('sends an uploaded file by its id, checked as inline content is; an id never uploaded is a 422', async () => {
    const up = await post('POST /v1/attachments', {
      filename: 'big.pdf',
      contentType: 'application/pdf',
      size: PDF.length,
    });
    const key = new URL(up.body.uploadUrl).pathname.slice(1);
    expect(key).toBe(`uploads/${up.body.id}`);
    await content.put(key, PDF, 'application/pdf');
    const res = await post('POST /v1/emails', {
      ...base,
      text: 'x',
      attachments: [{ filename: 'big.pdf', attachmentId: up.body.id }],
    });
    expect(res.status).toBe(202);
    expect(queuedBody().attachments?.[0]).toMatchObject({ contentType: 'application/pdf', size: PDF.length });
    const missing = await post('POST /v1/emails', {
      ...base,
      text: 'x',
      attachments: [{ filename: 'x.pdf', attachmentId: `up-1795000000-00000000-0000-0000-0000-000000000000` }],
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details[0].path).toBe('attachments.0.attachmentId');
  });

  it('reads an upload once per request, however many emails of a batch name it', async () => {
    const up = await post('POST /v1/attachments', {
      filename: 'f.pdf',
      contentType: 'application/pdf',
      size: PDF.length,
    });
    const key = new URL(up.body.uploadUrl).pathname.slice(1);
    await content.put(key, PDF, 'application/pdf');
    const email = { ...base, text: 'x', attachments: [{ filename: 'f.pdf', attachmentId: up.body.id }] };
    const res = await post('POST /v1/emails/batch', { emails: [email, email, email] });
    expect(res.status).toBe(202);
    expect(content.calls.filter((c) => c.op === 'get' && c.key === key)).toHaveLength(1);
  });
});

describe('attachments at dispatch', () => {
  it('reads the parts back and gives the provider the bytes, byte-identical', async () => {
    await post('POST /v1/emails', { ...base, html: '<img src="cid:logo">', attachments: [invoice, logo] });
    const world = new DispatchWorld();
    const q = queuedBody();
    world.messages.items.set(q.id, messages.items.get(q.id) as never);
    const provider = new ScriptedProvider();
    await run(dispatcher(world, provider, { content }).handler, q);
    const files = provider.calls[0]?.files ?? [];
    expect(files.map((f) => f.filename)).toEqual(['invoice.pdf', 'logo.png']);
    expect(Buffer.from(files[0]?.content ?? []).equals(PDF)).toBe(true);
    expect(Buffer.from(files[1]?.content ?? []).equals(PNG)).toBe(true);
    expect(world.messages.items.get(q.id)?.status).toBe('sent');
  });

  it('skips a provider too small for the message before trying it, and sends through the next', async () => {
    await post('POST /v1/emails', { ...base, text: 'x', attachments: [invoice] });
    const world = new DispatchWorld();
    const q = queuedBody();
    world.messages.items.set(q.id, messages.items.get(q.id) as never);
    const azure = new ScriptedProvider(undefined, 'azure');
    const ses = new ScriptedProvider(undefined, 'ses');
    await run(
      dispatcher(world, [azure, ses], { content, maxMessageBytes: { azure: 1024, ses: 40_000_000 } }).handler,
      q,
    );
    expect(azure.calls).toEqual([]);
    expect(ses.calls).toHaveLength(1);
    expect(world.messages.items.get(q.id)).toMatchObject({ status: 'sent', provider: 'ses' });
  });

  it('rejects a message no enabled provider can take, saying so, without trying any', async () => {
    await post('POST /v1/emails', { ...base, text: 'x', attachments: [invoice] });
    const world = new DispatchWorld();
    const q = queuedBody();
    world.messages.items.set(q.id, messages.items.get(q.id) as never);
    const azure = new ScriptedProvider(undefined, 'azure');
    await run(dispatcher(world, [azure], { content, maxMessageBytes: { azure: 1024 } }).handler, q);
    expect(azure.calls).toEqual([]);
    expect(world.messages.items.get(q.id)).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/no enabled provider takes more than 1024/),
    });
  });
});
