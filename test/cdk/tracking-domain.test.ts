import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  environmentOf,
  logicalId,
  resource,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './stack-fixture';

const DOMAIN = {
  name: 'track.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef',
};

interface Output {
  readonly Description?: string;
  readonly Value: unknown;
}

const outputsOf = (s: Synthesized): Record<string, Output> => s.template.toJSON().Outputs as Record<string, Output>;

describe('with tracking.domain set', () => {
  let s: Synthesized;
  let domainNames: CfnResource[];
  let domainNameId: string;

  beforeAll(() => {
    s = synthesize({ mailroute: { tracking: { domain: DOMAIN } } });
    domainNames = Object.values(resourcesOfType(s.template, 'AWS::ApiGatewayV2::DomainName'));
    const domain = s.stack.trackingDomain;
    if (!domain) throw new Error('the stack has no tracking domain');
    domainNameId = logicalId(domain.domainName);
  });

  it('has one regional API Gateway domain name with that name and certificate', () => {
    expect(domainNames).toHaveLength(1);
    expect(domainNames[0]?.Properties).toEqual({
      DomainName: DOMAIN.name,
      DomainNameConfigurations: [
        { CertificateArn: DOMAIN.certificateArn, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' },
      ],
    });
  });

  it("maps the HTTP API's $default stage to the domain's root", () => {
    const mappings = Object.values(resourcesOfType(s.template, 'AWS::ApiGatewayV2::ApiMapping'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toEqual({
      ApiId: { Ref: logicalId(s.stack.api.httpApi) },
      DomainName: { Ref: domainNameId },
      Stage: '$default',
    });
  });

  it('maps the API only once its stage exists', () => {
    const [mappingId] = Object.keys(resourcesOfType(s.template, 'AWS::ApiGatewayV2::ApiMapping'));
    const dependsOn = (s.template.toJSON().Resources as Record<string, { DependsOn?: string[] }>)[mappingId ?? '']
      ?.DependsOn;
    expect(dependsOn).toContain(logicalId(s.stack.api.stage));
  });

  it('writes links on the domain: PUBLIC_BASE_URL of dispatch is https://<name>', () => {
    const dispatch = resource(s.template, logicalId(s.stack.dispatch.handler.function));
    expect(environmentOf(dispatch).PUBLIC_BASE_URL).toBe(`https://${DOMAIN.name}`);
  });

  it("outputs TrackingDomainTarget: the domain's regional host name, saying to point the DNS name there", () => {
    const output = outputsOf(s).TrackingDomainTarget;
    expect(output?.Value).toEqual({ 'Fn::GetAtt': [domainNameId, 'RegionalDomainName'] });
    expect(output?.Description).toContain(`Point the DNS name ${DOMAIN.name} here`);
  });

  it('creates no DNS records (the zone may be hosted anywhere)', () => {
    expect(Object.keys(resourcesOfType(s.template, 'AWS::Route53::RecordSet'))).toEqual([]);
    expect(Object.keys(resourcesOfType(s.template, 'AWS::Route53::HostedZone'))).toEqual([]);
  });
});

describe('without tracking.domain', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });

  it('has no API Gateway domain name and no API mapping', () => {
    expect(Object.keys(resourcesOfType(s.template, 'AWS::ApiGatewayV2::DomainName'))).toEqual([]);
    expect(Object.keys(resourcesOfType(s.template, 'AWS::ApiGatewayV2::ApiMapping'))).toEqual([]);
    expect(s.stack.trackingDomain).toBeUndefined();
  });

  it('has no TrackingDomainTarget output', () => {
    expect(outputsOf(s)).not.toHaveProperty('TrackingDomainTarget');
  });
});
