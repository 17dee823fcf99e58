/**
 * The webhooks composition root: the webhooks function (events and retries queues) and the webhook
 * API.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Authenticator } from '../app/auth';
import type { WebhookApiDeps } from '../app/webhook-api';
import type { WebhooksDeps } from '../app/webhooks';
import type { WebhookApiConfig, WebhooksConfig } from '../config';
import type { SigningKeys } from '../ports';
import { DynamoBroadcastStore } from '../store/broadcast-store';
import { documentClient } from '../store/dynamo';
import { DynamoKeyStore } from '../store/key-store';
import { DynamoMessageStore } from '../store/message-store';
import { DynamoRequestRateLimiter } from '../store/request-rate-limiter';
import { SecretsManagerSigningKeys } from '../store/secrets';
import { SqsSendQueue } from '../store/sqs';
import { DynamoWebhookDeliveryStore } from '../store/webhook-delivery-store';
import { DynamoWebhookEndpointStore } from '../store/webhook-endpoint-store';
import { SqsEventPublisher } from '../store/webhook-event-queue';
import { HttpWebhookSender, resolveHost } from '../store/webhook-http';
import { startTracing, traceClient } from './tracing';

export interface WebhookClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly signingKeys: SigningKeys;
}

export function webhooksDeps(
  config: WebhooksConfig,
  clients: WebhookClients,
  options: { readonly cacheMs?: number; readonly timeoutMs?: number } = {},
): WebhooksDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    endpoints: new DynamoWebhookEndpointStore(doc, config.tables.webhooks),
    deliveries: new DynamoWebhookDeliveryStore(doc, config.tables.webhooks),
    messages: new DynamoMessageStore(doc, config.tables.messages),
    broadcastCounts: new DynamoBroadcastStore(doc, config.tables.broadcasts),
    sender: new HttpWebhookSender({ allowPrivate: config.allowPrivateUrls }, options.timeoutMs),
    retries: new SqsSendQueue(clients.sqs, config.retriesQueueUrl),
    keys: clients.signingKeys,
    policy: {
      schedule: config.schedule,
      failureLimit: config.failureLimit,
      failingHours: config.failingHours,
      retentionDays: config.retentionDays,
    },
    ...(options.cacheMs === undefined ? {} : { cacheMs: options.cacheMs }),
  };
}

export function webhookApiDeps(config: WebhookApiConfig, clients: WebhookClients): WebhookApiDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    endpoints: new DynamoWebhookEndpointStore(doc, config.tables.webhooks),
    deliveries: new DynamoWebhookDeliveryStore(doc, config.tables.webhooks),
    events: new SqsEventPublisher(new SqsSendQueue(clients.sqs, config.eventsQueueUrl)),
    retries: new SqsSendQueue(clients.sqs, config.retriesQueueUrl),
    keys: clients.signingKeys,
    policy: { allowPrivate: config.allowPrivateUrls },
    resolve: resolveHost,
    auth: new Authenticator(new DynamoKeyStore(doc, config.tables.settings)),
    rateLimit: new DynamoRequestRateLimiter(doc, config.tables.rateWindows),
  };
}

const awsClients = (signingKeysSecret: string): WebhookClients => ({
  dynamodb: traceClient(new DynamoDBClient({})),
  sqs: traceClient(new SQSClient({})),
  signingKeys: new SecretsManagerSigningKeys(traceClient(new SecretsManagerClient({})), signingKeysSecret),
});

export function awsWebhooksDeps(config: WebhooksConfig): WebhooksDeps {
  startTracing();
  return webhooksDeps(config, awsClients(config.signingKeysSecret));
}

export function awsWebhookApiDeps(config: WebhookApiConfig): WebhookApiDeps {
  startTracing();
  return webhookApiDeps(config, awsClients(config.signingKeysSecret));
}
