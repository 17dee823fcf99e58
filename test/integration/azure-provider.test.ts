/**
 * The Azure adapter driving the real @azure/communication-email SDK (signing, serialisation, LRO
 * start) against the local fake in test/support/azure-fake.ts. The fake's endpoint is plain http on
 * 127.0.0.1: azureEmailClient sets core-rest-pipeline's `allowInsecureConnection` for loopback only.
 */
import { EmailClient } from '@azure/communication-email';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundEmail } from '../../functions/ports';
import { AzureEmailProvider, azureEmailClient, operationIdFor } from '../../functions/providers/azure';
import { type AzureFake, startAzureFake } from '../support/azure-fake';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const email = (id: string): OutboundEmail => ({
  v: 1,
  id,
  from: '"Acme" <app@example.com>',
  to: ['"Doe, Jane" <jane@example.org>', `=?UTF-8?B?${b64('Zoë Müller')}?= <zoe@example.org>`],
  cc: ['cc@example.org'],
  bcc: ['audit@example.org'],
  replyTo: ['Support <support@example.com>'],
  subject: 'Your receipt',
  html: '<p>Thanks</p>',
  text: 'Thanks',
  headers: {
    'X-Mailroute-Id': id,
    'List-Unsubscribe': '<https://t.example.com/u/abc>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  tags: {},
  category: 'transactional',
});

let fake: AzureFake;
let provider: AzureEmailProvider;

beforeAll(async () => {
  fake = await startAzureFake();
  provider = new AzureEmailProvider('azure', azureEmailClient(fake.connectionString, { timeoutMs: 1_000 }), {
    pollIntervalMs: 60_000,
  });
});
afterAll(() => fake.stop());
afterEach(() => {
  fake.setOperationStatus('Succeeded');
  expect(fake.authFailures).toEqual([]);
});

describe('AzureEmailProvider against the fake', () => {
  it('sends once with the mapped fields; the provider message id is the operation id', async () => {
    const out = await provider.send(email('msg-map'));
    const operationId = operationIdFor('msg-map');
    expect(out).toEqual({ kind: 'accepted', providerMessageId: operationId });
    const records = fake.sent.filter((s) => s.operationId === operationId);
    expect(records).toHaveLength(1);
    expect(records[0]?.message).toEqual({
      senderAddress: 'app@example.com',
      recipients: {
        to: [
          { address: 'jane@example.org', displayName: 'Doe, Jane' },
          { address: 'zoe@example.org', displayName: 'Zoë Müller' },
        ],
        cc: [{ address: 'cc@example.org' }],
        bcc: [{ address: 'audit@example.org' }],
      },
      replyTo: [{ address: 'support@example.com', displayName: 'Support' }],
      content: { subject: 'Your receipt', html: '<p>Thanks</p>', plainText: 'Thanks' },
      headers: {
        'X-Mailroute-Id': 'msg-map',
        'List-Unsubscribe': '<https://t.example.com/u/abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      userEngagementTrackingDisabled: true,
    });
  });

  it('a retry of the same message creates one send; different messages get different ids', async () => {
    const before = fake.sent.length;
    const first = await provider.send(email('msg-retry'));
    const again = await provider.send(email('msg-retry'));
    const other = await provider.send(email('msg-other'));
    expect(first).toEqual(again);
    expect(first.kind).toBe('accepted');
    expect(other).toEqual({ kind: 'accepted', providerMessageId: operationIdFor('msg-other') });
    expect(operationIdFor('msg-retry')).not.toBe(operationIdFor('msg-other'));
    expect(fake.sent.slice(before).map((s) => s.operationId)).toEqual([
      operationIdFor('msg-retry'),
      operationIdFor('msg-other'),
    ]);
  });

  it('does not wait for final delivery (no status polling at all)', async () => {
    fake.setOperationStatus('Running');
    const gets = () => fake.requests.filter((r) => r.method === 'GET').length;
    const getsBefore = gets();
    const started = Date.now();
    const out = await provider.send(email('msg-running'));
    expect(out).toEqual({ kind: 'accepted', providerMessageId: operationIdFor('msg-running') });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(gets()).toBe(getsBefore);
  });

  it('a POST answer that already says Failed → rejected with its error; Succeeded → accepted', async () => {
    fake.queueFault({ kind: 'initial-status', status: 'Failed' });
    const failed = await provider.send(email('msg-failed'));
    expect(failed).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('InvalidSender') });
    fake.queueFault({ kind: 'initial-status', status: 'Succeeded' });
    expect(await provider.send(email('msg-succeeded'))).toEqual({
      kind: 'accepted',
      providerMessageId: operationIdFor('msg-succeeded'),
    });
  });

  it('the fake refuses unsigned requests and bodies that do not match the signed hash', async () => {
    const unsigned = await fetch(`${fake.endpoint}/emails:send?api-version=2025-09-01`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    // Replay a signature with another body: the content hash no longer matches.
    const tampered = await fetch(`${fake.endpoint}/emails:send?api-version=2025-09-01`, {
      method: 'POST',
      headers: {
        'x-ms-date': new Date().toUTCString(),
        'x-ms-content-sha256': Buffer.alloc(32).toString('base64'),
        authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=AAAA',
      },
      body: '{"senderAddress":"evil@example.com"}',
    });
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ error: { code: 'Denied' } });
    expect(fake.authFailures).toEqual([
      'missing x-ms-date, x-ms-content-sha256 or host',
      'x-ms-content-sha256 does not match the body',
    ]);
    fake.authFailures.length = 0;
  });

  it('429 with Retry-After → throttled with its seconds, not retried by the SDK', async () => {
    const before = fake.requests.length;
    fake.queueFault({ status: 429, retryAfter: 7 });
    const out = await provider.send(email('msg-429'));
    expect(out).toMatchObject({ kind: 'throttled', retryAfterSeconds: 7 });
    expect(fake.requests.length - before).toBe(1);
    expect(fake.sent.some((s) => s.operationId === operationIdFor('msg-429'))).toBe(false);
  });

  it('500 → down, not retried by the SDK', async () => {
    const before = fake.requests.length;
    fake.queueFault({ status: 500 });
    expect(await provider.send(email('msg-500'))).toMatchObject({ kind: 'down' });
    expect(fake.requests.length - before).toBe(1);
  });

  it('401 → broken', async () => {
    fake.queueFault({ status: 401 });
    expect(await provider.send(email('msg-401'))).toMatchObject({ kind: 'broken' });
  });

  it('400 InvalidRecipient → rejected with the code in the reason', async () => {
    fake.queueFault({ status: 400, code: 'InvalidRecipient', message: 'Recipient address is not valid.' });
    const out = await provider.send(email('msg-400'));
    expect(out.kind).toBe('rejected');
    expect(out).toMatchObject({ reason: expect.stringContaining('InvalidRecipient') });
  });

  it('a reset after the request left → ambiguous (the request may have been queued)', async () => {
    // The fake reads the whole request, then destroys the socket: from the client's side the
    // POST was sent and no answer came (ECONNRESET / "socket hang up"). Azure may have queued it,
    // so this is ambiguous; the dispatcher may retry because the operation id makes it idempotent.
    fake.queueFault({ kind: 'reset-before-response' });
    const out = await provider.send(email('msg-reset'));
    expect(out).toMatchObject({ kind: 'ambiguous' });
    expect(provider.idempotent).toBe(true);
  });

  it('an answer slower than the client timeout → ambiguous', async () => {
    fake.queueFault({ kind: 'delay', ms: 3_000 });
    const started = Date.now();
    const out = await provider.send(email('msg-slow'));
    expect(out).toMatchObject({ kind: 'ambiguous' });
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('connection refused (nothing listening) → down', async () => {
    const gone = await startAzureFake();
    await gone.stop();
    const p = new AzureEmailProvider('azure', azureEmailClient(gone.connectionString, { timeoutMs: 1_000 }));
    expect(await p.send(email('msg-refused'))).toMatchObject({ kind: 'down' });
  });

  it('a wrong access key is refused by the fake (401) → broken, and the reason holds no key', async () => {
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const p = new AzureEmailProvider(
      'azure',
      azureEmailClient(`endpoint=${fake.endpoint}/;accessKey=${wrongKey}`, { timeoutMs: 1_000 }),
    );
    const out = await p.send(email('msg-badkey'));
    expect(out).toMatchObject({ kind: 'broken' });
    expect(JSON.stringify(out)).not.toContain(wrongKey);
    expect(fake.authFailures).toEqual(['signature mismatch']);
    fake.authFailures.length = 0;
  });

  it('the SDK refuses plain http unless allowInsecureConnection is set (why azureEmailClient sets it)', async () => {
    const p = new AzureEmailProvider(
      'azure',
      new EmailClient(fake.connectionString, { retryOptions: { maxRetries: 0 } }),
    );
    const out = await p.send(email('msg-insecure'));
    expect(out).toMatchObject({ kind: 'broken', reason: expect.stringContaining('allowInsecureConnection') });
  });
});
