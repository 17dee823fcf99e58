import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DISPATCH_BATCH_SIZE, DLQ_RETENTION_DAYS, QUEUES } from '../../lib/resources';
import { type CfnResource, logicalId, resource, resourcesOfType, type Synthesized, synthesize } from './stack-fixture';

const DAY_SECONDS = 86_400;

let s: Synthesized;
let queueId: string;
let dlqId: string;
let queue: CfnResource;
let dlq: CfnResource;

beforeAll(() => {
  // A value other than the default shows the context reaches the event source.
  s = synthesize({ mailroute: { dispatch: { maxConcurrency: 25 } } });
  queueId = logicalId(s.stack.sendQueue.queue);
  dlqId = logicalId(s.stack.sendQueue.deadLetterQueue);
  queue = resource(s.template, queueId);
  dlq = resource(s.template, dlqId);
});

describe('send queue', () => {
  it('moves a message to the DLQ after maxReceiveCount receives', () => {
    expect(queue.Properties?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: QUEUES.send.maxReceiveCount,
    });
    expect(QUEUES.send.maxReceiveCount).toBe(5);
  });

  it('has a visibility timeout of at least 6x the dispatch function timeout', () => {
    const dispatch = resource(s.template, logicalId(s.stack.dispatch.handler.function));
    const timeout = dispatch.Properties?.Timeout;
    expect(timeout).toBeTypeOf('number');
    expect(queue.Properties?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (timeout as number));
  });

  it('keeps messages for the retention period of its spec', () => {
    expect(queue.Properties?.MessageRetentionPeriod).toBe(QUEUES.send.retentionDays * DAY_SECONDS);
  });
});

describe('dead-letter queue', () => {
  it('keeps messages for DLQ_RETENTION_DAYS', () => {
    expect(dlq.Properties?.MessageRetentionPeriod).toBe(DLQ_RETENTION_DAYS * DAY_SECONDS);
  });

  it('has no dead-letter queue of its own', () => {
    expect(dlq.Properties?.RedrivePolicy).toBeUndefined();
  });
});

describe('both queues', () => {
  it('are the only queues', () => {
    expect(Object.keys(resourcesOfType(s.template, 'AWS::SQS::Queue')).sort()).toEqual([queueId, dlqId].sort());
  });

  it('are encrypted at rest (SQS-managed SSE)', () => {
    for (const q of [queue, dlq]) expect(q.Properties?.SqsManagedSseEnabled).toBe(true);
  });

  it('deny requests without TLS', () => {
    for (const id of [queueId, dlqId]) {
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });
});

describe('dispatch event source mapping', () => {
  let mapping: CfnResource;
  beforeAll(() => {
    const mappings = Object.values(resourcesOfType(s.template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    mapping = mappings[0] as CfnResource;
  });

  it('connects the send queue to the dispatch function', () => {
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: logicalId(s.stack.dispatch.handler.function) },
    });
  });

  it('reports batch item failures', () => {
    expect(mapping.Properties?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('takes DISPATCH_BATCH_SIZE messages per invocation', () => {
    expect(mapping.Properties?.BatchSize).toBe(DISPATCH_BATCH_SIZE);
  });

  it('limits concurrency to dispatch.maxConcurrency of the context', () => {
    expect(mapping.Properties?.ScalingConfig).toEqual({ MaximumConcurrency: s.context.dispatch.maxConcurrency });
  });
});
