import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CreateRuleBody,
  canonicalJson,
  conditionHolds,
  EmitEventBody,
  eventEmailId,
  eventVariables,
  matches,
  PatchRuleBody,
  patchRule,
  RULE_LIMITS,
  valueAt,
} from '../../../functions/core/rule';

const identity = {
  ruleId: 'r-1',
  event: 'order.shipped',
  contactId: 'c-1',
  keyFields: ['order_id'],
  data: { order_id: 'A-1', shipped_at: '2026-11-22T10:00:00Z', attempt: 1 },
};

describe('derived event email ids', () => {
  it('are e- and 32 hex digits, valid as an email id', () => {
    expect(eventEmailId(identity)).toMatch(/^e-[0-9a-f]{32}$/);
  });

  it('ignore the fields the rule does not name (timestamps, counters)', () => {
    const again = { ...identity, data: { order_id: 'A-1', shipped_at: '2026-11-23T09:00:00Z', attempt: 2 } };
    expect(eventEmailId(again)).toBe(eventEmailId(identity));
  });

  it('change with a key field, the rule, the event name and the contact', () => {
    const base = eventEmailId(identity);
    expect(eventEmailId({ ...identity, data: { ...identity.data, order_id: 'A-2' } })).not.toBe(base);
    expect(eventEmailId({ ...identity, ruleId: 'r-2' })).not.toBe(base);
    expect(eventEmailId({ ...identity, event: 'order.delivered' })).not.toBe(base);
    expect(eventEmailId({ ...identity, contactId: 'c-2' })).not.toBe(base);
    // A key field that is missing differs from one that is present.
    expect(eventEmailId({ ...identity, data: {} })).not.toBe(base);
  });

  it('do not depend on the order of object keys in a key field', () => {
    const a = { ...identity, keyFields: ['order'], data: { order: { id: 'A-1', lines: [{ sku: 'x', qty: 1 }] } } };
    const b = { ...identity, keyFields: ['order'], data: { order: { lines: [{ qty: 1, sku: 'x' }], id: 'A-1' } } };
    expect(eventEmailId(a)).toBe(eventEmailId(b));
  });

  it('take the idempotency key over the key fields when one is given', () => {
    const keyed = { ...identity, idempotencyKey: 'ship-1' };
    expect(eventEmailId(keyed)).not.toBe(eventEmailId(identity));
    // The key decides: other key field values, same id.
    expect(eventEmailId({ ...keyed, data: { order_id: 'A-9' } })).toBe(eventEmailId(keyed));
    expect(eventEmailId({ ...keyed, idempotencyKey: 'ship-2' })).not.toBe(eventEmailId(keyed));
  });

  it('without key fields or a key: one per rule and contact', () => {
    const once = { ...identity, keyFields: [] };
    expect(eventEmailId({ ...once, data: { anything: 1 } })).toBe(eventEmailId({ ...once, data: { other: 2 } }));
  });

  it('property: a volatile field never changes the id, a key field always does', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), fc.jsonValue(), (key, v1, v2) => {
        const a = eventEmailId({ ...identity, data: { order_id: key, at: v1 } });
        const b = eventEmailId({ ...identity, data: { order_id: key, at: v2 } });
        const c = eventEmailId({ ...identity, data: { order_id: `${key}x`, at: v1 } });
        return a === b && a !== c;
      }),
    );
  });
});

describe('canonical JSON', () => {
  it('sorts object keys at every depth, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
  it('property: equal values give equal text whatever their key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        return canonicalJson(o) === canonicalJson(reversed);
      }),
    );
  });
});

