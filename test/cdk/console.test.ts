import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/spec';
import type { Permission } from './stack-fixture';
import { arnOf, logicalId, permissionsOfRole, resource, roleIdOf, type Synthesized, synthesize } from './stack-fixture';

let s: Synthesized;
let role: Permission[];

beforeAll(() => {
  s = synthesize();
  role = permissionsOfRole(s.template, roleIdOf(s.stack.console.handler));
});

const tableArn = (name: 'messages' | 'settings' | 'rateWindows'): string => arnOf(logicalId(s.stack.tables[name]));
const on = (resource: string): Permission[] => role.filter((p) => p.resource === resource);
const actions = (resource: string): string[] =>
  on(resource)
    .map((p) => p.action)
    .sort();
/** The queues the console shows (FUNCTIONS.console.inspectQueues). */
const inspected = new Set<string>(FUNCTIONS.console.inspectQueues ?? []);
const shown = () => Object.entries(s.stack.queues).flatMap(([name, q]) => (inspected.has(name) ? [q] : []));
const leadingKeys = (keys: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } });

describe('the console function role', () => {
  it('reaches DynamoDB only on the messages, settings and rate-windows tables', () => {
    const tables = new Set(role.filter((p) => p.action.startsWith('dynamodb:')).map((p) => p.resource));
    expect([...tables].sort()).toEqual([tableArn('messages'), tableArn('settings'), tableArn('rateWindows')].sort());
  });

  it('reads only API key items of the settings table (GetItem), never provider settings, and writes none', () => {
    expect(on(tableArn('settings'))).toEqual([
      { action: 'dynamodb:GetItem', resource: tableArn('settings'), condition: leadingKeys(['apikey#*']) },
    ]);
  });

  it("counts requests only on the request-counter items of the rate-windows table, never a provider's window", () => {
    expect(on(tableArn('rateWindows'))).toEqual([
      { action: 'dynamodb:UpdateItem', resource: tableArn('rateWindows'), condition: leadingKeys(['api#*']) },
    ]);
  });

  it('reads a message record and updates it (a redrive returns it to queued); no query, scan, put or delete', () => {
    expect(actions(tableArn('messages'))).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  });

  it('reads the attributes of the queues it shows (the send and SES-events queues), and sends only to the three send queues', () => {
    const queues = shown();
    for (const q of queues) expect(actions(arnOf(logicalId(q.queue))), q.spec.id).toContain('sqs:GetQueueAttributes');
    const sendsTo = role
      .filter((p) => p.action === 'sqs:SendMessage')
      .map((p) => p.resource)
      .sort();
    expect(sendsTo).toEqual(
      Object.values(s.stack.priorityQueues)
        .map((q) => arnOf(logicalId(q.queue)))
        .sort(),
    );
    // It never receives from or deletes on a live queue: the dispatcher's work is not the console's.
    for (const q of queues) {
      expect(actions(arnOf(logicalId(q.queue)))).not.toContain('sqs:ReceiveMessage');
      expect(actions(arnOf(logicalId(q.queue)))).not.toContain('sqs:DeleteMessage');
    }
  });

  it('reads, holds and deletes messages only on the dead-letter queues, and sends to none of them', () => {
    for (const q of shown()) {
      expect(actions(arnOf(logicalId(q.deadLetterQueue))), q.spec.id).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]);
    }
  });

  it('reaches none of the queues it does not show (the webhook and audience queues and their DLQs)', () => {
    const others = Object.entries(s.stack.queues).filter(([name]) => !inspected.has(name));
    expect(others.map(([name]) => name).sort()).toEqual(['audienceJobs', 'webhookEvents', 'webhookRetries']);
    for (const [, q] of others) {
      expect(on(arnOf(logicalId(q.queue)))).toEqual([]);
      expect(on(arnOf(logicalId(q.deadLetterQueue)))).toEqual([]);
    }
  });

  it('reaches no secret, no SES and no other AWS service but logs and X-Ray', () => {
    const services = new Set(role.map((p) => p.action.split(':')[0]));
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'sqs', 'xray']);
  });

  it('gets the variables of every queue and dead-letter queue it shows', () => {
    const fn = resource(s.template, logicalId(s.stack.console.handler.function));
    const env = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    for (const name of [
      'QUEUE_SEND_URL',
      'QUEUE_SEND_DLQ_URL',
      'QUEUE_SEND_CRITICAL_URL',
      'QUEUE_SEND_CRITICAL_DLQ_URL',
      'QUEUE_SEND_BULK_URL',
      'QUEUE_SEND_BULK_DLQ_URL',
      'QUEUE_SES_EVENTS_URL',
      'QUEUE_SES_EVENTS_DLQ_URL',
      'TABLE_MESSAGES',
      'TABLE_SETTINGS',
      'TABLE_RATE_WINDOWS',
    ]) {
      expect(env[name], name).toBeDefined();
    }
  });
});
