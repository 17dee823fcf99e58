/** The structured logger and metrics of every function (Powertools), created once per process. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from '../core/metric-names';

export const logger = new Logger({ serviceName: 'mailroute' });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' });

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
