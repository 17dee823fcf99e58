/**
 * The dashboard of mailroute, top to bottom: what is wrong (every alarm's state), then where — volume by
 * outcome, bounce and complaint rates, each provider, the send queue of each priority, every queue and
 * DLQ, the functions, the API, latency and engagement. Built by the monitoring construct, which owns
 * the alarms it shows.
 */
import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { type Alarm, AlarmStatusWidget, Dashboard, GraphWidget, type IMetric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ERROR_OUTCOMES, METRICS, PROVIDER_METRICS, STREAM_METRICS } from '../../functions/core/metric-names';
import type { Priority } from '../../functions/core/priority';
import type { AlarmSettings } from '../context';
import { FUNCTIONS, type FunctionName, MONITORING } from '../spec';
import { appMetric, FIVE_MINUTES, ONE_MINUTE, type ProviderMetricName, providerMetric, streamMetric } from './metrics';

/** A queue as the dashboard charts it. */
export interface ChartedQueue {
  readonly label: string;
  readonly queue: IQueue;
}

export interface DashboardProps {
  /** Every alarm, in the order their states are shown. */
  readonly alarms: readonly Alarm[];
  readonly settings: AlarmSettings;
  /** The providers: one line each on the provider charts. */
  readonly providerIds: readonly string[];
  /** Every queue and DLQ, labelled. */
  readonly queues: readonly ChartedQueue[];
  /** The send queue of each priority, in priority order. */
  readonly sendQueues: readonly { readonly priority: Priority; readonly queue: IQueue }[];
  /** Every function, in the spec's order. */
  readonly functions: readonly (readonly [FunctionName, IFunction])[];
  readonly httpApi: IHttpApi;
  /** The expressions the bounce and complaint alarms evaluate. */
  readonly bounceRate: IMetric;
  readonly complaintRate: IMetric;
  /** The backlog alarms' thresholds, drawn on the age charts. */
  readonly backlogThresholds: readonly { readonly value: number; readonly label: string }[];
}

/** How the dashboard labels each function. */
const labelOf = (name: FunctionName): string => FUNCTIONS[name].label;

export const visible = (queue: IQueue, label: string, period = FIVE_MINUTES) =>
  queue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period, label });
export const oldest = (queue: IQueue, label: string, period = FIVE_MINUTES) =>
  queue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, period, label });

