import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, type IPrincipal, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../functions/core/metric-names';
import { BUNDLING, FUNCTION_ENTRIES, type FunctionName } from '../bundling';
import type { QueueSpec, TableSpec } from '../resources';
import type { ItemAction } from '../spec';

/** The repository root: entry paths in `FUNCTION_ENTRIES` are relative to it. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

const OUTPUT_FORMATS: Readonly<Record<(typeof BUNDLING)['format'], OutputFormat>> = { esm: OutputFormat.ESM };

/**
 * The functions' Powertools service name. Powertools adds it to every metric as the `service`
 * dimension, so the dashboard and alarms ask for it too.
 */
export const SERVICE_NAME = 'mailroute';

/** Environment every mailroute function gets (Powertools settings, source-mapped stack traces). */
export const COMMON_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
  NODE_OPTIONS: '--enable-source-maps',
};

export interface MailrouteFunctionProps {
  /** Which function to build: its entry file is `FUNCTION_ENTRIES[entry]`, relative to the repository root. */
  readonly entry: FunctionName;
  /**
   * A description of the function.
   * @default - no description
   */
  readonly description?: string;
  /**
   * The function's timeout.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB (CPU grows with it).
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Extra environment variables; table and queue variables are better set with `bindTable` / `bindQueue`.
   * @default - only `COMMON_ENVIRONMENT`
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * How long the function's log group keeps log events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the log group when it leaves the stack.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Identifiers esbuild replaces with values when it bundles the function (`--define`), e.g. files built
   * at synth time that the function serves.
   * @default - none
   */
  readonly define?: Readonly<Record<string, string>>;
}

/**
 * A mailroute Lambda function with the house settings: Node.js 22 on arm64, X-Ray active tracing (Lambda
 * records the function's segment and runs the X-Ray endpoint in the sandbox; the function adds a span per
 * invocation and per AWS SDK call with OpenTelemetry, sent to that endpoint: functions/handlers/tracing.ts,
 * no layer and no X-Ray SDK), its own log
 * group with a retention period, and the bundle described by `BUNDLING` (minified ESM with source maps,
 * AWS SDK clients bundled rather than taken from the runtime). Its execution role starts empty: no AWS
 * managed policy, only writing to its own log group (and X-Ray tracing); `bindTable`, `bindQueue` and
 * `bindSecret` add the rest.
 */
export class MailrouteFunction extends Construct implements IGrantable {
  public readonly function: NodejsFunction;
  public readonly logGroup: LogGroup;
  /** The function's execution role. */
  public readonly role: Role;

  constructor(scope: Construct, id: string, props: MailrouteFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // Not AWSLambdaBasicExecutionRole, which may create log groups and write to every log group of the
    // account: the function writes only to its own log group, which already exists.
    this.role = new Role(this, 'ServiceRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    this.logGroup.grantWrite(this.role);
    // Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to this role; Lambda's
    // X-Ray endpoint forwards the function's OpenTelemetry spans with them.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (Tracing.ACTIVE) needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support ' +
        'no resource-level permissions, so their resource is "*". test/cdk/iam.test.ts checks that X-Ray is the ' +
        'only service any function role reaches on "*".',
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, FUNCTION_ENTRIES[props.entry]),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      role: this.role,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: { ...COMMON_ENVIRONMENT, ...props.environment },
      bundling: {
        minify: BUNDLING.minify,
        sourceMap: BUNDLING.sourcemap,
        sourcesContent: false,
        format: OUTPUT_FORMATS[BUNDLING.format],
        target: BUNDLING.target,
        mainFields: [...BUNDLING.mainFields],
        banner: BUNDLING.banner,
        externalModules: [...BUNDLING.external],
        ...(props.define ? { define: { ...props.define } } : {}),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 (an LTS release and a supported Lambda runtime) is pinned on purpose rather than the newest ' +
        'runtime CDK knows (Node.js 24): the bundles are built for it (LAMBDA_NODE_TARGET "node22" in ' +
        'lib/bundling.ts, shared with the benchmark), so moving to Node.js 24 changes runtime and esbuild target together.',
    });
  }

  public get grantPrincipal(): IPrincipal {
    return this.function.grantPrincipal;
  }

  /** Sets an environment variable on the function. */
  public addEnvironment(key: string, value: string): this {
    this.function.addEnvironment(key, value);
    return this;
  }
}

/** DynamoDB item actions a scoped table grant may allow (as the spec's `ItemGrant` names them). */
export type { ItemAction };

/**
 * Only some item actions, and only on the items whose partition key matches one of `partitionKeys`
 * (IAM `StringLike` patterns: `*` matches any run of characters), through the `dynamodb:LeadingKeys`
 * condition. For a function that shares a table with others but needs only a few of its items.
 */
export interface ItemAccess {
  readonly actions: readonly ItemAction[];
  readonly partitionKeys: readonly string[];
}

export type TableAccess = 'read' | 'write' | 'readWrite' | ItemAccess;
export type QueueAccess = 'send' | 'consume';

/**
 * Gives a function a table: sets the variable `spec.env` to the table's name and grants the data-plane
 * actions of `access` (L2 grants: read = Get/Query/Scan/BatchGet, write = Put/Update/Delete/BatchWrite;
 * or an `ItemAccess`: the actions it lists, on the items it names).
 */
export function bindTable(fn: MailrouteFunction, spec: TableSpec, table: ITableV2, access: TableAccess): void {
  fn.addEnvironment(spec.env, table.tableName);
  if (typeof access === 'object') {
    grantItems(fn, table, access);
    return;
  }
  switch (access) {
    case 'read':
      table.grantReadData(fn);
      return;
    case 'write':
      table.grantWriteData(fn);
      return;
    case 'readWrite':
      table.grantReadWriteData(fn);
      return;
  }
}

function grantItems(fn: MailrouteFunction, table: ITableV2, access: ItemAccess): void {
  if (access.actions.length === 0 || access.partitionKeys.length === 0) {
    throw new Error(`bindTable "${fn.node.path}": an ItemAccess needs at least one action and one partition key`);
  }
  Grant.addToPrincipal({
    grantee: fn,
    actions: [...new Set(access.actions)].map((action) => `dynamodb:${action}`),
    resourceArns: [table.tableArn],
    // ForAllValues: every key the request touches (BatchGetItem names several) must match.
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...new Set(access.partitionKeys)] } },
  });
  // A table encrypted with a customer managed key needs the key as well.
  table.encryptionKey?.grantEncryptDecrypt(fn);
}

/**
 * Gives a function a queue: sets the variable `spec.env` to the queue's URL and grants either sending
 * or consuming (receive, delete, change visibility) messages.
 */
export function bindQueue(fn: MailrouteFunction, spec: QueueSpec, queue: IQueue, access: QueueAccess): void {
  fn.addEnvironment(spec.env, queue.queueUrl);
  switch (access) {
    case 'send':
      queue.grantSendMessages(fn);
      return;
    case 'consume':
      queue.grantConsumeMessages(fn);
      return;
  }
}

/**
 * Gives a function a secret: sets the variable `env` to the secret's ARN and grants reading its value
 * (GetSecretValue and DescribeSecret on that secret only).
 */
export function bindSecret(fn: MailrouteFunction, env: string, secret: ISecret): void {
  fn.addEnvironment(env, secret.secretArn);
  secret.grantRead(fn);
}
