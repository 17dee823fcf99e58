import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../functions/core/defaults';
import { SOFT_BOUNCE_DEFAULTS, SOFT_BOUNCE_RANGES, type SoftBounceSettings } from '../context';
import { SES_EVENTS_TIMEOUT_SECONDS } from '../resources';
import { FUNCTIONS, type GuardParams } from '../spec';
import type { MailrouteFunction } from './mailroute-function';
import { addSpecEventSources, buildSpecFunction } from './spec-function';

export interface SesEventsProps {
  /**
   * The webhook events queue the function publishes its state changes to.
   * @default - none: the function publishes no webhook events
   */
  readonly webhookEvents?: IQueue;
  readonly tables: {
    readonly messages: ITableV2;
    readonly suppression: ITableV2;
    /** The reputation guard's counters and streams. */
    readonly reputation: ITableV2;
  };
  /** The queue of SES events (the SES events topic's subscriber) the function consumes. */
  readonly queue: IQueue;
  /**
   * When soft bounces suppress an address.
   * @default SOFT_BOUNCE_DEFAULTS (3 within 72 hours)
   */
  readonly softBounce?: SoftBounceSettings;
  /**
   * The reputation guard's window, minimum volume, thresholds and held-mail wait.
   * @default DEFAULTS.guard
   */
  readonly guard?: GuardParams;
  /**
   * Messages per invocation.
   * @default - the spec's (`EVENT_SOURCES`, SES events queue): SES_EVENTS_BATCH_SIZE
   */
  readonly batchSize?: number;
  /**
   * The function's timeout; the queue's visibility timeout must be at least six times this.
   * @default Duration.seconds(SES_EVENTS_TIMEOUT_SECONDS)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default FUNCTIONS.sesEvents.memorySize (256)
   */
  readonly memorySize?: number;
}

/**
 * The consumer of SES events: records deliveries, bounces, complaints and the like on the message, and
 * suppresses addresses that bounce hard, complain, unsubscribe or bounce softly too often. It reads and
 * writes the messages and suppression tables; SQS gives it the events, it sends nothing. Its grants,
 * environment and event source are `FUNCTIONS.sesEvents` and the SES events queue's entry of
 * `EVENT_SOURCES` (lib/spec.ts); this construct checks the soft-bounce settings.
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

    this.handler = buildSpecFunction(this, {
      name: 'sesEvents',
      resources: {
        tables: props.tables,
        queues: { sesEvents: props.queue, webhookEvents: props.webhookEvents },
        secrets: {},
      },
      params: { softBounce, guard: props.guard ?? DEFAULTS.guard },
      timeout: props.timeout ?? Duration.seconds(SES_EVENTS_TIMEOUT_SECONDS),
      memorySize: props.memorySize ?? FUNCTIONS.sesEvents.memorySize,
    });

    // The event source grants receiving and deleting; the function never needs the queue's URL.
    const sources = addSpecEventSources(
      this,
      'sesEvents',
      this.handler,
      { sesEvents: props.queue },
      {
        sesEvents: props.batchSize === undefined ? {} : { batchSize: props.batchSize },
      },
    );
    if (!sources.sesEvents) {
      throw new Error(`SesEvents "${this.node.path}": the spec has no event source on the SES events queue`);
    }
    this.eventSource = sources.sesEvents;
  }
}
