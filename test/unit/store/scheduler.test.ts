import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeScheduler } from '../../../functions/store/scheduler';

const client = mockClient(SchedulerClient);
afterEach(() => client.reset());

const scheduler = new EventBridgeScheduler(new SchedulerClient({ region: 'eu-west-1' }), {
  group: 'mailroute-schedules',
  roleArn: 'arn:aws:iam::111111111111:role/scheduler',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:111111111111:scheduler-dlq',
});
const request = {
  name: 'm-id-1',
  expression: 'at(2026-12-01T09:00:00)',
  queueArn: 'arn:aws:sqs:eu-west-1:111111111111:send',
  body: '{"v":1,"kind":"scheduled","id":"id-1","rev":1,"priority":"transactional"}',
};
const notFound = () =>
  new ResourceNotFoundException({
    Message: 'Schedule m-id-1 does not exist.',
    message: 'Schedule m-id-1 does not exist.',
    $metadata: {},
  });

describe('the EventBridge Scheduler adapter', () => {
  it('creates a one-time schedule: at() in UTC, no flexible window, deleted after it fires, the firing to its queue, a DLQ', async () => {
    client.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await scheduler.create(request);
    expect(client.commandCalls(CreateScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'm-id-1',
      GroupName: 'mailroute-schedules',
      ScheduleExpression: 'at(2026-12-01T09:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: request.queueArn,
        RoleArn: 'arn:aws:iam::111111111111:role/scheduler',
        Input: request.body,
        DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:111111111111:scheduler-dlq' },
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
      },
    });
  });

  it('a create whose first attempt went through (conflict) sets the same definition again', async () => {
    client
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} }));
    client.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await scheduler.create(request);
    expect(client.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toEqual(scheduler.definition(request));
  });

  it('updates with the complete definition (UpdateSchedule replaces every field); gone: false', async () => {
    client.on(UpdateScheduleCommand).resolvesOnce({ ScheduleArn: 'arn' }).rejectsOnce(notFound());
    expect(await scheduler.update(request)).toBe(true);
    expect(client.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toEqual(scheduler.definition(request));
    expect(await scheduler.update(request)).toBe(false);
  });

  it('deletes in its group; a schedule already gone (it fired) answers false, other errors throw', async () => {
    client.on(DeleteScheduleCommand).resolvesOnce({}).rejectsOnce(notFound()).rejectsOnce(new Error('throttled'));
    expect(await scheduler.delete('m-id-1')).toBe(true);
    expect(client.commandCalls(DeleteScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'm-id-1',
      GroupName: 'mailroute-schedules',
    });
    expect(await scheduler.delete('m-id-1')).toBe(false);
    await expect(scheduler.delete('m-id-1')).rejects.toThrow('throttled');
  });
});
