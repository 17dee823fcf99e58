/** SQS adapters: the send queue (ingest) and visibility control (dispatch back-off). */
import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SQS_MAX_BYTES } from '../core/queued-email';
import type { QueueEntry, SendQueue, VisibilityControl } from '../ports';

export { SQS_MAX_BYTES, toQueueBody } from '../core/queued-email';

/** SendMessageBatch takes at most 10 entries and 1 MiB in total. */
export const SQS_BATCH_ENTRIES = 10;
const RETRIES = 3;

/** Groups entries into SendMessageBatch requests: ≤ 10 entries and ≤ 1 MiB each. */
export function packBatches(entries: readonly QueueEntry[]): QueueEntry[][] {
  const batches: QueueEntry[][] = [];
  let current: QueueEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(e.body, 'utf8');
    if (current.length === SQS_BATCH_ENTRIES || (current.length > 0 && bytes + size > SQS_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class SqsSendQueue implements SendQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Sends every entry in batches; what could not be enqueued comes back as ids, never as a thrown
   * error: a body over SQS's limit at once, a failed entry or request after retries.
   */
  async send(entries: readonly QueueEntry[]): Promise<string[]> {
    const failed: string[] = entries.filter((e) => Buffer.byteLength(e.body, 'utf8') > SQS_MAX_BYTES).map((e) => e.id);
    const fits =
      failed.length === 0 ? entries : entries.filter((e) => Buffer.byteLength(e.body, 'utf8') <= SQS_MAX_BYTES);
    await Promise.all(
      packBatches(fits).map(async (batch) => {
        let pending = batch;
        for (let attempt = 0; pending.length > 0 && attempt <= RETRIES; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          // Entry ids only need to be distinct within one request: the position is.
          const request: SendMessageBatchRequestEntry[] = pending.map((e, i) => ({
            Id: String(i),
            MessageBody: e.body,
            ...(e.delaySeconds ? { DelaySeconds: e.delaySeconds } : {}),
          }));
          let out: { Failed?: { Id?: string; SenderFault?: boolean }[] };
          try {
            out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: request }));
          } catch {
            continue; // the whole request failed (network, throttling): try it again
          }
          // HTTP 200 can still carry failed entries; retry those that are not the sender's fault.
          const again: QueueEntry[] = [];
          for (const f of out.Failed ?? []) {
            const entry = f.Id === undefined ? undefined : pending[Number(f.Id)];
            if (!entry) continue;
            if (f.SenderFault) failed.push(entry.id);
            else again.push(entry);
          }
          pending = again;
        }
        failed.push(...pending.map((e) => e.id));
      }),
    );
    return failed;
  }
}

export class SqsVisibility implements VisibilityControl {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async delay(entries: readonly { receiptHandle: string; seconds: number }[]): Promise<void> {
    for (let i = 0; i < entries.length; i += SQS_BATCH_ENTRIES) {
      const part = entries.slice(i, i + SQS_BATCH_ENTRIES);
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: part.map((e, n) => ({
            Id: String(n),
            ReceiptHandle: e.receiptHandle,
            VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(e.seconds))),
          })),
        }),
      );
    }
  }
}
