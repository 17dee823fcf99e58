/**
 * The BroadcastStore contract: the same state changes, checkpoints and counts against the in-memory
 * fake and the DynamoDB adapter on dynalite, which must refuse exactly the same.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Broadcast, NO_EVENT_COUNTS } from '../../../functions/core/broadcast';
import type { BroadcastStore } from '../../../functions/ports';
import { DynamoBroadcastStore } from '../../../functions/store/broadcast-store';
import { MemoryBroadcastStore } from '../../support/broadcast-fakes';
import { useDynalite } from '../../support/dynalite';

const dynalite = useDynalite();
let clock = 1_700_000_000_000;
const AT = '2026-11-29T12:00:00.000Z';

function draft(over: Partial<Broadcast> = {}): Broadcast {
  clock += 1000;
  return {
    id: `brd_${clock.toString(36)}${randomBytes(3).toString('hex')}`,
    state: 'draft',
    name: 'Spring',
    listId: 'subscribers',
    template: { slug: 'news' },
    variables: { company: 'Acme' },
    from: 'news@acme.example',
    category: 'marketing',
    sender: { keyName: 'ops', keyHash: 'h', senderDomains: ['acme.example'] },
    run: 0,
    page: 0,
    exhausted: false,
    fanout: { targeted: 0, noConsent: 0, render: 0 },
    history: [{ state: 'draft', at: AT, action: 'create' }],
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

describe.each([
  ['the fake', (): BroadcastStore => new MemoryBroadcastStore()],
  ['DynamoDB', (): BroadcastStore => new DynamoBroadcastStore(dynalite.db.doc, dynalite.db.tables.broadcasts)],
] as const)('BroadcastStore contract: %s', (_name, make) => {
  it('reads back what it wrote, and edits a draft only', async () => {
    const store = make();
    const b = draft({ cooldown: { key: 'news', hours: 24 }, pace: 5, tags: { campaign: 'spring' } });
    await store.create(b);
    expect(await store.get(b.id)).toEqual(b);
    const { pace: _, ...without } = b;
    const edited = await store.updateDraft(b.id, { ...without, name: 'Summer' }, AT);
    expect(edited).toMatchObject({ name: 'Summer', state: 'draft' });
    expect(edited?.pace).toBeUndefined();
    await store.transition(b.id, 'send', AT, { run: 0 });
    expect(await store.updateDraft(b.id, { ...without, name: 'Autumn' }, AT)).toBeUndefined();
    expect((await store.get(b.id))?.name).toBe('Summer');
  });

  it('moves states only as the transition table allows, and bumps the run on send and resume', async () => {
    const store = make();
    const b = draft();
    await store.create(b);
    expect(await store.transition(b.id, 'pause', AT)).toBeUndefined();
    expect(await store.transition(b.id, 'send', AT, { run: 1 })).toBeUndefined();
    expect(await store.transition(b.id, 'send', AT, { run: 0 })).toMatchObject({ state: 'sending', run: 1 });
    expect(await store.transition(b.id, 'pause', AT)).toMatchObject({ state: 'paused', run: 1 });
    expect(await store.transition(b.id, 'pause', AT)).toBeUndefined();
    expect(await store.transition(b.id, 'resume', AT, { run: 1 })).toMatchObject({ state: 'sending', run: 2 });
    // Not finished before the list is read to its end.
    expect(await store.transition(b.id, 'finish', AT, { run: 2 })).toBeUndefined();
    const after = await store.get(b.id);
    expect(after?.history.map((h) => h.state)).toEqual(['draft', 'sending', 'paused', 'sending']);
    expect(await store.transition('brd_missing', 'cancel', AT)).toBeUndefined();
  });

  it('advances the checkpoint only at its run and page, adding the page counts once', async () => {
    const store = make();
    const b = draft();
    await store.create(b);
    await store.transition(b.id, 'send', AT, { run: 0 });
    const counts = { targeted: 3, noConsent: 1, render: 0 };
    expect(await store.checkpoint(b.id, { run: 1, page: 0, next: 'c3', counts }, AT)).toMatchObject({
      page: 1,
      cursor: 'c3',
      exhausted: false,
      fanout: counts,
    });
    // The same page again (a job that came twice), or another run's: refused, nothing added.
    expect(await store.checkpoint(b.id, { run: 1, page: 0, next: 'c3', counts }, AT)).toBeUndefined();
    expect(await store.checkpoint(b.id, { run: 2, page: 1, next: 'c6', counts }, AT)).toBeUndefined();
    // While paused, a page in flight still checkpoints; a canceled broadcast takes none.
    await store.transition(b.id, 'pause', AT);
    const last = await store.checkpoint(b.id, { run: 1, page: 1, counts }, AT);
    expect(last).toMatchObject({ page: 2, exhausted: true, fanout: { targeted: 6, noConsent: 2, render: 0 } });
    expect(last?.cursor).toBeUndefined();
    await store.transition(b.id, 'resume', AT, { run: 1 });
    expect(await store.transition(b.id, 'finish', AT, { run: 2 })).toMatchObject({ state: 'sent', sentAt: AT });
    await store.transition(b.id, 'cancel', AT);
    expect((await store.get(b.id))?.state).toBe('sent');
  });

  it('pins the template version once', async () => {
    const store = make();
    const b = draft();
    await store.create(b);
    expect(await store.pinTemplate(b.id, 3)).toBe(3);
    expect(await store.pinTemplate(b.id, 4)).toBe(3);
    expect((await store.get(b.id))?.templateVersion).toBe(3);
  });

  it('adds event counts atomically and lists broadcasts newest first', async () => {
    const store = make();
    const a = draft();
    const b = draft();
    await store.create(a);
    await store.create(b);
    expect(await store.counts(a.id)).toEqual(NO_EVENT_COUNTS);
    await Promise.all([store.addCounts(a.id, { sent: 2, opened: 1 }), store.addCounts(a.id, { sent: 1 })]);
    expect(await store.counts(a.id)).toEqual({ ...NO_EVENT_COUNTS, sent: 3, opened: 1 });
    const first = await store.list(1);
    expect(first.items).toHaveLength(1);
    expect(first.next).toBeDefined();
    const page = await store.list(100);
    const ids = page.items.map((x) => x.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
  });
});
