import { Aws } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type Dashboard,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, PROVIDER_METRICS, STREAM_METRICS } from '../../functions/core/metric-names';
import { PRIORITIES } from '../../functions/core/priority';
import { ALARM_DEFAULTS, ALARM_RANGES, type AlarmSettings, isEmailAddress } from '../context';
import { PRIORITY_QUEUES, QUEUES } from '../resources';
import {
  consumedQueues,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  MONITORING,
  type QueueName,
  SCHEDULING,
} from '../spec';
import { buildDashboard, oldest, visible } from './dashboard';
import {
  type AppMetricName,
  appMetric,
  FIFTEEN_MINUTES,
  FIVE_MINUTES,
  ONE_HOUR,
  ONE_MINUTE,
  providerMetric,
  streamMetric,
} from './metrics';

export { appMetric, providerMetric } from './metrics';

/** How alarms name each function. */
const labelOf = (name: FunctionName): string => FUNCTIONS[name].label;

/** The key of a queue's DLQ alarm (and of its runbook anchor): `send` → `sendDeadLetterQueue`. */
export type DeadLetterKey<K extends QueueName = QueueName> = `${K}DeadLetterQueue`;
export const deadLetterKey = <K extends QueueName>(queue: K): DeadLetterKey<K> => `${queue}DeadLetterQueue`;

/** Every queue of the spec has a consumer (an event source), so every queue gets a DLQ alarm. */
function monitoredQueues(): QueueName[] {
  const consumed = new Set(consumedQueues());
  const unconsumed = (Object.keys(QUEUES) as QueueName[]).filter((queue) => !consumed.has(queue));
  if (unconsumed.length > 0) {
    throw new Error(
      `spec: the queues ${JSON.stringify(unconsumed)} have no event source; give each a consumer in EVENT_SOURCES ` +
        '(lib/spec.ts), or its messages would wait unseen.',
    );
  }
  return Object.keys(QUEUES) as QueueName[];
}

/**
 * The README's runbook section of each alarm (its anchor under `## Runbook`). Every alarm description
 * points there, so the notification says what to do. A queue's DLQ alarm takes its anchor from the
 * queue's spec (`deadLetterAlarm.runbook`), the backlog alarm from `MONITORING.backlog`.
 */
export const RUNBOOK = {
  ...(Object.fromEntries(
    (Object.keys(QUEUES) as QueueName[]).map((queue) => [deadLetterKey(queue), QUEUES[queue].deadLetterAlarm.runbook]),
  ) as { readonly [K in QueueName as DeadLetterKey<K>]: string }),
  bounceRate: 'bounce-rate-high',
  complaintRate: 'complaint-rate-high',
  providerCircuit: 'provider-circuit-open',
  oldestMessage: MONITORING.backlog.runbook,
  criticalOldestMessage: MONITORING.criticalBacklog.runbook,
  functionErrors: 'function-errors',
  api5xx: 'api-5xx-errors',
  streamPaused: MONITORING.pausedStreams.runbook,
  schedulerDeadLetterQueue: SCHEDULING.deadLetterAlarm.runbook,
  webhookDisabled: MONITORING.webhookDisabled.runbook,
} as const;

/** Where a runbook section is, as an alarm description gives it. */
export const runbookLink = (anchor: string): string => `README.md#${anchor}`;

