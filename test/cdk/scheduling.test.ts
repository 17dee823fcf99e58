import { beforeAll, describe, expect, it } from 'vitest';
import { RUNBOOK, runbookLink } from '../../lib/constructs/monitoring';
import { SCHEDULING } from '../../lib/spec';
import {
  arnOf,
  environmentOf,
  logicalId,
  type Permission,
  permissionsOfRole,
  render,
  resource,
  resourcesOfType,
  roleIdOf,
  type Synthesized,
  synthesize,
} from './stack-fixture';

let s: Synthesized;
let ingest: Permission[];
let dispatch: Permission[];
let schedulerRole: Permission[];

beforeAll(() => {
  s = synthesize();
  ingest = permissionsOfRole(s.template, roleIdOf(s.stack.ingest.handler));
  dispatch = permissionsOfRole(s.template, roleIdOf(s.stack.dispatch.handler));
  schedulerRole = permissionsOfRole(s.template, logicalId(s.stack.scheduling.role));
});

const groupId = () => logicalId(s.stack.scheduling.group);
const groupName = () => s.stack.resolve(s.stack.scheduling.group.scheduleGroupName) as string;
const sendQueueArns = () =>
  Object.values(s.stack.priorityQueues)
    .map((q) => arnOf(logicalId(q.queue)))
    .sort();
const schedulerDlqArn = () => arnOf(logicalId(s.stack.scheduling.deadLetterQueue));
const jobsQueueArn = () => arnOf(logicalId(s.stack.queues.audienceJobs.queue));

describe('scheduled sends in the stack', () => {
  it('has one schedule group, named after the stack (one group per stack)', () => {
    const groups = resourcesOfType(s.template, 'AWS::Scheduler::ScheduleGroup');
    expect(Object.keys(groups)).toEqual([groupId()]);
    expect(groups[groupId()]?.Properties?.Name).toBe(groupName());
    expect(groupName()).toMatch(new RegExp(`^${s.stack.stackName}-`));
  });

  it("lets only EventBridge Scheduler of the stack's own account assume the scheduler's role", () => {
    const trust = resource(s.template, logicalId(s.stack.scheduling.role)).Properties?.AssumeRolePolicyDocument as {
      Statement: { Principal: unknown; Condition: unknown; Action: string }[];
    };
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]).toMatchObject({
      Action: 'sts:AssumeRole',
      Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it("lets the scheduler's role send to the three send queues, the audience jobs queue (broadcasts) and its DLQ, and do nothing else", () => {
    const resources = [...new Set(schedulerRole.map((p) => p.resource))].sort();
    expect(resources).toEqual([...sendQueueArns(), jobsQueueArn(), schedulerDlqArn()].sort());
    for (const p of schedulerRole)
      expect(p.action, p.resource).toMatch(/^sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)$/);
    expect(
      schedulerRole
        .filter((p) => p.action === 'sqs:SendMessage')
        .map((p) => p.resource)
        .sort(),
    ).toEqual([...sendQueueArns(), jobsQueueArn(), schedulerDlqArn()].sort());
  });

  it('gives the API create, update and delete on the schedules of its group only, and no other Scheduler action', () => {
    const onScheduler = ingest.filter((p) => p.action.startsWith('scheduler:'));
    expect(onScheduler.map((p) => p.action).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:UpdateSchedule',
    ]);
    for (const p of onScheduler) {
      expect(p.resource, p.action).toBe(
        `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${groupName()}/*`,
      );
    }
  });

  it("lets the API pass the scheduler's role, and no other role", () => {
    const passRole = ingest.filter((p) => p.action === 'iam:PassRole');
    expect(passRole.map((p) => p.resource)).toEqual([arnOf(logicalId(s.stack.scheduling.role))]);
  });

  it('gives the dispatcher no Scheduler action and no role to pass', () => {
    expect(dispatch.filter((p) => p.action.startsWith('scheduler:') || p.action === 'iam:PassRole')).toEqual([]);
  });

  it("lets the dispatcher read the API keys (GetItem only), to check a scheduled email's key at send time", () => {
    const onKeys = dispatch.filter(
      (p) =>
        p.resource === arnOf(logicalId(s.stack.tables.settings)) &&
        JSON.stringify(p.condition ?? {}).includes('apikey#'),
    );
    expect(onKeys).toEqual([
      {
        action: 'dynamodb:GetItem',
        resource: arnOf(logicalId(s.stack.tables.settings)),
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['apikey#*'] } },
      },
    ]);
  });

  it('gives the API the scheduling variables, which its own config parser accepts', () => {
    const fn = resource(s.template, logicalId(s.stack.ingest.handler.function));
    const env = environmentOf(fn);
    expect(env[SCHEDULING.env.group]).toBe(groupName());
    expect(env[SCHEDULING.env.roleArn]).toBe(arnOf(logicalId(s.stack.scheduling.role)));
    expect(env[SCHEDULING.env.deadLetterArn]).toBe(schedulerDlqArn());
    expect(
      [
        env[SCHEDULING.env.queueArns.critical],
        env[SCHEDULING.env.queueArns.transactional],
        env[SCHEDULING.env.queueArns.bulk],
      ].sort(),
    ).toEqual(sendQueueArns());
  });

  it('keeps the scheduler DLQ encrypted, TLS only, for 14 days', () => {
    const dlq = resource(s.template, logicalId(s.stack.scheduling.deadLetterQueue)).Properties;
    expect(dlq).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    const policies = Object.values(resourcesOfType(s.template, 'AWS::SQS::QueuePolicy')).filter((p) =>
      render(p.Properties?.Queues).includes(logicalId(s.stack.scheduling.deadLetterQueue)),
    );
    expect(JSON.stringify(policies)).toContain('aws:SecureTransport');
  });

  it('alarms on any message in the scheduler DLQ, notifies the alarm topic, and points to its runbook', () => {
    const alarm = resource(s.template, logicalId(s.stack.scheduling.deadLetterAlarm)).Properties;
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalId(s.stack.monitoring.alarmTopic) }],
      OKActions: [{ Ref: logicalId(s.stack.monitoring.alarmTopic) }],
    });
    const [dimension] = (alarm?.Dimensions ?? []) as { Value: unknown }[];
    expect(render(dimension?.Value)).toBe(`\${${logicalId(s.stack.scheduling.deadLetterQueue)}.QueueName}`);
    expect(alarm?.AlarmDescription).toContain(runbookLink(RUNBOOK.schedulerDeadLetterQueue));
  });
});