/** Builds the dashboard (construct `id` in `scope`). */
export function buildDashboard(scope: Construct, id: string, props: DashboardProps): Dashboard {
  const { settings, providerIds, queues, sendQueues, functions, httpApi, bounceRate, complaintRate } = props;
  // The dashboard, top to bottom: what is wrong, then where.
  const dashboard = new Dashboard(scope, id, { defaultInterval: Duration.hours(6) });
  const graph = (
    title: string,
    left: IMetric[],
    options: { width?: number; unit?: string; max?: number; thresholds?: { value: number; label: string }[] } = {},
  ) =>
    new GraphWidget({
      title,
      left,
      width: options.width ?? 8,
      height: 6,
      leftYAxis: {
        min: 0,
        showUnits: false,
        ...(options.unit === undefined ? {} : { label: options.unit }),
        ...(options.max === undefined ? {} : { max: options.max }),
      },
      leftAnnotations: options.thresholds?.map(({ value, label }) => ({ value, label })),
    });
  const perProvider = (name: ProviderMetricName, statistic: string = Stats.SUM, period = FIVE_MINUTES) =>
    providerIds.map((provider) => providerMetric(name, provider, { statistic, period }));

  dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }));
  dashboard.addWidgets(
    graph(
      'Emails by outcome (per 5 minutes)',
      [
        appMetric(METRICS.accepted, { label: 'accepted' }),
        appMetric(METRICS.sent, { label: 'sent' }),
        appMetric(METRICS.delivered, { label: 'delivered' }),
        appMetric(METRICS.bounced, { label: 'bounced' }),
        appMetric(METRICS.complained, { label: 'complained' }),
        appMetric(METRICS.suppressed, { label: 'suppressed' }),
        appMetric(METRICS.throttled, { label: 'throttled (cooldown)' }),
        appMetric(METRICS.rejected, { label: 'rejected' }),
        appMetric(METRICS.failed, { label: 'failed' }),
      ],
      { width: 12 },
    ),
    graph('Bounce and complaint rate (% of sends per hour)', [bounceRate, complaintRate], {
      width: 12,
      unit: '%',
      thresholds: [
        { value: settings.bounceRatePercent, label: 'bounce alarm' },
        { value: settings.complaintRatePercent, label: 'complaint alarm' },
      ],
    }),
  );
  dashboard.addWidgets(
    graph('Provider attempts', perProvider(PROVIDER_METRICS.attempts)),
    graph('Provider successes', perProvider(PROVIDER_METRICS.successes)),
    graph(
      'Provider errors by outcome',
      providerIds.flatMap((provider) =>
        ERROR_OUTCOMES.map((outcome) =>
          providerMetric(PROVIDER_METRICS.errors, provider, { outcome, label: `${provider} ${outcome}` }),
        ),
      ),
    ),
  );
  dashboard.addWidgets(
    graph('Provider fail-overs (emails moved to the next provider)', perProvider(PROVIDER_METRICS.failovers)),
    graph(
      'Provider circuit (1 = open or half-open)',
      perProvider(PROVIDER_METRICS.circuitOpen, Stats.MAXIMUM, ONE_MINUTE),
      {
        max: 1,
        thresholds: [{ value: 1, label: 'circuit alarm' }],
      },
    ),
    graph(
      'Rate window utilization (%, max)',
      perProvider(PROVIDER_METRICS.windowUtilization, Stats.MAXIMUM, ONE_MINUTE),
      { unit: '%', max: 100 },
    ),
  );
  dashboard.addWidgets(
    graph(
      'Provider effective rate (% of declared limits, min; lowered by throttles without Retry-After)',
      perProvider(PROVIDER_METRICS.effectiveRate, Stats.MINIMUM, ONE_MINUTE),
      { unit: '%', max: 100 },
    ),
  );
  // Each priority's send queue on its own: a backlog of bulk mail is normal, one of critical mail is not.
  dashboard.addWidgets(
    graph(
      'Send queues by priority: depth (visible messages, max)',
      sendQueues.map(({ priority, queue }) => visible(queue, priority)),
      { width: 12 },
    ),
    graph(
      'Send queues by priority: age of oldest message (seconds, max)',
      sendQueues.map(({ priority, queue }) => oldest(queue, priority)),
      { width: 12, unit: 'seconds', thresholds: [...props.backlogThresholds] },
    ),
  );
  dashboard.addWidgets(
    graph(
      'Queue depth (visible messages, max)',
      queues.map(({ queue, label }) => visible(queue, label)),
      { width: 12 },
    ),
    graph(
      'Age of oldest message (seconds, max)',
      queues.map(({ queue, label }) => oldest(queue, label)),
      { width: 12, unit: 'seconds', thresholds: [...props.backlogThresholds] },
    ),
  );
  dashboard.addWidgets(
    graph('Accept-to-send latency (ms)', [
      appMetric(METRICS.acceptToSendMs, { statistic: Stats.p(50), label: 'p50' }),
      appMetric(METRICS.acceptToSendMs, { statistic: Stats.p(99), label: 'p99' }),
    ]),
    graph('Dispatch trouble', [
      appMetric(METRICS.ambiguous, { label: 'ambiguous sends' }),
      appMetric(METRICS.waited, { label: 'capacity waits' }),
      appMetric(METRICS.retried, { label: 'retries' }),
      appMetric(METRICS.circuitOpened, { label: 'circuits opened' }),
      appMetric(METRICS.duplicateDelivery, { label: 'duplicate deliveries' }),
      appMetric(METRICS.settleFailures, { label: 'records not settled on the last receive' }),
    ]),
    graph('Suppression and SES events', [
      appMetric(METRICS.softBounced, { label: 'soft bounces' }),
      appMetric(METRICS.suppressionsAdded, { label: 'suppressions added' }),
      appMetric(METRICS.unsubscribes, { label: 'unsubscribes' }),
      appMetric(METRICS.cooldownSkipped, { label: 'recipients skipped by a cooldown' }),
      appMetric(METRICS.sesEventsUnmapped, { label: 'SES events unmapped' }),
    ]),
  );
  dashboard.addWidgets(
    graph('Webhook deliveries', [
      appMetric(METRICS.webhookDelivered, { label: 'delivered (2xx)' }),
      appMetric(METRICS.webhookAttemptFailed, { label: 'attempts failed' }),
      appMetric(METRICS.webhookGaveUp, { label: 'deliveries failed' }),
      appMetric(METRICS.webhookDisabled, { label: 'endpoints disabled' }),
      appMetric(METRICS.webhookEventsLost, { label: 'events not queued' }),
    ]),
  );
  // The reputation guard, per priority stream.
  const perStream = (name: (typeof STREAM_METRICS)[keyof typeof STREAM_METRICS], what: string, statistic?: string) =>
    MONITORING.pausedStreams.priorities.map((p) =>
      streamMetric(name, p, { label: `${p} ${what}`, ...(statistic ? { statistic } : {}) }),
    );
  dashboard.addWidgets(
    graph('Streams paused (1 = paused)', perStream(STREAM_METRICS.paused, 'paused', Stats.MAXIMUM), {
      max: 1,
      thresholds: [{ value: 1, label: 'stream paused alarm' }],
    }),
    graph('Streams: held emails, warnings, resumes', [
      ...perStream(STREAM_METRICS.held, 'held'),
      ...perStream(STREAM_METRICS.warnings, 'warnings'),
      ...perStream(STREAM_METRICS.resumes, 'resumes'),
    ]),
    graph(
      'Stream bounce and complaint rates (% of sends over the guard window, max)',
      [
        ...perStream(STREAM_METRICS.bounceRate, 'bounces', Stats.MAXIMUM),
        ...perStream(STREAM_METRICS.complaintRate, 'complaints', Stats.MAXIMUM),
      ],
      { unit: '%' },
    ),
  );
  dashboard.addWidgets(
    graph(
      'Function errors',
      functions.map(([name, fn]) =>
        fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES, label: labelOf(name) }),
      ),
      { thresholds: [{ value: settings.lambdaErrors, label: 'errors alarm' }] },
    ),
    graph(
      'Function throttles',
      functions.map(([name, fn]) =>
        fn.metricThrottles({ statistic: Stats.SUM, period: FIVE_MINUTES, label: labelOf(name) }),
      ),
    ),
    graph(
      'Function duration p99 (ms)',
      functions.map(([name, fn]) =>
        fn.metricDuration({ statistic: Stats.p(99), period: FIVE_MINUTES, label: labelOf(name) }),
      ),
    ),
  );
  dashboard.addWidgets(
    graph(
      'API errors',
      [
        httpApi.metricClientError({ statistic: Stats.SUM, period: FIVE_MINUTES, label: '4xx' }),
        httpApi.metricServerError({ statistic: Stats.SUM, period: FIVE_MINUTES, label: '5xx' }),
      ],
      { thresholds: [{ value: settings.api5xxErrors, label: '5xx alarm' }] },
    ),
    graph('API latency p95 (ms)', [
      httpApi.metricLatency({ statistic: Stats.p(95), period: FIVE_MINUTES, label: 'p95' }),
    ]),
    graph('Opens and clicks (human and machine)', [
      appMetric(METRICS.opens, { label: 'opens' }),
      appMetric(METRICS.machineOpens, { label: 'machine opens' }),
      appMetric(METRICS.clicks, { label: 'clicks' }),
      appMetric(METRICS.machineClicks, { label: 'machine clicks' }),
    ]),
  );
  return dashboard;
}
