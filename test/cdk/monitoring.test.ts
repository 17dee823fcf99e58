/**
 * The alarms, their topic and the dashboard. The mailroute metrics they ask for must be the ones the
 * functions emit: names from functions/core/metric-names.ts, and the names and dimension sets the
 * handlers really print (EMF) when driven through their paths with fakes, read back here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ERROR_OUTCOMES,
  METRIC_NAMESPACE,
  METRICS,
  PROVIDER_METRICS,
  STREAM_METRICS,
} from '../../functions/core/metric-names';
import { PRIORITIES } from '../../functions/core/priority';
import type { FunctionName } from '../../lib/bundling';
import { FUNCTION_ENTRIES } from '../../lib/bundling';
import { REPO_ROOT } from '../../lib/constructs/mailroute-function';
import { RUNBOOK, runbookLink } from '../../lib/constructs/monitoring';
import { ALARM_DEFAULTS } from '../../lib/context';
import { MailrouteStack } from '../../lib/mailroute-stack';
import { type EmittedMetric, emittedMetrics } from '../support/emitted-metrics';
import {
  type CfnResource,
  logicalId,
  PROVIDER_CHAIN,
  render,
  resource,
  resourcesOfType,
  type Synthesized,
  synthesize,
  testApp,
} from './stack-fixture';

/** Thresholds other than the defaults, to show the context reaches every alarm. */
const CUSTOM = {
  email: 'oncall@example.com',
  bounceRatePercent: 2,
  complaintRatePercent: 0.05,
  minimumHourlySends: 500,
  oldestMessageSeconds: 600,
  criticalOldestMessageSeconds: 120,
  lambdaErrors: 3,
  api5xxErrors: 10,
};

const PROVIDER_IDS = PROVIDER_CHAIN.providers.map((def) => def.id);
const FUNCTIONS = Object.keys(FUNCTION_ENTRIES) as FunctionName[];

let s: Synthesized;
let custom: Synthesized;

beforeAll(() => {
  s = synthesize();
  custom = synthesize({ mailroute: { ...PROVIDER_CHAIN, alarms: CUSTOM } });
});

/** One metric an alarm or a graph asks for, dimension values rendered (`${Queue.QueueName}`). */
interface MetricRef {
  readonly namespace: string;
  readonly name: string;
  readonly dims: Record<string, string>;
  readonly stat?: string;
  readonly period?: number;
  /** The math expression's id for the metric, if it is one of an expression's inputs. */
  readonly id?: string;
}

interface AlarmMetricStat {
  readonly Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
  readonly Period: number;
  readonly Stat: string;
}
interface AlarmQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly MetricStat?: AlarmMetricStat;
  readonly ReturnData?: boolean;
}

const dimsOf = (dimensions: { Name: string; Value: unknown }[] = []): Record<string, string> =>
  Object.fromEntries(dimensions.map((d) => [d.Name, render(d.Value)]));

/** The metrics (and expressions) an alarm evaluates. */
function alarmQueries(alarm: CfnResource): { metrics: MetricRef[]; expressions: string[] } {
  const p = alarm.Properties ?? {};
  if (typeof p.MetricName === 'string') {
    return {
      metrics: [
        {
          namespace: p.Namespace as string,
          name: p.MetricName,
          dims: dimsOf(p.Dimensions as { Name: string; Value: unknown }[]),
          stat: (p.Statistic ?? p.ExtendedStatistic) as string,
          period: p.Period as number,
        },
      ],
      expressions: [],
    };
  }
  const queries = (p.Metrics as AlarmQuery[] | undefined) ?? [];
  return {
    metrics: queries.flatMap((q) =>
      q.MetricStat
        ? [
            {
              namespace: q.MetricStat.Metric.Namespace,
              name: q.MetricStat.Metric.MetricName,
              dims: dimsOf(q.MetricStat.Metric.Dimensions),
              stat: q.MetricStat.Stat,
              period: q.MetricStat.Period,
              id: q.Id,
            },
          ]
        : [],
    ),
    expressions: queries.flatMap((q) => (q.Expression ? [q.Expression] : [])),
  };
}

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly alarms?: string[];
    readonly metrics?: unknown[][];
  };
}

