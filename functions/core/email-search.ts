/**
 * Message search (GET /v1/emails): the query a request may make, the index entries an email gets,
 * and the merge of several newest-first partitions into one page. Pure: the store reads the
 * partitions (store/email-index.ts), the use case (app/email-search.ts) runs the rounds.
 *
 * The index holds what never changes after an email is accepted (key, recipients, sender, tags,
 * priority, time); the status changes, so it is read from the message record itself.
 */
import * as z from 'zod/mini';
import { normaliseAddress, parseMailbox } from './address';
import { allTimelineKey, EMAIL_INDEX_SHARDS, keyTimelineKey, recipientTimelineKey, timelineSortKey } from './keys';
import { type MessageRecord, STATUSES } from './message';
import { defaultPriority, PRIORITIES, type Priority } from './priority';

export const SEARCH_LIMITS = { defaultLimit: 50, maxLimit: 100 } as const;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const time = (what: string) =>
  z
    .string()
    .check(
      z.refine(
        (v) => ISO.test(v) && !Number.isNaN(Date.parse(v)),
        `${what} is a date and time like 2026-11-22T10:00:00Z`,
      ),
    );
const address = (what: string) =>
  z.string().check(z.refine((v) => normaliseAddress(v) !== undefined, `${what} is an email address`));

/**
 * The query string of GET /v1/emails, as the API takes it (every value a string). Unknown
 * parameters are refused, so a misspelt filter never widens a search silently.
 */
export const EmailSearchQuery = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    status: z.optional(z.enum(STATUSES, { error: `status is one of ${STATUSES.map((s) => `"${s}"`).join(', ')}` })),
    to: z.optional(address('to')),
    from: z.optional(address('from')),
    tag: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^[A-Za-z0-9_-]{1,256}(:[A-Za-z0-9_-]{1,256})?$/,
            'tag is a tag name, or name:value (letters, digits, "_" and "-")',
          ),
        ),
    ),
    priority: z.optional(
      z.enum(PRIORITIES, { error: `priority is one of ${PRIORITIES.map((p) => `"${p}"`).join(', ')}` }),
    ),
    after: z.optional(time('after')),
    before: z.optional(time('before')),
    limit: z.optional(
      z.string().check(
        z.refine((v) => {
          const n = Number(v);
          return /^\d+$/.test(v) && n >= 1 && n <= SEARCH_LIMITS.maxLimit;
        }, `limit is a whole number from 1 to ${SEARCH_LIMITS.maxLimit}`),
      ),
    ),
    cursor: z.optional(
      z.string().check(z.refine((v) => decodeCursor(v) !== undefined, 'cursor is not one this API gave out')),
    ),
  }),
);
export type EmailSearchQueryInput = z.output<typeof EmailSearchQuery>;

/** A parsed search: bounds as sort-key strings, filters as values. */
export interface EmailSearch {
  readonly status?: (typeof STATUSES)[number];
  readonly to?: string;
  readonly from?: string;
  readonly tag?: { readonly name: string; readonly value?: string };
  readonly priority?: Priority;
  /** Sort keys at or after this (inclusive: `after` is a time, every sort key of that time is greater). */
  readonly after?: string;
  /** Sort keys before this (exclusive). */
  readonly before?: string;
  readonly limit: number;
}

export function toSearch(q: EmailSearchQueryInput): EmailSearch {
  const [name = '', value] = q.tag?.split(':') ?? [];
  const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  const before = q.before === undefined ? undefined : new Date(q.before).toISOString();
  return {
    ...(q.status ? { status: q.status } : {}),
    ...(q.to ? { to: normaliseAddress(q.to) as string } : {}),
    ...(q.from ? { from: normaliseAddress(q.from) as string } : {}),
    ...(q.tag ? { tag: value === undefined ? { name } : { name, value } } : {}),
    ...(q.priority ? { priority: q.priority } : {}),
    ...(q.after ? { after: new Date(q.after).toISOString() } : {}),
    ...(before !== undefined || cursor !== undefined
      ? { before: [before, cursor].filter((b): b is string => b !== undefined).sort()[0] as string }
      : {}),
    limit: q.limit === undefined ? SEARCH_LIMITS.defaultLimit : Number(q.limit),
  };
}

/** A page position: the sort key the next page starts below. Opaque to clients. */
export const encodeCursor = (before: string): string =>
  Buffer.from(JSON.stringify({ before }), 'utf8').toString('base64url');

