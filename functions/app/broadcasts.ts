/**
 * The broadcast API (served by ingest): create a draft, edit it while it is a draft, schedule it,
 * send it now, pause, resume, cancel; list and read them with their counts. Every state change is
 * one conditional write (core/broadcast.ts `TRANSITIONS`); an action the broadcast's state does not
 * allow is a 409 naming that state. Changes need an admin key, reads a read key. The broadcast keeps
 * the key that created it: its emails are sent as that key (its sender domains checked at each page).
 *
 * Starting the fan-out: the first page job goes on the audience jobs queue before the state write
 * that makes it valid (the job names the run the write moves the broadcast to), so a broadcast that
 * is `sending` always has its job; a job whose write then did not happen finds another run and ends.
 * A schedule up to 15 minutes ahead is a delayed job, further ahead an EventBridge Scheduler one-time
 * schedule that puts the job on the same queue.
 */
import { randomBytes } from 'node:crypto';
import type * as z from 'zod/mini';
import {
  type Broadcast,
  type BroadcastAction,
  canApply,
  countsOf,
  definitionPart,
  type FanoutJob,
  isBroadcastId,
  refusal,
} from '../core/broadcast';
import {
  CreateBroadcastBody,
  definitionOf,
  PatchBroadcastBody,
  patchDefinition,
  ScheduleBroadcastBody,
} from '../core/broadcast-body';
import { DomainError, type FieldIssue } from '../core/errors';
import type { RouteKey } from '../core/routes';
import { atExpression, checkScheduledAt, MAX_QUEUE_DELAY_SECONDS, parseRfc3339 } from '../core/schedule';
import { API_ERRORS } from '../core/zod-locale';
import type { BroadcastStore, ContactStore, Scheduler, SendQueue, TemplateStore } from '../ports';
import { type Caller, maySendFrom } from './auth';
import type { RouteMap } from './http';
import type { AppLogger } from './observability';
import { retrying } from './retrying';

type BroadcastRoutes = Extract<RouteKey<'ingest'>, `${string} /v1/broadcasts${string}`>;

export interface BroadcastApiDeps {
  readonly store: BroadcastStore;
  /** The lists a broadcast names (checked when it is created or edited). */
  readonly contacts: Pick<ContactStore, 'getList'>;
  /** The template a broadcast names (checked when it is created or edited). */
  readonly templates: Pick<TemplateStore, 'head' | 'version'>;
  /** The audience jobs queue: the fan-out's page jobs. */
  readonly jobs: SendQueue;
  /**
   * Schedules further than 15 minutes ahead: the Scheduler and the jobs queue's ARN (its target).
   * @default - none: such a schedule is a 422
   */
  readonly scheduling?: { readonly scheduler: Scheduler; readonly jobsQueueArn: string } | undefined;
  readonly now: () => Date;
  readonly logger: AppLogger;
}

/** The name of a broadcast's one-time schedule (unique in the stack's schedule group; emails use `m-`). */
export const broadcastScheduleName = (id: string): string => `b-${id}`.slice(0, 64);

/** The queue message of a page job. */
export const fanoutJobBody = (job: Omit<FanoutJob, 'kind'>): string => JSON.stringify({ kind: 'fanout', ...job });

const issuesOf = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

