/**
 * The dispatcher over a chain of providers (DESIGN §3): fail-over by outcome class, waiting when
 * no provider has room, the ambiguous policy per provider, circuits and exact rate windows.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendOutcome } from '../../../functions/core/dispatch';
import { CIRCUIT, type CircuitPolicy } from '../../../functions/core/health';
import type { QueuedEmail } from '../../../functions/core/queued-email';
import { maxInAnyInterval, type RateWindow } from '../../../functions/core/rate-window';
import type { WarmUp } from '../../../functions/core/warm-up';
import type { EmailProvider } from '../../../functions/ports';
import { DispatchWorld, dispatcher as dispatchHandler, run } from '../../support/dispatch';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import type { MemoryMessageStore, MemoryProviderSettings, MemoryQueue, MemoryVisibility } from '../../support/fakes';
import { MemoryRateWindows, ScriptedProvider } from '../../support/fakes';

let clock: number;
let world: DispatchWorld;
let messages: MemoryMessageStore;
let visibility: MemoryVisibility;
let queue: MemoryQueue;

beforeEach(() => {
  clock = Date.parse('2026-11-22T10:00:00Z');
  world = new DispatchWorld();
  ({ messages, visibility, queue } = world);
  warnings.length = 0;
});

/** A queued email and its record; `pin` as left by an earlier ambiguous send through that provider. */
const queued = (id: string, pin?: string): QueuedEmail => world.queued(id, {}, { at: clock, ...(pin ? { pin } : {}) });

const provider = (id: string, outcome: (n: number) => SendOutcome, idempotent = true) =>
  new ScriptedProvider((_e, n) => outcome(n), id, idempotent);
const ok = (id: string) => provider(id, (n) => ({ kind: 'accepted', providerMessageId: `${id}-${n}` }));

const warnings: { message: string; extra: unknown }[] = [];
const logger = new Logger({ serviceName: 'test' });
vi.spyOn(logger, 'warn').mockImplementation((message: unknown, ...extra: unknown[]) => {
  warnings.push({ message: String(message), extra: extra[0] });
});

function dispatcher(
  providers: EmailProvider[],
  options: {
    limits?: Record<string, RateWindow[]>;
    settings?: MemoryProviderSettings;
    windows?: MemoryRateWindows;
    circuit?: Partial<CircuitPolicy>;
    bulkReserve?: number;
    warmUp?: Record<string, WarmUp>;
    sleep?: (ms: number) => Promise<void>;
  } = {},
) {
  return dispatchHandler(world, providers, {
    ...options,
    now: () => clock,
    cacheMs: 0,
    trackDefaults: { opens: false, clicks: false },
    logger,
  });
}

