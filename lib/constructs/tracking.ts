import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TABLES } from '../resources';
import { bindSecret, bindTable, MailrouteFunction } from './mailroute-function';
import { SIGNING_KEYS_ENV } from './signing-keys';

export interface TrackingProps {
  readonly tables: {
    readonly messages: ITableV2;
    readonly suppression: ITableV2;
  };
  /** The keys the links are signed with (see `SigningKeys`). */
  readonly signingKeys: ISecret;
  /**
   * The function's timeout (a recipient's browser or mail client is waiting).
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
  /**
   * Memory, in MiB.
   * @default 256
   */
  readonly memorySize?: number;
}

/**
 * The function behind the public links written into emails: GET/POST /u/{token} (one-click
 * unsubscribe), GET /o/{token} (open pixel) and GET/HEAD /c/{token} (click redirect). Anyone may call
 * it, so it trusts only the link's signature: it reads the signing keys, reads and writes the messages
 * table (to record opens and clicks) and the suppression table, nothing else.
 */
export class Tracking extends Construct {
  public readonly handler: MailrouteFunction;

  constructor(scope: Construct, id: string, props: TrackingProps) {
    super(scope, id);
    this.handler = new MailrouteFunction(this, 'Handler', {
      entry: 'tracking',
      description: 'mailroute public links: verifies signed links, records opens and clicks, unsubscribes',
      timeout: props.timeout ?? Duration.seconds(5),
      memorySize: props.memorySize ?? 256,
    });
    bindTable(this.handler, TABLES.messages, props.tables.messages, 'readWrite');
    bindTable(this.handler, TABLES.suppression, props.tables.suppression, 'readWrite');
    bindSecret(this.handler, SIGNING_KEYS_ENV, props.signingKeys);
  }
}
