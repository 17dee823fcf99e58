/**
 * Seeded fault injection at the AWS client boundary, for the local stack (never bundled into a
 * Lambda: nothing under functions/ imports bin/). A middleware on each AWS SDK v3 client makes a
 * share of its commands fail the way AWS does, after the SDK's own retries:
 *
 * - `throttle`: the service's throttling error (DynamoDB ProvisionedThroughputExceededException,
 *   SQS/SNS/Scheduler throttling, S3 SlowDown);
 * - `server`: a 5xx (InternalServerError, ServiceUnavailable);
 * - `timeout-before`: the request never reached the service (a TimeoutError, nothing done);
 * - `timeout-after`: the service did the work and the answer was lost (a TimeoutError after it);
 * - `partial`: a batch call succeeds for some entries only — SQS SendMessageBatch,
 *   DeleteMessageBatch and ChangeMessageVisibilityBatch report failed entries, DynamoDB
 *   BatchWriteItem and BatchGetItem return UnprocessedItems / UnprocessedKeys.
 *
 * Which call fails is drawn from the seed and the call's service, operation and ordinal, so a seed
 * replays the same faults for the same sequence of calls (concurrency can still reorder calls).
 * A new service plugs in with a line in ERRORS (S3 and Scheduler are there already).
 */

export type AwsFaultKind = 'throttle' | 'server' | 'timeout-before' | 'timeout-after' | 'partial';

export interface AwsFaultOptions {
  readonly seed: number;
  /** The share of commands that fail, 0 to 1. */
  readonly rate: number;
  /** Which calls may fail. @default every call of DynamoDB, SQS, SNS, S3 and Scheduler */
  readonly only?: (service: string, operation: string) => boolean;
  /** The kinds to draw from (partial applies to batch calls only). @default all */
  readonly kinds?: readonly AwsFaultKind[];
}

export interface InjectedFault {
  readonly service: string;
  readonly operation: string;
  readonly kind: AwsFaultKind;
  /** For `partial`: how many entries were left out. */
  readonly entries?: number;
}

/** Error names and statuses as each service answers them. */
const ERRORS: Readonly<Record<string, { throttle: [string, number]; server: [string, number] }>> = {
  dynamodb: { throttle: ['ProvisionedThroughputExceededException', 400], server: ['InternalServerError', 500] },
  sqs: { throttle: ['ThrottlingException', 400], server: ['ServiceUnavailable', 503] },
  sns: { throttle: ['ThrottledException', 429], server: ['InternalErrorException', 500] },
  s3: { throttle: ['SlowDown', 503], server: ['InternalError', 500] },
  scheduler: { throttle: ['ThrottlingException', 429], server: ['InternalServerException', 500] },
};

export const FAULT_SERVICES = Object.keys(ERRORS);

/** A number in [0, 1) from the seed and a label (FNV-1a, then the mulberry32 finaliser). */
export function seededDraw(seed: number, label: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
  let t = (h + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

class InjectedError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode?: number; requestId: string; attempts: number };
  readonly injected = true;
  constructor(name: string, status: number | undefined, message: string) {
    super(message);
    this.name = name;
    this.$fault = status !== undefined && status >= 500 ? 'server' : 'client';
    this.$metadata = {
      ...(status !== undefined ? { httpStatusCode: status } : {}),
      requestId: 'injected',
      attempts: 3,
    };
  }
}

type Input = Record<string, unknown>;
type Output = { output: Record<string, unknown> } & Record<string, unknown>;
type Next = (args: { input: Input }) => Promise<Output>;

/** For a batch call: how to leave entries out of the request and report them in the answer. */
interface Batch {
  /** Splits the input into what goes to the service and what is left out (undefined: nothing to split). */
  split(input: Input, keep: (i: number) => boolean): { sent: Input; left: unknown } | undefined;
  report(output: Record<string, unknown>, left: unknown): Record<string, unknown>;
}

const sqsBatch: Batch = {
  split(input, keep) {
    const entries = (input.Entries as { Id: string }[] | undefined) ?? [];
    if (entries.length === 0) return undefined;
    const sent = entries.filter((_, i) => keep(i));
    const left = entries.filter((_, i) => !keep(i));
    return left.length === 0 ? undefined : { sent: { ...input, Entries: sent }, left };
  },
  report(output, left) {
    const failed = (left as { Id: string }[]).map((e) => ({
      Id: e.Id,
      SenderFault: false,
      Code: 'InternalError',
      Message: 'injected fault',
    }));
    return { ...output, Failed: [...((output.Failed as unknown[]) ?? []), ...failed] };
  },
};

