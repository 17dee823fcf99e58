/**
 * Traces without the X-Ray SDK (in maintenance since 2026-02-25, end of support 2027-02-25): Lambda
 * active tracing records the function's own segment; OpenTelemetry records a span per invocation
 * (app/observability.ts) and one per AWS SDK call (`traceClient`), sent at the end of each
 * invocation as OTLP over UDP to the X-Ray endpoint Lambda runs in the sandbox when active tracing is
 * on — the transport the AWS Distro for OpenTelemetry Lambda layers use, without their layer,
 * extension or auto-instrumentation loaded at cold start.
 */
import { createSocket, type Socket } from 'node:dgram';
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { AWSXRAY_TRACE_ID_HEADER, AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import { type TraceBackend, type Tracing, tracer } from '../app/observability';

/** The header line of every datagram to the X-Ray endpoint, then the format: T1S = sampled OTLP spans. */
const DATAGRAM_HEADER = '{"format":"json","version":1}\nT1S';
/** A UDP datagram carries at most 65,507 bytes; spans are sent in datagrams under this size. */
export const MAX_DATAGRAM_BYTES = 64_000;

/** Base64 of OTLP protobuf, one datagram per batch of spans, split in halves until each fits. */
export function datagrams(spans: readonly ReadableSpan[]): Buffer[] {
  if (spans.length === 0) return [];
  const body = ProtobufTraceSerializer.serializeRequest([...spans]);
  if (!body) return [];
  const datagram = Buffer.from(`${DATAGRAM_HEADER}${Buffer.from(body).toString('base64')}`, 'utf8');
  if (datagram.byteLength <= MAX_DATAGRAM_BYTES || spans.length === 1) return [datagram];
  const half = Math.ceil(spans.length / 2);
  return [...datagrams(spans.slice(0, half)), ...datagrams(spans.slice(half))];
}

/** Sends spans as OTLP over UDP to `host:port` (Lambda's AWS_XRAY_DAEMON_ADDRESS). */
export class XRayUdpSpanExporter implements SpanExporter {
  private readonly socket: Socket;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket = createSocket('udp4');
    this.socket.unref();
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    Promise.all(
      datagrams(spans).map(
        (d) =>
          new Promise<void>((resolve, reject) =>
            this.socket.send(d, this.port, this.host, (error) => (error ? reject(error) : resolve())),
          ),
      ),
    ).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => done({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }

  async shutdown(): Promise<void> {
    this.socket.close();
  }
}

/** What the X-Ray backend reads: the Lambda runtime's variables, the trace header read per invocation. */
export interface TraceEnv {
  readonly AWS_XRAY_DAEMON_ADDRESS?: string | undefined;
  readonly _X_AMZN_TRACE_ID?: string | undefined;
  readonly AWS_LAMBDA_FUNCTION_NAME?: string | undefined;
  readonly AWS_REGION?: string | undefined;
}

/** "host:port", or the UDP part of the labelled form "tcp:host:port udp:host:port". */
export function udpAddress(address: string): string {
  const parts = address.trim().split(/\s+/);
  const udp = parts.find((p) => p.startsWith('udp:'));
  return udp ? udp.slice('udp:'.length) : (parts.find((p) => !p.startsWith('tcp:')) ?? '');
}

/**
 * The X-Ray backend when Lambda active tracing is on (AWS_XRAY_DAEMON_ADDRESS set), else undefined.
 * Spans follow Lambda's sampling decision: only an invocation whose trace header says Sampled=1 is
 * recorded, as a child of the function's segment.
 */
export function xrayBackend(env: TraceEnv, exporter?: SpanExporter): TraceBackend | undefined {
  const address = env.AWS_XRAY_DAEMON_ADDRESS;
  if (!address) return undefined;
  const [host = '127.0.0.1', port = '2000'] = udpAddress(address).split(':');
  // The SDK's provider, processor and exporter are built by the first invocation, not at cold start
  // (the bench's first-invocation figure includes them).
  let provider: TracerProvider | undefined;
  const built = (): TracerProvider =>
    (provider ??= new TracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'mailroute',
        'cloud.provider': 'aws',
        'cloud.platform': 'aws_lambda',
        ...(env.AWS_REGION ? { 'cloud.region': env.AWS_REGION } : {}),
        ...(env.AWS_LAMBDA_FUNCTION_NAME ? { 'faas.name': env.AWS_LAMBDA_FUNCTION_NAME } : {}),
      }),
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: exporter ?? new XRayUdpSpanExporter(host, Number(port)),
          maxExportBatchSize: 128,
          scheduledDelayMillis: 1000,
        }),
      ],
    }));
  let tracer: Tracer | undefined;
  const propagator = new AWSXRayPropagator();
  return {
    get tracer() {
      tracer ??= built().getTracer('mailroute');
      return tracer;
    },
    // The runtime sets _X_AMZN_TRACE_ID for each invocation: read it then, not at cold start.
    parent: () =>
      propagator.extract(ROOT_CONTEXT, { [AWSXRAY_TRACE_ID_HEADER]: env._X_AMZN_TRACE_ID }, defaultTextMapGetter),
    flush: () => provider?.forceFlush() ?? Promise.resolve(),
  };
}

/** Turns tracing on for this process when Lambda active tracing is on. */
export function startTracing(env: TraceEnv = process.env): Tracing {
  return tracer.use(xrayBackend(env));
}

/** An AWS SDK v3 client (or document client): what `traceClient` needs of it. */
interface SdkClient {
  readonly middlewareStack: Pick<MiddlewareStack<object, MetadataBearer>, 'add'>;
}

const withoutSuffix = (name: unknown, suffix: string) =>
  typeof name === 'string' && name.endsWith(suffix) ? name.slice(0, -suffix.length) : String(name ?? 'unknown');

const statusOf = (x: unknown): number | undefined =>
  (x as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

/**
 * Adds a span per call to an AWS SDK client ("DynamoDB.UpdateItem", OpenTelemetry's AWS SDK
 * conventions: rpc.system aws-api, rpc.service, rpc.method, aws.request_id), a child of the running
 * invocation's span, covering the SDK's retries. Costs nothing while tracing is off.
 */
export function traceClient<C extends SdkClient>(client: C, tracing: Tracing = tracer): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const service = withoutSuffix(context.clientName, 'Client');
      const method = withoutSuffix(context.commandName, 'Command');
      const span = tracing.startChild(`${service}.${method}`, SpanKind.CLIENT, {
        'rpc.system': 'aws-api',
        'rpc.service': service,
        'rpc.method': method,
      });
      if (!span) return next(args);
      try {
        const result = await next(args);
        const meta = result.output.$metadata;
        if (meta.requestId) span.setAttribute('aws.request_id', meta.requestId);
        if (meta.httpStatusCode !== undefined) span.setAttribute('http.response.status_code', meta.httpStatusCode);
        if (meta.attempts !== undefined && meta.attempts > 1) span.setAttribute('aws.attempts', meta.attempts);
        return result;
      } catch (error) {
        const status = statusOf(error);
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
    { step: 'initialize', name: 'mailrouteTraceMiddleware', priority: 'high', override: true },
  );
  return client;
}
