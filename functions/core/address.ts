/**
 * Email addresses as SES can send them: an ASCII local part (SES does not support SMTPUTF8), a
 * host-name domain converted to punycode (core/host-name.ts), and an optional display name.
 *
 * An address is never changed silently: the address sent to differs from the one written only in
 * the domain's case and punycode form. Spaces (U+0020) around the whole value are trimmed; nothing
 * else is. Control characters (CR, LF, NUL, tab, DEL, C1) and line separators are refused wherever
 * they are, with a message that says why, so they can never inject a header.
 */
import { hostName } from './host-name';

export interface Mailbox {
  /** local@domain, domain lower-cased and in punycode. */
  readonly address: string;
  readonly name?: string;
}

export type ParseResult = { ok: true; value: Mailbox } | { ok: false; message: string };

const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** Only spaces are trimmed: a CR, LF or tab at either end is refused like one inside. */
const trimSpaces = (s: string) => s.replace(/^ +| +$/g, '');
// RFC 5322 atext plus dots (dot-atom), checked separately for leading/trailing/double dots.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;

function parseLocal(local: string): string | undefined {
  if (local.length === 0 || local.length > 64) return 'the part before @ must be 1 to 64 characters';
  if (/[^\x20-\x7e]/.test(local)) {
    return 'the part before @ must be ASCII (non-ASCII local parts cannot be sent through SES)';
  }
  if (local === '""') return 'the part before @ must not be empty (`""` is an empty quoted local part)';
  if (local.startsWith('"')) return QUOTED.test(local) ? undefined : 'the quoted part before @ is malformed';
  if (!DOT_ATOM.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return 'the part before @ has characters that are not allowed';
  }
  return undefined;
}

/** Parses "local@domain" (no display name). */
export function parseAddress(input: string): ParseResult {
  const s = trimSpaces(input);
  if (CONTROL.test(s)) return { ok: false, message: 'must not contain control characters such as CR or LF' };
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return { ok: false, message: 'must be an email address like name@example.com' };
  const local = s.slice(0, at);
  const localError = parseLocal(local);
  if (localError) return { ok: false, message: localError };
  const domain = hostName(s.slice(at + 1));
  if (!domain.ok) return domain;
  const address = `${local}@${domain.value}`;
  if (address.length > 254) return { ok: false, message: 'is longer than 254 characters' };
  return { ok: true, value: { address } };
}

/** Parses "local@domain", "<local@domain>", "Name <local@domain>" or "\"Doe, Jane\" <local@domain>". */
export function parseMailbox(input: string): ParseResult {
  const s = trimSpaces(input);
  if (CONTROL.test(s)) return { ok: false, message: 'must not contain control characters such as CR or LF' };
  const angle = /^(.*?) *<([^<>]*)>$/.exec(s);
  if (!angle) return parseAddress(s);
  const rawName = trimSpaces(angle[1] ?? '');
  const parsed = parseAddress(angle[2] ?? '');
  if (!parsed.ok) return parsed;
  let name = rawName;
  if (name.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(name)) return { ok: false, message: 'the quoted display name is malformed' };
    name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  } else if (/[",;<>@]/.test(name)) {
    return {
      ok: false,
      message: 'a display name with , ; < > @ or " must be quoted, like "Doe, Jane" <jane@example.com>',
    };
  }
  if (name.length > 200) return { ok: false, message: 'the display name is longer than 200 characters' };
  return { ok: true, value: name ? { address: parsed.value.address, name } : parsed.value };
}

/** The mailbox as a header value. Non-ASCII display names use RFC 2047 encoded words, as SES requires. */
export function formatMailbox(m: Mailbox): string {
  if (!m.name) return m.address;
  if (/^[\x20-\x7e]*$/.test(m.name)) return `"${m.name.replace(/(["\\])/g, '\\$1')}" <${m.address}>`;
  return `=?UTF-8?B?${Buffer.from(m.name, 'utf8').toString('base64')}?= <${m.address}>`;
}

/**
 * The key under which an address is suppressed: the address as it is sent to (core/host-name.ts),
 * case-folded, so that `Jane@…` and `jane@…` share one suppression.
 */
export function normaliseAddress(input: string): string | undefined {
  const parsed = parseAddress(input);
  if (!parsed.ok) return undefined;
  const at = parsed.value.address.lastIndexOf('@');
  const local = parsed.value.address.slice(0, at);
  return `${local.toLowerCase()}@${parsed.value.address.slice(at + 1)}`;
}
