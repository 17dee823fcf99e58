/**
 * An SQS batch handled one record at a time: a record that throws is logged and reported as a
 * batch item failure (it comes back, or goes to its DLQ), the others are done.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AppLogger } from './observability';

/** `what` names a record in the log line of a failure ("SES notification", "webhook record"). */
export function eachRecord(
  handleRecord: (rec: SQSRecord) => Promise<void>,
  logger: AppLogger,
  what: string,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return (event, context) =>
    processPartialResponse(
      event,
      async (rec: SQSRecord) => {
        try {
          await handleRecord(rec);
        } catch (e) {
          logger.warn(`${what} not processed`, { error: e as Error, sqsMessageId: rec.messageId });
          throw e;
        }
      },
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false },
    );
}
