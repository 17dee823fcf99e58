/**
 * Message search: GET /v1/emails, newest first, paged. A key sees only its own mail unless it is an
 * admin key. The index (ports.EmailIndex) finds the candidates by key, recipient, sender, tag,
 * priority and time; the records are read back for their status and shown as GET /v1/emails/{id}
 * shows one. A page may hold fewer than `limit` emails while `next` is not null (a status filter
 * is applied to the records read): follow `next` until it is null.
 */
import {
  type EmailSearch,
  EmailSearchQuery,
  encodeCursor,
  indexEntries,
  mergeReads,
  planPartitions,
  recordMatches,
  toSearch,
} from '../core/email-search';
import { DomainError } from '../core/errors';
import { type MessageRecord, type MessageView, toView } from '../core/message';
import { API_ERRORS } from '../core/zod-locale';
import type { EmailIndex, MessageStore } from '../ports';
import type { Caller } from './auth';
import type { RouteMap } from './http';

/** Index reads one request may make before it answers with what it has and a cursor. */
export const SEARCH_ROUNDS = 4;

export interface EmailSearchDeps {
  readonly index: EmailIndex;
}

/**
 * The message store with the index written alongside: every record created is indexed in the same
 * step, so an accepted email can be found. An entry whose record is gone (a request that failed and
 * removed its records) is skipped when read.
 */
export function withSearchIndex(messages: MessageStore, index: EmailIndex): MessageStore {
  return Object.assign(Object.create(messages) as MessageStore, {
    createMany: async (records: readonly MessageRecord[]) => {
      // Both settle before a failure is passed on: the caller then removes the records, which must
      // not race a write still under way (it would leave a record no answer accepted).
      const [created, indexed] = await Promise.allSettled([
        messages.createMany(records),
        index.add(records.flatMap(indexEntries)),
      ]);
      if (created.status === 'rejected') throw created.reason;
      if (indexed.status === 'rejected') throw indexed.reason;
    },
    createNew: async (records: readonly MessageRecord[]) => {
      // An entry of a record that existed is written again unchanged (same key, same values).
      const [created, indexed] = await Promise.allSettled([
        messages.createNew(records),
        index.add(records.flatMap(indexEntries)),
      ]);
      if (created.status === 'rejected') throw created.reason;
      if (indexed.status === 'rejected') throw indexed.reason;
      return created.value;
    },
  });
}

export interface SearchPage {
  readonly data: MessageView[];
  readonly next: string | null;
}

/** One page of a search. */
export async function searchEmails(deps: EmailSearchDeps, caller: Caller, search: EmailSearch): Promise<SearchPage> {
  const who = { keyName: caller.keyName, admin: caller.scopes.includes('admin') };
  const plan = planPartitions(search, who);
  const filter = {
    ...(plan.key !== undefined ? { key: plan.key } : {}),
    ...(search.from !== undefined ? { from: search.from } : {}),
    ...(search.priority !== undefined ? { priority: search.priority } : {}),
    ...(search.tag !== undefined ? { tag: search.tag } : {}),
  };
  const found: MessageView[] = [];
  let before = search.before;
  for (let round = 0; round < SEARCH_ROUNDS && found.length < search.limit; round++) {
    const want = search.limit - found.length;
    const range = { ...(search.after !== undefined ? { after: search.after } : {}), ...(before ? { before } : {}) };
    const reads = await Promise.all(plan.partitions.map((p) => deps.index.read(p, range, filter, want)));
    const merged = mergeReads(reads, want);
    const records = new Map((await deps.index.records(merged.entries.map((e) => e.id))).map((r) => [r.id, r]));
    for (const e of merged.entries) {
      const r = records.get(e.id);
      if (r && recordMatches(r, search, who)) found.push(toView(r));
    }
    before = merged.next;
    if (before === undefined) break;
  }
  return { data: found, next: before === undefined ? null : encodeCursor(before) };
}

export function emailSearchRoutes(deps: EmailSearchDeps): RouteMap<'GET /v1/emails'> {
  return {
    'GET /v1/emails': {
      auth: 'read',
      handle: async (req) => {
        const parsed = EmailSearchQuery.safeParse(req.event.queryStringParameters ?? {}, API_ERRORS);
        if (!parsed.success) {
          throw new DomainError(
            'validation_failed',
            'The search is not valid.',
            parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(query)', message: i.message })),
          );
        }
        const page = await searchEmails(deps, req.caller as Caller, toSearch(parsed.data));
        return { status: 200, body: page };
      },
    },
  };
}
