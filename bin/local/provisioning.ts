/**
 * Creates on the emulators what the CDK stack creates in AWS, from the same spec (lib/spec.ts): every
 * table (key schema), every queue with its dead-letter queue (retention, visibility, redrive after
 * maxReceiveCount), every bucket (the content store on fauxqs's S3), the SES events SNS topic with its
 * queue subscribed (raw message delivery), and the local API key.
 */
import { CreateTableCommand, type DynamoDBClient, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { hashKey } from '../../functions/app/auth';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoKeyStore } from '../../functions/store/key-store';
import { DLQ_RETENTION_DAYS } from '../../lib/resources';
import {
  type BucketName,
  type QueueName,
  SPEC,
  type TableName,
  type TableSpec,
  visibilityTimeoutSeconds,
} from '../../lib/spec';

export interface LocalQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
}

export interface LocalResources {
  /** Table names, by spec name. */
  readonly tables: { readonly [K in TableName]: string };
  readonly queues: { readonly [K in QueueName]: LocalQueue };
  /** The local SNS topic SES events go to. */
  readonly sesEventsTopicArn: string;
  /** Bucket names, by spec name. */
  readonly buckets: { readonly [K in BucketName]: string };
}

/** Creates a table from its spec (on-demand, its key schema), as the stack declares it. */
export async function createTable(client: DynamoDBClient, spec: TableSpec): Promise<void> {
  const keys: KeySchemaElement[] = [{ AttributeName: spec.partitionKey.name, KeyType: 'HASH' }];
  const attrs = [{ AttributeName: spec.partitionKey.name, AttributeType: spec.partitionKey.type }];
  if (spec.sortKey) {
    keys.push({ AttributeName: spec.sortKey.name, KeyType: 'RANGE' });
    attrs.push({ AttributeName: spec.sortKey.name, AttributeType: spec.sortKey.type });
  }
  await client.send(
    new CreateTableCommand({
      TableName: spec.id,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keys,
      AttributeDefinitions: attrs,
    }),
  );
}

/** A queue and its dead-letter queue (`<id>-dlq`), from the queue's spec. */
async function createQueue(sqs: SQSClient, name: QueueName, visibilitySeconds: number): Promise<LocalQueue> {
  const spec = SPEC.queues[name];
  const arnOf = async (url: string | undefined) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${spec.id}-dlq`,
      Attributes: { MessageRetentionPeriod: String(DLQ_RETENTION_DAYS * 86_400) },
    }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: spec.id,
      Attributes: {
        VisibilityTimeout: String(visibilitySeconds),
        MessageRetentionPeriod: String(spec.retentionDays * 86_400),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: await arnOf(dlq.QueueUrl),
          maxReceiveCount: spec.maxReceiveCount,
        }),
      },
    }),
  );
  const arn = await arnOf(queue.QueueUrl);
  if (!queue.QueueUrl || !dlq.QueueUrl || !arn) throw new Error(`could not create the local queue ${spec.id}`);
  return { url: queue.QueueUrl, arn, dlqUrl: dlq.QueueUrl };
}

export interface ProvisionOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  /** A visibility timeout, in seconds, for some queues instead of their spec's (tests of redelivery). */
  readonly visibilityTimeoutSeconds?: { readonly [K in QueueName]?: number };
}

/** Every table and queue of the spec, and the SES events topic with its subscription. */
export async function provision(options: ProvisionOptions): Promise<LocalResources> {
  const tableNames = Object.keys(SPEC.tables) as TableName[];
  for (const name of tableNames) await createTable(options.dynamodb, SPEC.tables[name]);
  const tables = Object.fromEntries(tableNames.map((name) => [name, SPEC.tables[name].id])) as LocalResources['tables'];

  const queues: Partial<Record<QueueName, LocalQueue>> = {};
  for (const name of Object.keys(SPEC.queues) as QueueName[]) {
    const visibility = options.visibilityTimeoutSeconds?.[name] ?? visibilityTimeoutSeconds(name);
    queues[name] = await createQueue(options.sqs, name, visibility);
  }
  const localQueues = queues as LocalResources['queues'];

  // SES → SNS topic → SQS (raw message delivery), as the stack wires it.
  const topicSpec = SPEC.topics.sesEvents;
  const topic = await options.sns.send(new CreateTopicCommand({ Name: topicSpec.localName }));
  if (!topic.TopicArn) throw new Error('could not create the local SES events topic');
  await options.sns.send(
    new SubscribeCommand({
      TopicArn: topic.TopicArn,
      Protocol: 'sqs',
      Endpoint: localQueues[topicSpec.queue].arn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  // fauxqs keeps no lifecycle rules: local content lives as long as the emulator.
  const bucketNames = Object.keys(SPEC.buckets) as BucketName[];
  for (const name of bucketNames)
    await options.s3.send(new CreateBucketCommand({ Bucket: SPEC.buckets[name].localName }));
  const buckets = Object.fromEntries(
    bucketNames.map((name) => [name, SPEC.buckets[name].localName]),
  ) as LocalResources['buckets'];
  return { tables, queues: localQueues, sesEventsTopicArn: topic.TopicArn, buckets };
}

/** Stores `apiKey` (hashed, like any other key) with every scope, from any domain, at a rate never reached. */
export async function putLocalApiKey(dynamodb: DynamoDBClient, settingsTable: string, apiKey: string): Promise<void> {
  await new DynamoKeyStore(documentClient(dynamodb), settingsTable).put(hashKey(apiKey), {
    name: 'local',
    createdAt: new Date().toISOString(),
    // The local key can do everything, from any domain, and is not rate limited in practice.
    scopes: ['send', 'read', 'admin'],
    senderDomains: ['*'],
    ratePerSecond: 10_000,
    prefix: apiKey.slice(0, 10),
  });
}
