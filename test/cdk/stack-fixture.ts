/**
 * Synthesizes the Mailroute stack the way bin/app.ts does (cdk.json's context, feature flags included)
 * and offers helpers to read the template. Each test file calls `synthesize` once, in `beforeAll`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { afterAll } from 'vitest';
import { REPO_ROOT } from '../../lib/constructs/mailroute-function';
import { CONTEXT_KEY, type MailrouteContext, parseContext } from '../../lib/context';
import { MailrouteStack, stackPropsFromContext } from '../../lib/mailroute-stack';

/** Cloud assembly directories this file's syntheses wrote; removed when the test file ends. */
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface Synthesized {
  readonly stack: MailrouteStack;
  readonly template: Template;
  readonly assembly: CloudAssembly;
  readonly context: MailrouteContext;
}

export interface SynthesizeOptions {
  /**
   * Run esbuild on the Lambda entries. Only the bundling tests need the bundles; skipping it keeps the
   * other files fast and independent of the state of functions/. The template is the same either way.
   * @default false
   */
  readonly bundle?: boolean;
  /** Overrides of the `mailroute` context object of cdk.json. */
  readonly mailroute?: Record<string, unknown>;
}

/** The `context` object of the repository's cdk.json. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
  if (typeof cdkJson !== 'object' || cdkJson === null || !('context' in cdkJson)) {
    throw new Error('cdk.json has no "context" object');
  }
  return cdkJson.context as Record<string, unknown>;
}

/**
 * An App whose cloud assembly goes to a temporary directory removed after the test file.
 * Without `bundle`, asset bundling is skipped (`aws:cdk:bundling-stacks: []`).
 */
export function testApp(context: Record<string, unknown> = {}, options: { readonly bundle?: boolean } = {}): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mailroute-cdk-test-'));
  outdirs.push(outdir);
  return new App({
    outdir,
    context: { ...context, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
}

export function synthesize(options: SynthesizeOptions = {}): Synthesized {
  const fileContext = cdkJsonContext();
  const mailroute = { ...(fileContext[CONTEXT_KEY] as Record<string, unknown>), ...options.mailroute };
  const app = testApp({ ...fileContext, [CONTEXT_KEY]: mailroute }, { bundle: options.bundle ?? false });
  const context = parseContext(app.node.tryGetContext(CONTEXT_KEY));
  const stack = new MailrouteStack(app, 'Mailroute', stackPropsFromContext(context));
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  return { stack, template, assembly, context };
}

/**
 * A provider chain with one definition of each type, limits on SES, and secrets given both by name
 * and by ARN: what a deployment beyond SES alone looks like in cdk.json.
 */
export const PROVIDER_CHAIN = {
  providers: [
    { id: 'ses', type: 'ses', limits: [{ limit: 14, windowSeconds: 1 }] },
    { id: 'azure', type: 'azure', connectionStringSecret: 'mailroute/azure-connection-string', timeoutMs: 5000 },
    {
      id: 'relay',
      type: 'http',
      url: 'https://relay.example.com/send',
      tokenSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mailroute/relay-token-AbCdEf',
    },
  ],
  chain: ['ses', 'azure', 'relay'],
} as const;

/** The logical id of a construct's CloudFormation resource (an L2 construct's default child). */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export function resource(template: Template, id: string): CfnResource {
  const found = (template.toJSON().Resources as Record<string, CfnResource>)[id];
  if (!found) throw new Error(`No resource ${id} in the template`);
  return found;
}

export function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/**
 * Renders a CloudFormation value as text, so references can be compared:
 * `{ Ref: 'X' }` → `${X}`, `{ 'Fn::GetAtt': ['X', 'Arn'] }` → `${X.Arn}`, `Fn::Join` → the joined parts.
 */
export function render(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) {
    if ('Ref' in value) return `\${${String(value.Ref)}}`;
    if ('Fn::GetAtt' in value && Array.isArray(value['Fn::GetAtt'])) return `\${${value['Fn::GetAtt'].join('.')}}`;
    if ('Fn::Join' in value && Array.isArray(value['Fn::Join'])) {
      const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  return JSON.stringify(value);
}

/** `${X.Arn}`: how `render` shows the ARN of the resource with logical id X. */
export const arnOf = (id: string): string => `\${${id}.Arn}`;
/** `${X}`: how `render` shows a Ref to the resource with logical id X. */
export const refOf = (id: string): string => `\${${id}}`;

export interface Permission {
  readonly action: string;
  readonly resource: string;
  /** The statement's `Condition`, if it has one (e.g. `dynamodb:LeadingKeys`). */
  readonly condition?: Record<string, unknown>;
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/**
 * Every (action, resource) pair the role's inline and attached `AWS::IAM::Policy` statements allow.
 * Resources are rendered with `render`.
 */
export function permissionsOfRole(template: Template, roleId: string): Permission[] {
  const documents: unknown[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = asArray(policy.Properties?.Roles).map(render);
    if (roles.includes(refOf(roleId))) documents.push(policy.Properties?.PolicyDocument);
  }
  const inline = asArray(resource(template, roleId).Properties?.Policies ?? []);
  for (const policy of inline) documents.push((policy as { PolicyDocument: unknown }).PolicyDocument);

  const permissions: Permission[] = [];
  for (const document of documents) {
    for (const statement of asArray((document as { Statement: unknown }).Statement)) {
      const { Effect, Action, Resource, Condition } = statement as {
        Effect: string;
        Action: unknown;
        Resource: unknown;
        Condition?: Record<string, unknown>;
      };
      if (Effect !== 'Allow') continue;
      for (const action of asArray(Action)) {
        for (const res of asArray(Resource)) {
          permissions.push({
            action: render(action),
            resource: render(res),
            ...(Condition === undefined ? {} : { condition: Condition }),
          });
        }
      }
    }
  }
  return permissions;
}

/** The logical id of a function's execution role. */
export function roleIdOf(fn: { readonly function: { readonly role?: IConstruct | undefined } }): string {
  const role = fn.function.role;
  if (!role) throw new Error('The function has no execution role');
  return logicalId(role);
}

/** A function's environment variables, values rendered with `render`. */
export function environmentOf(fn: CfnResource): Record<string, string> {
  const environment = fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return Object.fromEntries(Object.entries(environment?.Variables ?? {}).map(([key, value]) => [key, render(value)]));
}
