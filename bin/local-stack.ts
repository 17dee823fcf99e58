/**
 * mailroute on one machine: the same handlers as in AWS, wired to emulators from npm — dynalite
 * (DynamoDB), fauxqs (SQS/SNS) and aws-ses-v2-local (SES v2 and its inbox page) — with an HTTP
 * server standing in for API Gateway and pollers standing in for the Lambda SQS event source.
 * Tables and queues come from lib/resources.ts and routes from lib/api-routes.ts, as in the stack.
 */
import './local-env';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSEvent } from 'aws-lambda';
import sesServerModule from 'aws-ses-v2-local';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { hashKey } from '../functions/app/auth';
import { createDispatchHandler } from '../functions/app/dispatch';
import { createIngestHandler } from '../functions/app/ingest';
import { createSesEventsHandler } from '../functions/app/ses-events';
import { createTrackingHandler } from '../functions/app/tracking';
import { DEFAULT_PROVIDERS, type DispatchConfig, type IngestConfig } from '../functions/config';
import type { ChainConfig } from '../functions/core/providers';
import type { Keyring } from '../functions/core/signing';
import {
  type ChainOptions,
  dispatchDeps,
  ingestDeps,
  SES_CLIENT_OPTIONS,
  sesEventsDeps,
  trackingDeps,
} from '../functions/handlers/wiring';
import { DynamoKeyStore, documentClient } from '../functions/store/dynamo';
import { StaticSigningKeys } from '../functions/store/secrets';
import { API_ROUTES, routeKey } from '../lib/api-routes';
import {
  DISPATCH_BATCH_SIZE,
  DISPATCH_TIMEOUT_SECONDS,
  DLQ_RETENTION_DAYS,
  QUEUES,
  type QueueSpec,
  SEND_QUEUE_VISIBILITY_SECONDS,
  SES_EVENTS_BATCH_SIZE,
  SES_EVENTS_TIMEOUT_SECONDS,
  SES_EVENTS_TOPIC,
  TABLES,
  type TableSpec,
} from '../lib/resources';
import { SimulatedSesProvider } from './ses-simulator';

export const DEFAULT_LOCAL_API_KEY = 'mr_local_dev_key';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** API Gateway HTTP APIs accept at most 10 MB per request. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface LocalStackOptions {
  /** 0 picks a free port. */
  readonly apiPort?: number;
  readonly sesPort?: number;
  readonly awsPort?: number;
  readonly dynamodbPort?: number;
  readonly host?: string;
  /** An API key to accept (stored hashed like any other). @default DEFAULT_LOCAL_API_KEY */
  readonly apiKey?: string;
  /** Concurrent pollers on the send queue (the event source's concurrency). @default 2 */
  readonly pollers?: number;
  /** Called for every AWS request the service makes (service, operation, input), e.g. to count them. */
  readonly onAwsRequest?: (service: string, operation: string, input: unknown) => void;
  /** Write .local/state.json so CLIs (key:create) find this stack. @default false */
  readonly writeState?: boolean;
  /** Keys that sign links. @default a random key for this run */
  readonly signingKeys?: Keyring;
  /** Visibility timeout of the send queue. @default SEND_QUEUE_VISIBILITY_SECONDS */
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
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly sesUrl: string;
  readonly awsEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly apiKey: string;
  readonly tables: Record<keyof typeof TABLES, string>;
  readonly queues: {
    readonly send: string;
    readonly sendDlq: string;
    readonly sesEvents: string;
    readonly sesEventsDlq: string;
  };
  /** The local SNS topic SES events go to (the simulator and ses:replay publish there). */
  readonly sesEventsTopicArn: string;
  /** The keyring that signs links (unsubscribe) in this run. */
  readonly keyring: Keyring;
  /** The provider definitions and default chain in this run. */
  readonly providers: ChainConfig;
  readonly clients: {
    readonly dynamodb: DynamoDBClient;
    readonly sqs: SQSClient;
    readonly sns: SNSClient;
    readonly ses: SESv2Client;
  };
  stop(): Promise<void>;
}

