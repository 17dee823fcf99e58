/**
 * The Scheduler port on EventBridge Scheduler: one one-time schedule per scheduled email, in the
 * stack's schedule group, whose target puts the firing on the email's send queue. `at()` in UTC,
 * no flexible window, deleted after it fires; a firing Scheduler could not deliver goes to the
 * scheduler's own dead-letter queue. UpdateSchedule replaces every field, so create and update send
 * the same complete definition.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { ScheduleRequest, Scheduler } from '../ports';

export interface EventBridgeSchedulerOptions {
  /** The stack's schedule group. */
  readonly group: string;
  /** The role Scheduler assumes to send to the send queues (and nothing else). */
  readonly roleArn: string;
  /** Where Scheduler puts a firing it could not deliver. */
  readonly deadLetterArn: string;
}

/** How long and how often Scheduler retries a firing the queue did not take, before its DLQ. */
export const FIRING_RETRY = { maximumEventAgeSeconds: 86_400, maximumRetryAttempts: 185 } as const;

const isNotFound = (e: unknown) =>
  e instanceof ResourceNotFoundException || (e as { name?: string } | null)?.name === 'ResourceNotFoundException';
const isConflict = (e: unknown) =>
  e instanceof ConflictException || (e as { name?: string } | null)?.name === 'ConflictException';

export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeSchedulerOptions,
  ) {}

  /** The complete definition of one schedule (create and update alike). */
  definition(r: ScheduleRequest): CreateScheduleCommandInput {
    return {
      Name: r.name,
      GroupName: this.options.group,
      ScheduleExpression: r.expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: r.queueArn,
        RoleArn: this.options.roleArn,
        Input: r.body,
        DeadLetterConfig: { Arn: this.options.deadLetterArn },
        RetryPolicy: {
          MaximumEventAgeInSeconds: FIRING_RETRY.maximumEventAgeSeconds,
          MaximumRetryAttempts: FIRING_RETRY.maximumRetryAttempts,
        },
      },
    };
  }

  async create(r: ScheduleRequest): Promise<void> {
    try {
      await this.client.send(new CreateScheduleCommand(this.definition(r)));
    } catch (e) {
      // A retried create whose first attempt went through: the same definition, set again.
      if (!isConflict(e)) throw e;
      await this.client.send(new UpdateScheduleCommand(this.definition(r)));
    }
  }

  async update(r: ScheduleRequest): Promise<boolean> {
    try {
      await this.client.send(new UpdateScheduleCommand(this.definition(r)));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async delete(name: string): Promise<boolean> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.group }));
      return true;
    } catch (e) {
      // Gone already: it fired (and deleted itself), or was deleted before.
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
