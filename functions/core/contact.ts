/**
 * Contacts, their consent and their lists (the audience of broadcasts and event-triggered sends).
 * A contact is keyed by an id and found by its address, normalised the way the suppression list
 * keys addresses (core/address-key.ts), so "Ann@Example.COM" and "ann@example.com" are one contact.
 */

/** A contact's answer for one category of mail (e.g. "newsletter"), with where and when it was given. */
export interface Consent {
  readonly granted: boolean;
  /** Where it came from: "import", "api", "form", "unsubscribe", … */
  readonly source: string;
  /** When it was given or withdrawn (ISO 8601, UTC). */
  readonly at: string;
}

/** Attribute values a template can use (`{{ contact.first_name }}`): JSON scalars, arrays and objects. */
export type ContactAttributes = Readonly<Record<string, unknown>>;

export interface Contact {
  readonly id: string;
  /** The address, normalised (core/address-key.ts): the key contacts are found by. */
  readonly address: string;
  readonly attributes: ContactAttributes;
  /** Consent per category of mail. A category missing here has no consent. */
  readonly consent: Readonly<Record<string, Consent>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ContactList {
  readonly id: string;
  readonly name: string;
  readonly description?: string | undefined;
  readonly createdAt: string;
}

/** Whether a contact agreed to mail of `category` (and has not withdrawn it). */
export const hasConsent = (contact: Pick<Contact, 'consent'>, category: string): boolean =>
  contact.consent[category]?.granted === true;
