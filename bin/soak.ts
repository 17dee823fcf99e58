/**
 * `npm run soak` — a long run on the local stack (not in CI), all traffic to 127.0.0.1.
 *
 * Soak (default 20 minutes, `--duration 2m` for a shorter run): a steady mixed load — single and
 * batch sends with and without Idempotency-Key (some keys sent twice), bounces and complaints
 * through the SES mailbox simulator, opens and clicks of what was sent, status reads, a provider
 * settings change every minute (the chain order flips between SES and an HTTP relay that fails
 * 10 % of its requests). Then it reconciles: every accepted message in one final state (accepted =
 * the sum of the final states), every timeline consistent with its status, the suppression list
 * equal to the bounced and complained recipients, and the process heap (after GC) and open handles
 * flat over the run (their slopes are printed). One summary line; the exit code is 1 on any mismatch.
 *
 * Load (`--load`, default 2 minutes, `--clients 100`): the local API under concurrent clients
 * (single sends, keyed sends, status reads); every answer must be below 500, and the handler
 * overhead per request — its time minus the time spent in AWS calls, measured by a middleware on
 * the AWS clients — is reported as p50/p99 against the target p99 ≤ 5 ms. The emulators, the API
 * and the clients share this process (and the machine): the figures are upper bounds.
 */
import './local-env';
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TERMINAL } from '../functions/core/message';
import { documentClient } from '../functions/store/dynamo';
import { DynamoMessageStore } from '../functions/store/message-store';
import { type Relay, startRelay } from '../test/support/relay';
import { type LocalStack, startLocalStack } from './local-stack';

const RELAY_TOKEN = 'soak-relay-token-0123456789';
const SIMULATOR = 'simulator.amazonses.com';

interface Args {
  readonly load: boolean;
  readonly durationMs: number;
  readonly clients: number;
}

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`--duration takes a time like 90s, 2m or 20m, not "${s}"`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

