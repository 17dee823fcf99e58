/**
 * The provider chain of the `mailroute` context as deployed: the PROVIDERS variable of dispatch and
 * ingest, what the dispatch role may reach for the providers defined (their secrets, their items of
 * the settings and rate-windows tables, extra SES configuration sets), and the settings routes.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispatchConfig, ingestConfig } from '../../functions/config';
import { DynamoProviderSettings } from '../../functions/store/provider-settings';
import { DynamoRateWindows } from '../../functions/store/rate-windows';
import { routeKey } from '../../lib/api-routes';
import { Dispatch } from '../../lib/constructs/dispatch';
import type { TableName } from '../../lib/resources';
import {
  arnOf,
  type CfnResource,
  environmentOf,
  logicalId,
  type Permission,
  PROVIDER_CHAIN,
  permissionsOfRole,
  refOf,
  resource,
  resourcesOfType,
  roleIdOf,
  type Synthesized,
  synthesize,
} from './stack-fixture';

const AZURE_SECRET_PATTERN = `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:mailroute/azure-connection-string-??????`;
const RELAY_SECRET_ARN = PROVIDER_CHAIN.providers[2].tokenSecret;

let plain: Synthesized;
let chained: Synthesized;

beforeAll(() => {
  plain = synthesize();
  chained = synthesize({ mailroute: PROVIDER_CHAIN });
});

const fnOf = (s: Synthesized, name: 'dispatch' | 'ingest'): CfnResource =>
  resource(s.template, logicalId(s.stack[name].handler.function));
const permissionsOf = (s: Synthesized, name: 'dispatch' | 'ingest' | 'sesEvents' | 'tracking'): Permission[] =>
  permissionsOfRole(s.template, roleIdOf(s.stack[name].handler));
const tableArn = (s: Synthesized, name: TableName): string => arnOf(logicalId(s.stack.tables[name]));
const key = (p: Permission): string => `${p.action} ${p.resource} ${JSON.stringify(p.condition ?? null)}`;

/**
 * The environment a function would see once deployed: CloudFormation references (`${...}`) become a
 * value valid for any of them (a non-empty name that is also a URL).
 */
const deployedEnvironment = (fn: CfnResource): Record<string, string> =>
  Object.fromEntries(
    Object.entries(environmentOf(fn)).map(([name, value]) => [
      name,
      value.includes('${') ? 'https://sqs.eu-west-1.amazonaws.com/123456789012/resolved-reference' : value,
    ]),
  );

describe('the PROVIDERS variable', () => {
  it("of the dispatch function is the context's providers and chain, as JSON", () => {
    const environment = environmentOf(fnOf(chained, 'dispatch'));
    expect(JSON.parse(environment.PROVIDERS ?? '')).toEqual(PROVIDER_CHAIN);
    expect({ providers: chained.context.providers, chain: chained.context.chain }).toEqual(PROVIDER_CHAIN);
  });

  it('of the ingest function is the same (the settings API validates changes against it)', () => {
    expect(environmentOf(fnOf(chained, 'ingest')).PROVIDERS).toBe(environmentOf(fnOf(chained, 'dispatch')).PROVIDERS);
  });

  it("parses with the functions' own environment parsers (functions/config.ts)", () => {
    expect(dispatchConfig(deployedEnvironment(fnOf(chained, 'dispatch'))).providers).toEqual(PROVIDER_CHAIN);
    expect(ingestConfig(deployedEnvironment(fnOf(chained, 'ingest'))).providers).toEqual(PROVIDER_CHAIN);
  });

  it('names secrets only, never holds a credential', () => {
    const json = environmentOf(fnOf(chained, 'dispatch')).PROVIDERS ?? '';
    expect(json).not.toMatch(/"(?:token|connectionString)"/);
    expect(json).toContain('"connectionStringSecret":"mailroute/azure-connection-string"');
  });

  it('is SES alone without providers in the context', () => {
    for (const name of ['dispatch', 'ingest'] as const) {
      expect(JSON.parse(environmentOf(fnOf(plain, name)).PROVIDERS ?? ''), name).toEqual({
        providers: [{ id: 'ses', type: 'ses' }],
        chain: ['ses'],
      });
    }
  });

  it('goes with the settings and rate windows tables to the dispatch function', () => {
    const t = chained.stack.tables;
    expect(environmentOf(fnOf(chained, 'dispatch'))).toMatchObject({
      TABLE_SETTINGS: refOf(logicalId(t.settings)),
      TABLE_RATE_WINDOWS: refOf(logicalId(t.rateWindows)),
    });
  });
});

