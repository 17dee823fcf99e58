/**
 * The local stack's one-line pipeline summary: counts of messages by status, printed whenever
 * they change, so a developer sees email move (queued → sending → sent → delivered) without
 * opening anything.
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { STATUSES, type Status } from '../functions/core/message';

export type StatusCounts = Partial<Record<Status, number>>;

/** "12 messages: 1 queued · 10 sent · 1 bounced" (statuses in pipeline order, zeros left out). */
export function formatSummary(counts: StatusCounts): string {
  const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  const parts = STATUSES.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${counts[s]} ${s}`);
  return `${total} message${total === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(' · ')}` : ''}`;
}

/** Counts by status in the messages table (a full scan: fine for a local table). */
export async function countByStatus(dynamodb: DynamoDBClient, table: string): Promise<StatusCounts> {
  const counts: StatusCounts = {};
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const out = await dynamodb.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'status' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of out.Items ?? []) {
      const s = item.status?.S as Status | undefined;
      if (s) counts[s] = (counts[s] ?? 0) + 1;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return counts;
}

/**
 * Polls the counts every `everyMs` and calls `print` with the summary when it changed (not at
 * all while the table is empty). Returns a function that stops it.
 */
export function watchStatus(
  read: () => Promise<StatusCounts>,
  print: (line: string) => void,
  everyMs = 1000,
): () => Promise<void> {
  let last = formatSummary({});
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      const line = formatSummary(await read());
      if (line !== last) {
        last = line;
        print(line);
      }
    } catch {
      // the stack is stopping, or a read failed: try again next tick
    }
  };
  const timer = setInterval(() => {
    if (!stopped) running = tick();
  }, everyMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
