/**
 * Suppression rules. An address is suppressed per scope: "*" (all mail: hard bounces, complaints,
 * converted soft bounces, manual entries) or a category (unsubscribes). Transactional mail is
 * checked against "*" only, so no category unsubscribe ever stops a password reset.
 */
import { TRANSACTIONAL } from './message';

export const ALL_MAIL = '*';

export type SuppressionReason = 'hard_bounce' | 'complaint' | 'soft_bounce' | 'unsubscribe' | 'manual';

/** The scopes that can stop mail of `category`. */
export const scopesFor = (category: string): readonly string[] =>
  category === TRANSACTIONAL ? [ALL_MAIL] : [ALL_MAIL, category];

export const suppressionKey = (address: string, scope: string) => `${address}|${scope}`;

/** Whether a recipient of mail in `category` is suppressed, given the active "address|scope" keys. */
export const isSuppressed = (active: ReadonlySet<string>, address: string, category: string): boolean =>
  scopesFor(category).some((scope) => active.has(suppressionKey(address, scope)));

/** The scope value of a suppression: "*" or a category name. */
export const SCOPE_PATTERN = /^(\*|[a-z0-9][a-z0-9_-]{0,63})$/;