describe('fail-over', () => {
  for (const kind of ['down', 'throttled', 'broken'] as const) {
    it(`moves to the next provider when the first is ${kind}, and sends once`, async () => {
      const a = provider('a', () => ({ kind, reason: 'no' }));
      const b = ok('b');
      const { handler } = dispatcher([a, b]);
      const res = await run(handler, queued('m1'));
      expect(res.batchItemFailures).toEqual([]);
      expect(a.calls).toHaveLength(1);
      expect(b.calls).toHaveLength(1);
      const r = messages.items.get('m1');
      expect(r).toMatchObject({ status: 'sent', provider: 'b', providerMessageId: 'b-1' });
      expect(r?.events.at(-1)?.detail?.failedOver).toEqual([`a ${kind}: no`]);
    });
  }

  it('logs each fail-over with the message id and provider, addresses masked', async () => {
    warnings.length = 0;
    const a = provider('a', () => ({ kind: 'broken', reason: 'Email address is not verified: app@example.com' }));
    const { handler } = dispatcher([a, ok('b')]);
    await run(handler, queued('m1'));
    expect(warnings).toContainEqual({
      message: 'provider did not take the message',
      extra: {
        messageId: 'm1',
        provider: 'a',
        outcome: 'broken',
        reason: 'Email address is not verified: a***@example.com',
      },
    });
    expect(JSON.stringify(warnings)).not.toContain('app@example.com');
  });

  it('does not fail over a message the provider refused: it ends rejected', async () => {
    const a = provider('a', () => ({ kind: 'rejected', reason: 'bad content' }));
    const b = ok('b');
    const { handler } = dispatcher([a, b]);
    await run(handler, queued('m1'));
    expect(b.calls).toHaveLength(0);
    expect(messages.items.get('m1')).toMatchObject({ status: 'rejected', provider: 'a', reason: 'bad content' });
  });

  it('retries with back-off when every provider failed, and fails on the last receive', async () => {
    const a = provider('a', () => ({ kind: 'down', reason: '500' }));
    const b = provider('b', () => ({ kind: 'throttled', reason: '429' }));
    const { handler } = dispatcher([a, b]);
    const q = queued('m1');
    const res = await handler(sqsEvent(sqsRecord(q, { messageId: 'x', receiveCount: 1 })), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'x' }]);
    expect(messages.items.get('m1')?.status).toBe('queued');
    expect(visibility.delays).toHaveLength(1);
    await handler(sqsEvent(sqsRecord(q, { messageId: 'x', receiveCount: 5 })), lambdaContext());
    expect(messages.items.get('m1')).toMatchObject({
      status: 'failed',
      reason: 'retries exhausted (throttled: a down: 500; b throttled: 429)',
    });
  });

  it('follows the live order and enabled flags of the settings item', async () => {
    const a = ok('a');
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b]);
    settings.live = {
      chain: ['b', 'a'],
      providers: { a: { enabled: true, limits: [] }, b: { enabled: true, limits: [] } },
      version: 1,
    };
    await run(handler, queued('m1'));
    expect(messages.items.get('m1')?.provider).toBe('b');
    settings.live = {
      chain: ['b', 'a'],
      providers: { a: { enabled: true, limits: [] }, b: { enabled: false, limits: [] } },
      version: 2,
    };
    await run(handler, queued('m2'));
    expect(messages.items.get('m2')?.provider).toBe('a');
  });
});

describe('waiting for capacity', () => {
  it('puts a message back with a delay, unclaimed and not failed, when every provider is full', async () => {
    const a = ok('a');
    const { handler } = dispatcher([a], { limits: { a: [{ limit: 2, windowSeconds: 60 }] } });
    const emails = ['m1', 'm2', 'm3', 'm4'].map((id) => queued(id));
    const res = await run(handler, ...emails);
    expect(res.batchItemFailures).toEqual([]); // the waiting ones were re-queued, so acknowledged
    expect(a.calls).toHaveLength(2);
    const waiting = [...messages.items.values()].filter((r) => r.status === 'queued');
    expect(waiting).toHaveLength(2);
    expect(queue.sent.map((e) => JSON.parse(e.body).id).sort()).toEqual(waiting.map((r) => r.id).sort());
    for (const e of queue.sent) {
      expect(e.delaySeconds).toBeGreaterThan(0);
      expect(e.delaySeconds).toBeLessThanOrEqual(63);
    }
    expect(waiting.every((r) => r.attempts === 0)).toBe(true); // never claimed
  });

  it('uses the next provider when the first is full, without counting a failure', async () => {
    const a = ok('a');
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b], { limits: { a: [{ limit: 1, windowSeconds: 60 }] } });
    await run(handler, queued('m1'), queued('m2'), queued('m3'));
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(2);
    expect([...messages.items.values()].every((r) => r.status === 'sent')).toBe(true);
    // Successes alone are written at most once per 10 s per process (cheap healthy traffic).
    expect(settings.health.get('a')).toBeUndefined();
    clock += 10_000;
    await run(handler, queued('m4'));
    expect((await settings.load(['b'])).health.b?.buckets).toEqual({
      [Math.floor(clock / 10_000)]: { attempts: 3, errors: 0 },
    });
    expect((await settings.load(['a'])).health.a?.buckets).toEqual({
      [Math.floor(clock / 10_000)]: { attempts: 1, errors: 0 },
    });
  });

  it('falls back to a visibility delay when the delayed copy cannot be queued', async () => {
    const { handler } = dispatcher([ok('a')], { limits: { a: [{ limit: 1, windowSeconds: 10 }] } });
    queue.failAll = true;
    const res = await run(handler, queued('m1'), queued('m2'));
    expect(res.batchItemFailures).toHaveLength(1);
    expect(visibility.delays).toHaveLength(1);
    // The next batch's answer is its own (Powertools shares the object of a batch without failures).
    queue.failAll = false;
    clock += 60_000;
    expect((await run(handler, queued('m3'))).batchItemFailures).toEqual([]);
    expect((await run(handler, queued('m4'))).batchItemFailures).toEqual([]);
  });

  it('never admits more than a limit in any window, across many batches', async () => {
    const a = ok('a');
    const windows = new MemoryRateWindows();
    const limits = { a: [{ limit: 5, windowSeconds: 2 }] };
    const { handler } = dispatcher([a], { limits, windows });
    const sendTimes: number[] = [];
    const orig = a.send.bind(a);
    a.send = async (e) => {
      sendTimes.push(clock);
      return orig(e);
    };
    for (let i = 0; i < 40; i++) {
      await run(handler, queued(`x${i}a`), queued(`x${i}b`), queued(`x${i}c`));
      clock += 250;
    }
    expect(maxInAnyInterval(sendTimes, 2000)).toBeLessThanOrEqual(5);
    // 10 s at 5 per 2 s is at most 25; the slotted limiter admits at least 20/21 of that.
    expect(sendTimes.length).toBeGreaterThanOrEqual(20);
  });
});

