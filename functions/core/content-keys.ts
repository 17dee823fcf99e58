/**
 * Where the content store keeps what it holds (claim-check: bytes kept outside the queue): one key
 * prefix per kind of content, and how long each kind is kept. The CDK stack turns these into the
 * bucket's lifecycle rules and the functions' grants (lib/resources.ts), the S3 adapter refuses keys
 * outside them (store/content-store.ts), and use cases build their keys here.
 *
 * Pure data and string building: no AWS SDK, no environment.
 */

/** The kinds of content and their key prefixes. */
export const CONTENT_PREFIXES = {
  /** The parts of an accepted email's attachments, until it is sent (or redriven from its DLQ). */
  attachments: 'attachments/',
  /** Files a client uploaded through a presigned URL, usable by many emails until they expire. */
  uploads: 'uploads/',
  /** Bodies too large for a queue message. */
  bodies: 'bodies/',
  /** Bodies of scheduled emails, waiting for their time. */
  scheduled: 'scheduled/',
  /** CSV files of contact imports, uploaded through a presigned URL; deleted once imported. */
  imports: 'imports/',
} as const;

export type ContentKind = keyof typeof CONTENT_PREFIXES;
export const CONTENT_KINDS = Object.keys(CONTENT_PREFIXES) as ContentKind[];

/**
 * Days each kind is kept before the bucket's lifecycle expires it. Content of a queued email must
 * outlive the email on its queue (4 days) and in its dead-letter queue (14 days), so a redrive still
 * finds it; scheduled bodies wait up to 30 days, then travel as queued emails. An upload may be named
 * by new emails for a day (the API compares that itself, from the id), and is kept as long as the
 * emails that name it may still be sent or redriven. An import's CSV (contacts' personal data) is
 * deleted as soon as the import ends, and expires after two days if it never runs.
 */
export const CONTENT_EXPIRY_DAYS: { readonly [K in ContentKind]: number } = {
  attachments: 15,
  uploads: 16,
  bodies: 15,
  scheduled: 46,
  // An import is started within minutes of its upload and deleted when it ends; this is the backstop.
  imports: 2,
};

/** A key's kind, or undefined for a key outside every prefix. */
export function contentKindOf(key: string): ContentKind | undefined {
  return CONTENT_KINDS.find(
    (kind) => key.startsWith(CONTENT_PREFIXES[kind]) && key.length > CONTENT_PREFIXES[kind].length,
  );
}

/** Only letters, digits, `-`, `_`, `.` and `/` between segments: no `..`, no empty segment, no leading `/`. */
const SAFE_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Builds the key of `kind` from its parts (ids the application chose, never user input unchecked). */
export function contentKey(kind: ContentKind, ...parts: readonly string[]): string {
  const rest = parts.join('/');
  if (!SAFE_KEY.test(rest)) throw new Error(`content key: unsafe parts ${JSON.stringify(parts)}`);
  return `${CONTENT_PREFIXES[kind]}${rest}`;
}

/** Whether `key` is one the content store may hold: under a known prefix, and safe. */
export function isContentKey(key: string): boolean {
  const kind = contentKindOf(key);
  return kind !== undefined && SAFE_KEY.test(key.slice(CONTENT_PREFIXES[kind].length));
}
