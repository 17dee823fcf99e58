/**
 * The KeyStore and RequestRateLimiter contracts: the same cases against the in-memory fakes and the
 * DynamoDB adapters on dynalite.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord, KeyStore, RequestRateLimiter } from '../../../functions/ports';
import { DynamoKeyStore } from '../../../functions/store/key-store';
import { DynamoRequestRateLimiter } from '../../../functions/store/request-rate-limiter';
import { useDynalite } from '../../support/dynalite';
import { MemoryKeys, MemoryRateLimiter } from '../../support/fakes';

const dynalite = useDynalite();

const key = (over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  name: `app-${randomUUID().slice(0, 8)}`,
  createdAt: '2026-11-22T10:00:00.000Z',
  scopes: ['send'],
  senderDomains: ['example.com'],
  ratePerSecond: 20,
  prefix: `mr_${randomUUID().slice(0, 7)}`,
  ...over,
});

describe.each([
  ['the fake', (): KeyStore => new MemoryKeys()],
  ['DynamoDB', (): KeyStore => new DynamoKeyStore(dynalite.db.doc, dynalite.db.tables.settings)],
] as const)('KeyStore contract: %s', (_name, make) => {
  it('finds a key by its hash, as it was stored (not revoked); an unknown hash finds nothing', async () => {
    const store = make();
    const k = key({ scopes: ['send', 'read', 'admin'], senderDomains: ['*'] });
    const hash = randomUUID();
    await store.put(hash, k);
    expect(await store.findByHash(hash)).toEqual({ ...k, revoked: false });
    expect(await store.findByHash(randomUUID())).toBeUndefined();
  });

  it('lists keys oldest first', async () => {
    const store = make();
    const newer = key({ createdAt: '2026-11-22T12:00:00.000Z' });
    const older = key({ createdAt: '2026-11-01T12:00:00.000Z' });
    await store.put(randomUUID(), newer);
    await store.put(randomUUID(), older);
    const names = (await store.list()).map((k) => k.name);
    expect(names.indexOf(older.name)).toBeGreaterThanOrEqual(0);
    expect(names.indexOf(older.name)).toBeLessThan(names.indexOf(newer.name));
  });

  it('revokes every key with a name, or with a prefix, and counts them; the keys stay listed as revoked', async () => {
    const store = make();
    const name = `shared-${randomUUID().slice(0, 8)}`;
    const [h1, h2, h3] = [randomUUID(), randomUUID(), randomUUID()];
    const a = key({ name });
    const b = key({ name });
    const c = key();
    await store.put(h1, a);
    await store.put(h2, b);
    await store.put(h3, c);
    expect(await store.revoke({ name })).toBe(2);
    expect(await store.findByHash(h1)).toMatchObject({ revoked: true });
    expect(await store.findByHash(h2)).toMatchObject({ revoked: true });
    expect(await store.findByHash(h3)).toMatchObject({ revoked: false });
    expect(await store.revoke({ prefix: c.prefix as string })).toBe(1);
    expect(await store.findByHash(h3)).toMatchObject({ revoked: true });
    expect(await store.revoke({ name: 'nobody-has-this-name' })).toBe(0);
    const listed = (await store.list()).filter((k) => k.name === name || k.name === c.name);
    expect(listed.map((k) => k.revoked)).toEqual([true, true, true]);
  });
});

describe.each([
  ['the fake', (): RequestRateLimiter => new MemoryRateLimiter()],
  ['DynamoDB', (): RequestRateLimiter => new DynamoRequestRateLimiter(dynalite.db.doc, dynalite.db.tables.rateWindows)],
] as const)('RequestRateLimiter contract: %s', (_name, make) => {
  it('allows `limit` requests per key and second, then asks to wait a second', async () => {
    const limiter = make();
    const k = randomUUID();
    const second = Date.parse('2026-11-22T10:00:00.000Z');
    const first = [];
    for (let i = 0; i < 4; i++) first.push(await limiter.take(k, 3, second + i * 100));
    expect(first).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: false, retryAfterSeconds: 1 }]);
    // The next second starts again; another key has its own count.
    expect(await limiter.take(k, 3, second + 1_000)).toEqual({ ok: true });
    expect(await limiter.take(randomUUID(), 3, second + 500)).toEqual({ ok: true });
  });

  it('of racing requests, exactly `limit` pass in one second', async () => {
    const limiter = make();
    const k = randomUUID();
    const now = Date.parse('2026-11-22T10:00:00.000Z');
    const results = await Promise.all(Array.from({ length: 12 }, () => limiter.take(k, 5, now)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
  });
});
