/**
 * Suppression filtering of a queued email's recipients, as pure functions: the keys to look up
 * for a batch (one look-up for every recipient, in every scope that can stop its mail), and the
 * recipients left once the suppressed ones are dropped (DESIGN §2.5).
 */
import { addressKey } from './address-key';
import { addressOf } from './queued-email';
import { isSuppressed, scopesFor } from './suppression';

/** The address a recipient is suppressed (and unsubscribed) under (core/address-key.ts). */
export const recipientKey = (formatted: string): string => addressKey(addressOf(formatted));

interface Addressed {
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly category: string;
}

/** Every suppression key that could stop one of `emails` (duplicates left to the store). */
export function suppressionKeys(emails: readonly Addressed[]): { address: string; scope: string }[] {
  const keys: { address: string; scope: string }[] = [];
  for (const { to, cc, bcc, category } of emails) {
    const scopes = scopesFor(category);
    for (const list of [to, cc, bcc])
      for (const m of list) {
        const address = recipientKey(m);
        for (const scope of scopes) keys.push({ address, scope });
      }
  }
  return keys;
}

export interface Recipients {
  readonly to: string[];
  readonly cc: string[];
  readonly bcc: string[];
  /** The bare addresses dropped because they are suppressed. */
  readonly dropped: string[];
}

/** The recipients of `email` that are not suppressed for its category, given the active "address|scope" keys. */
export function recipientsOf(email: Addressed, suppressed: ReadonlySet<string>): Recipients {
  const dropped: string[] = [];
  const keep = (list: readonly string[]) =>
    list.filter((m) => {
      if (suppressed.size === 0 || !isSuppressed(suppressed, recipientKey(m), email.category)) return true;
      dropped.push(addressOf(m));
      return false;
    });
  const to = keep(email.to);
  const cc = keep(email.cc);
  const bcc = keep(email.bcc);
  return { to, cc, bcc, dropped };
}

/** Whether no recipient is left to send to. */
export const noneLeft = (r: Recipients): boolean => r.to.length + r.cc.length + r.bcc.length === 0;
