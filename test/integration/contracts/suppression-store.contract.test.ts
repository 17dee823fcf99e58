/**
 * The SuppressionStore contract: the same cases against the in-memory fake and the DynamoDB
 * adapter on dynalite (re-enable ordering, scopes, soft bounces, paging).
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { SuppressionEntry, SuppressionRecord, SuppressionStore } from '../../../functions/ports';
import { DynamoSuppressionStore } from '../../../functions/store/suppression-store';
import { useDynalite } from '../../support/dynalite';
import { MemorySuppression } from '../../support/fakes';

const dynalite = useDynalite();
const T1 = '2026-11-22T10:00:00.000Z';
const T2 = '2026-11-22T11:00:00.000Z';
const T3 = '2026-11-22T12:00:00.000Z';

/** A fresh address, so cases never see each other's items. */
const address = () => `${randomUUID()}@example.org`;
const entry = (addr: string, over: Partial<SuppressionEntry> = {}): SuppressionEntry => ({
  address: addr,
  scope: '*',
  reason: 'hard_bounce',
  source: 'ses',
  at: T1,
  ...over,
});
const byScope = (records: SuppressionRecord[]) => [...records].sort((a, b) => a.scope.localeCompare(b.scope));

describe.each([
  ['the fake', (): SuppressionStore => new MemorySuppression()],
  ['DynamoDB', (): SuppressionStore => new DynamoSuppressionStore(dynalite.db.doc, dynalite.db.tables.suppression)],
] as const)('SuppressionStore contract: %s', (_name, make) => {
  describe('suppress, reenable, get', () => {
    it('suppresses an address per scope, and reads back what it stored', async () => {
      const store = make();
      const a = address();
      expect(await store.suppress(entry(a, { detail: { bounceType: 'Permanent' }, messageId: 'm-1' }))).toBe(true);
      expect(
        await store.suppress(entry(a, { scope: 'newsletter', reason: 'unsubscribe', source: 'unsubscribe' })),
      ).toBe(true);
      expect(byScope(await store.get(a))).toEqual([
        {
          address: a,
          scope: '*',
          active: true,
          reason: 'hard_bounce',
          source: 'ses',
          at: T1,
          detail: { bounceType: 'Permanent' },
          messageId: 'm-1',
        },
        {
          address: a,
          scope: 'newsletter',
          active: true,
          reason: 'unsubscribe',
          source: 'unsubscribe',
          at: T1,
          detail: {},
        },
      ]);
      expect(await store.get(address())).toEqual([]);
    });

    it('a re-enable wins over a replayed older suppression; a newer one suppresses again', async () => {
      const store = make();
      const a = address();
      const key = { address: a, scope: '*' };
      expect(await store.suppress(entry(a, { at: T1 }))).toBe(true);
      expect(await store.reenable(key, T2)).toBe(true);
      // The bounce of T1 replayed: the address stays re-enabled.
      expect(await store.suppress(entry(a, { at: T1 }))).toBe(false);
      // At the very time of the re-enable: the re-enable still wins.
      expect(await store.suppress(entry(a, { at: T2 }))).toBe(false);
      expect(await store.get(a)).toEqual([expect.objectContaining({ active: false, reenabledAt: T2 })]);
      expect(await store.suppressedAmong([key])).toEqual(new Set());
      // A bounce after the re-enable suppresses again, and keeps the re-enable time.
      expect(await store.suppress(entry(a, { at: T3 }))).toBe(true);
      expect(await store.get(a)).toEqual([expect.objectContaining({ active: true, at: T3, reenabledAt: T2 })]);
      expect(await store.suppressedAmong([key])).toEqual(new Set([`${a}|*`]));
    });

    it('reenable answers whether a suppression was active, and keeps what it lifted', async () => {
      const store = make();
      const a = address();
      const key = { address: a, scope: '*' };
      await store.suppress(entry(a, { reason: 'complaint', detail: { feedbackType: 'abuse' } }));
      expect(await store.reenable(key, T2)).toBe(true);
      expect(await store.reenable(key, T3)).toBe(false);
      expect(await store.get(a)).toEqual([
        {
          address: a,
          scope: '*',
          active: false,
          reason: 'complaint',
          source: 'ses',
          at: T1,
          detail: { feedbackType: 'abuse' },
          reenabledAt: T3,
        },
      ]);
    });

    it('a re-enable of an address never suppressed answers false and still blocks older suppressions', async () => {
      const store = make();
      const a = address();
      expect(await store.reenable({ address: a, scope: '*' }, T2)).toBe(false);
      expect(await store.get(a)).toEqual([
        { address: a, scope: '*', active: false, reason: 'manual', source: 'unknown', at: '', reenabledAt: T2 },
      ]);
      expect(await store.suppress(entry(a, { at: T1 }))).toBe(false);
      expect(await store.suppress(entry(a, { at: T3 }))).toBe(true);
    });

    it('a re-enable of one scope leaves the others suppressed', async () => {
      const store = make();
      const a = address();
      await store.suppress(entry(a));
      await store.suppress(entry(a, { scope: 'newsletter' }));
      await store.reenable({ address: a, scope: 'newsletter' }, T2);
      expect(
        await store.suppressedAmong([
          { address: a, scope: '*' },
          { address: a, scope: 'newsletter' },
        ]),
      ).toEqual(new Set([`${a}|*`]));
    });
  });

  describe('suppressedAmong', () => {
    it('finds the active suppressions among more keys than one BatchGetItem takes, by exact scope', async () => {
      const store = make();
      const prefix = randomUUID().slice(0, 8);
      const at = (i: number) => `${prefix}-x${i}@example.org`;
      await store.suppress(entry(at(7)));
      await store.suppress(entry(at(150)));
      await store.suppress(entry(at(9), { scope: 'marketing' }));
      await store.suppress(entry(at(11)));
      await store.reenable({ address: at(11), scope: '*' }, T2);
      const keys = Array.from({ length: 180 }, (_, i) => ({ address: at(i), scope: '*' }));
      // The same key twice is one answer.
      keys.push({ address: at(7), scope: '*' });
      expect([...(await store.suppressedAmong(keys))].sort()).toEqual([`${at(150)}|*`, `${at(7)}|*`]);
      expect(await store.suppressedAmong([])).toEqual(new Set());
    });
  });

  describe('recordSoftBounce', () => {
    it('counts transient bounces within the window, each feedback id once', async () => {
      const store = make();
      const a = address();
      const now = Date.parse(T3);
      expect(await store.recordSoftBounce(a, 'fb-1', '2026-11-19T12:00:00.000Z', 72, now)).toBe(1);
      expect(await store.recordSoftBounce(a, 'fb-2', '2026-11-22T09:00:00.000Z', 72, now)).toBe(2);
      // The same notification again (SNS redelivery) counts once.
      expect(await store.recordSoftBounce(a, 'fb-2', '2026-11-22T09:00:00.000Z', 72, now)).toBe(2);
      // 72 hours after fb-1 exactly, fb-1 no longer counts.
      expect(await store.recordSoftBounce(a, 'fb-3', '2026-11-22T12:00:00.000Z', 72, now)).toBe(2);
      // Seen from an earlier time, later bounces do not count.
      expect(await store.recordSoftBounce(a, 'fb-0', '2026-11-19T13:00:00.000Z', 72, now)).toBe(2);
      // Another address has its own count.
      expect(await store.recordSoftBounce(address(), 'fb-1', T3, 72, now)).toBe(1);
    });

    it('a soft bounce is no suppression: not found, not listed, not read back', async () => {
      const store = make();
      const a = address();
      await store.recordSoftBounce(a, 'fb-1', T1, 72, Date.parse(T1));
      expect(await store.suppressedAmong([{ address: a, scope: '*' }])).toEqual(new Set());
      expect(await store.get(a)).toEqual([]);
      expect(await everyActive(store)).not.toContainEqual(expect.objectContaining({ address: a }));
    });
  });

  describe('list', () => {
    it('pages through every active suppression, never a lifted one, at most `limit` a page', async () => {
      const store = make();
      const prefix = randomUUID().slice(0, 8);
      const addresses = Array.from({ length: 7 }, (_, i) => `${prefix}-${i}@example.org`);
      for (const a of addresses) await store.suppress(entry(a));
      await store.reenable({ address: addresses[0] as string, scope: '*' }, T2);
      const pages: SuppressionRecord[][] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 100; n++) {
        const page = await store.list(3, cursor);
        pages.push(page.items);
        cursor = page.next;
        if (!cursor) break;
      }
      expect(cursor).toBeUndefined();
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
      expect(pages.length).toBeGreaterThan(1);
      const mine = pages
        .flat()
        .map((r) => r.address)
        .filter((a) => a.startsWith(prefix));
      expect(mine.sort()).toEqual(addresses.slice(1).sort());
      for (const r of pages.flat()) expect(r.active).toBe(true);
    });
  });
});

