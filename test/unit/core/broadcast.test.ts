import { describe, expect, it } from 'vitest';
import {
  BROADCAST_ACTIONS,
  BROADCAST_STATES,
  type BroadcastAction,
  type BroadcastState,
  broadcastEmailId,
  canApply,
  nextPageDelaySeconds,
  pageSize,
  refusal,
  TRANSITIONS,
  variablesFor,
} from '../../../functions/core/broadcast';
import { CreateBroadcastBody } from '../../../functions/core/broadcast-body';

/** The lifecycle as the issue states it, written out cell by cell (independent of the table). */
const LEGAL: Record<BroadcastAction, Partial<Record<BroadcastState, BroadcastState>>> = {
  schedule: { draft: 'scheduled' },
  send: { draft: 'sending', scheduled: 'sending' },
  fire: { scheduled: 'sending' },
  pause: { sending: 'paused' },
  resume: { paused: 'sending' },
  cancel: { draft: 'canceled', scheduled: 'canceled', sending: 'canceled', paused: 'canceled' },
  finish: { sending: 'sent' },
};

describe('the broadcast lifecycle', () => {
  it('allows exactly the legal moves, to the right state', () => {
    for (const action of BROADCAST_ACTIONS)
      for (const state of BROADCAST_STATES) {
        const to = LEGAL[action][state];
        expect(canApply(action, state), `${action} in ${state}`).toBe(to !== undefined);
        if (to) expect(TRANSITIONS[action].to).toBe(to);
      }
  });

  it('never leaves sent or canceled', () => {
    for (const action of BROADCAST_ACTIONS) {
      expect(canApply(action, 'sent')).toBe(false);
      expect(canApply(action, 'canceled')).toBe(false);
    }
  });

  it('names the current state when it refuses', () => {
    expect(refusal('pause', 'draft')).toBe('The broadcast is draft; only a sending broadcast can be paused.');
    expect(refusal('cancel', 'sent')).toMatch(/^The broadcast is sent;/);
  });

  it('starts a new run on schedule, send and resume only', () => {
    expect(BROADCAST_ACTIONS.filter((a) => TRANSITIONS[a].newRun)).toEqual(['schedule', 'send', 'resume']);
  });
});

describe('the broadcast definition', () => {
  const base = { listId: 'l', template: { slug: 'news' }, from: 'news@acme.example' };
  it('defaults the category to marketing and refuses transactional, unknown fields and a reserved tag', () => {
    expect(CreateBroadcastBody.parse(base).category).toBe('marketing');
    expect(CreateBroadcastBody.safeParse({ ...base, category: 'transactional' }).success).toBe(false);
    expect(CreateBroadcastBody.safeParse({ ...base, subject: 'x' }).success).toBe(false);
    expect(CreateBroadcastBody.safeParse({ ...base, tags: { broadcast: 'x' } }).success).toBe(false);
    expect(CreateBroadcastBody.safeParse({ ...base, from: 'not an address' }).success).toBe(false);
    expect(CreateBroadcastBody.safeParse({ ...base, pace: 0 }).success).toBe(false);
    expect(CreateBroadcastBody.safeParse({ ...base, cooldown: { key: 'news', hours: 24 } }).success).toBe(true);
  });
});

describe('the fan-out rules', () => {
  it('derives one id per broadcast and contact, within the ids GET /v1/emails/{id} takes', () => {
    const id = broadcastEmailId('brd_1', 'c1');
    expect(id).toMatch(/^b-[A-Za-z0-9-]{32}$/);
    expect(broadcastEmailId('brd_1', 'c1')).toBe(id);
    expect(broadcastEmailId('brd_1', 'c2')).not.toBe(id);
    expect(broadcastEmailId('brd_2', 'c1')).not.toBe(id);
  });

  it('fills declared variables from the fixed ones, then the attributes, then the address', () => {
    expect(
      variablesFor(['a', 'b', 'email', 'missing'], { a: 'fixed' }, { a: 'attr', b: 'attr', undeclared: 1 }, 'x@y.org'),
    ).toEqual({ a: 'fixed', b: 'attr', email: 'x@y.org' });
  });

  it('sizes pages to the pace and delays the next page to keep it', () => {
    expect(pageSize(undefined)).toBe(1000);
    expect(pageSize(5)).toBe(50);
    expect(pageSize(1)).toBe(10);
    expect(nextPageDelaySeconds(undefined, 1000, 0)).toBe(0);
    expect(nextPageDelaySeconds(5, 50, 2000)).toBe(8);
    expect(nextPageDelaySeconds(5, 50, 20_000)).toBe(0);
    expect(nextPageDelaySeconds(1, 10_000, 0)).toBe(900);
  });
});
