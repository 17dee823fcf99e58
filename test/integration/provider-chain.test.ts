import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInAnyInterval } from '../../functions/core/rate-window';
import {
  allTerminal,
  type ChainStack,
  createKey,
  sendMany,
  sesIds,
  startChainStack,
  TOKEN,
  view,
} from '../support/chain-stack';
import { api, eventually, queueCounts, queueDepth } from '../support/local';

const counts = (ids: readonly string[]) => {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
};

/** Each of `ids` exactly once in `sent`, nothing else from them. */
const expectEachOnce = (sent: readonly string[], ids: readonly string[]) => {
  const c = counts(sent);
  for (const id of ids) expect(c.get(id), id).toBe(1);
};

const failedOverOf = (v: Awaited<ReturnType<typeof view>>) =>
  (v.events.find((e) => e.type === 'sent')?.detail?.failedOver as string[] | undefined) ?? [];

/**
 * Scenarios run side by side (each has its own stack and relays, and most of their time is spent
 * waiting); the steps of one scenario run in order.
 */
const scenario = describe.concurrent;
const step = it.sequential;

/** One stack and two relays for a scenario. */
function useChainStack(options: Parameters<typeof startChainStack>[0] = {}) {
  const ctx = {} as { s: ChainStack };
  beforeAll(async () => {
    ctx.s = await startChainStack(options);
  });
  afterAll(async () => {
    await ctx.s?.stop();
  });
  return ctx;
}

