/** SQS adapter of the operator's queue view (`QueueAdmin`): attributes, receive-and-hold, delete, send, release. */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { HeldMessage, QueueAdmin, QueueDepth } from '../ports';

const count = (value: string | undefined): number => {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
};

export class SqsQueueAdmin implements QueueAdmin {
  constructor(private readonly sqs: SQSClient) {}

  async depth(queueUrl: string): Promise<QueueDepth> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const a = out.Attributes ?? {};
    return {
      visible: count(a.ApproximateNumberOfMessages),
      inFlight: count(a.ApproximateNumberOfMessagesNotVisible),
      delayed: count(a.ApproximateNumberOfMessagesDelayed),
    };
  }

  async receive(
    queueUrl: string,
    options: { readonly max: number; readonly holdSeconds: number; readonly waitSeconds: number },
    signal?: AbortSignal,
  ): Promise<HeldMessage[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(10, options.max)),
        WaitTimeSeconds: options.waitSeconds,
        VisibilityTimeout: options.holdSeconds,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
      signal ? { abortSignal: signal } : {},
    );
    return (out.Messages ?? []).flatMap((m): HeldMessage[] => {
      if (!m.MessageId || !m.ReceiptHandle) return [];
      const sent = m.Attributes?.SentTimestamp;
      const received = m.Attributes?.ApproximateReceiveCount;
      return [
        {
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle,
          body: m.Body ?? '',
          ...(sent ? { sentAt: new Date(Number(sent)).toISOString() } : {}),
          ...(received ? { receiveCount: Number(received) } : {}),
        },
      ];
    });
  }

  async remove(queueUrl: string, receiptHandle: string): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
  }

  async send(queueUrl: string, body: string): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  }

  async release(queueUrl: string, receiptHandles: readonly string[]): Promise<number> {
    let failed = 0;
    for (let i = 0; i < receiptHandles.length; i += 10) {
      const chunk = receiptHandles.slice(i, i + 10);
      try {
        const out = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((ReceiptHandle, n) => ({ Id: String(n), ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        );
        failed += out.Failed?.length ?? 0;
      } catch {
        failed += chunk.length;
      }
    }
    return failed;
  }
}
