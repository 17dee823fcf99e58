/** GET/PUT /v1/settings/providers: the live chain, its validation, concurrency and the health view. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createHttpHandler } from '../../../functions/app/http';
import { logger, metrics } from '../../../functions/app/observability';
import { providerSettingsRoutes } from '../../../functions/app/provider-settings';
import type { AnyProviderDef } from '../../../functions/core/providers';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryProviderSettings, MemoryRateWindows } from '../../support/fakes';

const ADMIN = 'mr_admin_key_0123456789';
const SENDER = 'mr_send_key_0123456789';
const NOW = Date.parse('2026-11-22T10:00:00Z');
const DEFS: AnyProviderDef[] = [
  { id: 'relay', type: 'http', url: 'https://relay.example.com/send', limits: [{ limit: 10, windowSeconds: 1 }] },
  { id: 'azure', type: 'azure', connectionStringSecret: 'mailroute/azure' },
  { id: 'ses', type: 'ses', limits: [{ limit: 14, windowSeconds: 1 }] },
];
let store: MemoryProviderSettings;
let handler: ReturnType<typeof createHttpHandler>;

beforeEach(async () => {
  store = new MemoryProviderSettings();
  const keys = new MemoryKeys();
  const key = { createdAt: '', senderDomains: ['*'], ratePerSecond: 100 };
  await keys.put(hashKey(ADMIN), { ...key, name: 'ops', scopes: ['read', 'admin'] });
  await keys.put(hashKey(SENDER), { ...key, name: 'app', scopes: ['send', 'read'] });
  handler = createHttpHandler(
    providerSettingsRoutes({ defs: DEFS, chain: ['relay', 'ses'], store }, () => new Date(NOW)),
    { auth: new Authenticator(keys), logger, metrics },
  );
});

async function call(routeKey: string, body?: unknown, key = ADMIN) {
  const event = httpEvent(routeKey, {
    headers: { authorization: `Bearer ${key}` },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

describe('GET /v1/settings/providers', () => {
  it('shows the deployed defaults with each provider, its position, limits and health', async () => {
    store.health.set('relay', {
      state: 'open',
      untilMs: NOW + 20_000,
      reason: 'broken: HTTP 401',
      buckets: { [Math.floor(NOW / 10_000)]: { attempts: 4, errors: 3 } },
    });
    const res = await call('GET /v1/settings/providers');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ chain: ['relay', 'ses'], source: 'defaults', version: 0, cacheSeconds: 30 });
    expect(res.body.providers).toEqual([
      {
        id: 'relay',
        type: 'http',
        enabled: true,
        position: 1,
        limits: [{ limit: 10, windowSeconds: 1 }],
        warmUp: null,
        throttle: {
          rateFactor: 1,
          effectiveLimits: [{ limit: 10, windowSeconds: 1 }],
          lastThrottleAt: null,
          fullRateAt: null,
        },
        health: {
          circuit: 'open',
          openUntil: new Date(NOW + 20_000).toISOString(),
          reason: 'broken: HTTP 401',
          errorRate: 0.75,
          attempts: 4,
          errors: 3,
          windowMinutes: 5,
        },
      },
      expect.objectContaining({ id: 'azure', type: 'azure', position: null }),
      expect.objectContaining({ id: 'ses', position: 2, health: expect.objectContaining({ circuit: 'closed' }) }),
    ]);
    // Secrets never appear, not even their names.
    expect(JSON.stringify(res.body)).not.toContain('mailroute/azure');
  });

  it('shows a provider taken out of the chain, whose cool-down is long over, half-open with no stale openUntil', async () => {
    store.health.set('azure', { state: 'open', untilMs: NOW - 3_600_000, reason: 'down: HTTP 503', buckets: {} });
    const azure = (await call('GET /v1/settings/providers')).body.providers.find(
      (p: { id: string }) => p.id === 'azure',
    );
    expect(azure).toMatchObject({
      position: null,
      health: { circuit: 'half-open', openUntil: null, reason: 'down: HTTP 503' },
    });
  });

  it('needs an admin key', async () => {
    expect((await call('GET /v1/settings/providers', undefined, SENDER)).status).toBe(403);
    expect((await call('PUT /v1/settings/providers', { chain: ['ses'] }, SENDER)).status).toBe(403);
    expect(store.live).toBeUndefined();
  });
});

describe('PUT /v1/settings/providers', () => {
  it('reorders, enables and sets limits; later reads show the saved settings', async () => {
    const res = await call('PUT /v1/settings/providers', {
      chain: ['azure', 'ses', 'relay'],
      providers: { relay: { enabled: false }, ses: { limits: [{ limit: 50_000, windowSeconds: 86_400 }] } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ chain: ['azure', 'ses', 'relay'], source: 'settings', version: 1 });
    expect(store.live?.providers).toEqual({
      relay: { enabled: false, limits: [{ limit: 10, windowSeconds: 1 }] },
      azure: { enabled: true, limits: [] },
      ses: { enabled: true, limits: [{ limit: 50_000, windowSeconds: 86_400 }] },
    });
    // A partial update keeps what it does not name.
    const again = await call('PUT /v1/settings/providers', { providers: { relay: { enabled: true } } });
    expect(again.body).toMatchObject({ chain: ['azure', 'ses', 'relay'], version: 2 });
    expect((await call('GET /v1/settings/providers')).body.providers[0]).toMatchObject({ id: 'relay', enabled: true });
  });

  const refused: [string, unknown, string][] = [
    ['an unknown id in the chain', { chain: ['ses', 'sendgrid'] }, 'chain.1'],
    ['an id twice', { chain: ['ses', 'ses'] }, 'chain.1'],
    ['an empty chain', { chain: [] }, 'chain'],
    ['an unknown provider', { providers: { mailgun: { enabled: false } } }, 'providers.mailgun'],
    [
      'a zero limit',
      { providers: { ses: { limits: [{ limit: 0, windowSeconds: 1 }] } } },
      'providers.ses.limits.0.limit',
    ],
    [
      'a fractional window',
      { providers: { ses: { limits: [{ limit: 5, windowSeconds: 1.5 }] } } },
      'providers.ses.limits.0.windowSeconds',
    ],
    [
      'a window declared twice',
      {
        providers: {
          ses: {
            limits: [
              { limit: 5, windowSeconds: 1 },
              { limit: 9, windowSeconds: 1 },
            ],
          },
        },
      },
      'providers.ses.limits',
    ],
    ['an unknown field', { chain: ['ses'], order: ['ses'] }, ''],
    ['a type change', { providers: { ses: { type: 'http' } } }, 'providers.ses'],
  ];
  for (const [what, body, path] of refused) {
    it(`refuses ${what} with a 422 naming the field, and changes nothing`, async () => {
      const res = await call('PUT /v1/settings/providers', body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      if (path) expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      expect(store.live).toBeUndefined();
    });
  }

  it('takes back the document a GET returned, edited (read-only parts ignored), and saves the edit', async () => {
    store.health.set('relay', { state: 'open', untilMs: NOW + 20_000, reason: 'down: HTTP 503', buckets: {} });
    const doc = (await call('GET /v1/settings/providers')).body;
    doc.chain = ['ses', 'relay'];
    doc.providers[0].enabled = false;
    doc.providers[2].limits = [{ limit: 20, windowSeconds: 1 }];
    const res = await call('PUT /v1/settings/providers', doc);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ chain: ['ses', 'relay'], source: 'settings', version: 1 });
    expect(store.live).toMatchObject({
      chain: ['ses', 'relay'],
      version: 1,
      providers: {
        relay: { enabled: false, limits: [{ limit: 10, windowSeconds: 1 }] },
        azure: { enabled: true },
        ses: { enabled: true, limits: [{ limit: 20, windowSeconds: 1 }] },
      },
    });
    // Unchanged, it saves the same settings again (a new version).
    const again = (await call('GET /v1/settings/providers')).body;
    expect((await call('PUT /v1/settings/providers', again)).status).toBe(200);
    expect(store.live).toMatchObject({ chain: ['ses', 'relay'], version: 2 });
  });

  it('refuses (409) a GET document whose version is stale, so it never overwrites a newer change', async () => {
    const stale = (await call('GET /v1/settings/providers')).body;
    await call('PUT /v1/settings/providers', { providers: { relay: { enabled: false } } });
    stale.chain = ['ses'];
    const res = await call('PUT /v1/settings/providers', stale);
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(res.body.error.message).toMatch(/since version 0 was read .*version 1/);
    expect(store.live).toMatchObject({ chain: ['relay', 'ses'], version: 1, providers: { relay: { enabled: false } } });
    // A partial update may carry the version it was based on too.
    expect((await call('PUT /v1/settings/providers', { chain: ['ses'], version: 0 })).status).toBe(409);
    expect((await call('PUT /v1/settings/providers', { chain: ['ses'], version: 1 })).status).toBe(200);
  });

  it('refuses a GET document that changes a type, names an unknown provider or has another field (422)', async () => {
    const doc = (await call('GET /v1/settings/providers')).body;
    const typed = structuredClone(doc);
    typed.providers[0].type = 'ses';
    expect((await call('PUT /v1/settings/providers', typed)).body.error.details).toEqual([
      { path: 'providers.0.type', message: '"relay" is a provider of type "http"; types are set at deploy time' },
    ]);
    const unknown = structuredClone(doc);
    unknown.providers.push({ id: 'nope', enabled: true });
    expect((await call('PUT /v1/settings/providers', unknown)).body.error.details).toEqual([
      { path: 'providers.3.id', message: 'no provider is defined with id "nope"' },
    ]);
    const extra = structuredClone(doc);
    extra.providers[1].url = 'https://elsewhere.example';
    expect((await call('PUT /v1/settings/providers', extra)).body.error.details).toEqual([
      {
        path: 'providers.1',
        message: 'unknown field `providers.1.url`: it is not part of this request (check the spelling)',
      },
    ]);
    expect(store.live).toBeUndefined();
  });

  it('refuses a body that is not JSON with a 400', async () => {
    expect((await call('PUT /v1/settings/providers', '{"chain":')).status).toBe(400);
  });

  it('applies an update over a change saved meanwhile instead of overwriting it', async () => {
    await call('PUT /v1/settings/providers', { chain: ['ses', 'relay'] });
    const load = store.load.bind(store);
    let raced = false;
    store.load = async (ids) => {
      const out = await load(ids);
      if (!raced && ids.length === 0) {
        raced = true; // another admin saves between our read and our write
        const saved = structuredClone(store.live) as NonNullable<typeof store.live>;
        store.live = { ...saved, providers: { ...saved.providers, azure: { enabled: false, limits: [] } }, version: 2 };
      }
      return out;
    };
    const res = await call('PUT /v1/settings/providers', { providers: { relay: { enabled: false } } });
    expect(res.status).toBe(200);
    expect(store.live).toMatchObject({ version: 3 });
    expect(store.live?.providers.azure?.enabled).toBe(false);
    expect(store.live?.providers.relay?.enabled).toBe(false);
  });
});

describe('the adaptive throttle and warm-up in the provider settings', () => {
  let windows: MemoryRateWindows;
  const callWith = async (routeKey: string, body?: unknown) => {
    const keys = new MemoryKeys();
    await keys.put(hashKey(ADMIN), {
      createdAt: '',
      senderDomains: ['*'],
      ratePerSecond: 100,
      name: 'ops',
      scopes: ['read', 'admin'],
    });
    const h = createHttpHandler(
      providerSettingsRoutes({ defs: DEFS, chain: ['relay', 'ses'], store, windows }, () => new Date(NOW)),
      { auth: new Authenticator(keys), logger, metrics },
    );
    const event = httpEvent(routeKey, {
      headers: { authorization: `Bearer ${ADMIN}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const res = (await h(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const provider = (body: { providers: { id: string }[] }, id: string) =>
    body.providers.find((p) => p.id === id) as Record<string, unknown>;

  beforeEach(() => {
    windows = new MemoryRateWindows();
  });

  it('shows the effective rate a throttle without Retry-After lowered, and when it is back at full rate', async () => {
    await windows.throttled('relay', NOW - 60_000);
    const res = await callWith('GET /v1/settings/providers');
    expect(res.status).toBe(200);
    // Halved a minute ago, 10 % of the declared rate won back since.
    expect(provider(res.body, 'relay').throttle).toEqual({
      rateFactor: 0.6,
      effectiveLimits: [{ limit: 6, windowSeconds: 1 }],
      lastThrottleAt: new Date(NOW - 60_000).toISOString(),
      fullRateAt: new Date(NOW - 60_000 + 5 * 60_000).toISOString(),
    });
    expect(provider(res.body, 'ses').throttle).toMatchObject({ rateFactor: 1, lastThrottleAt: null });
  });

  it('switches warm-up on with a start date of today, shows the day’s allowance, and off with null', async () => {
    const on = await callWith('PUT /v1/settings/providers', {
      providers: { ses: { warmUp: { startPerDay: 500, growth: 1.5 } } },
    });
    expect(on.status).toBe(200);
    expect(store.live?.providers.ses?.warmUp).toEqual({ startPerDay: 500, growth: 1.5, startDate: '2026-11-22' });
    expect(provider(on.body, 'ses').warmUp).toEqual({
      startPerDay: 500,
      growth: 1.5,
      startDate: '2026-11-22',
      todayPerDay: 500,
      complete: false,
    });
    // The GET document sent back as it is keeps the ramp (its read-only parts are ignored).
    const doc = (await callWith('GET /v1/settings/providers')).body;
    const again = await callWith('PUT /v1/settings/providers', doc);
    expect(again.status).toBe(200);
    expect(store.live?.providers.ses?.warmUp).toEqual({ startPerDay: 500, growth: 1.5, startDate: '2026-11-22' });
    const off = await callWith('PUT /v1/settings/providers', { providers: { ses: { warmUp: null } } });
    expect(off.status).toBe(200);
    expect(store.live?.providers.ses?.warmUp).toBeUndefined();
    expect(provider(off.body, 'ses').warmUp).toBeNull();
  });

  it.each([
    [{ startPerDay: 0, growth: 1.5 }, 'providers.ses.warmUp.startPerDay'],
    [{ startPerDay: 500, growth: 0.5 }, 'providers.ses.warmUp.growth'],
    [{ startPerDay: 500, growth: 1.5, startDate: '2026-13-45' }, 'providers.ses.warmUp.startDate'],
    [{ startPerDay: 500, growth: 1.5, perHour: 3 }, 'providers.ses.warmUp'],
  ])('refuses the warm-up %j with a 422 naming the field, and saves nothing', async (warmUp, path) => {
    const res = await callWith('PUT /v1/settings/providers', { providers: { ses: { warmUp } } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain(path);
    expect(store.live).toBeUndefined();
  });
});
