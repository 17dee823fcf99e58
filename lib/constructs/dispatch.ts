import { Duration, Stack, Token } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../functions/core/defaults';
import type { ProvidersConfig } from '../../functions/core/providers';
import { EVENT_SOURCE_CONCURRENCY as CONCURRENCY, publicBaseUrlProblem } from '../context';
import { DISPATCH_TIMEOUT_SECONDS, QUEUES, type QueueSpec, type SendQueueName } from '../resources';
import { FUNCTIONS, type GuardParams, SEND_CONCURRENCY } from '../spec';
import type { MailrouteFunction } from './mailroute-function';
import {
  checkedProviders,
  defaultProviders,
  providerConfigurationSets,
  providerSecrets,
  providersJson,
  secretResourceArn,
} from './providers';
import { addSpecEventSources, buildSpecFunction } from './spec-function';

/** A send queue of one priority and its dead-letter queue (a `WorkQueue` is one). */
export interface PriorityQueue {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

export interface DispatchProps {
  /**
   * The webhook events queue the function publishes its state changes to.
   * @default - none: the function publishes no webhook events
   */
  readonly webhookEvents?: IQueue;
  readonly tables: {
    readonly messages: ITableV2;
    readonly suppression: ITableV2;
    /** Live provider settings and provider health (circuits). */
    readonly settings: ITableV2;
    /** Rate-window counters of the providers. */
    readonly rateWindows: ITableV2;
    /** The reputation guard: the streams' states and the send counters. */
    readonly reputation: ITableV2;
  };
  /**
   * The providers the function may send through and the order it tries them in (secrets by name).
   * @default - SES alone
   */
  readonly providers?: ProvidersConfig;
  /**
   * The transactional send queue the function consumes (and puts messages waiting for provider
   * capacity back on). Each priority's queue has its own event source into the function.
   */
  readonly sendQueue: IQueue;
  /**
   * The reputation guard's window, minimum volume, thresholds and held-mail wait.
   * @default DEFAULTS.guard
   */
  readonly guard?: GuardParams;
  /**
   * The send queue's dead-letter queue: the function moves a message there itself when it ends its
   * record `failed` (sends a copy, then acknowledges the original), so it is there at once.
   */
  readonly sendDeadLetterQueue: IQueue;
  /**
   * Settings of the send queue; its `maxReceiveCount` tells the function which receive is the last.
   * @default QUEUES.send
   */
  readonly sendQueueSpec?: QueueSpec;
  /** The critical send queue and its dead-letter queue (consumed as the transactional one is). */
  readonly criticalQueue: PriorityQueue;
  /** The bulk send queue and its dead-letter queue, consumed at `bulkMaxConcurrency`. */
  readonly bulkQueue: PriorityQueue;
  /** The content store's bucket: the parts of the emails it sends. */
  readonly contentBucket: IBucket;
  /** The SES configuration set every email is sent with. */
  readonly configurationSet: IConfigurationSet;
  /** SES identities (domains or email addresses) the function may send from. */
  readonly senderIdentities: readonly string[];
  /** The keys that sign the links written into emails (see `SigningKeys`). */
  readonly signingKeys: ISecret;
  /**
   * Base URL of the links written into emails (https, no trailing slash): the HTTP API's endpoint, or a
   * custom domain in front of it.
   */
  readonly publicBaseUrl: string;
  /**
   * Whether HTML mail gets an open pixel when a request does not say.
   * @default DEFAULTS.tracking.opens (true)
   */
  readonly trackOpens?: boolean;
  /**
   * Whether the links of HTML mail are rewritten to count clicks when a request does not say.
   * @default DEFAULTS.tracking.clicks (true)
   */
  readonly trackClicks?: boolean;
  /**
   * Percent (0-90, whole) of each provider rate window held back from bulk mail while critical or
   * transactional mail was sent within the window (functions/core/shares.ts).
   * @default DEFAULTS.capacity.bulkReservePercent (30)
   */
  readonly bulkReservePercent?: number;
  /**
   * Most concurrent invocations the event source of the transactional queue, and that of the critical
   * queue, each start (2..1000).
   * @default - the spec's (`EVENT_SOURCES`, send queue): DEFAULTS.dispatch.maxConcurrency (10)
   */
  readonly maxConcurrency?: number;
  /**
   * Most concurrent invocations the bulk queue's event source starts (2..1000): a campaign drains at
   * this pace whatever the other queues hold.
   * @default - the spec's (`EVENT_SOURCES`, bulk queue): DEFAULTS.dispatch.bulkMaxConcurrency (2)
   */
  readonly bulkMaxConcurrency?: number;
  /**
   * Messages per invocation.
   * @default - the spec's (`EVENT_SOURCES`, send queue): DISPATCH_BATCH_SIZE
   */
  readonly batchSize?: number;
  /**
   * The function's timeout; the send queue's visibility timeout must be at least six times this.
   * @default Duration.seconds(DISPATCH_TIMEOUT_SECONDS)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default FUNCTIONS.dispatch.memorySize (512)
   */
  readonly memorySize?: number;
}

/**
 * The send-queue consumer: checks suppression, sends through the provider chain (SES, and the Azure
 * and HTTP providers configured) and records the result. It reports partial batch failures, may send
 * through SES only from the configured identities with the configured configuration sets, reads (never
 * writes) the suppression table, reads the signing keys to sign the links it writes into emails
 * (unsubscribe, and open and click tracking unless turned off), and reads the secrets the provider
 * definitions name. Of the settings and rate-windows tables it reaches only its providers' items.
 * Its tables, queue, secret, environment and event source are `FUNCTIONS.dispatch` and the send
 * queue's entry of `EVENT_SOURCES` (lib/spec.ts); this construct adds what the spec cannot say: the
 * checks of its settings, the provider secrets and the SES policy.
 */
export class Dispatch extends Construct {
  public readonly handler: MailrouteFunction;
  /** The transactional queue's event source. */
  public readonly eventSource: SqsEventSource;
  /** Each send queue's event source, by its spec name. */
  public readonly eventSources: { readonly [K in SendQueueName]: SqsEventSource };