describe('conditions', () => {
  const data = { plan: 'pro', seats: 12, trial: false, user: { country: 'NL' } };
  it('eq, ne, in, exists, gt, lt on data and nested paths', () => {
    expect(conditionHolds({ path: 'plan', op: 'eq', value: 'pro' }, data)).toBe(true);
    expect(conditionHolds({ path: 'plan', op: 'eq', value: 'free' }, data)).toBe(false);
    expect(conditionHolds({ path: 'plan', op: 'ne', value: 'free' }, data)).toBe(true);
    expect(conditionHolds({ path: 'missing', op: 'ne', value: 'free' }, data)).toBe(true);
    expect(conditionHolds({ path: 'user.country', op: 'in', value: ['NL', 'BE'] }, data)).toBe(true);
    expect(conditionHolds({ path: 'user.country', op: 'in', value: ['DE'] }, data)).toBe(false);
    expect(conditionHolds({ path: 'trial', op: 'exists' }, data)).toBe(true);
    expect(conditionHolds({ path: 'coupon', op: 'exists' }, data)).toBe(false);
    expect(conditionHolds({ path: 'coupon', op: 'exists', value: false }, data)).toBe(true);
    expect(conditionHolds({ path: 'seats', op: 'gt', value: 10 }, data)).toBe(true);
    expect(conditionHolds({ path: 'seats', op: 'lt', value: 10 }, data)).toBe(false);
    // A number is not compared with a string.
    expect(conditionHolds({ path: 'seats', op: 'gt', value: '1' }, data)).toBe(false);
  });

  it('all must hold; none is always', () => {
    expect(matches(undefined, data)).toBe(true);
    expect(
      matches(
        [
          { path: 'plan', op: 'eq', value: 'pro' },
          { path: 'seats', op: 'gt', value: 100 },
        ],
        data,
      ),
    ).toBe(false);
  });

  it('read only own properties (no prototype, no array indexes)', () => {
    expect(valueAt(data, 'plan.length')).toBeUndefined();
    expect(valueAt({}, 'constructor')).toBeUndefined();
    expect(valueAt({ a: [1] }, 'a.0')).toBeUndefined();
    expect(conditionHolds({ path: '__proto__', op: 'exists' }, {})).toBe(false);
  });

  it('are refused when malformed', () => {
    const rule = { event: 'user.signed_up', template: { slug: 'welcome' }, from: 'app@example.com' };
    expect(
      CreateRuleBody.safeParse({ ...rule, condition: [{ path: 'plan', op: 'matches', value: '.*' }] }).success,
    ).toBe(false);
    expect(CreateRuleBody.safeParse({ ...rule, condition: [{ path: 'plan', op: 'in', value: 'pro' }] }).success).toBe(
      false,
    );
    expect(CreateRuleBody.safeParse({ ...rule, condition: [{ path: 'a..b', op: 'exists' }] }).success).toBe(false);
    expect(CreateRuleBody.safeParse({ ...rule, condition: [{ path: 'plan', op: 'eq' }] }).success).toBe(false);
    expect(CreateRuleBody.safeParse({ ...rule, condition: [{ path: 'plan', op: 'eq', value: 'pro' }] }).success).toBe(
      true,
    );
  });
});

describe('rule and event schemas', () => {
  const rule = { event: 'user.signed_up', template: { slug: 'welcome' }, from: 'app@example.com' };
  it('fill defaults: transactional, enabled, no key fields, no variables', () => {
    expect(CreateRuleBody.parse(rule)).toEqual({
      ...rule,
      variables: {},
      category: 'transactional',
      keyFields: [],
      enabled: true,
    });
  });
  it('refuse bad event names, delays over 30 days, unknown fields', () => {
    expect(CreateRuleBody.safeParse({ ...rule, event: 'User Signed Up' }).success).toBe(false);
    expect(CreateRuleBody.safeParse({ ...rule, event: 'x'.repeat(101) }).success).toBe(false);
    expect(CreateRuleBody.safeParse({ ...rule, delay: RULE_LIMITS.delaySeconds }).success).toBe(true);
    expect(CreateRuleBody.safeParse({ ...rule, delay: RULE_LIMITS.delaySeconds + 1 }).success).toBe(false);
    expect(CreateRuleBody.safeParse({ ...rule, tempalte: {} }).success).toBe(false);
    expect(EmitEventBody.safeParse({ name: 'a', contact: { email: 'a@b.c', id: 'x' } }).success).toBe(false);
    expect(EmitEventBody.safeParse({ name: 'a', contact: { id: 'x' }, occurredAt: 'yesterday' }).success).toBe(false);
  });
  it('a patch replaces fields, null clears one, the event name cannot change', () => {
    const stored = CreateRuleBody.parse({ ...rule, delay: 60 });
    const patched = patchRule(stored, PatchRuleBody.parse({ delay: null, enabled: false }));
    expect(CreateRuleBody.parse(patched)).toEqual({ ...CreateRuleBody.parse(rule), enabled: false });
    expect(PatchRuleBody.safeParse({ event: 'other' }).success).toBe(false);
  });
});

describe('event variables', () => {
  it('fill each declared variable from the rule, then data, then attributes, then the address', () => {
    expect(
      eventVariables(['name', 'plan', 'city', 'email', 'other'], {
        rule: { plan: 'fixed' },
        data: { name: 'From data', plan: 'pro', extra: 1 },
        attributes: { name: 'From contact', city: 'Utrecht' },
        email: 'ann@example.org',
      }),
    ).toEqual({ name: 'From data', plan: 'fixed', city: 'Utrecht', email: 'ann@example.org' });
  });
});
