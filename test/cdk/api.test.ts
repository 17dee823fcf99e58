import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiFunction, CATCH_ALL, routeKey } from '../../lib/api-routes';
import { ACCESS_LOG_FIELDS } from '../../lib/constructs/api';
import {
  arnOf,
  type CfnResource,
  logicalId,
  render,
  resource,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './stack-fixture';

let s: Synthesized;
let routes: CfnResource[];

beforeAll(() => {
  s = synthesize();
  routes = Object.values(resourcesOfType(s.template, 'AWS::ApiGatewayV2::Route'));
});

const functionIds = (): Record<ApiFunction, string> => ({
  ingest: logicalId(s.stack.ingest.handler.function),
  tracking: logicalId(s.stack.tracking.handler.function),
  webhookApi: logicalId(s.stack.functions.webhookApi.handler.function),
  console: logicalId(s.stack.console.handler.function),
});

/** The integration a route targets (`integrations/<id>`). */
function integrationOf(route: CfnResource): CfnResource {
  const target = route.Properties?.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
  const [prefix, ref] = target['Fn::Join'][1];
  expect(prefix).toBe('integrations/');
  return resource(s.template, ref.Ref);
}

describe('HTTP API', () => {
  it('is a single HTTP API', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
  });

  it('has exactly the routes of API_ROUTES, and the catch-all', () => {
    expect(routes.map((r) => r.Properties?.RouteKey).sort()).toEqual(
      [...API_ROUTES.map(routeKey), CATCH_ALL.routeKey].sort(),
    );
  });

  it('sends every request no route matches to the ingest function ($default), without authorization', () => {
    expect(CATCH_ALL).toEqual({ routeKey: '$default', fn: 'ingest' });
    const catchAll = routes.filter((r) => r.Properties?.RouteKey === '$default');
    expect(catchAll).toHaveLength(1);
    const [route] = catchAll as [CfnResource];
    expect(route.Properties?.AuthorizationType).toBe('NONE');
    expect(route.Properties?.AuthorizerId).toBeUndefined();
    expect(integrationOf(route).Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [functionIds().ingest, 'Arn'] },
    });
    expect(logicalId(s.stack.api.catchAllRoute)).toBe(
      Object.entries(resourcesOfType(s.template, 'AWS::ApiGatewayV2::Route')).find((e) => e[1] === route)?.[0],
    );
  });

  it.each(API_ROUTES.map((r) => [routeKey(r), r.fn] as const))('routes %s to the %s function', (key, fn) => {
    const route = routes.find((r) => r.Properties?.RouteKey === key);
    expect(route, key).toBeDefined();
    const integration = integrationOf(route as CfnResource);
    expect(integration.Properties?.IntegrationUri).toEqual({ 'Fn::GetAtt': [functionIds()[fn], 'Arn'] });
  });

  it('uses Lambda proxy integrations with payload format 2.0', () => {
    for (const integration of Object.values(resourcesOfType(s.template, 'AWS::ApiGatewayV2::Integration'))) {
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('has no API Gateway authorizer (the function checks API keys)', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    for (const route of routes) expect(route.Properties?.AuthorizationType).toBe('NONE');
  });

  it('has one integration per function', () => {
    const integrations = Object.values(resourcesOfType(s.template, 'AWS::ApiGatewayV2::Integration'));
    expect(integrations.map((i) => render(i.Properties?.IntegrationUri)).sort()).toEqual(
      [...new Set(API_ROUTES.map((r) => r.fn))].map((fn) => arnOf(functionIds()[fn])).sort(),
    );
  });

  it('serves the public links (/u/{token}) from the tracking function, without authorization', () => {
    const links = routes.filter((r) => String(r.Properties?.RouteKey).endsWith(' /u/{token}'));
    expect(links.map((r) => r.Properties?.RouteKey).sort()).toEqual(['GET /u/{token}', 'POST /u/{token}']);
    for (const route of links) {
      expect(route.Properties?.AuthorizationType).toBe('NONE');
      expect(integrationOf(route).Properties?.IntegrationUri).toEqual({
        'Fn::GetAtt': [functionIds().tracking, 'Arn'],
      });
    }
  });

  it('serves the open pixel (GET /o/{token}) and click redirect (GET and HEAD /c/{token}) from the tracking function, without authorization', () => {
    const links = routes.filter((r) => /^[A-Z]+ \/[oc]\/\{token\}$/.test(String(r.Properties?.RouteKey)));
    expect(links.map((r) => r.Properties?.RouteKey).sort()).toEqual([
      'GET /c/{token}',
      'GET /o/{token}',
      'HEAD /c/{token}',
    ]);
    for (const route of links) {
      expect(route.Properties?.AuthorizationType).toBe('NONE');
      expect(integrationOf(route).Properties?.IntegrationUri).toEqual({
        'Fn::GetAtt': [functionIds().tracking, 'Arn'],
      });
    }
  });

  describe('lets API Gateway invoke the function of each route', () => {
    let permissions: CfnResource[];
    beforeAll(() => {
      permissions = Object.values(resourcesOfType(s.template, 'AWS::Lambda::Permission')).filter(
        (p) => p.Properties?.Principal === 'apigateway.amazonaws.com',
      );
    });

    it('with one permission per route, and one for the catch-all', () => {
      expect(permissions).toHaveLength(API_ROUTES.length + 1);
    });

    it('lets the catch-all ($default, any route of the API) invoke only the ingest function', () => {
      const anyRoute = permissions.filter((p) => render(p.Properties?.SourceArn).endsWith('/*/*'));
      expect(anyRoute).toHaveLength(1);
      expect(anyRoute[0]?.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [functionIds().ingest, 'Arn'] },
      });
    });

    it.each(API_ROUTES.map((r) => [routeKey(r), r.fn, r.path] as const))(
      '%s may invoke the %s function',
      (_key, fn, path) => {
        const forPath = permissions.filter((p) => render(p.Properties?.SourceArn).endsWith(`/*/*${path}`));
        expect(forPath.length).toBeGreaterThan(0);
        for (const permission of forPath) {
          expect(permission.Properties).toMatchObject({
            Action: 'lambda:InvokeFunction',
            FunctionName: { 'Fn::GetAtt': [functionIds()[fn], 'Arn'] },
          });
        }
      },
    );
  });

  it('deploys to an auto-deployed $default stage with default route throttling', () => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 500, ThrottlingRateLimit: 1000 },
    });
  });
});

