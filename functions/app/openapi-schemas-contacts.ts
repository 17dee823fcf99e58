/**
 * The answers of the contacts, lists and imports routes, for the OpenAPI document (spread into
 * `responseSchemas` of app/openapi-schemas.ts).
 */
import * as z from 'zod/mini';
import { IMPORT_STATUSES, REFUSAL_REASONS, type RefusalReason } from '../core/contact-import';

export const contactResponseSchemas = () => {
  const str = () => z.string();
  const page = <T extends z.ZodMiniType>(item: T) => z.object({ data: z.array(item), next: z.nullable(str()) });
  const Consent = z.object({ granted: z.boolean(), source: str(), at: str() });
  const Contact = z.object({
    id: str(),
    email: str(),
    attributes: z.record(z.string(), z.unknown()),
    consent: z.record(z.string(), Consent),
    createdAt: str(),
    updatedAt: str(),
  });
  const ContactList = z.object({ id: str(), name: str(), description: z.nullable(str()), createdAt: str() });
  const counts = z.object({ rows: z.int(), created: z.int(), updated: z.int(), refused: z.int() });
  return {
    Contact,
    ContactPage: page(Contact),
    ContactErased: z.object({
      id: str(),
      email: str(),
      erased: z.literal(true),
      /** The scopes the address stays suppressed for (the suppression list is kept). */
      suppressionKept: z.array(str()),
    }),
    ContactExport: z.object({
      exportedAt: str(),
      contact: Contact,
      lists: z.array(z.object({ id: str(), name: z.nullable(str()) })),
      suppressions: z.array(
        z.object({
          scope: str(),
          active: z.boolean(),
          reason: str(),
          source: str(),
          suppressedAt: str(),
          reenabledAt: z.optional(str()),
        }),
      ),
    }),
    ContactList,
    ContactListPage: page(ContactList),
    ContactListDeleted: z.object({ id: str(), deleted: z.literal(true) }),
    ListMembersAdded: z.object({
      listId: str(),
      data: z.array(z.object({ id: str(), email: str(), created: z.boolean() })),
    }),
    ListMembersRemoved: z.object({ listId: str(), removed: z.array(str()) }),
    ContactImportCreated: z.object({
      id: str(),
      status: z.literal('waiting_upload'),
      uploadUrl: str(),
      expiresAt: str(),
      headers: z.object({ 'Content-Type': str(), 'Content-Length': str() }),
    }),
    ContactImport: z.object({
      id: str(),
      status: z.enum(IMPORT_STATUSES),
      listId: z.nullable(str()),
      consent: z.nullable(z.object({ category: str(), source: str() })),
      counts,
      refused: z.array(
        z.object({
          line: z.int(),
          value: str(),
          reason: z.enum(Object.keys(REFUSAL_REASONS) as [RefusalReason, ...RefusalReason[]]),
          message: str(),
        }),
      ),
      error: z.optional(str()),
      createdAt: str(),
      updatedAt: str(),
    }),
  };
};
