import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MailrouteFunction } from '../../lib/constructs/mailroute-function';
import type { WorkQueue } from '../../lib/constructs/work-queue';
import { DISPATCH_BATCH_SIZE, DLQ_RETENTION_DAYS, QUEUES, SES_EVENTS_BATCH_SIZE } from '../../lib/resources';
import { type CfnResource, logicalId, resource, resourcesOfType, type Synthesized, synthesize } from './stack-fixture';

const DAY_SECONDS = 86_400;

let s: Synthesized;

beforeAll(() => {
  // A value other than the default shows the context reaches the event source.
  s = synthesize({ mailroute: { dispatch: { maxConcurrency: 25, bulkMaxConcurrency: 3 } } });
});

/** Each work queue, the function that consumes it, and the spec it was built from. */
const WORK_QUEUES: [string, () => WorkQueue, () => MailrouteFunction, (typeof QUEUES)[keyof typeof QUEUES]][] = [
  ['send queue', () => s.stack.sendQueue, () => s.stack.dispatch.handler, QUEUES.send],
  ['critical send queue', () => s.stack.priorityQueues.critical, () => s.stack.dispatch.handler, QUEUES.sendCritical],
  ['bulk send queue', () => s.stack.priorityQueues.bulk, () => s.stack.dispatch.handler, QUEUES.sendBulk],
  ['SES events queue', () => s.stack.sesEventsQueue, () => s.stack.sesEvents.handler, QUEUES.sesEvents],
  [
    'webhook events queue',
    () => s.stack.queues.webhookEvents,
    () => s.stack.functions.webhooks.handler,
    QUEUES.webhookEvents,
  ],
  [
    'webhook retries queue',
    () => s.stack.queues.webhookRetries,
    () => s.stack.functions.webhooks.handler,
    QUEUES.webhookRetries,
  ],
  [
    'audience jobs queue',
    () => s.stack.queues.audienceJobs,
    () => s.stack.functions.audience.handler,
    QUEUES.audienceJobs,
  ],
];