/** The dashboard body, with references rendered (`${Queue.QueueName}`). */
function dashboardOf(synth: Synthesized): Widget[] {
  const dashboards = Object.values(resourcesOfType(synth.template, 'AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = JSON.parse(render((dashboards[0] as CfnResource).Properties?.DashboardBody)) as { widgets: Widget[] };
  return body.widgets;
}

/** The metrics (and expressions) a graph widget plots. */
function charted(widget: Widget): { metrics: MetricRef[]; expressions: string[] } {
  const metricsOut: MetricRef[] = [];
  const expressions: string[] = [];
  for (const row of widget.properties.metrics ?? []) {
    const last = row.at(-1);
    const options = (typeof last === 'object' && last !== null ? last : {}) as {
      expression?: string;
      stat?: string;
      period?: number;
      id?: string;
    };
    if (options.expression) {
      expressions.push(options.expression);
      continue;
    }
    const [namespace, name, ...rest] = row.filter((cell) => typeof cell === 'string') as string[];
    const dims: Record<string, string> = {};
    for (let i = 0; i + 1 < rest.length; i += 2) dims[rest[i] as string] = rest[i + 1] as string;
    metricsOut.push({
      namespace: namespace as string,
      name: name as string,
      dims,
      // The dashboard leaves out a period of 300 s (its default).
      period: options.period ?? 300,
      ...(options.stat ? { stat: options.stat } : {}),
      ...(options.id ? { id: options.id } : {}),
    });
  }
  return { metrics: metricsOut, expressions };
}

function widgetTitled(widgets: Widget[], title: RegExp): Widget {
  const found = widgets.filter((w) => title.test(w.properties.title ?? ''));
  expect(found, `one widget titled ${title}`).toHaveLength(1);
  return found[0] as Widget;
}

const alarmsOf = (synth: Synthesized) => resourcesOfType(synth.template, 'AWS::CloudWatch::Alarm');
const alarmOf = (synth: Synthesized, construct: Parameters<typeof logicalId>[0]): CfnResource =>
  resource(synth.template, logicalId(construct));
const service = { service: 'mailroute' };
const queueName = (construct: Parameters<typeof logicalId>[0]) => `\${${logicalId(construct)}.QueueName}`;
const refTo = (construct: Parameters<typeof logicalId>[0]) => `\${${logicalId(construct)}}`;

describe('alarm topic', () => {
  it('refuses publishing without TLS and has no hard-coded name', () => {
    const topicId = logicalId(s.stack.monitoring.alarmTopic);
    expect(resource(s.template, topicId).Properties?.TopicName).toBeUndefined();
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('has no subscription unless alarms.email is set', () => {
    const topicId = logicalId(s.stack.monitoring.alarmTopic);
    const onTopic = Object.values(resourcesOfType(s.template, 'AWS::SNS::Subscription')).filter(
      (sub) => render(sub.Properties?.TopicArn) === `\${${topicId}}`,
    );
    expect(onTopic).toEqual([]);
  });

  it('has an email subscription for alarms.email', () => {
    const topicId = logicalId(custom.stack.monitoring.alarmTopic);
    const onTopic = Object.values(resourcesOfType(custom.template, 'AWS::SNS::Subscription')).filter(
      (sub) => render(sub.Properties?.TopicArn) === `\${${topicId}}`,
    );
    expect(onTopic.map((sub) => sub.Properties)).toEqual([
      expect.objectContaining({ Protocol: 'email', Endpoint: CUSTOM.email }),
    ]);
  });
});

describe.each([
  ['the default thresholds (SES alone)', () => s, ALARM_DEFAULTS, ['ses']],
  ['thresholds from cdk.json (a provider chain)', () => custom, CUSTOM, PROVIDER_IDS],
] as const)('alarms with %s', (_name, synth, thresholds, providerIds) => {
  it('are exactly: seven DLQs (three send queues, SES events, webhook events and retries, audience jobs), two backlogs (transactional, critical), bounce and complaint rates, one circuit per provider, one per function, API 5xx, one per paused stream, webhook.disabled', () => {
    const { alarms } = synth().stack.monitoring;
    expect(Object.keys(alarms.providerCircuits)).toEqual([...providerIds]);
    expect(Object.keys(alarms.functionErrors).sort()).toEqual([...FUNCTIONS].sort());
    expect(Object.keys(alarms.streamPaused)).toEqual([...PRIORITIES]);
    expect(Object.keys(alarmsOf(synth()))).toHaveLength(
      // + 1: the scheduler DLQ's alarm (lib/constructs/scheduling.ts, asserted in scheduling.test.ts).
      11 + providerIds.length + FUNCTIONS.length + 1 + PRIORITIES.length + 1 + 1,
    );
  });

  it('each notify the alarm topic (alarm and OK), treat missing data as fine, and point to their runbook', () => {
    const topic = { Ref: logicalId(synth().stack.monitoring.alarmTopic) };
    const anchors = Object.values(RUNBOOK) as string[];
    for (const [id, alarm] of Object.entries(alarmsOf(synth()))) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([topic]);
      expect(alarm.Properties?.OKActions, id).toEqual([topic]);
      expect(alarm.Properties?.TreatMissingData, id).toBe('notBreaching');
      const description = String(alarm.Properties?.AlarmDescription);
      const anchor = /Runbook: README\.md#([a-z0-9-]+)$/.exec(description)?.[1];
      expect(anchor, `${id}: ${description}`).toBeDefined();
      expect(anchors, id).toContain(anchor);
      expect(alarm.Properties?.AlarmName, `${id} has no hard-coded name`).toBeUndefined();
    }
  });

  it.each([
    ['send', (st: MailrouteStack) => st.sendQueue.deadLetterQueue, 'sendDeadLetterQueue'],
    [
      'critical send',
      (st: MailrouteStack) => st.priorityQueues.critical.deadLetterQueue,
      'sendCriticalDeadLetterQueue',
    ],
    ['bulk send', (st: MailrouteStack) => st.priorityQueues.bulk.deadLetterQueue, 'sendBulkDeadLetterQueue'],
    ['SES events', (st: MailrouteStack) => st.sesEventsQueue.deadLetterQueue, 'sesEventsDeadLetterQueue'],
    ['webhook events', (st: MailrouteStack) => st.queues.webhookEvents.deadLetterQueue, 'webhookEventsDeadLetterQueue'],
    [
      'webhook retries',
      (st: MailrouteStack) => st.queues.webhookRetries.deadLetterQueue,
      'webhookRetriesDeadLetterQueue',
    ],
    ['audience jobs', (st: MailrouteStack) => st.queues.audienceJobs.deadLetterQueue, 'audienceJobsDeadLetterQueue'],
  ] as const)('fire when the %s DLQ holds any message', (_queue, dlq, key) => {
    const stack = synth().stack;
    const alarm = alarmOf(synth(), stack.monitoring.alarms[key]);
    expect(alarmQueries(alarm).metrics).toEqual([
      {
        namespace: 'AWS/SQS',
        name: 'ApproximateNumberOfMessagesVisible',
        dims: { QueueName: queueName(dlq(stack)) },
        stat: 'Maximum',
        period: 60,
        id: 'm1',
      },
    ]);
    expect(alarm.Properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      AlarmDescription: expect.stringContaining(runbookLink(RUNBOOK[key])),
    });
  });

  it('fire when the oldest message on the send queue is older than oldestMessageSeconds, two minutes running', () => {
    const stack = synth().stack;
    const alarm = alarmOf(synth(), stack.monitoring.alarms.oldestMessage);
    expect(alarmQueries(alarm).metrics).toEqual([
      {
        namespace: 'AWS/SQS',
        name: 'ApproximateAgeOfOldestMessage',
        dims: { QueueName: queueName(stack.sendQueue.queue) },
        stat: 'Maximum',
        period: 60,
        id: 'm1',
      },
    ]);
    expect(alarm.Properties).toMatchObject({
      Threshold: thresholds.oldestMessageSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      AlarmDescription: expect.stringContaining(runbookLink(RUNBOOK.oldestMessage)),
    });
  });

  it('fire when the oldest message on the critical queue is older than criticalOldestMessageSeconds, two minutes running', () => {
    const stack = synth().stack;
    const alarm = alarmOf(synth(), stack.monitoring.alarms.criticalOldestMessage);
    expect(alarmQueries(alarm).metrics).toEqual([
      {
        namespace: 'AWS/SQS',
        name: 'ApproximateAgeOfOldestMessage',
        dims: { QueueName: queueName(stack.priorityQueues.critical.queue) },
        stat: 'Maximum',
        period: 60,
        id: 'm1',
      },
    ]);
    expect(alarm.Properties).toMatchObject({
      Threshold: thresholds.criticalOldestMessageSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      AlarmDescription: expect.stringContaining(runbookLink(RUNBOOK.criticalOldestMessage)),
    });
    expect(RUNBOOK.criticalOldestMessage).not.toBe(RUNBOOK.oldestMessage);
  });

  it('has no age alarm on the bulk queue: a newsletter backlog is normal', () => {
    const stack = synth().stack;
    const bulk = queueName(stack.priorityQueues.bulk.queue);
    const ages = Object.values(alarmsOf(synth())).filter((a) =>
      alarmQueries(a).metrics.some((m) => m.name === 'ApproximateAgeOfOldestMessage' && m.dims.QueueName === bulk),
    );
    expect(ages).toEqual([]);
  });

  it.each([
    ['bounce', 'bounceRate', METRICS.bounced, 'bounced', 'bounceRatePercent'],
    ['complaint', 'complaintRate', METRICS.complained, 'complained', 'complaintRatePercent'],
  ] as const)(
    'fire when the hourly %s rate over sends passes its threshold, only with the minimum volume',
    (_what, key, metric, id, threshold) => {
      const alarm = alarmOf(synth(), synth().stack.monitoring.alarms[key]);
      const { metrics: inputs, expressions } = alarmQueries(alarm);
      expect(expressions).toEqual([`IF(sent >= ${thresholds.minimumHourlySends}, 100 * FILL(${id}, 0) / sent, 0)`]);
      expect(inputs).toEqual([
        { namespace: METRIC_NAMESPACE, name: METRICS.sent, dims: service, stat: 'Sum', period: 3600, id: 'sent' },
        { namespace: METRIC_NAMESPACE, name: metric, dims: service, stat: 'Sum', period: 3600, id },
      ]);
      // Only the expression is what the alarm compares.
      const returned = ((alarm.Properties?.Metrics ?? []) as AlarmQuery[]).filter((q) => q.ReturnData !== false);
      expect(returned.map((q) => q.Expression)).toEqual(expressions);
      expect(alarm.Properties).toMatchObject({
        Threshold: thresholds[threshold],
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        AlarmDescription: expect.stringContaining(runbookLink(RUNBOOK[key])),
      });
    },
  );

  it("fire when a provider's circuit is open (ProviderCircuitOpen maximum at least 1), one per provider", () => {
    const { providerCircuits } = synth().stack.monitoring.alarms;
    for (const provider of providerIds) {
      const alarm = alarmOf(synth(), providerCircuits[provider] as NonNullable<(typeof providerCircuits)[string]>);
      expect(alarmQueries(alarm).metrics, provider).toEqual([
        {
          namespace: METRIC_NAMESPACE,
          name: PROVIDER_METRICS.circuitOpen,
          dims: { ...service, provider },
          stat: 'Maximum',
          period: 60,
          id: 'm1',
        },
      ]);
      expect(alarm.Properties, provider).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        AlarmDescription: expect.stringContaining(`"${provider}"`),
      });
      expect(alarm.Properties?.AlarmDescription).toContain(runbookLink(RUNBOOK.providerCircuit));
    }
  });

  it('fire when a function fails lambdaErrors times within 5 minutes, one per function', () => {
    const stack = synth().stack;
    // Every function of the spec (lib/spec.ts), as the stack built it.
    const handlers = stack.functions;
    for (const name of FUNCTIONS) {
      const alarm = alarmOf(synth(), stack.monitoring.alarms.functionErrors[name]);
      expect(alarmQueries(alarm).metrics, name).toEqual([
        {
          namespace: 'AWS/Lambda',
          name: 'Errors',
          dims: { FunctionName: refTo(handlers[name].handler.function) },
          stat: 'Sum',
          period: 300,
          id: 'm1',
        },
      ]);
      expect(alarm.Properties, name).toMatchObject({
        Threshold: thresholds.lambdaErrors,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        AlarmDescription: expect.stringContaining(runbookLink(RUNBOOK.functionErrors)),
      });
    }
  });

  it('fire when the API answers api5xxErrors 5xx within 5 minutes', () => {
    const stack = synth().stack;
    const alarm = alarmOf(synth(), stack.monitoring.alarms.api5xx);
    expect(alarmQueries(alarm).metrics).toEqual([
      {
        namespace: 'AWS/ApiGateway',
        name: '5xx',
        dims: { ApiId: refTo(stack.api.httpApi) },
        stat: 'Sum',
        period: 300,
        id: 'm1',
      },
    ]);
    expect(alarm.Properties).toMatchObject({
      Threshold: thresholds.api5xxErrors,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      AlarmDescription: expect.stringContaining(runbookLink(RUNBOOK.api5xx)),
    });
  });
});

