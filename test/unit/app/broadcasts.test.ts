import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FanoutOutcome } from '../../../functions/app/broadcast-fanout';
import { createFanout } from '../../../functions/app/broadcast-fanout';
import { type BroadcastState, broadcastEmailId, type FanoutJob } from '../../../functions/core/broadcast';
import { DomainError } from '../../../functions/core/errors';
import { apiRequest, broadcastWorld, contactId } from '../../support/broadcast-world';

const rejects = async (p: Promise<unknown>, code: string) => {
  const error = await p.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
};

/** The message records of a broadcast, by contact. */
function recipients(w: Awaited<ReturnType<typeof broadcastWorld>>, broadcastId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of w.messages.items.values()) {
    if (r.tags.broadcast !== broadcastId) continue;
    for (const to of r.to) out.set(to, (out.get(to) ?? 0) + 1);
  }
  return out;
}

const address = (i: number) => `person${i}@example.org`;

describe('broadcast API: lifecycle', () => {
  it('creates a draft as the calling key, and refuses a list or template that does not exist', async () => {
    const w = await broadcastWorld({ contacts: 1 });
    const id = await w.create();
    const b = await w.broadcasts.get(id);
    expect(b?.state).toBe('draft');
    expect(b?.sender).toEqual({ keyName: 'ops', keyHash: 'hash-of-ops', senderDomains: ['acme.example'] });
    const bad = await rejects(
      w.api['POST /v1/broadcasts'].handle(
        apiRequest({}, { listId: 'nope', template: { slug: 'missing' }, from: 'news@acme.example' }),
      ),
      'validation_failed',
    );
    expect(bad.details?.map((d) => d.path)).toEqual(['listId', 'template.slug']);
    await rejects(
      w.api['POST /v1/broadcasts'].handle(
        apiRequest({}, { listId: 'subscribers', template: { slug: 'news' }, from: 'news@other.example' }),
      ),
      'forbidden',
    );
  });

  it('edits a draft only; a broadcast that left draft is frozen (409 naming its state)', async () => {
    const w = await broadcastWorld({ contacts: 1 });
    const id = await w.create();
    const edited = await w.api['PATCH /v1/broadcasts/{id}'].handle(apiRequest({ id }, { name: 'Spring', pace: 5 }));
    expect(edited.body).toMatchObject({ name: 'Spring', pace: 5, state: 'draft' });
    const cleared = await w.api['PATCH /v1/broadcasts/{id}'].handle(apiRequest({ id }, { pace: null }));
    expect(cleared.body).toMatchObject({ pace: null });
    await w.act(id, 'send');
    const e = await rejects(w.api['PATCH /v1/broadcasts/{id}'].handle(apiRequest({ id }, { name: 'x' })), 'conflict');
    expect(e.message).toBe('The broadcast is sending; only a draft can be edited.');
    expect(e.details).toEqual([{ path: 'state', message: 'sending' }]);
  });

  it('refuses every illegal action in every state with a 409 naming the state', async () => {
    const actions = ['schedule', 'send', 'pause', 'resume', 'cancel'] as const;
    const legal: Record<(typeof actions)[number], BroadcastState[]> = {
      schedule: ['draft'],
      send: ['draft', 'scheduled'],
      pause: ['sending'],
      resume: ['paused'],
      cancel: ['draft', 'scheduled', 'sending', 'paused'],
    };
    // How to bring a fresh draft into each state through the API (and the fan-out for sent).
    const into: Record<BroadcastState, (w: Awaited<ReturnType<typeof broadcastWorld>>, id: string) => Promise<void>> = {
      draft: async () => undefined,
      scheduled: async (w, id) => {
        await w.act(id, 'schedule', { scheduledAt: '2026-11-29T12:05:00Z' });
      },
      sending: async (w, id) => {
        await w.act(id, 'send');
      },
      paused: async (w, id) => {
        await w.act(id, 'send');
        await w.act(id, 'pause');
      },
      sent: async (w, id) => {
        await w.act(id, 'send');
        await w.drain();
      },
      canceled: async (w, id) => {
        await w.act(id, 'cancel');
      },
    };
    for (const state of Object.keys(into) as BroadcastState[])
      for (const action of actions) {
        const w = await broadcastWorld({ contacts: 2 });
        const id = await w.create();
        await into[state](w, id);
        expect((await w.broadcasts.get(id))?.state).toBe(state);
        const body = action === 'schedule' ? { scheduledAt: '2026-11-29T12:05:00Z' } : undefined;
        if (legal[action].includes(state)) {
          const out = await w.act(id, action, body);
          expect(out.status, `${action} in ${state}`).toBe(200);
        } else {
          const e = await rejects(w.act(id, action, body), 'conflict');
          expect(e.message, `${action} in ${state}`).toMatch(new RegExp(`^The broadcast is ${state};`));
          expect(e.details).toEqual([{ path: 'state', message: state }]);
          expect((await w.broadcasts.get(id))?.state).toBe(state);
        }
      }
  });

  it('schedule needs a time: from the body or the draft, not in the past', async () => {
    const w = await broadcastWorld({ contacts: 1 });
    const id = await w.create();
    await rejects(w.act(id, 'schedule'), 'validation_failed');
    await rejects(w.act(id, 'schedule', { scheduledAt: '2026-11-29T11:00:00Z' }), 'validation_failed');
    // Beyond 15 minutes, without a Scheduler in this deployment: refused, nothing changed.
    await rejects(w.act(id, 'schedule', { scheduledAt: '2026-11-29T13:00:00Z' }), 'validation_failed');
    expect((await w.broadcasts.get(id))?.state).toBe('draft');
    await w.api['PATCH /v1/broadcasts/{id}'].handle(apiRequest({ id }, { scheduledAt: '2026-11-29T12:10:00Z' }));
    const out = await w.act(id, 'schedule');
    expect(out.body).toMatchObject({ state: 'scheduled', scheduledAt: '2026-11-29T12:10:00.000Z' });
    expect(w.jobs.sent.at(-1)?.delaySeconds).toBe(600);
  });

  it('a schedule beyond 15 minutes is a one-time schedule targeting the jobs queue', async () => {
    const w = await broadcastWorld({ contacts: 1 });
    const created: { name: string; expression: string; queueArn: string; body: string }[] = [];
    const { broadcastRoutes } = await import('../../../functions/app/broadcasts');
    const api = broadcastRoutes({
      store: w.broadcasts,
      contacts: w.contacts,
      templates: w.templates,
      jobs: w.jobs,
      scheduling: {
        jobsQueueArn: 'arn:aws:sqs:us-east-1:1:jobs',
        scheduler: {
          create: async (r) => {
            created.push(r);
          },
          update: async () => true,
          delete: async () => true,
        },
      },
      now: () => new Date(w.now()),
      logger: (await import('../../../functions/app/observability')).logger,
    });
    const id = await w.create();
    await api['POST /v1/broadcasts/{id}/schedule'].handle(
      apiRequest({ id }, { scheduledAt: '2026-11-30T09:00:00+01:00' }),
    );
    expect(created).toEqual([
      {
        name: `b-${id}`,
        expression: 'at(2026-11-30T08:00:00)',
        queueArn: 'arn:aws:sqs:us-east-1:1:jobs',
        body: JSON.stringify({ kind: 'fanout', broadcastId: id, run: 1, page: 0 }),
      },
    ]);
  });
});