/** DynamoDB BatchWriteItem / BatchGetItem: the requests of each table, some left unprocessed. */
function dynamoBatch(items: 'write' | 'get'): Batch {
  const listOf = (v: unknown): unknown[] => (items === 'write' ? (v as unknown[]) : (v as { Keys: unknown[] }).Keys);
  const withList = (v: unknown, list: unknown[]) =>
    items === 'write' ? list : { ...(v as Record<string, unknown>), Keys: list };
  const outKey = items === 'write' ? 'UnprocessedItems' : 'UnprocessedKeys';
  return {
    split(input, keep) {
      const request = (input.RequestItems as Record<string, unknown> | undefined) ?? {};
      const sent: Record<string, unknown> = {};
      const left: Record<string, unknown> = {};
      let n = 0;
      let kept = 0;
      for (const [table, v] of Object.entries(request)) {
        const list = listOf(v) ?? [];
        const s = list.filter(() => keep(n++));
        const l = list.filter((x) => !s.includes(x));
        kept += s.length;
        if (s.length > 0) sent[table] = withList(v, s);
        if (l.length > 0) left[table] = withList(v, l);
      }
      // DynamoDB refuses an empty RequestItems: at least one request goes through.
      if (Object.keys(left).length === 0 || kept === 0) return undefined;
      return { sent: { ...input, RequestItems: sent }, left };
    },
    report(output, left) {
      const had = (output[outKey] as Record<string, unknown> | undefined) ?? {};
      const merged: Record<string, unknown> = { ...had };
      for (const [table, v] of Object.entries(left as Record<string, unknown>)) {
        const before = had[table];
        merged[table] = before ? withList(v, [...listOf(before), ...listOf(v)]) : v;
      }
      return { ...output, [outKey]: merged };
    },
  };
}

const BATCHES: Readonly<Record<string, Batch>> = {
  'sqs.SendMessageBatch': sqsBatch,
  'sqs.DeleteMessageBatch': sqsBatch,
  'sqs.ChangeMessageVisibilityBatch': sqsBatch,
  'dynamodb.BatchWriteItem': dynamoBatch('write'),
  'dynamodb.BatchGetItem': dynamoBatch('get'),
};

const ALL_KINDS: readonly AwsFaultKind[] = ['throttle', 'server', 'timeout-before', 'timeout-after', 'partial'];

interface MiddlewareClient {
  readonly middlewareStack: unknown;
}
type Stack = { add: (mw: unknown, opts: Record<string, unknown>) => void };

export class AwsFaults {
  /** Faults are drawn only while active: off until a run turns them on (after the stack started). */
  active = false;
  readonly injected: InjectedFault[] = [];
  private readonly calls = new Map<string, number>();

  constructor(private readonly options: AwsFaultOptions) {}

  get seed(): number {
    return this.options.seed;
  }

  /** Adds the fault middleware to `client` (an AWS SDK v3 client of `service`). */
  readonly instrument = (client: MiddlewareClient, service: string): void => {
    if (!ERRORS[service]) return;
    // initialize: once per command, outside the SDK's retries (what the caller finally sees); in the
    // lib-dynamodb document form when a document client sent it, in and out alike.
    (client.middlewareStack as Stack).add(
      (next: Next, ctx: { commandName?: string }) => async (args: { input: Input }) => {
        const operation = (ctx.commandName ?? 'Unknown').replace(/Command$/, '');
        const kind = this.draw(service, operation);
        if (!kind) return next(args);
        return this.inject(kind, service, operation, next, args);
      },
      { step: 'initialize', priority: 'low', name: 'mailrouteAwsFaults' },
    );
  };

  /** Counts by `service.operation.kind`. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.injected) {
      const k = `${f.service}.${f.operation}.${f.kind}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  private draw(service: string, operation: string): AwsFaultKind | undefined {
    if (!this.active) return undefined;
    if (this.options.only && !this.options.only(service, operation)) return undefined;
    const label = `${service}.${operation}`;
    const n = (this.calls.get(label) ?? 0) + 1;
    this.calls.set(label, n);
    if (seededDraw(this.options.seed, `${label}#${n}`) >= this.options.rate) return undefined;
    const kinds = (this.options.kinds ?? ALL_KINDS).filter((k) => k !== 'partial' || BATCHES[label]);
    if (kinds.length === 0) return undefined;
    return kinds[Math.floor(seededDraw(this.options.seed, `${label}#${n}#kind`) * kinds.length)];
  }

  private async inject(kind: AwsFaultKind, service: string, operation: string, next: Next, args: { input: Input }) {
    const errors = ERRORS[service] as (typeof ERRORS)[string];
    const note = (entries?: number) =>
      this.injected.push({ service, operation, kind, ...(entries !== undefined ? { entries } : {}) });
    switch (kind) {
      case 'throttle':
        note();
        throw new InjectedError(errors.throttle[0], errors.throttle[1], `Rate exceeded (injected, ${operation})`);
      case 'server':
        note();
        throw new InjectedError(errors.server[0], errors.server[1], `Service unavailable (injected, ${operation})`);
      case 'timeout-before':
        note();
        throw new InjectedError('TimeoutError', undefined, `Connection timed out (injected, before ${operation})`);
      case 'timeout-after': {
        await next(args);
        note();
        throw new InjectedError('TimeoutError', undefined, `Socket timed out (injected, after ${operation})`);
      }
      case 'partial': {
        const batch = BATCHES[`${service}.${operation}`] as Batch;
        const salt = this.injected.length;
        const split = batch.split(args.input, (i) => seededDraw(this.options.seed, `${operation}#${salt}#${i}`) < 0.5);
        if (!split) return next(args);
        const out = await next({ ...args, input: split.sent });
        const left = Array.isArray(split.left)
          ? split.left.length
          : Object.values(split.left as Record<string, unknown>).length;
        note(left);
        return { ...out, output: batch.report(out.output, split.left) };
      }
    }
  }
}
