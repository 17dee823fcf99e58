import {
  AccountSuspendedException,
  MessageRejected,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { MESSAGE_ID_TAG } from '../../../functions/core/message';
import { classifySesError, SesProvider } from '../../../functions/providers/ses';
import { outbound } from '../../support/records';

const ses = mockClient(SESv2Client);
afterEach(() => ses.reset());

const email = outbound();

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode }, $fault: 'client' as const });

describe('SesProvider', () => {
  it('sends through SendEmail with our id as a message tag and the configuration set', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    const out = await new SesProvider(new SESv2Client({ region: 'us-east-1' }), 'mailroute-cs').send(email);
    expect(out).toEqual({ kind: 'accepted', providerMessageId: 'ses-1' });
    const input = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      FromEmailAddress: '"Acme" <app@example.com>',
      Destination: { ToAddresses: ['user@example.org'], CcAddresses: [], BccAddresses: ['audit@example.org'] },
      ReplyToAddresses: ['support@example.com'],
      ConfigurationSetName: 'mailroute-cs',
      Content: {
        Simple: {
          Subject: { Data: 'Hi', Charset: 'UTF-8' },
          Body: { Html: { Data: '<p>Hello</p>', Charset: 'UTF-8' }, Text: { Data: 'Hello', Charset: 'UTF-8' } },
          Headers: [
            { Name: 'X-Mailroute-Id', Value: 'msg-1' },
            { Name: 'X-Entity-Ref', Value: 'abc' },
          ],
        },
      },
    });
    expect(input?.EmailTags).toEqual([
      { Name: MESSAGE_ID_TAG, Value: 'msg-1' },
      { Name: 'campaign', Value: 'spring' },
    ]);
  });

  it('classifies a refusal of the message as rejected', async () => {
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }));
    const out = await new SesProvider(new SESv2Client({ region: 'us-east-1' })).send(email);
    expect(out).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/^MessageRejected/) });
  });
});

describe('classifySesError', () => {
  it.each([
    [new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...meta(429) }), 'throttled'],
    [
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      'throttled',
    ],
    [new AccountSuspendedException({ message: 'suspended', ...meta(400) }), 'broken'],
    [
      Object.assign(new Error('paused'), { name: 'SendingPausedException', $metadata: { httpStatusCode: 400 } }),
      'broken',
    ],
    [new MessageRejected({ message: 'bad', ...meta(400) }), 'rejected'],
    [
      new SESv2ServiceException({
        name: 'InternalFailure',
        message: 'oops',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      }),
      'down',
    ],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'down'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'ambiguous'],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'ambiguous'],
  ])('%s → %s', (error, kind) => {
    expect(classifySesError(error).kind).toBe(kind);
  });
});