  constructor(scope: Construct, id: string, props: DispatchProps) {
    super(scope, id);
    if (props.senderIdentities.length === 0) {
      throw new Error(
        `Dispatch "${this.node.path}": senderIdentities is empty, so no email could be sent. ` +
          'List the SES identities (domains or email addresses) to send from, e.g. ["example.com"].',
      );
    }
    const urlProblem = Token.isUnresolved(props.publicBaseUrl) ? undefined : publicBaseUrlProblem(props.publicBaseUrl);
    if (urlProblem) {
      throw new Error(
        `Dispatch "${this.node.path}": publicBaseUrl ${JSON.stringify(props.publicBaseUrl)}: ${urlProblem}.`,
      );
    }
    for (const [key, value] of [
      ['maxConcurrency', props.maxConcurrency],
      ['bulkMaxConcurrency', props.bulkMaxConcurrency],
    ] as const) {
      if (value !== undefined && !(Number.isInteger(value) && value >= CONCURRENCY.min && value <= CONCURRENCY.max)) {
        throw new Error(
          `Dispatch "${this.node.path}": ${key} is ${value}; an SQS event source takes a whole number of ` +
            `concurrent invocations from ${CONCURRENCY.min} to ${CONCURRENCY.max}.`,
        );
      }
    }
    const bulkReservePercent = props.bulkReservePercent ?? DEFAULTS.capacity.bulkReservePercent;
    if (!Number.isInteger(bulkReservePercent) || bulkReservePercent < 0 || bulkReservePercent > 90) {
      throw new Error(
        `Dispatch "${this.node.path}": bulkReservePercent is ${bulkReservePercent}; expected a whole number from 0 to 90.`,
      );
    }
    const spec = props.sendQueueSpec ?? QUEUES.send;
    const timeout = props.timeout ?? Duration.seconds(DISPATCH_TIMEOUT_SECONDS);
    const providers = checkedProviders(this, props.providers ?? defaultProviders());

    this.handler = buildSpecFunction(this, {
      name: 'dispatch',
      resources: {
        tables: props.tables,
        queues: {
          send: props.sendQueue,
          sendCritical: props.criticalQueue.queue,
          sendBulk: props.bulkQueue.queue,
          webhookEvents: props.webhookEvents,
        },
        deadLetterQueues: {
          send: props.sendDeadLetterQueue,
          sendCritical: props.criticalQueue.deadLetterQueue,
          sendBulk: props.bulkQueue.deadLetterQueue,
        },
        secrets: { signingKeys: props.signingKeys },
        buckets: { content: props.contentBucket },
      },
      params: {
        sesConfigurationSet: props.configurationSet.configurationSetName,
        maxReceiveCount: spec.maxReceiveCount,
        // Each queue's own: the dispatcher decides a message's last receive by the queue it came from.
        maxReceiveCounts: {
          send: spec.maxReceiveCount,
          sendCritical: QUEUES.sendCritical.maxReceiveCount,
          sendBulk: QUEUES.sendBulk.maxReceiveCount,
        },
        timeoutSeconds: timeout.toSeconds(),
        publicBaseUrl: props.publicBaseUrl,
        trackOpens: props.trackOpens ?? DEFAULTS.tracking.opens,
        trackClicks: props.trackClicks ?? DEFAULTS.tracking.clicks,
        providersJson: providersJson(this, providers),
        bulkReservePercent,
        guard: props.guard ?? DEFAULTS.guard,
      },
      providers,
      timeout,
      memorySize: props.memorySize ?? FUNCTIONS.dispatch.memorySize,
    });

    // Credentials of the Azure and HTTP providers, read by the name (or ARN) in their definitions.
    const secrets = providerSecrets(providers);
    if (secrets.length > 0) {
      this.handler.function.addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: secrets.map((secret) => secretResourceArn(this, secret)),
        }),
      );
    }

    const batch = props.batchSize === undefined ? {} : { batchSize: props.batchSize };
    const sources = addSpecEventSources(
      this,
      'dispatch',
      this.handler,
      { send: props.sendQueue, sendCritical: props.criticalQueue.queue, sendBulk: props.bulkQueue.queue },
      {
        send: { ...batch, maxConcurrency: props.maxConcurrency ?? SEND_CONCURRENCY.send },
        sendCritical: { ...batch, maxConcurrency: props.maxConcurrency ?? SEND_CONCURRENCY.sendCritical },
        sendBulk: { ...batch, maxConcurrency: props.bulkMaxConcurrency ?? SEND_CONCURRENCY.sendBulk },
      },
    );
    const { send, sendCritical, sendBulk } = sources;
    if (!send || !sendCritical || !sendBulk) {
      throw new Error(`Dispatch "${this.node.path}": the spec needs an event source on each send queue`);
    }
    this.eventSource = send;
    this.eventSources = { send, sendCritical, sendBulk };

    // SES has no L2 grant: allow sending only as the configured identities, with the stack's
    // configuration set or one an SES provider definition names.
    const stack = Stack.of(this);
    const identityArns = props.senderIdentities.map((identity) =>
      stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
    );
    const configurationSetArns = [
      props.configurationSet.configurationSetName,
      ...providerConfigurationSets(providers),
    ].map((name) => stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: name }));
    this.handler.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [...identityArns, ...configurationSetArns],
      }),
    );
  }
}
