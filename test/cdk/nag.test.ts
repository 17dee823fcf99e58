/**
 * cdk-nag's AwsSolutions pack over the stack as bin/app.ts synthesizes it, with and without a custom
 * tracking domain, and with a provider chain: no finding may be left unacknowledged, and every
 * acknowledgment must be specific, explained and still needed.
 *
 * cdk-nag 3 is a CDK policy-validation plugin rather than an aspect that writes annotations:
 * `validateScope` walks the construct tree and returns each finding that no
 * `Validations.of(construct).acknowledge({ id, reason })` on the resource or one of its parents covers.
 * The acknowledgments live in lib/, next to the constructs that cause the findings; bin/app.ts does not
 * run the pack, so `cdk synth` is unchanged.
 */
import { CfnResource, type PolicyViolation, Validations } from 'aws-cdk-lib';
import { HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { AwsSolutionsChecks, NagRuleCompliance, type NagRuleResult, rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lib/api-routes';
import type { MailrouteFunction } from '../../lib/constructs/mailroute-function';
import type { MailrouteStack } from '../../lib/mailroute-stack';
import { PROVIDER_CHAIN, type Synthesized, type SynthesizeOptions, synthesize } from './stack-fixture';

const DOMAIN = {
  name: 'track.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef',
};

/** The findings of the AwsSolutions pack that nothing acknowledges. */
const awsSolutionsFindings = (stack: MailrouteStack): PolicyViolation[] =>
  new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations;

/** One line per finding and resource: what to fix (or acknowledge, with a reason) and where. */
const describeFindings = (violations: readonly PolicyViolation[]): string[] =>
  violations.flatMap((v) =>
    v.violatingResources.map(
      (r) => `[${v.severity ?? 'no severity'}] ${v.ruleName} at ${r.constructPath}: ${v.description}`,
    ),
  );

interface Acknowledgment {
  /** The construct the acknowledgment is recorded on (it covers the resources below it too). */
  readonly construct: IConstruct;
  /** The rule, with the finding in brackets if it is one finding of a rule, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgment recorded in the construct tree below `scope`. */
function acknowledgmentsIn(scope: IConstruct): Acknowledgment[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([qualifiedId, reason]) => ({
          construct,
          // aws-cdk-lib records `Annotation::<id>`.
          id: qualifiedId.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** The cdk-nag rule behind each AwsSolutions id this stack acknowledges (as the pack applies them). */
const RULES: Readonly<Record<string, (node: CfnResource) => NagRuleResult>> = {
  'AwsSolutions-APIG4': rules.apigw.APIGWAuthorization,
  'AwsSolutions-IAM5': rules.iam.IAMNoWildcardPermissions,
  'AwsSolutions-L1': rules.lambda.LambdaLatestVersion,
  'AwsSolutions-SMG4': rules.secretsmanager.SecretsManagerRotationEnabled,
  'AwsSolutions-SQS3': rules.sqs.SQSQueueDLQ,
};

/** Whether the acknowledged rule (or finding) fails on a resource the acknowledgment covers. */
function isNeeded(ack: Acknowledgment): boolean {
  const [, ruleId = ack.id, finding] = /^([^[]+)(?:\[(.+)\])?$/.exec(ack.id) ?? [];
  const rule = RULES[ruleId];
  if (!rule) throw new Error(`No rule for ${ruleId} in RULES of ${import.meta.filename}; add it.`);
  return ack.construct.node
    .findAll()
    .filter(CfnResource.isCfnResource)
    .some((resource) => {
      const result = rule(resource);
      return finding === undefined
        ? result === NagRuleCompliance.NON_COMPLIANT
        : Array.isArray(result) && result.includes(finding);
    });
}

describe.each<[string, SynthesizeOptions]>([
  ['the stack of cdk.json', {}],
  ['a stack with tracking.domain (custom domain)', { mailroute: { tracking: { domain: DOMAIN } } }],
  ['a stack with a provider chain (SES, Azure, HTTP; secrets by name and by ARN)', { mailroute: PROVIDER_CHAIN }],
])('cdk-nag AwsSolutions on %s', (name, options) => {
  let s: Synthesized;
  let findings: PolicyViolation[];

  beforeAll(() => {
    s = synthesize(options);
    findings = awsSolutionsFindings(s.stack);
  });

  it('reports no unacknowledged error', () => {
    const errors = findings.filter((v) => v.severity === 'error');
    expect(describeFindings(errors), `unacknowledged AwsSolutions errors in ${name}`).toEqual([]);
  });

  it('reports no unacknowledged warning', () => {
    const warnings = findings.filter((v) => v.severity !== 'error');
    expect(describeFindings(warnings), `unacknowledged AwsSolutions warnings in ${name}`).toEqual([]);
  });

  it('checks every resource of the stack, the custom domain included if set', () => {
    // The pack walks the construct tree; the template's resources must all be in it.
    const checked = new Set(
      s.stack.node
        .findAll()
        .filter(CfnResource.isCfnResource)
        .map((resource) => s.stack.getLogicalId(resource)),
    );
    const templateIds = Object.keys(s.template.toJSON().Resources as Record<string, unknown>);
    expect(templateIds.filter((id) => !checked.has(id))).toEqual([]);
    if (options.mailroute?.tracking) {
      expect(s.stack.trackingDomain, 'the custom domain').toBeDefined();
      s.template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 1);
    }
  });
});

describe('the acknowledgments', () => {
  let s: Synthesized;
  let acks: Acknowledgment[];

  beforeAll(() => {
    s = synthesize({ mailroute: { tracking: { domain: DOMAIN } } });
    acks = acknowledgmentsIn(s.stack);
  });

  it('are all of AwsSolutions rules, each with a reason a reviewer can check (a sentence or more)', () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id, ack.construct.node.path).toMatch(/^AwsSolutions-[A-Z0-9]+(?:\[.+\])?$/);
      expect(ack.reason.length, `${ack.id} at ${ack.construct.node.path}`).toBeGreaterThanOrEqual(100);
    }
  });

  it('name the wildcard finding of every IAM5 acknowledgment, never the whole rule', () => {
    const iam5 = acks.filter((ack) => ack.id.startsWith('AwsSolutions-IAM5'));
    expect(iam5.length).toBeGreaterThan(0);
    for (const ack of iam5) expect(ack.id, ack.construct.node.path).toMatch(/^AwsSolutions-IAM5\[.+\]$/);
  });

  it('are each still needed: the rule fails on a resource the acknowledgment covers', () => {
    const stale = acks.filter((ack) => !isNeeded(ack)).map((ack) => `${ack.id} at ${ack.construct.node.path}`);
    expect(stale).toEqual([]);
  });

  it('are exactly: APIG4 on each route, L1 on each function, IAM5 (X-Ray) on each role, IAM5 (content prefixes) on the roles granted them, SMG4 on the signing keys', () => {
    const functions: MailrouteFunction[] = [
      s.stack.ingest,
      s.stack.dispatch,
      s.stack.sesEvents,
      s.stack.tracking,
      s.stack.console,
      s.stack.functions.webhooks,
      s.stack.functions.webhookApi,
      s.stack.functions.audience,
    ].map((construct) => construct.handler);
    const byRule = (id: string): string[] =>
      acks
        .filter((ack) => ack.id === id)
        .map((ack) => ack.construct.node.path)
        .sort();
    const bucketArn = `<${s.stack.getLogicalId(s.stack.content.bucket.node.defaultChild as CfnResource)}.Arn>`;
    const contentAck = (prefix: string) => `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}/*]`;
    const group = s.stack.resolve(s.stack.scheduling.group.scheduleGroupName) as string;
    const schedulesAck = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${group}/*]`;
    expect([...new Set(acks.map((ack) => ack.id))].sort()).toEqual(
      [
        'AwsSolutions-APIG4',
        'AwsSolutions-IAM5[Resource::*]',
        ...['attachments', 'bodies', 'scheduled', 'uploads', 'imports'].map(contentAck),
        'AwsSolutions-L1',
        'AwsSolutions-SMG4',
        // Scheduled sends: the API's schedules in its group, the scheduler's dead-letter queue.
        schedulesAck,
        'AwsSolutions-SQS3',
      ].sort(),
    );
    expect(byRule(schedulesAck)).toEqual([s.stack.ingest.handler.role.node.path]);
    expect(byRule('AwsSolutions-SQS3')).toEqual([s.stack.scheduling.deadLetterQueue.node.path]);
    // The content store's objects, per prefix, on the roles of the functions granted them (lib/spec.ts).
    for (const prefix of ['attachments', 'scheduled', 'uploads']) {
      expect(byRule(contentAck(prefix)), prefix).toEqual(
        [s.stack.ingest.handler.role.node.path, s.stack.dispatch.handler.role.node.path].sort(),
      );
    }
    // Contact imports: ingest signs the upload, the audience worker reads and deletes the file.
    expect(byRule(contentAck('imports'))).toEqual(
      [s.stack.ingest.handler.role.node.path, s.stack.functions.audience.handler.role.node.path].sort(),
    );
    // The audience function writes a broadcast email's body there when it is too large for a queue message.
    expect(byRule(contentAck('bodies'))).toEqual(
      [
        s.stack.ingest.handler.role.node.path,
        s.stack.dispatch.handler.role.node.path,
        s.stack.functions.audience.handler.role.node.path,
      ].sort(),
    );
    const routes = s.stack.api.httpApi.node.children.filter((child) => child instanceof HttpRoute);
    // Every route of the list, and the catch-all ($default).
    expect(routes).toHaveLength(API_ROUTES.length + 1);
    expect(byRule('AwsSolutions-APIG4')).toEqual(routes.map((route) => route.node.path).sort());
    expect(byRule('AwsSolutions-L1')).toEqual(functions.map((fn) => fn.function.node.path).sort());
    expect(byRule('AwsSolutions-IAM5[Resource::*]')).toEqual(functions.map((fn) => fn.role.node.path).sort());
    expect(byRule('AwsSolutions-SMG4')).toEqual([s.stack.signingKeys.secret.node.path]);
  });
});
