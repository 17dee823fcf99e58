/**
 * The suppression list API: list (paged), read, add and lift one address. Addresses are keyed in
 * normal form (trimmed, lower case, punycode domain), so "User@Example.COM " is the same entry as
 * "user@example.com". Lifting a suppression re-enables the address: a replay of an older bounce
 * or complaint does not suppress it again.
 */
import * as z from 'zod/mini';
import { normaliseAddress, parseAddress } from '../core/address';
import { DomainError } from '../core/errors';
import type { RouteKey } from '../core/routes';
import { ALL_MAIL, SCOPE_PATTERN } from '../core/suppression';
import { API_ERRORS } from '../core/zod-locale';
import type { SuppressionRecord, SuppressionStore } from '../ports';
import type { ApiRequest, RouteMap } from './http';

/** Built on first use, not at cold start: few requests change the suppression list. */
export const PutBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    scope: z.optional(z.string().check(z.regex(SCOPE_PATTERN, 'scope is "*" (all mail) or a category name'))),
    note: z.optional(z.string().check(z.maxLength(500))),
  }),
);

const view = (r: SuppressionRecord) => ({
  address: r.address,
  scope: r.scope,
  reason: r.reason,
  source: r.source,
  suppressedAt: r.at,
  ...(r.messageId ? { messageId: r.messageId } : {}),
  ...(r.detail && Object.keys(r.detail).length > 0 ? { detail: r.detail } : {}),
});

function addressParam(req: ApiRequest): string {
  const raw = req.param('email') ?? '';
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // keep the raw value; it fails validation below
  }
  const address = normaliseAddress(decoded);
  if (!address) {
    const parsed = parseAddress(decoded);
    const why = parsed.ok ? 'is not an email address' : parsed.message;
    throw new DomainError('validation_failed', 'The path must name an email address.', [
      { path: 'email', message: `"${decoded.slice(0, 100)}": ${why}` },
    ]);
  }
  return address;
}

function scopeParam(req: ApiRequest): string {
  const scope = req.event.queryStringParameters?.scope ?? ALL_MAIL;
  if (!SCOPE_PATTERN.test(scope)) {
    throw new DomainError('validation_failed', 'scope is "*" (all mail) or a category name.', [
      { path: 'scope', message: 'invalid' },
    ]);
  }
  return scope;
}

function cursorParam(req: ApiRequest): { limit: number; cursor?: string } {
  const q = req.event.queryStringParameters ?? {};
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new DomainError('validation_failed', 'limit is a whole number from 1 to 100.', [
      { path: 'limit', message: 'invalid' },
    ]);
  }
  const cursor = q.cursor;
  if (cursor !== undefined) {
    let ok = false;
    try {
      const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
      ok = typeof key.address === 'string' && typeof key.scope === 'string' && Object.keys(key).length === 2;
    } catch {
      ok = false;
    }
    if (!ok)
      throw new DomainError('validation_failed', 'cursor is not one this API gave out.', [
        { path: 'cursor', message: 'invalid' },
      ]);
  }
  return { limit, ...(cursor ? { cursor } : {}) };
}

/** The suppression routes of the ingest function (those under /v1/suppressions). */
export type SuppressionRouteKey = Extract<RouteKey<'ingest'>, `${string} /v1/suppressions${string}`>;

export function suppressionRoutes(store: SuppressionStore, now: () => Date): RouteMap<SuppressionRouteKey> {
  return {
    'GET /v1/suppressions': {
      auth: 'read',
      handle: async (req) => {
        const { limit, cursor } = cursorParam(req);
        const page = await store.list(limit, cursor);
        return { status: 200, body: { data: page.items.map(view), next: page.next ?? null } };
      },
    },

    'GET /v1/suppressions/{email}': {
      auth: 'read',
      handle: async (req) => {
        const address = addressParam(req);
        const active = (await store.get(address)).filter((r) => r.active);
        if (active.length === 0) throw new DomainError('not_found', `${address} is not suppressed.`);
        return { status: 200, body: { address, suppressions: active.map(view) } };
      },
    },

    'PUT /v1/suppressions/{email}': {
      auth: 'admin',
      maxBodyBytes: 4096,
      handle: async (req) => {
        const address = addressParam(req);
        const body = PutBody.safeParse(req.body ?? {}, API_ERRORS);
        if (!body.success) {
          throw new DomainError(
            'validation_failed',
            'The suppression is not valid.',
            body.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
          );
        }
        const scope = body.data.scope ?? ALL_MAIL;
        const at = now().toISOString();
        await store.suppress({
          address,
          scope,
          reason: 'manual',
          source: 'api',
          at,
          ...(body.data.note ? { detail: { note: body.data.note } } : {}),
        });
        const record = (await store.get(address)).find((r) => r.scope === scope);
        return {
          status: 200,
          body: record ? view(record) : { address, scope, reason: 'manual', source: 'api', suppressedAt: at },
        };
      },
    },

    'DELETE /v1/suppressions/{email}': {
      auth: 'admin',
      handle: async (req) => {
        const address = addressParam(req);
        const scope = scopeParam(req);
        const lifted = await store.reenable({ address, scope }, now().toISOString());
        if (!lifted) throw new DomainError('not_found', `${address} is not suppressed for scope "${scope}".`);
        return { status: 200, body: { address, scope, suppressed: false } };
      },
    },
  };
}
