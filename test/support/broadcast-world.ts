/**
 * A broadcast's whole world in memory: a published template, a list of contacts (each with or
 * without consent, with or without the values the template needs), the broadcast API, the fan-out
 * and a runner that plays the audience jobs queue (a job that throws comes back, as SQS redelivers).
 */
import { createAccept } from '../../functions/app/accept';
import type { Caller } from '../../functions/app/auth';
import { createFanout, type FanoutOutcome } from '../../functions/app/broadcast-fanout';
import { broadcastRoutes } from '../../functions/app/broadcasts';
import type { ApiRequest } from '../../functions/app/http';
import { logger, newMetrics } from '../../functions/app/observability';
import { FanoutJob } from '../../functions/core/broadcast';
import type { QueueEntry } from '../../functions/ports';
import { MemoryBroadcastStore } from './broadcast-fakes';
import { MemoryContactStore } from './contact-fakes';
import { MemoryContentStore } from './content-store';
import { lambdaContext } from './events';
import { MemoryMessageStore, MemoryQueue } from './fakes';
import { MemoryTemplateStore } from './template-fakes';

export const ADMIN: Caller = {
  keyName: 'ops',
  keyHash: 'hash-of-ops',
  scopes: ['send', 'read', 'admin'],
  senderDomains: ['acme.example'],
  ratePerSecond: 100,
};

export function apiRequest(params: Record<string, string>, body?: unknown, caller: Caller = ADMIN): ApiRequest {
  return {
    event: { queryStringParameters: {} } as ApiRequest['event'],
    context: lambdaContext(),
    body,
    caller,
    header: () => undefined,
    param: (name) => params[name],
  };
}

export interface WorldOptions {
  readonly contacts: number;
  /** Whether contact i consents to marketing. @default all do */
  readonly consents?: (i: number) => boolean;
  /** Whether contact i lacks the `first_name` the template needs. @default none does */
  readonly unrenderable?: (i: number) => boolean;
  readonly pageSize?: number;
}

export const contactId = (i: number) => `c${String(i).padStart(5, '0')}`;

export async function broadcastWorld(options: WorldOptions) {
  let clock = Date.parse('2026-11-29T12:00:00Z');
  const now = () => clock;
  const at = () => new Date(clock).toISOString();
  const templates = new MemoryTemplateStore();
  await templates.create({
    slug: 'news',
    kind: 'template',
    draft: { name: 'News', kind: 'template', variables: [] },
    revision: 1,
    latestVersion: 0,
    activeVersion: 0,
    createdAt: at(),
    updatedAt: at(),
  });
  await templates.publish(
    'news',
    0,
    {
      name: 'News',
      kind: 'template',
      subject: 'News for {{ first_name }}',
      text: 'Hello {{ first_name }}, news from {{ company }} for {{ email }}.',
      variables: [
        { name: 'first_name', type: 'string' },
        { name: 'company', type: 'string' },
        { name: 'email', type: 'string' },
      ],
    },
    at(),
  );
  await templates.activate('news', { activeVersion: 1 }, { activeVersion: 0, canaryVersion: 0 }, at());

  const contacts = new MemoryContactStore();
  await contacts.createList({ id: 'subscribers', name: 'Subscribers', createdAt: at() });
  const ids: string[] = [];
  for (let i = 0; i < options.contacts; i++) {
    const id = contactId(i);
    ids.push(id);
    await contacts.create({
      id,
      address: `person${i}@example.org`,
      attributes: options.unrenderable?.(i) ? { nickname: 'x' } : { first_name: `P${i}` },
      consent: { marketing: { granted: options.consents?.(i) ?? true, source: 'import', at: at() } },
      createdAt: at(),
      updatedAt: at(),
    });
  }
  await contacts.addMembers('subscribers', ids);

  const broadcasts = new MemoryBroadcastStore();
  const jobs = new MemoryQueue();
  const messages = new MemoryMessageStore();
  const bulk = new MemoryQueue();
  const accept = createAccept({
    messages,
    queues: { critical: bulk, transactional: bulk, bulk },
    content: new MemoryContentStore(),
    maxMessageBytes: 40_000_000,
    retentionDays: 30,
    templates: { store: templates },
    scheduling: undefined,
    now: () => new Date(clock),
    logger,
    metrics: newMetrics(),
  });
  const api = broadcastRoutes({
    store: broadcasts,
    contacts,
    templates,
    jobs,
    now: () => new Date(clock),
    logger,
  });
  const deps = {
    broadcasts,
    contacts,
    templates: { store: templates },
    accept,
    jobs,
    now,
    pageSize: () => options.pageSize ?? 3,
    logger,
    metrics: newMetrics(),
  };
  const fanout = createFanout(deps);

  /** Jobs taken from the queue so far (an index into `jobs.sent`). */
  let taken = 0;
  const pending: QueueEntry[] = [];
  const takeNew = () => {
    pending.push(...jobs.sent.slice(taken));
    taken = jobs.sent.length;
  };

  /**
   * Runs queued jobs until none is left (delays ignored; a job that throws is put back, as SQS
   * redelivers it). Returns each job's outcome. `run` may be replaced to inject faults.
   */
  async function drain(limit = 10_000, run: (job: FanoutJob) => Promise<FanoutOutcome> = fanout) {
    const outcomes: FanoutOutcome[] = [];
    for (let n = 0; n < limit; n++) {
      takeNew();
      const next = pending.shift();
      if (!next) return outcomes;
      const job = FanoutJob.parse(JSON.parse(next.body));
      try {
        outcomes.push(await run(job));
      } catch {
        pending.push(next);
      }
    }
    throw new Error('jobs did not drain');
  }

  /** Takes the next queued job without running it. */
  function nextJob(): FanoutJob | undefined {
    takeNew();
    const next = pending.shift();
    return next ? FanoutJob.parse(JSON.parse(next.body)) : undefined;
  }

  async function create(extra: Record<string, unknown> = {}) {
    const out = await api['POST /v1/broadcasts'].handle(
      apiRequest(
        {},
        {
          listId: 'subscribers',
          template: { slug: 'news' },
          variables: { company: 'Acme' },
          from: 'news@acme.example',
          ...extra,
        },
      ),
    );
    return (out.body as { id: string }).id;
  }

  const act = (id: string, action: 'schedule' | 'send' | 'pause' | 'resume' | 'cancel', body?: unknown) =>
    api[`POST /v1/broadcasts/{id}/${action}`].handle(apiRequest({ id }, body));

  return {
    templates,
    contacts,
    broadcasts,
    jobs,
    messages,
    bulk,
    accept,
    api,
    deps,
    fanout,
    drain,
    nextJob,
    create,
    act,
    ids,
    advance: (ms: number) => {
      clock += ms;
    },
    now,
  };
}
