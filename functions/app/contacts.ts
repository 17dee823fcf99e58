/**
 * The contacts API: create, list, read (by id or address), change (attributes merged, consent per
 * category with its source and time), erase and export one contact.
 *
 * DELETE is the GDPR erase path: the contact, its address key and its list memberships are removed.
 * What suppression needs stays: the suppression list is not touched, so a suppressed address stays
 * suppressed (it is the record that keeps mail from reaching someone who asked for none). Message
 * records of emails already sent to the address expire with the deployment's retention.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { normaliseAddress, parseAddress } from '../core/address';
import type { Consent, Contact } from '../core/contact';
import { attributeNameProblem, CATEGORY_PATTERN, CONSENT_SOURCE, CONTACT_LIMITS } from '../core/contact-fields';
import { DomainError, type FieldIssue } from '../core/errors';
import type { RouteKey } from '../core/routes';
import type { ContactImportStore, ContactStore, SendQueue, SuppressionRecord, SuppressionStore } from '../ports';
import { contactOf, contactView, pageParams, parseBody, refuseIfAny } from './contact-params';
import type { RouteMap } from './http';

const ConsentInput = /* @__PURE__ */ (() =>
  z.strictObject({
    granted: z.boolean(),
    source: z.optional(
      z.string().check(z.regex(CONSENT_SOURCE, 'a source is a lower case letter, then letters, digits, - or _')),
    ),
  }))();

export const CreateContactBody = /* @__PURE__ */ (() =>
  z.strictObject({
    email: z.string().check(z.maxLength(320)),
    attributes: z.optional(z.record(z.string(), z.unknown())),
    consent: z.optional(z.record(z.string(), ConsentInput)),
  }))();

export const PatchContactBody = /* @__PURE__ */ (() =>
  z.strictObject({
    attributes: z.optional(z.record(z.string(), z.unknown())),
    consent: z.optional(z.record(z.string(), ConsentInput)),
  }))();

type ConsentInput = z.infer<typeof ConsentInput>;

/** Every problem of attribute names and values and of consent categories (`null` removes, in a PATCH only). */
function fieldIssues(
  attributes: Readonly<Record<string, unknown>>,
  consent: Readonly<Record<string, unknown>>,
  nullRemoves: boolean,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    const problem = attributeNameProblem(name);
    if (problem) issues.push({ path: `attributes.${name}`, message: problem });
    else if (value === null && !nullRemoves)
      issues.push({ path: `attributes.${name}`, message: 'null removes an attribute, in a PATCH' });
  }
  for (const category of Object.keys(consent))
    if (!CATEGORY_PATTERN.test(category))
      issues.push({
        path: `consent.${category}`,
        message: 'a consent category is a lower case letter or digit, then letters, digits, - or _',
      });
  return issues;
}

/** Problems of a contact's attributes and consent as a whole (how many, how large). */
function sizeIssues(attributes: Readonly<Record<string, unknown>>, consent: Readonly<Record<string, unknown>>) {
  const issues: FieldIssue[] = [];
  if (Object.keys(attributes).length > CONTACT_LIMITS.attributes)
    issues.push({ path: 'attributes', message: `a contact has ${CONTACT_LIMITS.attributes} attributes at most` });
  else if (new TextEncoder().encode(JSON.stringify(attributes)).length > CONTACT_LIMITS.attributeBytes)
    issues.push({
      path: 'attributes',
      message: `a contact's attributes are ${CONTACT_LIMITS.attributeBytes} bytes at most`,
    });
  if (Object.keys(consent).length > CONTACT_LIMITS.categories)
    issues.push({
      path: 'consent',
      message: `a contact has consent for ${CONTACT_LIMITS.categories} categories at most`,
    });
  return issues;
}

const consentOf = (input: Readonly<Record<string, ConsentInput>>, at: string): Record<string, Consent> =>
  Object.fromEntries(
    Object.entries(input).map(([category, c]) => [category, { granted: c.granted, source: c.source ?? 'api', at }]),
  );

/** A suppression entry as an export shows it. */
const suppressionView = (r: SuppressionRecord) => ({
  scope: r.scope,
  active: r.active,
  reason: r.reason,
  source: r.source,
  suppressedAt: r.at,
  ...(r.reenabledAt ? { reenabledAt: r.reenabledAt } : {}),
});

/** What the ingest function needs for contacts, lists and imports (one field of IngestDeps). */
export interface ContactsDeps {
  readonly store: ContactStore;
  readonly imports: ContactImportStore;
  /** The audience jobs queue (a started import is a job there). */
  readonly jobs: SendQueue;
}

export interface ContactApiDeps {
  readonly store: ContactStore;
  /** Read for an export (a contact's suppression entries); never changed by these routes. */
  readonly suppression: SuppressionStore;
  readonly now: () => Date;
  readonly newId?: () => string;
}

