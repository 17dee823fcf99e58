/**
 * The webhook endpoints API (admin keys): register an endpoint (its `whsec_` secret is shown once),
 * list, read, change, delete it, rotate its secret (old and new both sign for 24 h), send it a
 * `webhook.test` event, list its deliveries, and replay one delivery or every failed one since a time.
 * Bad input is a 422 that changes nothing; an endpoint URL must be https and public in AWS (checked
 * here, and again by the sender when it connects).
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { DomainError, type FieldIssue } from '../core/errors';
import type { RouteKey } from '../core/routes';
import { checkWebhookUrl, isBlockedAddress, type UrlPolicy } from '../core/webhook-address';
import { deliveryIdOf, queuedEvent, validFilter } from '../core/webhook-events';
import { retryBody } from '../core/webhook-retry';
import { newWebhookSecret, sealSecret } from '../core/webhook-secret';
import { API_ERRORS } from '../core/zod-locale';
import type {
  DeliveryStatus,
  EventPublisher,
  RequestRateLimiter,
  SendQueue,
  SigningKeys,
  WebhookDelivery,
  WebhookDeliveryStore,
  WebhookEndpoint,
  WebhookEndpointStore,
} from '../ports';
import type { Authenticator } from './auth';
import { type ApiRequest, createHttpHandler, type RouteMap } from './http';
import { logger as defaultLogger, metrics as defaultMetrics } from './observability';

/** How long a rotated-out secret keeps signing. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
/** Most endpoints an account may have (each event is read against all of them). */
export const MAX_ENDPOINTS = 50;
/** Most deliveries one `replay {since}` request starts. */
export const MAX_REPLAY = 1000;

export interface WebhookApiDeps {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: WebhookDeliveryStore;
  /** The events queue (webhook.test). */
  readonly events: EventPublisher;
  /** The retries queue (replays). */
  readonly retries: SendQueue;
  readonly keys: SigningKeys;
  readonly policy: UrlPolicy;
  /** Every address a host name resolves to (refused at save when any is private, in AWS). */
  readonly resolve: (host: string) => Promise<string[]>;
  readonly auth: Authenticator;
  readonly rateLimit?: RequestRateLimiter;
  readonly now?: () => Date;
  readonly newId?: () => string;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

const Filter = z.array(z.string().check(z.maxLength(64))).check(z.minLength(1), z.maxLength(30));

/** Built on first use: few requests manage endpoints. */
export const CreateBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    url: z.string(),
    events: Filter,
    description: z.optional(z.string().check(z.maxLength(500))),
  }),
);
export const PatchBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    url: z.optional(z.string()),
    events: z.optional(Filter),
    description: z.optional(z.string().check(z.maxLength(500))),
    enabled: z.optional(z.boolean()),
  }),
);
export const ReplayBody = /* @__PURE__ */ z.lazy(() => z.strictObject({ since: z.iso.datetime({ offset: true }) }));

export const DELIVERY_STATUSES = [
  'pending',
  'retrying',
  'delivered',
  'failed',
] as const satisfies readonly DeliveryStatus[];

function parsed<T>(result: { success: true; data: T } | { success: false; error: z.core.$ZodError }, what: string): T {
  if (result.success) return result.data;
  throw new DomainError(
    'validation_failed',
    `The ${what} is not valid.`,
    result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message })),
  );
}

const endpointView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description ?? null,
  events: e.events,
  enabled: e.enabled,
  ...(e.enabled ? {} : { disabledReason: e.disabledReason ?? null, disabledAt: e.disabledAt ?? null }),
  consecutiveFailures: e.failures,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

const deliveryView = (d: Omit<WebhookDelivery, 'payload'>) => ({
  id: d.id,
  eventId: d.eventId,
  type: d.type,
  createdAt: d.createdAt,
  status: d.status,
  attempts: d.attempts,
  lastAttemptAt: d.lastAttemptAt ?? null,
  lastStatusCode: d.lastStatusCode ?? null,
  lastError: d.lastError ?? null,
  nextAttemptAt: d.nextAttemptAt ?? null,
});

/** The webhook routes of the API (/v1/webhooks…). */
export type WebhookRouteKey = RouteKey<'webhookApi'>;

