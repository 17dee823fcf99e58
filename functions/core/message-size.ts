/**
 * How large a message each provider takes (DESIGN §3: "too large for it → skip that provider before
 * trying"). A definition may declare less (`maxMessageBytes`); the HTTP relay's limit is its
 * receiver's, so it is configurable, with Azure's as the default.
 */
/** The providers' own limits, in bytes, as a message's size is counted (core/attachment.ts `messageBytes`). */
export const PROVIDER_MAX_MESSAGE_BYTES = {
  /** SES v2: 40 MB per message, attachments encoded. */
  ses: 40_000_000,
  /** Azure Communication Services Email: 10 MB per request. */
  azure: 10 * 1024 * 1024,
  /** The HTTP relay: the receiver's, 10 MiB unless its definition says. */
  http: 10 * 1024 * 1024,
} as const;

/** The largest message a provider definition takes. */
export function maxMessageBytesOf(def: {
  readonly type: keyof typeof PROVIDER_MAX_MESSAGE_BYTES;
  readonly maxMessageBytes?: number | undefined;
}): number {
  // The relay's receiver decides its own limit; SES and Azure cannot be raised above theirs.
  if (def.type === 'http') return def.maxMessageBytes ?? PROVIDER_MAX_MESSAGE_BYTES.http;
  return Math.min(def.maxMessageBytes ?? Number.POSITIVE_INFINITY, PROVIDER_MAX_MESSAGE_BYTES[def.type]);
}

/** The largest message any of the definitions takes (0 for none). */
export const largestMessageBytes = (defs: readonly Parameters<typeof maxMessageBytesOf>[0][]): number =>
  defs.reduce((max, def) => Math.max(max, maxMessageBytesOf(def)), 0);
