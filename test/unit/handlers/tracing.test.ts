import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand, type GetQueueUrlCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { Tracing, traceInvocation } from '../../../functions/app/observability';
import {
  datagrams,
  MAX_DATAGRAM_BYTES,
  traceClient,
  udpAddress,
  XRayUdpSpanExporter,
  xrayBackend,
} from '../../../functions/handlers/tracing';
import { lambdaContext } from '../../support/events';

const ROOT = '1-67891233-abcdef012345678912345678';
const LAMBDA_SEGMENT = '53995c3f42cd8ad8';
const sampled = `Root=${ROOT};Parent=${LAMBDA_SEGMENT};Sampled=1`;

/** An SQS client whose requests never leave the process: the build step answers them. */
function fakeSqs(answer: () => Promise<unknown>) {
  const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  client.middlewareStack.add(
    () => async () => ({ output: (await answer()) as GetQueueUrlCommandOutput, response: {} }),
    {
      step: 'build',
      name: 'fakeAnswer',
    },
  );
  return client;
}

function setup(traceHeader = sampled) {
  const exporter = new InMemorySpanExporter();
  const env = { AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000', _X_AMZN_TRACE_ID: traceHeader };
  const tracing = new Tracing().use(xrayBackend(env, exporter));
  return { exporter, tracing, env };
}

const byName = (spans: ReadableSpan[], name: string) => spans.find((s) => s.name === name);

describe('tracing (OpenTelemetry, sent to X-Ray over UDP)', () => {
  const clients: SQSClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  it('traces the invocation as a child of Lambda’s segment, and each SDK call as a child of the invocation', async () => {
    const { exporter, tracing } = setup();
    const sqs = traceClient(
      fakeSqs(async () => ({ $metadata: { httpStatusCode: 200, requestId: 'req-1' }, QueueUrl: 'https://q' })),
      tracing,
    );
    clients.push(sqs);
    const handler = middy(async () => {
      await sqs.send(new GetQueueUrlCommand({ QueueName: 'send' }));
      return 'done';
    }).use(traceInvocation(tracing));

    await handler({}, lambdaContext('ingest'));

    const spans = exporter.getFinishedSpans();
    const invocation = byName(spans, 'ingest');
    const call = byName(spans, 'SQS.GetQueueUrl');
    expect(invocation?.kind).toBe(SpanKind.SERVER);
    expect(invocation?.spanContext().traceId).toBe('67891233abcdef012345678912345678');
    expect(invocation?.parentSpanContext?.spanId).toBe(LAMBDA_SEGMENT);
    expect(invocation?.attributes['faas.coldstart']).toBe(true);
    expect(call?.kind).toBe(SpanKind.CLIENT);
    expect(call?.parentSpanContext?.spanId).toBe(invocation?.spanContext().spanId);
    expect(call?.attributes).toMatchObject({
      'rpc.system': 'aws-api',
      'rpc.service': 'SQS',
      'rpc.method': 'GetQueueUrl',
      'aws.request_id': 'req-1',
      'http.response.status_code': 200,
    });
    expect(call?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('records a failed SDK call and a failed invocation as errors, and still sends them', async () => {
    const { exporter, tracing } = setup();
    const failure = Object.assign(new Error('throttled'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const sqs = traceClient(
      fakeSqs(async () => {
        throw failure;
      }),
      tracing,
    );
    clients.push(sqs);
    const handler = middy(async () => {
      await sqs.send(new GetQueueUrlCommand({ QueueName: 'send' }));
    }).use(traceInvocation(tracing));

    await expect(handler({}, lambdaContext('dispatch'))).rejects.toThrow('throttled');

    const spans = exporter.getFinishedSpans();
    const call = byName(spans, 'SQS.GetQueueUrl');
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
    expect(call?.attributes['http.response.status_code']).toBe(400);
    expect(call?.events.map((e) => e.name)).toContain('exception');
    expect(byName(spans, 'dispatch')?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('follows Lambda’s sampling: an invocation that is not sampled records nothing', async () => {
    const { exporter, tracing } = setup(`Root=${ROOT};Parent=${LAMBDA_SEGMENT};Sampled=0`);
    const sqs = traceClient(
      fakeSqs(async () => ({ $metadata: { httpStatusCode: 200 } })),
      tracing,
    );
    clients.push(sqs);
    const handler = middy(async () => sqs.send(new GetQueueUrlCommand({ QueueName: 'send' }))).use(
      traceInvocation(tracing),
    );
    await handler({}, lambdaContext('tracking'));
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('is off without Lambda active tracing: no backend, and traced clients work as before', async () => {
    expect(xrayBackend({})).toBeUndefined();
    const tracing = new Tracing().use(xrayBackend({}));
    expect(tracing.enabled).toBe(false);
    const sqs = traceClient(
      fakeSqs(async () => ({ $metadata: { httpStatusCode: 200 }, QueueUrl: 'https://q' })),
      tracing,
    );
    clients.push(sqs);
    const handler = middy(async () => sqs.send(new GetQueueUrlCommand({ QueueName: 'send' }))).use(
      traceInvocation(tracing),
    );
    const out = await handler({}, lambdaContext('ingest'));
    expect(out.QueueUrl).toBe('https://q');
  });

  it('reads the endpoint from AWS_XRAY_DAEMON_ADDRESS, plain or labelled', () => {
    expect(udpAddress('169.254.79.129:2000')).toBe('169.254.79.129:2000');
    expect(udpAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toBe('127.0.0.2:2001');
  });

  it('instruments a client with one middleware, however often it is traced', () => {
    const sqs = fakeSqs(async () => ({ $metadata: {} }));
    clients.push(sqs);
    traceClient(traceClient(sqs));
    const names = sqs.middlewareStack.identify().filter((m) => m.startsWith('mailrouteTraceMiddleware'));
    expect(names).toEqual(['mailrouteTraceMiddleware - initialize']);
  });
});

describe('OTLP datagrams to the X-Ray endpoint', () => {
  async function spans(n: number, attributeBytes = 10): Promise<ReadableSpan[]> {
    const { exporter, tracing } = setup();
    const handler = middy(async () => {
      for (let i = 0; i < n; i++) {
        tracing.startChild(`op-${i}`, SpanKind.INTERNAL, { payload: 'x'.repeat(attributeBytes) })?.end();
      }
    }).use(traceInvocation(tracing));
    await handler({}, lambdaContext('bench'));
    return exporter.getFinishedSpans();
  }

  it('are the daemon header, the T1S format and base64 of OTLP protobuf', async () => {
    const [d, ...rest] = datagrams(await spans(2));
    expect(rest).toEqual([]);
    const text = d?.toString('utf8') ?? '';
    expect(text.startsWith('{"format":"json","version":1}\nT1S')).toBe(true);
    const body = Buffer.from(text.split('\n')[1]?.slice(3) ?? '', 'base64');
    // The span names travel inside the protobuf as plain strings.
    expect(body.includes(Buffer.from('op-1'))).toBe(true);
  });

  it('stay under the UDP limit: many spans are split over several datagrams, none lost', async () => {
    const many = await spans(120, 2000);
    const ds = datagrams(many);
    expect(ds.length).toBeGreaterThan(1);
    for (const d of ds) expect(d.byteLength).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    const decoded = Buffer.concat(
      ds.map((d) => Buffer.from(d.toString('utf8').split('\n')[1]?.slice(3) ?? '', 'base64')),
    );
    for (const s of many) expect(decoded.includes(Buffer.from(s.name))).toBe(true);
  });

  it('are sent over UDP by the exporter', async () => {
    const server = createSocket('udp4');
    const received = new Promise<Buffer>((resolve) => server.once('message', (m) => resolve(m)));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
    const exporter = new XRayUdpSpanExporter('127.0.0.1', (server.address() as AddressInfo).port);
    try {
      const source = await spans(1);
      const result = await new Promise<{ code: number }>((resolve) => exporter.export(source, resolve));
      expect(result.code).toBe(0);
      expect((await received).toString('utf8')).toMatch(/^\{"format":"json","version":1\}\nT1S[A-Za-z0-9+/=]+$/);
    } finally {
      await exporter.shutdown();
      server.close();
    }
  });
});