scenario('relay-a answers 500', () => {
  const ctx = useChainStack();

  step(
    'every email goes out through relay-b exactly once, as sent by relay-b, with the fail-over on its timeline',
    async () => {
      const { stack, a, b } = ctx.s;
      a.behave('error');
      const emails = await sendMany(stack, 'down', 8);
      const ids = emails.map((e) => e.id);
      const views = await allTerminal(stack, ids, 20_000);
      for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
      expectEachOnce(b.sent(), ids);
      expect(b.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
      expect(a.sent()).toEqual([]);
      expect(await sesIds(stack, ids)).toEqual([]);
      // Tried at relay-a first (until its circuit opened), then relay-b.
      expect(a.requests.length).toBeGreaterThan(0);
      for (const r of a.requests) {
        const v = views.find((x) => x.id === r.id);
        expect(v && failedOverOf(v)).toEqual([expect.stringMatching(/^relay-a down: HTTP 500/)]);
      }
      // Nothing failed, nothing was retried: the fail-over happened within the first attempt.
      expect(views.every((v) => v.attempts === 1 && v.events.every((e) => e.type !== 'retry'))).toBe(true);
    },
  );

  step("opens relay-a's circuit, so later emails go straight to relay-b", async () => {
    const { stack, a, b } = ctx.s;
    // Outcomes are written once per batch, after its messages are done.
    const relayA = await eventually(async () => {
      const p = (await api(stack, 'GET', '/v1/settings/providers')).body.providers[0];
      return p.health.circuit === 'open' ? p : undefined;
    }, "relay-a's circuit to open");
    expect(relayA).toMatchObject({ id: 'relay-a', health: { reason: expect.stringMatching(/^error rate 100%/) } });
    const asked = a.requests.length;
    const later = await sendMany(stack, 'down-later', 3);
    const views = await allTerminal(
      stack,
      later.map((e) => e.id),
      10_000,
    );
    for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
    for (const v of views) expect(failedOverOf(v)).toEqual([]);
    expect(a.requests.length).toBe(asked);
    expectEachOnce(
      b.sent(),
      later.map((e) => e.id),
    );
  });
});

scenario('relay-a answers 429', () => {
  const ctx = useChainStack();

  step(
    'every email goes out through relay-b, none marked failed; Retry-After keeps later ones off relay-a',
    async () => {
      const { stack, a, b } = ctx.s;
      a.behave('throttle');
      a.retryAfter(30);
      // Two first (fewer than a circuit needs to open), then more while relay-a's Retry-After runs.
      const first = await sendMany(stack, 'throttled', 2);
      await allTerminal(
        stack,
        first.map((e) => e.id),
        10_000,
      );
      const asked = a.requests.length;
      const later = await sendMany(stack, 'throttled-later', 6);
      const ids = [...first, ...later].map((e) => e.id);
      const views = await allTerminal(stack, ids, 20_000);
      for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
      expectEachOnce(b.sent(), ids);
      expect(a.sent()).toEqual([]);
      expect(await sesIds(stack, ids)).toEqual([]);
      for (const v of views.slice(0, first.length))
        expect(failedOverOf(v)).toEqual([expect.stringMatching(/^relay-a throttled: HTTP 429/)]);
      expect(views.every((v) => v.attempts === 1)).toBe(true);
      expect(asked).toBe(first.length);
      expect(a.requests.length).toBe(asked);
      const settings = (await api(stack, 'GET', '/v1/settings/providers')).body;
      expect(settings.providers[0]).toMatchObject({ id: 'relay-a', health: { circuit: 'closed' } });
    },
  );
});

scenario('relay-a answers 429 without a Retry-After (as SES throttles)', () => {
  // Recovery at 10 % of the declared rate per second (instead of per minute) keeps the scenario short.
  const ctx = useChainStack({
    a: { limits: [{ limit: 20, windowSeconds: 1 }] },
    adaptiveThrottle: { increasePerMinute: 6 },
  });
  const relayA = async (stack: ChainStack['stack']) =>
    (await api(stack, 'GET', '/v1/settings/providers')).body.providers.find((p: { id: string }) => p.id === 'relay-a');

  step(
    'lowers relay-a’s effective rate, visible in GET /v1/settings/providers; the emails go out through relay-b',
    async () => {
      const { stack, a, b } = ctx.s;
      expect((await relayA(stack)).throttle).toMatchObject({ rateFactor: 1, lastThrottleAt: null });
      a.behave('throttle-bare');
      const emails = await sendMany(stack, 'bare-throttle', 2);
      const ids = emails.map((e) => e.id);
      const views = await allTerminal(stack, ids, 15_000);
      for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
      expectEachOnce(b.sent(), ids);
      // The decrease is written as the throttle is seen: the effective rate is halved (then recovering).
      const lowered = await eventually(async () => {
        const t = (await relayA(stack)).throttle;
        return t.lastThrottleAt !== null ? t : undefined;
      }, 'relay-a throttled');
      expect(lowered.rateFactor).toBeLessThan(1);
      expect(lowered.rateFactor).toBeGreaterThanOrEqual(0.5);
      expect(lowered.lastThrottleAt).not.toBeNull();
      expect(lowered.effectiveLimits[0].limit).toBeLessThan(20);
      expect(lowered.fullRateAt).not.toBeNull();
    },
  );

  step('recovers to the declared rate while relay-a takes emails again', async () => {
    const { stack, a } = ctx.s;
    a.behave('accept');
    const emails = await sendMany(stack, 'recovering', 4);
    const views = await allTerminal(
      stack,
      emails.map((e) => e.id),
      15_000,
    );
    for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-a' });
    const back = await eventually(async () => {
      const t = (await relayA(stack)).throttle;
      return t.rateFactor === 1 ? t : undefined;
    }, 'relay-a back at its declared rate');
    expect(back).toMatchObject({ effectiveLimits: [{ limit: 20, windowSeconds: 1 }], fullRateAt: null });
    expect(back.lastThrottleAt).not.toBeNull();
  });
});

scenario('relay-a answers 401', () => {
  const ctx = useChainStack();

  step('a broken relay opens its circuit at once: mail goes through relay-b, later mail skips relay-a', async () => {
    const { stack, a, b } = ctx.s;
    a.behave('unauthorized');
    const [first] = await sendMany(stack, 'unauthorized', 1);
    if (!first) throw new Error('not accepted');
    const [v] = await allTerminal(stack, [first.id], 10_000);
    expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
    expect(v && failedOverOf(v)).toEqual([expect.stringMatching(/^relay-a broken: HTTP 401/)]);
    // The circuit is written once the batch is done.
    const relayA = await eventually(async () => {
      const p = (await api(stack, 'GET', '/v1/settings/providers')).body.providers[0];
      return p.health.circuit === 'open' ? p : undefined;
    }, "relay-a's circuit to open");
    expect(relayA).toMatchObject({ id: 'relay-a', health: { reason: expect.stringMatching(/^broken: HTTP 401/) } });
    const later = await sendMany(stack, 'unauthorized-later', 4);
    const ids = later.map((e) => e.id);
    for (const x of await allTerminal(stack, ids, 10_000))
      expect(x).toMatchObject({ status: 'sent', provider: 'relay-b' });
    expect(a.requests).toHaveLength(1);
    expectEachOnce(b.sent(), [first.id, ...ids]);
  });
});

scenario('the chain changed through PUT /v1/settings/providers', () => {
  const ctx = useChainStack();

  step('sends new emails to the new first provider after the cache time, without a restart', async () => {
    const { stack, a, b, settle } = ctx.s;
    const first = await sendMany(stack, 'before', 2);
    await allTerminal(
      stack,
      first.map((e) => e.id),
      10_000,
    );
    expect(a.sent()).toEqual(first.map((e) => e.id));

    const put = await api(stack, 'PUT', '/v1/settings/providers', { chain: ['relay-b', 'relay-a', 'ses'] });
    expect(put.status).toBe(200);
    expect(put.body.chain).toEqual(['relay-b', 'relay-a', 'ses']);
    const got = await api(stack, 'GET', '/v1/settings/providers');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ chain: ['relay-b', 'relay-a', 'ses'], source: 'settings' });
    expect(got.body.providers.map((p: { id: string; position: number }) => [p.id, p.position])).toEqual([
      ['relay-a', 2],
      ['relay-b', 1],
      ['ses', 3],
    ]);
    await settle();

    const after = await sendMany(stack, 'after', 4);
    const views = await allTerminal(
      stack,
      after.map((e) => e.id),
      10_000,
    );
    for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
    expect(b.sent()).toEqual(expect.arrayContaining(after.map((e) => e.id)));
    expect(a.sent()).toEqual(first.map((e) => e.id));
  });

  step('refuses an unknown provider or bad limits (422) and changes nothing', async () => {
    const { stack } = ctx.s;
    const before = (await api(stack, 'GET', '/v1/settings/providers')).body;
    const bad = [
      { chain: ['relay-b', 'nope'] },
      { providers: { nope: { enabled: false } } },
      { providers: { 'relay-a': { limits: [{ limit: 0, windowSeconds: 1 }] } } },
      { providers: { 'relay-a': { limits: [{ limit: 5, windowSeconds: 1.5 }] } } },
      {
        providers: {
          'relay-a': {
            limits: [
              { limit: 5, windowSeconds: 2 },
              { limit: 9, windowSeconds: 2 },
            ],
          },
        },
      },
      { chain: [] },
      { chain: ['relay-a', 'relay-a'] },
    ];
    for (const body of bad) {
      const res = await api(stack, 'PUT', '/v1/settings/providers', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await api(stack, 'GET', '/v1/settings/providers')).body).toEqual(before);
  });

  step('answers 403 to a key without the admin scope, and changes nothing', async () => {
    const { stack } = ctx.s;
    const before = (await api(stack, 'GET', '/v1/settings/providers')).body;
    const sender = await createKey(stack, 'sender', ['send', 'read']);
    const auth = { authorization: `Bearer ${sender}` };
    expect((await api(stack, 'GET', '/v1/settings/providers', undefined, auth)).status).toBe(403);
    expect((await api(stack, 'PUT', '/v1/settings/providers', { chain: ['ses'] }, auth)).status).toBe(403);
    expect((await api(stack, 'GET', '/v1/settings/providers')).body).toEqual(before);
  });
});

