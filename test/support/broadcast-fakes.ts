/** An in-memory broadcast store with the same conditions as the DynamoDB adapter (store/broadcast-store.ts). */
import {
  type Broadcast,
  type BroadcastAction,
  type BroadcastDefinition,
  definitionPart,
  type EventCounter,
  type EventCounts,
  NO_EVENT_COUNTS,
  TRANSITIONS,
} from '../../functions/core/broadcast';
import type { BroadcastStore, Checkpoint } from '../../functions/ports';

export class MemoryBroadcastStore implements BroadcastStore {
  readonly items = new Map<string, Broadcast>();
  readonly eventCounts = new Map<string, EventCounts>();
  /** Writes made (conditional or not), as the adapter would count its requests. */
  writes = 0;

  async create(b: Broadcast) {
    this.writes++;
    if (this.items.has(b.id)) throw new Error(`broadcast ${b.id} exists`);
    this.items.set(b.id, structuredClone(b));
  }
  async get(id: string) {
    const b = this.items.get(id);
    return b ? structuredClone(b) : undefined;
  }
  async list(limit: number, cursor?: string) {
    const all = [...this.items.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    const start = cursor ? all.findIndex((b) => b.id === cursor) + 1 : 0;
    const items = all.slice(start, start + limit).map((b) => structuredClone(b));
    const last = items[items.length - 1];
    return start + limit < all.length && last ? { items, next: last.id } : { items };
  }
  async updateDraft(id: string, definition: BroadcastDefinition, at: string) {
    this.writes++;
    const b = this.items.get(id);
    if (b?.state !== 'draft') return undefined;
    const { name, listId, template, variables, from, replyTo, category, tags, scheduledAt, cooldown, pace, ...rest } =
      b;
    const next: Broadcast = { ...rest, ...definitionPart(definition), updatedAt: at };
    this.items.set(id, next);
    return structuredClone(next);
  }
  async transition(
    id: string,
    action: BroadcastAction,
    at: string,
    options: { readonly run?: number; readonly scheduledAt?: string } = {},
  ) {
    this.writes++;
    const b = this.items.get(id);
    const t = TRANSITIONS[action];
    if (!b || !(t.from as readonly string[]).includes(b.state)) return undefined;
    if (options.run !== undefined && b.run !== options.run) return undefined;
    if (action === 'finish' && !b.exhausted) return undefined;
    const next: Broadcast = {
      ...b,
      state: t.to,
      updatedAt: at,
      history: [...b.history, { state: t.to, at, action }],
      ...(t.newRun ? { run: b.run + 1 } : {}),
      ...(action === 'schedule' && options.scheduledAt !== undefined ? { scheduledAt: options.scheduledAt } : {}),
      ...(action === 'finish' ? { sentAt: at } : {}),
    };
    this.items.set(id, next);
    return structuredClone(next);
  }
  async pinTemplate(id: string, version: number) {
    this.writes++;
    const b = this.items.get(id);
    if (!b) return undefined;
    if (b.templateVersion === undefined) this.items.set(id, { ...b, templateVersion: version });
    return this.items.get(id)?.templateVersion;
  }
  async checkpoint(id: string, c: Checkpoint, at: string) {
    this.writes++;
    const b = this.items.get(id);
    if (!b || b.run !== c.run || b.page !== c.page || (b.state !== 'sending' && b.state !== 'paused')) return undefined;
    const { cursor: _, ...rest } = b;
    const next: Broadcast = {
      ...rest,
      page: c.page + 1,
      ...(c.next === undefined ? { exhausted: true } : { cursor: c.next }),
      fanout: {
        targeted: b.fanout.targeted + c.counts.targeted,
        noConsent: b.fanout.noConsent + c.counts.noConsent,
        render: b.fanout.render + c.counts.render,
      },
      updatedAt: at,
    };
    this.items.set(id, next);
    return structuredClone(next);
  }
  async addCounts(id: string, counts: Partial<Record<EventCounter, number>>) {
    this.writes++;
    const now = { ...(this.eventCounts.get(id) ?? NO_EVENT_COUNTS) };
    for (const [k, n] of Object.entries(counts)) now[k as EventCounter] += n ?? 0;
    this.eventCounts.set(id, now);
  }
  async counts(id: string) {
    return { ...(this.eventCounts.get(id) ?? NO_EVENT_COUNTS) };
  }
}