function parse<T extends z.ZodMiniType>(schema: T, body: unknown, what: string): z.output<T> {
  if (body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
  const parsed = schema.safeParse(body, API_ERRORS);
  if (!parsed.success) throw new DomainError('validation_failed', `The ${what} is not valid.`, issuesOf(parsed.error));
  return parsed.data;
}

/** A new broadcast id: a time key (so the store lists newest first) and 48 random bits. */
const newBroadcastId = (nowMs: number): string =>
  `brd_${Math.floor(nowMs).toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;

/** A broadcast as the API shows it (`counts` when read on its own). */
export function broadcastView(b: Broadcast, counts?: ReturnType<typeof countsOf>) {
  return {
    id: b.id,
    name: b.name,
    state: b.state,
    listId: b.listId,
    template: { slug: b.template.slug, version: b.templateVersion ?? b.template.version ?? null },
    variables: b.variables,
    from: b.from,
    replyTo: b.replyTo ?? null,
    category: b.category,
    tags: b.tags ?? {},
    scheduledAt: b.scheduledAt ?? null,
    cooldown: b.cooldown ?? null,
    pace: b.pace ?? null,
    createdBy: b.sender.keyName,
    progress: { pages: b.page, done: b.exhausted },
    ...(counts ? { counts } : {}),
    history: b.history,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    sentAt: b.sentAt ?? null,
  };
}

export function broadcastRoutes(deps: BroadcastApiDeps): RouteMap<BroadcastRoutes> {
  const { store, now, logger } = deps;

  async function mustGet(id: string): Promise<Broadcast> {
    const b = isBroadcastId(id) ? await store.get(id) : undefined;
    if (!b) throw new DomainError('not_found', `No broadcast with id "${id.slice(0, 64)}".`);
    return b;
  }

  const conflict = (action: BroadcastAction, b: Pick<Broadcast, 'state'>) =>
    new DomainError('conflict', refusal(action, b.state), [{ path: 'state', message: b.state }]);

  /** What the definition names must exist, and the key must be allowed its sender (422/403 naming each). */
  async function checkDefinition(caller: Caller, d: ReturnType<typeof definitionOf>): Promise<void> {
    const issues: FieldIssue[] = [];
    const [list, head] = await Promise.all([deps.contacts.getList(d.listId), deps.templates.head(d.template.slug)]);
    if (!list) issues.push({ path: 'listId', message: `no list "${d.listId}"` });
    if (head?.kind !== 'template') issues.push({ path: 'template.slug', message: `no template "${d.template.slug}"` });
    else if (d.template.version !== undefined && d.template.version > head.latestVersion)
      issues.push({
        path: 'template.version',
        message: `template "${d.template.slug}" has no version ${d.template.version}`,
      });
    else if (d.template.version === undefined && head.activeVersion === 0)
      issues.push({
        path: 'template.slug',
        message: `template "${d.template.slug}" has no active version: publish one`,
      });
    if (d.scheduledAt !== undefined && parseRfc3339(d.scheduledAt) === undefined)
      issues.push({ path: 'scheduledAt', message: 'scheduledAt must be an RFC 3339 date-time with an offset' });
    if (issues.length > 0) throw new DomainError('validation_failed', 'The broadcast is not valid.', issues);
    const from = d.from.slice(d.from.lastIndexOf('<') + 1).replace(/>$/, '');
    if (!maySendFrom(caller, from)) {
      throw new DomainError('forbidden', `This API key may send from ${caller.senderDomains.join(', ')} only.`, [
        { path: 'from', message: `${from} is not in a sender domain of this key` },
      ]);
    }
  }

  /** Puts a page job on the jobs queue (retried); a 503 when it cannot, nothing else done. */
  async function enqueue(job: Omit<FanoutJob, 'kind'>, delaySeconds = 0): Promise<void> {
    try {
      const failed = await retrying(() =>
        deps.jobs.send([{ id: `${job.broadcastId}-${job.run}-${job.page}`, body: fanoutJobBody(job), delaySeconds }]),
      );
      if (failed.length > 0) throw new Error('the jobs queue did not take the job');
    } catch (error) {
      logger.error('could not queue a broadcast job', { error: error as Error, broadcastId: job.broadcastId });
      throw new DomainError('unavailable', 'The broadcast could not be started; nothing changed. Try again.');
    }
  }

  /** Deletes a broadcast's schedule, if it has one (a schedule gone counts as fired: its job then finds another run). */
  async function dropSchedule(b: Broadcast): Promise<void> {
    if (!deps.scheduling || b.scheduledAt === undefined) return;
    await deps.scheduling.scheduler
      .delete(broadcastScheduleName(b.id))
      .catch((error: unknown) =>
        logger.warn('could not delete the schedule of a broadcast', { error: error as Error, broadcastId: b.id }),
      );
  }

  /** A state change with nothing to queue: one conditional write, or a 409 with the state it found. */
  async function simple(id: string, action: BroadcastAction): Promise<Broadcast> {
    const b = await mustGet(id);
    if (!canApply(action, b.state)) throw conflict(action, b);
    const after = await store.transition(id, action, now().toISOString());
    if (!after) throw conflict(action, (await store.get(id)) ?? b);
    if (b.state === 'scheduled') await dropSchedule(b);
    return after;
  }

  /** Starts (send) or restarts (resume) the fan-out: the page job of the next run first, then the write. */
  async function start(id: string, action: 'send' | 'resume'): Promise<Broadcast> {
    const b = await mustGet(id);
    if (!canApply(action, b.state)) throw conflict(action, b);
    await enqueue({ broadcastId: id, run: b.run + 1, page: b.page });
    const after = await store.transition(id, action, now().toISOString(), { run: b.run });
    if (!after) throw conflict(action, (await store.get(id)) ?? b);
    if (b.state === 'scheduled') await dropSchedule(b);
    return after;
  }

  const id = (req: { param(name: string): string | undefined }) => req.param('id') ?? '';

  return {
    'POST /v1/broadcasts': {
      auth: 'admin',
      maxBodyBytes: 64 * 1024,
      handle: async (req) => {
        const caller = req.caller as Caller;
        const definition = definitionOf(parse(CreateBroadcastBody, req.body, 'broadcast'));
        await checkDefinition(caller, definition);
        const at = now();
        const iso = at.toISOString();
        const broadcast: Broadcast = {
          id: newBroadcastId(at.getTime()),
          state: 'draft',
          ...definition,
          sender: {
            keyName: caller.keyName,
            ...(caller.keyHash !== undefined ? { keyHash: caller.keyHash } : {}),
            senderDomains: [...caller.senderDomains],
          },
          run: 0,
          page: 0,
          exhausted: false,
          fanout: { targeted: 0, noConsent: 0, render: 0 },
          history: [{ state: 'draft', at: iso, action: 'create' }],
          createdAt: iso,
          updatedAt: iso,
        };
        await store.create(broadcast);
        return { status: 201, body: broadcastView(broadcast) };
      },
    },

    'GET /v1/broadcasts': {
      auth: 'read',
      handle: async (req) => {
        const q = req.event.queryStringParameters ?? {};
        const limit = q.limit === undefined ? 50 : Number(q.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
          throw new DomainError('validation_failed', 'limit is a whole number from 1 to 100.', [
            { path: 'limit', message: 'invalid' },
          ]);
        }
        if (q.cursor !== undefined && !isBroadcastId(q.cursor)) {
          throw new DomainError('validation_failed', 'cursor is the `next` of the page before.', [
            { path: 'cursor', message: 'invalid' },
          ]);
        }
        const page = await store.list(limit, q.cursor);
        return { status: 200, body: { data: page.items.map((b) => broadcastView(b)), next: page.next ?? null } };
      },
    },

    'GET /v1/broadcasts/{id}': {
      auth: 'read',
      handle: async (req) => {
        const b = await mustGet(id(req));
        const events = await store.counts(b.id);
        return { status: 200, body: broadcastView(b, countsOf(b.fanout, events)) };
      },
    },

    'PATCH /v1/broadcasts/{id}': {
      auth: 'admin',
      maxBodyBytes: 64 * 1024,
      handle: async (req) => {
        const b = await mustGet(id(req));
        const patch = parse(PatchBroadcastBody, req.body, 'change');
        if (b.state !== 'draft') {
          throw new DomainError('conflict', `The broadcast is ${b.state}; only a draft can be edited.`, [
            { path: 'state', message: b.state },
          ]);
        }
        const next = patchDefinition(definitionPart(b), patch);
        await checkDefinition(req.caller as Caller, next);
        const after = await store.updateDraft(b.id, next, now().toISOString());
        if (!after) {
          const current = (await store.get(b.id)) ?? b;
          throw new DomainError('conflict', `The broadcast is ${current.state}; only a draft can be edited.`, [
            { path: 'state', message: current.state },
          ]);
        }
        return { status: 200, body: broadcastView(after) };
      },
    },

    'POST /v1/broadcasts/{id}/schedule': {
      auth: 'admin',
      maxBodyBytes: 4096,
      handle: async (req) => {
        const b = await mustGet(id(req));
        const body = req.body === undefined ? {} : parse(ScheduleBroadcastBody, req.body, 'schedule');
        if (!canApply('schedule', b.state)) throw conflict('schedule', b);
        const given = body.scheduledAt ?? b.scheduledAt;
        if (given === undefined) {
          throw new DomainError('validation_failed', 'Give the time to send at: scheduledAt.', [
            { path: 'scheduledAt', message: 'required (in the body, or on the draft)' },
          ]);
        }
        const nowMs = now().getTime();
        const t = checkScheduledAt(given, nowMs);
        if (!t.ok)
          throw new DomainError('validation_failed', 'The schedule is not valid.', [
            { path: 'scheduledAt', message: t.message },
          ]);
        const job = { broadcastId: b.id, run: b.run + 1, page: 0 };
        const delay = Math.max(0, Math.ceil((t.atMs - nowMs) / 1000));
        if (delay <= MAX_QUEUE_DELAY_SECONDS) await enqueue(job, delay);
        else {
          const sched = deps.scheduling;
          if (!sched) {
            throw new DomainError(
              'validation_failed',
              'Schedules beyond 15 minutes are not enabled in this deployment.',
              [{ path: 'scheduledAt', message: 'at most 15 minutes ahead here' }],
            );
          }
          try {
            await retrying(() =>
              sched.scheduler.create({
                name: broadcastScheduleName(b.id),
                expression: atExpression(t.atMs),
                queueArn: sched.jobsQueueArn,
                body: fanoutJobBody(job),
              }),
            );
          } catch (error) {
            logger.error('could not create a broadcast schedule', { error: error as Error, broadcastId: b.id });
            throw new DomainError('unavailable', 'The broadcast could not be scheduled; nothing changed. Try again.');
          }
        }
        const after = await store.transition(b.id, 'schedule', now().toISOString(), { run: b.run, scheduledAt: t.iso });
        if (!after) {
          // Another change came first: the job placed names a run the broadcast never reaches.
          if (delay > MAX_QUEUE_DELAY_SECONDS) await dropSchedule({ ...b, scheduledAt: t.iso });
          throw conflict('schedule', (await store.get(b.id)) ?? b);
        }
        return { status: 200, body: broadcastView(after) };
      },
    },

    'POST /v1/broadcasts/{id}/send': {
      auth: 'admin',
      handle: async (req) => ({ status: 200, body: broadcastView(await start(id(req), 'send')) }),
    },
    'POST /v1/broadcasts/{id}/pause': {
      auth: 'admin',
      handle: async (req) => ({ status: 200, body: broadcastView(await simple(id(req), 'pause')) }),
    },
    'POST /v1/broadcasts/{id}/resume': {
      auth: 'admin',
      handle: async (req) => ({ status: 200, body: broadcastView(await start(id(req), 'resume')) }),
    },
    'POST /v1/broadcasts/{id}/cancel': {
      auth: 'admin',
      handle: async (req) => ({ status: 200, body: broadcastView(await simple(id(req), 'cancel')) }),
    },
  };
}
