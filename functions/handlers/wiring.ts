/**
 * The composition root shared by the Lambda entries (handlers/*.ts) and the local stack: AWS clients
 * created once per process and the adapters built on them, wired into the use cases. Adapters
 * (store/, providers/) never import app/; only this layer joins them. The API's wiring is in
 * ingest-wiring.ts: the idempotency utility it uses loads a JMESPath engine at import, which the other
 * functions should not pay for at cold start.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DispatchDeps, QueueRoute, QueueRoutes } from '../app/dispatch';
import { logger } from '../app/observability';
import { ProviderChain, SETTINGS_CACHE_MS } from '../app/provider-chain';
import type { SesEventsDeps } from '../app/ses-events';
import { streamGate } from '../app/streams';
import type { TrackingDeps } from '../app/tracking';
import type { DispatchConfig, SesEventsConfig, TrackingConfig } from '../config';
import type { AimdPolicy } from '../core/aimd';
import { DEFAULTS } from '../core/defaults';
import type { CircuitPolicy } from '../core/health';
import type { AnyProviderDef } from '../core/providers';
import type { ContentStore, EmailProvider, SigningKeys } from '../ports';
import { createProvider, type ProviderFactoryDeps } from '../providers/factory';
import { S3_CLIENT_OPTIONS, S3ContentStore } from '../store/content-store';
import { DynamoCooldownStore } from '../store/cooldown-store';
import { documentClient } from '../store/dynamo';
import { DynamoKeyStore } from '../store/key-store';
import { DynamoMessageStore } from '../store/message-store';
import { DynamoProviderSettings } from '../store/provider-settings';
import { DynamoRateWindows } from '../store/rate-windows';
import { DynamoReputationStore } from '../store/reputation-store';
import { SecretsManagerSigningKeys } from '../store/secrets';
import { SqsSendQueue, SqsVisibility } from '../store/sqs';
import { DynamoSuppressionStore } from '../store/suppression-store';
import { DynamoTemplateStore } from '../store/template-store';
import { eventBuffer, withEvents } from './event-wiring';
import { startTracing, traceClient } from './tracing';

export interface Clients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly ses: SESv2Client;
  readonly signingKeys: SigningKeys;
  /** The content store's S3 (the parts of emails with attachments or large bodies). */
  readonly s3?: S3Client;
}

/** SES calls are never retried by the SDK: a retry after a timeout could send twice (DESIGN §2.2). */
export const SES_CLIENT_OPTIONS = { maxAttempts: 1 } as const;
/** Dispatch timeout budget: the SES call must end well before the function does. */
export const SES_REQUEST_TIMEOUT_MS = 10_000;

export interface ChainOptions {
  /** Reads a secret (credentials of Azure and HTTP providers) by name. */
  readonly secret?: (name: string) => Promise<string>;
  /** Wraps each provider (the local stack's SES simulator). */
  readonly wrap?: (provider: EmailProvider, def: AnyProviderDef) => EmailProvider;
  /** How long a dispatcher uses a read of the live provider settings and of the streams' states. */
  readonly cacheMs?: number;
  /** Circuit thresholds and timings over the defaults (core/health.ts CIRCUIT), e.g. short ones in tests. */
  readonly circuit?: Partial<CircuitPolicy>;
  /** The adaptive throttle's policy over the defaults (core/aimd.ts), e.g. a quick recovery in tests. */
  readonly adaptiveThrottle?: Partial<AimdPolicy>;
  /** Where scheduled bodies wait: with it, the dispatcher sends scheduled firings. @default none */
  readonly content?: ContentStore;
  /** The dispatcher's clock (scheduled firings are due by it). @default Date.now */
  readonly now?: () => number;
}

/** The provider chain of a deployment: its definitions built into providers, live settings and health. */
export function providerChain(
  config: Pick<DispatchConfig, 'providers' | 'tables' | 'sesConfigurationSet'> &
    Partial<Pick<DispatchConfig, 'bulkReserve'>>,
  clients: Pick<Clients, 'dynamodb' | 'ses'>,
  options: ChainOptions = {},
): ProviderChain {
  const doc = documentClient(clients.dynamodb);
  const factory: ProviderFactoryDeps = {
    ses: clients.ses,
    sesConfigurationSet: config.sesConfigurationSet,
    ...(options.secret ? { secret: options.secret } : {}),
    ...(options.wrap ? { wrap: options.wrap } : {}),
  };
  const defs = config.providers.providers;
  return new ProviderChain({
    defs,
    chain: config.providers.chain,
    providers: new Map(defs.map((d) => [d.id, createProvider(d, factory)])),
    settings: new DynamoProviderSettings(doc, config.tables.settings),
    windows: new DynamoRateWindows(doc, config.tables.rateWindows, Math.random, {
      ...DEFAULTS.adaptiveThrottle,
      ...options.adaptiveThrottle,
    }),
    ...(config.bulkReserve !== undefined ? { bulkReserve: config.bulkReserve } : {}),
    ...(options.cacheMs !== undefined ? { cacheMs: options.cacheMs } : {}),
    ...(options.circuit ? { circuit: options.circuit } : {}),
  });
}

/**
 * A queue's name: the last path segment of its URL (in AWS and on the local emulator alike; not
 * parsed with URL, which refuses the emulator's host names such as sqs.us-east-1.127.0.0.1).
 */