describe('the dispatch role with a provider chain', () => {
  let dispatch: Permission[];
  beforeAll(() => {
    dispatch = permissionsOf(chained, 'dispatch');
  });

  it('reads exactly the signing keys and the secrets the definitions name (a name as its ARN pattern, an ARN as it is)', () => {
    const signingKeys = refOf(logicalId(chained.stack.signingKeys.secret));
    expect(
      dispatch
        .filter((p) => p.action === 'secretsmanager:GetSecretValue')
        .map((p) => p.resource)
        .sort(),
    ).toEqual([signingKeys, AZURE_SECRET_PATTERN, RELAY_SECRET_ARN].sort());
  });

  it('has no other action on the provider secrets (not DescribeSecret, not PutSecretValue)', () => {
    const onProviderSecrets = dispatch.filter((p) => [AZURE_SECRET_PATTERN, RELAY_SECRET_ARN].includes(p.resource));
    expect(onProviderSecrets.map((p) => p.action)).toEqual([
      'secretsmanager:GetSecretValue',
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('gains nothing over SES alone but those secrets and the items of the new providers', () => {
    const before = new Set(permissionsOf(plain, 'dispatch').map(key));
    const added = dispatch.filter((p) => !before.has(key(p)));
    const scoped = (p: Permission) =>
      p.resource === tableArn(chained, 'settings') || p.resource === tableArn(chained, 'rateWindows');
    const byResource = (a: Permission, b: Permission) => a.resource.localeCompare(b.resource);
    expect(added.filter((p) => !scoped(p)).sort(byResource)).toEqual(
      [
        { action: 'secretsmanager:GetSecretValue', resource: AZURE_SECRET_PATTERN },
        { action: 'secretsmanager:GetSecretValue', resource: RELAY_SECRET_ARN },
      ].sort(byResource),
    );
    // On the two tables: the same actions as before, on more items.
    const actions = (permissions: Permission[]) =>
      permissions
        .filter(scoped)
        .map((p) => p.action)
        .sort();
    expect(actions(dispatch)).toEqual(actions(permissionsOf(plain, 'dispatch')));
  });

  it("reaches the live settings and every defined provider's health item, and no other settings item", () => {
    // Its GetItem of API key items (a scheduled email's key, at send time) is asserted in scheduling.test.ts.
    const onSettings = dispatch.filter(
      (p) => p.resource === tableArn(chained, 'settings') && !JSON.stringify(p.condition ?? {}).includes('apikey#'),
    );
    expect(onSettings.map((p) => p.action).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
    for (const p of onSettings) {
      expect(p.condition).toEqual({
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': ['settings#providers', 'health#ses', 'health#azure', 'health#relay'],
        },
      });
    }
  });

  it("reaches every defined provider's rate windows, and no other rate-windows item", () => {
    const onWindows = dispatch.filter((p) => p.resource === tableArn(chained, 'rateWindows'));
    expect(onWindows.map((p) => p.action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const p of onWindows) {
      expect(p.condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['provider#ses', 'provider#azure', 'provider#relay'] },
      });
    }
  });

  it('leaves the other roles as they are: no role but dispatch reads a provider secret', () => {
    for (const name of ['ingest', 'sesEvents', 'tracking'] as const) {
      expect(permissionsOf(chained, name).map(key).sort(), name).toEqual(permissionsOf(plain, name).map(key).sort());
    }
  });
});

describe('an SES definition with its own configuration set', () => {
  it('may be sent with (besides the stack configuration set)', () => {
    const s = synthesize({
      mailroute: {
        providers: [
          { id: 'ses', type: 'ses' },
          { id: 'ses-marketing', type: 'ses', configurationSet: 'marketing' },
        ],
        chain: ['ses', 'ses-marketing'],
      },
    });
    const stackArn = (name: string) =>
      `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:configuration-set/${name}`;
    const sets = permissionsOf(s, 'dispatch')
      .filter((p) => p.action === 'ses:SendEmail' && p.resource.includes(':configuration-set/'))
      .map((p) => p.resource)
      .sort();
    expect(sets).toEqual([stackArn(refOf(logicalId(s.stack.configurationSet))), stackArn('marketing')].sort());
  });
});

describe('the Dispatch construct', () => {
  it('refuses a provider configuration the functions would refuse, naming the construct', () => {
    const s = synthesize();
    expect(
      () =>
        new Dispatch(s.stack, 'Another', {
          tables: s.stack.tables,
          sendQueue: s.stack.sendQueue.queue,
          sendDeadLetterQueue: s.stack.sendQueue.deadLetterQueue,
          criticalQueue: s.stack.priorityQueues.critical,
          bulkQueue: s.stack.priorityQueues.bulk,
          configurationSet: s.stack.configurationSet,
          senderIdentities: ['example.com'],
          signingKeys: s.stack.signingKeys.secret,
          contentBucket: s.stack.content.bucket,
          publicBaseUrl: 'https://mail.example.com',
          providers: { providers: [{ id: 'ses', type: 'ses' }], chain: ['ses', 'relay'] },
        }),
    ).toThrow(
      /Mailroute\/Another: invalid provider configuration: providers\.chain\.1: no provider is defined with id "relay"/,
    );
  });

  it('refuses a provider configuration too large for the Lambda environment', () => {
    const s = synthesize();
    const providers = Array.from({ length: 10 }, (_, i) => ({
      id: `relay-${i}`,
      type: 'http' as const,
      url: `https://relay-${i}.example.com/${'v1/send/'.repeat(40)}`,
    }));
    expect(
      () =>
        new Dispatch(s.stack, 'Large', {
          tables: s.stack.tables,
          sendQueue: s.stack.sendQueue.queue,
          sendDeadLetterQueue: s.stack.sendQueue.deadLetterQueue,
          criticalQueue: s.stack.priorityQueues.critical,
          bulkQueue: s.stack.priorityQueues.bulk,
          configurationSet: s.stack.configurationSet,
          senderIdentities: ['example.com'],
          signingKeys: s.stack.signingKeys.secret,
          contentBucket: s.stack.content.bucket,
          publicBaseUrl: 'https://mail.example.com',
          providers: { providers, chain: ['relay-0'] },
        }),
    ).toThrow(/Mailroute\/Large: the provider configuration takes \d+ bytes as JSON, more than the 3072/);
  });
});

describe('the settings routes', () => {
  it.each(['GET', 'PUT'])('%s /v1/settings/providers goes to the ingest function', (method) => {
    const routes = Object.values(resourcesOfType(chained.template, 'AWS::ApiGatewayV2::Route'));
    const route = routes.find(
      (r) => r.Properties?.RouteKey === routeKey({ method: method as 'GET', path: '/v1/settings/providers' }),
    );
    expect(route, `${method} /v1/settings/providers`).toBeDefined();
    const target = JSON.stringify(route?.Properties?.Target);
    const integration = Object.entries(resourcesOfType(chained.template, 'AWS::ApiGatewayV2::Integration')).find(
      ([id]) => target.includes(id),
    )?.[1];
    expect(JSON.stringify(integration?.Properties?.IntegrationUri)).toContain(
      logicalId(chained.stack.ingest.handler.function),
    );
  });
});

/** Whether an IAM `StringLike` pattern (`*` any run, `?` one character) matches `value`. */
const like = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** Whether the permissions allow `action` on the item with partition key `pk` of the table with ARN `table`. */
function allows(permissions: Permission[], table: string, action: string, pk: string): boolean {
  return permissions.some((p) => {
    if (p.action !== `dynamodb:${action}` || p.resource !== table) return false;
    if (p.condition === undefined) return true;
    const keys = (p.condition['ForAllValues:StringLike'] as Record<string, string[]> | undefined)?.[
      'dynamodb:LeadingKeys'
    ];
    return keys?.some((pattern) => like(pattern, pk)) ?? false;
  });
}

interface Call {
  readonly action: string;
  readonly pk: string;
}

/** A document client that records the action and partition key of every item a command touches. */
function recordingClient(calls: Call[]): DynamoDBDocumentClient {
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const action = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    if (action === 'BatchGet') {
      for (const request of Object.values(input.RequestItems as Record<string, { Keys: { pk: string }[] }>)) {
        for (const k of request.Keys) calls.push({ action: 'BatchGetItem', pk: k.pk });
      }
      return { Responses: {} };
    }
    const pk = ((input.Key ?? input.Item) as { pk: string }).pk;
    calls.push({ action: `${action}Item`, pk });
    return action === 'Update' ? { Attributes: {} } : {};
  };
  return { send } as unknown as DynamoDBDocumentClient;
}

describe('the IAM scoping matches what the functions do', () => {
  const ids = PROVIDER_CHAIN.providers.map((p) => p.id);

  it("every settings-table call of the dispatcher's stores is allowed to the dispatch role", async () => {
    const calls: Call[] = [];
    const settings = new DynamoProviderSettings(recordingClient(calls), 'settings');
    await settings.load(ids);
    for (const id of ids) {
      await settings.recordOutcomes(id, 100, { attempts: 1, errors: 0 }, [90]);
      await settings.moveCircuit(id, { state: 'closed' }, { state: 'open', untilMs: 1, reason: 'test' });
    }
    expect(calls.length).toBeGreaterThan(ids.length);
    const dispatch = permissionsOf(chained, 'dispatch');
    const denied = calls.filter((c) => !allows(dispatch, tableArn(chained, 'settings'), c.action, c.pk));
    expect(denied).toEqual([]);
  });

  it("every rate-windows call of the dispatcher's store is allowed to the dispatch role", async () => {
    const calls: Call[] = [];
    const windows = new DynamoRateWindows(recordingClient(calls), 'rate-windows');
    for (const id of ids) await windows.reserve(id, [{ limit: 10, windowSeconds: 60 }], 1, 1_000_000);
    expect(calls.map((c) => c.action).sort()).toEqual(
      [...ids.map(() => 'GetItem'), ...ids.map(() => 'UpdateItem')].sort(),
    );
    const dispatch = permissionsOf(chained, 'dispatch');
    const denied = calls.filter((c) => !allows(dispatch, tableArn(chained, 'rateWindows'), c.action, c.pk));
    expect(denied).toEqual([]);
  });

  it('the settings API (ingest) may save the live settings and read them with the health items', async () => {
    const calls: Call[] = [];
    const settings = new DynamoProviderSettings(recordingClient(calls), 'settings');
    await settings.load(ids);
    await settings.saveLive({ chain: ['ses'], providers: {}, version: 1 }, 0);
    const ingest = permissionsOf(chained, 'ingest');
    const denied = calls.filter((c) => !allows(ingest, tableArn(chained, 'settings'), c.action, c.pk));
    expect(denied).toEqual([]);
    expect(calls).toContainEqual({ action: 'PutItem', pk: 'settings#providers' });
  });

  it('the scoped grants refuse what they should: an API key item, another provider, a write of the live settings by dispatch', () => {
    const dispatch = permissionsOf(chained, 'dispatch');
    const ingest = permissionsOf(chained, 'ingest');
    const settings = tableArn(chained, 'settings');
    // The dispatcher reads one API key item at a time (GetItem): a scheduled email's key is checked
    // again when it is sent (revoked, scopes). It can neither batch-read nor change one.
    expect(allows(dispatch, settings, 'GetItem', 'apikey#0123')).toBe(true);
    expect(allows(dispatch, settings, 'BatchGetItem', 'apikey#0123')).toBe(false);
    expect(allows(dispatch, settings, 'UpdateItem', 'apikey#0123')).toBe(false);
    expect(allows(dispatch, settings, 'PutItem', 'apikey#0123')).toBe(false);
    expect(allows(dispatch, settings, 'UpdateItem', 'health#sendgrid')).toBe(false);
    expect(allows(dispatch, settings, 'PutItem', 'settings#providers')).toBe(false);
    expect(allows(dispatch, tableArn(chained, 'rateWindows'), 'UpdateItem', 'api#key#1')).toBe(false);
    expect(allows(ingest, settings, 'PutItem', 'apikey#0123')).toBe(false);
  });
});
