/**
 * A local stack whose provider chain is two local relays and the local SES:
 * relay-a → relay-b → ses, with short settings caching so a PUT takes effect quickly.
 */
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../bin/local-stack';
import { hashKey } from '../../functions/app/auth';
import { type Status, TERMINAL } from '../../functions/core/message';
import type { LocalProviderDef, RateLimit } from '../../functions/core/providers';
import type { Scope } from '../../functions/ports';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoKeyStore } from '../../functions/store/key-store';
import { api, type InboxEmail, inbox } from './local';
import { type Relay, startRelay } from './relay';

export interface RelayOptions {
  readonly timeoutMs?: number;
  readonly limits?: RateLimit[];
}

export interface ChainStackOptions {
  readonly a?: RelayOptions;
  readonly b?: RelayOptions;
  /** @default 300 */
  readonly settingsCacheMs?: number;
  /** Circuit timings over the defaults (short ones keep a scenario from waiting out production cool-downs). */
  readonly circuit?: LocalStackOptions['circuit'];
  /** The adaptive throttle's policy over the defaults (a quick recovery keeps a scenario short). */
  readonly adaptiveThrottle?: LocalStackOptions['adaptiveThrottle'];
}

export interface ChainStack {
  readonly stack: LocalStack;
  readonly a: Relay;
  readonly b: Relay;
  /**
   * Waits out the dispatchers' settings cache after a PUT (its time plus a margin for a read that
   * was under way during the PUT). Not a drain check: the cache expires by time, and nothing on the
   * queues shows when; with no traffic a dispatcher reads the settings only at its next batch.
   */
  readonly settle: () => Promise<void>;
  stop(): Promise<void>;
}

export const TOKEN = 'relay-token-0123456789';

const relayDef = (id: string, relay: Relay, o: RelayOptions = {}): LocalProviderDef => ({
  id,
  type: 'http',
  url: relay.url,
  token: TOKEN,
  ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  ...(o.limits ? { limits: o.limits } : {}),
});

export async function startChainStack(options: ChainStackOptions = {}): Promise<ChainStack> {
  const a = await startRelay();
  const b = await startRelay().catch(async (e) => {
    await a.close();
    throw e;
  });
  const cacheMs = options.settingsCacheMs ?? 300;
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      apiPort: 0,
      sesPort: 0,
      awsPort: 0,
      dynamodbPort: 0,
      settingsCacheMs: cacheMs,
      ...(options.circuit ? { circuit: options.circuit } : {}),
      ...(options.adaptiveThrottle ? { adaptiveThrottle: options.adaptiveThrottle } : {}),
      providers: {
        providers: [relayDef('relay-a', a, options.a), relayDef('relay-b', b, options.b), { id: 'ses', type: 'ses' }],
        chain: ['relay-a', 'relay-b', 'ses'],
      },
    });
  } catch (e) {
    await Promise.all([a.close(), b.close()]);
    throw e;
  }
  return {
    stack,
    a,
    b,
    settle: () => new Promise((r) => setTimeout(r, cacheMs + 200)),
    stop: async () => {
      // Relays first: a hanging request would otherwise hold the dispatcher until its timeout.
      await Promise.all([a.close(), b.close()]);
      await stack.stop();
    },
  };
}

/** An API key with the given scopes (any sender domain), stored as the key CLI stores one. */
export async function createKey(stack: LocalStack, name: string, scopes: Scope[]): Promise<string> {
  const key = `mr_test_${name}_${Math.random().toString(36).slice(2, 12)}`;
  await new DynamoKeyStore(documentClient(stack.clients.dynamodb), stack.tables.settings).put(hashKey(key), {
    name,
    createdAt: new Date().toISOString(),
    scopes,
    senderDomains: ['*'],
    ratePerSecond: 10_000,
    prefix: key.slice(0, 10),
  });
  return key;
}

export interface Sent {
  readonly id: string;
  readonly subject: string;
}

/** Sends `n` emails through the API (batch endpoint), subjects `${prefix}-${i}`. */
export async function sendMany(stack: LocalStack, prefix: string, n: number): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let start = 0; start < n; start += 100) {
    const emails = Array.from({ length: Math.min(100, n - start) }, (_, i) => ({
      from: 'app@example.com',
      to: 'user@example.org',
      subject: `${prefix}-${start + i}`,
      text: 'Hello',
    }));
    const res = await api(stack, 'POST', '/v1/emails/batch', { emails });
    if (res.status !== 202) throw new Error(`batch send answered ${res.status}: ${JSON.stringify(res.body)}`);
    (res.body.data as { id: string }[]).forEach((d, i) => {
      out.push({ id: d.id, subject: emails[i]?.subject ?? '' });
    });
  }
  return out;
}

/**
 * The SES inbox as message ids (the X-Mailroute-Id header SES mail carries), only those of `ids`:
 * the SES emulator keeps one inbox for the whole process, whatever stack sent to it.
 */
export async function sesIds(stack: LocalStack, ids: readonly string[]): Promise<string[]> {
  const wanted = new Set(ids);
  const emails: InboxEmail[] = await inbox(stack);
  return emails.flatMap((e) => {
    const h = e.headers?.find((x) => x.name.toLowerCase() === 'x-mailroute-id');
    return h && wanted.has(h.value) ? [h.value] : [];
  });
}

export interface EmailView {
  id: string;
  status: string;
  provider: string | null;
  reason?: string;
  attempts: number;
  events: { type: string; at: string; detail?: Record<string, unknown> }[];
}

export async function view(stack: LocalStack, id: string): Promise<EmailView> {
  const r = await api(stack, 'GET', `/v1/emails/${id}`);
  if (r.status !== 200) throw new Error(`GET /v1/emails/${id} answered ${r.status}`);
  return r.body as EmailView;
}

/** Waits until every id is in a terminal state; returns the views. */
export async function allTerminal(stack: LocalStack, ids: readonly string[], timeoutMs: number): Promise<EmailView[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(ids.map((id) => view(stack, id)));
    if (views.every((v) => TERMINAL.has(v.status as Status))) return views;
    if (Date.now() > until) {
      const open = views.filter((v) => !TERMINAL.has(v.status as Status)).map((v) => `${v.id}: ${v.status}`);
      throw new Error(`timed out waiting for ${open.length} messages to end: ${open.slice(0, 10).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
