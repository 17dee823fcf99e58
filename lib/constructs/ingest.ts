import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LIVE_SETTINGS_KEY } from '../../functions/core/keys';
import type { ProvidersConfig } from '../../functions/core/providers';
import { QUEUES, TABLES } from '../resources';
import { bindQueue, bindTable, MailrouteFunction } from './mailroute-function';
import { checkedProviders, defaultProviders, PROVIDERS_ENV, providersJson } from './providers';

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
   * The provider definitions and default chain, as the dispatcher gets them: GET/PUT
   * /v1/settings/providers show and change the live settings over them.
   * @default - SES alone
   */
  readonly providers?: ProvidersConfig;
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
 * them, manages the suppression list and the live provider settings, and limits each API key's request
 * rate. It may write messages, idempotency records, suppressions and rate-window counters, read
 * settings and write only the live provider settings item, and send to the send queue.
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
      environment: {
        RETENTION_DAYS: String(props.retentionDays),
        [PROVIDERS_ENV]: providersJson(this, checkedProviders(this, props.providers ?? defaultProviders())),
      },
    });
    bindTable(this.handler, TABLES.messages, props.tables.messages, 'readWrite');
    bindTable(this.handler, TABLES.idempotency, props.tables.idempotency, 'readWrite');
    // API keys and provider health are read; PUT /v1/settings/providers writes the live settings item,
    // and no other (the API keys are written by the operator's tooling, never by the API).
    bindTable(this.handler, TABLES.settings, props.tables.settings, 'read');
    bindTable(this.handler, TABLES.settings, props.tables.settings, {
      actions: ['PutItem'],
      partitionKeys: [LIVE_SETTINGS_KEY],
    });
    // The suppression API (GET/PUT/DELETE /v1/suppressions/{email}).
    bindTable(this.handler, TABLES.suppression, props.tables.suppression, 'readWrite');
    // Per-API-key request counters: the function counts each key's requests per one-second window.
    bindTable(this.handler, TABLES.rateWindows, props.tables.rateWindows, 'readWrite');
    bindQueue(this.handler, QUEUES.send, props.sendQueue, 'send');
  }
}
