/**
 * mailroute on one machine: the same handlers as in AWS, wired to emulators from npm, all driven by
 * the spec (lib/spec.ts) the CDK stack is built from. The parts, in bin/local/:
 * - emulators.ts: dynalite (DynamoDB), fauxqs (SQS/SNS) and aws-ses-v2-local (SES v2, inbox page);
 * - provisioning.ts: the spec's tables, queues with their DLQs, the SES events topic, the API key;
 * - wiring.ts: each function's environment from the spec, through its own config parser;
 * - api-gateway.ts: the HTTP API stand-in (the spec's routes, payload format 2.0 events);
 * - event-sources.ts: pollers playing the spec's SQS event source mappings.
 */
import './local-env';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROVIDERS } from '../functions/config';
import type { ChainConfig } from '../functions/core/providers';
import type { Keyring } from '../functions/core/signing';
import type { ChainOptions } from '../functions/handlers/wiring';
import type { ContentStore } from '../functions/ports';
import { S3ContentStore } from '../functions/store/content-store';
import {
  EVENT_SOURCES,
  type GuardParams,
  PRIORITY_QUEUES,
  type QueueName,
  type TableName,
  type WebhookParams,
} from '../lib/spec';
import { startApiGateway } from './local/api-gateway';
import {
  type AwsClientInstrument,
  type AwsRequestListener,
  destroyClients,
  type EmulatorClients,
  emulatorClients,
  sqsClient,
  startEmulators,
} from './local/emulators';
import { startEventSources } from './local/event-sources';
import type { HttpHandler } from './local/lambda';
import { type LocalResources, provision, putLocalApiKey } from './local/provisioning';
import { LocalScheduler } from './local/scheduler';
import { seedTemplates } from './local/templates';
import { wireFunctions } from './local/wiring';

export { matchPath } from './local/api-gateway';

export const DEFAULT_LOCAL_API_KEY = 'mr_local_dev_key';

export interface LocalStackOptions {
  /** 0 picks a free port. */
  readonly apiPort?: number;
  readonly sesPort?: number;
  readonly awsPort?: number;
  readonly dynamodbPort?: number;
  readonly host?: string;
  /** An API key to accept (stored hashed like any other). @default DEFAULT_LOCAL_API_KEY */
  readonly apiKey?: string;
  /**
   * Concurrent pollers on each of the dispatcher's queues (the event source's concurrency, never more
   * than its maximum concurrency); the other event sources get one each, and 0 starts none at all.
   * @default 2
   */
  readonly pollers?: number;
  /**
   * The bulk queue's maximum concurrency (cdk.json `dispatch.bulkMaxConcurrency`): its pollers never
   * exceed it. @default the spec's (DEFAULTS.dispatch.bulkMaxConcurrency)
   */
  readonly bulkMaxConcurrency?: number;
  /** Called for every AWS request the service makes (service, operation, input), e.g. to count them. */
  readonly onAwsRequest?: AwsRequestListener;
  /** Called once for every AWS client the stack creates, e.g. to inject faults (bin/local/aws-faults.ts). */
  readonly instrumentAws?: AwsClientInstrument;
  /** Wraps each HTTP function as the API stand-in calls it, e.g. to time it (bin/soak.ts --load). */
  readonly wrapHttp?: (fn: string, handler: HttpHandler) => HttpHandler;
  /** Write .local/state.json so CLIs (key:create) find this stack. @default false */
  readonly writeState?: boolean;
  /** Keys that sign links. @default a random key for this run */
  readonly signingKeys?: Keyring;
  /** Visibility timeout of every queue a function consumes (the send queues, SES events). @default the spec's */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * The provider definitions and chain (LOCAL_CONFIG). SES providers send through the local SES
   * emulator and its simulator addresses. @default the local SES alone
   */
  readonly providers?: ChainConfig;
  /** How long dispatchers cache the live provider settings. @default 30000 */
  readonly settingsCacheMs?: number;
  /** Circuit timings over the defaults (CIRCUIT in functions/core/health.ts), e.g. short ones in tests. */
  readonly circuit?: ChainOptions['circuit'];
  /** The adaptive throttle's policy over the defaults (DEFAULTS.adaptiveThrottle), e.g. a quick recovery in tests. */
  readonly adaptiveThrottle?: ChainOptions['adaptiveThrottle'];
  /** The reputation guard's settings over the defaults (DEFAULTS.guard), e.g. a small minimum volume in tests. */
  readonly guard?: Partial<GuardParams>;
  /** Create and publish the example templates (bin/local/templates.ts). @default false */
  readonly seedTemplates?: boolean;
  /** The draw that splits template canaries, for deterministic tests. @default Math.random */
  readonly templateRandom?: () => number;
  /**
   * The clock of the API, the dispatcher and the local scheduler: a test moves it ahead to fire a
   * schedule 20 minutes away at once. @default Date.now
   */
  readonly now?: () => number;
  /**
   * Webhook delivery settings (a short retry schedule in tests, say). Locally, http and loopback
   * receivers are always allowed. @default the deployment defaults
   */
  readonly webhooks?: WebhookParams;
}

/** Each queue's URL by its spec name, and its DLQ's as `<name>Dlq` (`send`, `sendDlq`, …). */
export type LocalQueueUrls = { readonly [K in QueueName]: string } & { readonly [K in QueueName as `${K}Dlq`]: string };

