import { beforeAll, expect, it } from 'vitest';
import { logicalId, refOf, render, type Synthesized, synthesize } from './stack-fixture';

interface Output {
  readonly Description?: string;
  readonly Value: unknown;
}

let s: Synthesized;
let outputs: Record<string, Output>;

beforeAll(() => {
  s = synthesize();
  outputs = s.template.toJSON().Outputs as Record<string, Output>;
});

it('has exactly the documented outputs', () => {
  expect(Object.keys(outputs).sort()).toEqual(
    [
      'AlarmTopicArn',
      'ApiUrl',
      'BulkDeadLetterQueueUrl',
      'BulkSendQueueUrl',
      'ConfigurationSetName',
      'ContentBucketName',
      'CriticalDeadLetterQueueUrl',
      'CriticalSendQueueUrl',
      'DashboardUrl',
      'DeadLetterQueueUrl',
      'MessagesTableName',
      'SendQueueUrl',
      'SesEventsDeadLetterQueueUrl',
      'SesEventsQueueUrl',
      'SesEventsTopicArn',
      'SettingsTableName',
      'SigningKeysSecretArn',
    ].sort(),
  );
});

it('describes every output', () => {
  for (const [name, output] of Object.entries(outputs)) expect(output.Description, name).toMatch(/\w{3}/);
});

it('gives the API URL of the $default stage', () => {
  expect(render(outputs.ApiUrl?.Value)).toBe(
    `https://\${${logicalId(s.stack.api.httpApi)}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/`,
  );
});

it("links to the dashboard in the CloudWatch console of the stack's region", () => {
  const region = refOf('AWS::Region');
  expect(render(outputs.DashboardUrl?.Value)).toBe(
    `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
      `#dashboards/dashboard/${refOf(logicalId(s.stack.monitoring.dashboard))}`,
  );
});

it('names the resources an operator needs', () => {
  const refs = {
    SettingsTableName: s.stack.tables.settings,
    MessagesTableName: s.stack.tables.messages,
    SendQueueUrl: s.stack.sendQueue.queue,
    DeadLetterQueueUrl: s.stack.sendQueue.deadLetterQueue,
    CriticalSendQueueUrl: s.stack.priorityQueues.critical.queue,
    CriticalDeadLetterQueueUrl: s.stack.priorityQueues.critical.deadLetterQueue,
    BulkSendQueueUrl: s.stack.priorityQueues.bulk.queue,
    BulkDeadLetterQueueUrl: s.stack.priorityQueues.bulk.deadLetterQueue,
    ConfigurationSetName: s.stack.configurationSet,
    // A topic's and a secret's Ref is its ARN; a queue's is its URL.
    SesEventsTopicArn: s.stack.sesEventsTopic.topic,
    SesEventsQueueUrl: s.stack.sesEventsQueue.queue,
    SesEventsDeadLetterQueueUrl: s.stack.sesEventsQueue.deadLetterQueue,
    SigningKeysSecretArn: s.stack.signingKeys.secret,
    AlarmTopicArn: s.stack.monitoring.alarmTopic,
  };
  for (const [name, construct] of Object.entries(refs)) {
    expect(outputs[name]?.Value, name).toEqual({ Ref: logicalId(construct) });
  }
});
