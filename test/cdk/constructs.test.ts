import { Duration, Stack } from 'aws-cdk-lib';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Dispatch } from '../../lib/constructs/dispatch';
import { SendQueue } from '../../lib/constructs/send-queue';
import { MailrouteTables } from '../../lib/constructs/tables';
import { testApp } from './stack-fixture';

/** A stack in an app that skips bundling: these tests only check synth-time validation. */
const emptyStack = (): Stack => new Stack(testApp(), 'Test');

describe('SendQueue', () => {
  it('rejects a visibility timeout shorter than 6x the consumer timeout, saying what to change', () => {
    expect(
      () =>
        new SendQueue(emptyStack(), 'SendQueue', {
          visibilityTimeout: Duration.seconds(60),
          consumerTimeout: Duration.seconds(30),
        }),
    ).toThrow(
      /visibilityTimeout \(60 s\) must be at least 6x the consumer's timeout \(30 s\): raise visibilityTimeout to 180 s/,
    );
  });
});

describe('Dispatch', () => {
  it('rejects an empty senderIdentities, saying what to list', () => {
    const stack = emptyStack();
    const { tables } = new MailrouteTables(stack, 'Tables');
    expect(
      () =>
        new Dispatch(stack, 'Dispatch', {
          tables,
          sendQueue: new Queue(stack, 'Queue'),
          configurationSet: new ConfigurationSet(stack, 'ConfigurationSet'),
          senderIdentities: [],
        }),
    ).toThrow(/senderIdentities is empty.*List the SES identities/);
  });
});
