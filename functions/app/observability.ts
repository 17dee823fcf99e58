/**
 * The structured logger and metrics of every function (Powertools), created once per process, and
 * the tracing of invocations (OpenTelemetry API; the SDK and exporter are plugged in by handlers/).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  type Span,
  SpanKind,
  SpanStatusCode,
  type Context as TraceContext,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Context } from 'aws-lambda';
import { DIMENSIONS, METRIC_NAMESPACE, PROVIDER_METRICS } from '../core/metric-names';

export const logger = new Logger({ serviceName: 'mailroute' });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' });

/** Where spans go: an OpenTelemetry tracer, the invocation's parent context, and a flush before returning. */
export interface TraceBackend {
  readonly tracer: Tracer;
  /** The context the invocation span is a child of (Lambda's own segment, from the X-Ray trace header). */
  parent(): TraceContext;
  /** Sends the spans ended so far; awaited before the invocation returns (the sandbox may freeze after). */
  flush(): Promise<void>;
}

/**
 * Tracing of this process: one span per invocation and, through `handlers/tracing.ts`, one child
 * span per AWS SDK call. Off (no spans, no cost) until a backend is plugged in, which the Lambda
 * entries do when Lambda active tracing is on; tests plug in an in-memory one.
 */
export class Tracing {
  private backend: TraceBackend | undefined;
  private current: TraceContext | undefined;
  private coldStart = true;

  use(backend: TraceBackend | undefined): this {
    this.backend = backend;
    return this;
  }

  get enabled(): boolean {
    return this.backend !== undefined;
  }

  /**
   * A child span of the running invocation, or undefined when tracing is off or no invocation runs.
   * A Lambda process runs one invocation at a time, so the invocation's context is kept here rather
   * than in async-local storage.
   */
  startChild(name: string, kind: SpanKind, attributes: Readonly<Record<string, string | number>>): Span | undefined {
    if (!this.backend || !this.current) return undefined;
    return this.backend.tracer.startSpan(name, { kind, attributes }, this.current);
  }

  /** @internal the invocation middleware's start */
  begin(context: Context | undefined): Span | undefined {
    const backend = this.backend;
    if (!backend) return undefined;
    const parent = backend.parent();
    const span = backend.tracer.startSpan(
      context?.functionName ?? 'handler',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'faas.coldstart': this.coldStart,
          ...(context?.awsRequestId ? { 'faas.invocation_id': context.awsRequestId } : {}),
        },
      },
      parent,
    );
    this.coldStart = false;
    this.current = trace.setSpan(parent, span);
    return span;
  }

  /** @internal the invocation middleware's end: ends the span and sends the invocation's spans */
  async end(span: Span | undefined, error?: unknown): Promise<void> {
    if (!span) return;
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    this.current = undefined;
    // A lost trace is not worth failing a request for.
    await this.backend?.flush().catch(() => undefined);
  }
}

/** The tracing of this process (see `Tracing`). */
export const tracer = new Tracing();

/**
 * Middy middleware, first in every chain: a span for the invocation (its error recorded, the response
 * not), ended and sent before the handler returns.
 */
export function traceInvocation(tracing: Tracing = tracer) {
  let span: Span | undefined;
  return {
    before: (request: { context: Context | undefined }) => {
      span = tracing.begin(request.context);
    },
    after: async () => tracing.end(span),
    onError: async (request: { error: unknown }) => tracing.end(span, request.error ?? new Error('unknown error')),
  };
}

/**
 * Addresses in text written to logs (provider reasons often quote them), masked:
 * "jane.doe@example.org" → "j***@example.org". The domain stays: it is what an operator needs.
 */
export function maskAddresses(text: string): string {
  return text.replace(/([A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g, '$1***@$2');
}

export type AppLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys'>;
export type AppMetrics = Pick<Metrics, 'addMetric' | 'addDimension' | 'publishStoredMetrics'>;

/**
 * Middy middleware that flushes stored metrics (EMF) after each invocation, success or error.
 * Powertools' own logMetrics warns on every invocation that recorded none (a health check, a
 * read), which would be one useless log line per request in CloudWatch; this publishes only when
 * there is something to publish.
 */
export function publishMetrics(m: { hasStoredMetrics(): boolean; publishStoredMetrics(): unknown }) {
  const flush = async () => {
    if (m.hasStoredMetrics()) m.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}

/** What one dispatch batch did with one provider. */
export interface ProviderBatchStats {
  readonly attempts: number;
  readonly successes: number;
  readonly errors: Readonly<Partial<Record<string, number>>>;
  readonly failovers: number;
  readonly utilization?: number | undefined;
  /** The adaptive throttle's factor (0-1] of the declared limits, as last seen. */
  readonly rateFactor?: number | undefined;
}

/** A fresh metrics buffer for one provider's figures (published as one EMF record). */
export const newMetrics = (): Metrics => new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' });

type MetricsBuffer = Pick<Metrics, 'addDimension' | 'addMetric' | 'publishStoredMetrics'>;

/**
 * Publishes a batch's per-provider metrics with the `provider` dimension in one EMF record, and
 * its errors by `outcome` in another (only when there were errors). A provider the batch did not
 * use is reported only while its circuit is not closed, so quiet providers cost no log bytes.
 */
export function publishProviderMetrics(
  make: () => MetricsBuffer,
  provider: string,
  stats: ProviderBatchStats | undefined,
  circuitOpen: boolean,
): void {
  if (!stats && !circuitOpen) return;
  const main = make();
  main.addDimension(DIMENSIONS.provider, provider);
  main.addMetric(PROVIDER_METRICS.circuitOpen, 'Count', circuitOpen ? 1 : 0);
  if (stats) {
    if (stats.attempts > 0) main.addMetric(PROVIDER_METRICS.attempts, 'Count', stats.attempts);
    if (stats.successes > 0) main.addMetric(PROVIDER_METRICS.successes, 'Count', stats.successes);
    if (stats.failovers > 0) main.addMetric(PROVIDER_METRICS.failovers, 'Count', stats.failovers);
    if (stats.utilization !== undefined)
      main.addMetric(PROVIDER_METRICS.windowUtilization, 'Percent', Math.round(stats.utilization * 1000) / 10);
    if (stats.rateFactor !== undefined)
      main.addMetric(PROVIDER_METRICS.effectiveRate, 'Percent', Math.round(stats.rateFactor * 1000) / 10);
  }
  main.publishStoredMetrics();
  for (const [outcome, n] of Object.entries(stats?.errors ?? {})) {
    if (!n) continue;
    const errors = make();
    errors.addDimension(DIMENSIONS.provider, provider);
    errors.addDimension(DIMENSIONS.outcome, outcome);
    errors.addMetric(PROVIDER_METRICS.errors, 'Count', n);
    errors.publishStoredMetrics();
  }
}
