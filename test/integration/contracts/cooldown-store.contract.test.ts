/**
 * The CooldownStore contract: the same cases against the in-memory fake and the DynamoDB adapter on
 * dynalite (the condition: absent, ended by its own `until`, or held by the same message; the holder
 * named when refused; the TTL attribute written).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type CooldownTake, cooldownId, ttlOf } from '../../../functions/core/cooldown';
import type { CooldownStore } from '../../../functions/ports';
import { DynamoCooldownStore } from '../../../functions/store/cooldown-store';
import { MemoryCooldownStore } from '../../support/cooldown-fakes';
import { useDynalite } from '../../support/dynalite';

const dynalite = useDynalite();
const T = Date.parse('2026-11-22T10:00:00Z');
const HOUR = 3_600_000;

/** A fresh address, so cases never see each other's items. */
const fresh = () => cooldownId('digest', `${randomUUID()}@example.org`);
const take = (id: string, messageId: string, nowMs: number, hours = 24): CooldownTake => ({
  id,
  messageId,
  nowMs,
  until: nowMs + hours * HOUR,
});

describe.each([
  ['the fake', (): CooldownStore => new MemoryCooldownStore()],
  ['DynamoDB', (): CooldownStore => new DynamoCooldownStore(dynalite.db.doc, dynalite.db.tables.cooldowns)],
] as const)('CooldownStore contract: %s', (_name, make) => {
  it('takes a free cooldown, refuses another message within the window naming the holder', async () => {
    const store = make();
    const id = fresh();
    expect(await store.take([take(id, 'm1', T)])).toEqual([{ taken: true }]);
    expect(await store.take([take(id, 'm2', T + HOUR)])).toEqual([
      { taken: false, heldBy: 'm1', sentAt: T, until: T + 24 * HOUR },
    ]);
  });

  it('passes the same message again (a retry), moving its window to the new send', async () => {
    const store = make();
    const id = fresh();
    await store.take([take(id, 'm1', T)]);
    expect(await store.take([take(id, 'm1', T + HOUR)])).toEqual([{ taken: true }]);
    expect(await store.take([take(id, 'm2', T + 24 * HOUR)])).toEqual([
      { taken: false, heldBy: 'm1', sentAt: T + HOUR, until: T + 25 * HOUR },
    ]);
  });

  it("takes a cooldown whose window has ended by its own time, before TTL removed it (at the window's very end)", async () => {
    const store = make();
    const id = fresh();
    await store.take([take(id, 'm1', T, 2)]);
    expect(await store.take([take(id, 'm2', T + 2 * HOUR - 1)])).toEqual([
      { taken: false, heldBy: 'm1', sentAt: T, until: T + 2 * HOUR },
    ]);
    expect(await store.take([take(id, 'm2', T + 2 * HOUR)])).toEqual([{ taken: true }]);
    expect(await store.take([take(id, 'm3', T + 3 * HOUR)])).toEqual([
      { taken: false, heldBy: 'm2', sentAt: T + 2 * HOUR, until: T + 26 * HOUR },
    ]);
  });

  it('answers several takes in their order, each on its own (one refused does not stop the others)', async () => {
    const store = make();
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await store.take([take(b, 'other', T)]);
    expect(await store.take([take(a, 'm1', T + 1), take(b, 'm1', T + 1), take(c, 'm1', T + 1)])).toEqual([
      { taken: true },
      { taken: false, heldBy: 'other', sentAt: T, until: T + 24 * HOUR },
      { taken: true },
    ]);
  });

  it('lets exactly one of two messages racing for one cooldown take it', async () => {
    const store = make();
    const id = fresh();
    const [x, y] = await Promise.all([store.take([take(id, 'mx', T)]), store.take([take(id, 'my', T)])]);
    expect([x[0]?.taken, y[0]?.taken].filter(Boolean)).toHaveLength(1);
  });
});

describe('DynamoCooldownStore', () => {
  it('writes the TTL attribute (epoch seconds) at the end of the window, and the holder', async () => {
    const store = new DynamoCooldownStore(dynalite.db.doc, dynalite.db.tables.cooldowns);
    const id = fresh();
    await store.take([take(id, 'm1', T + 1)]);
    const out = await dynalite.db.doc.send(
      new GetCommand({ TableName: dynalite.db.tables.cooldowns, Key: { pk: id } }),
    );
    expect(out.Item).toEqual({
      pk: id,
      messageId: 'm1',
      sentAt: T + 1,
      until: T + 1 + 24 * HOUR,
      expiresAt: ttlOf(T + 1 + 24 * HOUR),
    });
    expect(ttlOf(T + 1 + 24 * HOUR)).toBe(Math.ceil((T + 1 + 24 * HOUR) / 1000));
  });
});
