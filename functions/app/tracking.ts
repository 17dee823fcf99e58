/**
 * Public links written into emails. Open pixel (GET /o/{token}): always the same 1×1 GIF, never
 * cached, whatever the token, so it is no oracle for valid ids; a valid token records the open.
 * Click (GET or HEAD /c/{token}): a 302 to the URL the token carries, signed by mailroute when it
 * wrote the email, so it is no open redirect; no database read. One-click unsubscribe (RFC 8058): POST /u/{token} with
 * `List-Unsubscribe=One-Click` (form-urlencoded or multipart) unsubscribes at once and answers 200
 * with no redirect, as mailbox providers expect. GET /u/{token} only shows a confirm page: mail
 * scanners fetch links, and a GET must never unsubscribe anyone.
 */
import * as z from 'zod/mini';
import { ClickToken, machineClick, machineOpen, OpenToken, PIXEL_GIF_BASE64 } from '../core/engagement';
import { TRANSACTIONAL } from '../core/message';
import { METRICS } from '../core/metric-names';
import type { RouteKey } from '../core/routes';
import { verify } from '../core/signing';
import { SCOPE_PATTERN } from '../core/suppression';
import type { MessageStore, SigningKeys, SuppressionStore } from '../ports';
import { type ApiRequest, type ApiResult, createHttpHandler } from './http';
import { logger as defaultLogger, metrics as defaultMetrics } from './observability';
import type { EventBuffer } from './webhook-events';

export interface TrackingDeps {
  /** Webhook events of this invocation's state changes, published when it ends. @default - none */
  readonly events?: EventBuffer;
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  readonly keys: SigningKeys;
  readonly now?: () => Date;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

/** What an unsubscribe token carries: the address, the category and the message it came in. */
export const UnsubscribeToken = z.object({
  a: z.string().check(z.minLength(3), z.maxLength(320)),
  c: z.string().check(
    z.regex(SCOPE_PATTERN),
    z.refine((c) => c !== '*' && c !== TRANSACTIONAL),
  ),
  m: z.string().check(z.maxLength(64)),
});

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #444;background:#222;color:#fff;cursor:pointer}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

const invalid: ApiResult = {
  status: 400,
  html: page(
    'This link is not valid',
    '<p>The unsubscribe link is incomplete or has been changed. Use the link from the email as it is.</p>',
  ),
};

/** Whether a one-click POST body carries List-Unsubscribe=One-Click (urlencoded or multipart). */
export function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  if (new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click') return true;
  return /name="List-Unsubscribe"\r?\n(?:[^\r\n]+\r?\n)*\r?\n\s*One-Click\s*(?:\r?\n|$)/i.test(body);
}

/** Headers that keep every fetch of the pixel reaching us (no browser, proxy or CDN cache). */
export const NO_STORE = {
  'cache-control': 'no-store, no-cache, must-revalidate, max-age=0',
  pragma: 'no-cache',
  expires: '0',
} as const;

export function createTrackingHandler(deps: TrackingDeps) {
  const now = deps.now ?? (() => new Date());
  const metrics = deps.metrics ?? defaultMetrics;
  const logger = deps.logger ?? defaultLogger;

  const hitOf = (req: ApiRequest, sentSeconds: number) => ({
    userAgent: req.header('user-agent') ?? '',
    method: req.event.requestContext?.http?.method ?? 'GET',
    atSeconds: now().getTime() / 1000,
    sentSeconds,
  });

  /** Records an open or click; a failure to record never changes what the recipient gets. */
  async function record(
    kind: 'open' | 'click',
    id: string,
    machine: string | undefined,
    detail: Record<string, unknown>,
  ) {
    try {
      await deps.messages.recordEngagement(id, kind, machine !== undefined, {
        type: kind === 'open' ? 'opened' : 'clicked',
        at: now().toISOString(),
        detail: { ...detail, ...(machine ? { machine: true, machineReason: machine } : {}) },
      });
      const name = { open: [METRICS.opens, METRICS.machineOpens], click: [METRICS.clicks, METRICS.machineClicks] }[
        kind
      ];
      metrics.addMetric((machine ? name[1] : name[0]) as string, 'Count', 1);
    } catch (error) {
      logger.error('could not record engagement', { error: error as Error, messageId: id, kind });
    }
  }

  async function token<T>(req: ApiRequest, schema: { safeParse(v: unknown): { success: boolean; data?: T } }) {
    const parsed = schema.safeParse(verify(req.param('token') ?? '', await deps.keys.keyring()));
    return parsed.success ? parsed.data : undefined;
  }

  const click = async (req: ApiRequest): Promise<ApiResult> => {
    const t = await token(req, ClickToken);
    if (!t) return invalid;
    const hit = hitOf(req, t.s);
    await record('click', t.m, machineClick(hit), { index: t.i, url: t.u, userAgent: hit.userAgent.slice(0, 200) });
    // A short HTML note with the link (as RFC 9110 suggests for a redirect), so the answer carries a
    // content type that fits its body: never the JSON default of a bodiless answer.
    return {
      status: 302,
      html: `<!doctype html><title>Redirecting</title><a href="${escapeHtml(t.u)}">Continue to the link</a>`,
      headers: { location: t.u, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    };
  };

  async function read(req: ApiRequest) {
    const token = req.param('token') ?? '';
    const parsed = UnsubscribeToken.safeParse(verify(token, await deps.keys.keyring()));
    return parsed.success ? parsed.data : undefined;
  }

  return createHttpHandler<RouteKey<'tracking'>>(
    {
      'GET /o/{token}': {
        auth: false,
        handle: async (req) => {
          const t = await token(req, OpenToken);
          if (t) {
            const hit = hitOf(req, t.s);
            await record('open', t.m, machineOpen(hit), { userAgent: hit.userAgent.slice(0, 200) });
          }
          return { status: 200, binary: { contentType: 'image/gif', base64: PIXEL_GIF_BASE64 }, headers: NO_STORE };
        },
      },
      'GET /c/{token}': { auth: false, handle: click },
      'HEAD /c/{token}': { auth: false, handle: click },
      'GET /u/{token}': {
        auth: false,
        handle: async (req) => {
          const t = await read(req);
          if (!t) return invalid;
          return {
            status: 200,
            html: page(
              'Unsubscribe',
              `<p>Stop receiving <strong>${escapeHtml(t.c)}</strong> email at this address? Account and transactional messages will still arrive.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
            ),
          };
        },
      },
      'POST /u/{token}': {
        auth: false,
        bodyType: 'raw',
        maxBodyBytes: 16_384,
        handle: async (req) => {
          const t = await read(req);
          if (!t) return invalid;
          if (!isOneClick(req.body)) {
            return { status: 400, html: page('Nothing was changed', '<p>The request did not ask to unsubscribe.</p>') };
          }
          await deps.suppression.suppress({
            address: t.a,
            scope: t.c,
            reason: 'unsubscribe',
            source: 'unsubscribe',
            at: now().toISOString(),
            messageId: t.m,
          });
          metrics.addMetric(METRICS.unsubscribes, 'Count', 1);
          return {
            status: 200,
            html: page(
              'You are unsubscribed',
              `<p>You will no longer receive <strong>${escapeHtml(t.c)}</strong> email at this address.</p>`,
            ),
          };
        },
      },
    },
    { logger: deps.logger ?? defaultLogger, metrics, ...(deps.events ? { events: deps.events } : {}) },
  );
}
