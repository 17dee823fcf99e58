/** The API's words the console offers as choices (test/unit/console checks them against functions/core). */
export { PRIORITIES } from '../../functions/core/priority';

/** An email's statuses (functions/core/message.ts `STATUSES`). */
export const STATUSES = [
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'suppressed',
  'rejected',
  'failed',
  'canceled',
  'throttled',
] as const;

/**
 * Statuses after which an email does not move on by itself (but `sent` may still become delivered or
 * bounced). A `scheduled` email moves on at its time.
 */
export const SETTLED = new Set<string>(STATUSES.filter((s) => s !== 'scheduled' && s !== 'queued' && s !== 'sending'));
