/** An in-memory contact store, with the same conditions as the DynamoDB adapter (store/contact-store.ts). */
import type { Contact, ContactList } from '../../functions/core/contact';
import { DomainError } from '../../functions/core/errors';
import type { ContactPatch, ContactStore } from '../../functions/ports';

const page = <T>(all: readonly T[], limit: number, cursor?: string): { items: T[]; next?: string } => {
  // A cursor it did not give out is refused as the adapter refuses it.
  if (cursor !== undefined && !/^[0-9]+$/.test(cursor))
    throw new DomainError('validation_failed', 'cursor is not one this API gave out.', [
      { path: 'cursor', message: 'invalid' },
    ]);
  const start = cursor ? Number(cursor) : 0;
  const items = all.slice(start, start + limit);
  return start + limit < all.length ? { items, next: String(start + limit) } : { items };
};

export class MemoryContactStore implements ContactStore {
  readonly contacts = new Map<string, Contact>();
  readonly listItems = new Map<string, ContactList>();
  /** listId → member ids, kept sorted (the adapter's sort key order). */
  readonly memberships = new Map<string, Set<string>>();
  /** Reads made, as the adapter would count its requests. */
  reads = 0;

  async create(contact: Contact) {
    if (this.contacts.has(contact.id) || (await this.byAddress(contact.address))) return false;
    this.contacts.set(contact.id, structuredClone(contact));
    return true;
  }
  async get(id: string) {
    this.reads++;
    const c = this.contacts.get(id);
    return c ? structuredClone(c) : undefined;
  }
  async byAddress(address: string) {
    this.reads++;
    for (const c of this.contacts.values()) if (c.address === address) return structuredClone(c);
    return undefined;
  }
  async many(ids: readonly string[]) {
    this.reads += Math.ceil(ids.length / 100);
    const out = new Map<string, Contact>();
    for (const id of ids) {
      const c = this.contacts.get(id);
      if (c) out.set(id, structuredClone(c));
    }
    return out;
  }
  async update(id: string, patch: ContactPatch, at: string) {
    const c = this.contacts.get(id);
    if (!c) return undefined;
    const attributes: Record<string, unknown> = { ...c.attributes };
    for (const [k, v] of Object.entries(patch.attributes ?? {})) {
      if (v === null) delete attributes[k];
      else attributes[k] = v;
    }
    const next: Contact = { ...c, attributes, consent: { ...c.consent, ...(patch.consent ?? {}) }, updatedAt: at };
    this.contacts.set(id, next);
    return structuredClone(next);
  }
  async erase(id: string) {
    if (!this.contacts.delete(id)) return false;
    for (const members of this.memberships.values()) members.delete(id);
    return true;
  }
  async list(limit: number, cursor?: string) {
    return page(
      [...this.contacts.values()].sort((a, b) => a.id.localeCompare(b.id)),
      limit,
      cursor,
    );
  }
  async createList(list: ContactList) {
    if (this.listItems.has(list.id)) return false;
    this.listItems.set(list.id, { ...list });
    return true;
  }
  async getList(id: string) {
    return this.listItems.get(id);
  }
  async lists(limit: number, cursor?: string) {
    return page(
      [...this.listItems.values()].sort((a, b) => a.id.localeCompare(b.id)),
      limit,
      cursor,
    );
  }
  async deleteList(id: string) {
    this.memberships.delete(id);
    return this.listItems.delete(id);
  }
  async addMembers(listId: string, contactIds: readonly string[]) {
    const members = this.memberships.get(listId) ?? new Set<string>();
    for (const id of contactIds) members.add(id);
    this.memberships.set(listId, members);
  }
  async removeMembers(listId: string, contactIds: readonly string[]) {
    for (const id of contactIds) this.memberships.get(listId)?.delete(id);
  }
  async members(listId: string, limit: number, cursor?: string) {
    this.reads++;
    const { items, next } = page([...(this.memberships.get(listId) ?? [])].sort(), limit, cursor);
    return next ? { ids: items, next } : { ids: items };
  }
  async listsOf(contactId: string) {
    return [...this.memberships.entries()].filter(([, m]) => m.has(contactId)).map(([id]) => id);
  }
}
