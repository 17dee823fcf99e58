/**
 * A small local EventBridge Scheduler: the same create, update and delete calls through the
 * Scheduler port, one-time `at(...)` schedules in UTC, each deleted once it fires (its target: a
 * send queue, by ARN, with the firing as the message body). A firing the queue does not take is
 * retried on the next tick, as Scheduler retries. The clock can be injected, so a test moves time
 * 20 minutes ahead without waiting.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduleRequest, Scheduler } from '../../functions/ports';

export interface LocalSchedulerOptions {
  readonly sqs: SQSClient;
  /** Each send queue's URL by its ARN (the schedules' targets). */
  readonly queueUrls: ReadonlyMap<string, string>;
  /** @default Date.now */
  readonly now?: () => number;
  /** How often due schedules are looked for, in real milliseconds. @default 100 */
  readonly tickMs?: number;
}

interface Pending {
  readonly atMs: number;
  readonly queueArn: string;
  readonly body: string;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC → epoch milliseconds. */
export function atMsOf(expression: string): number {
  const m = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  const ms = m?.[1] ? Date.parse(`${m[1]}Z`) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw Object.assign(new Error(`Invalid Schedule Expression ${expression}.`), { name: 'ValidationException' });
  }
  return ms;
}

const notFound = (name: string) =>
  Object.assign(new Error(`Schedule ${name} does not exist.`), { name: 'ResourceNotFoundException' });

export class LocalScheduler implements Scheduler {
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private firing: Promise<void> = Promise.resolve();
  /** Firings delivered, oldest first (tests look at them; a test may deliver one again). */
  readonly fired: { readonly name: string; readonly queueUrl: string; readonly body: string; readonly atMs: number }[] =
    [];

  constructor(private readonly options: LocalSchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Schedules waiting to fire. */
  get size(): number {
    return this.pending.size;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      void this.fireDue();
    }, this.options.tickMs ?? 100);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.firing;
  }

  async create(r: ScheduleRequest): Promise<void> {
    if (this.pending.has(r.name)) {
      throw Object.assign(new Error(`Schedule ${r.name} already exists.`), { name: 'ConflictException' });
    }
    this.pending.set(r.name, { atMs: atMsOf(r.expression), queueArn: r.queueArn, body: r.body });
  }

  async update(r: ScheduleRequest): Promise<boolean> {
    if (!this.pending.has(r.name)) return false;
    this.pending.set(r.name, { atMs: atMsOf(r.expression), queueArn: r.queueArn, body: r.body });
    return true;
  }

  async delete(name: string): Promise<boolean> {
    return this.pending.delete(name);
  }

  /** The same as `delete`, but throwing ResourceNotFoundException as the AWS API does (contract tests). */
  async deleteStrict(name: string): Promise<void> {
    if (!this.pending.delete(name)) throw notFound(name);
  }

  /** Fires every schedule that is due now (the timer calls it; tests may too). One pass at a time. */
  fireDue(): Promise<void> {
    this.firing = this.firing.then(() => this.fireNow());
    return this.firing;
  }

  private async fireNow(): Promise<void> {
    const now = this.now();
    const due = [...this.pending].filter(([, p]) => p.atMs <= now);
    await Promise.all(
      due.map(async ([name, p]) => {
        const queueUrl = this.options.queueUrls.get(p.queueArn);
        if (!queueUrl) {
          this.pending.delete(name);
          return;
        }
        try {
          await this.options.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: p.body }));
        } catch {
          return; // retried on the next tick
        }
        // Deleted after completion, unless it was updated meanwhile.
        if (this.pending.get(name) === p) this.pending.delete(name);
        this.fired.push({ name, queueUrl, body: p.body, atMs: now });
      }),
    );
  }
}
