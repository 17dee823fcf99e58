/**
 * Opens and clicks, and which of them a machine made. Image proxies and privacy relays fetch the
 * pixel whether or not a person reads the email; link scanners follow every link; both are
 * recorded, flagged `machine`, and counted apart from people.
 */
import * as z from 'zod/mini';
import './zod-locale';

/** What an open-pixel token carries: our message id and when it was sent (epoch seconds). */
export const OpenToken = z.object({ k: z.literal('o'), m: z.string().check(z.maxLength(64)), s: z.number() });
/** What a click token carries: message, link index, target URL, send time. */
export const ClickToken = z.object({
  k: z.literal('c'),
  m: z.string().check(z.maxLength(64)),
  i: z.number().check(z.int(), z.nonnegative()),
  u: z.string().check(z.regex(/^https?:\/\//i), z.maxLength(4096)),
  s: z.number(),
});
export type OpenToken = z.infer<typeof OpenToken>;
export type ClickToken = z.infer<typeof ClickToken>;

/** Opens: proxies and privacy relays that fetch images on their own. */
const OPEN_PROXIES =
  /GoogleImageProxy|ggpht\.com|YahooMailProxy|Yahoo! Slurp|Outlook-iOS-Android|ms-office|Microsoft Office|Apple Mail Privacy/i;
/** Clicks: security scanners, link previews, crawlers and scripts. */
const SCANNERS =
  /bot\b|crawler|spider|scanner|preview|headless|Barracuda|Proofpoint|urldefense|Mimecast|Symantec|MessageLabs|Forcepoint|FireEye|Trend ?Micro|Sophos|Cisco|IronPort|SafeLinks|Microsoft Office|python|curl\/|wget|Go-http-client|node-fetch|axios|okhttp|Java\//i;

/** Seconds after sending within which a click is a machine's (security gateways scan on arrival). */
export const MACHINE_CLICK_WINDOW_SECONDS = 10;

export interface Hit {
  readonly userAgent: string;
  readonly method: string;
  readonly atSeconds: number;
  readonly sentSeconds: number;
}

/** Why an open is a machine's, or undefined for a person. */
export function machineOpen(h: Hit): string | undefined {
  const ua = h.userAgent.trim();
  if (ua === '') return 'no user agent';
  // Apple Mail Privacy Protection fetches through relays that present a bare "Mozilla/5.0".
  if (ua === 'Mozilla/5.0') return 'privacy relay';
  if (OPEN_PROXIES.test(ua)) return 'image proxy';
  return undefined;
}

/** Why a click is a machine's, or undefined for a person. */
export function machineClick(h: Hit): string | undefined {
  const ua = h.userAgent.trim();
  if (h.method === 'HEAD') return 'HEAD request';
  if (ua === '') return 'no user agent';
  if (SCANNERS.test(ua)) return 'link scanner';
  if (h.atSeconds - h.sentSeconds < MACHINE_CLICK_WINDOW_SECONDS) return 'clicked within seconds of sending';
  return undefined;
}

/** A 1×1 transparent GIF. */
export const PIXEL_GIF_BASE64 = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