describe('broadcast fan-out', () => {
  it('sends each consenting contact one email; counts no consent and unrenderable values as skipped; ends sent', async () => {
    const w = await broadcastWorld({
      contacts: 10,
      consents: (i) => i % 3 !== 0,
      unrenderable: (i) => i === 4,
    });
    const id = await w.create({ tags: { campaign: 'spring' }, cooldown: { key: 'news', hours: 24 } });
    await w.act(id, 'send');
    await w.drain();
    const b = await w.broadcasts.get(id);
    expect(b?.state).toBe('sent');
    // 0, 3, 6, 9 have no consent; 4 cannot render.
    expect(b?.fanout).toEqual({ targeted: 5, noConsent: 4, render: 1 });
    const got = recipients(w, id);
    expect([...got.keys()].sort()).toEqual([1, 2, 5, 7, 8].map(address).sort());
    expect([...got.values()].every((n) => n === 1)).toBe(true);
    const record = await w.messages.get(broadcastEmailId(id, contactId(1)));
    expect(record).toMatchObject({
      status: 'queued',
      priority: 'bulk',
      category: 'marketing',
      subject: 'News for P1',
      apiKey: 'ops',
      tags: { campaign: 'spring', broadcast: id },
      template: { slug: 'news', version: 1 },
    });
    // The template version is pinned when the first page renders.
    expect(b?.templateVersion).toBe(1);
    // Each email carries the broadcast's cooldown to the dispatcher.
    const queued = w.bulk.sent.find((e) => e.id === broadcastEmailId(id, contactId(1)));
    expect(queued?.body).toContain('"subject":"News for P1"');
  });

  it('keeps the pinned version when a newer one is activated mid-broadcast', async () => {
    const w = await broadcastWorld({ contacts: 6, pageSize: 3 });
    const id = await w.create();
    await w.act(id, 'send');
    const first = w.nextJob();
    if (!first) throw new Error('no job');
    await w.fanout(first);
    await w.templates.publish(
      'news',
      1,
      {
        name: 'News',
        kind: 'template',
        subject: 'v2 {{ first_name }}',
        text: 'x',
        variables: [{ name: 'first_name', type: 'string' }],
      },
      'now',
    );
    await w.templates.activate('news', { activeVersion: 2 }, { activeVersion: 1, canaryVersion: 0 }, 'now');
    await w.drain();
    for (const r of w.messages.items.values()) expect(r.template).toEqual({ slug: 'news', version: 1 });
  });

  it("pause stops at the next page; resume goes on from the checkpoint; the old run's job does nothing", async () => {
    const w = await broadcastWorld({ contacts: 9, pageSize: 3 });
    const id = await w.create();
    await w.act(id, 'send');
    const page0 = w.nextJob();
    if (!page0) throw new Error('no job');
    expect(await w.fanout(page0)).toMatchObject({ kind: 'page' });
    await w.act(id, 'pause');
    const page1 = w.nextJob() as FanoutJob;
    expect(page1).toEqual({ kind: 'fanout', broadcastId: id, run: 1, page: 1 });
    expect(await w.fanout(page1)).toEqual({ kind: 'stale' });
    expect(recipients(w, id).size).toBe(3);
    await w.act(id, 'resume');
    // The run-1 job delivered again after the resume: another run, nothing done.
    expect(await w.fanout(page1)).toEqual({ kind: 'stale' });
    const outcomes = await w.drain();
    expect(outcomes.map((o) => o.kind)).toEqual(['page', 'finished']);
    const b = await w.broadcasts.get(id);
    expect(b).toMatchObject({ state: 'sent', run: 2, fanout: { targeted: 9, noConsent: 0, render: 0 } });
    expect([...recipients(w, id).values()]).toEqual(Array(9).fill(1));
  });

  it('a page done while a pause lands is checkpointed: resume does not redo it', async () => {
    const w = await broadcastWorld({ contacts: 6, pageSize: 3 });
    const id = await w.create();
    await w.act(id, 'send');
    const job = w.nextJob() as FanoutJob;
    // The pause lands while the page's emails are being accepted.
    const accept = w.deps.accept;
    const fanout = createFanout({
      ...w.deps,
      accept: async (...args) => {
        const out = await accept(...args);
        await w.act(id, 'pause');
        return out;
      },
    });
    expect(await fanout(job)).toMatchObject({ kind: 'page' });
    expect(await w.broadcasts.get(id)).toMatchObject({ state: 'paused', page: 1, fanout: { targeted: 3 } });
    expect(w.nextJob()).toBeUndefined();
    await w.act(id, 'resume');
    await w.drain();
    expect(await w.broadcasts.get(id)).toMatchObject({ state: 'sent', fanout: { targeted: 6 } });
  });

  it("a run's first job that comes before the write starting the run waits for it; one whose write never came gives up", async () => {
    const w = await broadcastWorld({ contacts: 2 });
    const id = await w.create();
    const early = { kind: 'fanout', broadcastId: id, run: 1, page: 0 } as const;
    expect(await w.fanout(early)).toEqual({ kind: 'early', seconds: 1 });
    expect(w.nextJob()).toEqual({ ...early, waits: 1 });
    await w.broadcasts.transition(id, 'send', 'now', { run: 0 });
    expect(await w.fanout({ ...early, waits: 1 })).toMatchObject({ kind: 'finished' });
    expect(recipients(w, id).size).toBe(2);
    const other = await w.create();
    expect(await w.fanout({ ...early, broadcastId: other, waits: 10 })).toEqual({ kind: 'stale' });
  });

  it("a contact whose email fails only the accept's own render (a time limit under load) is left out; the page goes on", async () => {
    const w = await broadcastWorld({ contacts: 3, pageSize: 3 });
    const id = await w.create();
    await w.act(id, 'send');
    let failed = false;
    const fanout = createFanout({
      ...w.deps,
      accept: async (caller, emails, options) => {
        if (!failed) {
          failed = true;
          throw new DomainError('validation_failed', 'not rendered', [
            { path: 'emails.1.template.html', message: 'template render limit exceeded' },
          ]);
        }
        return w.deps.accept(caller, emails, options);
      },
    });
    expect(await fanout(w.nextJob() as FanoutJob)).toMatchObject({
      kind: 'finished',
    });
    expect(await w.broadcasts.get(id)).toMatchObject({ state: 'sent', fanout: { targeted: 2, render: 1 } });
    expect(recipients(w, id).size).toBe(2);
  });

  it('cancel stops the fan-out at its next page', async () => {
    const w = await broadcastWorld({ contacts: 9, pageSize: 3 });
    const id = await w.create();
    await w.act(id, 'send');
    await w.fanout(w.nextJob() as FanoutJob);
    await w.act(id, 'cancel');
    await w.drain();
    expect(await w.broadcasts.get(id)).toMatchObject({ state: 'canceled', fanout: { targeted: 3 } });
    expect(recipients(w, id).size).toBe(3);
  });

  it('a scheduled broadcast starts when its job comes at its time; an early job waits again', async () => {
    const w = await broadcastWorld({ contacts: 4, pageSize: 3 });
    const id = await w.create();
    await w.act(id, 'schedule', { scheduledAt: '2026-11-29T12:05:00Z' });
    const job = w.nextJob() as FanoutJob;
    expect(await w.fanout(job)).toEqual({ kind: 'early', seconds: 300 });
    w.advance(300_000);
    await w.drain();
    expect(await w.broadcasts.get(id)).toMatchObject({ state: 'sent', fanout: { targeted: 4 } });
  });

  it("send now of a scheduled broadcast: its schedule's job finds another run and does nothing", async () => {
    const w = await broadcastWorld({ contacts: 2 });
    const id = await w.create();
    await w.act(id, 'schedule', { scheduledAt: '2026-11-29T12:05:00Z' });
    const scheduledJob = w.nextJob() as FanoutJob;
    await w.act(id, 'send');
    await w.drain();
    w.advance(300_000);
    expect(await w.fanout(scheduledJob)).toEqual({ kind: 'stale' });
    expect([...recipients(w, id).values()]).toEqual([1, 1]);
  });

  it('crashes anywhere (after the records, after the accept, after the checkpoint, at the next job) send no contact twice and skip none', async () => {
    type Point = 'records' | 'accept' | 'checkpoint' | 'next-job';
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.constantFrom<Point>('records', 'accept', 'checkpoint', 'next-job'),
            call: fc.integer({ min: 1, max: 6 }),
          }),
          {
            maxLength: 6,
          },
        ),
        fc.integer({ min: 1, max: 5 }),
        async (crashes, pageSize) => {
          const w = await broadcastWorld({ contacts: 11, pageSize, consents: (i) => i !== 7 });
          const id = await w.create();
          await w.act(id, 'send');
          const calls: Record<Point, number> = { records: 0, accept: 0, checkpoint: 0, 'next-job': 0 };
          const crashAt = (p: Point) => {
            calls[p]++;
            if (crashes.some((c) => c.at === p && c.call === calls[p])) throw new Error(`crash at ${p}`);
          };
          // The process dies right after each of these writes (or, for the next job, before it is queued).
          const createNew = w.messages.createNew.bind(w.messages);
          w.messages.createNew = async (records) => {
            const out = await createNew(records);
            crashAt('records');
            return out;
          };
          const checkpoint = w.broadcasts.checkpoint.bind(w.broadcasts);
          w.broadcasts.checkpoint = async (...args) => {
            const out = await checkpoint(...args);
            crashAt('checkpoint');
            return out;
          };
          const send = w.jobs.send.bind(w.jobs);
          const fanout = createFanout({
            ...w.deps,
            accept: async (...args) => {
              const out = await w.deps.accept(...args);
              crashAt('accept');
              return out;
            },
            jobs: {
              send: async (entries) => {
                crashAt('next-job');
                return send(entries);
              },
            },
          });
          const outcomes: FanoutOutcome[] = await w.drain(1000, fanout);
          const b = await w.broadcasts.get(id);
          expect(b?.state).toBe('sent');
          expect(b?.fanout).toEqual({ targeted: 10, noConsent: 1, render: 0 });
          const got = recipients(w, id);
          expect([...got.keys()].sort()).toEqual(
            Array.from({ length: 11 }, (_, i) => i)
              .filter((i) => i !== 7)
              .map(address)
              .sort(),
          );
          expect([...got.values()].every((n) => n === 1)).toBe(true);
          // Every record is on the bulk queue (a crash between record and enqueue is healed by the page again).
          const queued = new Set(w.bulk.sent.map((e) => e.id));
          for (const r of w.messages.items.values()) expect(queued.has(r.id)).toBe(true);
          expect(outcomes.filter((o) => o.kind === 'finished').length).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
