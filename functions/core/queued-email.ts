/**
 * The queue message's schema, apart from the API schemas so that the dispatcher, which reads only
 * queue messages, does not build the API's validators at cold start.
 */
import * as z from 'zod/mini';
import './zod-locale';

/**
 * The email as it travels through SQS to the dispatcher: everything needed to send, addresses
 * already validated and formatted. Bodies live only here, never in DynamoDB.
 */
export const QueuedEmail = z.object({
  v: z.literal(1),
  id: z.string().check(z.minLength(1)),
  from: z.string(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  replyTo: z.array(z.string()),
  subject: z.string(),
  html: z.optional(z.string()),
  text: z.optional(z.string()),
  headers: z.record(z.string(), z.string()),
  tags: z.record(z.string(), z.string()),
  /** Absent in messages queued before categories existed: those are transactional. */
  category: z._default(z.string(), 'transactional'),
  track: z.optional(z.object({ opens: z.optional(z.boolean()), clicks: z.optional(z.boolean()) })),
});
export type QueuedEmail = z.infer<typeof QueuedEmail>;

/** The bare address inside a formatted mailbox ("Name" <a@b> → a@b). */
export function addressOf(formatted: string): string {
  const m = /<([^<>]+)>$/.exec(formatted);
  return m?.[1] ?? formatted;
}