/** A work queue and its dead-letter queue (a `WorkQueue` is one). */
export interface MonitoredQueue {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

export interface MonitoringProps {
  /** The ids of every provider defined (in chain order first): one circuit alarm and one line each. */
  readonly providerIds: readonly string[];
  /** Every queue of the spec (lib/spec.ts), with its DLQ, by name. */
  readonly queues: { readonly [K in QueueName]: MonitoredQueue };
  /** Every function of the spec, by name. */
  readonly functions: { readonly [K in FunctionName]: IFunction };
  /** The HTTP API. */
  readonly httpApi: IHttpApi;
  /**
   * Alarm thresholds and the email address to notify; a threshold left out takes its default.
   * @default ALARM_DEFAULTS, no email subscription
   */
  readonly alarms?: Partial<AlarmSettings>;
  /** Alarms built by other constructs (the scheduler DLQ's), shown with the others on the dashboard. @default none */
  readonly otherAlarms?: readonly Alarm[];
}

/** A DLQ alarm per queue of the spec: `sendDeadLetterQueue`, `sesEventsDeadLetterQueue`, … */
export type DeadLetterAlarms = { readonly [K in QueueName as DeadLetterKey<K>]: Alarm };

/** The alarms, by what they watch. */
export interface MonitoringAlarms extends DeadLetterAlarms {
  readonly bounceRate: Alarm;
  readonly complaintRate: Alarm;
  /** The transactional send queue's oldest message. */
  readonly oldestMessage: Alarm;
  /** The critical send queue's oldest message (a tighter threshold). */
  readonly criticalOldestMessage: Alarm;
  /** One per provider id. */
  readonly providerCircuits: Readonly<Record<string, Alarm>>;
  /** One per function. */
  readonly functionErrors: { readonly [K in FunctionName]: Alarm };
  readonly api5xx: Alarm;
  /** One per priority stream: the reputation guard paused it. */
  readonly streamPaused: Readonly<Record<string, Alarm>>;
  /** `webhook.disabled`: a webhook endpoint was disabled (410 Gone, or failing for too long). */
  readonly webhookDisabled: Alarm;
}

/** The settings with defaults filled in, checked against ALARM_RANGES. */
function checkedSettings(scope: Construct, given: Partial<AlarmSettings>): AlarmSettings {
  const settings: AlarmSettings = { ...ALARM_DEFAULTS, ...given };
  for (const key of Object.keys(ALARM_RANGES) as (keyof typeof ALARM_RANGES)[]) {
    const { min, max, whole } = ALARM_RANGES[key];
    const value = settings[key];
    const ok = whole
      ? Number.isInteger(value) && value >= min && value <= max
      : Number.isFinite(value) && value > min && value <= max;
    if (!ok) {
      throw new Error(
        `Monitoring "${scope.node.path}": alarms.${key} is ${value}; expected ` +
          (whole ? `a whole number from ${min} to ${max}.` : `a number above ${min} and at most ${max}.`),
      );
    }
  }
  if (settings.email !== undefined && !isEmailAddress(settings.email)) {
    throw new Error(
      `Monitoring "${scope.node.path}": alarms.email ${JSON.stringify(settings.email)} is not an email address; ` +
        'give one such as "oncall@example.com", or leave it out and subscribe to the AlarmTopicArn output yourself.',
    );
  }
  return settings;
}

/**
 * What an operator watches: an SNS topic the alarms notify (TLS only, optionally with an email
 * subscription), the alarms, and one dashboard that answers "what is wrong and where":
 * alarm states, volume by outcome, bounce and complaint rates, each provider's attempts, errors,
 * fail-overs, circuit and rate window, the queues, the functions, the API, latency and engagement.
 * Mailroute metrics are built from functions/core/metric-names.ts with the dimensions the functions
 * emit, so the charts and alarms cannot ask for a name or dimension set that does not exist.
 */
export class Monitoring extends Construct {
  public readonly alarmTopic: Topic;
  public readonly dashboard: Dashboard;
  public readonly alarms: MonitoringAlarms;
  /** The thresholds in force (defaults filled in). */
  public readonly settings: AlarmSettings;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const settings = checkedSettings(this, props.alarms ?? {});
    this.settings = settings;
    const providerIds = [...props.providerIds];
    if (providerIds.length === 0 || new Set(providerIds).size !== providerIds.length) {
      throw new Error(
        `Monitoring "${this.node.path}": providerIds ${JSON.stringify(providerIds)} must list each provider id ` +
          'once, at least one (the ids of the providers the dispatcher may send through).',
      );
    }
    // In the spec's order, so the dashboard lists them as the spec does.
    const functions = FUNCTION_NAMES.map((name): [FunctionName, IFunction] => [name, props.functions[name]]);
    const queueNames = monitoredQueues();

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'mailroute alarms',
      enforceSSL: true,
    });
    if (settings.email !== undefined) this.alarmTopic.addSubscription(new EmailSubscription(settings.email));
    const notify = new SnsAction(this.alarmTopic);

    const alarm = (
      alarmId: string,
      options: {
        readonly metric: IMetric;
        readonly threshold: number;
        readonly comparisonOperator: ComparisonOperator;
        readonly evaluationPeriods?: number;
        readonly what: string;
        readonly runbook: string;
      },
    ): Alarm => {
      const created = new Alarm(this, alarmId, {
        metric: options.metric,
        threshold: options.threshold,
        comparisonOperator: options.comparisonOperator,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.evaluationPeriods ?? 1,
        // No data means no traffic (or an empty queue): nothing is wrong.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `mailroute: ${options.what}. Runbook: ${runbookLink(options.runbook)}`,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      return created;
    };

    // Queues: anything in a DLQ is an email (or an SES event) that gave up; an old message is late mail.
    const queues = queueNames.flatMap((name) => [
      { label: QUEUES[name].label, queue: props.queues[name].queue },
      { label: `${QUEUES[name].label} DLQ`, queue: props.queues[name].deadLetterQueue },
    ]);

    // One per queue: `SendDeadLetterQueueAlarm`, `SesEventsDeadLetterQueueAlarm`, …
    const deadLetterAlarms = Object.fromEntries(
      queueNames.map((name) => [
        deadLetterKey(name),
        alarm(`${name.charAt(0).toUpperCase()}${name.slice(1)}DeadLetterQueueAlarm`, {
          metric: visible(props.queues[name].deadLetterQueue, `${QUEUES[name].label} DLQ`, ONE_MINUTE),
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          what: QUEUES[name].deadLetterAlarm.what,
          runbook: QUEUES[name].deadLetterAlarm.runbook,
        }),
      ]),
    ) as DeadLetterAlarms;
    const backlogQueue = MONITORING.backlog.queue;
    const oldestMessage = alarm('OldestMessageAlarm', {
      metric: oldest(props.queues[backlogQueue].queue, QUEUES[backlogQueue].label, ONE_MINUTE),
      threshold: settings.oldestMessageSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Two minutes in a row: a single slow receive is not a backlog.
      evaluationPeriods: 2,
      what: `the oldest email on the ${QUEUES[backlogQueue].label} queue has waited more than ${settings.oldestMessageSeconds} seconds (mail is late)`,
      runbook: RUNBOOK.oldestMessage,
    });
    const criticalQueue = MONITORING.criticalBacklog.queue;
    const criticalOldestMessage = alarm('CriticalOldestMessageAlarm', {
      metric: oldest(props.queues[criticalQueue].queue, QUEUES[criticalQueue].label, ONE_MINUTE),
      threshold: settings.criticalOldestMessageSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      what:
        `the oldest email on the ${QUEUES[criticalQueue].label} queue has waited more than ` +
        `${settings.criticalOldestMessageSeconds} seconds (sign-in codes and alerts are late)`,
      runbook: RUNBOOK.criticalOldestMessage,
    });

    // Rates over an hour's sends, judged only with enough volume: a handful of sends cannot alarm.
    const sentHourly = appMetric(METRICS.sent, { period: ONE_HOUR, label: 'sent' });
    // `id` names the event count in the expression (ids must differ when both share a graph).
    const rate = (event: AppMetricName, id: string, label: string) =>
      new MathExpression({
        expression: `IF(sent >= ${settings.minimumHourlySends}, 100 * FILL(${id}, 0) / sent, 0)`,
        usingMetrics: { sent: sentHourly, [id]: appMetric(event, { period: ONE_HOUR }) },
        period: ONE_HOUR,
        label: `${label} % of sends (hourly; 0 below ${settings.minimumHourlySends} sends)`,
      });
    const bounceRate = rate(METRICS.bounced, 'bounced', 'bounce rate');
    const complaintRate = rate(METRICS.complained, 'complained', 'complaint rate');
    const bounceRateAlarm = alarm('BounceRateAlarm', {
      metric: bounceRate,
      threshold: settings.bounceRatePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      what:
        `bounces exceeded ${settings.bounceRatePercent}% of the emails sent in an hour ` +
        `(with at least ${settings.minimumHourlySends} sent); SES reviews accounts above 5% and may pause sending`,
      runbook: RUNBOOK.bounceRate,
    });
    const complaintRateAlarm = alarm('ComplaintRateAlarm', {
      metric: complaintRate,
      threshold: settings.complaintRatePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      what:
        `complaints exceeded ${settings.complaintRatePercent}% of the emails sent in an hour ` +
        `(with at least ${settings.minimumHourlySends} sent); SES reviews accounts above 0.1% and may pause sending`,
      runbook: RUNBOOK.complaintRate,
    });

    // Providers: the circuit gauge is 1 while a provider's circuit is open or half-open.
    const providerCircuits: Record<string, Alarm> = {};
    for (const provider of providerIds) {
      providerCircuits[provider] = alarm(`ProviderCircuitAlarm-${provider}`, {
        metric: providerMetric(PROVIDER_METRICS.circuitOpen, provider, {
          statistic: Stats.MAXIMUM,
          period: ONE_MINUTE,
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `the circuit of provider "${provider}" is open: its emails fail over to the next provider in the chain`,
        runbook: RUNBOOK.providerCircuit,
      });
    }

    const functionErrors = {} as Record<FunctionName, Alarm>;
    for (const [name, fn] of functions) {
      const label = labelOf(name);
      functionErrors[name] = alarm(`FunctionErrorsAlarm-${name}`, {
        metric: fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES, label }),
        threshold: settings.lambdaErrors,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `the ${label} function failed ${settings.lambdaErrors} or more times within 5 minutes`,
        runbook: RUNBOOK.functionErrors,
      });
    }

    const api5xx = alarm('Api5xxAlarm', {
      metric: props.httpApi.metricServerError({ statistic: Stats.SUM, period: FIVE_MINUTES, label: '5xx' }),
      threshold: settings.api5xxErrors,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: `the API answered ${settings.api5xxErrors} or more requests with a 5xx status within 5 minutes`,
      runbook: RUNBOOK.api5xx,
    });

    // Streams: the gauge is 1 when the guard pauses a stream (repeated while dispatchers hold its mail)
    // and 0 when it is resumed.
    const streamPaused: Record<string, Alarm> = {};
    for (const priority of MONITORING.pausedStreams.priorities) {
      streamPaused[priority] = alarm(`StreamPausedAlarm-${priority}`, {
        // 15 minutes: held mail is looked at again at least that often (heldWaitSeconds ≤ 900), so
        // the gauge is repeated while paused mail waits.
        metric: streamMetric(STREAM_METRICS.paused, priority, { statistic: Stats.MAXIMUM, period: FIFTEEN_MINUTES }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `the reputation guard paused the ${priority} stream (its bounce or complaint rate crossed the pause line); its mail waits until it is resumed`,
        runbook: RUNBOOK.streamPaused,
      });
    }

    // Webhooks: an endpoint disabled stops receiving events until it is enabled again.
    const webhookDisabled = alarm('WebhookDisabledAlarm', {
      metric: appMetric(METRICS.webhookDisabled, {
        statistic: Stats.SUM,
        period: FIVE_MINUTES,
        label: 'endpoints disabled',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: 'webhook.disabled: a webhook endpoint was disabled (it answered 410 Gone, or failed for too long); it receives no events until enabled again',
      runbook: RUNBOOK.webhookDisabled,
    });

    this.alarms = {
      ...deadLetterAlarms,
      bounceRate: bounceRateAlarm,
      complaintRate: complaintRateAlarm,
      oldestMessage,
      criticalOldestMessage,
      providerCircuits,
      functionErrors,
      api5xx,
      streamPaused,
      webhookDisabled,
    };
    const allAlarms = [
      ...queueNames.map((name) => deadLetterAlarms[deadLetterKey(name)]),
      oldestMessage,
      criticalOldestMessage,
      bounceRateAlarm,
      complaintRateAlarm,
      ...Object.values(providerCircuits),
      ...Object.values(functionErrors),
      ...Object.values(streamPaused),
      api5xx,
      webhookDisabled,
      ...(props.otherAlarms ?? []),
    ];

    this.dashboard = buildDashboard(this, 'Dashboard', {
      alarms: allAlarms,
      settings,
      providerIds,
      queues,
      sendQueues: PRIORITIES.map((priority) => ({ priority, queue: props.queues[PRIORITY_QUEUES[priority]].queue })),
      functions,
      httpApi: props.httpApi,
      bounceRate,
      complaintRate,
      backlogThresholds: [
        { value: settings.oldestMessageSeconds, label: `backlog alarm (${QUEUES[backlogQueue].label} queue)` },
        {
          value: settings.criticalOldestMessageSeconds,
          label: `backlog alarm (${QUEUES[criticalQueue].label} queue)`,
        },
      ],
    });
  }

  /** The dashboard in the CloudWatch console (of the stack's region). */
  public get dashboardUrl(): string {
    return (
      `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}` +
      `#dashboards/dashboard/${this.dashboard.dashboardName}`
    );
  }
}
