/**
 * What the first invocation of each function costs on top of its init, so that moving work from
 * cold start into the first request cannot pass for a faster cold start. The bench imports a bundle
 * in a fresh Node process and then invokes its handler once with a typical event; every AWS call goes
 * to local stand-ins: dynalite for DynamoDB (tables from lib/resources.ts, an API key and the
 * message records seeded), and a small HTTP stub for SQS, SES v2 and Secrets Manager. The floor does
 * the same: its init, then one call on each of its clients against the same stand-ins.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import dynalite from 'dynalite';
import { createTable } from '../bin/local/provisioning';
import { hashKey } from '../functions/app/auth';
import { SendEmailBody, toQueuedEmail } from '../functions/core/email';
import { newRecord } from '../functions/core/message';
import { toQueueBody } from '../functions/core/queued-email';
import { parseKeyring, sign } from '../functions/core/signing';
import { queuedEvent } from '../functions/core/webhook-events';
import { newWebhookSecret, sealSecret } from '../functions/core/webhook-secret';
import { documentClient } from '../functions/store/dynamo';
import { DynamoKeyStore } from '../functions/store/key-store';
import { DynamoMessageStore } from '../functions/store/message-store';
import { DynamoWebhookEndpointStore } from '../functions/store/webhook-endpoint-store';
import type { FunctionName } from '../lib/bundling';
import { TABLES } from '../lib/resources';
import { httpEvent, sqsEvent, sqsRecord } from '../test/support/events';
import { sesFixture } from '../test/support/fixtures';

export const BENCH_API_KEY = 'mr_bench_0123456789abcdef';
const KEYRING = { current: 'k1', k1: 'bench-signing-key-0123456789abcdef0123' };
/** A sampled X-Ray trace header, as Lambda sets it for an invocation it traces. */
export const TRACE_HEADER = 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1';

