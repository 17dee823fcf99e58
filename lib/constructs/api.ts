import { Stack } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiFunction, type ApiRoute } from '../api-routes';

/** The API Gateway method of each method a route may have (HEAD included, for link checkers). */
const HTTP_METHODS: Readonly<Record<ApiRoute['method'], HttpMethod>> = {
  GET: HttpMethod.GET,
  HEAD: HttpMethod.HEAD,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
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
}

/**
 * The HTTP API (payload format 2.0): one route per entry of `API_ROUTES`, each integrated with its
 * Lambda function (one integration per function), on an auto-deployed `$default` stage with default
 * route throttling. There is no API Gateway authorizer: ingest verifies the Bearer API key of the /v1
 * routes itself, and the tracking routes (/u, /o and /c/{token}) are public links whose signature
 * tracking checks.
 */
export class MailrouteApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: MailrouteApiProps) {
    super(scope, id);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${Stack.of(this).stackName}-api`,
      description: 'mailroute: transactional email API',
      createDefaultStage: false,
    });

    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttlingRateLimit ?? 1000,
        burstLimit: props.throttlingBurstLimit ?? 500,
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
      this.httpApi.addRoutes({
        path: route.path,
        methods: [HTTP_METHODS[route.method]],
        integration: integrationOf(route.fn),
      });
    }
  }

  /** The base URL of the API (the `$default` stage), ending in a slash. */
  public get url(): string {
    return this.stage.url;
  }
}