describe('capacity shares, the adaptive throttle and warm-up', () => {
  const bulk = (id: string) => world.queued(id, { priority: 'bulk' }, { at: clock });
  const statusOf = (id: string) => messages.items.get(id)?.status;

  it('lets bulk mail fill a window when no critical/transactional mail is around (no capacity wasted)', async () => {
    const a = ok('a');
    const { handler } = dispatcher([a], { limits: { a: [{ limit: 10, windowSeconds: 60 }] }, bulkReserve: 0.3 });
    await run(handler, ...Array.from({ length: 10 }, (_, i) => bulk(`b${i}`)));
    expect(a.calls).toHaveLength(10);
  });

  it('keeps the reserve from bulk mail once transactional mail is around; the rest waits, unclaimed', async () => {
    const a = ok('a');
    const { handler } = dispatcher([a], { limits: { a: [{ limit: 10, windowSeconds: 60 }] }, bulkReserve: 0.3 });
    await run(handler, queued('t1'));
    const bulks = Array.from({ length: 9 }, (_, i) => bulk(`b${i}`));
    const res = await run(handler, ...bulks);
    expect(res.batchItemFailures).toEqual([]);
    // Bulk leaves the reserve (3 of 10, t1 counting toward it): 7 bulk emails now, 2 wait (delayed, never claimed).
    expect(a.calls).toHaveLength(8);
    const waiting = bulks.filter((b) => statusOf(b.id) === 'queued');
    expect(waiting).toHaveLength(2);
    expect(waiting.every((b) => messages.items.get(b.id)?.attempts === 0)).toBe(true);
    expect(queue.sent.map((e) => JSON.parse(e.body).id).sort()).toEqual(waiting.map((b) => b.id).sort());
    // The rest of the reserve is there for transactional mail; the window stays exact.
    await run(handler, queued('t2'), queued('t3'), queued('t4'));
    expect(['t2', 't3', 't4'].map(statusOf)).toEqual(['sent', 'sent', 'queued']);
  });

  it('transactional mail refused for room waits in the function for a moment, bulk mail goes back to its queue', async () => {
    const a = ok('a');
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      clock += ms;
    };
    const { handler } = dispatcher([a], { limits: { a: [{ limit: 2, windowSeconds: 1 }] }, sleep });
    await run(handler, queued('t1'), queued('t2'));
    clock += 900;
    // The window has room again 100 ms or so later: t3 waits that long here instead of a second on the queue.
    await run(handler, queued('t3'));
    expect(statusOf('t3')).toBe('sent');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeLessThanOrEqual(200);
    expect(queue.sent).toHaveLength(0);
    // Bulk mail never waits in the function.
    clock += 10;
    await run(handler, bulk('b1'), bulk('b2'));
    expect(waits).toHaveLength(1);
    expect(queue.sent.map((e) => JSON.parse(e.body).id)).toEqual(['b1', 'b2']);
  });

  it('a mixed batch reserves per class: transactional mail first, bulk above the reserve', async () => {
    const a = ok('a');
    const { handler } = dispatcher([a], { limits: { a: [{ limit: 10, windowSeconds: 60 }] }, bulkReserve: 0.3 });
    const batch = [queued('t1'), ...Array.from({ length: 8 }, (_, i) => bulk(`b${i}`)), queued('t2')];
    await run(handler, ...batch);
    expect(['t1', 't2'].map(statusOf)).toEqual(['sent', 'sent']);
    const sentBulk = batch.filter((m) => m.id.startsWith('b') && statusOf(m.id) === 'sent');
    // Bulk leaves the reserve (3), which the 2 transactional emails count toward.
    expect(sentBulk.length).toBe(10 - 3);
  });

  it('a throttle without Retry-After halves the provider’s effective rate for every dispatcher, and fails over', async () => {
    const a = provider('a', (n) =>
      n === 1
        ? { kind: 'throttled', reason: 'Maximum sending rate exceeded' }
        : { kind: 'accepted', providerMessageId: `a-${n}` },
    );
    const b = ok('b');
    const windows = new MemoryRateWindows();
    const { handler } = dispatcher([a, b], { limits: { a: [{ limit: 10, windowSeconds: 1 }] }, windows });
    await run(handler, queued('m1'));
    expect(b.calls).toHaveLength(1);
    expect(statusOf('m1')).toBe('sent');
    expect(windows.throttles.get('a')).toEqual({ factor: 0.5, atMs: clock });
    // The next reservations count against 5 per second, not 10.
    clock += 2_000;
    await run(handler, ...Array.from({ length: 8 }, (_, i) => queued(`n${i}`)));
    expect(a.calls).toHaveLength(1 + 5);
    expect(b.calls).toHaveLength(1 + 3);
  });

  it('a throttle with a Retry-After leaves the effective rate alone (the provider said how long to wait)', async () => {
    const a = provider('a', () => ({ kind: 'throttled', reason: 'slow down', retryAfterSeconds: 2 }));
    const windows = new MemoryRateWindows();
    const { handler } = dispatcher([a, ok('b')], { limits: { a: [{ limit: 10, windowSeconds: 1 }] }, windows });
    await run(handler, queued('m1'));
    expect(windows.throttles.get('a')).toBeUndefined();
  });

  it('holds bulk mail to the warm-up ramp (deferred, not failed); transactional mail ignores it', async () => {
    const a = ok('a');
    const { handler } = dispatcher([a], {
      warmUp: { a: { startPerDay: 3, growth: 2, startDate: '2026-11-22' } },
    });
    const bulks = Array.from({ length: 5 }, (_, i) => bulk(`b${i}`));
    await run(handler, ...bulks);
    expect(bulks.map((b) => statusOf(b.id)).filter((s) => s === 'sent')).toHaveLength(3);
    expect(bulks.map((b) => statusOf(b.id)).filter((s) => s === 'queued')).toHaveLength(2);
    for (const e of queue.sent) expect(e.delaySeconds).toBeGreaterThan(0);
    await run(handler, queued('t1'), queued('t2'));
    expect(['t1', 't2'].map(statusOf)).toEqual(['sent', 'sent']);
    // The next day allows 6 in a rolling day (once the first day's admissions have left it: a slot is 72 min).
    clock += 86_400_000 + 2 * 72 * 60_000;
    const more = Array.from({ length: 8 }, (_, i) => bulk(`c${i}`));
    await run(handler, ...more);
    expect(more.filter((m) => statusOf(m.id) === 'sent')).toHaveLength(6);
  });
});

