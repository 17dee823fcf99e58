/**
 * The OpenAPI entries of the contacts, lists and imports routes (spread into ROUTE_DOCS of
 * app/openapi-routes.ts).
 */

import type { ContactImportRouteKey } from './contact-imports';
import { CreateImportBody } from './contact-imports';
import type { ContactListRouteKey } from './contact-lists';
import { CreateListBody, MembersBody } from './contact-lists';
import type { ContactRouteKey } from './contacts';
import { CreateContactBody, PatchContactBody } from './contacts';
import type { ParamDoc, ResponseDoc, RouteDoc } from './openapi-doc';
import type { ResponseSchemaName } from './openapi-schemas';

const PAGE: readonly ParamDoc[] = [
  {
    name: 'limit',
    description: 'Items per page, 1 to 100 (default 50).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  { name: 'cursor', description: 'The `next` of the page before.', schema: { type: 'string' } },
];
const CONTACT: readonly ParamDoc[] = [
  {
    name: 'id',
    description:
      "The contact's id, or its email address (URL-encoded; normalised as the suppression list normalises it: `Ann@Example.COM` is `ann@example.com`).",
    schema: { type: 'string' },
  },
];
const LIST: readonly ParamDoc[] = [{ name: 'id', description: "The list's id.", schema: { type: 'string' } }];
const ok = (body: ResponseSchemaName, description = 'OK', status = 200): ResponseDoc => ({ status, description, body });

export const CONTACT_ROUTE_DOCS = {
  'GET /v1/contacts': {
    tag: 'contacts',
    summary: 'List contacts',
    auth: 'read',
    queryParams: PAGE,
    responses: [ok('ContactPage')],
    errors: ['validation_failed'],
  },
  'POST /v1/contacts': {
    tag: 'contacts',
    summary: 'Create a contact',
    description:
      'The address is normalised as the suppression list keys addresses. Consent is per category: `{"newsletter": {"granted": true, "source": "form"}}`; the source defaults to `api` and the time is now. A contact with the same address is a 409.',
    auth: 'admin',
    body: () => [CreateContactBody],
    responses: [ok('Contact', 'The contact', 201)],
    errors: ['conflict'],
  },
  'GET /v1/contacts/{id}': {
    tag: 'contacts',
    summary: 'One contact, by id or address',
    auth: 'read',
    params: CONTACT,
    responses: [ok('Contact')],
    errors: ['not_found', 'validation_failed'],
  },
  'PATCH /v1/contacts/{id}': {
    tag: 'contacts',
    summary: "Change a contact's attributes or consent",
    description:
      'Attributes are merged key by key (`null` removes one); each consent category given is replaced with its answer, its source (default `api`) and the time.',
    auth: 'admin',
    params: CONTACT,
    body: () => [PatchContactBody],
    responses: [ok('Contact', 'The contact after the change')],
    errors: ['not_found'],
  },
  'DELETE /v1/contacts/{id}': {
    tag: 'contacts',
    summary: 'Erase a contact (GDPR erase)',
    description:
      'Removes the contact, its address key and its list memberships. The suppression list is kept: a suppressed address stays suppressed, so mail never reaches someone who asked for none.',
    auth: 'admin',
    params: CONTACT,
    responses: [ok('ContactErased', 'Erased; what suppression keeps')],
    errors: ['not_found', 'validation_failed'],
  },
  'GET /v1/contacts/{id}/export': {
    tag: 'contacts',
    summary: 'Everything held about a contact (GDPR export)',
    auth: 'read',
    params: CONTACT,
    responses: [ok('ContactExport', 'The contact, its consent, its lists and its suppression entries')],
    errors: ['not_found', 'validation_failed'],
  },
} as const satisfies Record<ContactRouteKey, RouteDoc>;

export const CONTACT_IMPORT_ROUTE_DOCS = {
  'POST /v1/contacts/imports': {
    tag: 'contacts',
    summary: 'Import contacts from a CSV file: get an upload URL',
    description:
      "Give the file's exact `size` in bytes; PUT the file to `uploadUrl` with the `headers` returned (within 15 minutes), then start the import. The header row needs an `email` column; other columns are attributes, and `consent.<category>` columns take true/false/yes/no/1/0. `consent` gives every imported contact that has no answer for the category yet its consent.",
    auth: 'admin',
    body: () => [CreateImportBody],
    responses: [ok('ContactImportCreated', 'The import, waiting for its file', 201)],
    errors: [],
  },
  'POST /v1/contacts/imports/{id}/start': {
    tag: 'contacts',
    summary: 'Start an import once its file is uploaded',
    auth: 'admin',
    responses: [ok('ContactImport', 'Queued', 202)],
    errors: ['not_found', 'conflict'],
  },
  'GET /v1/contacts/imports/{id}': {
    tag: 'contacts',
    summary: "An import's status, counts and refused rows",
    description: 'Refused rows are listed with their line, the value and why (the first 1,000).',
    auth: 'read',
    responses: [ok('ContactImport')],
    errors: ['not_found'],
  },
} as const satisfies Record<ContactImportRouteKey, RouteDoc>;

export const CONTACT_LIST_ROUTE_DOCS = {
  'GET /v1/lists': {
    tag: 'contacts',
    summary: 'List lists',
    auth: 'read',
    queryParams: PAGE,
    responses: [ok('ContactListPage')],
    errors: ['validation_failed'],
  },
  'POST /v1/lists': {
    tag: 'contacts',
    summary: 'Create a list',
    description: 'Give it an `id` (a slug) or let one be made.',
    auth: 'admin',
    body: () => [CreateListBody],
    responses: [ok('ContactList', 'The list', 201)],
    errors: ['conflict'],
  },
  'GET /v1/lists/{id}': {
    tag: 'contacts',
    summary: 'One list',
    auth: 'read',
    params: LIST,
    responses: [ok('ContactList')],
    errors: ['not_found'],
  },
  'DELETE /v1/lists/{id}': {
    tag: 'contacts',
    summary: 'Delete a list (its contacts stay)',
    auth: 'admin',
    params: LIST,
    responses: [ok('ContactListDeleted')],
    errors: ['not_found'],
  },
  'GET /v1/lists/{id}/members': {
    tag: 'contacts',
    summary: "A list's members, paged",
    auth: 'read',
    params: LIST,
    queryParams: PAGE,
    responses: [ok('ContactPage')],
    errors: ['not_found', 'validation_failed'],
  },
  'POST /v1/lists/{id}/members': {
    tag: 'contacts',
    summary: 'Add contacts to a list',
    description:
      'Up to 100 contact ids or addresses. An address that is no contact yet becomes one (no attributes, no consent). If any entry is not valid, nothing changes.',
    auth: 'admin',
    params: LIST,
    body: () => [MembersBody],
    responses: [ok('ListMembersAdded')],
    errors: ['not_found'],
  },
  'DELETE /v1/lists/{id}/members': {
    tag: 'contacts',
    summary: 'Remove contacts from a list',
    description: 'Up to 100 contact ids or addresses; the contacts stay.',
    auth: 'admin',
    params: LIST,
    body: () => [MembersBody],
    responses: [ok('ListMembersRemoved')],
    errors: ['not_found'],
  },
} as const satisfies Record<ContactListRouteKey, RouteDoc>;
