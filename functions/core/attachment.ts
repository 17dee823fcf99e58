/**
 * Attachments and inline images: the API's field, the form that travels on the queue (references into
 * the content store, never the bytes), the limits, and the checks made at accept time. Pure: the bytes'
 * sniffed type is an input (app/attachments.ts sniffs with file-type).
 */
import * as z from 'zod/mini';

export const ATTACHMENT_LIMITS = {
  /** Attachments per email. */
  count: 20,
  /** Decoded bytes of one file. */
  fileBytes: 25 * 1024 * 1024,
  /**
   * Decoded bytes of every attachment of one email together. Base64 in MIME grows them by a third:
   * 28 MiB of files make a message of about 38 MiB, under SES's 40 MB, the largest provider's limit.
   */
  messageBytes: 28 * 1024 * 1024,
  /** Characters of a file name. */
  filename: 255,
  /** Characters of a Content-ID. */
  contentId: 128,
  /** Seconds an upload URL is valid. */
  uploadUrlSeconds: 15 * 60,
  /** Seconds an uploaded file may be used by emails after its upload URL was made. */
  uploadUsableSeconds: 24 * 3600,
} as const;

/** Extensions refused whatever the content: executables, installers, scripts and shortcuts. */
export const DENIED_EXTENSIONS: ReadonlySet<string> = new Set([
  'ade',
  'adp',
  'app',
  'appx',
  'apk',
  'bat',
  'cab',
  'chm',
  'cmd',
  'com',
  'cpl',
  'dll',
  'dmg',
  'exe',
  'hta',
  'ins',
  'iso',
  'isp',
  'jar',
  'js',
  'jse',
  'lib',
  'lnk',
  'mde',
  'msc',
  'msi',
  'msix',
  'msp',
  'mst',
  'nsh',
  'pif',
  'ps1',
  'psm1',
  'reg',
  'scr',
  'sct',
  'sh',
  'shb',
  'sys',
  'vb',
  'vbe',
  'vbs',
  'vxd',
  'wsc',
  'wsf',
  'wsh',
  'xll',
]);

/** Sniffed types refused whatever the name says (file-type's names for executables and installers). */
export const DENIED_TYPES: ReadonlySet<string> = new Set([
  'application/x-msdownload',
  'application/x-ms-installer',
  'application/x-elf',
  'application/x-mach-binary',
  'application/x-executable',
  'application/x-sharedlib',
  'application/java-archive',
  'application/vnd.android.package-archive',
  'application/x-apple-diskimage',
  'application/x-iso9660-image',
  'application/vnd.ms-cab-compressed',
  'application/x-msi',
  'application/wasm',
]);

/** Canonical forms of types that go by several names. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'application/x-pdf': 'application/pdf',
  'image/x-png': 'image/png',
  'application/x-zip-compressed': 'application/zip',
  'audio/mp3': 'audio/mpeg',
  'text/xml': 'application/xml',
};

/** A MIME type in lower case, without parameters, by its canonical name. */
export function normalType(type: string): string {
  const bare = (type.split(';')[0] ?? '').trim().toLowerCase();
  return TYPE_ALIASES[bare] ?? bare;
}

/**
 * Formats built on ZIP or OLE that file-type may report as the container: a declared Office type on a
 * sniffed container is no mismatch.
 */
const CONTAINERS: Readonly<Record<string, readonly string[]>> = {
  'application/zip': [
    'application/vnd.openxmlformats-officedocument.',
    'application/vnd.oasis.opendocument.',
    'application/epub+zip',
  ],
  'application/x-cfb': ['application/msword', 'application/vnd.ms-'],
};

