/**
 * The contact store (store/contact-store.ts): contacts, their lists and list memberships. Read in
 * pages by a broadcast's fan-out: one Query per page of members and one batched read of their
 * contacts, so a contact costs about one read.
 */
import type { Contact, ContactList } from '../core/contact';

export type ContactPatch = Partial<Pick<Contact, 'attributes' | 'consent'>>;

export interface ContactStore {
  /** Writes a new contact; false when its id or its address is taken (nothing written). */
  create(contact: Contact): Promise<boolean>;
  get(id: string): Promise<Contact | undefined>;
  /** The contact with this normalised address, if any. */
  byAddress(address: string): Promise<Contact | undefined>;
  /** Several contacts in batched reads (100 a request); missing ones left out. */
  many(ids: readonly string[]): Promise<Map<string, Contact>>;
  /**
   * Merges `patch` into a contact (attributes and consent replaced key by key; a `null` attribute
   * removes it). The contact afterwards; undefined when there is none.
   */
  update(id: string, patch: ContactPatch, at: string): Promise<Contact | undefined>;
  /** Removes a contact, its address key and its memberships; false when there was none. */
  erase(id: string): Promise<boolean>;
  /** Contacts, paged. */
  list(limit: number, cursor?: string): Promise<{ items: Contact[]; next?: string }>;

  /** False when the id is taken. */
  createList(list: ContactList): Promise<boolean>;
  getList(id: string): Promise<ContactList | undefined>;
  lists(limit: number, cursor?: string): Promise<{ items: ContactList[]; next?: string }>;
  /** Removes a list and its memberships (never the contacts); false when there was none. */
  deleteList(id: string): Promise<boolean>;
  /** Adds contacts to a list (already members stay as they are). */
  addMembers(listId: string, contactIds: readonly string[], at: string): Promise<void>;
  removeMembers(listId: string, contactIds: readonly string[]): Promise<void>;
  /** A list's members' ids in a stable order, paged (one Query a page). */
  members(listId: string, limit: number, cursor?: string): Promise<{ ids: string[]; next?: string }>;
  /** The lists a contact is in. */
  listsOf(contactId: string): Promise<string[]>;
}