export interface LocalStack {
  readonly apiUrl: string;
  readonly sesUrl: string;
  readonly awsEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly apiKey: string;
  readonly tables: Record<TableName, string>;
  readonly queues: LocalQueueUrls;
  /** The local SNS topic SES events go to (the simulator and ses:replay publish there). */
  readonly sesEventsTopicArn: string;
  /** Bucket names, by spec name (the content store). */
  readonly buckets: LocalResources['buckets'];
  /** The keyring that signs links (unsubscribe) in this run. */
  readonly keyring: Keyring;
  /** The provider definitions and default chain in this run. */
  readonly providers: ChainConfig;
  readonly clients: EmulatorClients;
  /** The local EventBridge Scheduler (scheduled sends further than 15 minutes ahead). */
  readonly scheduler: LocalScheduler;
  /** The content store (scheduled bodies, attachments). */
  readonly content: ContentStore;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const apiKey = options.apiKey ?? DEFAULT_LOCAL_API_KEY;
  const providers = options.providers ?? DEFAULT_PROVIDERS;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const emulators = await startEmulators({
      host,
      ...(options.dynamodbPort !== undefined ? { dynamodbPort: options.dynamodbPort } : {}),
      ...(options.awsPort !== undefined ? { awsPort: options.awsPort } : {}),
      ...(options.sesPort !== undefined ? { sesPort: options.sesPort } : {}),
    });
    stops.push(() => emulators.stop());

    // The API listens first (answering 503 until wired): the dispatcher's links need its URL.
    const api = await startApiGateway({ host, ...(options.apiPort !== undefined ? { port: options.apiPort } : {}) });
    stops.push(() => api.stop());

    const clients = emulatorClients(emulators, options.onAwsRequest, options.instrumentAws);
    stops.push(async () => destroyClients(clients));

    const visibility = options.visibilityTimeoutSeconds;
    const resources = await provision({
      ...clients,
      ...(visibility === undefined
        ? {}
        : {
            visibilityTimeoutSeconds: Object.fromEntries(EVENT_SOURCES.map((source) => [source.queue, visibility])),
          }),
    });
    await putLocalApiKey(clients.dynamodb, resources.tables.settings, apiKey);

    const keyring = options.signingKeys ?? { current: 'local', keys: { local: randomBytes(32).toString('base64url') } };
    // Scheduled sends: the local scheduler puts firings on the send queues, as EventBridge Scheduler does.
    const schedulerSqs = sqsClient(emulators, options.onAwsRequest, options.instrumentAws);
    const scheduler = new LocalScheduler({
      sqs: schedulerSqs,
      queueUrls: new Map(Object.values(resources.queues).map((q) => [q.arn, q.url])),
      ...(options.now ? { now: options.now } : {}),
    });
    // Scheduled bodies wait in the content store (fauxqs S3), as in AWS.
    const content = new S3ContentStore(clients.s3, resources.buckets.content);
    scheduler.start();
    stops.push(async () => {
      await scheduler.stop();
      schedulerSqs.destroy();
    });
    const functions = wireFunctions({
      resources,
      clients,
      apiUrl: api.url,
      keyring,
      providers,
      ...(options.settingsCacheMs !== undefined ? { settingsCacheMs: options.settingsCacheMs } : {}),
      ...(options.circuit ? { circuit: options.circuit } : {}),
      ...(options.adaptiveThrottle ? { adaptiveThrottle: options.adaptiveThrottle } : {}),
      ...(options.guard ? { guard: options.guard } : {}),
      ...(options.templateRandom ? { templateRandom: options.templateRandom } : {}),
      scheduling: { scheduler, content },
      ...(options.now ? { now: options.now } : {}),
      ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    });

    const pollerSqs = sqsClient(emulators, options.onAwsRequest, options.instrumentAws);
    const eventSources = startEventSources({
      sqs: pollerSqs,
      queues: resources.queues,
      handlers: functions.sqs,
      ...(options.pollers !== undefined ? { pollers: options.pollers } : {}),
      ...(options.bulkMaxConcurrency !== undefined
        ? { maxConcurrency: { [PRIORITY_QUEUES.bulk]: options.bulkMaxConcurrency } }
        : {}),
    });
    stops.push(async () => {
      await Promise.allSettled(functions.simulators.flatMap((s) => [...s.pending]));
      await eventSources.stop();
      pollerSqs.destroy();
    });
    const wrap = options.wrapHttp;
    Object.assign(
      api.handlers,
      wrap ? Object.fromEntries(Object.entries(functions.http).map(([fn, h]) => [fn, wrap(fn, h)])) : functions.http,
    );

    const queues = Object.fromEntries(
      Object.entries(resources.queues).flatMap(([name, queue]) => [
        [name, queue.url],
        [`${name}Dlq`, queue.dlqUrl],
      ]),
    ) as LocalQueueUrls;
    const stack: LocalStack = {
      apiUrl: api.url,
      sesUrl: emulators.sesUrl,
      awsEndpoint: emulators.awsEndpoint,
      dynamodbEndpoint: emulators.dynamodbEndpoint,
      apiKey,
      tables: resources.tables,
      queues,
      sesEventsTopicArn: resources.sesEventsTopicArn,
      buckets: resources.buckets,
      keyring,
      providers,
      clients,
      scheduler,
      content,
      stop,
    };
    if (options.seedTemplates) await seedTemplates(api.url, apiKey);
    if (options.writeState) stops.push(writeState(stack));
    return stack;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Writes .local/state.json (what the CLIs need to find this stack); returns what removes it. */
function writeState(stack: LocalStack): () => Promise<void> {
  const { apiUrl, sesUrl, awsEndpoint, dynamodbEndpoint, tables, queues, sesEventsTopicArn, buckets } = stack;
  const dir = join(process.cwd(), '.local');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'state.json');
  const state = {
    pid: process.pid,
    apiUrl,
    sesUrl,
    awsEndpoint,
    dynamodbEndpoint,
    tables,
    queues,
    sesEventsTopicArn,
    buckets,
  };
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  return async () => rmSync(file, { force: true });
}
