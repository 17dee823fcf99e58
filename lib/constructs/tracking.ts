import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTIONS } from '../spec';
import type { MailrouteFunction } from './mailroute-function';
import { buildSpecFunction } from './spec-function';

export interface TrackingProps {
  /**
   * The webhook events queue the function publishes its state changes to.
   * @default - none: the function publishes no webhook events
   */
  readonly webhookEvents?: IQueue;
  readonly tables: {
    readonly messages: ITableV2;
    readonly suppression: ITableV2;
  };
  /** The keys the links are signed with (see `SigningKeys`). */
  readonly signingKeys: ISecret;
  /**
   * The function's timeout (a recipient's browser or mail client is waiting).
   * @default Duration.seconds(FUNCTIONS.tracking.timeoutSeconds) (5 s)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default FUNCTIONS.tracking.memorySize (256)
   */
  readonly memorySize?: number;
}

/**
 * The function behind the public links written into emails: GET/POST /u/{token} (one-click
 * unsubscribe), GET /o/{token} (open pixel) and GET/HEAD /c/{token} (click redirect). Anyone may call
 * it, so it trusts only the link's signature: it reads the signing keys, reads and writes the messages
 * table (to record opens and clicks) and the suppression table, nothing else: `FUNCTIONS.tracking` of
 * lib/spec.ts.
 */
export class Tracking extends Construct {
  public readonly handler: MailrouteFunction;

  constructor(scope: Construct, id: string, props: TrackingProps) {
    super(scope, id);
    this.handler = buildSpecFunction(this, {
      name: 'tracking',
      resources: {
        tables: props.tables,
        queues: { webhookEvents: props.webhookEvents },
        secrets: { signingKeys: props.signingKeys },
      },
      params: {},
      timeout: props.timeout ?? Duration.seconds(FUNCTIONS.tracking.timeoutSeconds),
      memorySize: props.memorySize ?? FUNCTIONS.tracking.memorySize,
    });
  }
}
