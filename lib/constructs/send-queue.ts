import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DISPATCH_TIMEOUT_SECONDS,
  DLQ_RETENTION_DAYS,
  QUEUES,
  type QueueSpec,
  SEND_QUEUE_VISIBILITY_SECONDS,
} from '../resources';

/** AWS advises a source-queue visibility timeout of at least this many times the consumer's timeout. */
const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface SendQueueProps {
  /**
   * The queue's settings (receive count before dead-lettering, retention).
   * @default QUEUES.send
   */
  readonly spec?: QueueSpec;
  /**
   * How long a received message stays invisible to other consumers.
   * @default Duration.seconds(SEND_QUEUE_VISIBILITY_SECONDS)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Timeout of the Lambda function that consumes the queue; the visibility timeout must be at least
   * six times this, or messages still in flight are received again.
   * @default Duration.seconds(DISPATCH_TIMEOUT_SECONDS)
   */
  readonly consumerTimeout?: Duration;
  /**
   * How long the dead-letter queue keeps a message, so an operator has time to inspect and redrive it.
   * @default Duration.days(DLQ_RETENTION_DAYS)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * The send queue (ingest → dispatch) and its dead-letter queue. Both are encrypted with SQS-managed
 * keys and refuse requests that do not use TLS.
 */
export class SendQueue extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  /** The settings the queue was built from. */
  public readonly spec: QueueSpec;

  constructor(scope: Construct, id: string, props: SendQueueProps = {}) {
    super(scope, id);
    this.spec = props.spec ?? QUEUES.send;
    const visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(SEND_QUEUE_VISIBILITY_SECONDS);
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(DISPATCH_TIMEOUT_SECONDS);
    if (visibilityTimeout.toSeconds() < VISIBILITY_TO_TIMEOUT_RATIO * consumerTimeout.toSeconds()) {
      throw new Error(
        `SendQueue "${this.node.path}": visibilityTimeout (${visibilityTimeout.toSeconds()} s) must be at least ` +
          `${VISIBILITY_TO_TIMEOUT_RATIO}x the consumer's timeout (${consumerTimeout.toSeconds()} s): ` +
          `raise visibilityTimeout to ${VISIBILITY_TO_TIMEOUT_RATIO * consumerTimeout.toSeconds()} s or lower the timeout.`,
      );
    }

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: props.deadLetterRetention ?? Duration.days(DLQ_RETENTION_DAYS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout,
      retentionPeriod: Duration.days(this.spec.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.spec.maxReceiveCount },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
  }
}
