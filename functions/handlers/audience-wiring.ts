/**
 * The audience function's composition root: the handler of each job kind, built on the AWS
 * clients (the Lambda entry) or the local stack's (bin/local/wiring.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AudienceJobsDeps } from '../app/audience-jobs';
import type { AudienceConfig } from '../config';
import { SqsSendQueue } from '../store/sqs';
import { startTracing, traceClient } from './tracing';

export interface AudienceClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
}

/** The queue each job kind queues its next page on. */
export const jobsQueue = (config: AudienceConfig, clients: AudienceClients) =>
  new SqsSendQueue(clients.sqs, config.jobsQueueUrl);

/** Each job kind registers its handler here (a broadcast's `fanout`, a contact `import`). */
export function audienceDeps(_config: AudienceConfig, _clients: AudienceClients): AudienceJobsDeps {
  return { kinds: {} };
}

export function awsAudienceDeps(config: AudienceConfig): AudienceJobsDeps {
  startTracing();
  return audienceDeps(config, { dynamodb: traceClient(new DynamoDBClient({})), sqs: traceClient(new SQSClient({})) });
}