/** Every active suppression, through the pages. */
async function everyActive(store: SuppressionStore): Promise<SuppressionRecord[]> {
  const out: SuppressionRecord[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 1_000; n++) {
    const page = await store.list(50, cursor);
    out.push(...page.items);
    cursor = page.next;
    if (!cursor) return out;
  }
  throw new Error('list never ended');
}

describe('DynamoSuppressionStore (DynamoDB only)', () => {
  it('finds suppressed addresses among more than one BatchGetItem can take, items without `active` too', async () => {
    const doc = dynalite.db.doc;
    const table = dynalite.db.tables.suppression;
    const suppression = new DynamoSuppressionStore(doc, table);
    // Items as written before `active` existed: present means suppressed.
    await doc.send(new PutCommand({ TableName: table, Item: { address: 'x7@example.org', scope: '*' } }));
    await doc.send(new PutCommand({ TableName: table, Item: { address: 'x150@example.org', scope: '*' } }));
    await doc.send(new PutCommand({ TableName: table, Item: { address: 'x9@example.org', scope: 'marketing' } }));
    const keys = Array.from({ length: 180 }, (_, i) => ({ address: `x${i}@example.org`, scope: '*' }));
    expect([...(await suppression.suppressedAmong(keys))].sort()).toEqual(['x150@example.org|*', 'x7@example.org|*']);
  });
});