type AnyClient = DynamoDBClient | SQSClient | SESv2Client | SNSClient;

function countRequests(client: AnyClient, service: string, onAwsRequest?: LocalStackOptions['onAwsRequest']) {
  if (!onAwsRequest) return;
  // finalizeRequest/low runs inside the retry loop: each HTTP attempt is counted, as AWS bills it.
  (client.middlewareStack as { add: (mw: unknown, opts: unknown) => void }).add(
    (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: { input?: unknown }) => {
      onAwsRequest(service, (ctx.commandName ?? 'Unknown').replace(/Command$/, ''), args.input);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'mailrouteRequestCounter' },
  );
}

const listen = (server: Server, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });

function fakeContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Matches a request path against an API Gateway path template; returns the path parameters. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] ?? '';
    const got = p[i] ?? '';
    const m = /^\{(\w+)\}$/.exec(seg);
    if (m?.[1]) {
      if (!got) return undefined;
      params[m[1]] = decodeURIComponent(got);
    } else if (seg !== got) return undefined;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** The API Gateway stand-in: routes from lib/api-routes.ts, events in payload format 2.0. */
function apiGateway(handlers: Record<string, HttpHandler>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    const matched = API_ROUTES.map((r) => ({
      route: r,
      params: r.method === req.method ? matchPath(r.path, url.pathname) : undefined,
    })).find((m) => m.params);
    if (!matched?.params) return send(404, JSON.stringify({ message: 'Not Found' }));
    const { route, params } = matched;
    const body = await readBody(req);
    if (body === 'too-large') return send(413, JSON.stringify({ message: 'Request Entity Too Large' }));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: routeKey(route),
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: Object.fromEntries(url.searchParams),
      pathParameters: params,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method: req.method ?? 'GET',
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: routeKey(route),
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      body: body.length > 0 ? body.toString('base64') : undefined,
      isBase64Encoded: body.length > 0,
    } as APIGatewayProxyEventV2;
    const handler = handlers[route.fn];
    if (!handler) return send(503, JSON.stringify({ message: 'Service Unavailable: starting' }));
    try {
      const out = await handler(event, fakeContext(`mailroute-${route.fn}`, 10));
      const headers = (out.headers ?? {}) as Record<string, string>;
      res.writeHead(out.statusCode ?? 200, { 'content-type': 'application/json', ...headers });
      res.end(out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? ''));
    } catch {
      send(500, JSON.stringify({ message: 'Internal Server Error' }));
    }
  };
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/**
 * The Lambda SQS event source stand-in: long-polls batches, invokes the handler, deletes what it
 * did not report as failed (partial batch response), and leaves the rest to the visibility timeout
 * and the queue's redrive policy. A thrown error fails the whole batch, as in AWS.
 */
function startPoller(
  sqs: SQSClient,
  queue: LocalQueue,
  batchSize: number,
  timeoutSeconds: number,
  handler: SqsHandler,
  signal: AbortSignal,
) {
  const { url: queueUrl, arn: queueArn } = queue;
  const loop = async () => {
    while (!signal.aborted) {
      let received: ReceiveMessageCommandOutput;
      try {
        received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: 2,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
      } catch {
        if (signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const messages = received.Messages ?? [];
      if (messages.length === 0) continue;
      const event = toSqsEvent(messages, queueArn);
      let failed: Set<string>;
      try {
        const out = await handler(event, fakeContext('mailroute-poller', timeoutSeconds));
        failed = new Set((out?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        continue; // whole batch failed: every message returns after its visibility timeout
      }
      const done = event.Records.filter((r) => !failed.has(r.messageId));
      if (done.length > 0) {
        await sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          )
          .catch(() => undefined);
      }
    }
  };
  return loop();
}

function toSqsEvent(messages: readonly Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REGION,
    })),
  };
}

interface LocalQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
}

