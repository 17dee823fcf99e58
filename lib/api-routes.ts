/**
 * The routes of the HTTP API, as data (defined in functions/core/routes.ts, next to the handler maps
 * they type). The CDK stack adds one API Gateway route per entry and the local server (bin/local.ts)
 * matches requests against the same list, so both expose the same API.
 */
export {
  API_FUNCTIONS,
  API_ROUTES,
  type ApiFunction,
  type ApiRoute,
  CATCH_ALL,
  type HttpMethod,
  type RouteKey,
  routeKey,
  routeKeysOf,
} from '../functions/core/routes';
