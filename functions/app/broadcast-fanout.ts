/**
 * The fan-out of a broadcast: the `fanout` job kind of the audience jobs worker. A job names a
 * broadcast, a run and a page; it does that page and queues the next, so a broadcast is a chain of
 * jobs, one page each, with its checkpoint (page number, cursor, run) on the broadcast's item.
 *
 * One page: read the broadcast (a job of another run, or of a page the checkpoint is not at, or a
 * broadcast that is not `sending`, ends here: that is how pause, resume and cancel stop a chain);
 * read a page of the list's members and their contacts (one Query, one batched read per 100);
 * keep the contacts with consent for the category (the others counted `no_consent`); build each
 * one's email from the pinned template version (a contact whose values cannot render it is counted
 * `render`, never refusing the page); accept them through the one send path with ids derived from
 * the broadcast and the contact; then the checkpoint, one conditional write that moves the page on
 * and adds the page's counts; then the next page's job, delayed to keep the broadcast's pace.
 *
 * Crashes: before the checkpoint, the job comes again (SQS) and does the page again; the derived ids
 * make the accept write no second record (a record still `queued` is put on its queue again, the
 * dispatcher's claim sending it once). Between the checkpoint and the next job, the job comes again,
 * finds the checkpoint one page past it, and queues the next job (or finishes) without redoing the
 * page. So no contact is mailed twice and none is skipped. Suppression, unsubscribes and cooldowns
 * are the dispatcher's, as for every email.
 */

import {
  BROADCAST_TAG,
  type Broadcast,
  broadcastEmailId,
  pageSize as defaultPageSize,
  type FanoutCounts,
  FanoutJob,
  MAX_RUN_WAITS,
  nextPageDelaySeconds,
  variablesFor,
} from '../core/broadcast';
import { hasConsent } from '../core/contact';
import { type SendEmail, SendEmailBody } from '../core/email';
import { DomainError } from '../core/errors';
import { BROADCAST_METRICS } from '../core/metric-names';
import { secondsUntil } from '../core/schedule';
import type { BroadcastStore, ContactStore, SendQueue } from '../ports';
import type { Accept } from './accept';
import type { Caller } from './auth';
import { fanoutJobBody } from './broadcasts';
import type { AppLogger, AppMetrics } from './observability';
import { renderForSend, type TemplateRenderDeps } from './template-render';

export interface FanoutDeps {
  readonly broadcasts: BroadcastStore;
  readonly contacts: Pick<ContactStore, 'members' | 'many'>;
  /** The templates: the version to pin, its declared variables, the render check. */
  readonly templates: TemplateRenderDeps;
  /** The one send path (app/accept.ts), without scheduling. */
  readonly accept: Accept;
  /** The audience jobs queue: the next page's job. */
  readonly jobs: SendQueue;
  readonly now: () => number;
  /** Contacts per page for a pace. @default core/broadcast.ts `pageSize` */
  readonly pageSize?: (pace: number | undefined) => number;
  readonly logger: AppLogger;
  readonly metrics: Pick<AppMetrics, 'addMetric'>;
}

/** What a job did (for tests and logs). */
export type FanoutOutcome =
  /** The job is not the broadcast's current one (another run or page, or not sending): nothing done. */
  | { readonly kind: 'stale' }
  /** A schedule's job that came early: put back until the time. */
  | { readonly kind: 'early'; readonly seconds: number }
  /** A page done and checkpointed; the next page's job queued. */
  | { readonly kind: 'page'; readonly counts: FanoutCounts; readonly delaySeconds: number }
  /** A page done, but the checkpoint did not hold (paused, resumed or canceled meanwhile). */
  | { readonly kind: 'superseded'; readonly counts: FanoutCounts }
  /** The list is read to its end: the broadcast is `sent`. */
  | { readonly kind: 'finished' };

/** The variables a template version declares, with its layout's (cached: versions never change). */
const declaredCache = new Map<string, readonly string[]>();

