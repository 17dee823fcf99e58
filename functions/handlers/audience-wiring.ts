/**
 * The audience function's composition root: the handler of each job kind, built on the AWS
 * clients (the Lambda entry) or the local stack's (bin/local/wiring.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AudienceJobsDeps } from '../app/audience-jobs';
import { importJobOf, runImport } from '../app/contact-import';
import type { AudienceConfig } from '../config';
import { DynamoContactImportStore } from '../store/contact-import-store';
import { DynamoContactStore } from '../store/contact-store';
import { S3_CLIENT_OPTIONS, S3ContentStore } from '../store/content-store';
import { documentClient } from '../store/dynamo';
import { SqsSendQueue } from '../store/sqs';
import { startTracing, traceClient } from './tracing';

export interface AudienceClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Contact imports read their uploaded file from the content store. */
  readonly s3: S3Client;
}

/** The queue each job kind queues its next page on. */
export const jobsQueue = (config: AudienceConfig, clients: AudienceClients) =>
  new SqsSendQueue(clients.sqs, config.jobsQueueUrl);

/** Each job kind registers its handler here (a broadcast's `fanout`, a contact `import`). */
export function audienceDeps(config: AudienceConfig, clients: AudienceClients): AudienceJobsDeps {
  return {
    kinds: {
      import: (job) => runImport(importDeps(config, clients), importJobOf(job)),
    },
  };
}

/** A contact import's adapters (app/contact-import.ts). */
function importDeps(config: AudienceConfig, clients: AudienceClients) {
  const doc = documentClient(clients.dynamodb);
  return {
    store: new DynamoContactStore(doc, config.contactsTable),
    imports: new DynamoContactImportStore(doc, config.contactsTable),
    content: new S3ContentStore(clients.s3, config.contentBucket),
    jobs: jobsQueue(config, clients),
  };
}

export function awsAudienceDeps(config: AudienceConfig): AudienceJobsDeps {
  startTracing();
  return audienceDeps(config, {
    dynamodb: traceClient(new DynamoDBClient({})),
    sqs: traceClient(new SQSClient({})),
    s3: traceClient(new S3Client(S3_CLIENT_OPTIONS)),
  });
}