export function decodeCursor(cursor: string): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Object.keys(v).length !== 1) return undefined;
    const before = (v as { before?: unknown }).before;
    return typeof before === 'string' && /^\d{4}-\d{2}-\d{2}T[^#]+#[A-Za-z0-9-]{1,64}$/.test(before)
      ? before
      : undefined;
  } catch {
    return undefined;
  }
}

/** An email in the index: its position and what a search may filter on without reading the record. */
export interface IndexEntry {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  /** The API key that sent it. */
  readonly key: string;
  /** The sender's address, normalised. */
  readonly from: string;
  readonly priority: Priority;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch seconds: the entry expires with its message. */
  readonly expiresAt: number;
}

const addressOf = (mailbox: string): string | undefined => {
  const parsed = parseMailbox(mailbox);
  return parsed.ok ? normaliseAddress(parsed.value.address) : undefined;
};

/** Which shard of a timeline an email goes to: spread evenly by its id. */
export function shardOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % EMAIL_INDEX_SHARDS;
}

/**
 * The index entries of one email: one in its key's timeline, one in the timeline of every key (for
 * admin keys), and one per distinct recipient (to, cc, bcc).
 */
export function indexEntries(r: MessageRecord): IndexEntry[] {
  const shard = shardOf(r.id);
  const recipients = new Set([...r.to, ...r.cc, ...r.bcc].map(addressOf).filter((a): a is string => a !== undefined));
  const base = {
    sk: timelineSortKey(r.createdAt, r.id),
    id: r.id,
    key: r.apiKey ?? '',
    from: addressOf(r.from) ?? r.from,
    priority: r.priority ?? defaultPriority(r.category),
    tags: r.tags,
    expiresAt: r.expiresAt,
  };
  return [
    { pk: keyTimelineKey(base.key, shard), ...base },
    { pk: allTimelineKey(shard), ...base },
    ...[...recipients].map((to) => ({ pk: recipientTimelineKey(to), ...base })),
  ];
}

/** What one search reads: the partitions, and the filters each applies as it reads. */
export interface PartitionPlan {
  readonly partitions: readonly string[];
  /** Only entries of this key (a recipient's timeline holds every key's mail). */
  readonly key?: string;
}

/** The partitions a search reads: a recipient's timeline, or the caller's (or, for an admin, everyone's) shards. */
export function planPartitions(search: EmailSearch, caller: { keyName: string; admin: boolean }): PartitionPlan {
  if (search.to !== undefined)
    return { partitions: [recipientTimelineKey(search.to)], ...(caller.admin ? {} : { key: caller.keyName }) };
  const shards = Array.from({ length: EMAIL_INDEX_SHARDS }, (_, s) => s);
  return {
    partitions: shards.map((s) => (caller.admin ? allTimelineKey(s) : keyTimelineKey(caller.keyName, s))),
  };
}

/** One partition read: the entries that matched, and where it stopped when it has more. */
export interface PartitionRead {
  readonly entries: readonly IndexEntry[];
  /** The sort key of the last entry it read (matching or not), when the partition has more. */
  readonly lastSk?: string;
}

/**
 * Merges partition reads into one newest-first run. Only entries at or above every unfinished
 * partition's stopping point are certain to have no newer neighbour left unread; they come out,
 * up to `limit`. `next` is where the next read starts below (undefined: nothing is left).
 */
export function mergeReads(reads: readonly PartitionRead[], limit: number): { entries: IndexEntry[]; next?: string } {
  const frontier = reads
    .map((r) => r.lastSk)
    .filter((s): s is string => s !== undefined)
    .sort()
    .at(-1);
  const byId = new Map<string, IndexEntry>();
  for (const e of reads.flatMap((r) => r.entries)) if (frontier === undefined || e.sk >= frontier) byId.set(e.id, e);
  const sure = [...byId.values()].sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
  if (sure.length > limit) {
    const entries = sure.slice(0, limit);
    return { entries, next: (entries.at(-1) as IndexEntry).sk };
  }
  return { entries: sure, ...(frontier !== undefined ? { next: frontier } : {}) };
}

/** Whether a record (read back for its status) still matches the search and is the caller's to see. */
export function recordMatches(
  r: MessageRecord,
  search: EmailSearch,
  caller: { keyName: string; admin: boolean },
): boolean {
  if (!caller.admin && r.apiKey !== caller.keyName) return false;
  return search.status === undefined || r.status === search.status;
}
