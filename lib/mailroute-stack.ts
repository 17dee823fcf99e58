import { CfnOutput, Duration, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import { DEFAULTS } from '../functions/core/defaults';
import type { Priority } from '../functions/core/priority';
import type { ProvidersConfig } from '../functions/core/providers';
import type { ApiFunction } from './api-routes';
import { MailrouteApi } from './constructs/api';
import { Console } from './constructs/console';
import { ContentBucket } from './constructs/content-bucket';
import { Dispatch } from './constructs/dispatch';
import { Ingest } from './constructs/ingest';
import type { MailrouteFunction } from './constructs/mailroute-function';
import { Monitoring } from './constructs/monitoring';
import { checkedProviders, defaultProviders, providersJson } from './constructs/providers';
import { Scheduling } from './constructs/scheduling';
import { SesEvents } from './constructs/ses-events';
import { SesEventsTopic } from './constructs/ses-events-topic';
import { SigningKeys } from './constructs/signing-keys';
import { SpecFunction } from './constructs/spec-function';
import { MailrouteTables } from './constructs/tables';
import { Tracking } from './constructs/tracking';
import { TrackingDomain } from './constructs/tracking-domain';
import { WorkQueue } from './constructs/work-queue';
import type { AlarmSettings, MailrouteContext, SoftBounceSettings, TrackingDomainSettings } from './context';
import { BUCKETS, PRIORITY_QUEUES, QUEUES, SES_EVENTS_TOPIC } from './resources';
import {
  API_FUNCTIONS,
  consumerTimeoutSeconds,
  type DeploymentParams,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  type GuardParams,
  paramsFor,
  type QueueName,
  visibilityTimeoutSeconds,
  type WebhookParams,
} from './spec';

/** The functions that have a construct of their own (checks and grants the spec cannot express). */
const OWN_CONSTRUCT = new Set<FunctionName>(['ingest', 'dispatch', 'sesEvents', 'tracking', 'console']);

/** `sesEvents` → `SesEvents`: the construct id of a spec function built without a construct of its own. */
const constructIdOf = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

/** The same keys, each value mapped. */
function mapValues<K extends string, V, W>(record: { readonly [P in K]: V }, f: (value: V) => W): { [P in K]: W } {
  return Object.fromEntries(Object.entries<V>(record).map(([key, value]) => [key, f(value)])) as { [P in K]: W };
}

export interface MailrouteStackProps extends StackProps {
  /** SES identities (domains or email addresses) the stack may send from. At least one. */
  readonly senderIdentities: readonly string[];
  /**
   * Days a message record is kept before DynamoDB TTL removes it.
   * @default 30
   */
  readonly retentionDays?: number;
  /**
   * Most concurrent dispatch invocations the event source of the transactional queue, and that of the
   * critical queue, each start (2..1000).
   * @default 10
   */
  readonly dispatchMaxConcurrency?: number;
  /**
   * Most concurrent dispatch invocations the bulk queue's event source starts (2..1000).
   * @default 2
   */
  readonly bulkMaxConcurrency?: number;
  /**
   * Soft bounces of one address, within a window of hours, that suppress it.
   * @default SOFT_BOUNCE_DEFAULTS (3 within 72 hours)
   */
  readonly softBounce?: SoftBounceSettings;
  /**
   * Percent (0-90) of each provider rate window held back from bulk mail while critical or
   * transactional mail was sent within the window (functions/core/shares.ts).
   * @default 30
   */
  readonly bulkReservePercent?: number;
  /**
   * The reputation guard: the window and minimum volume of the per-priority bounce and complaint
   * rates, their warn and pause thresholds, and how long a paused stream's mail waits between looks.
   * @default DEFAULTS.guard (24 hours, 500 sends, bounces 4 % / 8 %, complaints 0.08 % / 0.3 %, 300 s)
   */
  readonly guard?: GuardParams;
  /**
   * When a failing webhook endpoint is disabled (attempts failed in a row, over at least some hours).
   * @default WEBHOOK_DEFAULTS (20 attempts, 24 hours)
   */
  readonly webhooks?: Pick<WebhookParams, 'failureLimit' | 'failingHours'>;
  /**
   * Base URL of the links written into emails (https, no trailing slash), for a custom domain in front
   * of the HTTP API that this stack does not manage. Cannot be combined with `trackingDomain`.
   * @default - `https://<trackingDomain.name>` if `trackingDomain` is set, else the HTTP API's endpoint
   */
  readonly publicBaseUrl?: string;
  /**
   * Whether HTML mail gets an open pixel when a request does not say.
   * @default true
   */
  readonly trackOpens?: boolean;
  /**
   * Whether the links of HTML mail are rewritten to count clicks when a request does not say.
   * @default true
   */
  readonly trackClicks?: boolean;
  /**
   * A custom domain (with an ACM certificate in the stack's region) the stack maps to the HTTP API for
   * the links written into emails; links then use `https://<name>`. No DNS record is created: point the
   * name at the `TrackingDomainTarget` output. Cannot be combined with `publicBaseUrl`.
   * @default - no custom domain
   */
  readonly trackingDomain?: TrackingDomainSettings;
  /**
   * The email providers the dispatcher may send through and the order it tries them in (the live
   * settings, changed with PUT /v1/settings/providers, may reorder, disable and limit them). Secrets
   * only by Secrets Manager name or ARN; the dispatcher may read exactly those secrets.
   * @default - SES alone: `{ providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] }`
   */
  readonly providers?: ProvidersConfig;
  /**
   * Alarm thresholds, and an email address the alarm topic notifies; a threshold left out takes its
   * default.
   * @default ALARM_DEFAULTS (bounce rate 5%, complaint rate 0.1%, over an hour with at least 100 sends;
   * oldest queued email 300 s; 5 errors of a function or 5 API 5xx in 5 minutes), no email subscription
   */
  readonly alarms?: Partial<AlarmSettings>;
}

/** The stack's props from the validated cdk.json context: one mapping, used by the app and the tests. */
export function stackPropsFromContext(context: MailrouteContext): MailrouteStackProps {
  return {
    senderIdentities: context.senderIdentities,
    retentionDays: context.retentionDays,
    dispatchMaxConcurrency: context.dispatch.maxConcurrency,
    bulkMaxConcurrency: context.dispatch.bulkMaxConcurrency,
    softBounce: context.softBounce,
    bulkReservePercent: context.capacity.bulkReservePercent,
    guard: context.guard,
    webhooks: context.webhooks,
    ...(context.publicBaseUrl ? { publicBaseUrl: context.publicBaseUrl } : {}),
    trackOpens: context.tracking.opens,
    trackClicks: context.tracking.clicks,
    ...(context.tracking.domain ? { trackingDomain: context.tracking.domain } : {}),
    providers: { providers: context.providers, chain: context.chain },
    alarms: context.alarms,
  };
}

/**
 * mailroute, built from its spec (lib/spec.ts): one `WorkQueue` per queue, the tables, one function per
 * spec function (with its grants, environment and event sources), one route per route, and alarms per
 * queue and function. An HTTP API (ingest) that records emails and queues them, and a queue consumer (dispatch)
 * that sends them through a chain of providers (SES by default; also Azure Communication Services and
 * HTTP APIs). SES reports what became of each email through an SNS topic and a queue to the ses-events
 * function, which suppresses addresses that bounce or complain; recipients unsubscribe, and opens and
 * clicks are counted, through signed public links (tracking), optionally on a custom domain. State lives in DynamoDB; messages that fail repeatedly end in dead-letter queues.
 */
export class MailrouteStack extends Stack {
  public readonly tables: MailrouteTables['tables'];
  /** Every queue of the spec, with its DLQ, by name. */
  public readonly queues: { readonly [K in QueueName]: WorkQueue };
  /** Every function of the spec, by name. */
  public readonly functions: { readonly [K in FunctionName]: { readonly handler: MailrouteFunction } };
  /** The transactional send queue (construct id `SendQueue`, the queue of every email before priorities). */
  public readonly sendQueue: WorkQueue;
  /** The send queue of each priority. */
  public readonly priorityQueues: { readonly [P in Priority]: WorkQueue };
  public readonly configurationSet: ConfigurationSet;
  public readonly sesEventsQueue: WorkQueue;
  public readonly sesEventsTopic: SesEventsTopic;
  public readonly signingKeys: SigningKeys;
  /** The content store (claim-check): attachments, uploads, large and scheduled bodies. */
  public readonly content: ContentBucket;
  public readonly ingest: Ingest;
  public readonly tracking: Tracking;
  /** The operator console's function (its page, and the admin queue routes). */
  public readonly console: Console;
  public readonly api: MailrouteApi;
  /** The custom domain of the links in emails, if `trackingDomain` is set. */
  public readonly trackingDomain?: TrackingDomain;
  public readonly dispatch: Dispatch;
  public readonly sesEvents: SesEvents;
  /** The alarms, their SNS topic and the dashboard. */
  public readonly monitoring: Monitoring;
  /** Scheduled sends: schedule group, the scheduler's role and dead-letter queue. */
  public readonly scheduling: Scheduling;

  constructor(scope: Construct, id: string, props: MailrouteStackProps) {
    super(scope, id, props);
    if (props.publicBaseUrl !== undefined && props.trackingDomain !== undefined) {
      throw new Error(
        `MailrouteStack "${this.node.path}": publicBaseUrl and trackingDomain are both set; set only one. ` +
          `trackingDomain implies a publicBaseUrl of "https://${props.trackingDomain.name}".`,
      );
    }
    this.tables = new MailrouteTables(this, 'Tables').tables;
    const queues: Partial<Record<QueueName, WorkQueue>> = {};
    for (const name of Object.keys(QUEUES) as QueueName[]) {
      const spec = QUEUES[name];
      queues[name] = new WorkQueue(this, spec.id, {
        spec,
        consumerTimeout: Duration.seconds(consumerTimeoutSeconds(name) ?? 0),
        visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(name)),
      });
    }
    this.queues = queues as Record<QueueName, WorkQueue>;
    this.sendQueue = this.queues.send;
    this.priorityQueues = mapValues(PRIORITY_QUEUES, (name) => this.queues[name]);
    this.sesEventsQueue = this.queues.sesEvents;
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet');
    this.sesEventsTopic = new SesEventsTopic(this, SES_EVENTS_TOPIC.id, {
      configurationSet: this.configurationSet,
      queue: this.queues[SES_EVENTS_TOPIC.queue].queue,
    });
    this.signingKeys = new SigningKeys(this, 'SigningKeys');
    this.content = new ContentBucket(this, BUCKETS.content.id, { spec: BUCKETS.content });
    const resources = {
      tables: this.tables,
      queues: mapValues(this.queues, (q) => q.queue),
      secrets: { signingKeys: this.signingKeys.secret },
      buckets: { content: this.content.bucket },
    };

    this.ingest = new Ingest(this, 'Ingest', {
      tables: this.tables,
      sendQueue: this.sendQueue.queue,
      criticalQueue: this.priorityQueues.critical.queue,
      bulkQueue: this.priorityQueues.bulk.queue,
      audienceJobs: this.queues.audienceJobs.queue,
      contentBucket: this.content.bucket,
      retentionDays: props.retentionDays ?? DEFAULTS.retentionDays,
      ...(props.providers ? { providers: props.providers } : {}),
      ...(props.guard ? { guard: props.guard } : {}),
      webhookEvents: this.queues.webhookEvents.queue,
    });

    this.tracking = new Tracking(this, 'Tracking', {
      tables: this.tables,
      signingKeys: this.signingKeys.secret,
      webhookEvents: this.queues.webhookEvents.queue,
    });

    this.console = new Console(this, 'Console', {
      tables: this.tables,
      queues: mapValues(this.queues, (q) => q.queue),
      deadLetterQueues: mapValues(this.queues, (q) => q.deadLetterQueue),
    });

    // apiEndpoint has no trailing slash, as the functions expect of a base URL.
    const publicBaseUrl = (): string =>
      props.publicBaseUrl ?? this.trackingDomain?.baseUrl ?? this.api.httpApi.apiEndpoint;
    const providers = checkedProviders(this, props.providers ?? defaultProviders());
    const deployment: DeploymentParams = {
      retentionDays: props.retentionDays ?? DEFAULTS.retentionDays,
      providersJson: providersJson(this, providers),
      sesConfigurationSet: this.configurationSet.configurationSetName,
      // Resolved at synth: the API (behind which functions serve routes) does not exist yet.
      publicBaseUrl: Lazy.string({ produce: publicBaseUrl }),
      trackOpens: props.trackOpens ?? DEFAULTS.tracking.opens,
      trackClicks: props.trackClicks ?? DEFAULTS.tracking.clicks,
      softBounce: props.softBounce ?? DEFAULTS.softBounce,
      bulkReservePercent: props.bulkReservePercent ?? DEFAULTS.capacity.bulkReservePercent,
      guard: props.guard ?? DEFAULTS.guard,
      ...(props.webhooks ? { webhooks: props.webhooks } : {}),
    };
    // A function with nothing but its spec entry (a new queue's consumer, say) needs no code here.
    const specFunctions: Partial<Record<FunctionName, SpecFunction>> = {};
    for (const name of FUNCTION_NAMES) {
      if (OWN_CONSTRUCT.has(name)) continue;
      specFunctions[name] = new SpecFunction(this, constructIdOf(name), {
        name,
        resources,
        params: paramsFor(name, deployment),
        providers,
      });
    }

    // The functions that serve routes exist now (ingest, tracking, and any spec function).
    const built: Partial<Record<FunctionName, { readonly handler: MailrouteFunction }>> = {
      ...specFunctions,
      ingest: this.ingest,
      tracking: this.tracking,
      console: this.console,
    };
    const handlerOf = (name: ApiFunction): IFunction => {
      const construct = built[name];
      if (!construct) throw new Error(`MailrouteStack "${this.node.path}": no function "${name}" serves its routes`);
      return construct.handler.function;
    };
    this.api = new MailrouteApi(this, 'Api', {
      handlers: Object.fromEntries(API_FUNCTIONS.map((name) => [name, handlerOf(name)])) as Record<
        ApiFunction,
        IFunction
      >,
    });

    if (props.trackingDomain) {
      this.trackingDomain = new TrackingDomain(this, 'TrackingDomain', {
        domainName: props.trackingDomain.name,
        certificate: Certificate.fromCertificateArn(this, 'TrackingCertificate', props.trackingDomain.certificateArn),
        httpApi: this.api.httpApi,
        stage: this.api.stage,
      });
    }

    this.dispatch = new Dispatch(this, 'Dispatch', {
      tables: this.tables,
      sendQueue: this.sendQueue.queue,
      sendDeadLetterQueue: this.sendQueue.deadLetterQueue,
      sendQueueSpec: this.sendQueue.spec,
      criticalQueue: this.priorityQueues.critical,
      bulkQueue: this.priorityQueues.bulk,
      contentBucket: this.content.bucket,
      configurationSet: this.configurationSet,
      senderIdentities: props.senderIdentities,
      // The spec's event source says 10 when the props do not.
      ...(props.dispatchMaxConcurrency === undefined ? {} : { maxConcurrency: props.dispatchMaxConcurrency }),
      ...(props.bulkMaxConcurrency === undefined ? {} : { bulkMaxConcurrency: props.bulkMaxConcurrency }),
      timeout: Duration.seconds(FUNCTIONS.dispatch.timeoutSeconds),
      signingKeys: this.signingKeys.secret,
      publicBaseUrl: publicBaseUrl(),
      trackOpens: props.trackOpens ?? DEFAULTS.tracking.opens,
      trackClicks: props.trackClicks ?? DEFAULTS.tracking.clicks,
      ...(props.bulkReservePercent === undefined ? {} : { bulkReservePercent: props.bulkReservePercent }),
      ...(props.providers ? { providers: props.providers } : {}),
      ...(props.guard ? { guard: props.guard } : {}),
      webhookEvents: this.queues.webhookEvents.queue,
    });

    this.sesEvents = new SesEvents(this, 'SesEvents', {
      tables: this.tables,
      queue: this.sesEventsQueue.queue,
      webhookEvents: this.queues.webhookEvents.queue,
      softBounce: props.softBounce,
      ...(props.guard ? { guard: props.guard } : {}),
      timeout: Duration.seconds(FUNCTIONS.sesEvents.timeoutSeconds),
    });
    this.functions = { ...built, dispatch: this.dispatch, sesEvents: this.sesEvents } as Record<
      FunctionName,
      { readonly handler: MailrouteFunction }
    >;

    // Scheduled sends: the schedule group, the scheduler's role and DLQ; the API creates the schedules.
    this.scheduling = new Scheduling(this, 'Scheduling', {
      sendQueues: mapValues(this.priorityQueues, (q) => q.queue),
      jobsQueue: this.queues.audienceJobs.queue,
    });
    this.scheduling.grantSchedules(this.ingest.handler);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      otherAlarms: [this.scheduling.deadLetterAlarm],
      // Every provider defined, in the chain or not: live settings may move any of them into the chain.
      providerIds: providers.providers.map((def) => def.id),
      queues: this.queues,
      functions: mapValues(this.functions, (fn) => fn.handler.function),
      httpApi: this.api.httpApi,
      ...(props.alarms ? { alarms: props.alarms } : {}),
    });

    this.scheduling.notify(this.monitoring.alarmTopic);

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the mailroute HTTP API',
      value: this.api.url,
    });
    new CfnOutput(this, 'SettingsTableName', {
      description: 'DynamoDB table holding API keys and settings (npm run key:create writes to it)',
      value: this.tables.settings.tableName,
    });
    new CfnOutput(this, 'MessagesTableName', {
      description: 'DynamoDB table holding one item per message (status and event timeline)',
      value: this.tables.messages.tableName,
    });
    new CfnOutput(this, 'SendQueueUrl', {
      description: 'SQS queue of accepted messages waiting to be dispatched',
      value: this.sendQueue.queue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'SQS dead-letter queue of messages that failed dispatch repeatedly (inspect, then redrive)',
      value: this.sendQueue.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'CriticalSendQueueUrl', {
      description: 'SQS queue of accepted critical messages waiting to be dispatched',
      value: this.priorityQueues.critical.queue.queueUrl,
    });
    new CfnOutput(this, 'CriticalDeadLetterQueueUrl', {
      description: 'SQS dead-letter queue of critical messages that failed dispatch repeatedly (inspect, then redrive)',
      value: this.priorityQueues.critical.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'BulkSendQueueUrl', {
      description: 'SQS queue of accepted bulk messages waiting to be dispatched',
      value: this.priorityQueues.bulk.queue.queueUrl,
    });
    new CfnOutput(this, 'BulkDeadLetterQueueUrl', {
      description: 'SQS dead-letter queue of bulk messages that failed dispatch repeatedly (inspect, then redrive)',
      value: this.priorityQueues.bulk.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'ConfigurationSetName', {
      description: 'SES configuration set every email is sent with',
      value: this.configurationSet.configurationSetName,
    });
    new CfnOutput(this, 'SesEventsTopicArn', {
      description: 'SNS topic the SES configuration set publishes delivery, bounce and complaint events to',
      value: this.sesEventsTopic.topic.topicArn,
    });
    new CfnOutput(this, 'SesEventsQueueUrl', {
      description: 'SQS queue of SES events waiting for the ses-events function',
      value: this.sesEventsQueue.queue.queueUrl,
    });
    new CfnOutput(this, 'SesEventsDeadLetterQueueUrl', {
      description: 'SQS dead-letter queue of SES events that failed processing repeatedly (inspect, then redrive)',
      value: this.sesEventsQueue.deadLetterQueue.queueUrl,
    });
    if (this.trackingDomain) {
      new CfnOutput(this, 'TrackingDomainTarget', {
        description:
          `Point the DNS name ${this.trackingDomain.name} here (a CNAME, or a Route 53 alias record): ` +
          'the regional API Gateway host serving the tracking and unsubscribe links in emails',
        value: this.trackingDomain.domainName.regionalDomainName,
      });
    }
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The CloudWatch dashboard: alarm states, volume by outcome, providers, queues, functions, API',
      value: this.monitoring.dashboardUrl,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm notifies (subscribe to it, or set alarms.email in cdk.json)',
      value: this.monitoring.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'ContentBucketName', {
      description:
        'S3 bucket of the content store: attachments, uploaded files, large and scheduled bodies (expiring per prefix)',
      value: this.content.bucket.bucketName,
    });
    new CfnOutput(this, 'SigningKeysSecretArn', {
      description:
        'Secrets Manager secret with the keys that sign the links in emails: unsubscribe, open, click (retained on stack deletion)',
      value: this.signingKeys.secret.secretArn,
    });
  }
}
