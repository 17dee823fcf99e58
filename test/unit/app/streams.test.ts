/**
 * The reputation guard's use cases with in-memory stores: the dispatcher holds a paused stream's
 * mail and counts sends per priority, SES events count hard bounces and complaints and pause a
 * stream, and the streams API shows and resumes streams.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createHttpHandler } from '../../../functions/app/http';
import { logger, metrics, newMetrics } from '../../../functions/app/observability';
import { createSesEventsHandler } from '../../../functions/app/ses-events';
import { streamRoutes } from '../../../functions/app/stream-settings';
import { recordFeedback, streamGate } from '../../../functions/app/streams';
import { DEFAULTS } from '../../../functions/core/defaults';
import type { Priority } from '../../../functions/core/priority';
import { hourBucket } from '../../../functions/core/reputation';
import { initialStream } from '../../../functions/core/stream';
import { DispatchWorld, dispatcher, NOW, run } from '../../support/dispatch';
import { httpEvent, lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryKeys, MemoryReputationStore, MemorySuppression, ScriptedProvider } from '../../support/fakes';
import { sesFixture } from '../../support/fixtures';
import { record } from '../../support/records';

const settings = { ...DEFAULTS.guard, minVolume: 10 };

async function pause(store: MemoryReputationStore, priority: Priority) {
  const at = new Date(NOW).toISOString();
  const s = initialStream(priority);
  await store.saveStream({ ...s, state: 'paused', version: 1, since: at, timeline: [{ type: 'paused', at }] }, 0);
}

const gate = (store: MemoryReputationStore, cacheMs = 0, now = () => NOW) =>
  streamGate({ store, cacheMs, waitSeconds: 120, now, logger });

describe('the dispatcher with the guard', () => {
  let world: DispatchWorld;
  let store: MemoryReputationStore;
  let ses: ScriptedProvider;
  beforeEach(() => {
    world = new DispatchWorld();
    store = new MemoryReputationStore();
    ses = new ScriptedProvider();
  });

  it('holds mail of a paused stream on its queue (no claim, no receive used) while the others are sent', async () => {
    await pause(store, 'bulk');
    const { handler } = dispatcher(world, ses, { streams: gate(store) });
    const news = world.queued('n1', { category: 'newsletter' });
    const reset = world.queued('r1', { category: 'transactional' });
    const out = await run(handler, news, reset);
    expect(out.batchItemFailures).toEqual([]);
    expect(ses.calls.map((c) => c.id)).toEqual(['r1']);
    expect(world.messages.items.get('r1')?.status).toBe('sent');
    // Not failed, not dropped: still queued, back on its queue as a delayed copy.
    expect(world.messages.items.get('n1')?.status).toBe('queued');
    expect(world.queue.sent).toEqual([expect.objectContaining({ delaySeconds: 120 })]);
    expect(JSON.parse(world.queue.sent[0]?.body ?? '{}').id).toBe('n1');
    expect(world.visibility.delays).toEqual([]);
  });

  it('sends a paused priority again once it is resumed', async () => {
    await pause(store, 'bulk');
    const { handler } = dispatcher(world, ses, { streams: gate(store) });
    const news = world.queued('n1', { category: 'newsletter' });
    await run(handler, news);
    expect(ses.calls).toEqual([]);
    store.stored.set('bulk', { ...initialStream('bulk'), version: 2 });
    await run(handler, news);
    expect(ses.calls.map((c) => c.id)).toEqual(['n1']);
  });

  it('counts the recipients sent to, per priority, with one write per priority per batch, never the simulator', async () => {
    const { handler } = dispatcher(world, ses, { streams: gate(store) });
    const emails = [
      world.queued('b1', { priority: 'bulk', to: ['a@example.org', 'b@example.org'] }),
      world.queued('b2', { category: 'newsletter', to: 'bounce@simulator.amazonses.com' }),
      world.queued('b3', { priority: 'bulk', to: 'c@example.org', cc: 'success@simulator.amazonses.com' }),
      world.queued('t1', { category: 'transactional' }),
      world.queued('c1', { category: 'transactional', priority: 'critical' }),
    ];
    await run(handler, ...emails);
    expect(store.adds).toBe(3);
    const bucket = hourBucket(NOW);
    expect((await store.counts('bulk', [bucket])).get(bucket)).toEqual({ sends: 3, bounces: 0, complaints: 0 });
    expect((await store.counts('transactional', [bucket])).get(bucket)?.sends).toBe(1);
    expect((await store.counts('critical', [bucket])).get(bucket)?.sends).toBe(1);
  });

  it('counts nothing that was not sent (held, refused by every provider)', async () => {
    await pause(store, 'bulk');
    const refusing = new ScriptedProvider(() => ({ kind: 'rejected', reason: 'bad content' }));
    const { handler } = dispatcher(world, refusing, { streams: gate(store) });
    await run(handler, world.queued('n1', { category: 'newsletter' }), world.queued('t1'));
    expect(store.adds).toBe(0);
  });

  it('reads the streams once per cache time, not per email or batch', async () => {
    let reads = 0;
    const counting = Object.assign(store, {
      streams: ((orig) => async () => {
        reads++;
        return orig();
      })(store.streams.bind(store)),
    });
    let now = NOW;
    const { handler } = dispatcher(world, ses, { streams: gate(counting, 10_000, () => now) });
    await run(handler, world.queued('t1'), world.queued('t2'));
    await run(handler, world.queued('t3'));
    expect(reads).toBe(1);
    now += 10_000;
    await run(handler, world.queued('t4'));
    expect(reads).toBe(2);
  });
});

describe('SES events with the guard', () => {
  let store: MemoryReputationStore;
  let messages: ReturnType<typeof world>['messages'];
  const world = () => new DispatchWorld();
  const handlerFor = (now = NOW) =>
    createSesEventsHandler({
      messages,
      suppression: new MemorySuppression(),
      softBounce: { limit: 3, windowHours: 72 },
      guard: { store, settings },
      now: () => now,
      streamMetrics: newMetrics,
    });
  const sentMessage = (id: string, category: string) => {
    const r = record(id, { category });
    r.status = 'sent';
    messages.items.set(id, r);
  };
  /** A hard bounce of `id` to `to`, as SES publishes it. */
  const bounce = (id: string, n: number, to = 'user@example.org') => {
    const b = sesFixture('event-bounce-permanent.json', id) as {
      bounce: { feedbackId: string; bouncedRecipients: unknown[] };
    };
    b.bounce.feedbackId = `fb-${id}-${n}`;
    b.bounce.bouncedRecipients = [{ emailAddress: to, action: 'failed', status: '5.1.1' }];
    return b;
  };
  const deliver = (now: number, ...bodies: unknown[]) =>
    handlerFor(now)(sqsEvent(...bodies.map((b, i) => sqsRecord(b, { messageId: `sqs-${i}` }))), lambdaContext());

  beforeEach(() => {
    store = new MemoryReputationStore();
    messages = world().messages;
  });

  it('counts a hard bounce once against its email’s priority, however often SES delivers it', async () => {
    sentMessage('n1', 'newsletter');
    for (let i = 0; i < 3; i++) await deliver(NOW, bounce('n1', 1));
    const bucket = hourBucket(NOW);
    expect((await store.counts('bulk', [bucket])).get(bucket)).toEqual({ sends: 0, bounces: 1, complaints: 0 });
    expect(await store.counts('transactional', [bucket])).toEqual(new Map());
  });

  it('never counts the simulator, a soft bounce or a not-spam report', async () => {
    sentMessage('n1', 'newsletter');
    await deliver(NOW, bounce('n1', 1, 'bounce@simulator.amazonses.com'));
    const soft = sesFixture('event-bounce-transient.json', 'n1');
    const notSpam = sesFixture('event-complaint-not-spam.json', 'n1');
    await deliver(NOW, soft, notSpam);
    expect(store.adds).toBe(0);
  });

  it('pauses the bulk stream when its bounce rate crosses the pause line, and only that stream', async () => {
    const bucket = hourBucket(NOW);
    await store.add('bulk', bucket, { sends: 20 }, 0);
    await store.add('transactional', bucket, { sends: 20 }, 0);
    sentMessage('t1', 'transactional');
    for (let i = 0; i < 4; i++) sentMessage(`n${i}`, 'newsletter');
    // One transactional bounce in 20 (5 %): a warning for that stream only.
    await deliver(NOW, bounce('t1', 1));
    // A bulk bounce in 20 (5 %) warns; a second (10 %) pauses.
    await deliver(NOW, bounce('n0', 1));
    expect((await store.streams()).bulk).toMatchObject({ state: 'active', warned: true });
    await deliver(NOW, bounce('n1', 1));
    const streams = await store.streams();
    expect(streams.bulk.state).toBe('paused');
    expect(streams.bulk.timeline.map((e) => e.type)).toEqual(['warned', 'paused']);
    expect(streams.transactional).toMatchObject({ state: 'active', warned: true });
    expect(streams.critical.version).toBe(0);
  });

  it('decides nothing below the minimum volume', async () => {
    await store.add('bulk', hourBucket(NOW), { sends: 5 }, 0);
    sentMessage('n1', 'newsletter');
    await deliver(NOW, bounce('n1', 1));
    expect((await store.streams()).bulk.version).toBe(0);
  });

  it('pauses once when two functions judge at the same time', async () => {
    const bucket = hourBucket(NOW);
    await store.add('bulk', bucket, { sends: 10 }, 0);
    const deps = { store, settings, now: () => NOW, logger, metrics: newMetrics };
    const results = await Promise.all([
      recordFeedback(deps, 'bulk', { bounces: 1, complaints: 0 }),
      recordFeedback(deps, 'bulk', { bounces: 1, complaints: 0 }),
    ]);
    expect(results.filter((e) => e?.type === 'paused')).toHaveLength(1);
    const bulk = (await store.streams()).bulk;
    expect(bulk.timeline.filter((e) => e.type === 'paused')).toHaveLength(1);
    expect(bulk.state).toBe('paused');
  });
});

