/**
 * `npm run dlq:redrive [-- --dry-run] [--queue critical|transactional|bulk|all] [--stack Mailroute]`:
 * moves the dead-letter messages of the send queues (every priority's by default, critical first)
 * back to the queue each came from, still sending each email at most once. A message goes back only
 * when its record says its retries ran out (or it is still `queued`): the record returns to `queued`
 * first (one conditional write), so the dispatcher claims and sends it as any other. Ambiguous sends
 * (which may have been delivered) and emails already in a final state are not sent again; their DLQ
 * copies are removed. What is not a mailroute email stays in the DLQ.
 *
 * Every message this run keeps in the DLQ (all of them in a dry run) stays invisible while the run
 * goes on, so no message is read twice, and is made visible again at the end with the receipt
 * handle of its latest receive.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type RedriveOptions, type RedriveReport, redriveQueue } from '../functions/app/dlq-redrive';
import { PRIORITIES, type Priority } from '../functions/core/priority';
import type { MessageStore } from '../functions/ports';
import { documentClient } from '../functions/store/dynamo';
import { DynamoMessageStore } from '../functions/store/message-store';
import { SqsQueueAdmin } from '../functions/store/queue-admin';
import { resolveTarget, type SendQueueUrls } from './target';

/** Which send DLQs a run covers: one priority's, or `all` (the default). */
export const QUEUE_CHOICES = ['all', ...PRIORITIES] as const;
export type QueueChoice = (typeof QUEUE_CHOICES)[number];

/** A send queue and its DLQ, by priority. */
export interface RedriveTarget {
  readonly priority: Priority;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/**
 * The DLQs a run covers, each with the queue its messages go back to, critical first (so the mail
 * people wait for goes out first). Throws, naming the choices, for an unknown `--queue`.
 */
export function redriveTargets(queues: SendQueueUrls, choice: string = 'all'): RedriveTarget[] {
  if (!(QUEUE_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(`--queue must be one of ${QUEUE_CHOICES.join(', ')} (got "${choice}")`);
  }
  const all: Record<Priority, RedriveTarget> = {
    critical: { priority: 'critical', queueUrl: queues.sendCritical, dlqUrl: queues.sendCriticalDlq },
    transactional: { priority: 'transactional', queueUrl: queues.send, dlqUrl: queues.sendDlq },
    bulk: { priority: 'bulk', queueUrl: queues.sendBulk, dlqUrl: queues.sendBulkDlq },
  };
  return choice === 'all' ? PRIORITIES.map((p) => all[p]) : [all[choice as Priority]];
}

export type { RedriveOptions, RedriveReport } from '../functions/app/dlq-redrive';
export { verdictFor } from '../functions/app/dlq-redrive';

export interface RedriveDeps {
  readonly sqs: SQSClient;
  readonly messages: MessageStore;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/** Moves one DLQ's messages back (functions/app/dlq-redrive.ts), over an SQS client. */
export function redriveDlq(deps: RedriveDeps, options: RedriveOptions = {}): Promise<RedriveReport> {
  return redriveQueue({ ...deps, queues: new SqsQueueAdmin(deps.sqs) }, options);
}

async function main() {
  const { values } = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      queue: { type: 'string', default: 'all' },
      stack: { type: 'string', default: 'Mailroute' },
    },
  });
  const dryRun = values['dry-run'];
  let targets: RedriveTarget[] | undefined;
  try {
    targets = redriveTargets(
      { send: '', sendDlq: '', sendCritical: '', sendCriticalDlq: '', sendBulk: '', sendBulkDlq: '' },
      values.queue,
    );
  } catch (e) {
    process.stderr.write(`dlq:redrive: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const target = await resolveTarget(values.stack);
  targets = redriveTargets(target.queues, values.queue);
  // Ctrl-C stops reading; the messages held so far are still made visible again.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    for (const t of targets) {
      if (abort.signal.aborted) break;
      const report = await redriveDlq(
        {
          sqs: target.sqs,
          messages: new DynamoMessageStore(documentClient(target.dynamodb), target.tables.messages),
          queueUrl: t.queueUrl,
          dlqUrl: t.dlqUrl,
        },
        { dryRun, signal: abort.signal },
      );
      out(
        `${target.where}${dryRun ? ' (dry run, nothing changed)' : ''}: ` +
          `${dryRun ? 'would move' : 'moved'} ${report.moved.length} message(s) back to the ${t.priority} send queue`,
      );
      for (const id of report.moved) out(`  ${dryRun ? 'would move' : 'moved'} ${id}`);
      for (const d of report.dropped) out(`  ${dryRun ? 'would drop' : 'dropped'} ${d.id}: ${d.why}`);
      for (const l of report.left) out(`  left ${l.id} in the DLQ: ${l.why}`);
      if (report.unreleased > 0) {
        process.stderr.write(
          `dlq:redrive: ${report.unreleased} message(s) of the ${t.priority} DLQ could not be made visible again; they reappear within 5 minutes\n`,
        );
        process.exitCode = 1;
      }
    }
    if (abort.signal.aborted) out('  interrupted: the DLQs may hold messages this run did not look at');
  } finally {
    target.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`dlq:redrive failed: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
