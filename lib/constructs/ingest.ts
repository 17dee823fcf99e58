import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES, TABLES } from '../resources';
import { bindQueue, bindTable, MailrouteFunction } from './mailroute-function';

export interface IngestProps {
  readonly tables: {
    readonly messages: ITableV2;
    readonly idempotency: ITableV2;
    readonly settings: ITableV2;
    readonly suppression: ITableV2;
    readonly rateWindows: ITableV2;
  };
  /** The queue accepted messages are sent to for dispatch. */
  readonly sendQueue: IQueue;
  /** Days a message record is kept (sets its TTL). */
  readonly retentionDays: number;
  /**
   * The function's timeout (API Gateway gives up after 30 s).
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default 512
   */
  readonly memorySize?: number;
}

/**
 * The HTTP API's function: authenticates API keys, validates requests, records messages and enqueues
 * them, manages the suppression list, and limits each API key's request rate. It may write messages,
 * idempotency records, suppressions and rate-window counters, read settings, and send to the send queue.
 */
export class Ingest extends Construct {
  public readonly handler: MailrouteFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    this.handler = new MailrouteFunction(this, 'Handler', {
      entry: 'ingest',
      description: 'mailroute HTTP API: accepts, records and enqueues emails',
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      environment: { RETENTION_DAYS: String(props.retentionDays) },
    });
    bindTable(this.handler, TABLES.messages, props.tables.messages, 'readWrite');
    bindTable(this.handler, TABLES.idempotency, props.tables.idempotency, 'readWrite');
    bindTable(this.handler, TABLES.settings, props.tables.settings, 'read');
    // The suppression API (GET/PUT/DELETE /v1/suppressions/{email}).
    bindTable(this.handler, TABLES.suppression, props.tables.suppression, 'readWrite');
    // Per-API-key request counters: the function counts each key's requests per one-second window.
    bindTable(this.handler, TABLES.rateWindows, props.tables.rateWindows, 'readWrite');
    bindQueue(this.handler, QUEUES.send, props.sendQueue, 'send');
  }
}