scenario('rate limits', () => {
  const ctx = useChainStack({ b: { limits: [{ limit: 5, windowSeconds: 2 }] } });

  step('relay-b alone with 5 per 2 s: every email goes out, never more than 5 in any 2 s, none failed', async () => {
    const { stack, b, settle } = ctx.s;
    expect((await api(stack, 'PUT', '/v1/settings/providers', { chain: ['relay-b'] })).status).toBe(200);
    await settle();
    const emails = await sendMany(stack, 'limited', 15);
    const ids = emails.map((e) => e.id);
    const views = await allTerminal(stack, ids, 40_000);
    for (const v of views) expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
    expectEachOnce(b.sent(), ids);
    expect(b.requests).toHaveLength(15);
    expect(maxInAnyInterval(b.times(), 2_000)).toBeLessThanOrEqual(5);
    // Three windows' worth: the last went out at least two windows after the first.
    const times = b.times();
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(4_000);
    // Waiting for room is not a failed attempt.
    expect(views.every((v) => v.events.every((e) => e.type !== 'retry' && e.type !== 'failed'))).toBe(true);
  });

  step('with SES after relay-b, what relay-b has no room for goes to SES at once', async () => {
    const { stack, b, settle } = ctx.s;
    expect((await api(stack, 'PUT', '/v1/settings/providers', { chain: ['relay-b', 'ses'] })).status).toBe(200);
    await settle();
    const before = b.requests.length;
    const emails = await sendMany(stack, 'overflow', 12);
    const ids = emails.map((e) => e.id);
    const views = await allTerminal(stack, ids, 20_000);
    const viaB = views.filter((v) => v.provider === 'relay-b').map((v) => v.id);
    const viaSes = views.filter((v) => v.provider === 'ses').map((v) => v.id);
    expect(viaB.length + viaSes.length).toBe(12);
    expect(viaB.length).toBeLessThanOrEqual(5);
    expect(viaSes.length).toBeGreaterThan(0);
    expect(b.requests.length - before).toBe(viaB.length);
    expectEachOnce(b.sent(), viaB);
    expectEachOnce(await sesIds(stack, ids), viaSes);
    expect(maxInAnyInterval(b.times(), 2_000)).toBeLessThanOrEqual(5);
  });
});

