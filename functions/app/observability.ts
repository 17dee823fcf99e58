/** The structured logger and metrics of every function (Powertools), created once per process. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE } from '../core/metric-names';

export const logger = new Logger({ serviceName: 'mailroute' });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'mailroute' });

export type AppLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys'>;
export type AppMetrics = Pick<Metrics, 'addMetric' | 'addDimension' | 'publishStoredMetrics'>;
