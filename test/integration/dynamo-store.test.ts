import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { DynamoMessageStore, DynamoSuppressionStore, documentClient } from '../../functions/store/dynamo';
import { useLocalStack } from '../support/local';
import { record } from '../support/records';

let stack: LocalStack;
let store: DynamoMessageStore;
const at = '2026-11-22T10:00:00.000Z';
const ev = (type: string) => ({ type, at });

useLocalStack(
  (s) => {
    stack = s;
    store = new DynamoMessageStore(documentClient(stack.clients.dynamodb), stack.tables.messages);
  },
  { pollers: 0 },
);

async function seed(id: string) {
  await store.createMany([record(id, { from: 'a@example.com', to: ['b@example.org'], subject: 's' }, at)]);
}

describe('DynamoMessageStore conditions (on dynalite)', () => {
  it('lets exactly one of many concurrent claims win', async () => {
    await seed('c1');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claim('c1', `t${i}`, 1_000)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok))
      expect(r).toEqual({ ok: false, current: { status: 'sending', claimedAt: 1_000 } });
  });

  it('finishes only with the claim token it holds', async () => {
    await seed('c2');
    await store.claim('c2', 'mine', 1_000);
    expect(await store.finish('c2', 'not-mine', { status: 'sent', event: ev('sent') })).toBe(false);
    expect(
      await store.finish('c2', 'mine', { status: 'sent', provider: 'ses', providerMessageId: 'p1', event: ev('sent') }),
    ).toBe(true);
    const r = await store.get('c2');
    expect(r).toMatchObject({ status: 'sent', provider: 'ses', providerMessageId: 'p1', attempts: 1 });
    expect(r?.claimToken).toBeUndefined();
    expect(r?.events.map((e) => e.type)).toEqual(['queued', 'sent']);
  });

  it('releases a claim for a retry, after which it can be claimed again', async () => {
    await seed('c3');
    await store.claim('c3', 'a', 1_000);
    expect(await store.release('c3', 'a', ev('retry'))).toBe(true);
    expect(await store.claim('c3', 'b', 2_000)).toEqual({ ok: true, attempts: 2 });
  });

  it('settles only a queued message', async () => {
    await seed('c4');
    expect(await store.settleQueued('c4', { status: 'suppressed', event: ev('suppressed') })).toBe(true);
    expect(await store.settleQueued('c4', { status: 'suppressed', event: ev('suppressed') })).toBe(false);
    expect((await store.get('c4'))?.status).toBe('suppressed');
  });

  it('fails a stale claim only while it is the same claim', async () => {
    await seed('c5');
    await store.claim('c5', 'a', 1_000);
    expect(await store.failStale('c5', 999, { status: 'failed', reason: 'ambiguous', event: ev('ambiguous') })).toBe(
      false,
    );
    expect(await store.failStale('c5', 1_000, { status: 'failed', reason: 'ambiguous', event: ev('ambiguous') })).toBe(
      true,
    );
    expect(await store.get('c5')).toMatchObject({ status: 'failed', reason: 'ambiguous' });
  });

  it('rolls back only records that are still queued', async () => {
    await seed('c6');
    await seed('c7');
    await store.claim('c7', 'a', 1_000);
    await store.deleteQueued(['c6', 'c7']);
    expect(await store.get('c6')).toBeUndefined();
    expect((await store.get('c7'))?.status).toBe('sending');
  });

  it('reports a claim on a missing record as not ok, without current state', async () => {
    expect(await store.claim('nope', 't', 1_000)).toEqual({ ok: false });
  });
});

describe('DynamoSuppressionStore', () => {
  it('finds suppressed addresses among more than one BatchGetItem can take', async () => {
    const doc = documentClient(stack.clients.dynamodb);
    const suppression = new DynamoSuppressionStore(doc, stack.tables.suppression);
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    await doc.send(
      new PutCommand({ TableName: stack.tables.suppression, Item: { address: 'x7@example.org', scope: '*' } }),
    );
    await doc.send(
      new PutCommand({ TableName: stack.tables.suppression, Item: { address: 'x150@example.org', scope: '*' } }),
    );
    await doc.send(
      new PutCommand({ TableName: stack.tables.suppression, Item: { address: 'x9@example.org', scope: 'marketing' } }),
    );
    const keys = Array.from({ length: 180 }, (_, i) => ({ address: `x${i}@example.org`, scope: '*' }));
    expect([...(await suppression.suppressedAmong(keys))].sort()).toEqual(['x150@example.org|*', 'x7@example.org|*']);
  });
});