function parseArgs(argv: readonly string[]): Args {
  const load = argv.includes('--load');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const duration = value('--duration');
  return {
    load,
    durationMs: duration ? parseDuration(duration) : load ? 120_000 : 20 * 60_000,
    clients: Number(value('--clients') ?? 100),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);

/** Least-squares slope of (x, y) samples, per unit of x. */
export function slope(samples: readonly { x: number; y: number }[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((a, s) => a + s.x, 0) / n;
  const my = samples.reduce((a, s) => a + s.y, 0) / n;
  const num = samples.reduce((a, s) => a + (s.x - mx) * (s.y - my), 0);
  const den = samples.reduce((a, s) => a + (s.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function call(
  stack: LocalStack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as Record<string, unknown> | undefined };
}

// ---------------------------------------------------------------------------------------------- load

async function runLoad(args: Args): Promise<number> {
  interface Timing {
    start: number;
    /** The AWS calls' intervals; a call still under way when the handler returns ends then. */
    aws: { start: number; end?: number }[];
  }
  const current = new AsyncLocalStorage<Timing>();
  const overheads: number[] = [];
  const totals: number[] = [];
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    pollers: 0,
    instrumentAws: (client) => {
      (client.middlewareStack as { add: (mw: unknown, o: Record<string, unknown>) => void }).add(
        (next: (a: unknown) => Promise<unknown>) => async (a: unknown) => {
          const call: { start: number; end?: number } = { start: performance.now() };
          current.getStore()?.aws.push(call);
          try {
            return await next(a);
          } finally {
            call.end = performance.now();
          }
        },
        { step: 'initialize', priority: 'high', name: 'soakAwsTime' },
      );
    },
    wrapHttp: (_fn, handler) => (event, context) => {
      const timing: Timing = { start: performance.now(), aws: [] };
      return current.run(timing, async () => {
        try {
          return await handler(event, context);
        } finally {
          const now = performance.now();
          const total = now - timing.start;
          // The union of the AWS calls' intervals (calls in parallel count once).
          let aws = 0;
          let end = Number.NEGATIVE_INFINITY;
          const calls = timing.aws.map((c) => [c.start, c.end ?? now] as const).sort((a, b) => a[0] - b[0]);
          for (const [s, e] of calls) {
            if (e <= end) continue;
            aws += e - Math.max(s, end);
            end = e;
          }
          totals.push(total);
          overheads.push(Math.max(0, total - aws));
        }
      });
    },
  });
  const statuses = new Map<number, number>();
  const ids: string[] = [];
  const until = Date.now() + args.durationMs;
  let n = 0;
  const client = async (c: number) => {
    while (Date.now() < until) {
      const i = n++;
      const kind = i % 20;
      let res: { status: number; body: Record<string, unknown> | undefined };
      try {
        if (kind < 3 && ids.length > 0) {
          res = await call(stack, 'GET', `/v1/emails/${ids[i % ids.length]}`);
        } else {
          const headers: Record<string, string> = kind < 6 ? { 'idempotency-key': `load-${c}-${i}` } : {};
          res = await call(
            stack,
            'POST',
            '/v1/emails',
            { from: 'app@example.com', to: `user${i % 50}@example.org`, subject: `load ${i}`, text: 'Hello' },
            headers,
          );
          if (res.status === 202 && typeof res.body?.id === 'string' && ids.length < 1000) ids.push(res.body.id);
        }
      } catch {
        res = { status: 0, body: undefined };
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: args.clients }, (_, c) => client(c)));
  const seconds = (Date.now() - started) / 1000;
  await stack.stop();

  const o = [...overheads].sort((a, b) => a - b);
  const t = [...totals].sort((a, b) => a - b);
  const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
  const errors = [...statuses].filter(([s]) => s >= 500 || s === 0).reduce((a, [, k]) => a + k, 0);
  const p99 = percentile(o, 99);
  const met = p99 <= 5;
  process.stdout.write(
    `load: ${args.clients} clients ${seconds.toFixed(0)} s ${requests} requests (${(requests / seconds).toFixed(0)}/s) ` +
      `answers ${[...statuses].map(([s, k]) => `${s}×${k}`).join(' ')} 5xx ${errors} | ` +
      `handler p50 ${percentile(t, 50).toFixed(2)} ms p99 ${percentile(t, 99).toFixed(2)} ms | ` +
      `overhead (minus AWS calls) p50 ${percentile(o, 50).toFixed(2)} ms p99 ${p99.toFixed(2)} ms target p99 ≤ 5 ms: ${met ? 'met' : 'NOT MET'}\n`,
  );
  return errors === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------- soak

/** A GC between heap samples, so the slope is of what is kept, not of garbage. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return () => gc?.();
}

interface Tracked {
  readonly id: string;
  readonly to: string;
}

async function runSoak(args: Args): Promise<number> {
  const relay: Relay = await startRelay();
  let draws = 0;
  // The relay fails one request in ten (a 500: down, so the chain fails over).
  relay.behave(() => ((draws++ * 7919) % 100 < 10 ? 'error' : 'accept'));
  const stack = await startLocalStack({
    apiPort: 0,
    sesPort: 0,
    awsPort: 0,
    dynamodbPort: 0,
    settingsCacheMs: 2_000,
    visibilityTimeoutSeconds: 5,
    circuit: { coolDownSeconds: 5, probeLeaseSeconds: 5, probeRecheckSeconds: 1 },
    providers: {
      providers: [
        { id: 'ses', type: 'ses' },
        { id: 'relay', type: 'http', url: relay.url, token: RELAY_TOKEN },
      ],
      chain: ['ses', 'relay'],
    },
  });
  const gc = collector();
  const accepted = new Map<string, Tracked>();
  const answers = new Map<number, number>();
  const count = (status: number) => answers.set(status, (answers.get(status) ?? 0) + 1);
  const started = Date.now();
  const until = started + args.durationMs;
  let n = 0;

  const recipient = (i: number) => {
    const r = i % 10;
    if (r === 0) return `bounce+${i}@${SIMULATOR}`;
    if (r === 1) return `complaint+${i}@${SIMULATOR}`;
    if (r < 6) return `success+${i}@${SIMULATOR}`;
    return `user${i}@example.org`;
  };
  const email = (i: number) => ({
    from: 'app@example.com',
    to: recipient(i),
    subject: `soak ${i}`,
    html: `<p>Hello ${i} <a href="https://example.com/soak/${i}">read</a></p>`,
  });
  const note = (res: { status: number; body: Record<string, unknown> | undefined }, emails: { to: string }[]) => {
    count(res.status);
    if (res.status !== 202 || !res.body) return;
    const ids =
      typeof res.body.id === 'string' ? [res.body.id] : ((res.body.data as { id: string }[]) ?? []).map((d) => d.id);
    ids.forEach((id, k) => {
      accepted.set(id, { id, to: emails[k]?.to ?? '' });
    });
  };

  const worker = async () => {
    while (Date.now() < until) {
      const i = n++;
      const kind = i % 10;
      try {
        if (kind < 5) {
          const e = email(i);
          const keyed = kind < 2;
          const headers: Record<string, string> = keyed ? { 'idempotency-key': `soak-${i}` } : {};
          note(await call(stack, 'POST', '/v1/emails', e, headers), [e]);
          if (kind === 0) note(await call(stack, 'POST', '/v1/emails', e, headers), [e]); // the same key again
        } else if (kind < 7) {
          const emails = Array.from({ length: 2 + (i % 4) }, (_, k) => email(i * 10 + k));
          const headers: Record<string, string> = kind === 5 ? { 'idempotency-key': `soak-batch-${i}` } : {};
          note(await call(stack, 'POST', '/v1/emails/batch', { emails }, headers), emails);
        } else if (kind < 9) {
          await engage();
        } else {
          const ids = [...accepted.keys()];
          const id = ids[i % Math.max(1, ids.length)];
          if (id) count((await call(stack, 'GET', `/v1/emails/${id}`)).status);
        }
      } catch {
        count(0);
      }
      await sleep(100);
    }
  };

  // Opens and clicks of what SES has sent (the inbox is read at most every 5 s).
  const engaged = new Set<string>();
  let links: string[] = [];
  let inboxReadAt = 0;
  async function engage() {
    if (Date.now() - inboxReadAt > 5_000) {
      inboxReadAt = Date.now();
      const res = await fetch(`${stack.sesUrl}/store`);
      const emails = ((await res.json()) as { emails: { messageId: string; body: { html?: string } }[] }).emails;
      links = [];
      for (const e of emails) {
        if (engaged.has(e.messageId) || !e.body.html) continue;
        engaged.add(e.messageId);
        for (const m of e.body.html.matchAll(/(?:src|href)="([^"]+\/(?:o|c)\/[^"]+)"/g)) {
          links.push((m[1] as string).replace(/&amp;/g, '&'));
        }
      }
    }
    const link = links.pop();
    if (!link) return;
    const url = new URL(link);
    count((await call(stack, 'GET', `${url.pathname}${url.search}`)).status);
  }

  // A settings change every minute: the chain order flips.
  let settingsChanges = 0;
  const settings = setInterval(() => {
    settingsChanges += 1;
    const chain = settingsChanges % 2 === 1 ? ['relay', 'ses'] : ['ses', 'relay'];
    call(stack, 'PUT', '/v1/settings/providers', { chain })
      .then((r) => count(r.status))
      .catch(() => count(0));
  }, 60_000);

  // Heap (after GC) and open handles, every 10 s.
  const heap: { x: number; y: number }[] = [];
  const handles: { x: number; y: number }[] = [];
  const sample = () => {
    gc();
    const minutes = (Date.now() - started) / 60_000;
    heap.push({ x: minutes, y: process.memoryUsage().heapUsed / 2 ** 20 });
    handles.push({ x: minutes, y: process.getActiveResourcesInfo().length });
  };
  sample();
  const sampler = setInterval(sample, 10_000);

  await Promise.all(Array.from({ length: 4 }, worker));
  clearInterval(settings);
  clearInterval(sampler);
  sample();

  // Drain: every accepted message final; deliveries and feedback arrive after `sent`.
  const store = new DynamoMessageStore(documentClient(stack.clients.dynamodb), stack.tables.messages);
  const ids = [...accepted.keys()];
  const read = async () => {
    const out = [];
    for (let k = 0; k < ids.length; k += 50)
      out.push(...(await Promise.all(ids.slice(k, k + 50).map((id) => store.get(id)))));
    return out;
  };
  const expectsFeedback = (to: string, provider: string | undefined) =>
    provider === 'ses' && to.endsWith(`@${SIMULATOR}`);
  let records = await read();
  const drainUntil = Date.now() + 120_000;
  const drained = () =>
    records.every(
      (r, k) =>
        r !== undefined &&
        TERMINAL.has(r.status) &&
        !(r.status === 'sent' && expectsFeedback(accepted.get(ids[k] ?? '')?.to ?? '', r.provider)),
    );
  while (!drained() && Date.now() < drainUntil) {
    await sleep(1_000);
    records = await read();
  }

  const mismatches: string[] = [];
  const byStatus = new Map<string, number>();
  const sentTo = new Set<string>();
  for (const [k, r] of records.entries()) {
    const id = ids[k] ?? '';
    if (!r) {
      mismatches.push(`${id}: no record`);
      continue;
    }
    byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    const types = r.events.map((e) => e.type);
    const has = (t: string) => types.includes(t);
    const problem =
      types[0] !== 'queued'
        ? 'timeline does not start queued'
        : types.filter((t) => t === 'sent').length > 1
          ? 'sent twice'
          : !TERMINAL.has(r.status)
            ? `still ${r.status}`
            : r.status === 'sent' && !has('sent')
              ? 'sent without a sent event'
              : r.status === 'delivered' && !(has('sent') && has('delivered'))
                ? 'delivered without sent and delivered events'
                : r.status === 'bounced' && !(has('sent') && has('bounced'))
                  ? 'bounced without sent and bounced events'
                  : r.status === 'complained' && !(has('sent') && has('complained'))
                    ? 'complained without sent and complained events'
                    : r.status === 'failed' && !(has('failed') || has('ambiguous'))
                      ? 'failed without a failed event'
                      : r.status === 'suppressed' && !has('suppressed')
                        ? 'suppressed without a suppressed event'
                        : r.status === 'sent' && expectsFeedback(accepted.get(id)?.to ?? '', r.provider)
                          ? 'sent through SES to the simulator, but no feedback arrived'
                          : undefined;
    if (problem) mismatches.push(`${id} (${r.status}): ${problem}`);
    if (r.status === 'bounced' || r.status === 'complained') sentTo.add((accepted.get(id)?.to ?? '').toLowerCase());
  }
  const finals = [...byStatus].filter(([s]) => TERMINAL.has(s as never)).reduce((a, [, k]) => a + k, 0);
  if (finals !== accepted.size) mismatches.push(`accepted ${accepted.size} ≠ final ${finals}`);

  // The suppression list is exactly the bounced and complained recipients.
  const suppressed = new Set<string>();
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const res = await call(
      stack,
      'GET',
      `/v1/suppressions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    for (const s of (res.body?.data as { address: string }[]) ?? []) suppressed.add(s.address.toLowerCase());
    cursor = (res.body?.next as string | null) ?? null;
  }
  for (const a of sentTo) if (!suppressed.has(a)) mismatches.push(`${a} bounced or complained, not suppressed`);
  for (const a of suppressed) if (!sentTo.has(a)) mismatches.push(`${a} suppressed, never bounced or complained`);

  const fivexx = [...answers].filter(([s]) => s >= 500 || s === 0).reduce((a, [, k]) => a + k, 0);
  if (fivexx > 0) mismatches.push(`${fivexx} answers were 5xx or failed connections`);
  // Flat: the heap holds what the emulators store (every record, every SES email) in this process too.
  const heapSlope = slope(heap);
  const handleSlope = slope(handles.slice(1));
  const HEAP_LIMIT_MB_PER_MIN = 8;
  const HANDLES_LIMIT_PER_MIN = 1;
  if (heapSlope > HEAP_LIMIT_MB_PER_MIN) mismatches.push(`heap grows ${heapSlope.toFixed(2)} MB/min`);
  if (handleSlope > HANDLES_LIMIT_PER_MIN) mismatches.push(`open handles grow ${handleSlope.toFixed(2)}/min`);

  clearInterval(sampler);
  await relay.close();
  await stack.stop();

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    `soak ${mismatches.length === 0 ? 'OK' : 'MISMATCH'}: ${minutes} min, accepted ${accepted.size} = ` +
      `${[...byStatus].map(([s, k]) => `${s} ${k}`).join(' + ')}; answers ${[...answers].map(([s, k]) => `${s}×${k}`).join(' ')}; ` +
      `suppressed ${suppressed.size} (bounced/complained ${sentTo.size}); relay requests ${relay.requests.length}; ` +
      `settings changes ${settingsChanges}; heap ${(heap.at(-1)?.y ?? 0).toFixed(0)} MB slope ${heapSlope.toFixed(2)} MB/min ` +
      `(≤ ${HEAP_LIMIT_MB_PER_MIN}); handles ${handles.at(-1)?.y ?? 0} slope ${handleSlope.toFixed(2)}/min (≤ ${HANDLES_LIMIT_PER_MIN}); ` +
      `mismatches ${mismatches.length}\n`,
  );
  for (const m of mismatches.slice(0, 20)) process.stderr.write(`  ${m}\n`);
  return mismatches.length === 0 ? 0 : 1;
}

const args = parseArgs(process.argv.slice(2));
process.exitCode = await (args.load ? runLoad(args) : runSoak(args));
