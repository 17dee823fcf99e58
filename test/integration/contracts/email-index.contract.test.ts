/**
 * The EmailIndex contract: the same cases against the in-memory fake and the DynamoDB adapter on
 * dynalite (newest first, bounds, Limit counted before the filters, where a read stopped, records).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { indexEntries } from '../../../functions/core/email-search';
import { keyTimelineKey, recipientTimelineKey } from '../../../functions/core/keys';
import type { MessageRecord } from '../../../functions/core/message';
import type { EmailIndex, MessageStore } from '../../../functions/ports';
import { DynamoEmailIndex } from '../../../functions/store/email-index';
import { DynamoMessageStore } from '../../../functions/store/message-store';
import { useDynalite } from '../../support/dynalite';
import { MemoryEmailIndex } from '../../support/email-index-fake';
import { MemoryMessageStore } from '../../support/fakes';
import { record } from '../../support/records';

const dynalite = useDynalite();

describe.each([
  [
    'the fake',
    (): { index: EmailIndex; messages: MessageStore } => {
      const messages = new MemoryMessageStore();
      return { index: new MemoryEmailIndex(messages), messages };
    },
  ],
  [
    'DynamoDB',
    (): { index: EmailIndex; messages: MessageStore } => ({
      index: new DynamoEmailIndex(dynalite.db.doc, dynalite.db.tables.emailIndex, dynalite.db.tables.messages),
      messages: new DynamoMessageStore(dynalite.db.doc, dynalite.db.tables.messages),
    }),
  ],
] as const)('EmailIndex contract: %s', (_name, make) => {
  /** Five emails of one fresh key, a minute apart, all to one fresh recipient; the last two tagged. */
  async function world() {
    const { index, messages } = make();
    const key = `k-${randomUUID()}`;
    const to = `${randomUUID()}@example.org`;
    const records: MessageRecord[] = Array.from({ length: 5 }, (_, i) =>
      record(
        randomUUID(),
        {
          apiKey: key,
          to: [`Jane <${to.toUpperCase()}>`],
          from: i % 2 === 0 ? 'a@acme.example' : 'b@acme.example',
          tags: i >= 3 ? { kind: 'receipt' } : {},
          ...(i === 0 ? { priority: 'critical' as const } : {}),
        },
        `2026-11-29T10:0${i}:00.000Z`,
      ),
    );
    await messages.createMany(records);
    await index.add(records.flatMap(indexEntries));
    return { index, key, to, records, newestFirst: records.map((r) => r.id).reverse() };
  }
  const ids = (read: { entries: readonly { id: string }[] }) => read.entries.map((e) => e.id);

  it('reads a recipient timeline newest first, in normal form, and says where it stopped', async () => {
    const w = await world();
    const all = await w.index.read(recipientTimelineKey(w.to), {}, {}, 10);
    expect(ids(all)).toEqual(w.newestFirst);
    expect(all.lastSk).toBeUndefined();
    const two = await w.index.read(recipientTimelineKey(w.to), {}, {}, 2);
    expect(ids(two)).toEqual(w.newestFirst.slice(0, 2));
    expect(two.lastSk).toBe(two.entries[1]?.sk);
  });

  it('bounds: after inclusive, before exclusive, both together', async () => {
    const w = await world();
    const pk = recipientTimelineKey(w.to);
    const sk = (i: number) => `${w.records[i]?.createdAt}#${w.records[i]?.id}`;
    expect(ids(await w.index.read(pk, { after: '2026-11-29T10:03:00.000Z' }, {}, 10))).toEqual(
      w.newestFirst.slice(0, 2),
    );
    expect(ids(await w.index.read(pk, { before: sk(2) }, {}, 10))).toEqual(w.newestFirst.slice(3));
    expect(ids(await w.index.read(pk, { after: '2026-11-29T10:01:00.000Z', before: sk(3) }, {}, 10))).toEqual(
      w.newestFirst.slice(2, 4),
    );
  });

  it('filters by key, sender, priority and tag after the limit counts what it read', async () => {
    const w = await world();
    const pk = recipientTimelineKey(w.to);
    expect(ids(await w.index.read(pk, {}, { key: 'someone-else' }, 10))).toEqual([]);
    expect(ids(await w.index.read(pk, {}, { key: w.key, from: 'a@acme.example' }, 10))).toEqual([
      w.newestFirst[0],
      w.newestFirst[2],
      w.newestFirst[4],
    ]);
    expect(ids(await w.index.read(pk, {}, { priority: 'critical' }, 10))).toEqual([w.newestFirst[4]]);
    expect(ids(await w.index.read(pk, {}, { tag: { name: 'kind', value: 'receipt' } }, 10))).toEqual(
      w.newestFirst.slice(0, 2),
    );
    expect(ids(await w.index.read(pk, {}, { tag: { name: 'kind' } }, 10))).toEqual(w.newestFirst.slice(0, 2));
    // Limit 3 reads three entries; only the newest two are tagged, and the read has more.
    const limited = await w.index.read(pk, {}, { priority: 'critical' }, 3);
    expect(ids(limited)).toEqual([]);
    expect(limited.lastSk).toBeDefined();
  });

  it("puts each email in one shard of its key's timeline, and reads back the records", async () => {
    const w = await world();
    const shards = w.records.map((r) => indexEntries(r)[0]?.pk ?? '');
    const reads = await Promise.all([...new Set(shards)].map((pk) => w.index.read(pk, {}, {}, 10)));
    expect(reads.flatMap(ids).sort()).toEqual([...w.newestFirst].sort());
    expect(shards.every((pk) => pk.startsWith(keyTimelineKey(w.key, 0).slice(0, -1)))).toBe(true);
    const got = await w.index.records([...w.newestFirst, 'missing-id']);
    expect(got.map((r) => r.id).sort()).toEqual([...w.newestFirst].sort());
  });
});
