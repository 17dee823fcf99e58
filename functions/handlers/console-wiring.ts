/** The console function's composition root: its clients and adapters wired into the console's routes. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Authenticator } from '../app/auth';
import type { ConsoleDeps } from '../app/console';
import type { ConsoleAssets } from '../app/console-assets';
import type { ConsoleConfig } from '../config';
import { documentClient } from '../store/dynamo';
import { DynamoKeyStore } from '../store/key-store';
import { DynamoMessageStore } from '../store/message-store';
import { SqsQueueAdmin } from '../store/queue-admin';
import { DynamoRequestRateLimiter } from '../store/request-rate-limiter';
import { startTracing, traceClient } from './tracing';
import type { Clients } from './wiring';

export function consoleDeps(
  config: ConsoleConfig,
  clients: Pick<Clients, 'dynamodb' | 'sqs'>,
  assets: ConsoleAssets,
): ConsoleDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    assets,
    auth: new Authenticator(new DynamoKeyStore(doc, config.tables.settings)),
    rateLimit: new DynamoRequestRateLimiter(doc, config.tables.rateWindows),
    messages: new DynamoMessageStore(doc, config.tables.messages),
    queues: new SqsQueueAdmin(clients.sqs),
    urls: config.queues,
  };
}

export function awsConsoleDeps(config: ConsoleConfig, assets: ConsoleAssets): ConsoleDeps {
  startTracing();
  return consoleDeps(
    config,
    { dynamodb: traceClient(new DynamoDBClient({})), sqs: traceClient(new SQSClient({})) },
    assets,
  );
}
