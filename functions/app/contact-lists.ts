/**
 * The lists API: create (with an id of your choosing, or one made up), list, read and delete lists;
 * add, remove and page their members. Members are named by contact id or by address; an address
 * that is no contact yet becomes one when it is added (no attributes, and no consent: consent is
 * only ever given explicitly). A request whose contacts are not all valid changes nothing.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { Contact, ContactList } from '../core/contact';
import { CONTACT_LIMITS, LIST_ID } from '../core/contact-fields';
import { DomainError, type FieldIssue } from '../core/errors';
import type { RouteKey } from '../core/routes';
import type { ContactStore } from '../ports';
import {
  type ContactRef,
  contactView,
  findContact,
  pageParams,
  parseBody,
  pathParam,
  readContactRef,
  refuseIfAny,
} from './contact-params';
import type { RouteMap } from './http';

export const CreateListBody = /* @__PURE__ */ (() =>
  z.strictObject({
    id: z.optional(
      z.string().check(z.regex(LIST_ID, 'a list id is a lower case letter or digit, then letters, digits, - or _')),
    ),
    name: z.string().check(z.minLength(1), z.maxLength(100)),
    description: z.optional(z.string().check(z.maxLength(500))),
  }))();

export const MembersBody = /* @__PURE__ */ (() =>
  z.strictObject({
    contacts: z
      .array(z.string().check(z.maxLength(320)))
      .check(z.minLength(1), z.maxLength(CONTACT_LIMITS.membersPerRequest)),
  }))();

const listView = (l: ContactList) => ({
  id: l.id,
  name: l.name,
  description: l.description ?? null,
  createdAt: l.createdAt,
});

export interface ContactListApiDeps {
  readonly store: ContactStore;
  readonly now: () => Date;
  readonly newId?: () => string;
}

export type ContactListRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/lists${string}`>;

export function contactListRoutes(deps: ContactListApiDeps): RouteMap<ContactListRouteKey> {
  const { store } = deps;
  const newId = deps.newId ?? randomUUID;

  async function listOf(id: string): Promise<ContactList> {
    const list = LIST_ID.test(id) ? await store.getList(id) : undefined;
    if (!list) throw new DomainError('not_found', `No list ${JSON.stringify(id.slice(0, 100))}.`);
    return list;
  }

  /** The references of a members body, every bad one listed; duplicates once. */
  function refsOf(contacts: readonly string[]): ContactRef[] {
    const issues: FieldIssue[] = [];
    const refs = new Map<string, ContactRef>();
    contacts.forEach((value, i) => {
      const read = readContactRef(value.trim());
      if (!read.ok) issues.push({ path: `contacts.${i}`, message: read.message });
      else refs.set('id' in read.ref ? `id:${read.ref.id}` : `address:${read.ref.address}`, read.ref);
    });
    refuseIfAny(issues, 'Some contacts are not valid; nothing was changed.');
    return [...refs.values()];
  }

  return {
    'GET /v1/lists': {
      auth: 'read',
      handle: async (req) => {
        const { limit, cursor } = pageParams(req);
        const page = await store.lists(limit, cursor);
        return { status: 200, body: { data: page.items.map(listView), next: page.next ?? null } };
      },
    },

    'POST /v1/lists': {
      auth: 'admin',
      maxBodyBytes: 4096,
      handle: async (req) => {
        const body = parseBody(CreateListBody, req, 'list');
        const list: ContactList = {
          id: body.id ?? newId(),
          name: body.name,
          ...(body.description === undefined ? {} : { description: body.description }),
          createdAt: deps.now().toISOString(),
        };
        if (!(await store.createList(list)))
          throw new DomainError('conflict', `A list with the id "${list.id}" exists.`);
        return { status: 201, body: listView(list) };
      },
    },

    'GET /v1/lists/{id}': {
      auth: 'read',
      handle: async (req) => ({ status: 200, body: listView(await listOf(pathParam(req, 'id'))) }),
    },

    'DELETE /v1/lists/{id}': {
      auth: 'admin',
      handle: async (req) => {
        const list = await listOf(pathParam(req, 'id'));
        if (!(await store.deleteList(list.id))) throw new DomainError('not_found', `No list "${list.id}".`);
        // The contacts stay: only the list and its memberships go.
        return { status: 200, body: { id: list.id, deleted: true } };
      },
    },

    'GET /v1/lists/{id}/members': {
      auth: 'read',
      handle: async (req) => {
        const { limit, cursor } = pageParams(req);
        const list = await listOf(pathParam(req, 'id'));
        const page = await store.members(list.id, limit, cursor);
        const contacts = await store.many(page.ids);
        const data = page.ids.flatMap((id) => {
          const c = contacts.get(id);
          return c ? [contactView(c)] : [];
        });
        return { status: 200, body: { data, next: page.next ?? null } };
      },
    },

    'POST /v1/lists/{id}/members': {
      auth: 'admin',
      maxBodyBytes: 64 * 1024,
      handle: async (req) => {
        const body = parseBody(MembersBody, req, 'members request');
        const list = await listOf(pathParam(req, 'id'));
        const refs = refsOf(body.contacts);
        const found = await Promise.all(refs.map((ref) => findContact(store, ref)));
        // An id must name a contact; checked for every one before anything is written.
        const unknown: FieldIssue[] = refs.flatMap((ref, i) =>
          'id' in ref && !found[i] ? [{ path: 'contacts', message: `no contact with the id "${ref.id}"` }] : [],
        );
        refuseIfAny(unknown, 'Some contacts do not exist; nothing was changed.');
        const at = deps.now().toISOString();
        // By contact: an id and the address of one contact name it once.
        const byId = new Map<string, { contact: Contact; created: boolean }>();
        for (const [i, ref] of refs.entries()) {
          const existing = found[i];
          const member = existing
            ? { contact: existing, created: false }
            : 'address' in ref
              ? await createForAddress(ref.address, at)
              : undefined;
          if (member && !byId.has(member.contact.id)) byId.set(member.contact.id, member);
        }
        const members = [...byId.values()];
        await store.addMembers(
          list.id,
          members.map((m) => m.contact.id),
          at,
        );
        return {
          status: 200,
          body: {
            listId: list.id,
            data: members.map((m) => ({ id: m.contact.id, email: m.contact.address, created: m.created })),
          },
        };
      },
    },

    'DELETE /v1/lists/{id}/members': {
      auth: 'admin',
      maxBodyBytes: 64 * 1024,
      handle: async (req) => {
        const body = parseBody(MembersBody, req, 'members request');
        const list = await listOf(pathParam(req, 'id'));
        const refs = refsOf(body.contacts);
        const ids = (
          await Promise.all(refs.map(async (ref) => ('id' in ref ? ref.id : (await store.byAddress(ref.address))?.id)))
        ).filter((id): id is string => id !== undefined);
        await store.removeMembers(list.id, ids);
        return { status: 200, body: { listId: list.id, removed: ids } };
      },
    },
  };

  /** A contact for an address added to a list; the one another request created meanwhile, if so. */
  async function createForAddress(address: string, at: string): Promise<{ contact: Contact; created: boolean }> {
    const contact: Contact = { id: newId(), address, attributes: {}, consent: {}, createdAt: at, updatedAt: at };
    if (await store.create(contact)) return { contact, created: true };
    const existing = await store.byAddress(address);
    if (!existing) throw new DomainError('conflict', `The contact ${address} is being created by another request.`);
    return { contact: existing, created: false };
  }
}
