import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { availability, CIRCUIT, recent, tooManyErrors } from '../../../functions/core/health';
import { defaultsOf, effectiveChain, LocalProvidersConfig, ProvidersConfig } from '../../../functions/core/providers';
import { createProvider } from '../../../functions/providers/factory';

const issues = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('provider definitions', () => {
  const good = {
    providers: [
      { id: 'relay', type: 'http', url: 'https://relay.example.com/send', tokenSecret: 'mailroute/relay' },
      {
        id: 'azure',
        type: 'azure',
        connectionStringSecret: 'mailroute/azure',
        limits: [{ limit: 30, windowSeconds: 60 }],
      },
      {
        id: 'ses',
        type: 'ses',
        limits: [
          { limit: 14, windowSeconds: 1 },
          { limit: 50_000, windowSeconds: 86_400 },
        ],
      },
    ],
    chain: ['relay', 'ses', 'azure'],
  };

  it('accepts a deployable configuration', () => {
    expect(ProvidersConfig.safeParse(good).success).toBe(true);
  });

  it('refuses inline credentials where a secret name belongs, but allows them locally', () => {
    const inline = {
      providers: [{ id: 'r', type: 'http', url: 'https://r.example.com', token: 't0ken' }],
      chain: ['r'],
    };
    expect(issues(ProvidersConfig.safeParse(inline)).join()).toMatch(/providers\.0/);
    expect(LocalProvidersConfig.safeParse(inline).success).toBe(true);
  });

  it('names what is wrong: unknown chain ids, duplicates, bad limits, bad URLs', () => {
    const bad = {
      providers: [
        { id: 'a', type: 'http', url: 'ftp://x.example.com' },
        { id: 'a', type: 'ses', limits: [{ limit: -1, windowSeconds: 1 }] },
        { id: 'Bad Id', type: 'ses' },
      ],
      chain: ['a', 'zz', 'a'],
    };
    const found = issues(ProvidersConfig.safeParse(bad));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\.0\.url: /),
        expect.stringMatching(/^providers\.1\.limits\.0\.limit: limit must be at least 1/),
        expect.stringMatching(/^providers\.2\.id: /),
      ]),
    );
    const chain = issues(
      ProvidersConfig.safeParse({
        ...bad,
        providers: [
          { id: 'a', type: 'ses' },
          { id: 'a', type: 'ses' },
        ],
      }),
    );
    expect(chain).toEqual(
      expect.arrayContaining([
        'providers.1.id: "a" is defined twice',
        'chain.1: no provider is defined with id "zz"',
        'chain.2: "a" is listed twice',
      ]),
    );
  });

  it('the effective chain: live order, flags and limits over the definitions; unknown ids ignored', () => {
    const defs = ProvidersConfig.parse(good).providers;
    const live = { ...defaultsOf({ providers: defs, chain: good.chain }), chain: ['ses', 'gone', 'relay'] };
    live.providers = { ...live.providers, relay: { enabled: false, limits: [{ limit: 1, windowSeconds: 1 }] } };
    expect(effectiveChain(defs, live)).toEqual([
      { id: 'ses', type: 'ses', enabled: true, limits: good.providers[2]?.limits, maxMessageBytes: 40_000_000 },
      {
        id: 'relay',
        type: 'http',
        enabled: false,
        limits: [{ limit: 1, windowSeconds: 1 }],
        maxMessageBytes: 10 * 1024 * 1024,
      },
    ]);
  });
});

describe('provider health', () => {
  const NOW = Date.parse('2026-11-22T10:00:00Z');
  const b = Math.floor(NOW / 10_000);

  it('opens only with enough attempts and a high enough error rate, within the recent window', () => {
    const few = { state: 'closed' as const, buckets: { [b]: { attempts: CIRCUIT.minAttempts - 1, errors: 4 } } };
    expect(tooManyErrors(few, NOW)).toBe(false);
    const many = { state: 'closed' as const, buckets: { [b]: { attempts: 10, errors: 5 } } };
    expect(tooManyErrors(many, NOW)).toBe(true);
    expect(tooManyErrors({ ...many, buckets: { [b]: { attempts: 10, errors: 4 } } }, NOW)).toBe(false);
    // Six minutes later those errors are history.
    expect(tooManyErrors(many, NOW + 6 * 60_000)).toBe(false);
  });

  it('forgets what happened before the circuit closed', () => {
    const h = {
      state: 'closed' as const,
      sinceMs: NOW,
      buckets: { [b]: { attempts: 10, errors: 10 }, [b + 1]: { attempts: 2, errors: 0 } },
    };
    expect(recent(h, NOW + 10_000)).toEqual({ attempts: 2, errors: 0, errorRate: 0 });
  });

  it('skips an open circuit until its cool-down ends, then offers a probe', () => {
    const open = { state: 'open' as const, untilMs: NOW + 1000, buckets: {} };
    expect(availability(open, NOW)).toEqual({ kind: 'skip', untilMs: NOW + 1000 });
    expect(availability(open, NOW + 1000)).toEqual({ kind: 'probe' });
    expect(availability({ state: 'closed', buckets: {} }, NOW)).toEqual({ kind: 'use' });
  });
});

describe('provider factory', () => {
  const ses = {} as SESv2Client;
  const email = {
    id: 'm1',
    from: 'a@example.com',
    to: ['b@example.org'],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 's',
    text: 't',
    headers: {},
    tags: {},
    category: 'transactional',
  } as never;

  it('reports a provider whose secret is missing as broken, and one that could not be read as down', async () => {
    const missing = createProvider(
      { id: 'r', type: 'http', url: 'https://r.example.com', tokenSecret: 'nope' },
      {
        ses,
        secret: async () =>
          Promise.reject(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' })),
      },
    );
    expect(await missing.send(email)).toMatchObject({ kind: 'broken' });
    const flaky = createProvider(
      { id: 'r', type: 'http', url: 'https://r.example.com', tokenSecret: 'x' },
      { ses, secret: async () => Promise.reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })) },
    );
    expect(await flaky.send(email)).toMatchObject({ kind: 'down' });
  });

  it('reads the secret once, sends its token, and marks HTTP and Azure providers idempotent', async () => {
    let reads = 0;
    const seen: string[] = [];
    const provider = createProvider(
      { id: 'r', type: 'http', url: 'https://r.example.com', tokenSecret: 'relay-token' },
      {
        ses,
        secret: async () => {
          reads += 1;
          return 's3cret\n';
        },
        fetch: (async (_url: string, init: RequestInit) => {
          seen.push((init.headers as Record<string, string>).Authorization ?? '');
          return new Response('{"id":"x1"}', { status: 200 });
        }) as typeof fetch,
      },
    );
    expect(await provider.send(email)).toEqual({ kind: 'accepted', providerMessageId: 'x1' });
    await provider.send(email);
    expect(reads).toBe(1);
    expect(seen).toEqual(['Bearer s3cret', 'Bearer s3cret']);
    expect(provider.idempotent).toBe(true);
    expect(createProvider({ id: 'az', type: 'azure', connectionStringSecret: 'a' }, { ses }).idempotent).toBe(true);
    expect(createProvider({ id: 'ses-eu', type: 'ses' }, { ses })).toMatchObject({ id: 'ses-eu' });
  });
});
