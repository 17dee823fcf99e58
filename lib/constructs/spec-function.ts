import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ProvidersConfig } from '../../functions/core/providers';
import { BUCKETS, QUEUES, TABLES } from '../resources';
import {
  type BucketName,
  type EventSourceSpec,
  eventSourcesOf,
  FUNCTIONS,
  type FunctionName,
  type FunctionParams,
  type FunctionSpec,
  type QueueName,
  SECRETS,
  type SecretName,
  type TableName,
} from '../spec';
import { bindBucket } from './content-bucket';
import { itemKeys } from './item-keys';
import { bindQueue, bindSecret, bindTable, MailrouteFunction, type TableAccess } from './mailroute-function';
import { defaultProviders } from './providers';

/** The stack's resources a spec function may be given (each function takes the ones its spec names). */
export interface SpecResources {
  readonly tables: { readonly [K in TableName]?: ITableV2 };
  readonly queues: { readonly [K in QueueName]?: IQueue };
  /** Dead-letter queues, by the spec name of their queue. */
  readonly deadLetterQueues?: { readonly [K in QueueName]?: IQueue };
  readonly secrets: { readonly [K in SecretName]?: ISecret };
  /** Buckets, by spec name (lib/resources.ts `BUCKETS`). */
  readonly buckets?: { readonly [K in BucketName]?: IBucket };
}

export interface SpecFunctionOptions<N extends FunctionName> {
  /** The function's entry in `FUNCTIONS` (lib/spec.ts). */
  readonly name: N;
  readonly resources: SpecResources;
  /** What the deployment supplies to the function's environment (`FUNCTIONS[name].env`). */
  readonly params: FunctionParams<N>;
  /**
   * The provider definitions, for the item key sets of scoped table grants.
   * @default - SES alone
   */
  readonly providers?: ProvidersConfig;
  /**
   * @default Duration.seconds(FUNCTIONS[name].timeoutSeconds)
   */
  readonly timeout?: Duration;
  /**
   * MiB.
   * @default FUNCTIONS[name].memorySize
   */
  readonly memorySize?: number;
  /**
   * Values esbuild writes into the bundle (see `MailrouteFunctionProps.define`).
   * @default - none
   */
  readonly define?: Readonly<Record<string, string>>;
}

function required<T>(scope: Construct, what: string, value: T | undefined): T {
  if (value === undefined) {
    throw new Error(`${scope.node.path}: the spec grants ${what}, but it was not given to the construct`);
  }
  return value;
}

/**
 * Builds a spec function in `scope` (construct id `Handler`): a `MailrouteFunction` with the spec's
 * entry, description, memory and timeout, the variables of its parameters, and each table, queue and
 * secret grant of the spec bound (variable and least-privilege grant together).
 */