describe('ambiguous outcomes', () => {
  it('an idempotent provider: retried through the same provider only (pinned), then sent once', async () => {
    const a = provider('a', (n) =>
      n === 1 ? { kind: 'ambiguous', reason: 'timeout' } : { kind: 'accepted', providerMessageId: `a-${n}` },
    );
    const b = ok('b');
    const { handler } = dispatcher([a, b]);
    const q = queued('m1');
    const res = await handler(sqsEvent(sqsRecord(q, { messageId: 'x', receiveCount: 1 })), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'x' }]);
    expect(messages.items.get('m1')).toMatchObject({ status: 'queued', pin: 'a' });
    expect(messages.items.get('m1')?.events.at(-1)?.type).toBe('ambiguous');
    // The next receive: `a` is full of trouble no more; `b` is never tried for this message.
    await handler(sqsEvent(sqsRecord(q, { messageId: 'x', receiveCount: 2 })), lambdaContext());
    expect(b.calls).toHaveLength(0);
    expect(a.calls).toHaveLength(2);
    expect(messages.items.get('m1')).toMatchObject({ status: 'sent', provider: 'a' });
    expect(messages.items.get('m1')?.pin).toBeUndefined();
  });

  it('a message pinned to a provider an operator disabled waits; it goes nowhere else', async () => {
    const a = ok('a');
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b]);
    settings.live = {
      chain: ['b', 'a'],
      providers: { a: { enabled: false, limits: [] }, b: { enabled: true, limits: [] } },
      version: 1,
    };
    const res = await run(handler, queued('m1', 'a'));
    expect(res.batchItemFailures).toEqual([]);
    expect(a.calls.length + b.calls.length).toBe(0);
    expect(messages.items.get('m1')).toMatchObject({ status: 'queued', pin: 'a' });
    expect(queue.sent.map((e) => JSON.parse(e.body).id)).toEqual(['m1']);
  });

  it('a provider without idempotency (SES): never sent again, ends failed as ambiguous', async () => {
    const ses = provider('ses', () => ({ kind: 'ambiguous', reason: 'socket reset' }), false);
    const b = ok('b');
    const { handler } = dispatcher([ses, b]);
    const res = await run(handler, queued('m1'));
    expect(res.batchItemFailures).toEqual([]);
    expect(b.calls).toHaveLength(0);
    expect(messages.items.get('m1')).toMatchObject({ status: 'failed', reason: 'ambiguous: socket reset' });
  });
});

