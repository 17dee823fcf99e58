/**
 * The metrics the alarms and the dashboard ask for, built from functions/core/metric-names.ts with the
 * dimensions the functions emit, so neither can ask for a name or dimension set that does not exist.
 */
import { Duration } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import {
  DIMENSIONS,
  type ERROR_OUTCOMES,
  METRIC_NAMESPACE,
  type METRICS,
  PROVIDER_METRICS,
  type STREAM_METRICS,
} from '../../functions/core/metric-names';
import { SERVICE_NAME } from './mailroute-function';

export type AppMetricName = (typeof METRICS)[keyof typeof METRICS];
export type ProviderMetricName = (typeof PROVIDER_METRICS)[keyof typeof PROVIDER_METRICS];

export const FIVE_MINUTES = Duration.minutes(5);
export const ONE_MINUTE = Duration.minutes(1);
export const ONE_HOUR = Duration.hours(1);
export const FIFTEEN_MINUTES = Duration.minutes(15);

/**
 * A mailroute metric with the dimensions the functions emit it with: Powertools adds `service` to
 * every metric; nothing else is added to these.
 */
export function appMetric(
  name: AppMetricName,
  options: { readonly statistic?: string; readonly period?: Duration; readonly label?: string } = {},
): Metric {
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: options.statistic ?? Stats.SUM,
    period: options.period ?? FIVE_MINUTES,
    ...(options.label === undefined ? {} : { label: options.label }),
  });
}

/**
 * A per-provider metric with the dimensions the dispatcher emits it with: `service` and `provider`,
 * and `outcome` for `ProviderErrors` (one dimension set per metric, never a subset).
 */
export function providerMetric(
  name: ProviderMetricName,
  provider: string,
  options: {
    readonly statistic?: string;
    readonly period?: Duration;
    readonly label?: string;
    readonly outcome?: (typeof ERROR_OUTCOMES)[number];
  } = {},
): Metric {
  if ((name === PROVIDER_METRICS.errors) !== (options.outcome !== undefined)) {
    throw new Error(
      `providerMetric(${name}): ${PROVIDER_METRICS.errors} is emitted per ${DIMENSIONS.outcome}, ` +
        `the other provider metrics without it; give an outcome exactly for ${PROVIDER_METRICS.errors}.`,
    );
  }
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: {
      service: SERVICE_NAME,
      [DIMENSIONS.provider]: provider,
      ...(options.outcome === undefined ? {} : { [DIMENSIONS.outcome]: options.outcome }),
    },
    statistic: options.statistic ?? Stats.SUM,
    period: options.period ?? FIVE_MINUTES,
    label: options.label ?? provider,
  });
}

/** A per-stream metric with the dimensions the functions emit it with: `service` and `priority`. */
export function streamMetric(
  name: (typeof STREAM_METRICS)[keyof typeof STREAM_METRICS],
  priority: string,
  options: { readonly statistic?: string; readonly period?: Duration; readonly label?: string } = {},
): Metric {
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME, [DIMENSIONS.priority]: priority },
    statistic: options.statistic ?? Stats.SUM,
    period: options.period ?? FIVE_MINUTES,
    label: options.label ?? priority,
  });
}
