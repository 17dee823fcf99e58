import {
  ConfigurationSetEventDestination,
  EmailSendingEvent,
  EventDestination,
  type IConfigurationSet,
} from 'aws-cdk-lib/aws-ses';
import { type Subscription, Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The SES events mailroute acts on: outcomes of a delivery attempt (delivery, bounce, complaint, reject,
 * rendering failure, delay) and list-unsubscribe requests. Sends, opens and clicks are not published.
 */
export const SES_EVENT_TYPES: readonly EmailSendingEvent[] = [
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.REJECT,
  EmailSendingEvent.RENDERING_FAILURE,
  EmailSendingEvent.DELIVERY_DELAY,
  EmailSendingEvent.SUBSCRIPTION,
];

export interface SesEventsTopicProps {
  /** The configuration set whose events are published to the topic. */
  readonly configurationSet: IConfigurationSet;
  /** The queue the topic delivers events to (raw message delivery: the SES event JSON is the SQS body). */
  readonly queue: IQueue;
  /**
   * The event types SES publishes.
   * @default SES_EVENT_TYPES
   */
  readonly events?: readonly EmailSendingEvent[];
}

/**
 * The SNS topic SES publishes the configuration set's events to, and its subscription by the SES events
 * queue. The topic refuses publishing without TLS; its policy lets SES publish only for this
 * configuration set in this account. It is not KMS-encrypted (SES would need a key policy for that);
 * the queue behind it is.
 */
export class SesEventsTopic extends Construct {
  public readonly topic: Topic;
  public readonly eventDestination: ConfigurationSetEventDestination;
  public readonly subscription: Subscription;

  constructor(scope: Construct, id: string, props: SesEventsTopicProps) {
    super(scope, id);
    const events = props.events ?? SES_EVENT_TYPES;
    if (events.length === 0) {
      throw new Error(
        `SesEventsTopic "${this.node.path}": events is empty, so SES would publish nothing. ` +
          'Leave it out to publish SES_EVENT_TYPES, or list the EmailSendingEvent values to publish.',
      );
    }

    this.topic = new Topic(this, 'Topic', {
      displayName: 'mailroute SES events',
      enforceSSL: true,
    });

    this.eventDestination = new ConfigurationSetEventDestination(this, 'EventDestination', {
      configurationSet: props.configurationSet,
      destination: EventDestination.snsTopic(this.topic),
      events: [...events],
    });

    this.subscription = this.topic.addSubscription(new SqsSubscription(props.queue, { rawMessageDelivery: true }));
  }
}