scenario('an ambiguous outcome at an idempotent relay', () => {
  const ctx = useChainStack({ a: { timeoutMs: 500 } });

  step('retries through the same relay only, which sends it once; the timeline shows ambiguous', async () => {
    const { stack, a, b } = ctx.s;
    // The first request of each email is taken and then never answered (hang) or dropped (reset).
    a.behave((id, body) => {
      if (a.requestsFor(id).length > 0) return 'accept';
      return String(body.subject).startsWith('hang') ? 'hang' : 'reset';
    });
    const [hung] = await sendMany(stack, 'hang', 1);
    const [reset] = await sendMany(stack, 'reset', 1);
    if (!hung || !reset) throw new Error('not accepted');
    const ids = [hung.id, reset.id];
    await eventually(async () => (a.requests.length >= 2 ? true : undefined), 'relay-a to be asked');
    // Released for a retry, pinned: not failed, and relay-b (healthy) is never asked.
    await eventually(async () => {
      const vs = await Promise.all(ids.map((id) => view(stack, id)));
      return vs.every((v) => v.status === 'queued' && v.events.some((e) => e.type === 'ambiguous')) ? vs : undefined;
    }, 'both to be released as ambiguous');
    const views = await allTerminal(stack, ids, 40_000);
    for (const v of views) {
      expect(v).toMatchObject({ status: 'sent', provider: 'relay-a', attempts: 2 });
      expect(v.events.map((e) => e.type)).toEqual(['queued', 'ambiguous', 'sent']);
      expect(v.events[1]?.detail).toMatchObject({ provider: 'relay-a', retry: expect.stringMatching(/same provider/) });
    }
    expect(a.requestsFor(hung.id).map((r) => [r.mode, r.took, r.duplicate])).toEqual([
      ['hang', true, false],
      ['accept', false, true],
    ]);
    expect(a.requestsFor(reset.id).map((r) => [r.mode, r.took, r.duplicate])).toEqual([
      ['reset', true, false],
      ['accept', false, true],
    ]);
    expectEachOnce(a.sent(), ids);
    expect(b.requests).toEqual([]);
    expect(await sesIds(stack, ids)).toEqual([]);
  });
});

