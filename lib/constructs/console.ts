import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { consoleAssetsDefine } from '../console-assets';
import type { QueueName } from '../spec';
import type { MailrouteFunction } from './mailroute-function';
import { buildSpecFunction } from './spec-function';

export interface ConsoleProps {
  readonly tables: {
    readonly messages: ITableV2;
    readonly settings: ITableV2;
    readonly rateWindows: ITableV2;
  };
  /** Every queue of the stack, and their dead-letter queues (by the spec name of their queue). */
  readonly queues: { readonly [K in QueueName]: IQueue };
  readonly deadLetterQueues: { readonly [K in QueueName]: IQueue };
}

/**
 * The function behind the operator console: GET /console and its assets (built at synth time from
 * console/ and written into the bundle), and the admin queue routes (GET /v1/queues, GET
 * /v1/queues/{queue}/dead-letters, POST /v1/queues/{queue}/redrive). Its grants are `FUNCTIONS.console` of
 * lib/spec.ts: the API key items and request counters, GetItem/UpdateItem on message records, queue
 * attributes, and reading, deleting and moving back dead letters.
 */
export class Console extends Construct {
  public readonly handler: MailrouteFunction;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    this.handler = buildSpecFunction(this, {
      name: 'console',
      resources: {
        tables: props.tables,
        queues: props.queues,
        deadLetterQueues: props.deadLetterQueues,
        secrets: {},
      },
      params: {},
      define: consoleAssetsDefine(),
    });
  }
}