export function webhookRoutes(deps: WebhookApiDeps): RouteMap<WebhookRouteKey> {
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? (() => `ep_${randomBytes(12).toString('base64url')}`);

  async function checkedUrl(raw: string): Promise<string> {
    const issue = (message: string): never => {
      throw new DomainError('validation_failed', 'The endpoint URL is not allowed.', [{ path: 'url', message }]);
    };
    const check = checkWebhookUrl(raw, deps.policy);
    if (!check.ok) return issue(`the URL ${check.reason}`);
    if (!deps.policy.allowPrivate) {
      const host = check.url.hostname.replace(/^\[(.*)\]$/, '$1');
      let addresses: string[];
      try {
        addresses = await deps.resolve(host);
      } catch {
        return issue(`${host} does not resolve`);
      }
      if (addresses.length === 0 || addresses.some(isBlockedAddress)) {
        return issue(`${host} resolves to a private, loopback, link-local or reserved address`);
      }
    }
    return check.url.toString();
  }

  function checkedFilter(events: readonly string[]): string[] {
    const bad: FieldIssue[] = events.flatMap((f, i) =>
      validFilter(f)
        ? []
        : [
            {
              path: `events.${i}`,
              message: `"${f.slice(0, 64)}" is not an event type, a prefix such as "email.*", or "*"`,
            },
          ],
    );
    if (bad.length > 0) throw new DomainError('validation_failed', 'The event filter is not valid.', bad);
    return [...new Set(events)];
  }

  async function endpointOf(req: ApiRequest): Promise<WebhookEndpoint> {
    const id = req.param('id') ?? '';
    const e = /^ep_[A-Za-z0-9_-]{1,40}$/.test(id) ? await deps.endpoints.get(id) : undefined;
    if (!e) throw new DomainError('not_found', `No webhook endpoint "${id.slice(0, 64)}".`);
    return e;
  }

  async function queueReplays(endpointId: string, ds: readonly WebhookDelivery[]): Promise<void> {
    if (ds.length === 0) return;
    const at = now().toISOString();
    const failed = await deps.retries.send(
      ds.map((d) => ({ id: d.id, body: retryBody({ endpointId, deliveryId: d.id, dueAt: at, attempts: d.attempts }) })),
    );
    if (failed.length > 0) throw new DomainError('unavailable', 'Some replays could not be queued; try again.');
  }

  return {
    'POST /v1/webhooks': {
      auth: 'admin',
      maxBodyBytes: 8192,
      handle: async (req) => {
        const body = parsed(CreateBody.safeParse(req.body ?? {}, API_ERRORS), 'endpoint');
        const events = checkedFilter(body.events);
        const url = await checkedUrl(body.url);
        if ((await deps.endpoints.list()).length >= MAX_ENDPOINTS) {
          throw new DomainError(
            'conflict',
            `An account may have ${MAX_ENDPOINTS} webhook endpoints; delete one first.`,
          );
        }
        const id = newId();
        const secret = newWebhookSecret();
        const at = now().toISOString();
        const endpoint: WebhookEndpoint = {
          id,
          url,
          ...(body.description === undefined ? {} : { description: body.description }),
          events,
          enabled: true,
          secrets: [{ sealed: sealSecret(secret, await deps.keys.keyring(), id) }],
          failures: 0,
          createdAt: at,
          updatedAt: at,
        };
        if (!(await deps.endpoints.create(endpoint))) throw new DomainError('conflict', 'Try again.');
        // The secret is shown here once; it is stored sealed and never returned again.
        return { status: 201, body: { ...endpointView(endpoint), secret } };
      },
    },

    'GET /v1/webhooks': {
      auth: 'admin',
      handle: async () => {
        const all = await deps.endpoints.list();
        return { status: 200, body: { data: all.map(endpointView) } };
      },
    },

    'GET /v1/webhooks/{id}': {
      auth: 'admin',
      handle: async (req) => ({ status: 200, body: endpointView(await endpointOf(req)) }),
    },

    'PATCH /v1/webhooks/{id}': {
      auth: 'admin',
      maxBodyBytes: 8192,
      handle: async (req) => {
        const body = parsed(PatchBody.safeParse(req.body ?? {}, API_ERRORS), 'change');
        const current = await endpointOf(req);
        const patch = {
          ...(body.url === undefined ? {} : { url: await checkedUrl(body.url) }),
          ...(body.events === undefined ? {} : { events: checkedFilter(body.events) }),
          ...(body.description === undefined ? {} : { description: body.description }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
        };
        const next = await deps.endpoints.update(current.id, patch, now().toISOString());
        if (!next) throw new DomainError('not_found', `No webhook endpoint "${current.id}".`);
        return { status: 200, body: endpointView(next) };
      },
    },

    'DELETE /v1/webhooks/{id}': {
      auth: 'admin',
      handle: async (req) => {
        const e = await endpointOf(req);
        if (!(await deps.endpoints.delete(e.id))) throw new DomainError('not_found', `No webhook endpoint "${e.id}".`);
        return { status: 200, body: { id: e.id, deleted: true } };
      },
    },

    'POST /v1/webhooks/{id}/rotate-secret': {
      auth: 'admin',
      handle: async (req) => {
        const e = await endpointOf(req);
        const at = now();
        const secret = newWebhookSecret();
        const until = new Date(at.getTime() + ROTATION_OVERLAP_MS).toISOString();
        const ring = await deps.keys.keyring();
        const [current] = e.secrets;
        const secrets = [
          { sealed: sealSecret(secret, ring, e.id) },
          ...(current ? [{ sealed: current.sealed, expiresAt: until }] : []),
        ];
        await deps.endpoints.update(e.id, { secrets }, at.toISOString());
        return { status: 200, body: { id: e.id, secret, previousSecretExpiresAt: current ? until : null } };
      },
    },

    'POST /v1/webhooks/{id}/test': {
      auth: 'admin',
      handle: async (req) => {
        const e = await endpointOf(req);
        const at = now().toISOString();
        const event = {
          ...queuedEvent('webhook.test', `${e.id}|${randomBytes(8).toString('hex')}`, at, {
            endpoint_id: e.id,
            message: 'A test event from mailroute.',
          }),
          endpointId: e.id,
        };
        await deps.events.publish([event]);
        return { status: 202, body: { eventId: event.id, deliveryId: deliveryIdOf(event, e.id) } };
      },
    },

    'GET /v1/webhooks/{id}/deliveries': {
      auth: 'admin',
      handle: async (req) => {
        const e = await endpointOf(req);
        const q = req.event.queryStringParameters ?? {};
        const limit = q.limit === undefined ? 50 : Number(q.limit);
        const issues: FieldIssue[] = [];
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          issues.push({ path: 'limit', message: 'a whole number from 1 to 100' });
        const status = q.status as DeliveryStatus | undefined;
        if (status !== undefined && !DELIVERY_STATUSES.includes(status))
          issues.push({ path: 'status', message: `one of ${DELIVERY_STATUSES.join(', ')}` });
        if (q.cursor !== undefined && !/^[A-Za-z0-9_-]{1,512}$/.test(q.cursor))
          issues.push({ path: 'cursor', message: 'not one this API gave out' });
        if (issues.length > 0) throw new DomainError('validation_failed', 'The query is not valid.', issues);
        const page = await deps.deliveries.list(e.id, {
          limit,
          ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
          ...(status === undefined ? {} : { status }),
        });
        return { status: 200, body: { data: page.items.map(deliveryView), next: page.next ?? null } };
      },
    },

    'POST /v1/webhooks/{id}/deliveries/{deliveryId}/replay': {
      auth: 'admin',
      handle: async (req) => {
        const e = await endpointOf(req);
        const deliveryId = req.param('deliveryId') ?? '';
        const d = /^msg_[A-Za-z0-9_-]{1,64}$/.test(deliveryId)
          ? await deps.deliveries.replay(e.id, deliveryId)
          : undefined;
        if (!d) throw new DomainError('not_found', `No delivery "${deliveryId.slice(0, 64)}" of this endpoint.`);
        await queueReplays(e.id, [d]);
        return { status: 202, body: deliveryView(d) };
      },
    },

    'POST /v1/webhooks/{id}/replay': {
      auth: 'admin',
      maxBodyBytes: 1024,
      handle: async (req) => {
        const e = await endpointOf(req);
        const { since } = parsed(ReplayBody.safeParse(req.body ?? {}, API_ERRORS), 'replay');
        const replayed: WebhookDelivery[] = [];
        let cursor: string | undefined;
        do {
          const page = await deps.deliveries.list(e.id, { limit: 100, since, status: 'failed', cursor });
          for (const item of page.items) {
            const d = await deps.deliveries.replay(e.id, item.id);
            if (d) replayed.push(d);
          }
          cursor = page.next;
        } while (cursor && replayed.length < MAX_REPLAY);
        await queueReplays(e.id, replayed);
        return {
          status: 202,
          body: { replayed: replayed.length, more: cursor !== undefined, deliveryIds: replayed.map((d) => d.id) },
        };
      },
    },
  };
}

/** The webhook API's Lambda handler. */
export function createWebhookApiHandler(deps: WebhookApiDeps) {
  const now = deps.now ?? (() => new Date());
  return createHttpHandler(webhookRoutes(deps), {
    auth: deps.auth,
    ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}),
    now: () => now().getTime(),
    logger: deps.logger ?? defaultLogger,
    metrics: deps.metrics ?? defaultMetrics,
  });
}