describe('the runbook', () => {
  /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
  const slug = (heading: string): string =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-');

  it("has one README subsection under '## Runbook' per alarm anchor, and no other", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = /^## Runbook\n([\s\S]*?)^## /m.exec(readme)?.[1];
    expect(section, 'a "## Runbook" section').toBeDefined();
    const headings = [...(section as string).matchAll(/^### (.+)$/gm)].map((m) => slug(m[1] as string));
    expect(headings.sort()).toEqual(Object.values(RUNBOOK).sort());
  });
});

describe('dashboard', () => {
  let widgets: Widget[];
  let chainWidgets: Widget[];
  beforeAll(() => {
    widgets = dashboardOf(s);
    chainWidgets = dashboardOf(custom);
  });

  const metricsIn = (title: RegExp, from: () => Widget[] = () => widgets) =>
    charted(widgetTitled(from(), title)).metrics;
  const app = (name: string, stat = 'Sum') => ({ namespace: METRIC_NAMESPACE, name, dims: service, stat });

  it('starts with the state of every alarm', () => {
    const [first] = widgets;
    expect(first?.type).toBe('alarm');
    const arns = Object.keys(alarmsOf(s)).map((id) => `\${${id}.Arn}`);
    expect([...(first?.properties.alarms ?? [])].sort()).toEqual(arns.sort());
  });

  it('charts volume by outcome: accepted, sent, delivered, bounced, complained, suppressed, rejected, failed', () => {
    const names = [
      METRICS.accepted,
      METRICS.sent,
      METRICS.delivered,
      METRICS.bounced,
      METRICS.complained,
      METRICS.suppressed,
      METRICS.rejected,
      METRICS.failed,
    ];
    expect(metricsIn(/^Emails by outcome/)).toEqual(names.map((name) => expect.objectContaining(app(name))));
  });

  it('charts the bounce and complaint rates with the expressions the alarms use', () => {
    const widget = widgetTitled(widgets, /^Bounce and complaint rate/);
    const { alarms } = s.stack.monitoring;
    const alarmExpressions = [alarms.bounceRate, alarms.complaintRate].flatMap(
      (alarm) => alarmQueries(alarmOf(s, alarm)).expressions,
    );
    expect(charted(widget).expressions).toEqual(alarmExpressions);
    expect(charted(widget).metrics).toEqual(
      [METRICS.sent, METRICS.bounced, METRICS.complained].map((name) =>
        expect.objectContaining({ ...app(name), period: 3600 }),
      ),
    );
  });

  it.each([
    [/^Provider attempts/, PROVIDER_METRICS.attempts, 'Sum'],
    [/^Provider successes/, PROVIDER_METRICS.successes, 'Sum'],
    [/^Provider fail-overs/, PROVIDER_METRICS.failovers, 'Sum'],
    [/^Provider circuit/, PROVIDER_METRICS.circuitOpen, 'Maximum'],
    [/^Rate window utilization/, PROVIDER_METRICS.windowUtilization, 'Maximum'],
  ])('charts %s per provider of the chain', (title, name, stat) => {
    expect(metricsIn(title, () => chainWidgets)).toEqual(
      PROVIDER_IDS.map((provider) =>
        expect.objectContaining({ namespace: METRIC_NAMESPACE, name, dims: { ...service, provider }, stat }),
      ),
    );
  });

  it('charts provider errors per provider and outcome', () => {
    expect(metricsIn(/^Provider errors by outcome/, () => chainWidgets)).toEqual(
      PROVIDER_IDS.flatMap((provider) =>
        ERROR_OUTCOMES.map((outcome) =>
          expect.objectContaining({
            namespace: METRIC_NAMESPACE,
            name: PROVIDER_METRICS.errors,
            dims: { ...service, provider, outcome },
            stat: 'Sum',
          }),
        ),
      ),
    );
  });

  it.each([
    [/^Queue depth/, 'ApproximateNumberOfMessagesVisible'],
    [/^Age of oldest message/, 'ApproximateAgeOfOldestMessage'],
  ])(
    'charts %s of each queue and its DLQ: the send queue of each priority, SES events, webhook events and retries',
    (title, name) => {
      const { sendQueue, sesEventsQueue, priorityQueues, queues: all } = s.stack;
      const queues = [
        sendQueue.queue,
        sendQueue.deadLetterQueue,
        priorityQueues.critical.queue,
        priorityQueues.critical.deadLetterQueue,
        priorityQueues.bulk.queue,
        priorityQueues.bulk.deadLetterQueue,
        sesEventsQueue.queue,
        sesEventsQueue.deadLetterQueue,
        all.webhookEvents.queue,
        all.webhookEvents.deadLetterQueue,
        all.webhookRetries.queue,
        all.webhookRetries.deadLetterQueue,
        all.audienceJobs.queue,
        all.audienceJobs.deadLetterQueue,
      ];
      expect(metricsIn(title)).toEqual(
        queues.map((queue) =>
          expect.objectContaining({
            namespace: 'AWS/SQS',
            name,
            dims: { QueueName: queueName(queue) },
            stat: 'Maximum',
          }),
        ),
      );
    },
  );

  it.each([
    [/^Send queues by priority: depth/, 'ApproximateNumberOfMessagesVisible'],
    [/^Send queues by priority: age of oldest message/, 'ApproximateAgeOfOldestMessage'],
  ])('charts %s of each priority queue, critical first, labelled by priority', (title, name) => {
    const { priorityQueues } = s.stack;
    const widget = widgetTitled(widgets, title);
    expect(charted(widget).metrics).toEqual(
      (['critical', 'transactional', 'bulk'] as const).map((priority) =>
        expect.objectContaining({
          namespace: 'AWS/SQS',
          name,
          dims: { QueueName: queueName(priorityQueues[priority].queue) },
          stat: 'Maximum',
        }),
      ),
    );
    expect(JSON.stringify(widget)).toMatch(/"label":"critical".*"label":"transactional".*"label":"bulk"/);
  });

  it.each([
    [/^Function errors/, 'Errors', 'Sum'],
    [/^Function throttles/, 'Throttles', 'Sum'],
    [/^Function duration p99/, 'Duration', 'p99'],
  ])('charts %s of every function', (title, name, stat) => {
    const { ingest, dispatch, sesEvents, tracking, console } = s.stack;
    const { webhooks, webhookApi, audience } = s.stack.functions;
    expect(metricsIn(title)).toEqual(
      [ingest, dispatch, sesEvents, tracking, webhooks, webhookApi, console, audience].map((construct) =>
        expect.objectContaining({
          namespace: 'AWS/Lambda',
          name,
          dims: { FunctionName: refTo(construct.handler.function) },
          stat,
        }),
      ),
    );
  });

  it('charts API 4xx and 5xx, and p95 latency', () => {
    const dims = { ApiId: refTo(s.stack.api.httpApi) };
    expect(metricsIn(/^API errors/)).toEqual([
      expect.objectContaining({ namespace: 'AWS/ApiGateway', name: '4xx', dims, stat: 'Sum' }),
      expect.objectContaining({ namespace: 'AWS/ApiGateway', name: '5xx', dims, stat: 'Sum' }),
    ]);
    expect(metricsIn(/^API latency/)).toEqual([
      expect.objectContaining({ namespace: 'AWS/ApiGateway', name: 'Latency', dims, stat: 'p95' }),
    ]);
  });

  it('charts accept-to-send latency p50 and p99', () => {
    expect(metricsIn(/^Accept-to-send latency/)).toEqual([
      expect.objectContaining(app(METRICS.acceptToSendMs, 'p50')),
      expect.objectContaining(app(METRICS.acceptToSendMs, 'p99')),
    ]);
  });

  it('charts opens and clicks, human and machine', () => {
    expect(metricsIn(/^Opens and clicks/)).toEqual(
      [METRICS.opens, METRICS.machineOpens, METRICS.clicks, METRICS.machineClicks].map((name) =>
        expect.objectContaining(app(name)),
      ),
    );
  });

  it('charts ambiguous sends and capacity waits', () => {
    expect(metricsIn(/^Dispatch trouble/)).toEqual(
      expect.arrayContaining([METRICS.ambiguous, METRICS.waited].map((name) => expect.objectContaining(app(name)))),
    );
  });
});

describe('metric names and dimensions cannot drift', () => {
  /**
   * What the handlers really print: every handler driven through its representative paths with
   * fakes, its EMF lines read back (test/support/emitted-metrics.ts). Nothing is added by hand, so
   * a metric no handler emits any more is missing here.
   */
  let printed: EmittedMetric[];
  /** Each mailroute metric name → the dimension sets (names sorted, joined) it is emitted with. */
  let emitted: Map<string, Set<string>>;

  beforeAll(async () => {
    printed = await emittedMetrics();
    emitted = new Map();
    for (const m of printed) {
      if (m.namespace !== METRIC_NAMESPACE) continue;
      emitted.set(m.name, (emitted.get(m.name) ?? new Set()).add(m.dimensions.join(',')));
    }
  });

  /** Every mailroute metric the dashboard charts and the alarms evaluate, of both stacks. */
  const used = (): MetricRef[] =>
    [s, custom].flatMap((synth) => [
      ...dashboardOf(synth).flatMap((widget) => charted(widget).metrics),
      ...Object.values(alarmsOf(synth)).flatMap((alarm) => alarmQueries(alarm).metrics),
    ]);
  const ours = () => used().filter((m) => m.namespace === METRIC_NAMESPACE);
  const dimensionSet = (dims: Record<string, string>) => Object.keys(dims).sort().join(',');

  it("the handlers emit every name in METRICS and PROVIDER_METRICS, in the functions' namespace and service", () => {
    expect(printed.length).toBeGreaterThan(0);
    expect([...new Set(printed.map((m) => m.namespace))]).toEqual([METRIC_NAMESPACE]);
    expect([...emitted.keys()].sort()).toEqual(
      [...Object.values(METRICS), ...Object.values(PROVIDER_METRICS), ...Object.values(STREAM_METRICS)].sort(),
    );
    for (const m of printed) expect(m.values.service, m.name).toBe('mailroute');
    // Each name with one dimension set: the one the dashboard and the alarms must ask for.
    for (const [name, sets] of emitted) expect(sets.size, name).toBe(1);
    // Errors by every outcome the dashboard charts, and no other.
    const outcomes = printed.filter((m) => m.name === PROVIDER_METRICS.errors).map((m) => m.values.outcome);
    expect([...new Set(outcomes)].sort()).toEqual([...ERROR_OUTCOMES].sort());
  });

  it('every mailroute metric charted or alarmed on is named in METRICS, PROVIDER_METRICS or STREAM_METRICS', () => {
    const known = new Set<string>([
      ...Object.values(METRICS),
      ...Object.values(PROVIDER_METRICS),
      ...Object.values(STREAM_METRICS),
    ]);
    expect(ours().length).toBeGreaterThan(0);
    expect(ours().filter((m) => !known.has(m.name))).toEqual([]);
    // Only mailroute's namespace and the AWS services' own.
    expect([...new Set(used().map((m) => m.namespace))].sort()).toEqual(
      ['AWS/ApiGateway', 'AWS/Lambda', 'AWS/SQS', METRIC_NAMESPACE].sort(),
    );
  });

  it('every mailroute metric charted or alarmed on is emitted by a handler, with exactly that dimension set', () => {
    const providers = new Set<string>(PROVIDER_IDS);
    for (const m of ours()) {
      expect(emitted.get(m.name), `${m.name} is emitted by no handler`).toBeDefined();
      expect([...(emitted.get(m.name) ?? [])], m.name).toEqual([dimensionSet(m.dims)]);
      expect(m.dims.service, m.name).toBe('mailroute');
      if (m.dims.provider !== undefined) expect(providers, m.name).toContain(m.dims.provider);
      if (m.dims.outcome !== undefined) expect(ERROR_OUTCOMES, m.name).toContain(m.dims.outcome);
      if (m.dims.priority !== undefined) expect(PRIORITIES, m.name).toContain(m.dims.priority);
    }
  });

  it('every metric a handler emits is charted, with the dimension set it is emitted with', () => {
    const chartedSets = new Set(
      dashboardOf(s)
        .flatMap((widget) => charted(widget).metrics)
        .filter((m) => m.namespace === METRIC_NAMESPACE)
        .map((m) => `${m.name} [${dimensionSet(m.dims)}]`),
    );
    const chartedNames = new Set([...chartedSets].map((k) => k.split(' ')[0]));
    for (const name of [
      ...Object.values(PROVIDER_METRICS),
      ...Object.values(METRICS),
      ...Object.values(STREAM_METRICS),
    ]) {
      expect(chartedNames, name).toContain(name);
      for (const dims of emitted.get(name) ?? []) expect(chartedSets, name).toContain(`${name} [${dims}]`);
    }
    for (const m of printed) expect(chartedSets, m.scenario).toContain(`${m.name} [${m.dimensions.join(',')}]`);
  });
});

describe('logs', () => {
  it('every log group of the stack (each function, the API access log) keeps events for a limited time', () => {
    const groups = resourcesOfType(s.template, 'AWS::Logs::LogGroup');
    const functions = Object.values(resourcesOfType(s.template, 'AWS::Lambda::Function'));
    const functionGroups = functions.map((fn) =>
      render((fn.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup),
    );
    expect(functionGroups).toHaveLength(FUNCTIONS.length);
    for (const group of functionGroups) expect(Object.keys(groups).map((id) => `\${${id}}`)).toContain(group);
    for (const [id, group] of Object.entries(groups)) expect(group.Properties?.RetentionInDays, id).toBe(30);
  });
});

describe('Monitoring construct checks', () => {
  const build = (alarms: Record<string, unknown>) => () =>
    new MailrouteStack(testApp({ 'aws:cdk:bundling-stacks': [] }), 'Mailroute', {
      senderIdentities: ['example.com'],
      alarms,
    });

  it.each([
    [{ bounceRatePercent: 0 }, /alarms\.bounceRatePercent is 0; expected a number above 0 and at most 100/],
    [{ complaintRatePercent: 101 }, /alarms\.complaintRatePercent is 101; expected a number above 0 and at most 100/],
    [{ minimumHourlySends: 2.5 }, /alarms\.minimumHourlySends is 2\.5; expected a whole number from 1 to 1000000/],
    [{ oldestMessageSeconds: 30 }, /alarms\.oldestMessageSeconds is 30; expected a whole number from 60/],
    [{ email: 'oncall' }, /alarms\.email "oncall" is not an email address/],
  ])('rejects %j at synth, saying what is expected', (alarms, message) => {
    expect(build(alarms)).toThrow(message);
  });

  it('takes the default of a threshold left out', () => {
    const stack = build({ lambdaErrors: 2 })();
    expect(stack.monitoring.settings).toEqual({ ...ALARM_DEFAULTS, lambdaErrors: 2 });
  });
});
