/**
 * The queue message's schema, apart from the API schemas so that the dispatcher, which reads only
 * queue messages, does not build the API's validators at cold start. Marked pure: only the dispatcher's
 * bundle keeps (and builds) it.
 */
import * as z from 'zod/mini';
import { AttachmentRef } from './attachment';
import { PRIORITIES } from './priority';
import './zod-locale';

/**
 * The email as it travels through SQS to the dispatcher: everything needed to send, addresses
 * already validated and formatted. Bodies live only here, never in DynamoDB.
 */
export const QueuedEmail = /* @__PURE__ */ (() =>
  z.object({
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
    /** Absent in messages queued before priorities existed: taken from the category (`defaultPriority`). */
    priority: z.optional(z.enum(PRIORITIES)),
    track: z.optional(z.object({ opens: z.optional(z.boolean()), clicks: z.optional(z.boolean()) })),
    /** The email's attachments, as references into the content store (claim-check). */
    attachments: z.optional(z.array(AttachmentRef)),
    /**
     * Where html and text wait when they would not fit a queue message: a JSON object `{html?, text?}`
     * in the content store; the message then carries neither.
     */
    bodyKey: z.optional(z.string()),
    /** The message's size as providers count it (core/attachment.ts `messageBytes`), when it has attachments. */
    size: z.optional(z.number()),
    /** Skip recipients who got mail of this key within `hours` (checked at send time: core/cooldown.ts). */
    cooldown: z.optional(z.object({ key: z.string().check(z.minLength(1)), hours: z.number() })),
  }))();
export type QueuedEmail = z.infer<typeof QueuedEmail>;

/** The bare address inside a formatted mailbox ("Name" <a@b> → a@b). */
export function addressOf(formatted: string): string {
  const m = /<([^<>]+)>$/.exec(formatted);
  return m?.[1] ?? formatted;
}

/** The largest SQS message body, in bytes (1 MiB). */
export const SQS_MAX_BYTES = 1_048_576;

/**
 * JSON for an SQS message body. SQS accepts only #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and
 * #x10000-#x10FFFF; JSON.stringify leaves U+FFFE/U+FFFF (and the surrogate pairs of astral
 * characters, which some SQS implementations refuse) as they are, so those become \uXXXX escapes,
 * which JSON.parse turns back into the same text.
 */
export function toQueueBody(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\uD800-\uDFFF\uFFFE\uFFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
