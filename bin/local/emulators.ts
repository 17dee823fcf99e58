/**
 * The emulators, all from npm and in this process: dynalite (DynamoDB), fauxqs (SQS, SNS and S3) and
 * aws-ses-v2-local (SES v2 and its inbox page), each on the port asked for (0: a free one), and the
 * SDK clients that reach them. `stop` frees every port.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import sesServerModule from 'aws-ses-v2-local';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { SES_CLIENT_OPTIONS } from '../../functions/handlers/wiring';
import { S3_CLIENT_OPTIONS } from '../../functions/store/content-store';
import { CREDENTIALS, REGION } from './lambda';

export const listen = (server: Server, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });

export const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });

export interface EmulatorPorts {
  readonly host: string;
  /** 0 picks a free port. */
  readonly dynamodbPort?: number;
  readonly awsPort?: number;
  readonly sesPort?: number;
}

export interface Emulators {
  readonly dynamodbEndpoint: string;
  /** SQS, SNS and S3 (path-style: http://<host>:<port>/<bucket>/<key>). */
  readonly awsEndpoint: string;
  /** SES v2, and its inbox page (`GET /store`: every email sent, as JSON). */
  readonly sesUrl: string;
  /** Stops each emulator that started, last first. */
  stop(): Promise<void>;
}

/** Starts the three emulators; if one fails to start, those already started are stopped. */
export async function startEmulators(ports: EmulatorPorts): Promise<Emulators> {
  const { host } = ports;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    const dynamodbPort = await listen(dynamo, ports.dynamodbPort ?? 0, host);
    stops.push(() => close(dynamo));

    // fauxqs listens on every interface; `host` only names its queue URLs: http://sqs.<region>.localhost:<port>/…
    // (like AWS's sqs.<region>.amazonaws.com), which the functions' env parser accepts as a URL (with
    // 127.0.0.1 they would be sqs.<region>.127.0.0.1, which it rejects). Clients send to their endpoint.
    const fauxqs = await startFauxqs({ port: ports.awsPort ?? 0, host: 'localhost', logger: false });
    stops.push(() => fauxqs.stop());

    const startSes = (sesServerModule as unknown as { default?: typeof sesServerModule }).default ?? sesServerModule;
    const ses = await startSes({ port: ports.sesPort ?? 0, host });
    stops.push(() => close(ses));

    return {
      dynamodbEndpoint: `http://${host}:${dynamodbPort}`,
      awsEndpoint: `http://${host}:${fauxqs.port}`,
      sesUrl: `http://${host}:${(ses.address() as AddressInfo).port}`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Called for every AWS request (service, operation, input), e.g. to count them. */
export type AwsRequestListener = (service: string, operation: string, input: unknown) => void;

/** Called once for every AWS client the stack creates, e.g. to add middleware (bin/local/aws-faults.ts). */
export type AwsClientInstrument = (client: { readonly middlewareStack: unknown }, service: string) => void;

export interface EmulatorClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly ses: SESv2Client;
  /** The content store's S3 (fauxqs), path-style. */
  readonly s3: S3Client;
}

/** Counts each HTTP attempt of the client's requests, as AWS bills them. */
export function countRequests(
  client: DynamoDBClient | SQSClient | SESv2Client | SNSClient | S3Client,
  service: string,
  onAwsRequest?: AwsRequestListener,
): void {
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

/** An SQS client of the emulator (the event sources have their own: their requests are billed too). */
export function sqsClient(
  emulators: Pick<Emulators, 'awsEndpoint'>,
  onAwsRequest?: AwsRequestListener,
  instrument?: AwsClientInstrument,
): SQSClient {
  const sqs = new SQSClient({ endpoint: emulators.awsEndpoint, region: REGION, credentials: CREDENTIALS });
  countRequests(sqs, 'sqs', onAwsRequest);
  instrument?.(sqs, 'sqs');
  return sqs;
}

/**
 * An S3 client of the emulator, path-style (fauxqs serves buckets under its endpoint's path; the
 * virtual-hosted style would need `<bucket>.localhost` to resolve).
 */
export function s3Client(
  emulators: Pick<Emulators, 'awsEndpoint'>,
  onAwsRequest?: AwsRequestListener,
  instrument?: AwsClientInstrument,
): S3Client {
  const s3 = new S3Client({
    ...S3_CLIENT_OPTIONS,
    endpoint: emulators.awsEndpoint,
    forcePathStyle: true,
    region: REGION,
    credentials: CREDENTIALS,
  });
  countRequests(s3, 's3', onAwsRequest);
  instrument?.(s3, 's3');
  return s3;
}

/** The clients the functions use, with their requests counted (SNS, the simulator's, is not). */
export function emulatorClients(
  emulators: Emulators,
  onAwsRequest?: AwsRequestListener,
  instrument?: AwsClientInstrument,
): EmulatorClients {
  const dynamodb = new DynamoDBClient({
    endpoint: emulators.dynamodbEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
  });
  countRequests(dynamodb, 'dynamodb', onAwsRequest);
  instrument?.(dynamodb, 'dynamodb');
  const ses = new SESv2Client({
    ...SES_CLIENT_OPTIONS,
    endpoint: emulators.sesUrl,
    region: REGION,
    credentials: CREDENTIALS,
  });
  countRequests(ses, 'ses', onAwsRequest);
  instrument?.(ses, 'ses');
  const sns = new SNSClient({ endpoint: emulators.awsEndpoint, region: REGION, credentials: CREDENTIALS });
  instrument?.(sns, 'sns');
  const s3 = s3Client(emulators, onAwsRequest, instrument);
  return { dynamodb, sqs: sqsClient(emulators, onAwsRequest, instrument), sns, ses, s3 };
}

/** Closes the clients' connections. */
export function destroyClients(clients: EmulatorClients): void {
  for (const c of Object.values(clients)) c.destroy();
}
