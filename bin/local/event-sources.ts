/**
 * The stand-in for the Lambda SQS event source mappings: one set of pollers per event source of the
 * spec (lib/spec.ts `EVENT_SOURCES`: one per priority's send queue, and the SES events queue), no more
 * of them than the source's maximum concurrency (the bulk queue's cap), each long-polling its queue in batches of the mapping's size,
 * invoking the function, deleting what it did not report as failed (partial batch response) and
 * leaving the rest to the visibility timeout and the queue's redrive policy. A thrown error fails the
 * whole batch, as in AWS.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { EVENT_SOURCES, type EventSourceSpec, FUNCTIONS, type FunctionName, type QueueName } from '../../lib/spec';
import { fakeContext, REGION, type SqsHandler } from './lambda';
import type { LocalQueue } from './provisioning';

export function toSqsEvent(messages: readonly Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REGION,
    })),
  };
}

/** One poller: receive a batch, invoke, delete the successes; until `signal` aborts. */
export async function poll(
  sqs: SQSClient,
  queue: LocalQueue,
  source: Pick<EventSourceSpec, 'batchSize' | 'fn'>,
  handler: SqsHandler,
  signal: AbortSignal,
): Promise<void> {
  const timeoutSeconds = FUNCTIONS[source.fn].timeoutSeconds;
  while (!signal.aborted) {
    let received: ReceiveMessageCommandOutput;
    try {
      received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: source.batchSize,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      );
    } catch {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const messages = received.Messages ?? [];
    if (messages.length === 0) continue;
    const event = toSqsEvent(messages, queue.arn);
    let failed: Set<string>;
    try {
      const out = await handler(event, fakeContext(`mailroute-${source.fn}`, timeoutSeconds));
      failed = new Set((out?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      continue; // whole batch failed: every message returns after its visibility timeout
    }
    const done = event.Records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        )
        .catch(() => undefined);
    }
  }
}

export interface EventSourcesOptions {
  /** The event sources' own client (its requests are billed too, so they may be counted). */
  readonly sqs: SQSClient;
  readonly queues: { readonly [K in QueueName]: LocalQueue };
  /** The SQS-invoked functions, by name. */
  readonly handlers: Partial<Record<FunctionName, SqsHandler>>;
  /**
   * Concurrent pollers of an event source with a `maxConcurrency` (the dispatcher's, one per send
   * queue), never more than that `maxConcurrency`; others get one. 0 starts no poller at all.
   * @default 2
   */
  readonly pollers?: number;
  /**
   * A `maxConcurrency` for some queues' event sources instead of the spec's (cdk.json's
   * `dispatch.bulkMaxConcurrency`, say): their pollers never exceed it.
   */
  readonly maxConcurrency?: { readonly [K in QueueName]?: number };
}

/**
 * How many pollers play an event source: `pollers` for one with a `maxConcurrency`, capped by it (the
 * bulk queue's cap holds locally too), one for the others, none when `pollers` is 0.
 */
export const pollersOf = (source: EventSourceSpec, pollers = 2): number =>
  pollers === 0 ? 0 : source.maxConcurrency === undefined ? 1 : Math.min(pollers, source.maxConcurrency);

/** Starts the pollers of every event source of the spec; `stop` waits for them to finish their batch. */
export function startEventSources(options: EventSourcesOptions): { stop(): Promise<void> } {
  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  for (const source of EVENT_SOURCES) {
    const handler = options.handlers[source.fn];
    if (!handler) throw new Error(`local stack: the function "${source.fn}" of an event source is not wired`);
    const cap = options.maxConcurrency?.[source.queue];
    const spec = cap === undefined ? source : { ...source, maxConcurrency: cap };
    for (let i = 0; i < pollersOf(spec, options.pollers); i++) {
      loops.push(poll(options.sqs, options.queues[source.queue], source, handler, abort.signal));
    }
  }
  return {
    stop: async () => {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}
