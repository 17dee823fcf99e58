/**
 * What the contact, list and import routes read from a request the same way: a page (`limit`,
 * `cursor`), a body checked against a schema (every problem listed, in the API's terms), a contact
 * named by its id or its address (normalised as the suppression API normalises it), and the contact
 * as the API shows it.
 */
import type * as z from 'zod/mini';
import { normaliseAddress, parseAddress } from '../core/address';
import type { Contact } from '../core/contact';
import { CONTACT_ID, CONTACT_LIMITS } from '../core/contact-fields';
import { DomainError, type FieldIssue } from '../core/errors';
import { API_ERRORS } from '../core/zod-locale';
import type { ContactStore } from '../ports';
import type { ApiRequest } from './http';

export const issuesOf = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

/** The body parsed by `schema`, or a 422 naming every problem (a 400 without a body). */
export function parseBody<T extends z.ZodMiniType>(schema: T, req: ApiRequest, what: string): z.infer<T> {
  if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
  const parsed = schema.safeParse(req.body, API_ERRORS);
  if (!parsed.success) throw new DomainError('validation_failed', `The ${what} is not valid.`, issuesOf(parsed.error));
  return parsed.data;
}

/** Throws a 422 listing `issues`, if there are any. */
export function refuseIfAny(issues: readonly FieldIssue[], message: string): void {
  if (issues.length > 0) throw new DomainError('validation_failed', message, issues);
}

export function pageParams(req: ApiRequest): { limit: number; cursor?: string } {
  const q = req.event.queryStringParameters ?? {};
  const limit = q.limit === undefined ? CONTACT_LIMITS.pageDefault : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > CONTACT_LIMITS.pageMax) {
    throw new DomainError('validation_failed', `limit is a whole number from 1 to ${CONTACT_LIMITS.pageMax}.`, [
      { path: 'limit', message: 'invalid' },
    ]);
  }
  return { limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
}

/** A path parameter, URL-decoded (a value that does not decode is kept as it came). */
export function pathParam(req: ApiRequest, name: string): string {
  const raw = req.param(name) ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** How a request names a contact: by id, or by address (anything with an @). */
export type ContactRef = { readonly id: string } | { readonly address: string };

/** Reads a contact reference, or says why it is none (for a 422's details). */
export function readContactRef(value: string): { ok: true; ref: ContactRef } | { ok: false; message: string } {
  if (value.includes('@')) {
    const address = normaliseAddress(value);
    if (address) return { ok: true, ref: { address } };
    const parsed = parseAddress(value);
    return {
      ok: false,
      message: `"${value.slice(0, 100)}": ${parsed.ok ? 'is not an email address' : parsed.message}`,
    };
  }
  if (CONTACT_ID.test(value)) return { ok: true, ref: { id: value } };
  return { ok: false, message: `"${value.slice(0, 100)}" is neither a contact id nor an email address` };
}

export const findContact = (store: ContactStore, ref: ContactRef): Promise<Contact | undefined> =>
  'id' in ref ? store.get(ref.id) : store.byAddress(ref.address);

/** The contact the `{id}` path parameter names (an id or an address), or a 404 (a 422 for neither). */
export async function contactOf(store: ContactStore, req: ApiRequest): Promise<Contact> {
  const value = pathParam(req, 'id');
  const read = readContactRef(value);
  if (!read.ok)
    throw new DomainError('validation_failed', 'The path must name a contact by its id or its address.', [
      { path: 'id', message: read.message },
    ]);
  const contact = await findContact(store, read.ref);
  if (!contact) throw new DomainError('not_found', `No contact ${JSON.stringify(value.slice(0, 100))}.`);
  return contact;
}

/** A contact as the API shows it: its address as `email`. */
export const contactView = (c: Contact) => ({
  id: c.id,
  email: c.address,
  attributes: c.attributes,
  consent: c.consent,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});
