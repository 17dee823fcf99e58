/** The structured logger and metrics of every function (Powertools), created once per process. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DIMENSIONS, METRIC_NAMESPACE, PROVIDER_METRICS } from '../core/metric-names';

export const logger = new Logger({ serviceName: 'mailroute' });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' });
/** X-Ray: a segment per invocation and a subsegment per AWS SDK call. Off outside Lambda. */
export const tracer = new Tracer({ serviceName: 'mailroute' });

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
