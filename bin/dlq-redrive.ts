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
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { RETRIES_EXHAUSTED } from '../functions/core/dispatch';
import type { MessageRecord } from '../functions/core/message';
import { PRIORITIES, type Priority } from '../functions/core/priority';
import { QueuedEmail } from '../functions/core/queued-email';
import type { MessageStore } from '../functions/ports';
import { documentClient } from '../functions/store/dynamo';
import { DynamoMessageStore } from '../functions/store/message-store';
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

export interface RedriveReport {
  /** Email ids moved back to the send queue (record requeued first). */
  readonly moved: string[];
  /** Removed from the DLQ without sending, with why. */
  readonly dropped: { id: string; why: string }[];
  /** Kept in the DLQ, with why; `id` is the email id, or the SQS message id of a body that is no email. */
  readonly left: { id: string; why: string }[];
  /** Messages this run could not make visible again: they reappear when their hold ends. */
  unreleased: number;
}

export interface RedriveOptions {
  /** Report what a run would do; change nothing. */
  readonly dryRun?: boolean;
  /** Look at no more than this many DLQ messages. @default 10000 */
  readonly max?: number;
  /**
   * How long a message read by this run stays invisible if the run cannot release it (it dies).
   * A run that outlives it reads such a message again; it then keeps the newer receipt handle and
   * does not decide twice. @default 300
   */
  readonly holdSeconds?: number;
  /** Stops reading; what was held is still released. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface RedriveDeps {
  readonly sqs: SQSClient;
  readonly messages: MessageStore;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

type Verdict =
  | { readonly kind: 'move'; readonly id: string; readonly requeue: boolean }
  | { readonly kind: 'drop'; readonly id: string; readonly why: string }
  | { readonly kind: 'leave'; readonly id: string; readonly why: string };

/** What happens to a DLQ message, from its email id and its record (no I/O). */
export function verdictFor(id: string, record: MessageRecord | undefined): Verdict {
  if (!record) return { kind: 'drop', id, why: 'no record (never accepted, or expired)' };
  if (record.status === 'queued') return { kind: 'move', id, requeue: false };
  if (record.status === 'failed' && record.reason?.startsWith(RETRIES_EXHAUSTED)) {
    return { kind: 'move', id, requeue: true };
  }
  if (record.status === 'sending') {
    // Not final: a dispatcher claimed it and has not recorded the result. Sending it again could
    // duplicate; removing it could leave the record `sending` for good. A person (or a later run) decides.
    return { kind: 'leave', id, why: 'sending: claimed by a dispatcher, no result yet' };
  }
  // A reason explains a failure; a record that was sent after a redrive still carries its old one.
  const reason = (record.status === 'failed' || record.status === 'rejected') && record.reason;
  return { kind: 'drop', id, why: `${record.status}${reason ? `: ${reason}` : ''}; not sent again` };
}

function emailId(m: Message): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(m.Body ?? '');
  } catch {
    return undefined;
  }
  const parsed = QueuedEmail.safeParse(body);
  return parsed.success ? parsed.data.id : undefined;
}

export async function redriveDlq(deps: RedriveDeps, options: RedriveOptions = {}): Promise<RedriveReport> {
  const report: RedriveReport = { moved: [], dropped: [], left: [], unreleased: 0 };
  const max = options.max ?? 10_000;
  const holdSeconds = options.holdSeconds ?? 300;
  const now = options.now ?? (() => new Date());
  const { sqs, dlqUrl } = deps;
  /** SQS message id → receipt handle of its latest receive, for every message this run keeps. */
  const held = new Map<string, string>();
  const seen = new Set<string>();
  const movedIds = new Set<string>();

  const remove = async (m: Message) => {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle }));
    held.delete(m.MessageId as string);
  };

  async function handle(m: Message): Promise<void> {
    const id = emailId(m);
    if (id === undefined) {
      report.left.push({ id: m.MessageId as string, why: 'not a mailroute email' });
      return;
    }
    const verdict: Verdict = movedIds.has(id)
      ? { kind: 'drop', id, why: 'another copy of this email was moved back in this run' }
      : verdictFor(id, await deps.messages.get(id));
    if (verdict.kind === 'leave') {
      report.left.push({ id, why: verdict.why });
      return;
    }
    if (verdict.kind === 'drop') {
      if (!options.dryRun) await remove(m);
      report.dropped.push({ id, why: verdict.why });
      return;
    }
    if (!options.dryRun) {
      // The record first: once it is queued, the dispatcher's claim decides, so a copy sent twice
      // (a crash between the send and the delete below) is still sent at most once.
      if (verdict.requeue) {
        const requeued = await deps.messages.requeueFailed(id, { type: 'redriven', at: now().toISOString() });
        if (!requeued) {
          report.left.push({ id, why: 'record changed since it was read; run again' });
          return;
        }
      }
      await sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: m.Body }));
      await remove(m);
    }
    movedIds.add(id);
    report.moved.push(id);
  }

  try {
    while (seen.size < max && !options.signal?.aborted) {
      let out: { Messages?: Message[] };
      try {
        out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlqUrl,
            MaxNumberOfMessages: Math.min(10, max - seen.size),
            WaitTimeSeconds: 1,
            VisibilityTimeout: holdSeconds,
          }),
          options.signal ? { abortSignal: options.signal } : {},
        );
      } catch (e) {
        if (options.signal?.aborted) break;
        throw e;
      }
      const received = out.Messages ?? [];
      // Empty: every message is either handled or held by this run (long polling asks every SQS host).
      if (received.length === 0) break;
      const fresh: Message[] = [];
      for (const m of received) {
        if (!m.MessageId || !m.ReceiptHandle) continue;
        // Read again (this run outlived the hold): only the newest receipt handle can release it.
        held.set(m.MessageId, m.ReceiptHandle);
        if (!seen.has(m.MessageId)) fresh.push(m);
        seen.add(m.MessageId);
      }
      for (const m of fresh) {
        if (options.signal?.aborted) break;
        await handle(m);
      }
    }
  } finally {
    report.unreleased = await release(sqs, dlqUrl, [...held.values()]);
  }
  return report;
}

/** Makes held messages visible again (ChangeMessageVisibility 0); returns how many could not be. */
async function release(sqs: SQSClient, queueUrl: string, handles: string[]): Promise<number> {
  let failed = 0;
  for (let i = 0; i < handles.length; i += 10) {
    const chunk = handles.slice(i, i + 10);
    try {
      const out = await sqs.send(
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
