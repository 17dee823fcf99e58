/**
 * Production wiring: AWS clients created once per process (module scope of each handler) and the
 * adapters built on them. The local stack and tests build the same adapters with their own clients.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Authenticator } from '../app/auth';
import type { DispatchDeps } from '../app/dispatch';
import type { IngestDeps } from '../app/ingest';
import type { SesEventsDeps } from '../app/ses-events';
import type { TrackingDeps } from '../app/tracking';
import type { DispatchConfig, IngestConfig, SesEventsConfig, TrackingConfig } from '../config';
import { SesProvider } from '../providers/ses';
import {
  DynamoKeyStore,
  DynamoMessageStore,
  DynamoRequestRateLimiter,
  DynamoSuppressionStore,
  documentClient,
} from './dynamo';
import type { SigningKeys } from './ports';
import { SecretsManagerSigningKeys } from './secrets';
import { SqsSendQueue, SqsVisibility } from './sqs';

export interface Clients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly ses: SESv2Client;
  readonly signingKeys: SigningKeys;
}

/** SES calls are never retried by the SDK: a retry after a timeout could send twice (DESIGN §2.2). */
export const SES_CLIENT_OPTIONS = { maxAttempts: 1 } as const;
/** Dispatch timeout budget: the SES call must end well before the function does. */
export const SES_REQUEST_TIMEOUT_MS = 10_000;

export function ingestDeps(config: IngestConfig, clients: Pick<Clients, 'dynamodb' | 'sqs'>): IngestDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    messages: new DynamoMessageStore(doc, config.tables.messages),
    suppression: new DynamoSuppressionStore(doc, config.tables.suppression),
    queue: new SqsSendQueue(clients.sqs, config.sendQueueUrl),
    auth: new Authenticator(new DynamoKeyStore(doc, config.tables.settings)),
    rateLimit: new DynamoRequestRateLimiter(doc, config.tables.rateWindows),
    idempotency: new DynamoDBPersistenceLayer({
      tableName: config.tables.idempotency,
      awsSdkV3Client: clients.dynamodb,
    }),
    retentionDays: config.retentionDays,
  };
}

export function dispatchDeps(config: DispatchConfig, clients: Clients): DispatchDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    messages: new DynamoMessageStore(doc, config.tables.messages),
    suppression: new DynamoSuppressionStore(doc, config.tables.suppression),
    provider: new SesProvider(clients.ses, config.sesConfigurationSet),
    visibility: new SqsVisibility(clients.sqs, config.sendQueueUrl),
    links: { baseUrl: config.publicBaseUrl, keys: clients.signingKeys },
    trackDefaults: config.trackDefaults,
    maxReceiveCount: config.maxReceiveCount,
    timeoutSeconds: config.timeoutSeconds,
  };
}

export function sesEventsDeps(config: SesEventsConfig, clients: Pick<Clients, 'dynamodb'>): SesEventsDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    messages: new DynamoMessageStore(doc, config.tables.messages),
    suppression: new DynamoSuppressionStore(doc, config.tables.suppression),
    softBounce: config.softBounce,
  };
}

export function trackingDeps(config: TrackingConfig, clients: Pick<Clients, 'dynamodb' | 'signingKeys'>): TrackingDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    messages: new DynamoMessageStore(doc, config.tables.messages),
    suppression: new DynamoSuppressionStore(doc, config.tables.suppression),
    keys: clients.signingKeys,
  };
}

export const awsSesEventsDeps = (config: SesEventsConfig): SesEventsDeps =>
  sesEventsDeps(config, { dynamodb: new DynamoDBClient({}) });

export const awsTrackingDeps = (config: TrackingConfig): TrackingDeps =>
  trackingDeps(config, {
    dynamodb: new DynamoDBClient({}),
    signingKeys: new SecretsManagerSigningKeys(new SecretsManagerClient({}), config.signingKeysSecret),
  });

export const awsIngestDeps = (config: IngestConfig): IngestDeps =>
  ingestDeps(config, { dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}) });

export const awsDispatchDeps = (config: DispatchConfig): DispatchDeps =>
  dispatchDeps(config, {
    dynamodb: new DynamoDBClient({}),
    sqs: new SQSClient({}),
    ses: new SESv2Client({ ...SES_CLIENT_OPTIONS, requestHandler: { requestTimeout: SES_REQUEST_TIMEOUT_MS } }),
    signingKeys: new SecretsManagerSigningKeys(new SecretsManagerClient({}), config.signingKeysSecret),
  });