/** Whether the declared type agrees with the sniffed one. */
export function typesAgree(declared: string, sniffed: string): boolean {
  const d = normalType(declared);
  const s = normalType(sniffed);
  if (d === s) return true;
  return (CONTAINERS[s] ?? []).some((prefix) => d.startsWith(prefix));
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** A MIME type: type/subtype, no parameters. */
const mimeType = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** One attachment as the API takes it: the content inline (base64) or an uploaded file's id. */
export const AttachmentInput = /* @__PURE__ */ (() =>
  z
    .strictObject({
      filename: z.string().check(z.minLength(1), z.maxLength(ATTACHMENT_LIMITS.filename)),
      /** The file's bytes, base64 (standard alphabet, padded). */
      content: z.optional(
        z
          .string()
          .check(
            z.refine((s) => base64.test(s) && s.length % 4 === 0, 'content must be base64 (standard alphabet, padded)'),
          ),
      ),
      /** The id of a file uploaded through POST /v1/attachments. */
      attachmentId: z.optional(
        z.string().check(z.regex(/^up-\d{10}-[0-9a-f-]{36}$/, 'not an attachment id from POST /v1/attachments')),
      ),
      contentType: z.optional(z.string().check(z.regex(mimeType, 'contentType is a MIME type like "application/pdf"'))),
      disposition: z._default(z.enum(['attachment', 'inline']), 'attachment'),
      /** For an inline image: the id the HTML names it by (`<img src="cid:logo">`). */
      contentId: z.optional(
        z
          .string()
          .check(z.regex(/^[A-Za-z0-9._@-]{1,128}$/, 'contentId is 1 to 128 letters, digits, ".", "_", "@" or "-"')),
      ),
    })
    .check(
      z.superRefine((a, ctx) => {
        if ((a.content === undefined) === (a.attachmentId === undefined)) {
          ctx.addIssue({ code: 'custom', path: ['content'], message: 'give either content (base64) or attachmentId' });
        }
        if (a.disposition === 'inline' && a.contentId === undefined) {
          ctx.addIssue({ code: 'custom', path: ['contentId'], message: 'an inline attachment needs a contentId' });
        }
      }),
    ))();
export type AttachmentInput = z.output<typeof AttachmentInput>;

/** An attachment as it travels on the queue: a reference into the content store. */
export const AttachmentRef = /* @__PURE__ */ (() =>
  z.object({
    filename: z.string(),
    contentType: z.string(),
    disposition: z.enum(['attachment', 'inline']),
    contentId: z.optional(z.string()),
    /** The content store's key. */
    key: z.string(),
    /** Decoded bytes. */
    size: z.number(),
  }))();
export type AttachmentRef = z.infer<typeof AttachmentRef>;

/** The problem with a file name, if any: no path separators, no control characters, no dot-only names. */
export function filenameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > ATTACHMENT_LIMITS.filename)
    return `a file name is 1 to ${ATTACHMENT_LIMITS.filename} characters`;
  if (/[/\\]/.test(name)) return 'a file name may not contain "/" or "\\"';
  // C0 and C1 controls, DEL, and the bidirectional overrides that disguise an extension.
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name))
    return 'a file name may not contain control characters';
  if (/^\.+$/.test(name.trim()) || name.trim() === '') return 'a file name needs a name, not only dots or spaces';
  return undefined;
}

/** The extension of a file name, lower case ('' for none). */
export const extensionOf = (name: string): string => {
  const dot = name.lastIndexOf('.');
  return dot <= 0
    ? ''
    : name
        .slice(dot + 1)
        .toLowerCase()
        .trim();
};

/** One attachment's facts, once decoded (or read from the store) and sniffed. */
export interface AttachmentFacts {
  readonly filename: string;
  readonly declaredType?: string | undefined;
  /** What file-type recognised; undefined for text and formats it does not know. */
  readonly sniffedType?: string | undefined;
  readonly size: number;
  readonly disposition: 'attachment' | 'inline';
  readonly contentId?: string | undefined;
}

export interface AttachmentIssue {
  /** Index of the attachment, or undefined for the email as a whole. */
  readonly index?: number;
  readonly field?: string;
  readonly message: string;
}

