import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { Dispatch, type DispatchProps } from '../../lib/constructs/dispatch';
import { SesEvents } from '../../lib/constructs/ses-events';
import { SesEventsTopic } from '../../lib/constructs/ses-events-topic';
import { MailrouteTables } from '../../lib/constructs/tables';
import { WorkQueue } from '../../lib/constructs/work-queue';
import { QUEUES } from '../../lib/resources';
import { logicalId, resource, testApp } from './stack-fixture';

/** A stack in an app that skips bundling: these tests only check synth-time validation. */
const emptyStack = (): Stack => new Stack(testApp(), 'Test');

describe('WorkQueue', () => {
  it('rejects a visibility timeout shorter than 6x the consumer timeout, saying what to change', () => {
    expect(
      () =>
        new WorkQueue(emptyStack(), 'SendQueue', {
          spec: QUEUES.send,
          visibilityTimeout: Duration.seconds(60),
          consumerTimeout: Duration.seconds(30),
        }),
    ).toThrow(
      /visibilityTimeout \(60 s\) must be at least 6x the consumer's timeout \(30 s\): raise visibilityTimeout to 180 s/,
    );
  });

  it("defaults the visibility timeout to 6x the consumer's timeout", () => {
    const stack = emptyStack();
    const { queue } = new WorkQueue(stack, 'Work', { spec: QUEUES.sesEvents, consumerTimeout: Duration.seconds(45) });
    expect(resource(Template.fromStack(stack), logicalId(queue)).Properties?.VisibilityTimeout).toBe(270);
  });
});

describe('Dispatch', () => {
  const dispatchProps = (stack: Stack, overrides: Partial<DispatchProps>): DispatchProps => ({
    tables: new MailrouteTables(stack, 'Tables').tables,
    sendQueue: new Queue(stack, 'Queue'),
    configurationSet: new ConfigurationSet(stack, 'ConfigurationSet'),
    senderIdentities: ['example.com'],
    signingKeys: new Secret(stack, 'SigningKeys'),
    publicBaseUrl: 'https://mail.example.com',
    ...overrides,
  });

  it('rejects an empty senderIdentities, saying what to list', () => {
    const stack = emptyStack();
    expect(() => new Dispatch(stack, 'Dispatch', dispatchProps(stack, { senderIdentities: [] }))).toThrow(
      /senderIdentities is empty.*List the SES identities/,
    );
  });

  it.each([
    ['http://mail.example.com', /expected an https URL/],
    ['https://mail.example.com/', /expected no trailing slash/],
  ])('rejects publicBaseUrl %j, saying what it expects', (publicBaseUrl, reason) => {
    const stack = emptyStack();
    expect(() => new Dispatch(stack, 'Dispatch', dispatchProps(stack, { publicBaseUrl }))).toThrow(
      new RegExp(`Dispatch "Test/Dispatch": publicBaseUrl "${publicBaseUrl}": ${reason.source}`),
    );
  });
});

describe('SesEvents', () => {
  it.each([
    [{ limit: 0, windowHours: 72 }, /softBounce\.limit is 0; expected a whole number from 1 to 100/],
    [{ limit: 3, windowHours: 1.5 }, /softBounce\.windowHours is 1\.5; expected a whole number from 1 to 720/],
  ])('rejects softBounce %j, naming the field and its range', (softBounce, message) => {
    const stack = emptyStack();
    const { tables } = new MailrouteTables(stack, 'Tables');
    expect(() => new SesEvents(stack, 'SesEvents', { tables, queue: new Queue(stack, 'Queue'), softBounce })).toThrow(
      message,
    );
  });
});

describe('SesEventsTopic', () => {
  it('rejects an empty events list, saying what to do', () => {
    const stack = emptyStack();
    expect(
      () =>
        new SesEventsTopic(stack, 'SesEventsTopic', {
          configurationSet: new ConfigurationSet(stack, 'ConfigurationSet'),
          queue: new Queue(stack, 'Queue'),
          events: [],
        }),
    ).toThrow(/events is empty, so SES would publish nothing/);
  });
});
