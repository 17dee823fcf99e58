/**
 * The local stack's one-line pipeline summary: counts of messages by status, and per priority, printed
 * whenever they change, so a developer sees email move (queued → sending → sent → delivered) and a
 * password reset pass a newsletter without opening anything.
 */
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { STATUSES, type Status } from '../functions/core/message';
import { defaultPriority, PRIORITIES, type Priority } from '../functions/core/priority';

export type StatusCounts = Partial<Record<Status, number>>;
/** Counts by status of each priority's messages. */
export type PriorityCounts = Partial<Record<Priority, StatusCounts>>;

/** What the status line shows: counts by status, overall and per priority. */
export interface PipelineCounts {
  readonly byStatus: StatusCounts;
  readonly byPriority: PriorityCounts;
}

const sum = (counts: StatusCounts) => Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);
/** "2 queued · 10 sent" (statuses in pipeline order, zeros left out). */
const byStatus = (counts: StatusCounts) =>
  STATUSES.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(' · ');

/** "12 messages: 1 queued · 10 sent · 1 bounced" (statuses in pipeline order, zeros left out). */
export function formatSummary(counts: StatusCounts): string {
  const total = sum(counts);
  const parts = byStatus(counts);
  return `${total} message${total === 1 ? '' : 's'}${parts ? `: ${parts}` : ''}`;
}

/**
 * The summary, then each priority that has messages with its own counts, in priority order:
 * "203 messages: 200 queued · 3 sent | critical: 1 sent | transactional: 2 sent | bulk: 200 queued".
 */
export function formatPipeline(counts: PipelineCounts): string {
  const priorities = PRIORITIES.flatMap((p) => {
    const c = counts.byPriority[p];
    return c && sum(c) > 0 ? [`${p}: ${byStatus(c)}`] : [];
  });
  return [formatSummary(counts.byStatus), ...priorities].join(' | ');
}

/** Counts by status and by priority in the messages table (a full scan: fine for a local table). */
export async function countPipeline(dynamodb: DynamoDBClient, table: string): Promise<PipelineCounts> {
  const all: StatusCounts = {};
  const byPriority: PriorityCounts = {};
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await dynamodb.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: '#s, #p, #c',
        ExpressionAttributeNames: { '#s': 'status', '#p': 'priority', '#c': 'category' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of out.Items ?? []) {
      const s = item.status?.S as Status | undefined;
      if (!s) continue;
      all[s] = (all[s] ?? 0) + 1;
      // Records written before priorities existed take theirs from the category, as the API shows them.
      const stored = item.priority?.S as Priority | undefined;
      const p = stored && PRIORITIES.includes(stored) ? stored : defaultPriority(item.category?.S ?? 'transactional');
      const counts = byPriority[p] ?? {};
      counts[s] = (counts[s] ?? 0) + 1;
      byPriority[p] = counts;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { byStatus: all, byPriority };
}

/** Counts by status in the messages table (a full scan: fine for a local table). */
export async function countByStatus(dynamodb: DynamoDBClient, table: string): Promise<StatusCounts> {
  return (await countPipeline(dynamodb, table)).byStatus;
}

/**
 * Polls the counts every `everyMs` and calls `print` with the line `format` makes of them when it
 * changed (not at all while the table is empty). Returns a function that stops it.
 */
export function watchStatus<T = StatusCounts>(
  read: () => Promise<T>,
  print: (line: string) => void,
  everyMs = 1000,
  format: (counts: T) => string = formatSummary as (counts: T) => string,
): () => Promise<void> {
  let last = formatSummary({});
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      const counts = await read();
      const line = format(counts);
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