describe('circuits', () => {
  it('a broken provider opens its circuit at once: later messages skip it', async () => {
    const a = provider('a', () => ({ kind: 'broken', reason: '401' }));
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b]);
    await run(handler, queued('m1'));
    expect(settings.health.get('a')).toMatchObject({ state: 'open', reason: 'broken: 401' });
    await run(handler, queued('m2'), queued('m3'));
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(3);
  });

  it('opens on a high error rate, then after the cool-down one message probes and closes it', async () => {
    let healthy = false;
    const a = provider('a', (n) =>
      healthy ? { kind: 'accepted', providerMessageId: `a-${n}` } : { kind: 'down', reason: '503' },
    );
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b]);
    await run(handler, ...Array.from({ length: CIRCUIT.minAttempts }, (_, i) => queued(`e${i}`)));
    expect(settings.health.get('a')?.state).toBe('open');
    // The rate that opened it, and the cause: what the provider last answered.
    expect(settings.health.get('a')?.reason).toBe('error rate 100% (5 of 5 in 5 min); last error: down: 503');
    const before = a.calls.length;
    await run(handler, queued('skip1'), queued('skip2'));
    expect(a.calls.length).toBe(before); // open: skipped

    clock += CIRCUIT.coolDownSeconds * 1000 + 1;
    healthy = true;
    await run(handler, queued('p1'), queued('p2'), queued('p3'));
    expect(a.calls.length).toBe(before + 1); // exactly one probe
    expect(settings.health.get('a')?.state).toBe('closed');
    await run(handler, queued('n1'), queued('n2'));
    expect(a.calls.length).toBe(before + 3);
  });

  it('a failed probe opens the circuit again', async () => {
    const a = provider('a', () => ({ kind: 'down', reason: '503' }));
    const { handler, settings } = dispatcher([a, ok('b')]);
    settings.health.set('a', { state: 'open', untilMs: clock - 1, reason: 'x', buckets: {} });
    await run(handler, queued('p1'), queued('p2'));
    expect(a.calls).toHaveLength(1);
    expect(settings.health.get('a')).toMatchObject({ state: 'open' });
    expect(settings.health.get('a')?.untilMs).toBeGreaterThan(clock);
  });

  it('follows injected circuit timings: a short cool-down, then a probe whose batch-mates look again soon', async () => {
    let healthy = false;
    const a = provider('a', (n) =>
      healthy ? { kind: 'accepted', providerMessageId: `a-${n}` } : { kind: 'broken', reason: '401' },
    );
    const { handler, settings } = dispatcher([a], { circuit: { coolDownSeconds: 2, probeRecheckSeconds: 1 } });
    await run(handler, queued('m1'));
    expect(settings.health.get('a')).toMatchObject({ state: 'open', untilMs: clock + 2_000 });
    // Open: the next message waits for the injected cool-down, not the default one.
    await run(handler, queued('m2'));
    expect(queue.sent.at(-1)?.delaySeconds).toBe(2);

    clock += 2_000;
    healthy = true;
    await run(handler, queued('p1'), queued('p2'));
    expect(a.calls).toHaveLength(2); // m1, then exactly one probe
    expect(settings.health.get('a')?.state).toBe('closed');
    // The other message of the probe's batch looks again after the injected re-check.
    expect(queue.sent.at(-1)?.delaySeconds).toBe(1);
  });

  it('with every circuit open, messages wait (not failed) until the first cool-down ends', async () => {
    const { handler, settings } = dispatcher([ok('a'), ok('b')]);
    settings.health.set('a', { state: 'open', untilMs: clock + 20_000, buckets: {} });
    settings.health.set('b', { state: 'open', untilMs: clock + 50_000, buckets: {} });
    await run(handler, queued('m1'));
    expect(messages.items.get('m1')?.status).toBe('queued');
    expect(queue.sent[0]?.delaySeconds).toBe(20);
  });
});

