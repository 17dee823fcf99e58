/**
 * The API's email schema. Strict where a typo would silently change behaviour (unknown fields are
 * refused), and tied to what the providers accept: SES's 50-recipient, 15-header and 995-character
 * header limits, ASCII local parts, EmailTag character rules.
 */
import * as z from 'zod/mini';
import { formatMailbox, type Mailbox, parseMailbox } from './address';
import { ATTACHMENT_LIMITS, AttachmentInput } from './attachment';
import { Cooldown } from './cooldown';
import { defaultPriority, PRIORITIES, TRANSACTIONAL } from './priority';
import type { QueuedEmail } from './queued-email';
import { ScheduledAtField } from './schedule';
import { SendTemplate } from './template';
import { fieldName } from './zod-locale';

export const LIMITS = {
  recipients: 50,
  /** SES takes 15 headers; mailroute sets up to 3 itself (X-Mailroute-Id, List-Unsubscribe, List-Unsubscribe-Post). */
  headers: 12,
  headerName: 126,
  headerValue: 995,
  subject: 998,
  tags: 10,
  tagLength: 256,
  batch: 100,
} as const;

/** Header names mailroute or the provider sets itself; a custom header may not replace them. */
export const RESERVED_HEADERS = new Set(
  [
    'from',
    'to',
    'cc',
    'bcc',
    'reply-to',
    'sender',
    'subject',
    'date',
    'message-id',
    'return-path',
    'received',
    'mime-version',
    'content-type',
    'content-transfer-encoding',
    'dkim-signature',
    'list-unsubscribe',
    'list-unsubscribe-post',
  ].map((h) => h.toLowerCase()),
);

/** One address; `what` says what the field takes when it is missing or not a string. */
const address = (what: string) =>
  z.pipe(
    z.string({
      error: (iss) =>
        iss.input === undefined
          ? `${fieldName(iss.path)} is required: ${what}`
          : `${fieldName(iss.path)} must be ${what}`,
    }),
    z.transform((value: string, ctx): Mailbox => {
      const parsed = parseMailbox(value);
      if (!parsed.ok) {
        ctx.issues.push({ code: 'custom', message: `"${value.slice(0, 100)}": ${parsed.message}`, input: value });
        return z.NEVER;
      }
      return parsed.value;
    }),
  );

const mailbox = address('an address, like "jane@example.org" or "Jane Doe <jane@example.org>"');

/** One address or a list of them; a single string is read as a list of one. */
const mailboxList = z.pipe(
  z.transform((v: unknown) => (typeof v === 'string' ? [v] : v)),
  z
    .array(mailbox, {
      error: (iss) =>
        iss.input === undefined
          ? `${fieldName(iss.path)} is required: an address or a list of addresses`
          : `${fieldName(iss.path)} must be an address or a list of addresses`,
    })
    .check(z.maxLength(LIMITS.recipients, `at most ${LIMITS.recipients} recipients`)),
);

const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]{1,126}$/;

const headers = z
  .record(
    z.string(),
    z.string().check(
      z.maxLength(LIMITS.headerValue, `header values are at most ${LIMITS.headerValue} characters`),
      z.refine((v) => !/[\r\n\0]/.test(v), 'header values must not contain CR, LF or NUL'),
      z.refine((v) => /^[\x20-\x7e\t]*$/.test(v), 'header values must be printable ASCII'),
    ),
  )
  .check(
    z.superRefine((h, ctx) => {
      const names = Object.keys(h);
      if (names.length > LIMITS.headers) {
        ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.headers} custom headers` });
      }
      const seen = new Set<string>();
      for (const n of names) {
        const lower = n.toLowerCase();
        if (!HEADER_NAME.test(n)) {
          ctx.addIssue({
            code: 'custom',
            path: [n],
            message: `header names are 1 to ${LIMITS.headerName} printable ASCII characters without spaces or ":"`,
          });
        }
        if (RESERVED_HEADERS.has(lower) || lower.startsWith('x-ses-') || lower.startsWith('x-mailroute-')) {
          ctx.addIssue({ code: 'custom', path: [n], message: `"${n}" is set by mailroute and cannot be overridden` });
        }
        if (seen.has(lower)) ctx.addIssue({ code: 'custom', path: [n], message: `"${n}" is given twice` });
        seen.add(lower);
      }
    }),
  );

const tagPart = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(LIMITS.tagLength),
    z.regex(/^[A-Za-z0-9_-]+$/, 'tag names and values use only letters, digits, "_" and "-"'),
  );

const tags = z.record(tagPart, tagPart).check(
  z.superRefine((t, ctx) => {
    const names = Object.keys(t);
    if (names.length > LIMITS.tags) ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.tags} tags` });
    for (const n of names) {
      if (n.toLowerCase().startsWith('mailroute') || n.toLowerCase().startsWith('ses')) {
        ctx.addIssue({
          code: 'custom',
          path: [n],
          message: `tag names starting with "mailroute" or "ses" are reserved`,
        });
      }
    }
  }),
);

