/**
 * The domain of an email address as mailroute accepts it: a host name (never an IP literal, never
 * a number that a URL parser would read as an IPv4 address), converted with UTS #46 non-transitional
 * processing and every check on (hyphens, bidi, joiners, STD3 ASCII rules, DNS lengths), then held
 * to IDNA2008 (RFC 5891/5892): every code point of a U-label must be PVALID, or CONTEXTO with its
 * rule met. Where UTS #46 would *map* a character (full-width letters, compatibility forms, symbols
 * it tolerates), the domain is refused rather than changed: the only difference between what a caller
 * writes and what mailroute sends to is the domain's case and its punycode form.
 */
import { toASCII, toUnicode } from 'tr46';

export type HostNameResult = { ok: true; value: string } | { ok: false; message: string };

const UTS46 = {
  checkHyphens: true,
  checkBidi: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  transitionalProcessing: false,
  verifyDNSLength: true,
} as const;

const LDH_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** A last label that a URL or resolver would read as a number (`1.2.3`, `0x7f.1`, `192.168.0.1`). */
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/i;

// RFC 5892 §2.1–2.9 as Unicode property classes (the derivation of PVALID / DISALLOWED).
const LETTER_DIGIT = /^[\p{Ll}\p{Lo}\p{Lm}\p{Mn}\p{Mc}\p{Nd}]$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{White_Space}\p{Noncharacter_Code_Point}\p{Cn}]$/u;
/** Combining Diacritical Marks for Symbols, Musical Symbols, Ancient Greek Musical Notation; old Hangul Jamo. */
const IGNORABLE_BLOCKS = /^[\u{20d0}-\u{20ff}\u{1d100}-\u{1d24f}\u{1100}-\u{11ff}\u{a960}-\u{a97f}\u{d7b0}-\u{d7ff}]$/u;
/** RFC 5892 §2.6 exceptions. */
const EXCEPTION_PVALID = new Set([0xdf, 0x3c2, 0x6fd, 0x6fe, 0xf0b, 0x3007]);
const EXCEPTION_DISALLOWED = new Set([0x640, 0x7fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b]);

const isArabicIndic = (cp: number) => cp >= 0x660 && cp <= 0x669;
const isExtendedArabicIndic = (cp: number) => cp >= 0x6f0 && cp <= 0x6f9;

/** RFC 5892 Appendix A: the CONTEXTO rules; undefined when `cp` is not CONTEXTO. */
function contextO(cps: readonly number[], i: number): boolean | undefined {
  const cp = cps[i] ?? 0;
  const at = (j: number) => String.fromCodePoint(cps[j] ?? 0x20);
  if (cp === 0xb7) return cps[i - 1] === 0x6c && cps[i + 1] === 0x6c; // MIDDLE DOT: l·l (Catalan)
  if (cp === 0x375) return /\p{Script=Greek}/u.test(at(i + 1)); // GREEK KERAIA
  if (cp === 0x5f3 || cp === 0x5f4) return /\p{Script=Hebrew}/u.test(at(i - 1)); // GERESH, GERSHAYIM
  if (cp === 0x30fb) {
    // KATAKANA MIDDLE DOT: the label has Hiragana, Katakana or Han
    return cps.some(
      (c) => c !== 0x30fb && /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(String.fromCodePoint(c)),
    );
  }
  if (isArabicIndic(cp)) return !cps.some(isExtendedArabicIndic);
  if (isExtendedArabicIndic(cp)) return !cps.some(isArabicIndic);
  return undefined;
}

/** Why a U-label (lower case, NFC) is not IDNA2008, or undefined when it is. */
function idna2008Problem(label: string): string | undefined {
  if (label.normalize('NFC') !== label) return 'is not in Unicode normal form C';
  const cps = [...label].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] ?? 0;
    const ch = String.fromCodePoint(cp);
    if (cp === 0x200c || cp === 0x200d) continue; // CONTEXTJ: tr46's checkJoiners has applied the rule
    const context = contextO(cps, i);
    if (context === false) return `has "${ch}" (U+${hex(cp)}) where IDNA2008 does not allow it`;
    if (context === true || EXCEPTION_PVALID.has(cp) || /^[a-z0-9-]$/.test(ch)) continue;
    const stable = ch.normalize('NFKC').toLowerCase().normalize('NFKC') === ch;
    if (
      EXCEPTION_DISALLOWED.has(cp) ||
      !stable ||
      IGNORABLE.test(ch) ||
      IGNORABLE_BLOCKS.test(ch) ||
      !LETTER_DIGIT.test(ch)
    ) {
      return `has "${ch}" (U+${hex(cp)}), which IDNA2008 does not allow in a domain`;
    }
  }
  return undefined;
}

const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, '0');

/**
 * The domain in lower case and punycode, or why it is refused. `domain` is taken as written: it is
 * not trimmed, percent-decoded, re-read as a number or mapped to other characters.
 */
export function hostName(domain: string): HostNameResult {
  const fail = (why: string): HostNameResult => ({ ok: false, message: `the domain ${why}` });
  if (domain.length === 0) return fail('is empty');
  if (domain.startsWith('[')) return fail('must be a host name, not an IP address literal');
  const lower = domain.toLowerCase();
  const written = lower.split('.');
  if (written.length < 2) return fail('must be a host name with at least two labels, like example.com');
  if (NUMERIC_LABEL.test(written[written.length - 1] ?? '')) {
    return fail('must be a host name, not an IP address or a number');
  }
  const ascii = toASCII(lower, UTS46);
  if (ascii === null || ascii.length > 253) {
    return fail('is not a valid host name (letters, digits and hyphens, labels of 1 to 63 characters)');
  }
  const labels = ascii.split('.');
  if (labels.length !== written.length || !labels.every((l) => LDH_LABEL.test(l))) {
    return fail('is not a valid host name (letters, digits and hyphens, labels of 1 to 63 characters)');
  }
  for (let i = 0; i < labels.length; i++) {
    const a = labels[i] ?? '';
    const w = written[i] ?? '';
    if (!a.startsWith('xn--')) {
      if (a !== w) return fail(`label "${w}" would have to be changed to "${a}"; write it as "${a}"`);
      continue;
    }
    const u = toUnicode(a, UTS46);
    if (u.error) return fail(`label "${w}" is not a valid internationalised label`);
    // As written: either the punycode itself, or exactly the Unicode label it stands for.
    if (w !== a && w !== u.domain)
      return fail(`label "${w}" would be changed by conversion; write it as "${u.domain}"`);
    const problem = idna2008Problem(u.domain);
    if (problem) return fail(`label "${w}" ${problem}`);
  }
  return { ok: true, value: ascii };
}
