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

/**
 * Publishes a batch's per-provider metrics with the `provider` dimension (errors also by
 * `outcome`), and the provider's circuit state, so the dashboard and alarms can chart each provider.
 */
export function publishProviderMetrics(
  m: Pick<Metrics, 'singleMetric'>,
  provider: string,
  stats: ProviderBatchStats | undefined,
  circuitOpen: boolean,
): void {
  const one = (name: string, unit: 'Count' | 'Percent', value: number, outcome?: string) => {
    const single = m.singleMetric();
    single.addDimension(DIMENSIONS.provider, provider);
    if (outcome) single.addDimension(DIMENSIONS.outcome, outcome);
    single.addMetric(name, unit, value);
  };
  one(PROVIDER_METRICS.circuitOpen, 'Count', circuitOpen ? 1 : 0);
  if (!stats) return;
  if (stats.attempts > 0) one(PROVIDER_METRICS.attempts, 'Count', stats.attempts);
  if (stats.successes > 0) one(PROVIDER_METRICS.successes, 'Count', stats.successes);
  for (const [outcome, n] of Object.entries(stats.errors)) if (n) one(PROVIDER_METRICS.errors, 'Count', n, outcome);
  if (stats.failovers > 0) one(PROVIDER_METRICS.failovers, 'Count', stats.failovers);
  if (stats.utilization !== undefined)
    one(PROVIDER_METRICS.windowUtilization, 'Percent', Math.round(stats.utilization * 1000) / 10);
}
