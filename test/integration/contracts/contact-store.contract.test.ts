/**
 * The ContactStore and ContactImportStore contracts: the same cases against the in-memory fakes and
 * the DynamoDB adapters on dynalite (unique addresses, merges, erase, lists and members paged,
 * import states and checkpoints).
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Contact } from '../../../functions/core/contact';
import type { ContactImport } from '../../../functions/core/contact-import';
import type { ContactImportStore, ContactStore } from '../../../functions/ports';
import { DynamoContactImportStore } from '../../../functions/store/contact-import-store';
import { addressItemKey, DynamoContactStore, ORPHAN_CLAIM_MS } from '../../../functions/store/contact-store';
import { MemoryContactStore } from '../../support/contact-fakes';
import { MemoryContactImportStore } from '../../support/contact-import-fakes';
import { useDynalite } from '../../support/dynalite';

const dynalite = useDynalite();
const T1 = '2026-11-29T10:00:00.000Z';
const T2 = '2026-11-29T11:00:00.000Z';

const contact = (over: Partial<Contact> = {}): Contact => ({
  id: randomUUID(),
  address: `${randomUUID()}@example.org`,
  attributes: { first_name: 'Ann' },
  consent: { newsletter: { granted: true, source: 'api', at: T1 } },
  createdAt: T1,
  updatedAt: T1,
  ...over,
});

/** Every page of a paged read, following its cursors. */
async function allPages<T>(read: (cursor?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.next;
  } while (cursor);
  return pages;
}