/** A queue and its dead-letter queue, from the same spec the stack uses. */
async function createQueue(sqs: SQSClient, spec: QueueSpec, visibilityTimeoutSeconds: number): Promise<LocalQueue> {
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
        VisibilityTimeout: String(visibilityTimeoutSeconds),
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

async function createTable(client: DynamoDBClient, spec: TableSpec) {
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

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const apiKey = options.apiKey ?? DEFAULT_LOCAL_API_KEY;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  const providers = options.providers ?? DEFAULT_PROVIDERS;
  try {
    // DynamoDB
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    const dynamodbPort = await listen(dynamo, options.dynamodbPort ?? 0, host);
    stops.push(() => close(dynamo));
    const dynamodbEndpoint = `http://${host}:${dynamodbPort}`;

    // SQS + SNS
    const fauxqs = await startFauxqs({ port: options.awsPort ?? 0, host, logger: false });
    stops.push(() => fauxqs.stop());
    const awsEndpoint = `http://${host}:${fauxqs.port}`;

    // SES v2 and its inbox page
    const startSes = (sesServerModule as unknown as { default?: typeof sesServerModule }).default ?? sesServerModule;
    const ses = await startSes({ port: options.sesPort ?? 0, host });
    stops.push(() => close(ses));
    const sesUrl = `http://${host}:${(ses.address() as AddressInfo).port}`;

    // The API listens first (answering 503 until ready): the dispatcher's links need its URL.
    const handlers: Record<string, HttpHandler> = {};
    const api = createServer(apiGateway(handlers));
    const apiPort = await listen(api, options.apiPort ?? 0, host);
    stops.push(() => close(api));
    const apiUrl = `http://${host}:${apiPort}`;

    const keyring = options.signingKeys ?? { current: 'local', keys: { local: randomBytes(32).toString('base64url') } };
    const clients = {
      dynamodb: new DynamoDBClient({ endpoint: dynamodbEndpoint, region: REGION, credentials: CREDENTIALS }),
      sqs: new SQSClient({ endpoint: awsEndpoint, region: REGION, credentials: CREDENTIALS }),
      sns: new SNSClient({ endpoint: awsEndpoint, region: REGION, credentials: CREDENTIALS }),
      ses: new SESv2Client({ ...SES_CLIENT_OPTIONS, endpoint: sesUrl, region: REGION, credentials: CREDENTIALS }),
    };
    countRequests(clients.dynamodb, 'dynamodb', options.onAwsRequest);
    countRequests(clients.sqs, 'sqs', options.onAwsRequest);
    countRequests(clients.ses, 'ses', options.onAwsRequest);
    stops.push(async () => {
      for (const c of Object.values(clients)) c.destroy();
    });

    for (const spec of Object.values(TABLES)) await createTable(clients.dynamodb, spec);
    const tables = Object.fromEntries(Object.entries(TABLES).map(([k, spec]) => [k, spec.id])) as LocalStack['tables'];

    const send = await createQueue(
      clients.sqs,
      QUEUES.send,
      options.visibilityTimeoutSeconds ?? SEND_QUEUE_VISIBILITY_SECONDS,
    );
    const sesEvents = await createQueue(clients.sqs, QUEUES.sesEvents, SES_EVENTS_TIMEOUT_SECONDS * 6);
    // SES → SNS topic → SQS (raw message delivery), as the stack wires it.
    const topic = await clients.sns.send(new CreateTopicCommand({ Name: SES_EVENTS_TOPIC.localName }));
    if (!topic.TopicArn) throw new Error('could not create the local SES events topic');
    const topicArn = topic.TopicArn;
    await clients.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: sesEvents.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    await new DynamoKeyStore(documentClient(clients.dynamodb), tables.settings).put(hashKey(apiKey), {
      name: 'local',
      createdAt: new Date().toISOString(),
      // The local key can do everything, from any domain, and is not rate limited in practice.
      scopes: ['send', 'read', 'admin'],
      senderDomains: ['*'],
      ratePerSecond: 10_000,
      prefix: apiKey.slice(0, 10),
    });

    const ingestConfig: IngestConfig = {
      tables: {
        messages: tables.messages,
        idempotency: tables.idempotency,
        settings: tables.settings,
        suppression: tables.suppression,
        rateWindows: tables.rateWindows,
      },
      sendQueueUrl: send.url,
      retentionDays: 30,
      providers,
    };
    const dispatchConfig: DispatchConfig = {
      tables: {
        messages: tables.messages,
        suppression: tables.suppression,
        settings: tables.settings,
        rateWindows: tables.rateWindows,
      },
      providers,
      sendQueueUrl: send.url,
      timeoutSeconds: DISPATCH_TIMEOUT_SECONDS,
      maxReceiveCount: QUEUES.send.maxReceiveCount,
      signingKeysSecret: 'local',
      publicBaseUrl: apiUrl,
      trackDefaults: { opens: true, clicks: true },
    };
    const signingKeys = new StaticSigningKeys(keyring);
    // SES providers send through the emulator, then publish the simulator's events as SES would.
    const simulators: SimulatedSesProvider[] = [];
    const dispatch = createDispatchHandler(
      dispatchDeps(
        dispatchConfig,
        { ...clients, signingKeys },
        {
          wrap: (provider, def) => {
            if (def.type !== 'ses') return provider;
            const simulator = new SimulatedSesProvider(provider, clients.sns, topicArn);
            simulators.push(simulator);
            return simulator;
          },
          ...(options.settingsCacheMs !== undefined ? { cacheMs: options.settingsCacheMs } : {}),
          ...(options.circuit ? { circuit: options.circuit } : {}),
        },
      ),
    );
    const sesEventsHandler = createSesEventsHandler(
      sesEventsDeps(
        {
          tables: { messages: tables.messages, suppression: tables.suppression },
          softBounce: { limit: 3, windowHours: 72 },
        },
        clients,
      ),
    );

    // The event sources' own client (its requests are billed too, so they are counted).
    const pollerSqs = new SQSClient({ endpoint: awsEndpoint, region: REGION, credentials: CREDENTIALS });
    countRequests(pollerSqs, 'sqs', options.onAwsRequest);
    const abort = new AbortController();
    const loops = [
      ...Array.from({ length: options.pollers ?? 2 }, () =>
        startPoller(
          pollerSqs,
          send,
          DISPATCH_BATCH_SIZE,
          DISPATCH_TIMEOUT_SECONDS,
          dispatch as unknown as SqsHandler,
          abort.signal,
        ),
      ),
      ...(options.pollers === 0
        ? []
        : [
            startPoller(
              pollerSqs,
              sesEvents,
              SES_EVENTS_BATCH_SIZE,
              SES_EVENTS_TIMEOUT_SECONDS,
              sesEventsHandler as unknown as SqsHandler,
              abort.signal,
            ),
          ]),
    ];
    stops.push(async () => {
      await Promise.allSettled(simulators.flatMap((s) => [...s.pending]));
      abort.abort();
      await Promise.allSettled(loops);
      pollerSqs.destroy();
    });

    handlers.ingest = createIngestHandler(ingestDeps(ingestConfig, clients)) as unknown as HttpHandler;
    handlers.tracking = createTrackingHandler(
      trackingDeps(
        { tables: { messages: tables.messages, suppression: tables.suppression }, signingKeysSecret: 'local' },
        { ...clients, signingKeys },
      ),
    ) as unknown as HttpHandler;

    const queues = { send: send.url, sendDlq: send.dlqUrl, sesEvents: sesEvents.url, sesEventsDlq: sesEvents.dlqUrl };
    if (options.writeState) {
      const dir = join(process.cwd(), '.local');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'state.json');
      writeFileSync(
        file,
        `${JSON.stringify({ pid: process.pid, apiUrl, sesUrl, awsEndpoint, dynamodbEndpoint, tables, queues, sesEventsTopicArn: topicArn }, null, 2)}\n`,
      );
      stops.push(async () => rmSync(file, { force: true }));
    }

    return {
      apiUrl,
      sesUrl,
      awsEndpoint,
      dynamodbEndpoint,
      apiKey,
      tables,
      queues,
      sesEventsTopicArn: topicArn,
      keyring,
      providers,
      clients,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