describe.each(WORK_QUEUES)('%s', (_name, workQueue, consumer, spec) => {
  let queueId: string;
  let dlqId: string;
  let queue: CfnResource;
  let dlq: CfnResource;
  beforeAll(() => {
    queueId = logicalId(workQueue().queue);
    dlqId = logicalId(workQueue().deadLetterQueue);
    queue = resource(s.template, queueId);
    dlq = resource(s.template, dlqId);
  });

  it('moves a message to its DLQ after maxReceiveCount (5) receives', () => {
    expect(queue.Properties?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(spec.maxReceiveCount).toBe(5);
  });

  it("has a visibility timeout of at least 6x its consumer function's timeout", () => {
    const fn = resource(s.template, logicalId(consumer().function));
    const timeout = fn.Properties?.Timeout;
    expect(timeout).toBeTypeOf('number');
    expect(queue.Properties?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (timeout as number));
  });

  it('keeps messages for the retention period of its spec', () => {
    expect(queue.Properties?.MessageRetentionPeriod).toBe(spec.retentionDays * DAY_SECONDS);
  });

  it('is encrypted at rest, and so is its DLQ (SQS-managed SSE)', () => {
    for (const q of [queue, dlq]) expect(q.Properties?.SqsManagedSseEnabled).toBe(true);
  });

  it('denies requests without TLS, and so does its DLQ', () => {
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

  it('has a DLQ that keeps messages for DLQ_RETENTION_DAYS', () => {
    expect(dlq.Properties?.MessageRetentionPeriod).toBe(DLQ_RETENTION_DAYS * DAY_SECONDS);
  });

  it('has a DLQ without a dead-letter queue of its own', () => {
    expect(dlq.Properties?.RedrivePolicy).toBeUndefined();
  });

  it('has a DLQ nothing consumes (messages wait there for an operator)', () => {
    const sources = Object.values(resourcesOfType(s.template, 'AWS::Lambda::EventSourceMapping')).map(
      (m) => m.Properties?.EventSourceArn,
    );
    expect(sources).not.toContainEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
  });
});

it('has no queues but the work queues and their DLQs', () => {
  const expected = [
    ...WORK_QUEUES.flatMap(([, workQueue]) => [logicalId(workQueue().queue), logicalId(workQueue().deadLetterQueue)]),
    // EventBridge Scheduler's dead-letter queue (scheduled sends; asserted in scheduling.test.ts).
    logicalId(s.stack.scheduling.deadLetterQueue),
  ];
  expect(Object.keys(resourcesOfType(s.template, 'AWS::SQS::Queue')).sort()).toEqual(expected.sort());
});

/** The event source mapping whose source is the queue. */
function mappingOf(workQueue: WorkQueue): CfnResource {
  const mappings = Object.values(resourcesOfType(s.template, 'AWS::Lambda::EventSourceMapping')).filter(
    (m) =>
      JSON.stringify(m.Properties?.EventSourceArn) ===
      JSON.stringify({ 'Fn::GetAtt': [logicalId(workQueue.queue), 'Arn'] }),
  );
  expect(mappings).toHaveLength(1);
  return mappings[0] as CfnResource;
}

it('has exactly one event source mapping per work queue', () => {
  expect(Object.keys(resourcesOfType(s.template, 'AWS::Lambda::EventSourceMapping'))).toHaveLength(WORK_QUEUES.length);
});

describe('dispatch event source mapping', () => {
  let mapping: CfnResource;
  beforeAll(() => {
    mapping = mappingOf(s.stack.sendQueue);
  });

  it('connects the send queue to the dispatch function', () => {
    expect(mapping.Properties?.FunctionName).toEqual({ Ref: logicalId(s.stack.dispatch.handler.function) });
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

describe.each([
  ['critical', () => s.stack.priorityQueues.critical, () => s.context.dispatch.maxConcurrency],
  ['transactional', () => s.stack.priorityQueues.transactional, () => s.context.dispatch.maxConcurrency],
  ['bulk', () => s.stack.priorityQueues.bulk, () => s.context.dispatch.bulkMaxConcurrency],
] as const)('the %s queue', (_priority, workQueue, concurrency) => {
  it('has its own event source into the dispatch function, reporting batch item failures', () => {
    const mapping = mappingOf(workQueue());
    expect(mapping.Properties?.FunctionName).toEqual({ Ref: logicalId(s.stack.dispatch.handler.function) });
    expect(mapping.Properties?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.Properties?.BatchSize).toBe(DISPATCH_BATCH_SIZE);
  });

  it('limits its concurrency as the context says (bulk: dispatch.bulkMaxConcurrency)', () => {
    expect(mappingOf(workQueue()).Properties?.ScalingConfig).toEqual({ MaximumConcurrency: concurrency() });
  });
});

describe('priority queues', () => {
  it('keep the construct id of the send queue for the transactional one, so the deployed queue is not replaced', () => {
    expect(s.stack.priorityQueues.transactional).toBe(s.stack.sendQueue);
    expect(s.stack.sendQueue.node.id).toBe('SendQueue');
    expect(logicalId(s.stack.sendQueue.queue)).toMatch(/^SendQueue/);
    expect(logicalId(s.stack.sendQueue.deadLetterQueue)).toMatch(/^SendQueueDeadLetterQueue/);
  });

  it('cap only the bulk event source below the others (the default cap is 2)', () => {
    const d = synthesize();
    const caps = Object.values(resourcesOfType(d.template, 'AWS::Lambda::EventSourceMapping'))
      .map((m) => (m.Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency)
      .sort();
    // critical and transactional at dispatch.maxConcurrency (10), bulk at 2, SES events, webhooks and
    // audience jobs uncapped.
    expect(caps).toEqual([10, 10, 2, undefined, undefined, undefined, undefined].sort());
    expect(d.context.dispatch.bulkMaxConcurrency).toBe(2);
  });
});

describe('ses-events event source mapping', () => {
  let mapping: CfnResource;
  beforeAll(() => {
    mapping = mappingOf(s.stack.sesEventsQueue);
  });

  it('connects the SES events queue to the ses-events function', () => {
    expect(mapping.Properties?.FunctionName).toEqual({ Ref: logicalId(s.stack.sesEvents.handler.function) });
  });

  it('reports batch item failures', () => {
    expect(mapping.Properties?.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('takes SES_EVENTS_BATCH_SIZE (10) messages per invocation', () => {
    expect(mapping.Properties?.BatchSize).toBe(SES_EVENTS_BATCH_SIZE);
    expect(SES_EVENTS_BATCH_SIZE).toBe(10);
  });
});
