import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  logicalId,
  refOf,
  render,
  resource,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './stack-fixture';

let s: Synthesized;
let topicId: string;

beforeAll(() => {
  s = synthesize();
  topicId = logicalId(s.stack.sesEventsTopic.topic);
});

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal: unknown;
  readonly Action: string;
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const statementsOf = (policy: CfnResource): Statement[] =>
  (policy.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [];

/** The policies of a type (`AWS::SNS::TopicPolicy`, `AWS::SQS::QueuePolicy`) attached to the resource `id`. */
function policiesOf(type: string, key: 'Topics' | 'Queues', id: string): CfnResource[] {
  return Object.values(resourcesOfType(s.template, type)).filter((p) =>
    ((p.Properties?.[key] as unknown[] | undefined) ?? []).some((target) => render(target) === refOf(id)),
  );
}

/** The statements of the topic's policy. */
function topicStatements(): Statement[] {
  const policies = policiesOf('AWS::SNS::TopicPolicy', 'Topics', topicId);
  expect(policies).toHaveLength(1);
  return statementsOf(policies[0] as CfnResource);
}

describe('SES events topic', () => {
  it('is the only topic besides the alarm topic, and has no hard-coded name', () => {
    expect(Object.keys(resourcesOfType(s.template, 'AWS::SNS::Topic')).sort()).toEqual(
      [topicId, logicalId(s.stack.monitoring.alarmTopic)].sort(),
    );
    expect(resource(s.template, topicId).Properties?.TopicName).toBeUndefined();
  });

  it('denies publishing without TLS', () => {
    expect(topicStatements()).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it("lets SES publish to it only for the stack's configuration set, in this account", () => {
    const allows = topicStatements().filter((st) => st.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    const [allow] = allows as [Statement];
    expect(allow).toMatchObject({
      Principal: { Service: 'ses.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: { Ref: topicId },
    });
    const conditions = allow.Condition?.StringEquals ?? {};
    expect(render(conditions['AWS:SourceAccount'])).toBe(refOf('AWS::AccountId'));
    expect(render(conditions['AWS:SourceArn'])).toBe(
      `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:configuration-set/${refOf(logicalId(s.stack.configurationSet))}`,
    );
  });
});

describe('configuration set event destination', () => {
  let destinations: CfnResource[];
  beforeAll(() => {
    destinations = Object.values(resourcesOfType(s.template, 'AWS::SES::ConfigurationSetEventDestination'));
  });

  it("is the configuration set's only event destination, and is enabled", () => {
    expect(destinations).toHaveLength(1);
    expect(destinations[0]?.Properties).toMatchObject({
      ConfigurationSetName: { Ref: logicalId(s.stack.configurationSet) },
      EventDestination: { Enabled: true },
    });
  });

  it('publishes to the SES events topic', () => {
    expect(destinations[0]?.Properties?.EventDestination).toMatchObject({
      SnsDestination: { TopicARN: { Ref: topicId } },
    });
  });

  it('publishes exactly the delivery-outcome and subscription events', () => {
    const destination = destinations[0]?.Properties?.EventDestination as { MatchingEventTypes?: string[] } | undefined;
    expect([...(destination?.MatchingEventTypes ?? [])].sort()).toEqual(
      ['delivery', 'bounce', 'complaint', 'reject', 'renderingFailure', 'deliveryDelay', 'subscription'].sort(),
    );
  });
});

describe('SES events subscription', () => {
  let queueId: string;
  let subscription: CfnResource;
  beforeAll(() => {
    queueId = logicalId(s.stack.sesEventsQueue.queue);
    const subscriptions = Object.values(resourcesOfType(s.template, 'AWS::SNS::Subscription'));
    expect(subscriptions).toHaveLength(1);
    subscription = subscriptions[0] as CfnResource;
  });

  it('subscribes the SES events queue to the topic', () => {
    expect(subscription.Properties).toMatchObject({
      Protocol: 'sqs',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
  });

  it('uses raw message delivery (the SQS body is the SES event, not an SNS envelope)', () => {
    expect(subscription.Properties?.RawMessageDelivery).toBe(true);
  });

  it('lets only the SES events topic send to the queue', () => {
    const allows = policiesOf('AWS::SQS::QueuePolicy', 'Queues', queueId)
      .flatMap(statementsOf)
      .filter((st) => st.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
      }),
    ]);
  });
});