/**
 * A provider picked for a message that then does not go to it (the message is pinned to another
 * provider, or its claim was lost to a duplicate delivery) gives the pick back: a probe it won does
 * not hold that provider's circuit half-open for the probe's whole lease, and capacity it took
 * returns to the batch.
 */
describe('a pick no send used', () => {
  it('a message pinned elsewhere does not leave the first provider half-open', async () => {
    const a = ok('a');
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b]);
    // a's cool-down is over (due for a probe); m1 is pinned to b after an ambiguous send there.
    settings.health.set('a', { state: 'open', untilMs: clock - 1, reason: 'down: 503', buckets: {} });
    await run(handler, queued('m1', 'b'));
    expect(messages.items.get('m1')).toMatchObject({ status: 'sent', provider: 'b' });
    expect(a.calls).toHaveLength(0);
    // The probe m1 won at a was given up: the next message may probe a at once. Quietly: the
    // circuit did not open again.
    expect(settings.health.get('a')).toMatchObject({ state: 'open', untilMs: clock });
    expect(warnings.map((w) => w.message)).not.toContain('provider circuit opened');
    await run(handler, queued('m2'));
    expect(a.calls).toHaveLength(1);
    expect(settings.health.get('a')?.state).toBe('closed');
  });

  it('a probe handed back is used by another message of the same batch', async () => {
    const a = ok('a');
    const b = ok('b');
    const { handler, settings } = dispatcher([a, b]);
    settings.health.set('a', { state: 'open', untilMs: clock - 1, reason: 'down: 503', buckets: {} });
    await run(handler, queued('m1', 'b'), queued('m2'));
    expect(messages.items.get('m1')).toMatchObject({ status: 'sent', provider: 'b' });
    expect(messages.items.get('m2')).toMatchObject({ status: 'sent' });
    expect(a.calls.length + b.calls.length).toBe(2);
    expect(['closed', 'open']).toContain(settings.health.get('a')?.state);
    expect(settings.health.get('a')?.state).not.toBe('half-open');
  });

  it('a duplicate delivery whose claim is lost gives its probe back', async () => {
    const a = ok('a');
    const { handler, settings } = dispatcher([a, ok('b')]);
    const q = queued('m1');
    const done = messages.items.get('m1');
    if (!done) throw new Error('no record');
    messages.items.set('m1', { ...done, status: 'sent', provider: 'b' });
    settings.health.set('a', { state: 'open', untilMs: clock - 1, reason: 'down: 503', buckets: {} });
    await run(handler, q);
    expect(a.calls).toHaveLength(0);
    expect(settings.health.get('a')).toMatchObject({ state: 'open', untilMs: clock });
  });

  it('capacity taken for a message pinned elsewhere goes back to the batch', async () => {
    const a = ok('a');
    const b = ok('b');
    const { handler } = dispatcher([a, b], { limits: { a: [{ limit: 2, windowSeconds: 60 }] } });
    // One batch: m1 (pinned to b) and two for a; a's window holds 2, and all of it is used by sends.
    await run(handler, queued('m1', 'b'), queued('m2'), queued('m3'));
    expect(messages.items.get('m1')).toMatchObject({ status: 'sent', provider: 'b' });
    expect(a.calls.map((e) => e.id).sort()).toEqual(['m2', 'm3']);
  });
});
