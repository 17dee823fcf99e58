import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DLQ_RETENTION_DAYS, type QueueSpec } from '../resources';
import { VISIBILITY_TO_TIMEOUT_RATIO } from '../spec';

export { VISIBILITY_TO_TIMEOUT_RATIO };

export interface WorkQueueProps {
  /** The queue's settings (receive count before dead-lettering, retention), e.g. `QUEUES.send`. */
  readonly spec: QueueSpec;
  /**
   * Timeout of the Lambda function that consumes the queue; the visibility timeout must be at least
   * six times this, or messages still in flight are received again.
   */
  readonly consumerTimeout: Duration;
  /**
   * How long a received message stays invisible to other consumers.
   * @default - six times `consumerTimeout`
   */
  readonly visibilityTimeout?: Duration;
  /**
   * How long the dead-letter queue keeps a message, so an operator has time to inspect and redrive it.
   * @default Duration.days(DLQ_RETENTION_DAYS)
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * A queue consumed by a Lambda function, and its dead-letter queue: a message received
 * `spec.maxReceiveCount` times moves to the DLQ. Both are encrypted with SQS-managed keys and refuse
 * requests that do not use TLS. Used for the send queue (ingest → dispatch) and the SES events queue.
 */
export class WorkQueue extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  /** The settings the queue was built from. */
  public readonly spec: QueueSpec;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.spec = props.spec;
    const consumerSeconds = props.consumerTimeout.toSeconds();
    const visibilityTimeout =
      props.visibilityTimeout ?? Duration.seconds(VISIBILITY_TO_TIMEOUT_RATIO * consumerSeconds);
    if (visibilityTimeout.toSeconds() < VISIBILITY_TO_TIMEOUT_RATIO * consumerSeconds) {
      throw new Error(
        `WorkQueue "${this.node.path}": visibilityTimeout (${visibilityTimeout.toSeconds()} s) must be at least ` +
          `${VISIBILITY_TO_TIMEOUT_RATIO}x the consumer's timeout (${consumerSeconds} s): ` +
          `raise visibilityTimeout to ${VISIBILITY_TO_TIMEOUT_RATIO * consumerSeconds} s or lower the timeout.`,
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
