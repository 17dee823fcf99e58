import { beforeAll, describe, expect, it } from 'vitest';
import { PRIORITIES } from '../../functions/core/priority';
import type { MailrouteFunction } from '../../lib/constructs/mailroute-function';
import type { TableName } from '../../lib/resources';
import {
  arnOf,
  logicalId,
  type Permission,
  permissionsOfRole,
  refOf,
  resource,
  resourcesOfType,
  roleIdOf,
  type Synthesized,
  synthesize,
} from './stack-fixture';

const DYNAMODB_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const DYNAMODB_READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const SQS_CONSUME = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'];

let s: Synthesized;
let ingest: Permission[];
let dispatch: Permission[];
let sesEvents: Permission[];
let tracking: Permission[];
let consoleFn: Permission[];

beforeAll(() => {
  // Two identities, one of each kind, to show each becomes its own resource.
  s = synthesize({ mailroute: { senderIdentities: ['example.com', 'noreply@example.org'] } });
  ingest = permissionsOfRole(s.template, roleIdOf(s.stack.ingest.handler));
  dispatch = permissionsOfRole(s.template, roleIdOf(s.stack.dispatch.handler));
  sesEvents = permissionsOfRole(s.template, roleIdOf(s.stack.sesEvents.handler));
  tracking = permissionsOfRole(s.template, roleIdOf(s.stack.tracking.handler));
  consoleFn = permissionsOfRole(s.template, roleIdOf(s.stack.console.handler));
});

const tableArn = (name: TableName): string => arnOf(logicalId(s.stack.tables[name]));
const sendQueueArn = (): string => arnOf(logicalId(s.stack.sendQueue.queue));
const sendDlqArn = (): string => arnOf(logicalId(s.stack.sendQueue.deadLetterQueue));
/** The send queue of every priority (critical, transactional, bulk), and their DLQs. */
/** The queue every function that changes state publishes webhook events to. */
const webhookEventsArn = (): string => arnOf(logicalId(s.stack.queues.webhookEvents.queue));
const audienceJobsArn = (): string => arnOf(logicalId(s.stack.queues.audienceJobs.queue));
const sendQueueArns = (): string[] =>
  Object.values(s.stack.priorityQueues)
    .map((q) => arnOf(logicalId(q.queue)))
    .sort();
const sendDlqArns = (): string[] =>
  Object.values(s.stack.priorityQueues)
    .map((q) => arnOf(logicalId(q.deadLetterQueue)))
    .sort();
const sesEventsQueueArn = (): string => arnOf(logicalId(s.stack.sesEventsQueue.queue));
/** A secret's ARN is its Ref. */
const signingKeysArn = (): string => refOf(logicalId(s.stack.signingKeys.secret));
const actionsOn = (permissions: Permission[], resource: string): string[] =>
  permissions.filter((p) => p.resource === resource || p.resource.startsWith(`${resource}/`)).map((p) => p.action);
const resourcesOf = (permissions: Permission[], action: string): string[] =>
  permissions.filter((p) => p.action === action).map((p) => p.resource);
const matching = (permissions: Permission[], pattern: RegExp): Permission[] =>
  permissions.filter((p) => pattern.test(p.action));

const ALL_ROLES: [string, () => Permission[], () => MailrouteFunction][] = [
  ['ingest', () => ingest, () => s.stack.ingest.handler],
  ['dispatch', () => dispatch, () => s.stack.dispatch.handler],
  ['ses-events', () => sesEvents, () => s.stack.sesEvents.handler],
  ['tracking', () => tracking, () => s.stack.tracking.handler],
  ['console', () => consoleFn, () => s.stack.console.handler],
];