export function buildSpecFunction<N extends FunctionName>(scope: Construct, options: SpecFunctionOptions<N>) {
  const spec = FUNCTIONS[options.name] as FunctionSpec<FunctionParams<N>>;
  const handler = new MailrouteFunction(scope, 'Handler', {
    entry: options.name,
    description: spec.description,
    timeout: options.timeout ?? Duration.seconds(spec.timeoutSeconds),
    memorySize: options.memorySize ?? spec.memorySize,
    environment: spec.env(options.params),
    ...(options.define ? { define: options.define } : {}),
  });
  const providers = options.providers ?? defaultProviders();
  for (const grant of spec.tables) {
    const table = required(scope, `the ${grant.table} table`, options.resources.tables[grant.table]);
    const access: TableAccess =
      typeof grant.access === 'object'
        ? { actions: grant.access.actions, partitionKeys: itemKeys(grant.access.keys, providers) }
        : grant.access;
    bindTable(handler, TABLES[grant.table], table, access);
  }
  for (const grant of spec.queues) {
    if (grant.optional && options.resources.queues[grant.queue] === undefined) continue;
    const queue = required(scope, `the ${grant.queue} queue`, options.resources.queues[grant.queue]);
    const [first, ...more] = grant.access;
    if (first === undefined) continue;
    // The first access sets the variable; further ones only grant.
    bindQueue(handler, QUEUES[grant.queue], queue, first);
    for (const access of more) {
      if (access === 'send') queue.grantSendMessages(handler);
      else queue.grantConsumeMessages(handler);
    }
  }
  for (const name of spec.deadLetterQueues ?? []) {
    const dlq = required(scope, `the ${name} dead-letter queue`, options.resources.deadLetterQueues?.[name]);
    handler.addEnvironment(QUEUES[name].deadLetterEnv, dlq.queueUrl);
    dlq.grantSendMessages(handler);
  }
  for (const name of spec.inspectQueues ?? []) {
    const queue = required(scope, `the ${name} queue`, options.resources.queues[name]);
    const dlq = required(scope, `the ${name} dead-letter queue`, options.resources.deadLetterQueues?.[name]);
    handler.addEnvironment(QUEUES[name].env, queue.queueUrl);
    handler.addEnvironment(QUEUES[name].deadLetterEnv, dlq.queueUrl);
    queue.grant(handler, 'sqs:GetQueueAttributes');
    dlq.grant(
      handler,
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
    );
  }
  for (const secret of spec.secrets) {
    bindSecret(
      handler,
      SECRETS[secret].env,
      required(scope, `the ${secret} secret`, options.resources.secrets[secret]),
    );
  }
  for (const grant of spec.buckets ?? []) {
    const bucket = required(scope, `the ${grant.bucket} bucket`, options.resources.buckets?.[grant.bucket]);
    bindBucket(handler, BUCKETS[grant.bucket], bucket, grant.access, grant.prefixes);
  }
  return handler;
}

/**
 * Adds the spec's event sources of the function (one per queue that invokes it). `overrides` replaces
 * a spec value of a queue's mapping (e.g. the stack's `dispatchMaxConcurrency`).
 */
export function addSpecEventSources(
  scope: Construct,
  name: FunctionName,
  handler: MailrouteFunction,
  queues: SpecResources['queues'],
  overrides: { readonly [K in QueueName]?: Partial<Pick<EventSourceSpec, 'batchSize' | 'maxConcurrency'>> } = {},
): { [K in QueueName]?: SqsEventSource } {
  const sources: { [K in QueueName]?: SqsEventSource } = {};
  for (const source of eventSourcesOf(name)) {
    const queue = required(scope, `an event source on the ${source.queue} queue`, queues[source.queue]);
    const spec = { ...source, ...overrides[source.queue] };
    const eventSource = new SqsEventSource(queue, {
      batchSize: spec.batchSize,
      reportBatchItemFailures: spec.reportBatchItemFailures,
      ...(spec.maxConcurrency === undefined ? {} : { maxConcurrency: spec.maxConcurrency }),
    });
    handler.function.addEventSource(eventSource);
    sources[source.queue] = eventSource;
  }
  return sources;
}

export interface SpecFunctionProps<N extends FunctionName> extends SpecFunctionOptions<N> {}

/**
 * A function that needs nothing but its spec entry: its grants, environment and event sources all
 * come from lib/spec.ts. The stack builds one for every spec function without a construct of its own
 * (functions with checks or grants the spec cannot express — Ingest, Dispatch, SesEvents, Tracking —
 * have their constructs, which build the same way and add their extras).
 */
export class SpecFunction<N extends FunctionName = FunctionName> extends Construct {
  public readonly handler: MailrouteFunction;
  /** The event sources that invoke it, by queue. */
  public readonly eventSources: { readonly [K in QueueName]?: SqsEventSource };

  constructor(scope: Construct, id: string, props: SpecFunctionProps<N>) {
    super(scope, id);
    this.handler = buildSpecFunction(this, props);
    this.eventSources = addSpecEventSources(this, props.name, this.handler, props.resources.queues);
  }
}