/** The floor's first invocation: one call on each client, against the same stand-ins. */
export const FLOOR_FIRST_CALLS: Record<FunctionName, string> = {
  ingest: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
export const first = ([doc, sqs]) => Promise.all([
  doc.send(new GetCommand({ TableName: process.env.TABLE_SETTINGS, Key: { pk: 'floor' } })),
  sqs.send(new SendMessageBatchCommand({ QueueUrl: process.env.QUEUE_SEND_URL, Entries: [{ Id: '1', MessageBody: 'floor' }] })),
]);`,
  dispatch: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
export const first = ([doc, sqs, ses, secrets]) => Promise.all([
  doc.send(new GetCommand({ TableName: process.env.TABLE_MESSAGES, Key: { id: 'floor' } })),
  sqs.send(new DeleteMessageBatchCommand({ QueueUrl: process.env.QUEUE_SEND_URL, Entries: [{ Id: '1', ReceiptHandle: 'floor' }] })),
  ses.send(new SendEmailCommand({ FromEmailAddress: 'a@example.com', Destination: { ToAddresses: ['b@example.org'] }, Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } } })),
  secrets.send(new GetSecretValueCommand({ SecretId: process.env.SIGNING_KEYS_SECRET })),
]);`,
  sesEvents: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
export const first = ([doc]) => doc.send(new GetCommand({ TableName: process.env.TABLE_MESSAGES, Key: { id: 'floor' } }));`,
  tracking: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
export const first = ([doc, secrets]) => Promise.all([
  doc.send(new GetCommand({ TableName: process.env.TABLE_MESSAGES, Key: { id: 'floor' } })),
  secrets.send(new GetSecretValueCommand({ SecretId: process.env.SIGNING_KEYS_SECRET })),
]);`,
  webhooks: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
export const first = ([doc, _sqs, secrets]) => Promise.all([
  doc.send(new GetCommand({ TableName: process.env.TABLE_WEBHOOKS, Key: { pk: 'floor', sk: 'floor' } })),
  secrets.send(new GetSecretValueCommand({ SecretId: process.env.SIGNING_KEYS_SECRET })),
]);`,
  audience: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
export const first = ([doc, sqs]) => Promise.all([
  doc.send(new GetCommand({ TableName: process.env.TABLE_MESSAGES, Key: { id: 'floor' } })),
  sqs.send(new SendMessageBatchCommand({ QueueUrl: process.env.QUEUE_AUDIENCE_JOBS_URL, Entries: [{ Id: '1', MessageBody: 'floor' }] })),
]);`,
  webhookApi: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
export const first = ([doc, _sqs, secrets]) => Promise.all([
  doc.send(new GetCommand({ TableName: process.env.TABLE_SETTINGS, Key: { pk: 'floor' } })),
  secrets.send(new GetSecretValueCommand({ SecretId: process.env.SIGNING_KEYS_SECRET })),
]);`,
  console: `import { GetCommand } from '@aws-sdk/lib-dynamodb';
export const first = ([doc]) => doc.send(new GetCommand({ TableName: process.env.TABLE_SETTINGS, Key: { pk: 'floor' } }));`,
};

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** SQS (JSON protocol), Secrets Manager and SES v2: just enough for the first invocations above. */
function stubHandler(target: string, path: string, body: Record<string, unknown>): unknown {
  switch (target) {
    case 'AmazonSQS.SendMessageBatch':
      return {
        Successful: (body.Entries as { Id: string; MessageBody: string }[]).map((e) => ({
          Id: e.Id,
          MessageId: randomUUID(),
          MD5OfMessageBody: md5(e.MessageBody),
        })),
        Failed: [],
      };
    case 'AmazonSQS.DeleteMessageBatch':
    case 'AmazonSQS.ChangeMessageVisibilityBatch':
      return { Successful: (body.Entries as { Id: string }[]).map((e) => ({ Id: e.Id })), Failed: [] };
    case 'secretsmanager.GetSecretValue':
      return { ARN: String(body.SecretId), Name: 'bench', SecretString: JSON.stringify(KEYRING), VersionId: 'v1' };
  }
  if (path.startsWith('/v2/email/outbound-emails')) return { MessageId: `ses-${randomUUID()}` };
  return {};
}

function startStub(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      const out = stubHandler(String(req.headers['x-amz-target'] ?? ''), req.url ?? '', body);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(out));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const EMAIL = {
  from: 'Bench <bench@example.com>',
  to: ['reader@example.org'],
  subject: 'Your receipt',
  html: '<p>Thanks! <a href="https://example.com/orders/1">Your order</a></p>',
  text: 'Thanks! https://example.com/orders/1',
};

export interface FirstInvocationBackends {
  /** Environment of the child processes: endpoints, table names, trace header. */
  readonly env: Record<string, string>;
  /** A typical first event for the function (fresh ids each call, records seeded). */
  event(name: FunctionName): Promise<APIGatewayProxyEventV2 | SQSEvent>;
  stop(): Promise<void>;
}

export async function startFirstInvocationBackends(): Promise<FirstInvocationBackends> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const stub = await startStub();
  const dynamoUrl = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint: dynamoUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  for (const spec of Object.values(TABLES)) await createTable(client, spec);
  const doc = documentClient(client);
  await new DynamoKeyStore(doc, TABLES.settings.id).put(hashKey(BENCH_API_KEY), {
    name: 'bench',
    createdAt: new Date().toISOString(),
    scopes: ['send', 'read', 'admin'],
    senderDomains: ['example.com'],
    ratePerSecond: 1000,
    prefix: BENCH_API_KEY.slice(0, 8),
  });
  const messages = new DynamoMessageStore(doc, TABLES.messages.id);
  const parsed = SendEmailBody.parse(EMAIL);

  /** A queued message: its record in the table and its queue body. */
  async function queued(): Promise<{ id: string; body: string }> {
    const q = toQueuedEmail(randomUUID(), parsed);
    await messages.createMany([newRecord({ ...q, apiKey: 'bench' }, new Date(), 30)]);
    return { id: q.id, body: toQueueBody(q) };
  }

  return {
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
      AWS_ENDPOINT_URL_SQS: stubUrl,
      AWS_ENDPOINT_URL_SESV2: stubUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stubUrl,
      QUEUE_SEND_URL: `${stubUrl}/000000000000/send`,
      QUEUE_SEND_CRITICAL_URL: `${stubUrl}/000000000000/send-critical`,
      QUEUE_SEND_BULK_URL: `${stubUrl}/000000000000/send-bulk`,
      QUEUE_WEBHOOK_EVENTS_URL: `${stubUrl}/000000000000/webhook-events`,
      QUEUE_WEBHOOK_RETRIES_URL: `${stubUrl}/000000000000/webhook-retries`,
      QUEUE_AUDIENCE_JOBS_URL: `${stubUrl}/000000000000/audience-jobs`,
      TABLE_WEBHOOKS: TABLES.webhooks.id,
      // The endpoint is the stub, on this machine.
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      TABLE_MESSAGES: TABLES.messages.id,
      TABLE_IDEMPOTENCY: TABLES.idempotency.id,
      TABLE_SETTINGS: TABLES.settings.id,
      TABLE_SUPPRESSION: TABLES.suppression.id,
      TABLE_RATE_WINDOWS: TABLES.rateWindows.id,
      TABLE_TEMPLATES: TABLES.templates.id,
      TABLE_EMAIL_INDEX: TABLES.emailIndex.id,
      ...Object.fromEntries(Object.values(TABLES).map((t) => [t.env, t.id])),
      _X_AMZN_TRACE_ID: TRACE_HEADER,
    },
    async event(name) {
      switch (name) {
        // One email, with an Idempotency-Key: the path most applications use.
        case 'ingest':
          return httpEvent('POST /v1/emails', {
            body: JSON.stringify(EMAIL),
            headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'idempotency-key': randomUUID() },
          });
        case 'dispatch': {
          const q = await queued();
          return sqsEvent(sqsRecord(q.body));
        }
        case 'sesEvents': {
          // A delivery notification for a message that was sent.
          const q = await queued();
          const at = new Date().toISOString();
          await messages.settleQueued(q.id, {
            status: 'sent',
            event: { type: 'sent', at },
            provider: 'ses',
            providerMessageId: `ses-${q.id}`,
          });
          return sqsEvent(sqsRecord(sesFixture('event-delivery.json', q.id)));
        }
        // A fan-out job of a broadcast that is not there (paused, canceled or gone): read, and nothing to do.
        case 'audience':
          return sqsEvent(sqsRecord(JSON.stringify({ kind: 'fanout', broadcastId: 'brd_bench', run: 1, page: 0 })));
        // The console's page: what an operator's browser asks first.
        case 'console':
          return httpEvent('GET /console');
        case 'tracking': {
          const q = await queued();
          const token = sign(
            { k: 'o', m: q.id, s: Math.floor(Date.now() / 1000) - 60 },
            parseKeyring(JSON.stringify(KEYRING)),
          );
          return httpEvent('GET /o/{token}', {
            path: { token },
            headers: { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15' },
          });
        }
        // An email.sent event, fanned out to one endpoint (the stub answers 200).
        case 'webhooks': {
          const q = await queued();
          const endpointId = `ep_${randomUUID().slice(0, 8)}`;
          const ring = parseKeyring(JSON.stringify(KEYRING));
          await new DynamoWebhookEndpointStore(doc, TABLES.webhooks.id).create({
            id: endpointId,
            url: `${stubUrl}/hook`,
            events: ['*'],
            enabled: true,
            secrets: [{ sealed: sealSecret(newWebhookSecret(), ring, endpointId) }],
            failures: 0,
            createdAt: new Date().toISOString(),
            updatedAt: new Date().toISOString(),
          });
          const event = queuedEvent('email.sent', q.id, new Date().toISOString(), { provider: 'ses' }, q.id);
          return sqsEvent(sqsRecord(JSON.stringify(event)));
        }
        case 'webhookApi':
          return httpEvent('GET /v1/webhooks', { headers: { authorization: `Bearer ${BENCH_API_KEY}` } });
      }
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => stub.close(() => resolve()));
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
