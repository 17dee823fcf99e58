import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../functions/core/defaults';
import { Dispatch, type DispatchProps } from '../../lib/constructs/dispatch';
import { SesEvents } from '../../lib/constructs/ses-events';
import { SesEventsTopic } from '../../lib/constructs/ses-events-topic';
import { SpecFunction } from '../../lib/constructs/spec-function';
import { MailrouteTables } from '../../lib/constructs/tables';
import { TrackingDomain } from '../../lib/constructs/tracking-domain';
import { WorkQueue } from '../../lib/constructs/work-queue';
import { MailrouteStack } from '../../lib/mailroute-stack';
import { QUEUES, SES_EVENTS_BATCH_SIZE } from '../../lib/resources';
import { paramsFor } from '../../lib/spec';
import {
  arnOf,
  environmentOf,
  logicalId,
  permissionsOfRole,
  refOf,
  resource,
  resourcesOfType,
  roleIdOf,
  testApp,
} from './stack-fixture';

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
    sendDeadLetterQueue: new Queue(stack, 'DeadLetterQueue'),
    criticalQueue: { queue: new Queue(stack, 'CriticalQueue'), deadLetterQueue: new Queue(stack, 'CriticalDlq') },
    bulkQueue: { queue: new Queue(stack, 'BulkQueue'), deadLetterQueue: new Queue(stack, 'BulkDlq') },
    configurationSet: new ConfigurationSet(stack, 'ConfigurationSet'),
    senderIdentities: ['example.com'],
    signingKeys: new Secret(stack, 'SigningKeys'),
    contentBucket: new Bucket(stack, 'Content'),
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

describe('SpecFunction', () => {
  it('builds a function from its spec entry alone: variables, table grants and event source', () => {
    const stack = emptyStack();
    const { tables } = new MailrouteTables(stack, 'Tables');
    const queue = new Queue(stack, 'Queue');
    const built = new SpecFunction(stack, 'Consumer', {
      name: 'sesEvents',
      resources: { tables, queues: { sesEvents: queue }, secrets: {} },
      params: paramsFor('sesEvents', {
        retentionDays: 30,
        providersJson: '',
        publicBaseUrl: 'https://mail.example.com',
        trackOpens: true,
        trackClicks: true,
        softBounce: { limit: 4, windowHours: 48 },
        bulkReservePercent: 30,
        guard: DEFAULTS.guard,
      }),
    });
    const template = Template.fromStack(stack);
    const fn = resource(template, logicalId(built.handler.function));
    expect(environmentOf(fn)).toMatchObject({
      TABLE_MESSAGES: refOf(logicalId(tables.messages)),
      TABLE_SUPPRESSION: refOf(logicalId(tables.suppression)),
      SOFT_BOUNCE_LIMIT: '4',
      SOFT_BOUNCE_WINDOW_HOURS: '48',
    });
    const dynamo = permissionsOfRole(template, roleIdOf(built.handler)).filter((p) => p.action.startsWith('dynamodb:'));
    expect(new Set(dynamo.map((p) => p.resource))).toEqual(
      new Set([
        arnOf(logicalId(tables.messages)),
        arnOf(logicalId(tables.suppression)),
        arnOf(logicalId(tables.reputation)),
        arnOf(logicalId(tables.templates)),
      ]),
    );
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.map((m) => m.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: { 'Fn::GetAtt': [logicalId(queue), 'Arn'] },
        FunctionName: { Ref: logicalId(built.handler.function) },
        BatchSize: SES_EVENTS_BATCH_SIZE,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    expect(built.eventSources.sesEvents).toBeDefined();
  });

  it('refuses to build without a resource its spec grants, naming it', () => {
    const stack = emptyStack();
    const { tables } = new MailrouteTables(stack, 'Tables');
    expect(
      () =>
        new SpecFunction(stack, 'Consumer', {
          name: 'tracking',
          resources: { tables, queues: {}, secrets: {} },
          params: {},
        }),
    ).toThrow(/Test\/Consumer: the spec grants the signingKeys secret, but it was not given to the construct/);
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

describe('TrackingDomain', () => {
  const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef';
  const trackingDomain = (stack: Stack, domainName: string, certificateArn = CERTIFICATE_ARN): TrackingDomain => {
    const httpApi = new HttpApi(stack, 'Api', { createDefaultStage: false });
    return new TrackingDomain(stack, 'TrackingDomain', {
      domainName,
      certificate: Certificate.fromCertificateArn(stack, 'Certificate', certificateArn),
      httpApi,
      stage: new HttpStage(stack, 'Stage', { httpApi }),
    });
  };

  it.each(['https://track.example.com', 'track.example.com/c', '*.example.com'])(
    'rejects domainName %j, saying to give the bare host name',
    (domainName) => {
      expect(() => trackingDomain(emptyStack(), domainName)).toThrow(
        /TrackingDomain "Test\/TrackingDomain": domainName .* is not a DNS name; give the bare host name/,
      );
    },
  );

  it("rejects a certificate outside the stack's region, when the region is known", () => {
    const stack = new Stack(testApp(), 'Test', { env: { region: 'us-east-1' } });
    expect(() => trackingDomain(stack, 'track.example.com')).toThrow(
      /the certificate is in eu-west-1 but the stack deploys to us-east-1; .* needs an ACM certificate in us-east-1/,
    );
  });

  it("accepts a certificate in the stack's region, and gives the domain's https base URL", () => {
    const stack = new Stack(testApp(), 'Test', { env: { region: 'eu-west-1' } });
    expect(trackingDomain(stack, 'track.example.com').baseUrl).toBe('https://track.example.com');
  });
});

describe('MailrouteStack', () => {
  it('rejects publicBaseUrl together with trackingDomain, saying to set only one', () => {
    expect(
      () =>
        new MailrouteStack(testApp(), 'Mailroute', {
          senderIdentities: ['example.com'],
          publicBaseUrl: 'https://mail.example.com',
          trackingDomain: {
            name: 'track.example.com',
            certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef',
          },
        }),
    ).toThrow(
      /publicBaseUrl and trackingDomain are both set; set only one\. trackingDomain implies a publicBaseUrl of "https:\/\/track\.example\.com"/,
    );
  });
});