async function declaredVariables(deps: TemplateRenderDeps, slug: string, version: number): Promise<readonly string[]> {
  const key = `${slug}@${version}`;
  const known = declaredCache.get(key);
  if (known) return known;
  const v = await deps.store.version(slug, version);
  const names = new Set((v?.content.variables ?? []).map((d) => d.name));
  const layout = v?.content.layout;
  if (layout) {
    const head = await deps.store.head(layout);
    const lv = head && head.activeVersion > 0 ? await deps.store.version(layout, head.activeVersion) : undefined;
    for (const d of lv?.content.variables ?? head?.draft.variables ?? []) names.add(d.name);
  }
  const out = [...names];
  // The layout's active version may change: only a version without a layout is cached.
  if (v && !layout) declaredCache.set(key, out);
  return out;
}

export function createFanout(deps: FanoutDeps) {
  const { broadcasts, logger, metrics } = deps;
  const sizeOf = deps.pageSize ?? defaultPageSize;
  const iso = () => new Date(deps.now()).toISOString();

  async function queueJob(job: Omit<FanoutJob, 'kind'>, delaySeconds: number): Promise<void> {
    const failed = await deps.jobs.send([
      { id: `${job.broadcastId}-${job.run}-${job.page}`, body: fanoutJobBody(job), delaySeconds },
    ]);
    // Thrown: the job comes again, finds its checkpoint done and queues this one again.
    if (failed.length > 0) throw new Error('the jobs queue did not take the next page');
  }

  /** After a page's checkpoint: the next page's job, or the end of the broadcast. */
  async function after(b: Broadcast, delaySeconds: number): Promise<FanoutOutcome | undefined> {
    if (b.exhausted) {
      const sent = await broadcasts.transition(b.id, 'finish', iso(), { run: b.run });
      if (sent) logger.info('broadcast sent', { broadcastId: b.id, targeted: sent.fanout.targeted });
      return { kind: 'finished' };
    }
    await queueJob({ broadcastId: b.id, run: b.run, page: b.page }, delaySeconds);
    return undefined;
  }

  /** The template version every email of the broadcast uses: the one given, else the active one, pinned once. */
  async function versionOf(b: Broadcast): Promise<number | undefined> {
    if (b.templateVersion !== undefined) return b.templateVersion;
    const wanted = b.template.version ?? (await deps.templates.store.head(b.template.slug))?.activeVersion;
    if (!wanted) return undefined;
    return (await broadcasts.pinTemplate(b.id, wanted)) ?? wanted;
  }

  /** One page: its emails accepted, its counts. */
  async function page(b: Broadcast): Promise<{ counts: FanoutCounts; next?: string | undefined }> {
    const { ids, next } = await deps.contacts.members(b.listId, sizeOf(b.pace), b.cursor);
    const found = ids.length > 0 ? await deps.contacts.many(ids) : new Map();
    let noConsent = 0;
    let render = 0;
    const version = await versionOf(b);
    const declared = version === undefined ? [] : await declaredVariables(deps.templates, b.template.slug, version);
    const emails: SendEmail[] = [];
    const emailIds: string[] = [];
    for (const id of ids) {
      const contact = found.get(id);
      // A member whose contact is gone (erased since) is nobody to count.
      if (!contact) continue;
      if (!hasConsent(contact, b.category)) {
        noConsent++;
        continue;
      }
      const parsed = SendEmailBody.safeParse({
        from: b.from,
        to: contact.address,
        ...(b.replyTo !== undefined ? { replyTo: b.replyTo } : {}),
        template: {
          slug: b.template.slug,
          ...(version !== undefined ? { version } : {}),
          variables: variablesFor(declared, b.variables, contact.attributes, contact.address),
        },
        tags: { ...(b.tags ?? {}), [BROADCAST_TAG]: b.id },
        category: b.category,
        priority: 'bulk',
      });
      if (!parsed.success) {
        render++;
        continue;
      }
      // The broadcast's cooldown rides on each email; the dispatcher checks it as for any send.
      emails.push(b.cooldown ? Object.assign(parsed.data, { cooldown: b.cooldown }) : parsed.data);
      emailIds.push(broadcastEmailId(b.id, contact.id));
    }
    // Rendered first: a contact whose values do not render is left out, the rest of the page goes on.
    const checked = await renderForSend(
      deps.templates,
      emails.map((e) => e.template),
      emails.map((_, i) => `contacts.${i}.template`),
    );
    let ok = emails.flatMap((e, i) => (checked.emails[i] ? [{ email: e, id: emailIds[i] ?? '' }] : []));
    const caller: Caller = {
      keyName: b.sender.keyName,
      ...(b.sender.keyHash !== undefined ? { keyHash: b.sender.keyHash } : {}),
      scopes: ['send'],
      senderDomains: b.sender.senderDomains,
      ratePerSecond: 0,
    };
    // The accept renders again; a render that fails there only (a time limit under load) leaves its
    // contact out as here, and the rest of the page goes on.
    for (let attempt = 0; ok.length > 0; attempt++) {
      try {
        await deps.accept(
          caller,
          ok.map((o) => o.email),
          { ids: ok.map((o) => o.id) },
        );
        break;
      } catch (error) {
        const failing = attempt < 3 ? renderFailures(error, ok.length) : undefined;
        if (!failing) throw error;
        ok = ok.filter((_, i) => !failing.has(i));
      }
    }
    render = emails.length - ok.length + render;
    return { counts: { targeted: ok.length, noConsent, render }, next };
  }

  return async function fanout(job: FanoutJob): Promise<FanoutOutcome> {
    const started = deps.now();
    let b = await broadcasts.get(job.broadcastId);
    // The API queues a run's first job before the write that starts the run: it may come first.
    if (b && job.run > b.run && (job.waits ?? 0) < MAX_RUN_WAITS) {
      await queueJob({ ...job, waits: (job.waits ?? 0) + 1 }, 1);
      return { kind: 'early', seconds: 1 };
    }
    if (!b || b.run !== job.run) return { kind: 'stale' };
    // A schedule's job: the broadcast starts when its time has come.
    if (b.state === 'scheduled' && job.page === 0) {
      const atMs = Date.parse(b.scheduledAt ?? '');
      const wait = Number.isNaN(atMs) ? 0 : secondsUntil(atMs, started);
      if (wait > 0) {
        await queueJob(job, Math.min(wait, 900));
        return { kind: 'early', seconds: wait };
      }
      const fired = await broadcasts.transition(b.id, 'fire', iso(), { run: job.run });
      if (!fired) return { kind: 'stale' };
      b = fired;
    }
    if (b.state !== 'sending') return { kind: 'stale' };
    // This job's page is checkpointed (the job came again after a crash): only the step after it.
    if (b.page === job.page + 1) return (await after(b, 0)) ?? { kind: 'page', counts: NONE, delaySeconds: 0 };
    if (b.page !== job.page) return { kind: 'stale' };
    if (b.exhausted) return (await after(b, 0)) ?? { kind: 'stale' };

    const done = await page(b);
    const at = iso();
    const moved = await broadcasts.checkpoint(
      b.id,
      { run: job.run, page: job.page, next: done.next, counts: done.counts },
      at,
    );
    if (!moved) return { kind: 'superseded', counts: done.counts };
    metrics.addMetric(BROADCAST_METRICS.targeted, 'Count', done.counts.targeted);
    if (done.counts.noConsent > 0) metrics.addMetric(BROADCAST_METRICS.noConsent, 'Count', done.counts.noConsent);
    if (done.counts.render > 0) metrics.addMetric(BROADCAST_METRICS.render, 'Count', done.counts.render);
    // Paused meanwhile: the checkpoint holds the page; resume queues the next one.
    if (moved.state !== 'sending') return { kind: 'page', counts: done.counts, delaySeconds: 0 };
    const delaySeconds = nextPageDelaySeconds(moved.pace, done.counts.targeted, deps.now() - started);
    return (await after(moved, delaySeconds)) ?? { kind: 'page', counts: done.counts, delaySeconds };
  };
}

/** The emails a 422 of the accept names as not rendered (`emails.3.template…`); undefined for any other error. */
function renderFailures(error: unknown, count: number): Set<number> | undefined {
  if (!(error instanceof DomainError) || error.code !== 'validation_failed') return undefined;
  const found = new Set<number>();
  for (const d of error.details ?? []) {
    const m =
      /^emails\.(\d+)\.template\b/.exec(d.path) ?? (count === 1 && d.path.startsWith('template') ? ['', '0'] : null);
    if (!m) return undefined;
    found.add(Number(m[1]));
  }
  return found.size > 0 ? found : undefined;
}

const NONE: FanoutCounts = { targeted: 0, noConsent: 0, render: 0 };

/** Parses a job of the `fanout` kind (the audience worker's router hands it the raw JSON). */
export const parseFanoutJob = (body: unknown): FanoutJob => FanoutJob.parse(body);