const queueNameOfUrl = (url: string): string => (url.split(/[?#]/)[0] ?? '').split('/').filter(Boolean).at(-1) ?? '';
/** A queue's name: the last segment of its ARN (arn:aws:sqs:region:account:name). */
const queueNameOfArn = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);

/**
 * The queues that feed a dispatcher, found by a record's `eventSourceARN`: its last segment is the
 * queue's name, which is also the last path segment of the queue's URL. An unknown source answers
 * undefined (the dispatcher fails that record, not the batch).
 */
export function queuesByName(urls: readonly string[], route: (url: string) => QueueRoute): QueueRoutes {
  const byName = new Map(urls.map((url) => [queueNameOfUrl(url), route(url)]));
  return { of: (sourceArn) => byName.get(queueNameOfArn(sourceArn)) };
}

export function dispatchDeps(config: DispatchConfig, clients: Clients, options: ChainOptions = {}): DispatchDeps {
  const doc = documentClient(clients.dynamodb);
  const publish = withEvents(eventBuffer(config, clients.sqs));
  return {
    ...publish.deps,
    messages: publish.messages(new DynamoMessageStore(doc, config.tables.messages)),
    suppression: new DynamoSuppressionStore(doc, config.tables.suppression),
    cooldowns: new DynamoCooldownStore(doc, config.tables.cooldowns),
    chain: providerChain(config, clients, options),
    // Every send queue (one per priority), each with its own DLQ and maxReceiveCount: a message that
    // waits goes back on the queue it came from.
    queues: queuesByName(
      config.sendQueues.map((q) => q.url),
      (url) => {
        const q = config.sendQueues.find((c) => c.url === url);
        return {
          queue: new SqsSendQueue(clients.sqs, url),
          visibility: new SqsVisibility(clients.sqs, url),
          ...(q?.deadLetterUrl === undefined ? {} : { deadLetter: new SqsSendQueue(clients.sqs, q.deadLetterUrl) }),
          ...(q === undefined ? {} : { maxReceiveCount: q.maxReceiveCount }),
        };
      },
    ),
    links: { baseUrl: config.publicBaseUrl, keys: clients.signingKeys },
    ...(clients.s3 ? { content: new S3ContentStore(clients.s3, config.contentBucket) } : {}),
    trackDefaults: config.trackDefaults,
    maxReceiveCount: config.maxReceiveCount,
    timeoutSeconds: config.timeoutSeconds,
    ...(options.content
      ? { scheduled: { content: options.content, keys: new DynamoKeyStore(doc, config.tables.settings) } }
      : {}),
    ...(options.now ? { now: options.now } : {}),
    streams: streamGate({
      store: new DynamoReputationStore(doc, config.tables.reputation),
      cacheMs: options.cacheMs ?? SETTINGS_CACHE_MS,
      waitSeconds: config.heldWaitSeconds,
      now: Date.now,
      logger,
    }),
  };
}

export function sesEventsDeps(config: SesEventsConfig, clients: Pick<Clients, 'dynamodb' | 'sqs'>): SesEventsDeps {
  const doc = documentClient(clients.dynamodb);
  const publish = withEvents(eventBuffer(config, clients.sqs));
  return {
    ...publish.deps,
    messages: publish.messages(new DynamoMessageStore(doc, config.tables.messages)),
    suppression: publish.suppression(new DynamoSuppressionStore(doc, config.tables.suppression)),
    softBounce: config.softBounce,
    guard: {
      store: publish.reputation(new DynamoReputationStore(doc, config.tables.reputation)),
      settings: config.guard,
    },
    templates: new DynamoTemplateStore(doc, config.tables.templates),
  };
}

export function trackingDeps(
  config: TrackingConfig,
  clients: Pick<Clients, 'dynamodb' | 'sqs' | 'signingKeys'>,
): TrackingDeps {
  const doc = documentClient(clients.dynamodb);
  const publish = withEvents(eventBuffer(config, clients.sqs));
  return {
    ...publish.deps,
    messages: publish.messages(new DynamoMessageStore(doc, config.tables.messages)),
    suppression: publish.suppression(new DynamoSuppressionStore(doc, config.tables.suppression)),
    keys: clients.signingKeys,
  };
}

// The aws* functions build a Lambda's real clients, each traced (a span per call) when Lambda active
// tracing is on.

export function awsSesEventsDeps(config: SesEventsConfig): SesEventsDeps {
  startTracing();
  return sesEventsDeps(config, { dynamodb: traceClient(new DynamoDBClient({})), sqs: traceClient(new SQSClient({})) });
}

export function awsTrackingDeps(config: TrackingConfig): TrackingDeps {
  startTracing();
  return trackingDeps(config, {
    dynamodb: traceClient(new DynamoDBClient({})),
    sqs: traceClient(new SQSClient({})),
    signingKeys: new SecretsManagerSigningKeys(traceClient(new SecretsManagerClient({})), config.signingKeysSecret),
  });
}

export function awsDispatchDeps(config: DispatchConfig): DispatchDeps {
  startTracing();
  const secrets = traceClient(new SecretsManagerClient({}));
  return dispatchDeps(
    config,
    {
      dynamodb: traceClient(new DynamoDBClient({})),
      sqs: traceClient(new SQSClient({})),
      ses: traceClient(
        new SESv2Client({ ...SES_CLIENT_OPTIONS, requestHandler: { requestTimeout: SES_REQUEST_TIMEOUT_MS } }),
      ),
      signingKeys: new SecretsManagerSigningKeys(secrets, config.signingKeysSecret),
      s3: traceClient(new S3Client(S3_CLIENT_OPTIONS)),
    },
    {
      // Scheduled bodies (and other content) wait in the content store.
      content: new S3ContentStore(traceClient(new S3Client(S3_CLIENT_OPTIONS)), config.contentBucket),
      secret: async (name) => {
        const out = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
        if (out.SecretString === undefined) throw new Error(`the secret "${name}" has no string value`);
        return out.SecretString;
      },
    },
  );
}