/** Every `cid:` the HTML refers to (in src, href, background and CSS url()). */
export function cidReferences(html: string): string[] {
  const found = new Set<string>();
  for (const m of html.matchAll(/cid:([^"'\s)>]+)/gi)) {
    const id = m[1];
    if (id) found.add(decodeURIComponent(id).replace(/^<|>$/g, ''));
  }
  return [...found];
}

/**
 * The checks of one email's attachments: names, denied types (by extension and by content), the
 * declared type against the sniffed one, sizes per file and together, and every `cid:` of the HTML
 * matching one inline attachment (and Content-IDs unique).
 */
export function checkAttachments(parts: readonly AttachmentFacts[], html: string | undefined): AttachmentIssue[] {
  const issues: AttachmentIssue[] = [];
  let total = 0;
  const cids = new Map<string, number>();
  parts.forEach((p, index) => {
    const name = filenameProblem(p.filename);
    if (name) issues.push({ index, field: 'filename', message: name });
    const ext = extensionOf(p.filename);
    if (DENIED_EXTENSIONS.has(ext)) {
      issues.push({
        index,
        field: 'filename',
        message: `files of type ".${ext}" (executables and scripts) are refused`,
      });
    }
    if (p.sniffedType !== undefined && DENIED_TYPES.has(normalType(p.sniffedType))) {
      issues.push({
        index,
        field: 'content',
        message: `the content is an executable or installer (${p.sniffedType}); refused`,
      });
    } else if (
      p.declaredType !== undefined &&
      p.sniffedType !== undefined &&
      !typesAgree(p.declaredType, p.sniffedType)
    ) {
      issues.push({
        index,
        field: 'contentType',
        message: `contentType is "${p.declaredType}" but the content is ${p.sniffedType}`,
      });
    }
    if (p.size > ATTACHMENT_LIMITS.fileBytes) {
      issues.push({
        index,
        field: 'content',
        message: `a file may be at most ${ATTACHMENT_LIMITS.fileBytes} bytes (this one is ${p.size})`,
      });
    }
    total += p.size;
    if (p.contentId !== undefined) {
      const key = p.contentId.toLowerCase();
      if (cids.has(key))
        issues.push({ index, field: 'contentId', message: `contentId "${p.contentId}" is used twice` });
      else if (p.disposition === 'inline') cids.set(key, index);
    }
  });
  if (total > ATTACHMENT_LIMITS.messageBytes) {
    issues.push({
      message: `the attachments of an email may be at most ${ATTACHMENT_LIMITS.messageBytes} bytes together (these are ${total})`,
    });
  }
  for (const ref of html === undefined ? [] : cidReferences(html)) {
    if (!cids.has(ref.toLowerCase())) {
      issues.push({
        field: 'html',
        message: `the HTML refers to "cid:${ref}" but no inline attachment has that contentId`,
      });
    }
  }
  return issues;
}

/** The type an attachment is sent with: the declared one, else the sniffed one, else by its extension. */
export function effectiveType(p: Pick<AttachmentFacts, 'declaredType' | 'sniffedType' | 'filename'>): string {
  if (p.declaredType) return normalType(p.declaredType);
  if (p.sniffedType) return normalType(p.sniffedType);
  return BY_EXTENSION[extensionOf(p.filename)] ?? 'application/octet-stream';
}

const BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  ics: 'text/calendar',
  json: 'application/json',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  md: 'text/markdown',
};

/** Bytes of `n` bytes once base64-encoded in MIME (76-character lines with CRLF). */
export const mimeEncodedBytes = (n: number): number => {
  const b64 = Math.ceil(n / 3) * 4;
  return b64 + Math.ceil(b64 / 76) * 2;
};

/** The size of an email as a provider counts it, near enough: its bodies, and its attachments encoded, plus headers. */
export function messageBytes(email: {
  readonly html?: string | undefined;
  readonly text?: string | undefined;
  readonly subject: string;
  readonly attachments?: readonly { readonly size: number }[] | undefined;
}): number {
  const utf8 = (s: string | undefined) => (s === undefined ? 0 : new TextEncoder().encode(s).length);
  // Bodies go quoted-printable or base64: a third more at worst. Headers and MIME boundaries: 4 KiB.
  const bodies = Math.ceil(((utf8(email.html) + utf8(email.text)) * 4) / 3);
  const files = (email.attachments ?? []).reduce((sum, a) => sum + mimeEncodedBytes(a.size) + 512, 0);
  return bodies + files + utf8(email.subject) + 4096;
}
