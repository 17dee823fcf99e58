/**
 * The audience function's composition root: the handler of each job kind, built on the AWS
 * clients (the Lambda entry) or the local stack's (bin/local/wiring.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createAccept } from '../app/accept';
import type { AudienceJobsDeps } from '../app/audience-jobs';
import { createFanout, parseFanoutJob } from '../app/broadcast-fanout';
import { importJobOf, runImport } from '../app/contact-import';
import { withSearchIndex } from '../app/email-search';
import { logger, metrics } from '../app/observability';
import type { AudienceConfig } from '../config';
import { largestMessageBytes } from '../core/message-size';
import type { SendQueue } from '../ports';
import { DynamoBroadcastStore } from '../store/broadcast-store';
import { DynamoContactImportStore } from '../store/contact-import-store';
import { DynamoContactStore } from '../store/contact-store';
import { S3_CLIENT_OPTIONS, S3ContentStore } from '../store/content-store';
import { documentClient } from '../store/dynamo';
import { DynamoEmailIndex } from '../store/email-index';
import { DynamoMessageStore } from '../store/message-store';
import { SqsSendQueue } from '../store/sqs';
import { DynamoTemplateStore } from '../store/template-store';
import { eventBuffer, withEvents } from './event-wiring';
import { startTracing, traceClient } from './tracing';

export interface AudienceClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** Contact imports read their uploaded file from the content store. */
  readonly s3: S3Client;
}

/** The queue each job kind queues its next page on. */
export const jobsQueue = (config: AudienceConfig, clients: Pick<AudienceClients, 'sqs'>) =>
  new SqsSendQueue(clients.sqs, config.jobsQueueUrl);

/** Broadcast emails are always bulk: a queue for another priority is never used, and refuses if it were. */
const notBulk: SendQueue = {
  send: async () => {
    throw new Error('broadcast emails go to the bulk queue only');
  },
};

/** Each job kind registers its handler here (a broadcast's `fanout`, a contact `import`). */
export function audienceDeps(config: AudienceConfig, clients: AudienceClients): AudienceJobsDeps {
  const doc = documentClient(clients.dynamodb);
  const f = config.fanout;
  const publish = withEvents(eventBuffer(config, clients.sqs));
  const index = new DynamoEmailIndex(doc, f.tables.emailIndex, f.tables.messages);
  const templates = { store: new DynamoTemplateStore(doc, f.tables.templates) };
  const bulk = new SqsSendQueue(clients.sqs, f.bulkQueueUrl);
  const accept = createAccept({
    messages: publish.messages(withSearchIndex(new DynamoMessageStore(doc, f.tables.messages), index)),
    queues: { critical: notBulk, transactional: notBulk, bulk },
    content: new S3ContentStore(clients.s3, f.contentBucket),
    maxMessageBytes: largestMessageBytes(f.providers.providers),
    retentionDays: f.retentionDays,
    templates,
    scheduling: undefined,
    now: () => new Date(),
    logger,
    metrics,
  });
  const fanout = createFanout({
    broadcasts: new DynamoBroadcastStore(doc, f.tables.broadcasts),
    contacts: new DynamoContactStore(doc, f.tables.contacts),
    templates,
    accept,
    jobs: jobsQueue(config, clients),
    now: Date.now,
    logger,
    metrics,
  });
  return {
    ...publish.deps,
    kinds: {
      fanout: async (job) => {
        await fanout(parseFanoutJob(job));
      },
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
