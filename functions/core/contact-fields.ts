/**
 * What a contact may hold, as the API and the CSV import check it: attribute names (usable as
 * template variables), consent categories (the suppression list's category names, SCOPE_PATTERN of core/suppression.ts without "*") and sources, and
 * the limits that keep a contact one small DynamoDB item. Pure rules: no I/O.
 */
export const CONTACT_LIMITS = {
  /** Attributes per contact. */
  attributes: 50,
  /** Bytes of a contact's attributes as JSON. */
  attributeBytes: 8192,
  /** Consent categories per contact. */
  categories: 20,
  /** Items per page of a listing. */
  pageMax: 100,
  pageDefault: 50,
  /** Contacts or addresses per request that adds or removes list members. */
  membersPerRequest: 100,
} as const;

/** An attribute name: a template variable name (`first_name`), never `email` (the address itself). */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set(['email']);

/** Why `name` cannot be an attribute name, or undefined when it can. */
export function attributeNameProblem(name: string): string | undefined {
  if (RESERVED_ATTRIBUTES.has(name)) return `"${name}" is the contact's address, not an attribute`;
  if (!ATTRIBUTE_NAME.test(name))
    return 'an attribute name is a letter or _, then letters, digits or _ (64 characters at most)';
  return undefined;
}

/** A consent category: a category name as the suppression list and `category` on a send spell it (never "*"). */
export const CATEGORY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Where a consent came from: "api", "import", "form", … */
export const CONSENT_SOURCE = /^[a-z][a-z0-9_-]{0,31}$/;

/** A consent value as a CSV cell writes it; undefined for a cell that says neither yes nor no. */
export function consentValue(cell: string): boolean | undefined {
  const v = cell.trim().toLowerCase();
  if (v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'no' || v === '0') return false;
  return undefined;
}

/** The id a list may be given (a slug), and the id of a contact the API makes. */
export const LIST_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const CONTACT_ID = /^[A-Za-z0-9-]{1,64}$/;
