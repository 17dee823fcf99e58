/**
 * Priorities: each has its own queue, so a password reset never waits behind a newsletter. Bulk
 * mail may use only its share of a provider's capacity.
 */
/** The category of mail no unsubscribe can stop (password resets, receipts). */
export const TRANSACTIONAL = 'transactional';

export const PRIORITIES = ['critical', 'transactional', 'bulk'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Without an explicit priority: `transactional` for the transactional category, `bulk` for any other. */
export const defaultPriority = (category: string): Priority => (category === TRANSACTIONAL ? 'transactional' : 'bulk');
