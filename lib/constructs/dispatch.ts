import { Duration, Stack, Token } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../functions/core/defaults';
import type { ProvidersConfig } from '../../functions/core/providers';
import { publicBaseUrlProblem } from '../context';
import { DISPATCH_TIMEOUT_SECONDS, QUEUES, type QueueSpec } from '../resources';
import { FUNCTIONS, type GuardParams } from '../spec';
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

export interface DispatchProps {
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
  /** The queue the function consumes (and puts messages waiting for provider capacity back on). */
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
   * Most concurrent invocations the SQS event source starts (2..1000).
   * @default - the spec's (`EVENT_SOURCES`, send queue): DEFAULTS.dispatch.maxConcurrency (10)
   */
  readonly maxConcurrency?: number;
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
  public readonly eventSource: SqsEventSource;

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
    const spec = props.sendQueueSpec ?? QUEUES.send;
    const timeout = props.timeout ?? Duration.seconds(DISPATCH_TIMEOUT_SECONDS);
    const providers = checkedProviders(this, props.providers ?? defaultProviders());

    this.handler = buildSpecFunction(this, {
      name: 'dispatch',
      resources: {
        tables: props.tables,
        queues: { send: props.sendQueue },
        deadLetterQueues: { send: props.sendDeadLetterQueue },
        secrets: { signingKeys: props.signingKeys },
      },
      params: {
        sesConfigurationSet: props.configurationSet.configurationSetName,
        maxReceiveCount: spec.maxReceiveCount,
        timeoutSeconds: timeout.toSeconds(),
        publicBaseUrl: props.publicBaseUrl,
        trackOpens: props.trackOpens ?? DEFAULTS.tracking.opens,
        trackClicks: props.trackClicks ?? DEFAULTS.tracking.clicks,
        providersJson: providersJson(this, providers),
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

    const sources = addSpecEventSources(
      this,
      'dispatch',
      this.handler,
      { send: props.sendQueue },
      {
        send: {
          ...(props.batchSize === undefined ? {} : { batchSize: props.batchSize }),
          ...(props.maxConcurrency === undefined ? {} : { maxConcurrency: props.maxConcurrency }),
        },
      },
    );
    if (!sources.send) throw new Error(`Dispatch "${this.node.path}": the spec has no event source on the send queue`);
    this.eventSource = sources.send;

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
