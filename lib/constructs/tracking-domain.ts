import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import {
  ApiMapping,
  DomainName,
  EndpointType,
  type IHttpApi,
  type IHttpStage,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Construct } from 'constructs';
import { isDnsName } from '../context';

export interface TrackingDomainProps {
  /** The DNS name the links in emails use, e.g. track.example.com. */
  readonly domainName: string;
  /** An ACM certificate for `domainName`, in the stack's region (a regional endpoint's requirement). */
  readonly certificate: ICertificate;
  /** The HTTP API served on the domain. */
  readonly httpApi: IHttpApi;
  /** The stage of `httpApi` mapped to the domain's root (the API has no default stage of its own). */
  readonly stage: IHttpStage;
}

/**
 * A custom domain for the public links written into emails (unsubscribe, open pixel, click redirect):
 * a regional API Gateway domain name (TLS 1.2) with the given certificate, and the mapping of the API's
 * stage to its root path. The whole stage is mapped, so paths are the same as on the API's own URL (the
 * keyed /v1 routes answer there too). It creates no DNS record, since the domain's zone may be hosted anywhere:
 * point the DNS name at `regionalDomainName` (a CNAME, or an alias record in Route 53).
 */
export class TrackingDomain extends Construct {
  public readonly domainName: DomainName;
  public readonly apiMapping: ApiMapping;
  /** The DNS name, as given. */
  public readonly name: string;
  /** The base URL of links on the domain: `https://<domainName>`, without a trailing slash. */
  public readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: TrackingDomainProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.domainName) && !isDnsName(props.domainName)) {
      throw new Error(
        `TrackingDomain "${this.node.path}": domainName ${JSON.stringify(props.domainName)} is not a DNS name; ` +
          'give the bare host name, e.g. "track.example.com" (no scheme, path, port or wildcard).',
      );
    }
    const stackRegion = Stack.of(this).region;
    const certificateArn = props.certificate.certificateArn;
    if (!Token.isUnresolved(stackRegion) && !Token.isUnresolved(certificateArn)) {
      const certificateRegion = Arn.split(certificateArn, ArnFormat.SLASH_RESOURCE_NAME).region;
      if (certificateRegion && certificateRegion !== stackRegion) {
        throw new Error(
          `TrackingDomain "${this.node.path}": the certificate is in ${certificateRegion} but the stack deploys to ` +
            `${stackRegion}; a regional API Gateway domain needs an ACM certificate in ${stackRegion}.`,
        );
      }
    }

    this.domainName = new DomainName(this, 'DomainName', {
      domainName: props.domainName,
      certificate: props.certificate,
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    this.apiMapping = new ApiMapping(this, 'ApiMapping', {
      api: props.httpApi,
      domainName: this.domainName,
      stage: props.stage,
    });
    this.name = props.domainName;
    this.baseUrl = `https://${props.domainName}`;
  }
}
