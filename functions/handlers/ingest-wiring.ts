/**
 * The API's composition root (see wiring.ts): its clients and adapters wired into the ingest use case.
 * Apart from wiring.ts because of the idempotency utility, whose JMESPath engine runs code at import:
 * only the function that uses it loads it.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Authenticator } from '../app/auth';
import { withSearchIndex } from '../app/email-search';
import type { IngestDeps } from '../app/ingest';
import { SETTINGS_CACHE_MS } from '../app/provider-chain';
import type { IngestConfig } from '../config';
import type { AimdPolicy } from '../core/aimd';
import { DEFAULTS } from '../core/defaults';
import { documentClient } from '../store/dynamo';
import { DynamoEmailIndex } from '../store/email-index';
import { DynamoKeyStore } from '../store/key-store';
import { DynamoMessageStore } from '../store/message-store';
import { DynamoProviderSettings } from '../store/provider-settings';
import { DynamoRateWindows } from '../store/rate-windows';
import { DynamoReputationStore } from '../store/reputation-store';
import { DynamoRequestRateLimiter } from '../store/request-rate-limiter';
import { SqsSendQueue } from '../store/sqs';
import { DynamoSuppressionStore } from '../store/suppression-store';
import { DynamoTemplateStore } from '../store/template-store';
import { startTracing, traceClient } from './tracing';
import type { Clients } from './wiring';

export function ingestDeps(
  config: IngestConfig,
  clients: Pick<Clients, 'dynamodb' | 'sqs'>,
  /** The adaptive throttle's policy the settings API shows the effective rate with (tests shorten it). */
  aimd: AimdPolicy = DEFAULTS.adaptiveThrottle,
): IngestDeps {
  const doc = documentClient(clients.dynamodb);
  const index = new DynamoEmailIndex(doc, config.tables.emailIndex, config.tables.messages);
  return {
    // Every accepted email is indexed for GET /v1/emails as its record is written.
    messages: withSearchIndex(new DynamoMessageStore(doc, config.tables.messages), index),
    search: { index },
    suppression: new DynamoSuppressionStore(doc, config.tables.suppression),
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
      store: new DynamoReputationStore(doc, config.tables.reputation),
      settings: config.guard,
      // Dispatchers read the streams' states as often as the provider settings.
      cacheMs: SETTINGS_CACHE_MS,
    },
    templates: new DynamoTemplateStore(doc, config.tables.templates),
  };
}

export function awsIngestDeps(config: IngestConfig): IngestDeps {
  startTracing();
  return ingestDeps(config, {
    dynamodb: traceClient(new DynamoDBClient({})),
    sqs: traceClient(new SQSClient({})),
  });
}
