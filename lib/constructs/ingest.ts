import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../functions/core/defaults';
import type { ProvidersConfig } from '../../functions/core/providers';
import { FUNCTIONS, type GuardParams } from '../spec';
import type { MailrouteFunction } from './mailroute-function';
import { checkedProviders, defaultProviders, providersJson } from './providers';
import { buildSpecFunction } from './spec-function';

export interface IngestProps {
  readonly tables: {
    readonly messages: ITableV2;
    readonly idempotency: ITableV2;
    readonly settings: ITableV2;
    readonly suppression: ITableV2;
    readonly rateWindows: ITableV2;
    /** The reputation guard's counters and streams. */
    readonly reputation: ITableV2;
  };
  /** The queue accepted transactional messages are sent to for dispatch. */
  readonly sendQueue: IQueue;
  /** The queue accepted critical messages are sent to. */
  readonly criticalQueue: IQueue;
  /** The queue accepted bulk messages are sent to. */
  readonly bulkQueue: IQueue;
  /** The audience jobs queue: a broadcast's first page (send, resume), a contact import. */
  readonly audienceJobs: IQueue;
  /** The content store's bucket (attachments, uploads, large and scheduled bodies). */
  readonly contentBucket: IBucket;
  /**
   * The webhook events queue the function publishes its state changes to.
   * @default - none: the function publishes no webhook events
   */
  readonly webhookEvents?: IQueue;
  /** Days a message record is kept (sets its TTL). */
  readonly retentionDays: number;
  /**
   * The reputation guard's window, minimum volume, thresholds and held-mail wait.
   * @default DEFAULTS.guard
   */
  readonly guard?: GuardParams;
  /**
   * The provider definitions and default chain, as the dispatcher gets them: GET/PUT
   * /v1/settings/providers show and change the live settings over them.
   * @default - SES alone
   */
  readonly providers?: ProvidersConfig;
  /**
   * The function's timeout (API Gateway gives up after 30 s).
   * @default Duration.seconds(FUNCTIONS.ingest.timeoutSeconds) (10 s)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default FUNCTIONS.ingest.memorySize (512)
   */
  readonly memorySize?: number;
}

/**
 * The HTTP API's function: authenticates API keys, validates requests, records messages and enqueues
 * them, manages the suppression list and the live provider settings, and limits each API key's request
 * rate. It may write messages, idempotency records, suppressions and rate-window counters, read
 * settings and write only the live provider settings item, and send to the send queues (one per
 * priority): its grants and
 * environment are `FUNCTIONS.ingest` of lib/spec.ts; this construct checks the provider configuration.
 */
export class Ingest extends Construct {
  public readonly handler: MailrouteFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const providers = checkedProviders(this, props.providers ?? defaultProviders());
    this.handler = buildSpecFunction(this, {
      name: 'ingest',
      resources: {
        tables: props.tables,
        queues: {
          send: props.sendQueue,
          sendCritical: props.criticalQueue,
          sendBulk: props.bulkQueue,
          webhookEvents: props.webhookEvents,
          audienceJobs: props.audienceJobs,
        },
        secrets: {},
        buckets: { content: props.contentBucket },
      },
      params: {
        retentionDays: props.retentionDays,
        providersJson: providersJson(this, providers),
        guard: props.guard ?? DEFAULTS.guard,
      },
      providers,
      timeout: props.timeout ?? Duration.seconds(FUNCTIONS.ingest.timeoutSeconds),
      memorySize: props.memorySize ?? FUNCTIONS.ingest.memorySize,
    });
  }
}