describe.each(ALL_ROLES)('%s role', (_name, permissionsOf, handlerOf) => {
  it('allows no wildcard actions', () => {
    expect(permissionsOf().filter((p) => p.action.endsWith('*'))).toEqual([]);
  });

  it('has no managed policy (not AWSLambdaBasicExecutionRole)', () => {
    expect(resource(s.template, roleIdOf(handlerOf())).Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it("writes logs only to its function's own log group, and cannot create log groups", () => {
    const logs = matching(permissionsOf(), /^logs:/);
    expect(logs.map((p) => p.action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    for (const p of logs) expect(p.resource).toBe(arnOf(logicalId(handlerOf().logGroup)));
  });

  it('allows only X-Ray on all resources', () => {
    const unscoped = permissionsOf().filter((p) => p.resource === '*');
    expect(unscoped.length).toBeGreaterThan(0);
    for (const p of unscoped) expect(p.action).toMatch(/^xray:/);
  });
});

describe('audience role', () => {
  it('reaches DynamoDB only on the contacts (imports), broadcasts, templates, messages and search index tables (fan-out)', () => {
    const audience = permissionsOfRole(s.template, roleIdOf(s.stack.functions.audience.handler));
    const resources = new Set(matching(audience, /^dynamodb:/).map((p) => p.resource));
    const tables = ['contacts', 'broadcasts', 'templates', 'messages', 'emailIndex'] as const;
    expect([...resources].sort()).toEqual(tables.map((name) => tableArn(name)).sort());
    for (const name of tables) {
      expect(actionsOn(audience, tableArn(name)), name).toEqual(
        expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
      );
    }
  });
});

describe('ingest role', () => {
  it('reaches DynamoDB only on the messages, idempotency, settings, suppression, contacts, broadcasts, rate windows, reputation, templates, rules and search index tables', () => {
    const resources = new Set(matching(ingest, /^dynamodb:/).map((p) => p.resource));
    expect([...resources].sort()).toEqual(
      (
        [
          'messages',
          'idempotency',
          'settings',
          'suppression',
          'contacts',
          'broadcasts',
          'rateWindows',
          'reputation',
          'templates',
          'rules',
          'emailIndex',
        ] as const
      )
        .map((name) => tableArn(name))
        .sort(),
    );
  });

  it('reads and writes the search index (entries written at accept time, read by GET /v1/emails)', () => {
    expect(actionsOn(ingest, tableArn('emailIndex'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes event rules (the rules API, and the rules of an event name read per event)', () => {
    expect(actionsOn(ingest, tableArn('rules'))).toEqual(expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]));
  });

  it('reads and writes templates (the template API and the renders at accept time)', () => {
    expect(actionsOn(ingest, tableArn('templates'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes rate windows (per-API-key request counters)', () => {
    expect(actionsOn(ingest, tableArn('rateWindows'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes contacts (contacts, lists and imports; an erase deletes)', () => {
    expect(actionsOn(ingest, tableArn('contacts'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes suppression (the suppression API)', () => {
    expect(actionsOn(ingest, tableArn('suppression'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes messages and idempotency records', () => {
    for (const name of ['messages', 'idempotency'] as const) {
      expect(actionsOn(ingest, tableArn(name))).toEqual(expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]));
    }
  });

  it('reads settings (API keys, provider settings and health)', () => {
    const read = ingest.filter((p) => p.resource === tableArn('settings') && p.condition === undefined);
    expect(read.map((p) => p.action)).toEqual(expect.arrayContaining(DYNAMODB_READ));
  });

  it('writes only the live provider settings item of the settings table (PUT /v1/settings/providers), never an API key', () => {
    const writes = actionsOn(ingest, tableArn('settings'))
      .filter((a) => DYNAMODB_WRITE.includes(a))
      .map((action) => ingest.find((p) => p.action === action && p.resource === tableArn('settings')));
    expect(writes).toEqual([
      {
        action: 'dynamodb:PutItem',
        resource: tableArn('settings'),
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['settings#providers'] } },
      },
    ]);
  });

  it('sends to the send queues of the three priorities, the webhook events queue and the audience jobs queue only', () => {
    expect(resourcesOf(ingest, 'sqs:SendMessage').sort()).toEqual(
      [...sendQueueArns(), webhookEventsArn(), audienceJobsArn()].sort(),
    );
    expect(sendQueueArns()).toHaveLength(3);
    expect(sendQueueArns()).toContain(sendQueueArn());
  });

  it('cannot consume from any queue', () => {
    expect(ingest.filter((p) => SQS_CONSUME.includes(p.action))).toEqual([]);
  });

  it('cannot use SES', () => {
    expect(matching(ingest, /^ses:/)).toEqual([]);
  });
});

describe('dispatch role', () => {
  it('sends email only as the configured identities and with the configuration set', () => {
    const stackArn = (resource: string): string =>
      `arn:\${AWS::Partition}:ses:\${AWS::Region}:\${AWS::AccountId}:${resource}`;
    const expected = [
      ...s.context.senderIdentities.map((identity) => stackArn(`identity/${identity}`)),
      stackArn(`configuration-set/${refOf(logicalId(s.stack.configurationSet))}`),
    ].sort();
    for (const action of ['ses:SendEmail', 'ses:SendRawEmail']) {
      expect(resourcesOf(dispatch, action).sort(), action).toEqual(expected);
    }
  });

  it('has no other SES actions', () => {
    const actions = new Set(matching(dispatch, /^ses:/).map((p) => p.action));
    expect([...actions].sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
  });

  it('consumes the send queue of each priority (receive, delete, change visibility), and no other', () => {
    for (const action of SQS_CONSUME) {
      expect(resourcesOf(dispatch, action).sort(), action).toEqual(sendQueueArns());
      expect(resourcesOf(dispatch, action), action).toContain(sendQueueArn());
    }
  });

  it('sends only to the send queues (a message waiting for provider capacity goes back as a delayed copy), their DLQs (a message it gives up on is moved there at once) and the webhook events queue', () => {
    expect(resourcesOf(dispatch, 'sqs:SendMessage').sort()).toEqual(
      [...sendQueueArns(), ...sendDlqArns(), webhookEventsArn()].sort(),
    );
    expect(resourcesOf(dispatch, 'sqs:SendMessage')).toEqual(expect.arrayContaining([sendQueueArn(), sendDlqArn()]));
  });

  it('may only send to the send DLQs, never read or delete from them', () => {
    for (const dlq of sendDlqArns()) {
      expect(actionsOn(dispatch, dlq).sort(), dlq).toEqual(
        ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort(),
      );
    }
    expect(sendDlqArns()).toContain(sendDlqArn());
  });

  it('reaches DynamoDB only on the messages, suppression, cooldowns, settings, rate windows and reputation tables', () => {
    const resources = new Set(matching(dispatch, /^dynamodb:/).map((p) => p.resource));
    expect([...resources].sort()).toEqual(
      (['messages', 'suppression', 'cooldowns', 'settings', 'rateWindows', 'reputation'] as const)
        .map((name) => tableArn(name))
        .sort(),
    );
  });

  it('puts (conditional writes) and reads back cooldown items, and cannot update, delete or scan them', () => {
    const onCooldowns = matching(dispatch, /^dynamodb:/).filter((p) => p.resource === tableArn('cooldowns'));
    expect(onCooldowns.map((p) => p.action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('reads (BatchGetItem) the streams and adds (UpdateItem) to the counters of the reputation table, nothing else', () => {
    const onReputation = matching(dispatch, /^dynamodb:/).filter((p) => p.resource === tableArn('reputation'));
    expect(onReputation.map((p) => p.action).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
    const keys = PRIORITIES.flatMap((p) => [`stream#${p}`, `counts#${p}#*`]);
    for (const p of onReputation) {
      expect(p.condition, p.action).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } });
    }
  });

  it("reads (BatchGetItem) and updates only the live provider settings and its providers' health items of the settings table", () => {
    // Its read of the API keys (a scheduled email's key, at send time) is asserted in scheduling.test.ts.
    const onSettings = matching(dispatch, /^dynamodb:/).filter(
      (p) => p.resource === tableArn('settings') && !JSON.stringify(p.condition ?? {}).includes('apikey#'),
    );
    expect(onSettings.map((p) => p.action).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
    for (const p of onSettings) {
      expect(p.condition, p.action).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['settings#providers', 'health#ses'] },
      });
    }
  });

  it("reads (GetItem) and updates only its providers' items of the rate windows table, never the API's request counters", () => {
    const onWindows = matching(dispatch, /^dynamodb:/).filter((p) => p.resource === tableArn('rateWindows'));
    expect(onWindows.map((p) => p.action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const p of onWindows) {
      expect(p.condition, p.action).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['provider#ses'] },
      });
    }
  });

  it('reads and writes messages', () => {
    expect(actionsOn(dispatch, tableArn('messages'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, 'dynamodb:UpdateItem']),
    );
  });

  it('reads suppression and cannot write it', () => {
    const actions = actionsOn(dispatch, tableArn('suppression'));
    expect(actions).toEqual(expect.arrayContaining(DYNAMODB_READ));
    expect(actions.filter((a) => DYNAMODB_WRITE.includes(a))).toEqual([]);
  });

  it('reads the signing keys secret, and no other secret', () => {
    expect(resourcesOf(dispatch, 'secretsmanager:GetSecretValue')).toEqual([signingKeysArn()]);
    expect(new Set(matching(dispatch, /^secretsmanager:/).map((p) => p.resource))).toEqual(new Set([signingKeysArn()]));
  });
});

describe('ses-events role', () => {
  it('reaches DynamoDB only on the messages, suppression, reputation and templates tables', () => {
    const resources = new Set(matching(sesEvents, /^dynamodb:/).map((p) => p.resource));
    expect([...resources].sort()).toEqual(
      [tableArn('messages'), tableArn('suppression'), tableArn('reputation'), tableArn('templates')].sort(),
    );
  });

  it('reads and writes templates (counters per version, a failing canary rolled back)', () => {
    expect(actionsOn(sesEvents, tableArn('templates'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes the reputation table (counts bounces and complaints, pauses streams)', () => {
    expect(actionsOn(sesEvents, tableArn('reputation'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes messages and suppression', () => {
    for (const name of ['messages', 'suppression'] as const) {
      expect(actionsOn(sesEvents, tableArn(name)), name).toEqual(
        expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
      );
    }
  });

  it('consumes the SES events queue only', () => {
    for (const action of SQS_CONSUME) expect(resourcesOf(sesEvents, action), action).toEqual([sesEventsQueueArn()]);
  });

  it('sends to no queue but the webhook events queue', () => {
    expect(resourcesOf(sesEvents, 'sqs:SendMessage')).toEqual([webhookEventsArn()]);
  });

  it('cannot use SES', () => {
    expect(matching(sesEvents, /^ses:/)).toEqual([]);
  });
});

describe('tracking role', () => {
  it('reaches DynamoDB only on the messages and suppression tables (nothing on idempotency, settings)', () => {
    const resources = new Set(matching(tracking, /^dynamodb:/).map((p) => p.resource));
    expect([...resources].sort()).toEqual([tableArn('messages'), tableArn('suppression')].sort());
  });

  it('reads and writes messages (records opens and clicks)', () => {
    expect(actionsOn(tracking, tableArn('messages'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads and writes suppression', () => {
    expect(actionsOn(tracking, tableArn('suppression'))).toEqual(
      expect.arrayContaining([...DYNAMODB_READ, ...DYNAMODB_WRITE]),
    );
  });

  it('reads the signing keys secret, and no other secret', () => {
    expect(resourcesOf(tracking, 'secretsmanager:GetSecretValue')).toEqual([signingKeysArn()]);
    expect(new Set(matching(tracking, /^secretsmanager:/).map((p) => p.resource))).toEqual(new Set([signingKeysArn()]));
  });

  it('cannot use SES', () => {
    expect(matching(tracking, /^ses:/)).toEqual([]);
  });

  it('uses no queue but the webhook events queue, and only sends to it', () => {
    expect([...new Set(matching(tracking, /^sqs:/).map((p) => p.resource))]).toEqual([webhookEventsArn()]);
    expect(matching(tracking, /^sqs:(Receive|Delete|ChangeMessageVisibility)/)).toEqual([]);
  });
});

describe('the rate windows table', () => {
  it("is reached only by the ingest and webhook API roles, by the dispatch role on its providers' items, and by the console role on the request counters (of all roles in the stack)", () => {
    const rateWindows = tableArn('rateWindows');
    const roleIds = Object.keys(resourcesOfType(s.template, 'AWS::IAM::Role'));
    const users = roleIds.filter((roleId) =>
      permissionsOfRole(s.template, roleId).some(
        (p) => p.resource === rateWindows || p.resource.startsWith(`${rateWindows}/`),
      ),
    );
    expect(users.sort()).toEqual(
      [
        roleIdOf(s.stack.ingest.handler),
        roleIdOf(s.stack.dispatch.handler),
        roleIdOf(s.stack.console.handler),
        roleIdOf(s.stack.functions.webhookApi.handler),
      ].sort(),
    );
    const unscoped = dispatch.filter((p) => p.resource.startsWith(rateWindows) && p.condition === undefined);
    expect(unscoped).toEqual([]);
    const consoleOnTable = consoleFn.filter((p) => p.resource.startsWith(rateWindows));
    expect(consoleOnTable.length).toBeGreaterThan(0);
    for (const p of consoleOnTable)
      expect(p.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['api#*'] } });
  });
});

describe('the signing keys secret', () => {
  it('is readable only by the dispatch, tracking, webhooks and webhook API roles (of all roles in the stack)', () => {
    const roleIds = Object.keys(resourcesOfType(s.template, 'AWS::IAM::Role'));
    const readers = roleIds.filter((roleId) =>
      permissionsOfRole(s.template, roleId).some(
        (p) => p.action.startsWith('secretsmanager:') || p.resource === signingKeysArn(),
      ),
    );
    expect(readers.sort()).toEqual(
      [
        roleIdOf(s.stack.dispatch.handler),
        roleIdOf(s.stack.tracking.handler),
        // They open and seal the webhook endpoints' secrets with a key derived from the signing keys.
        roleIdOf(s.stack.functions.webhooks.handler),
        roleIdOf(s.stack.functions.webhookApi.handler),
      ].sort(),
    );
  });
});