describe('the streams API', () => {
  const ADMIN = 'mr_admin_key_0123456789';
  const SENDER = 'mr_send_key_0123456789';
  let store: MemoryReputationStore;
  let handler: ReturnType<typeof createHttpHandler>;

  beforeEach(async () => {
    store = new MemoryReputationStore();
    const keys = new MemoryKeys();
    const key = { createdAt: '', senderDomains: ['*'], ratePerSecond: 100 };
    await keys.put(hashKey(ADMIN), { ...key, name: 'ops', scopes: ['read', 'admin'] });
    await keys.put(hashKey(SENDER), { ...key, name: 'app', scopes: ['send', 'read'] });
    handler = createHttpHandler(
      streamRoutes({ store, settings, cacheMs: 30_000, now: () => NOW, logger, metrics: newMetrics }),
      { auth: new Authenticator(keys), logger, metrics },
    );
  });

  async function call(routeKey: string, path: Record<string, string> = {}, key = ADMIN) {
    const event = httpEvent(routeKey, { headers: { authorization: `Bearer ${key}` }, path });
    const res = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  }
  const resume = (priority: string, key = ADMIN) =>
    call('POST /v1/settings/streams/{priority}/resume', { priority }, key);

  it('shows every stream with its state, rates, the thresholds and its timeline', async () => {
    await store.add('bulk', hourBucket(NOW), { sends: 200, bounces: 20, complaints: 1 }, 0);
    await pause(store, 'bulk');
    const res = await call('GET /v1/settings/streams');
    expect(res.status).toBe(200);
    expect(res.body.thresholds).toEqual({
      windowHours: 24,
      minVolume: 10,
      bounceRatePercent: { warn: 4, pause: 8 },
      complaintRatePercent: { warn: 0.08, pause: 0.3 },
    });
    expect(res.body.streams.map((s: { priority: string }) => s.priority)).toEqual([
      'critical',
      'transactional',
      'bulk',
    ]);
    expect(res.body.streams[2]).toMatchObject({
      priority: 'bulk',
      state: 'paused',
      rates: {
        sends: 200,
        bounces: 20,
        complaints: 1,
        bounceRatePercent: 10,
        complaintRatePercent: 0.5,
        level: 'pause',
      },
      timeline: [{ type: 'paused' }],
    });
    expect(res.body.streams[0]).toMatchObject({ state: 'active', since: null, timeline: [] });
  });

  it('resumes a paused stream with one write, counting afresh from then on', async () => {
    await store.add('bulk', hourBucket(NOW), { sends: 200, bounces: 20 }, 0);
    await pause(store, 'bulk');
    const res = await resume('bulk');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      priority: 'bulk',
      state: 'active',
      rates: { sends: 0, bounces: 0, countingSince: new Date(NOW).toISOString() },
      timeline: [{ type: 'resumed', detail: { by: 'ops' } }, { type: 'paused' }],
    });
    expect((await store.streams()).bulk).toMatchObject({ state: 'active', version: 2 });
  });

  it('answers 409 with the state for a stream that is not paused, and changes nothing', async () => {
    const res = await resume('transactional');
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', details: [{ path: 'state', message: 'active' }] });
    expect(res.body.error.message).toContain('transactional stream is not paused');
    expect(store.stored.size).toBe(0);
    await pause(store, 'bulk');
    expect((await resume('bulk')).status).toBe(200);
    expect((await resume('bulk')).status).toBe(409);
  });

  it('answers 404 naming an unknown stream, and 403 to a key without the admin scope', async () => {
    const res = await resume('newsletters');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('"newsletters"');
    expect(res.body.error.message).toContain('"bulk"');
    expect((await call('GET /v1/settings/streams', {}, SENDER)).status).toBe(403);
    await pause(store, 'bulk');
    expect((await resume('bulk', SENDER)).status).toBe(403);
    expect((await store.streams()).bulk.state).toBe('paused');
  });
});
