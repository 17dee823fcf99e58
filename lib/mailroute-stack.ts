import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { Construct } from 'constructs';
import { MailrouteApi } from './constructs/api';
import { Dispatch } from './constructs/dispatch';
import { Ingest } from './constructs/ingest';
import { SendQueue } from './constructs/send-queue';
import { MailrouteTables } from './constructs/tables';
import { DISPATCH_TIMEOUT_SECONDS, QUEUES } from './resources';

export interface MailrouteStackProps extends StackProps {
  /** SES identities (domains or email addresses) the stack may send from. At least one. */
  readonly senderIdentities: readonly string[];
  /**
   * Days a message record is kept before DynamoDB TTL removes it.
   * @default 30
   */
  readonly retentionDays?: number;
  /**
   * Most concurrent dispatch invocations the send queue's event source starts (2..1000).
   * @default 10
   */
  readonly dispatchMaxConcurrency?: number;
}

/**
 * mailroute: an HTTP API (ingest) that records emails and queues them, and a queue consumer (dispatch)
 * that sends them through SES. State lives in DynamoDB; failed sends end in a dead-letter queue.
 */
export class MailrouteStack extends Stack {
  public readonly tables: MailrouteTables['tables'];
  public readonly sendQueue: SendQueue;
  public readonly configurationSet: ConfigurationSet;
  public readonly ingest: Ingest;
  public readonly dispatch: Dispatch;
  public readonly api: MailrouteApi;

  constructor(scope: Construct, id: string, props: MailrouteStackProps) {
    super(scope, id, props);
    const dispatchTimeout = Duration.seconds(DISPATCH_TIMEOUT_SECONDS);

    this.tables = new MailrouteTables(this, 'Tables').tables;
    this.sendQueue = new SendQueue(this, QUEUES.send.id, { spec: QUEUES.send, consumerTimeout: dispatchTimeout });
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet');

    this.ingest = new Ingest(this, 'Ingest', {
      tables: this.tables,
      sendQueue: this.sendQueue.queue,
      retentionDays: props.retentionDays ?? 30,
    });

    this.dispatch = new Dispatch(this, 'Dispatch', {
      tables: this.tables,
      sendQueue: this.sendQueue.queue,
      sendQueueSpec: this.sendQueue.spec,
      configurationSet: this.configurationSet,
      senderIdentities: props.senderIdentities,
      maxConcurrency: props.dispatchMaxConcurrency ?? 10,
      timeout: dispatchTimeout,
    });

    this.api = new MailrouteApi(this, 'Api', {
      handlers: { ingest: this.ingest.handler.function },
    });

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
    new CfnOutput(this, 'ConfigurationSetName', {
      description: 'SES configuration set every email is sent with',
      value: this.configurationSet.configurationSetName,
    });
  }
}
