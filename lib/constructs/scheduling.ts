import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Priority } from '../../functions/core/priority';
import { DLQ_RETENTION_DAYS } from '../resources';
import { SCHEDULING } from '../spec';
import type { MailrouteFunction } from './mailroute-function';
import { RUNBOOK, runbookLink } from './monitoring';

export interface SchedulingProps {
  /** The send queue of each priority: the only places a schedule may put a message. */
  readonly sendQueues: { readonly [P in Priority]: IQueue };
  /** The audience jobs queue: a broadcast scheduled further ahead than 15 minutes starts with a job there. */
  readonly jobsQueue: IQueue;
}

/**
 * What scheduled sends need beyond the send path (DESIGN §1): the stack's schedule group, the role
 * EventBridge Scheduler assumes (it may send to the send queues and its own dead-letter queue, and
 * nothing else), that DLQ (a firing Scheduler could not deliver) with an alarm, and
 * `grantSchedules`, which gives a function the variables and the least-privilege grants to create,
 * update and delete schedules in the group only.
 */
export class Scheduling extends Construct {
  public readonly group: ScheduleGroup;
  public readonly role: Role;
  public readonly deadLetterQueue: Queue;
  public readonly deadLetterAlarm: Alarm;
  private readonly sendQueues: { readonly [P in Priority]: IQueue };
  private readonly jobsQueue: IQueue;

  constructor(scope: Construct, id: string, props: SchedulingProps) {
    super(scope, id);
    this.sendQueues = props.sendQueues;
    this.jobsQueue = props.jobsQueue;
    this.group = new ScheduleGroup(this, 'Group');
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "It is a dead-letter queue: EventBridge Scheduler's, for firings it could not deliver. Nothing consumes it; its alarm calls an operator.",
    });
    this.role = new Role(this, 'Role', {
      description: 'mailroute: EventBridge Scheduler puts scheduled emails on the send queues',
      // Only schedules of this account may assume it (confused deputy).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    for (const queue of Object.values<IQueue>(props.sendQueues)) queue.grantSendMessages(this.role);
    props.jobsQueue.grantSendMessages(this.role);
    this.deadLetterQueue.grantSendMessages(this.role);

    this.deadLetterAlarm = new Alarm(this, 'DeadLetterQueueAlarm', {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `mailroute: ${SCHEDULING.deadLetterAlarm.what}. Runbook: ${runbookLink(RUNBOOK.schedulerDeadLetterQueue)}`,
    });
  }

  /** Makes the DLQ alarm notify `topic` when it fires and when it recovers (as every alarm does). */
  notify(topic: ITopic): void {
    const action = new SnsAction(topic);
    this.deadLetterAlarm.addAlarmAction(action);
    this.deadLetterAlarm.addOkAction(action);
  }

  /**
   * Lets `fn` schedule emails: the variables of functions/config.ts (SCHEDULE_GROUP, …), create,
   * update and delete on the group's schedules only, and passing the scheduler's role only.
   */
  grantSchedules(fn: MailrouteFunction): void {
    const env = SCHEDULING.env;
    fn.addEnvironment(env.group, this.group.scheduleGroupName);
    fn.addEnvironment(env.roleArn, this.role.roleArn);
    fn.addEnvironment(env.deadLetterArn, this.deadLetterQueue.queueArn);
    fn.addEnvironment(env.queueArns.transactional, this.sendQueues.transactional.queueArn);
    fn.addEnvironment(env.queueArns.critical, this.sendQueues.critical.queueArn);
    fn.addEnvironment(env.queueArns.bulk, this.sendQueues.bulk.queueArn);
    fn.addEnvironment(env.jobsQueueArn, this.jobsQueue.queueArn);
    this.group.grantWriteSchedules(fn);
    this.group.grantDeleteSchedules(fn);
    this.role.grantPassRole(fn.grantPrincipal);
    const group = Stack.of(this).resolve(this.group.scheduleGroupName) as string;
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${group}/*]`,
      reason:
        "One schedule per scheduled email, named after its id: the function creates, updates and deletes schedules of the stack's own schedule group only.",
    });
  }
}
