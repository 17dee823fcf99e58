import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiFunction, type ApiRoute, CATCH_ALL } from '../api-routes';

/**
 * One JSON object per request in the stage's access log. It names the route by its key
 * (`GET /u/{token}`), never by the requested path: the path of a link in an email carries its signed
 * token, whose payload holds the recipient's address. No header, query string or body is logged.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

/**
 * Why a route of each function has no API Gateway authorizer (the AwsSolutions-APIG4 acknowledgment):
 * the function authenticates the caller itself.
 */
const NO_AUTHORIZER_REASONS: Readonly<Record<ApiFunction, string>> = {
  ingest:
    'ingest authenticates every /v1 route itself: "Authorization: Bearer <key>", looked up by its SHA-256 hash ' +
    'in the Settings table, revoked keys refused, the scope each route needs checked, and a per-key request ' +
    'rate enforced (functions/app/auth.ts, functions/app/http.ts). An API Gateway authorizer would repeat that ' +
    'look-up on every request. GET /health is public on purpose and answers only {"status":"ok"}.',
  tracking:
    'These are the public links written into emails (unsubscribe, open pixel, click redirect): a mail client ' +
    'or browser follows them without credentials, so no authorizer can apply. The tracking function accepts ' +
    'only a token whose HMAC-SHA256 signature verifies (timing-safe) against a key of the signing keyring, and ' +
    'parses its payload with zod (functions/core/signing.ts, functions/app/tracking.ts).',
  webhookApi:
    'The webhook API authenticates every /v1/webhooks route itself, as ingest does: the API key looked up by ' +
    'its SHA-256 hash, the admin scope required, a per-key request rate enforced (functions/app/auth.ts, ' +
    'functions/app/http.ts, functions/app/webhook-api.ts).',
  console:
    "GET /console and its two assets are the operator console's static page, script and style sheet: they hold no " +
    "data, and every call the page makes carries the operator's own key. The /v1/queues routes are authenticated " +
    'by the function itself as ingest does (Bearer key by its SHA-256 hash, the admin scope, the per-key rate; ' +
    'functions/app/auth.ts, functions/app/http.ts).',
};

/** Why the catch-all route has no authorizer: it answers only 404 or 405 and reaches no use case. */
const CATCH_ALL_NO_AUTHORIZER_REASON =
  "The $default (catch-all) route takes only requests that match no route, so that they get the API's own " +
  'error envelope instead of API Gateway\'s {"message":"Not Found"}. The function answers them with ' +
  '404 not_found or 405 method_not_allowed (with Allow) from the route list alone: it authenticates nothing, ' +
  'reads nothing and calls no use case (noRouteResponse in functions/app/http.ts).';

/** The API Gateway method of each method a route may have (HEAD included, for link checkers). */
const HTTP_METHODS: Readonly<Record<ApiRoute['method'], HttpMethod>> = {
  GET: HttpMethod.GET,
  HEAD: HttpMethod.HEAD,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

export interface MailrouteApiProps {
  /** The function serving each `fn` of the routes. */
  readonly handlers: { readonly [K in ApiFunction]: IFunction };
  /**
   * The routes to add.
   * @default API_ROUTES
   */
  readonly routes?: readonly ApiRoute[];
  /**
   * Steady-state requests per second the stage accepts on each route.
   * @default 1000
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests the stage accepts in a burst on each route.
   * @default 500
   */
  readonly throttlingBurstLimit?: number;
  /**
   * How long the stage's access log group keeps log events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: RetentionDays;
  /**
   * What happens to the access log group when it leaves the stack.
   * @default RemovalPolicy.DESTROY
   */
  readonly accessLogRemovalPolicy?: RemovalPolicy;
}

/**
 * The HTTP API (payload format 2.0): one route per entry of `API_ROUTES`, each integrated with its
 * Lambda function (one integration per function), and the catch-all `$default` route (`CATCH_ALL`),
 * which answers unknown routes and methods with the API's error envelope (404 or 405), on an auto-deployed `$default` stage with default
 * route throttling and an access log (`ACCESS_LOG_FIELDS`, as JSON) in a log group with a retention
 * period. There is no API Gateway authorizer: ingest verifies the Bearer API key of the /v1 routes
 * itself, and the tracking routes (/u, /o and /c/{token}) are public links whose signature tracking
 * checks.
 */
export class MailrouteApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  /** The `$default` route: every request that matches no route, answered 404 or 405 by `CATCH_ALL.fn`. */
  public readonly catchAllRoute: HttpRoute;
  /** The log group of the stage's access log. */
  public readonly accessLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: MailrouteApiProps) {
    super(scope, id);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${Stack.of(this).stackName}-api`,
      description: 'mailroute: transactional email API',
      createDefaultStage: false,
    });

    this.accessLogGroup = new LogGroup(this, 'AccessLogGroup', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.accessLogRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 1000,
        burstLimit: props.throttlingBurstLimit ?? 500,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const integrations = new Map<ApiFunction, HttpLambdaIntegration>();
    const integrationOf = (fn: ApiFunction): HttpLambdaIntegration => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(
          `${fn.charAt(0).toUpperCase()}${fn.slice(1)}Integration`,
          props.handlers[fn],
          {
            payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
          },
        );
        integrations.set(fn, integration);
      }
      return integration;
    };

    for (const route of props.routes ?? API_ROUTES) {
      const added = this.httpApi.addRoutes({
        path: route.path,
        methods: [HTTP_METHODS[route.method]],
        integration: integrationOf(route.fn),
      });
      for (const httpRoute of added) {
        Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions-APIG4', reason: NO_AUTHORIZER_REASONS[route.fn] });
      }
    }

    this.catchAllRoute = new HttpRoute(this.httpApi, 'CatchAllRoute', {
      httpApi: this.httpApi,
      routeKey: HttpRouteKey.DEFAULT,
      integration: integrationOf(CATCH_ALL.fn),
    });
    Validations.of(this.catchAllRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: CATCH_ALL_NO_AUTHORIZER_REASON,
    });
  }

  /** The base URL of the API (the `$default` stage), ending in a slash. */
  public get url(): string {
    return this.stage.url;
  }
}
