/**
 * The key an address that was already checked is suppressed under, without the IDNA tables the
 * API's checks use (core/host-name.ts): the dispatcher and the SES-events function only see
 * addresses that were checked and converted when their email was accepted (or that SES reports as
 * they were sent). For such an address it is the key `normaliseAddress` gives (core/address.ts):
 * the part before @ case-folded, the domain in lower-case punycode.
 */
import { domainToASCII } from 'node:url';

export function addressKey(address: string): string {
  const bare = address.trim();
  const at = bare.lastIndexOf('@');
  if (at < 0) return bare.toLowerCase();
  const domain = bare.slice(at + 1);
  // Only a domain that is not ASCII yet (a message queued with one, never by this version) converts.
  const ascii = /^[\x21-\x7e]*$/.test(domain) ? domain : domainToASCII(domain) || domain;
  return `${bare.slice(0, at).toLowerCase()}@${ascii.toLowerCase()}`;
}
