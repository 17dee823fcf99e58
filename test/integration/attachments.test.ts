/**
 * Attachments on the local stack: a PDF and an inline image reach the SES inbox byte-identical, the
 * upload URL flow (presigned PUT into fauxqs's S3), a denied type refused, a batch with attachments,
 * and a 15 MB message skipping Azure (first in the chain, 10 MiB limit) for SES.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../bin/local-stack';
import { type AzureFake, startAzureFake } from '../support/azure-fake';
import { api, eventually, inbox, statusOf, useLocalStack } from '../support/local';

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(40_000), Buffer.from('\n%%EOF\n')]);
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001',
  'hex',
);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface InboxAttachment {
  filename: string;
  contentType: string;
  contentDisposition?: string;
  contentId?: string;
  content: string;
}
async function attachmentsOf(stack: LocalStack, subject: string): Promise<InboxAttachment[]> {
  return eventually(async () => {
    const found = (await inbox(stack)).find((e) => e.subject === subject) as
      | { attachments?: InboxAttachment[] }
      | undefined;
    return found?.attachments;
  }, `the email "${subject}" in the SES inbox`);
}

/** Uploads `bytes` through POST /v1/attachments and its presigned PUT; the attachment id. */
async function upload(stack: LocalStack, filename: string, type: string, bytes: Uint8Array): Promise<string> {
  const up = await api(stack, 'POST', '/v1/attachments', { filename, contentType: type, size: bytes.length });
  expect(up.status).toBe(201);
  const put = await fetch(up.body.uploadUrl, { method: 'PUT', headers: up.body.headers, body: bytes });
  expect(put.status).toBe(200);
  return up.body.id;
}

/**
 * Like `upload`, but the bytes go up as a multipart upload to the key the presigned URL names: fauxqs
 * takes request bodies of at most 11 MiB, where S3 takes a single PUT of up to 5 GB.
 */
async function uploadInParts(stack: LocalStack, filename: string, type: string, bytes: Buffer): Promise<string> {
  const up = await api(stack, 'POST', '/v1/attachments', { filename, contentType: type, size: bytes.length });
  expect(up.status).toBe(201);
  const url = new URL(up.body.uploadUrl);
  const [bucket, ...rest] = url.pathname.slice(1).split('/');
  const target = { Bucket: bucket, Key: rest.join('/') };
  const s3 = stack.clients.s3;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ ...target, ContentType: type }));
  const size = 8 * 1024 * 1024;
  const parts = [];
  for (let i = 0; i * size < bytes.length; i++) {
    const { ETag } = await s3.send(
      new UploadPartCommand({ ...target, UploadId, PartNumber: i + 1, Body: bytes.subarray(i * size, (i + 1) * size) }),
    );
    parts.push({ ETag, PartNumber: i + 1 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }));
  return up.body.id;
}

describe('attachments through SES', () => {
  let stack: LocalStack;
  useLocalStack((s) => {
    stack = s;
  });

  it('delivers a PDF and an inline image byte-identical to the inbox', async () => {
    const res = await api(stack, 'POST', '/v1/emails', {
      from: 'billing@example.com',
      to: 'jane@example.org',
      subject: 'att-invoice',
      html: '<img src="cid:logo"><p>Your invoice</p>',
      attachments: [
        { filename: 'invoice.pdf', contentType: 'application/pdf', content: PDF.toString('base64') },
        { filename: 'logo.png', disposition: 'inline', contentId: 'logo', content: PNG.toString('base64') },
      ],
    });
    expect(res.status).toBe(202);
    await statusOf(stack, res.body.id, 'sent');
    const files = await attachmentsOf(stack, 'att-invoice');
    expect(files.map((f) => [f.filename, f.contentType, sha(Buffer.from(f.content, 'base64'))])).toEqual([
      ['invoice.pdf', 'application/pdf', sha(PDF)],
      ['logo.png', 'image/png', sha(PNG)],
    ]);
    expect(files[1]).toMatchObject({ contentDisposition: 'INLINE', contentId: 'logo' });
  });

  it('sends a file uploaded through the presigned URL, by its id, to two emails', async () => {
    const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2_000_000)]);
    const id = await upload(stack, 'report.pdf', 'application/pdf', big);
    for (const subject of ['att-upload-1', 'att-upload-2']) {
      const res = await api(stack, 'POST', '/v1/emails', {
        from: 'app@example.com',
        to: 'jane@example.org',
        subject,
        text: 'Attached.',
        attachments: [{ filename: 'report.pdf', attachmentId: id }],
      });
      expect(res.status).toBe(202);
      const [file] = await attachmentsOf(stack, subject);
      expect(sha(Buffer.from(file?.content ?? '', 'base64'))).toBe(sha(big));
    }
  });

  it('refuses an executable, whatever its name, and sends nothing', async () => {
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0')]);
    const res = await api(stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'jane@example.org',
      subject: 'att-denied',
      text: 'x',
      attachments: [{ filename: 'invoice.pdf', content: exe.toString('base64') }],
    });
    expect(res).toMatchObject({
      status: 422,
      body: { error: { details: [{ path: 'attachments.0.content', message: expect.stringMatching(/executable/) }] } },
    });
  });

  it('sends a batch whose emails share one attachment', async () => {
    const res = await api(stack, 'POST', '/v1/emails/batch', {
      emails: ['a', 'b', 'c'].map((u) => ({
        from: 'app@example.com',
        to: `${u}@example.org`,
        subject: `att-batch-${u}`,
        text: 'Your ticket',
        attachments: [{ filename: 'ticket.pdf', content: PDF.toString('base64') }],
      })),
    });
    expect(res.status).toBe(202);
    for (const u of ['a', 'b', 'c']) {
      const [file] = await attachmentsOf(stack, `att-batch-${u}`);
      expect(sha(Buffer.from(file?.content ?? '', 'base64'))).toBe(sha(PDF));
    }
  });
});

describe('fail-over by size', () => {
  let azure: AzureFake;
  let stack: LocalStack;
  beforeAll(async () => {
    azure = await startAzureFake();
    stack = await startLocalStack({
      apiPort: 0,
      sesPort: 0,
      awsPort: 0,
      dynamodbPort: 0,
      providers: {
        providers: [
          { id: 'azure', type: 'azure', connectionString: azure.connectionString },
          { id: 'ses', type: 'ses' },
        ],
        chain: ['azure', 'ses'],
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await azure?.stop();
  });

  it('sends a 15 MB message through SES with Azure first in the chain, and a small one through Azure', async () => {
    const large = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(15 * 1024 * 1024)]);
    const id = await uploadInParts(stack, 'large.pdf', 'application/pdf', large);
    const res = await api(stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'jane@example.org',
      subject: 'att-large',
      text: 'Large.',
      attachments: [{ filename: 'large.pdf', attachmentId: id }],
    });
    expect(res.status).toBe(202);
    const view = await statusOf(stack, res.body.id, 'sent');
    expect(view.provider).toBe('ses');
    expect(azure.sent).toEqual([]);
    const [file] = await attachmentsOf(stack, 'att-large');
    expect(sha(Buffer.from(file?.content ?? '', 'base64'))).toBe(sha(large));

    const small = await api(stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'jane@example.org',
      subject: 'att-small',
      text: 'Small.',
      attachments: [{ filename: 'small.pdf', content: PDF.toString('base64') }],
    });
    expect((await statusOf(stack, small.body.id, 'sent')).provider).toBe('azure');
    expect(azure.sent.at(-1)?.message).toMatchObject({
      attachments: [{ name: 'small.pdf', contentType: 'application/pdf', contentInBase64: PDF.toString('base64') }],
    });
  });
});
