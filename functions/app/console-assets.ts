/**
 * The operator console's page and assets as the console function serves them: a strict
 * Content-Security-Policy (only this origin's own script, style and API; no inline code, no third party,
 * no framing), and the assets by name. The assets themselves are built at synth time (lib/console-assets.ts).
 */
import * as z from 'zod/mini';
import type { ApiResult } from './http';

/** The console's files: its page, its one script and its one style sheet. */
export const ConsoleAssets = z.object({ html: z.string(), js: z.string(), css: z.string() });
export type ConsoleAssets = Readonly<z.infer<typeof ConsoleAssets>>;

/** The assets as the bundle carries them (JSON); a bundle built without them fails at cold start, loudly. */
export function parseConsoleAssets(json: string): ConsoleAssets {
  return ConsoleAssets.parse(JSON.parse(json));
}

/** Everything comes from the API's own origin; nothing runs inline; the page cannot be framed. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

/** The assets' names under /console/. */
export const ASSET_TYPES = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
} as const;

export function consolePage(assets: ConsoleAssets): ApiResult {
  return { status: 200, html: assets.html, headers: SECURITY_HEADERS };
}

/** One asset by name; undefined when there is none of that name. */
export function consoleAsset(assets: ConsoleAssets, name: string): ApiResult | undefined {
  if (!(name in ASSET_TYPES)) return undefined;
  const type = ASSET_TYPES[name as keyof typeof ASSET_TYPES];
  const text = name === 'console.js' ? assets.js : assets.css;
  return {
    status: 200,
    binary: { contentType: type, base64: Buffer.from(text, 'utf8').toString('base64') },
    headers: SECURITY_HEADERS,
  };
}
