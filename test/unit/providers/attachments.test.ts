/** Each provider's shape of an email's attachments: SES v2 Simple `Attachments`, Azure `attachments`, the relay's wire contract. */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboundAttachment, OutboundEmail } from '../../../functions/ports';
import { toEmailMessage } from '../../../functions/providers/azure';
import { wireBody } from '../../../functions/providers/http';
import { SesProvider } from '../../../functions/providers/ses';
import { outbound } from '../../support/records';

const ses = mockClient(SESv2Client);
afterEach(() => ses.reset());

const PDF = new Uint8Array(Buffer.from('%PDF-1.4 invoice'));
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const files: OutboundAttachment[] = [
  { filename: 'invoice.pdf', contentType: 'application/pdf', disposition: 'attachment', content: PDF },
  { filename: 'logo.png', contentType: 'image/png', disposition: 'inline', contentId: 'logo', content: PNG },
];
const email: OutboundEmail = { ...outbound(), html: '<img src="cid:logo">', files };

describe('attachments, per provider', () => {
  it('SES: Simple Attachments with the raw bytes, INLINE with a ContentId for the logo', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    await new SesProvider(new SESv2Client({ region: 'us-east-1' })).send(email);
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input?.Content?.Simple?.Attachments).toEqual([
      {
        FileName: 'invoice.pdf',
        RawContent: PDF,
        ContentType: 'application/pdf',
        ContentDisposition: 'ATTACHMENT',
        ContentTransferEncoding: 'BASE64',
      },
      {
        FileName: 'logo.png',
        RawContent: PNG,
        ContentType: 'image/png',
        ContentDisposition: 'INLINE',
        ContentTransferEncoding: 'BASE64',
        ContentId: 'logo',
      },
    ]);
  });

  it('SES: no Attachments key for an email without files', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    await new SesProvider(new SESv2Client({ region: 'us-east-1' })).send(outbound());
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Simple).not.toHaveProperty('Attachments');
  });

  it('Azure: attachments in base64, the inline one with its contentId', () => {
    expect(toEmailMessage(email).attachments).toEqual([
      { name: 'invoice.pdf', contentType: 'application/pdf', contentInBase64: Buffer.from(PDF).toString('base64') },
      {
        name: 'logo.png',
        contentType: 'image/png',
        contentInBase64: Buffer.from(PNG).toString('base64'),
        contentId: 'logo',
      },
    ]);
    expect(toEmailMessage(outbound())).not.toHaveProperty('attachments');
  });

  it('the relay: attachments last in the wire body, content in base64', () => {
    const body = JSON.parse(wireBody(email));
    expect(Object.keys(body).at(-1)).toBe('attachments');
    expect(body.attachments).toEqual([
      {
        filename: 'invoice.pdf',
        contentType: 'application/pdf',
        disposition: 'attachment',
        content: Buffer.from(PDF).toString('base64'),
      },
      {
        filename: 'logo.png',
        contentType: 'image/png',
        disposition: 'inline',
        contentId: 'logo',
        content: Buffer.from(PNG).toString('base64'),
      },
    ]);
    expect(JSON.parse(wireBody(outbound()))).not.toHaveProperty('attachments');
  });
});
