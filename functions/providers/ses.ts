/**
 * Amazon SES v2 behind the provider interface. The SDK's own retries are off (maxAttempts 1 is set
 * on the client by the caller): a silent retry after a timeout could send twice, so every retry is
 * the dispatcher's decision, made with the outcome classified here.
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { SendOutcome } from '../core/dispatch';
import { MESSAGE_ID_HEADER, MESSAGE_ID_TAG } from '../core/message';
import type { EmailProvider, OutboundEmail } from '../ports';
import { NOT_SENT_CODES } from './network';

const REJECTED = new Set(['MessageRejected', 'BadRequestException', 'NotFoundException', 'InvalidParameterValue']);
const BROKEN = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
]);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'LimitExceededException']);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
}

/** Classifies an error thrown by SESv2Client.send(SendEmailCommand) (DESIGN §3). */
export function classifySesError(error: unknown): SendOutcome {
  const e = (error ?? {}) as ErrorShape;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const reason = `${name}${e.message ? `: ${e.message}` : ''}`.slice(0, 500);
  if (THROTTLED.has(name) || status === 429 || /maximum sending rate|daily message quota/i.test(e.message ?? '')) {
    return { kind: 'throttled', reason };
  }
  if (BROKEN.has(name) || status === 401 || status === 403) return { kind: 'broken', reason };
  if (REJECTED.has(name)) return { kind: 'rejected', reason };
  if (status !== undefined && status >= 500) return { kind: 'down', reason };
  if (status !== undefined && status >= 400) return { kind: 'rejected', reason };
  if (e.code && NOT_SENT_CODES.has(e.code)) return { kind: 'down', reason };
  // No HTTP status: the request may have left (socket reset, timeout while waiting for the answer).
  return { kind: 'ambiguous', reason };
}

export class SesProvider implements EmailProvider {
  constructor(
    private readonly ses: SESv2Client,
    private readonly configurationSet?: string,
    readonly id: string = 'ses',
  ) {}

  async send(email: OutboundEmail): Promise<SendOutcome> {
    // Our id as a header too: identity notifications carry headers (when enabled) but no tags.
    const headers = [
      { Name: MESSAGE_ID_HEADER, Value: email.id },
      ...Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
    ];
    try {
      const out = await this.ses.send(
        new SendEmailCommand({
          FromEmailAddress: email.from,
          Destination: { ToAddresses: email.to, CcAddresses: email.cc, BccAddresses: email.bcc },
          ...(email.replyTo.length > 0 ? { ReplyToAddresses: email.replyTo } : {}),
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: {
                ...(email.html !== undefined ? { Html: { Data: email.html, Charset: 'UTF-8' } } : {}),
                ...(email.text !== undefined ? { Text: { Data: email.text, Charset: 'UTF-8' } } : {}),
              },
              Headers: headers,
              // SES v2 Simple content builds the MIME parts; the SDK base64-encodes RawContent.
              ...(email.files && email.files.length > 0
                ? {
                    Attachments: email.files.map((f) => ({
                      FileName: f.filename,
                      RawContent: f.content,
                      ContentType: f.contentType,
                      ContentDisposition: f.disposition === 'inline' ? ('INLINE' as const) : ('ATTACHMENT' as const),
                      ContentTransferEncoding: 'BASE64' as const,
                      ...(f.contentId !== undefined ? { ContentId: f.contentId } : {}),
                    })),
                  }
                : {}),
            },
          },
          EmailTags: [
            { Name: MESSAGE_ID_TAG, Value: email.id },
            ...Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value })),
          ],
          ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
        }),
      );
      if (!out.MessageId) return { kind: 'ambiguous', reason: 'SES answered without a MessageId' };
      return { kind: 'accepted', providerMessageId: out.MessageId };
    } catch (error) {
      return classifySesError(error);
    }
  }
}