describe.each([
  ['the fake', (): ContactStore => new MemoryContactStore()],
  ['DynamoDB', (): ContactStore => new DynamoContactStore(dynalite.db.doc, dynalite.db.tables.contacts)],
] as const)('ContactStore contract: %s', (_name, make) => {
  it('creates a contact once: the same id or the same address is refused, and nothing is written', async () => {
    const store = make();
    const c = contact();
    expect(await store.create(c)).toBe(true);
    expect(await store.get(c.id)).toEqual(c);
    expect(await store.byAddress(c.address)).toEqual(c);
    expect(await store.create(contact({ address: c.address }))).toBe(false);
    const sameId = contact({ id: c.id });
    expect(await store.create(sameId)).toBe(false);
    // The refused create with another address left no trace of that address.
    expect(await store.byAddress(sameId.address)).toBeUndefined();
    expect(await store.create(contact({ address: sameId.address }))).toBe(true);
    expect(await store.get(randomUUID())).toBeUndefined();
    expect(await store.byAddress(`${randomUUID()}@example.org`)).toBeUndefined();
  });

  it('reads many contacts at once (more than one batch), leaving out the missing ones', async () => {
    const store = make();
    const made = Array.from({ length: 130 }, () => contact());
    for (const c of made) expect(await store.create(c)).toBe(true);
    const missing = randomUUID();
    const found = await store.many([...made.map((c) => c.id), missing, made[0]?.id ?? '']);
    expect(found.size).toBe(130);
    expect(found.has(missing)).toBe(false);
    expect(found.get(made[129]?.id ?? '')).toEqual(made[129]);
  });

  it('merges attributes and consent key by key; null removes an attribute', async () => {
    const store = make();
    const c = contact({ attributes: { first_name: 'Ann', plan: 'free', tags: ['a'] } });
    await store.create(c);
    const after = await store.update(
      c.id,
      {
        attributes: { plan: 'pro', first_name: null, city: 'Lyon' } as unknown as Record<string, unknown>,
        consent: { product: { granted: true, source: 'form', at: T2 } },
      },
      T2,
    );
    expect(after).toEqual({
      ...c,
      attributes: { plan: 'pro', tags: ['a'], city: 'Lyon' },
      consent: { ...c.consent, product: { granted: true, source: 'form', at: T2 } },
      updatedAt: T2,
    });
    expect(await store.get(c.id)).toEqual(after);
    expect(await store.update(randomUUID(), { attributes: { a: 1 } }, T2)).toBeUndefined();
  });

  it('erases a contact, its address key and its memberships; the address may be used again', async () => {
    const store = make();
    const c = contact();
    const other = contact();
    await store.create(c);
    await store.create(other);
    const listId = `l-${randomUUID()}`;
    await store.createList({ id: listId, name: 'News', createdAt: T1 });
    await store.addMembers(listId, [c.id, other.id], T1);
    expect(await store.listsOf(c.id)).toEqual([listId]);
    expect(await store.erase(c.id)).toBe(true);
    expect(await store.get(c.id)).toBeUndefined();
    expect(await store.byAddress(c.address)).toBeUndefined();
    expect(await store.listsOf(c.id)).toEqual([]);
    expect((await store.members(listId, 10)).ids).toEqual([other.id]);
    expect(await store.erase(c.id)).toBe(false);
    expect(await store.create(contact({ address: c.address }))).toBe(true);
  });

  it('lists every contact once, in pages', async () => {
    const store = make();
    const made = Array.from({ length: 7 }, () => contact());
    for (const c of made) await store.create(c);
    const pages = await allPages((cursor) => store.list(3, cursor));
    const ids = pages.flat().map((c) => c.id);
    for (const c of made) expect(ids.filter((id) => id === c.id)).toEqual([c.id]);
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(3);
    await expect(store.list(3, 'not-a-cursor')).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('creates lists once, pages them, deletes a list with its memberships but never the contacts', async () => {
    const store = make();
    const ids = Array.from({ length: 3 }, () => `l-${randomUUID()}`);
    for (const id of ids) expect(await store.createList({ id, name: id, description: 'd', createdAt: T1 })).toBe(true);
    expect(await store.createList({ id: ids[0] ?? '', name: 'again', createdAt: T2 })).toBe(false);
    expect(await store.getList(ids[0] ?? '')).toEqual({ id: ids[0], name: ids[0], description: 'd', createdAt: T1 });
    const listed = (await allPages((cursor) => store.lists(2, cursor))).flat().map((l) => l.id);
    for (const id of ids) expect(listed).toContain(id);
    const c = contact();
    await store.create(c);
    await store.addMembers(ids[1] ?? '', [c.id], T1);
    expect(await store.deleteList(ids[1] ?? '')).toBe(true);
    expect(await store.getList(ids[1] ?? '')).toBeUndefined();
    expect((await store.members(ids[1] ?? '', 10)).ids).toEqual([]);
    expect(await store.listsOf(c.id)).toEqual([]);
    expect(await store.get(c.id)).toEqual(c);
    expect(await store.deleteList(ids[1] ?? '')).toBe(false);
  });

  it("pages a list's members in one stable order, each once; adding again or removing is idempotent", async () => {
    const store = make();
    const listId = `l-${randomUUID()}`;
    await store.createList({ id: listId, name: 'All', createdAt: T1 });
    const ids = Array.from({ length: 25 }, (_, i) => `c-${String(i).padStart(3, '0')}-${randomUUID()}`);
    await store.addMembers(listId, ids.slice(0, 20), T1);
    await store.addMembers(listId, ids.slice(10), T2);
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.members(listId, 7, cursor);
      pages.push(page.ids);
      cursor = page.next;
    } while (cursor);
    expect(pages.flat()).toEqual([...ids].sort());
    await store.removeMembers(listId, [ids[0] ?? '', ids[0] ?? '', 'c-none']);
    expect((await store.members(listId, 100)).ids).toEqual([...ids].sort().slice(1));
    expect(await store.listsOf(ids[1] ?? '')).toEqual([listId]);
    await expect(store.members(listId, 7, 'bad')).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('ContactStore on DynamoDB: what the fake cannot show', () => {
  it('takes over an address key left by a create that stopped halfway, once it is old enough', async () => {
    const store = new DynamoContactStore(dynalite.db.doc, dynalite.db.tables.contacts);
    const address = `${randomUUID()}@example.org`;
    // A claim whose contact was never written.
    await dynalite.db.doc.send(
      new PutCommand({
        TableName: dynalite.db.tables.contacts,
        Item: { ...addressItemKey(address), contactId: 'gone', at: T1 },
      }),
    );
    expect(await store.byAddress(address)).toBeUndefined();
    // Too recent: it may be a create still under way.
    const soon = new Date(Date.parse(T1) + ORPHAN_CLAIM_MS / 2).toISOString();
    expect(await store.create(contact({ address, createdAt: soon, updatedAt: soon }))).toBe(false);
    const later = new Date(Date.parse(T1) + ORPHAN_CLAIM_MS * 2).toISOString();
    const c = contact({ address, createdAt: later, updatedAt: later });
    expect(await store.create(c)).toBe(true);
    expect(await store.byAddress(address)).toEqual(c);
  });

  it('keeps member items to their keys (a broadcast reads a page of them per Query)', async () => {
    const store = new DynamoContactStore(dynalite.db.doc, dynalite.db.tables.contacts);
    const listId = `l-${randomUUID()}`;
    await store.addMembers(listId, ['c-1'], T1);
    const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
    const out = await dynalite.db.doc.send(
      new QueryCommand({
        TableName: dynalite.db.tables.contacts,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `L#${listId}` },
      }),
    );
    expect(out.Items).toEqual([{ pk: `L#${listId}`, sk: 'M#c-1' }]);
  });
});

const anImport = (over: Partial<ContactImport> = {}): ContactImport => ({
  id: randomUUID(),
  status: 'waiting_upload',
  size: 100,
  createdAt: T1,
  updatedAt: T1,
  counts: { rows: 0, created: 0, updated: 0, refused: 0 },
  line: 1,
  createdBy: 'test',
  ...over,
});

describe.each([
  ['the fake', (): ContactImportStore => new MemoryContactImportStore()],
  ['DynamoDB', (): ContactImportStore => new DynamoContactImportStore(dynalite.db.doc, dynalite.db.tables.contacts)],
] as const)('ContactImportStore contract: %s', (_name, make) => {
  it('creates an import once and reads it back', async () => {
    const store = make();
    const imp = anImport({ listId: 'news', consent: { category: 'newsletter', source: 'import' } });
    expect(await store.create(imp)).toBe(true);
    expect(await store.create(imp)).toBe(false);
    expect(await store.get(imp.id)).toEqual(imp);
    expect(await store.get(randomUUID())).toBeUndefined();
  });

  it('moves between states only from the states named', async () => {
    const store = make();
    const imp = anImport();
    await store.create(imp);
    expect(await store.move(imp.id, ['queued'], 'running', T2)).toBeUndefined();
    expect(await store.move(imp.id, ['waiting_upload'], 'queued', T2)).toMatchObject({
      status: 'queued',
      updatedAt: T2,
    });
    expect(await store.move(imp.id, ['queued', 'running'], 'failed', T2, 'no file')).toMatchObject({
      status: 'failed',
      error: 'no file',
    });
    expect(await store.move(randomUUID(), ['queued'], 'running', T2)).toBeUndefined();
  });

  it('checkpoints only a running import from the line it expects', async () => {
    const store = make();
    const imp = anImport();
    await store.create(imp);
    const next = { line: 101, counts: { rows: 100, created: 90, updated: 5, refused: 5 } };
    expect(await store.checkpoint(imp.id, 1, next, T2)).toBe(false);
    await store.move(imp.id, ['waiting_upload'], 'running', T2);
    expect(await store.checkpoint(imp.id, 1, next, T2)).toBe(true);
    // A second run that read the same checkpoint loses.
    expect(await store.checkpoint(imp.id, 1, next, T2)).toBe(false);
    expect(await store.get(imp.id)).toMatchObject({ line: 101, counts: next.counts });
  });

  it('keeps refused rows by line (a row refused again replaces itself)', async () => {
    const store = make();
    const id = randomUUID();
    const r = (line: number) => ({ line, value: `v${line}`, reason: 'bad_address' as const, message: 'm' });
    await store.addRefusals(id, [r(12), r(3)]);
    await store.addRefusals(id, [r(3), ...Array.from({ length: 30 }, (_, i) => r(100 + i))]);
    const kept = await store.refusals(id);
    expect(kept.map((k) => k.line)).toEqual([3, 12, ...Array.from({ length: 30 }, (_, i) => 100 + i)]);
    expect(kept[0]).toEqual(r(3));
  });
});
