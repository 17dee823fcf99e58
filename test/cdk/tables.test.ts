import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES, type TableName, type TableSpec } from '../../lib/resources';
import { type CfnResource, logicalId, resource, resourcesOfType, type Synthesized, synthesize } from './stack-fixture';

let s: Synthesized;

beforeAll(() => {
  s = synthesize();
});

const table = (name: TableName): CfnResource => resource(s.template, logicalId(s.stack.tables[name]));

it('has one table per spec in TABLES', () => {
  const tableIds = Object.keys(resourcesOfType(s.template, 'AWS::DynamoDB::GlobalTable'));
  expect(tableIds.sort()).toEqual(
    (Object.keys(TABLES) as TableName[]).map((name) => logicalId(s.stack.tables[name])).sort(),
  );
});

describe.each(Object.entries(TABLES) as [TableName, TableSpec][])('%s table', (name, spec) => {
  it('bills on demand', () => {
    expect(table(name).Properties?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('has point-in-time recovery enabled', () => {
    const replicas = table(name).Properties?.Replicas as { PointInTimeRecoverySpecification?: unknown }[];
    expect(replicas).toHaveLength(1);
    expect(replicas[0]?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it(`has ${spec.ttlAttribute ? `TTL on "${spec.ttlAttribute}"` : 'no TTL'}`, () => {
    const ttl = table(name).Properties?.TimeToLiveSpecification;
    if (spec.ttlAttribute) expect(ttl).toEqual({ AttributeName: spec.ttlAttribute, Enabled: true });
    else expect(ttl).toBeUndefined();
  });

  it('has the key schema of its spec', () => {
    const keys = [
      { name: spec.partitionKey.name, type: spec.partitionKey.type, role: 'HASH' },
      ...(spec.sortKey ? [{ name: spec.sortKey.name, type: spec.sortKey.type, role: 'RANGE' }] : []),
    ];
    expect(table(name).Properties).toMatchObject({
      KeySchema: keys.map((k) => ({ AttributeName: k.name, KeyType: k.role })),
      AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
    });
  });

  it('is retained when removed from the stack', () => {
    expect(table(name)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has no hard-coded name', () => {
    expect(table(name).Properties?.TableName).toBeUndefined();
  });
});