/**
 * Circuit timings of the "every provider down" scenario: the cool-down is long enough for the
 * checks made while both circuits are open, and short enough that nothing waits out production's
 * 30 s cool-down and 60 s probe lease.
 */
const SHORT_CIRCUITS = { coolDownSeconds: 10, probeLeaseSeconds: 5, probeRecheckSeconds: 1 } as const;

scenario('every provider down', () => {
  const ctx = useChainStack({ circuit: SHORT_CIRCUITS });

  step(
    'messages wait instead of failing, and all go out once a relay is back, each once',
    {
      timeout: 90_000,
    },
    async () => {
      const { stack, a, b, settle } = ctx.s;
      a.behave('error');
      b.behave('error');
      // Both relays down: mail fails over to SES, and both relays' circuits open.
      const early = await sendMany(stack, 'relays-down', 6);
      for (const v of await allTerminal(
        stack,
        early.map((e) => e.id),
        10_000,
      )) {
        expect(v.provider).toBe('ses');
        expect(failedOverOf(v)).toEqual([
          expect.stringMatching(/^relay-a down: HTTP 500/),
          expect.stringMatching(/^relay-b down: HTTP 500/),
        ]);
      }
      await eventually(async () => {
        const p = (await api(stack, 'GET', '/v1/settings/providers')).body.providers;
        return p[0].health.circuit === 'open' && p[1].health.circuit === 'open' ? true : undefined;
      }, 'both circuits to open');

      // Now SES leaves the chain: no provider can take mail.
      expect((await api(stack, 'PUT', '/v1/settings/providers', { chain: ['relay-a', 'relay-b'] })).status).toBe(200);
      await settle();
      const asked = a.requests.length + b.requests.length;
      const emails = await sendMany(stack, 'all-down', 6);
      const ids = emails.map((e) => e.id);
      // Every one was received and put back to wait: nothing visible or in flight, each a delayed copy.
      await eventually(async () => {
        const q = await queueCounts(stack, stack.queues.send);
        return q.visible === 0 && q.inFlight === 0 && q.delayed === ids.length ? q : undefined;
      }, 'every message to be put back to wait');
      // They wait: not claimed, not tried, not failed, not on their way to the DLQ.
      for (const v of await Promise.all(ids.map((id) => view(stack, id)))) {
        expect(v).toMatchObject({ status: 'queued', attempts: 0 });
        expect(v.events.map((e) => e.type)).toEqual(['queued']);
      }
      expect(a.requests.length + b.requests.length).toBe(asked);
      expect(await queueDepth(stack, stack.queues.sendDlq)).toBe(0);

      // relay-b is back. After the cool-down (SHORT_CIRCUITS.coolDownSeconds) one message probes
      // it and goes out; the others of its batch look again after the probe re-check and follow.
      b.behave('accept');
      const views = await allTerminal(stack, ids, 60_000);
      for (const v of views) {
        expect(v).toMatchObject({ status: 'sent', provider: 'relay-b' });
        expect(v.events.some((e) => e.type === 'failed')).toBe(false);
      }
      expectEachOnce(b.sent(), ids);
      for (const id of ids) expect(b.requestsFor(id)).toHaveLength(1);
      expect(await sesIds(stack, ids)).toEqual([]);
      expect(await queueDepth(stack, stack.queues.sendDlq)).toBe(0);
    },
  );
});