export const SendEmailBody = z
  .strictObject({
    from: address('the sender\'s address, like "app@acme.example" or "Acme <app@acme.example>"'),
    to: mailboxList,
    cc: z.optional(mailboxList),
    bcc: z.optional(mailboxList),
    replyTo: z.optional(mailboxList),
    /** Required unless the email is sent with a `template`. */
    subject: z.optional(
      z.string().check(
        z.minLength(1),
        z.maxLength(LIMITS.subject),
        z.refine((s) => !/[\r\n\0]/.test(s), 'subject must not contain CR, LF or NUL'),
      ),
    ),
    html: z.optional(z.string().check(z.minLength(1))),
    text: z.optional(z.string().check(z.minLength(1))),
    /** A stored template rendered at accept time, instead of subject, html and text. */
    template: z.optional(SendTemplate),
    headers: z.optional(headers),
    tags: z.optional(tags),
    /** Open and click tracking of the HTML part; unset fields take the deployment's defaults. */
    track: z.optional(z.strictObject({ opens: z.optional(z.boolean()), clicks: z.optional(z.boolean()) })),
    /** Files and inline images (core/attachment.ts), checked and stored at accept time. */
    attachments: z.optional(z.array(AttachmentInput).check(z.maxLength(ATTACHMENT_LIMITS.count))),
    /** Mail in any category but transactional carries a one-click unsubscribe link. */
    category: z._default(
      z
        .string()
        .check(z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'categories are 1 to 64 lower-case letters, digits, "_" or "-"')),
      TRANSACTIONAL,
    ),
    /** Which queue the email waits in; defaults from the category (`defaultPriority`). */
    priority: z.optional(
      z.enum(PRIORITIES, { error: `priority is one of ${PRIORITIES.map((p) => `"${p}"`).join(', ')}` }),
    ),
    /** Send later: an RFC 3339 date-time with an offset, from now to 30 days ahead (core/schedule.ts). */
    scheduledAt: z.optional(ScheduledAtField),
    /**
     * Skip recipients who got mail of the same key within `hours`, at send time (core/cooldown.ts);
     * `null` turns the template's default cooldown off.
     */
    cooldown: z.optional(z.nullable(Cooldown)),
  })
  .check(
    // Runs even when a field is invalid, so one answer lists every problem (a bad recipient and a
    // missing body): the value may then be partly unparsed, so nothing in it is taken for granted.
    z.superRefine(
      (e, ctx) => {
        const v: Readonly<Record<string, unknown>> = e;
        if (v.template !== undefined) {
          const given = ['subject', 'html', 'text'].filter((f) => v[f] !== undefined);
          if (given.length > 0) {
            ctx.addIssue({
              code: 'custom',
              path: ['template'],
              message: `give either a template or ${given.join(' and ')}, not both`,
            });
          }
        } else {
          if (v.subject === undefined) {
            // Phrased by the API's error map, with the field's full path (`emails.3.subject`).
            ctx.addIssue({ code: 'invalid_type', expected: 'string', input: undefined, path: ['subject'] });
          }
          if (v.html === undefined && v.text === undefined) {
            ctx.addIssue({ code: 'custom', path: ['html'], message: 'give html, text or both' });
          }
        }
        const length = (list: unknown) => (Array.isArray(list) ? list.length : 0);
        if (!Array.isArray(v.to)) return; // `to` is missing or not a list: reported as such
        const to = v.to.length;
        const others = length(v.cc) + length(v.bcc);
        const count = to + others;
        if (count === 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'at least one recipient' });
        if (typeof v.category === 'string' && v.category !== TRANSACTIONAL && (to !== 1 || others > 0)) {
          ctx.addIssue({
            code: 'custom',
            path: ['to'],
            message: `mail in category "${v.category}" goes to exactly one recipient (its unsubscribe link is personal); send one email per recipient, e.g. with the batch API`,
          });
        }
        if (count > LIMITS.recipients) {
          ctx.addIssue({
            code: 'custom',
            path: ['to'],
            message: `at most ${LIMITS.recipients} recipients across to, cc and bcc`,
          });
        }
      },
      {
        when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value),
      },
    ),
  );

export type SendEmailInput = z.input<typeof SendEmailBody>;
export type SendEmail = z.output<typeof SendEmailBody>;

/** Built on first use: most requests send one email. */
export const BatchBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    emails: z
      .array(z.unknown(), {
        error: (iss) =>
          iss.input === undefined
            ? `\`emails\` is required: a list of 1 to ${LIMITS.batch} emails`
            : `\`emails\` must be a list of 1 to ${LIMITS.batch} emails`,
      })
      .check(
        z.minLength(1, '`emails` must list at least one email'),
        z.maxLength(LIMITS.batch, `at most ${LIMITS.batch} emails per batch`),
      ),
  }),
);

/** The emails of a batch whose shape `BatchBody` has checked, each validated on its own (paths `emails.3.to`). */
export const BatchEmails = z.object({ emails: z.array(SendEmailBody) });

/** An email with a template is queued once rendered: its subject and body then come from the template. */
export function toQueuedEmail(id: string, e: SendEmail): QueuedEmail {
  if (e.subject === undefined || e.template !== undefined)
    throw new Error("render the email's template before queuing it");
  return {
    v: 1,
    id,
    from: formatMailbox(e.from),
    to: e.to.map(formatMailbox),
    cc: (e.cc ?? []).map(formatMailbox),
    bcc: (e.bcc ?? []).map(formatMailbox),
    replyTo: (e.replyTo ?? []).map(formatMailbox),
    subject: e.subject,
    ...(e.html !== undefined ? { html: e.html } : {}),
    ...(e.text !== undefined ? { text: e.text } : {}),
    headers: e.headers ?? {},
    tags: e.tags ?? {},
    category: e.category,
    priority: e.priority ?? defaultPriority(e.category),
    ...(e.track ? { track: e.track } : {}),
    ...(e.cooldown ? { cooldown: { key: e.cooldown.key, hours: e.cooldown.hours } } : {}),
  };
}
