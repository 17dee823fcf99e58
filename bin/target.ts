/**
 * Where the operator CLIs act: the running local stack (found through .local/state.json), else the
 * deployed stack (AWS credentials from the usual chain; names from the stack's outputs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface StackTarget {
  readonly where: string;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly tables: { readonly settings: string; readonly messages: string };
  /** The send queue of each priority and its DLQ: `send` (transactional), `sendCritical`, `sendBulk`. */
  readonly queues: SendQueueUrls;
  destroy(): void;
}

/** The send queues and their DLQs, by the spec's queue names (`send` is the transactional one). */
export interface SendQueueUrls {
  readonly send: string;
  readonly sendDlq: string;
  readonly sendCritical: string;
  readonly sendCriticalDlq: string;
  readonly sendBulk: string;
  readonly sendBulkDlq: string;
}

const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

interface LocalState {
  pid: number;
  awsEndpoint: string;
  dynamodbEndpoint: string;
  tables: { settings: string; messages: string };
  queues: SendQueueUrls;
}

function localTarget(): StackTarget | undefined {
  const file = join(process.cwd(), '.local', 'state.json');
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LocalState;
  try {
    process.kill(state.pid, 0);
  } catch {
    return undefined; // stale file: that local stack is gone
  }
  const dynamodb = new DynamoDBClient({ endpoint: state.dynamodbEndpoint, ...LOCAL });
  const sqs = new SQSClient({ endpoint: state.awsEndpoint, ...LOCAL });
  return {
    where: `the local stack (${state.dynamodbEndpoint})`,
    dynamodb,
    sqs,
    tables: state.tables,
    queues: state.queues,
    destroy: () => {
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

async function deployedTarget(stackName: string): Promise<StackTarget> {
  const cfn = new CloudFormationClient({});
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  cfn.destroy();
  const output = (key: string) => {
    const value = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack ${stackName} has no ${key} output; is it deployed?`);
    return value;
  };
  const dynamodb = new DynamoDBClient({});
  const sqs = new SQSClient({});
  return {
    where: `stack ${stackName}`,
    dynamodb,
    sqs,
    tables: { settings: output('SettingsTableName'), messages: output('MessagesTableName') },
    queues: {
      send: output('SendQueueUrl'),
      sendDlq: output('DeadLetterQueueUrl'),
      sendCritical: output('CriticalSendQueueUrl'),
      sendCriticalDlq: output('CriticalDeadLetterQueueUrl'),
      sendBulk: output('BulkSendQueueUrl'),
      sendBulkDlq: output('BulkDeadLetterQueueUrl'),
    },
    destroy: () => {
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

export async function resolveTarget(stackName: string): Promise<StackTarget> {
  return localTarget() ?? deployedTarget(stackName);
}
