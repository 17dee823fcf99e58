/**
 * The cooldown window (core/cooldown.ts), as properties: a second message of one key to one address
 * within the window is throttled; after it, it is sent; other keys and addresses never interfere; a
 * message retried never throttles itself. Driven through the in-memory store, whose condition is the
 * one the DynamoDB adapter writes (contract: test/integration/contracts/cooldown-store.contract.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyCooldown,
  Cooldown,
  type CooldownItem,
  cooldownId,
  effectiveCooldown,
  mayTake,
  takesFor,
  windowMs,
} from '../../../functions/core/cooldown';
import { MemoryCooldownStore } from '../../support/cooldown-fakes';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const HOUR = 3_600_000;

/** One send of `messageId` at `at` to `to`: the recipients left once the cooldowns are taken. */
async function send(store: MemoryCooldownStore, messageId: string, cooldown: Cooldown, to: string[], at: number) {
  const recipients = { to, cc: [], bcc: [], dropped: [] };
  const takes = takesFor(messageId, cooldown, recipients, at);
  const outcomes = await store.take(takes);
  return applyCooldown(cooldown, recipients, new Map(takes.map((t, i) => [t.id, outcomes[i] ?? { taken: true }])));
}

const keyArb = fc.stringMatching(/^[a-z][a-z0-9:._-]{0,20}$/);
const localArb = fc.stringMatching(/^[a-z][a-z0-9.]{0,10}$/);
const addressArb = fc.tuple(localArb, fc.constantFrom('example.org', 'example.com')).map(([l, d]) => `${l}@${d}`);
const hoursArb = fc.oneof(fc.integer({ min: 1, max: 8760 }), fc.double({ min: 1, max: 8760, noNaN: true }));

describe('the cooldown window (properties)', () => {
  it('throttles a second message of the same key to the same address within the window, and sends it after', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyArb,
        addressArb,
        hoursArb,
        fc.double({ min: 0, max: 2, noNaN: true }),
        async (key, a, hours, f) => {
          const store = new MemoryCooldownStore();
          const cooldown = { key, hours };
          const first = await send(store, 'm1', cooldown, [a], T0);
          expect(first.throttled).toEqual([]);
          const dt = Math.floor(f * windowMs(cooldown));
          // The same address, written differently (case of the whole address: the key folds it).
          const second = await send(store, 'm2', cooldown, [a.toUpperCase()], T0 + dt);
          expect(second.throttled.length === 1).toBe(dt < windowMs(cooldown));
          expect(second.recipients.to.length === 0).toBe(dt < windowMs(cooldown));
        },
      ),
    );
  });

  it('never lets different keys or different addresses interfere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(keyArb, addressArb),
        fc.tuple(keyArb, addressArb),
        hoursArb,
        fc.integer({ min: 0, max: 10 * HOUR }),
        async ([k1, a1], [k2, a2], hours, dt) => {
          fc.pre(cooldownId(k1, a1) !== cooldownId(k2, a2));
          const store = new MemoryCooldownStore();
          await send(store, 'm1', { key: k1, hours }, [a1], T0);
          const second = await send(store, 'm2', { key: k2, hours }, [a2], T0 + dt);
          expect(second.throttled).toEqual([]);
        },
      ),
    );
  });

  it('never throttles a message by its own cooldown, however often and whenever it is retried', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyArb,
        fc.uniqueArray(addressArb, { minLength: 1, maxLength: 5 }),
        hoursArb,
        fc.array(fc.integer({ min: 0, max: 400 * 24 * HOUR }), { minLength: 1, maxLength: 6 }),
        async (key, to, hours, offsets) => {
          const store = new MemoryCooldownStore();
          for (const at of [0, ...offsets].sort((x, y) => x - y)) {
            const r = await send(store, 'same', { key, hours }, to, T0 + at);
            expect(r.throttled).toEqual([]);
            expect(r.recipients.to).toEqual(to);
          }
        },
      ),
    );
  });

  it('sends a recipient at most one message of a key per window, whatever the order of sends (a model check)', async () => {
    const sendArb = fc.record({
      key: fc.constantFrom('digest', 'reminder:42'),
      to: fc.uniqueArray(fc.constantFrom('a@example.org', 'b@example.org', 'c@example.org'), {
        minLength: 1,
        maxLength: 3,
      }),
      gap: fc.integer({ min: 0, max: 30 * HOUR }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(sendArb, { minLength: 1, maxLength: 12 }), hoursArb, async (sends, hours) => {
        const store = new MemoryCooldownStore();
        /** The model: per key and address, when the last message that reached it was sent. */
        const last = new Map<string, number>();
        let at = T0;
        for (const [i, s] of sends.entries()) {
          at += s.gap;
          const r = await send(store, `m${i}`, { key: s.key, hours }, s.to, at);
          for (const a of s.to) {
            const id = cooldownId(s.key, a);
            const prev = last.get(id);
            const expectSent = prev === undefined || at - prev >= windowMs({ hours });
            expect(r.recipients.to.includes(a), `${id} at +${at - T0}`).toBe(expectSent);
            if (expectSent) last.set(id, at);
          }
        }
      }),
    );
  });
});

describe('mayTake (the condition the writes check)', () => {
  const item: CooldownItem = { id: 'digest|a@example.org', messageId: 'm1', sentAt: T0, until: T0 + HOUR };
  it('takes an absent item, an ended window (at its very end), or one held by the same message', () => {
    expect(mayTake(undefined, 'm2', T0)).toBe(true);
    expect(mayTake(item, 'm2', T0 + HOUR)).toBe(true);
    expect(mayTake(item, 'm2', T0 + HOUR - 1)).toBe(false);
    expect(mayTake(item, 'm1', T0 + 1)).toBe(true);
  });
});

describe('the cooldown schema', () => {
  it('takes short printable keys and 1 to 8760 hours, fractions included', () => {
    expect(Cooldown.parse({ key: 'reminder:42', hours: 24 })).toEqual({ key: 'reminder:42', hours: 24 });
    expect(Cooldown.parse({ key: 'digest', hours: 1.5 }).hours).toBe(1.5);
    expect(windowMs({ hours: 1.5 })).toBe(90 * 60_000);
  });

  it.each([
    [{ key: '', hours: 24 }, 'must not be empty'],
    [{ key: 'a'.repeat(129), hours: 24 }, 'at most 128'],
    [{ key: 'has space', hours: 24 }, 'printable ASCII'],
    [{ key: 'a|b', hours: 24 }, 'printable ASCII'],
    [{ key: 'naïve', hours: 24 }, 'printable ASCII'],
    [{ key: 'digest', hours: 0.5 }, 'at least 1'],
    [{ key: 'digest', hours: 8761 }, 'at most 8760'],
    [{ key: 'digest', hours: 24, extra: true }, ''],
    [{ key: 'digest' }, ''],
  ])('refuses %j', (value, message) => {
    const r = Cooldown.safeParse(value);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });

  it("a send's own cooldown wins over its template's; null turns the template's off", () => {
    const own = { key: 'own', hours: 2 };
    const tpl = { key: 'tpl', hours: 24 };
    expect(effectiveCooldown(own, tpl)).toEqual(own);
    expect(effectiveCooldown(undefined, tpl)).toEqual(tpl);
    expect(effectiveCooldown(null, tpl)).toBeUndefined();
    expect(effectiveCooldown(undefined, undefined)).toBeUndefined();
  });
});