describe('the access log of the stage', () => {
  let settings: { DestinationArn?: unknown; Format?: string };
  beforeAll(() => {
    const [stage] = Object.values(resourcesOfType(s.template, 'AWS::ApiGatewayV2::Stage'));
    settings = (stage?.Properties?.AccessLogSettings ?? {}) as typeof settings;
  });

  it('goes to its own log group, which keeps events for one month', () => {
    const logGroupId = logicalId(s.stack.api.accessLogGroup);
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    expect(resource(s.template, logGroupId).Properties?.RetentionInDays).toBe(30);
    const functionLogGroups = [s.stack.ingest, s.stack.dispatch, s.stack.sesEvents, s.stack.tracking].map((c) =>
      logicalId(c.handler.logGroup),
    );
    expect(functionLogGroups).not.toContain(logGroupId);
  });

  it('is one JSON object per request, with the request id, status, route, latency and caller IP', () => {
    const format: unknown = JSON.parse(settings.Format ?? '');
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      routeKey: '$context.routeKey',
      sourceIp: '$context.identity.sourceIp',
      integrationLatency: '$context.integration.latency',
    });
  });

  it('names the route, never the requested path (a link carries a token with the recipient address), and logs no header', () => {
    expect(settings.Format).not.toMatch(/\$context\.(?:path|requestPath|resourcePath)\b/);
    expect(settings.Format).not.toMatch(/\$(?:context\.)?(?:request\.)?header|authorizer/i);
  });
});
