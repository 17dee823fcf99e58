import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SOFT_BOUNCE_DEFAULTS, SOFT_BOUNCE_RANGES, type SoftBounceSettings } from '../context';
import { SES_EVENTS_BATCH_SIZE, SES_EVENTS_TIMEOUT_SECONDS, TABLES } from '../resources';
import { bindTable, MailrouteFunction } from './mailroute-function';

export interface SesEventsProps {
  readonly tables: {
    readonly messages: ITableV2;
    readonly suppression: ITableV2;
  };
  /** The queue of SES events (the SES events topic's subscriber) the function consumes. */
  readonly queue: IQueue;
  /**
   * When soft bounces suppress an address.
   * @default SOFT_BOUNCE_DEFAULTS (3 within 72 hours)
   */
  readonly softBounce?: SoftBounceSettings;
  /**
   * Messages per invocation.
   * @default SES_EVENTS_BATCH_SIZE
   */
  readonly batchSize?: number;
  /**
   * The function's timeout; the queue's visibility timeout must be at least six times this.
   * @default Duration.seconds(SES_EVENTS_TIMEOUT_SECONDS)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default 256
   */
  readonly memorySize?: number;
}

/**
 * The consumer of SES events: records deliveries, bounces, complaints and the like on the message, and
 * suppresses addresses that bounce hard, complain, unsubscribe or bounce softly too often. It reads and
 * writes the messages and suppression tables; SQS gives it the events, it sends nothing.
 */
export class SesEvents extends Construct {
  public readonly handler: MailrouteFunction;
  public readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: SesEventsProps) {
    super(scope, id);
    const softBounce = props.softBounce ?? SOFT_BOUNCE_DEFAULTS;
    for (const key of ['limit', 'windowHours'] as const) {
      const { min, max } = SOFT_BOUNCE_RANGES[key];
      const value = softBounce[key];
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new Error(
          `SesEvents "${this.node.path}": softBounce.${key} is ${value}; expected a whole number from ${min} to ${max}.`,
        );
      }
    }

    this.handler = new MailrouteFunction(this, 'Handler', {
      entry: 'sesEvents',
      description: 'mailroute SES events: records delivery outcomes, suppresses bouncing and complaining addresses',
      timeout: props.timeout ?? Duration.seconds(SES_EVENTS_TIMEOUT_SECONDS),
      memorySize: props.memorySize ?? 256,
      environment: {
        SOFT_BOUNCE_LIMIT: String(softBounce.limit),
        SOFT_BOUNCE_WINDOW_HOURS: String(softBounce.windowHours),
      },
    });
    bindTable(this.handler, TABLES.messages, props.tables.messages, 'readWrite');
    bindTable(this.handler, TABLES.suppression, props.tables.suppression, 'readWrite');

    // The event source grants receiving and deleting; the function never needs the queue's URL.
    this.eventSource = new SqsEventSource(props.queue, {
      batchSize: props.batchSize ?? SES_EVENTS_BATCH_SIZE,
      reportBatchItemFailures: true,
    });
    this.handler.function.addEventSource(this.eventSource);
  }
}
