import { describe, expect, it } from 'vitest';
import { API_FUNCTIONS, API_ROUTES, routeKey, routeKeysOf } from '../../../functions/core/routes';
import * as lib from '../../../lib/api-routes';

describe('the route list', () => {
  it('is the list the CDK code reads (lib/api-routes.ts re-exports it)', () => {
    expect(lib.API_ROUTES).toBe(API_ROUTES);
    expect(lib.routeKey).toBe(routeKey);
  });

  it('builds API Gateway route keys as "METHOD path"', () => {
    expect(routeKey({ method: 'POST', path: '/v1/emails' })).toBe('POST /v1/emails');
  });

  it('has no route twice', () => {
    const keys = API_ROUTES.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every route to one of the API functions, and every API function a route', () => {
    for (const route of API_ROUTES) expect(API_FUNCTIONS).toContain(route.fn);
    for (const fn of API_FUNCTIONS) expect(routeKeysOf(fn).length).toBeGreaterThan(0);
    expect(API_FUNCTIONS.flatMap((fn) => routeKeysOf(fn)).sort()).toEqual(API_ROUTES.map(routeKey).sort());
  });

  it('keeps the keyed /v1 and /resend APIs, health and the reference page on ingest, and the public links on tracking', () => {
    expect(routeKeysOf('tracking').sort()).toEqual([
      'GET /c/{token}',
      'GET /o/{token}',
      'GET /u/{token}',
      'HEAD /c/{token}',
      'POST /u/{token}',
    ]);
    for (const key of routeKeysOf('ingest')) expect(key).toMatch(/^[A-Z]+ \/(v1\/|resend\/|health$|docs$)/);
  });
});
