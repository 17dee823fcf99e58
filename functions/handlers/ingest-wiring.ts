/**
 * The API's composition root (see wiring.ts): its clients and adapters wired into the ingest use case.
 * Apart from wiring.ts because of the idempotency utility, whose JMESPath engine runs code at import:
 * only the function that uses it loads it.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Authenticator } from '../app/auth';
import { withSearchIndex } from '../app/email-search';
import type { IngestDeps } from '../app/ingest';
import { logger } from '../app/observability';
import { SETTINGS_CACHE_MS } from '../app/provider-chain';
import type { IngestConfig } from '../config';
import type { AimdPolicy } from '../core/aimd';
import { DEFAULTS } from '../core/defaults';
import { largestMessageBytes } from '../core/message-size';
import type { ContentStore, Scheduler } from '../ports';
import { DynamoBroadcastStore } from '../store/broadcast-store';
import { DynamoContactImportStore } from '../store/contact-import-store';
import { DynamoContactStore } from '../store/contact-store';
import { S3_CLIENT_OPTIONS, S3ContentStore } from '../store/content-store';
import { documentClient } from '../store/dynamo';
import { DynamoEmailIndex } from '../store/email-index';
import { DynamoKeyStore } from '../store/key-store';
import { DynamoMessageStore } from '../store/message-store';
import { DynamoProviderSettings } from '../store/provider-settings';
import { DynamoRateWindows } from '../store/rate-windows';
import { DynamoReputationStore } from '../store/reputation-store';
import { DynamoRequestRateLimiter } from '../store/request-rate-limiter';
import { DynamoRuleStore } from '../store/rule-store';
import { EventBridgeScheduler } from '../store/scheduler';
import { SqsSendQueue } from '../store/sqs';
import { DynamoSuppressionStore } from '../store/suppression-store';
import { DynamoTemplateStore } from '../store/template-store';
import { S3UploadSigner } from '../store/upload-signer';
import { eventBuffer, withEvents } from './event-wiring';
import { startTracing, traceClient } from './tracing';
import type { Clients } from './wiring';

export function ingestDeps(
  config: IngestConfig,
  clients: Pick<Clients, 'dynamodb' | 'sqs'> & { readonly s3: S3Client },
  /** The adaptive throttle's policy the settings API shows the effective rate with (tests shorten it). */
  aimd: AimdPolicy = DEFAULTS.adaptiveThrottle,
  /** Scheduled sends, when the deployment has them (config.scheduling): the Scheduler and the content store. */
  scheduling?: { readonly scheduler: Scheduler; readonly content: ContentStore },
): IngestDeps {
  const doc = documentClient(clients.dynamodb);
  const publish = withEvents(eventBuffer(config, clients.sqs));
  const index = new DynamoEmailIndex(doc, config.tables.emailIndex, config.tables.messages);
  return {
    ...(config.scheduling && scheduling
      ? { scheduling: { ...scheduling, queueArns: config.scheduling.queueArns } }
      : {}),
    ...publish.deps,
    // Every accepted email is indexed for GET /v1/emails as its record is written.
    messages: publish.messages(withSearchIndex(new DynamoMessageStore(doc, config.tables.messages), index)),
    search: { index },
    suppression: publish.suppression(new DynamoSuppressionStore(doc, config.tables.suppression)),
    queues: {
      critical: new SqsSendQueue(clients.sqs, config.priorityQueueUrls.critical),
      transactional: new SqsSendQueue(clients.sqs, config.priorityQueueUrls.transactional),
      bulk: new SqsSendQueue(clients.sqs, config.priorityQueueUrls.bulk),
    },
    auth: new Authenticator(new DynamoKeyStore(doc, config.tables.settings)),
    rateLimit: new DynamoRequestRateLimiter(doc, config.tables.rateWindows),
    idempotency: new DynamoDBPersistenceLayer({
      tableName: config.tables.idempotency,
      awsSdkV3Client: clients.dynamodb,
    }),
    retentionDays: config.retentionDays,
    providerSettings: {
      defs: config.providers.providers,
      chain: config.providers.chain,
      store: new DynamoProviderSettings(doc, config.tables.settings),
      windows: new DynamoRateWindows(doc, config.tables.rateWindows, Math.random, aimd),
      aimd,
    },
    streams: {
      store: publish.reputation(new DynamoReputationStore(doc, config.tables.reputation)),
      settings: config.guard,
      // Dispatchers read the streams' states as often as the provider settings.
      cacheMs: SETTINGS_CACHE_MS,
    },
    templates: new DynamoTemplateStore(doc, config.tables.templates),
    rules: new DynamoRuleStore(doc, config.tables.rules),
    broadcasts: {
      store: new DynamoBroadcastStore(doc, config.tables.broadcasts),
      contacts: new DynamoContactStore(doc, config.tables.contacts),
      templates: new DynamoTemplateStore(doc, config.tables.templates),
      jobs: new SqsSendQueue(clients.sqs, config.jobsQueueUrl),
      ...(config.scheduling && scheduling
        ? { scheduling: { scheduler: scheduling.scheduler, jobsQueueArn: config.scheduling.jobsQueueArn } }
        : {}),
      now: () => new Date(),
      logger,
    },
    content: new S3ContentStore(clients.s3, config.contentBucket),
    uploads: new S3UploadSigner(clients.s3, config.contentBucket),
    contacts: {
      store: new DynamoContactStore(doc, config.tables.contacts),
      imports: new DynamoContactImportStore(doc, config.tables.contacts),
      jobs: new SqsSendQueue(clients.sqs, config.jobsQueueUrl),
    },
    maxMessageBytes: largestMessageBytes(config.providers.providers),
  };
}

/** The EventBridge Scheduler adapter of a deployment's scheduling settings. */
export function awsScheduler(config: NonNullable<IngestConfig['scheduling']>): Scheduler {
  return new EventBridgeScheduler(traceClient(new SchedulerClient({})), {
    group: config.group,
    roleArn: config.roleArn,
    deadLetterArn: config.deadLetterArn,
  });
}

export function awsIngestDeps(config: IngestConfig): IngestDeps {
  startTracing();
  const s3 = traceClient(new S3Client(S3_CLIENT_OPTIONS));
  return ingestDeps(
    config,
    { dynamodb: traceClient(new DynamoDBClient({})), sqs: traceClient(new SQSClient({})), s3 },
    DEFAULTS.adaptiveThrottle,
    config.scheduling
      ? { scheduler: awsScheduler(config.scheduling), content: new S3ContentStore(s3, config.contentBucket) }
      : undefined,
  );
}
