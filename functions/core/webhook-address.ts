/**
 * Where a webhook may be sent (DESIGN §2.9): https URLs to public addresses only, so an endpoint can
 * never point mailroute at a private network, the instance metadata service or itself. The URL is
 * checked when it is saved, and every address its host resolves to is checked again when a delivery
 * connects (no DNS rebinding). The local stack allows http and loopback receivers. Pure.
 */
import { BlockList, isIP } from 'node:net';

export interface UrlPolicy {
  /** http URLs and private, loopback and link-local addresses are allowed (the local stack only). */
  readonly allowPrivate: boolean;
}

/** Address ranges no webhook may reach in AWS. */
const BLOCKED = /* @__PURE__ */ (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['fd00:ec2::', 32],
  ] as const)
    list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1, ::ffff:a00:1) as its IPv4 address. */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1] as string;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return address;
  const [hi, lo] = [Number.parseInt(hex[1] as string, 16), Number.parseInt(hex[2] as string, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether an IP address is private, loopback, link-local, metadata, reserved or multicast. */
export function isBlockedAddress(address: string): boolean {
  const a = unmapped(address);
  const family = isIP(a);
  if (family === 0) return true;
  return BLOCKED.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** Host names that always mean this machine or the metadata service, whatever DNS says. */
const BLOCKED_NAMES = /^(?:localhost|.*\.localhost|metadata\.google\.internal|instance-data(?:\.ec2\.internal)?)\.?$/i;

export type UrlCheck = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

/** Checks an endpoint URL as written (its host's addresses are checked at connect time too). */
export function checkWebhookUrl(raw: string, policy: UrlPolicy): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (raw.length > 2048) return { ok: false, reason: 'is longer than 2048 characters' };
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) {
    return { ok: false, reason: policy.allowPrivate ? 'must be an http or https URL' : 'must be an https URL' };
  }
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not carry credentials' };
  if (url.hash !== '') return { ok: false, reason: 'must not have a fragment' };
  if (policy.allowPrivate) return { ok: true, url };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (BLOCKED_NAMES.test(host)) return { ok: false, reason: 'must not point at this host or a metadata service' };
  if (isIP(host) !== 0 && isBlockedAddress(host)) {
    return { ok: false, reason: 'must not point at a private, loopback, link-local or reserved address' };
  }
  return { ok: true, url };
}
