/**
 * The RuleStore contract: the same cases against the in-memory fake and the DynamoDB adapter on
 * dynalite (rules by event name, by id, paged, replaced and deleted).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CreateRuleBody, type Rule } from '../../../functions/core/rule';
import type { RuleStore } from '../../../functions/ports';
import { DynamoRuleStore } from '../../../functions/store/rule-store';
import { useDynalite } from '../../support/dynalite';
import { MemoryRuleStore } from '../../support/rule-fakes';

const dynalite = useDynalite();
const AT = '2026-11-22T10:00:00.000Z';

const ruleFor = (event: string, over: Partial<Rule> = {}): Rule => ({
  ...CreateRuleBody.parse({
    event,
    template: { slug: 'welcome', version: 2 },
    from: 'Acme <app@example.com>',
    condition: [{ path: 'plan', op: 'in', value: ['pro', 'team'] }],
    variables: { product: 'Acme', nested: { a: [1, 2] } },
    cooldown: { key: 'welcome', hours: 24 },
    consentCategory: 'product-news',
    keyFields: ['user_id'],
    delay: 60,
  }),
  id: randomUUID(),
  keyName: 'ops',
  keyHash: 'abc123',
  senderDomains: ['example.com'],
  createdAt: AT,
  updatedAt: AT,
  ...over,
});

/** A fresh event name, so cases never see each other's rules. */
const eventName = () => `e.${randomUUID().slice(0, 8)}`;

describe.each([
  ['the fake', (): RuleStore => new MemoryRuleStore()],
  ['DynamoDB', (): RuleStore => new DynamoRuleStore(dynalite.db.doc, dynalite.db.tables.rules)],
] as const)('RuleStore contract: %s', (_name, make) => {
  it('creates a rule once, and reads back exactly what it stored, by id and by event name', async () => {
    const store = make();
    const rule = ruleFor(eventName());
    expect(await store.create(rule)).toBe(true);
    expect(await store.create({ ...rule, from: 'other@example.com' })).toBe(false);
    expect(await store.get(rule.id)).toEqual(rule);
    expect(await store.forEvent(rule.event)).toEqual([rule]);
    expect(await store.get(randomUUID())).toBeUndefined();
    expect(await store.forEvent(eventName())).toEqual([]);
  });

  it('keeps a rule without its optional fields as it was', async () => {
    const store = make();
    const { keyHash: _k, ...bare } = ruleFor(eventName());
    const rule: Rule = {
      ...bare,
      ...CreateRuleBody.parse({ event: bare.event, template: { slug: 'w' }, from: 'a@example.com' }),
    };
    await store.create(rule);
    expect(await store.get(rule.id)).toEqual(rule);
  });

  it('reads every rule of an event name, and only those', async () => {
    const store = make();
    const name = eventName();
    const mine = [ruleFor(name), ruleFor(name), ruleFor(name, { enabled: false })];
    for (const r of [...mine, ruleFor(eventName())]) await store.create(r);
    const found = await store.forEvent(name);
    expect(found.map((r) => r.id).sort()).toEqual(mine.map((r) => r.id).sort());
  });

  it('replaces a rule (the event name stays), seen by id and by event name; none to replace is false', async () => {
    const store = make();
    const rule = ruleFor(eventName());
    await store.create(rule);
    const changed: Rule = { ...rule, enabled: false, delay: undefined, updatedAt: '2026-11-23T00:00:00.000Z' };
    delete (changed as { delay?: number }).delay;
    expect(await store.replace(changed)).toBe(true);
    expect(await store.get(rule.id)).toEqual(changed);
    expect(await store.forEvent(rule.event)).toEqual([changed]);
    expect(await store.replace(ruleFor(eventName()))).toBe(false);
    expect(await store.replace({ ...changed, event: eventName() })).toBe(false);
  });

  it('deletes a rule from both reads; a second delete is false', async () => {
    const store = make();
    const rule = ruleFor(eventName());
    await store.create(rule);
    expect(await store.delete(rule.id)).toBe(true);
    expect(await store.get(rule.id)).toBeUndefined();
    expect(await store.forEvent(rule.event)).toEqual([]);
    expect(await store.delete(rule.id)).toBe(false);
  });

  it('pages through every rule in id order, naming a next page only when there is one', async () => {
    const store = make();
    const made = [ruleFor(eventName()), ruleFor(eventName()), ruleFor(eventName())];
    for (const r of made) await store.create(r);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list(2, cursor);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next;
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toEqual([...seen].sort());
    for (const r of made) expect(seen).toContain(r.id);
    expect(new Set(seen).size).toBe(seen.length);
    // A page that holds every rule names no next page; one short of it does.
    const total = (await store.list(100)).items.length;
    expect((await store.list(total)).next).toBeUndefined();
    expect((await store.list(total - 1)).next).toBeDefined();
  });
});