export type ContactRouteKey = Extract<
  RouteKey<'ingest'>,
  | 'GET /v1/contacts'
  | 'POST /v1/contacts'
  | 'GET /v1/contacts/{id}'
  | 'PATCH /v1/contacts/{id}'
  | 'DELETE /v1/contacts/{id}'
  | 'GET /v1/contacts/{id}/export'
>;

export function contactRoutes(deps: ContactApiDeps): RouteMap<ContactRouteKey> {
  const { store } = deps;
  const newId = deps.newId ?? randomUUID;
  return {
    'GET /v1/contacts': {
      auth: 'read',
      handle: async (req) => {
        const { limit, cursor } = pageParams(req);
        const page = await store.list(limit, cursor);
        return { status: 200, body: { data: page.items.map(contactView), next: page.next ?? null } };
      },
    },

    'POST /v1/contacts': {
      auth: 'admin',
      maxBodyBytes: 16 * 1024,
      handle: async (req) => {
        const body = parseBody(CreateContactBody, req, 'contact');
        const address = normaliseAddress(body.email);
        const attributes = body.attributes ?? {};
        const consent = body.consent ?? {};
        const issues = [
          ...(address ? [] : [{ path: 'email', message: addressProblem(body.email) }]),
          ...fieldIssues(attributes, consent, false),
          ...sizeIssues(attributes, consent),
        ];
        refuseIfAny(issues, 'The contact is not valid.');
        const at = deps.now().toISOString();
        const contact: Contact = {
          id: newId(),
          address: address as string,
          attributes,
          consent: consentOf(consent, at),
          createdAt: at,
          updatedAt: at,
        };
        if (!(await store.create(contact))) {
          const existing = await store.byAddress(contact.address);
          throw new DomainError(
            'conflict',
            `A contact with the address ${contact.address} exists${existing ? ` (id ${existing.id})` : ''}; change it with PATCH.`,
          );
        }
        return { status: 201, body: contactView(contact) };
      },
    },

    'GET /v1/contacts/{id}': {
      auth: 'read',
      handle: async (req) => ({ status: 200, body: contactView(await contactOf(store, req)) }),
    },

    'PATCH /v1/contacts/{id}': {
      auth: 'admin',
      maxBodyBytes: 16 * 1024,
      handle: async (req) => {
        const body = parseBody(PatchContactBody, req, 'change');
        const attributes = body.attributes ?? {};
        const consent = body.consent ?? {};
        const issues = fieldIssues(attributes, consent, true);
        if (Object.keys(attributes).length + Object.keys(consent).length === 0)
          issues.push({ path: '(body)', message: 'give `attributes` or `consent` to change' });
        refuseIfAny(issues, 'The change is not valid.');
        const contact = await contactOf(store, req);
        // The contact as it would be: still within the limits.
        const merged: Record<string, unknown> = { ...contact.attributes };
        for (const [k, v] of Object.entries(attributes)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        refuseIfAny(sizeIssues(merged, { ...contact.consent, ...consent }), 'The change is not valid.');
        const at = deps.now().toISOString();
        const after = await store.update(contact.id, { attributes, consent: consentOf(consent, at) }, at);
        if (!after) throw new DomainError('not_found', `No contact ${JSON.stringify(contact.id)}.`);
        return { status: 200, body: contactView(after) };
      },
    },

    'DELETE /v1/contacts/{id}': {
      auth: 'admin',
      handle: async (req) => {
        const contact = await contactOf(store, req);
        if (!(await store.erase(contact.id)))
          throw new DomainError('not_found', `No contact ${JSON.stringify(contact.id)}.`);
        const kept = (await deps.suppression.get(contact.address)).filter((r) => r.active).map((r) => r.scope);
        return {
          status: 200,
          body: {
            id: contact.id,
            email: contact.address,
            erased: true,
            // What stays, and why: the address's suppressions keep mail from reaching it.
            suppressionKept: kept,
          },
        };
      },
    },

    'GET /v1/contacts/{id}/export': {
      auth: 'read',
      handle: async (req) => {
        const contact = await contactOf(store, req);
        const [listIds, suppressions] = await Promise.all([
          store.listsOf(contact.id),
          deps.suppression.get(contact.address),
        ]);
        const lists = await Promise.all(
          listIds.map(async (id) => ({ id, name: (await store.getList(id))?.name ?? null })),
        );
        return {
          status: 200,
          body: {
            exportedAt: deps.now().toISOString(),
            contact: contactView(contact),
            lists,
            suppressions: suppressions.map(suppressionView),
          },
        };
      },
    },
  };
}

function addressProblem(email: string): string {
  const parsed = parseAddress(email);
  return parsed.ok ? 'is not an email address' : parsed.message;
}
