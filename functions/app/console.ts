/**
 * The console function: the operator console's page and assets (public: the page holds no data, and
 * every call it makes carries the operator's key), and the admin queue routes (functions/app/queues.ts).
 */

import { DomainError } from '../core/errors';
import type { RouteKey } from '../core/routes';
import type { RequestRateLimiter } from '../ports';
import type { Authenticator } from './auth';
import { type ConsoleAssets, consoleAsset, consolePage } from './console-assets';
import { createHttpHandler, type RouteMap } from './http';
import { logger as defaultLogger, metrics as defaultMetrics } from './observability';
import { type QueuesDeps, queueRoutes } from './queues';

export interface ConsoleDeps extends QueuesDeps {
  readonly assets: ConsoleAssets;
  readonly auth: Authenticator;
  readonly rateLimit?: RequestRateLimiter;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

export function createConsoleHandler(deps: ConsoleDeps) {
  const now = deps.now;
  const routes: RouteMap<RouteKey<'console'>> = {
    'GET /console': { auth: false, handle: async () => consolePage(deps.assets) },
    'GET /console/{asset}': {
      auth: false,
      handle: async (req) => {
        const name = req.param('asset') ?? '';
        const asset = consoleAsset(deps.assets, name);
        if (!asset) throw new DomainError('not_found', `No console asset "${name.slice(0, 40)}".`);
        return asset;
      },
    },
    'GET /v1/key': {
      // Any valid key may read its own name and scopes, whatever they are.
      auth: false,
      handle: async (req) => {
        const caller = await deps.auth.authenticate(req.header('authorization'));
        return {
          status: 200,
          body: {
            name: caller.keyName,
            scopes: caller.scopes,
            senderDomains: caller.senderDomains,
            ratePerSecond: caller.ratePerSecond,
          },
        };
      },
    },
    ...queueRoutes(deps),
  };
  return createHttpHandler(routes, {
    auth: deps.auth,
    ...(deps.rateLimit ? { rateLimit: deps.rateLimit } : {}),
    ...(now ? { now: () => now().getTime() } : {}),
    logger: deps.logger ?? defaultLogger,
    metrics: deps.metrics ?? defaultMetrics,
  });
}
