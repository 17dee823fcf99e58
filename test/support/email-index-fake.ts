/**
 * An in-memory search index with DynamoDB's Query semantics: newest first, `limit` counts the
 * entries read before the filters apply, and `lastSk` is set when the partition has more. The
 * contract suite (test/integration/contracts/email-index.contract.test.ts) runs the same cases
 * against this fake and the DynamoDB adapter.
 */
import type { IndexEntry, PartitionRead } from '../../functions/core/email-search';
import type { MessageRecord } from '../../functions/core/message';
import type { EmailIndex, IndexFilter, MessageStore } from '../../functions/ports';

export class MemoryEmailIndex implements EmailIndex {
  readonly entries = new Map<string, IndexEntry>();
  /** Partition reads made, for tests that count them. */
  reads = 0;

  constructor(private readonly messages: Pick<MessageStore, 'get'>) {}

  async add(entries: readonly IndexEntry[]): Promise<void> {
    for (const e of entries) this.entries.set(`${e.pk}|${e.sk}`, structuredClone(e));
  }

  async read(
    partition: string,
    range: { readonly after?: string; readonly before?: string },
    filter: IndexFilter,
    limit: number,
  ): Promise<PartitionRead> {
    this.reads += 1;
    const inRange = [...this.entries.values()]
      .filter((e) => e.pk === partition)
      .filter(
        (e) =>
          (range.after === undefined || e.sk >= range.after) && (range.before === undefined || e.sk < range.before),
      )
      .sort((a, b) => (a.sk < b.sk ? 1 : -1));
    const read = inRange.slice(0, limit);
    const matches = (e: IndexEntry) =>
      (filter.key === undefined || e.key === filter.key) &&
      (filter.from === undefined || e.from === filter.from) &&
      (filter.priority === undefined || e.priority === filter.priority) &&
      (filter.tag === undefined ||
        (filter.tag.value === undefined ? filter.tag.name in e.tags : e.tags[filter.tag.name] === filter.tag.value));
    const last = read.at(-1);
    const nowSeconds = Math.floor(Date.now() / 1000);
    return {
      // Entries past their expiry are skipped, as TTL deletes them late.
      entries: read.filter((e) => matches(e) && e.expiresAt > nowSeconds),
      ...(inRange.length > limit && last ? { lastSk: last.sk } : {}),
    };
  }

  async records(ids: readonly string[]): Promise<MessageRecord[]> {
    const found = await Promise.all([...new Set(ids)].map((id) => this.messages.get(id)));
    return found.filter((r): r is MessageRecord => r !== undefined);
  }
}
