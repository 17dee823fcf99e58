/**
 * Accepting emails: the one path every send takes, whether it comes from the API, a broadcast's
 * fan-out or an event's rule. Render templates, check the sender and the attachments, record,
 * then enqueue (or schedule). "Accepted means durable": it returns only after every record is in
 * DynamoDB and every message is on its queue or schedule; if the enqueue fails, the records it
 * wrote are removed again so nothing is half-done.
 *
 * Emails whose ids are derived from their meaning (`AcceptOptions.ids`) are written only if no
 * record has that id, so accepting the same broadcast contact or the same event twice sends once.
 */
import { randomUUID } from 'node:crypto';
import { type AttachmentRef, messageBytes } from '../core/attachment';
import { contentKey } from '../core/content-keys';
import { type SendEmail, toQueuedEmail } from '../core/email';
import { DomainError } from '../core/errors';
import { newRecord } from '../core/message';
import { METRICS } from '../core/metric-names';
import { defaultPriority, PRIORITIES, type Priority } from '../core/priority';
import { type QueuedEmail, SQS_MAX_BYTES, toQueueBody } from '../core/queued-email';
import type { ContentStore, MessageStore, QueueEntry, SendQueue } from '../ports';
import { storeAttachments } from './attachments';
import { type Caller, maySendFrom } from './auth';
import type { logger as defaultLogger, metrics as defaultMetrics } from './observability';
import { retrying } from './retrying';
import {
  announceScheduled,
  discardScheduled,
  placeFirings,
  placementFor,
  type SchedulingDeps,
  scheduledTimes,
  storeBodies,
  type ToSchedule,
} from './scheduling';
import { countSends, renderTemplates, type TemplateSendDeps } from './template-send';

export interface AcceptDeps {
  readonly messages: MessageStore;
  /** The send queue of each priority: an email goes to its own priority's queue. */
  readonly queues: { readonly [P in Priority]: SendQueue };
  /** The content store: attachments, and bodies too large for a queue message (claim-check). */
  readonly content: ContentStore;
  /** The largest message any provider of the deployment takes, in bytes (core/attachment.ts `messageBytes`). */
  readonly maxMessageBytes: number;
  readonly retentionDays: number;
  readonly templates: TemplateSendDeps;
  /** Scheduled sends; undefined where the deployment has none (a `scheduledAt` is then a 422). */
  readonly scheduling: SchedulingDeps | undefined;
  readonly now: () => Date;
  readonly newId?: () => string;
  readonly logger: typeof defaultLogger;
  readonly metrics: typeof defaultMetrics;
}

/** One accepted email: its id, and for a scheduled one its time in UTC. */
export interface Accepted {
  readonly id: string;
  readonly scheduledAt?: string;
  /** The id was derived and a record had it already: this call created nothing for it. */
  readonly existed?: true;
}

export interface AcceptOptions {
  /**
   * The emails' ids, derived from their meaning (one per email, in order). A record that exists
   * already is never overwritten: if it still waits in `queued` it is put on its queue again (a
   * crash may have come between its record and its enqueue; the dispatcher's claim sends it once),
   * otherwise it is left as it is. @default - fresh random ids
   */
  readonly ids?: readonly string[];
}

/** The scheduling use cases, or a 422 where this deployment has none. */
export function schedulingOr422(scheduling: SchedulingDeps | undefined): SchedulingDeps {
  if (scheduling) return scheduling;
  throw new DomainError('validation_failed', 'Scheduled sends are not enabled in this deployment.', [
    { path: 'scheduledAt', message: 'not supported here' },
  ]);
}

export type Accept = (caller: Caller, given: readonly SendEmail[], options?: AcceptOptions) => Promise<Accepted[]>;

export function createAccept(deps: AcceptDeps): Accept {
  const { now, logger, metrics } = deps;
  const newId = deps.newId ?? randomUUID;
  const templateDeps = deps.templates;
  const scheduling = () => schedulingOr422(deps.scheduling);

  /** The queued email with its attachments' references and its size as providers count it. */
  function withParts(q: QueuedEmail, refs: AttachmentRef[] | undefined): QueuedEmail {
    if (!refs || refs.length === 0) return q;
    return { ...q, attachments: refs, size: messageBytes({ ...q, attachments: refs }) };
  }

  /** A body too large for a queue message waits in the content store; the message carries its key. */
  async function claimCheckBody(q: QueuedEmail): Promise<void> {
    if (Buffer.byteLength(toQueueBody(q), 'utf8') <= SQS_MAX_BYTES) return;
    const key = contentKey('bodies', q.id);
    const body = JSON.stringify({ html: q.html, text: q.text });
    await deps.content.put(key, new TextEncoder().encode(body), 'application/json');
    q.bodyKey = key;
    delete q.html;
    delete q.text;
  }

  /** Removes the records of a request that failed, retried; what still fails is logged with the ids. */
  async function removeRecords(ids: readonly string[]): Promise<void> {
    await retrying(() => deps.messages.deleteQueued(ids)).catch((error) =>
      logger.error('could not remove the records of a request that failed', { messageIds: ids, error }),
    );
  }

  /** Records, then enqueues, a validated set of emails. Returns their ids, in order. */
  return async function accept(caller, given, options = {}) {
    const derived = options.ids;
    if (derived && derived.length !== given.length) throw new Error('accept: one id per email');
    // Times first: a bad `scheduledAt` refuses the request before anything is rendered or written.
    const times = scheduledTimes(given, now().getTime(), given.length > 1);
    // Emails sent with a template are rendered first: any problem refuses the whole request (422).
    const { emails, refs } = await renderTemplates(templateDeps, given, logger);
    // A key sends only as its own application: `from` must be in one of its sender domains.
    const foreign = emails.flatMap((e, i) =>
      maySendFrom(caller, e.from.address)
        ? []
        : [
            {
              path: emails.length > 1 ? `emails.${i}.from` : 'from',
              message: `${e.from.address} is not in a sender domain of this key`,
            },
          ],
    );
    if (foreign.length > 0) {
      throw new DomainError(
        'forbidden',
        `This API key may send from ${caller.senderDomains.join(', ')} only; nothing was sent.`,
        foreign,
      );
    }
    // Attachments are checked and stored (422 naming each refused one); the queue carries references.
    const pathOf = (i: number) => (emails.length > 1 ? `emails.${i}` : '');
    const parts = await storeAttachments({ content: deps.content, now }, emails, pathOf);
    const at = now();
    const queued = emails.map((e, i) => withParts(toQueuedEmail(derived?.[i] ?? newId(), e), parts[i]));
    const oversized = queued.flatMap((q, i) =>
      q.size !== undefined && q.size > deps.maxMessageBytes
        ? [
            {
              path: pathOf(i) || '(body)',
              message: `about ${q.size} bytes once encoded; no provider takes more than ${deps.maxMessageBytes}`,
            },
          ]
        : [],
    );
    if (oversized.length > 0) {
      throw new DomainError(
        'validation_failed',
        'No provider of this deployment can take an email this large.',
        oversized,
      );
    }
    await Promise.all(queued.map((q) => claimCheckBody(q)));
    const all: (QueueEntry & { priority: Priority })[] = queued.map((q) => ({
      id: q.id,
      body: toQueueBody(q),
      priority: q.priority ?? defaultPriority(q.category),
    }));
    // Scheduled emails wait in the content store and on a firing; the others go on their queue now.
    let later: ToSchedule[] = [];
    let entries = all.filter((e, i) => {
      const t = times[i];
      const q = queued[i];
      if (!t || !q) return true;
      const sched = scheduling();
      later.push({ email: q, priority: e.priority, at: t, placement: placementFor(sched, t) });
      return false;
    });
    const tooLarge = entries.findIndex((e) => Buffer.byteLength(e.body, 'utf8') > SQS_MAX_BYTES);
    if (tooLarge >= 0) {
      throw new DomainError('payload_too_large', `Each email must be under ${SQS_MAX_BYTES} bytes once queued.`, [
        { path: emails.length > 1 ? `emails.${tooLarge}` : '(body)', message: 'too large' },
      ]);
    }
    // newRecord keeps addresses, subject, tags and category: never the body.
    const laterById = new Map(later.map((s) => [s.email.id, s]));
    const records = queued.map((q, i) => {
      const s = laterById.get(q.id);
      return newRecord(
        {
          ...q,
          apiKey: caller.keyName,
          template: refs[i],
          ...(s ? { schedule: { at: s.at.iso, via: s.placement.via } } : {}),
        },
        at,
        deps.retentionDays,
      );
    });
    const ids = records.map((r) => r.id);
    if (later.length > 0) {
      // The bodies first: a record never waits for a body that is not there.
      try {
        await storeBodies(scheduling(), later, caller.keyHash ?? '');
      } catch (e) {
        logger.error('could not store scheduled bodies', { error: e as Error });
        await discardScheduled(scheduling(), later);
        throw new DomainError('unavailable', 'The email could not be scheduled; nothing was sent. Try again.');
      }
    }
    let existed = new Set<string>();
    if (derived) {
      // Never overwrites: a record with a derived id exists when this email was accepted before.
      // A failure leaves what was written (it cannot tell whose records those are); the same call
      // again completes them, as for a crash between record and enqueue.
      existed = new Set(await deps.messages.createNew(records));
      if (existed.size > 0) {
        const waiting = await stillQueued([...existed]);
        entries = entries.filter((e) => !existed.has(e.id) || waiting.has(e.id));
        later = later.filter((l) => !existed.has(l.email.id));
      }
    } else {
      try {
        await deps.messages.createMany(records);
      } catch (e) {
        // Some records may be written: none stays (a 503 creates nothing).
        await removeRecords(ids);
        if (later.length > 0) await discardScheduled(scheduling(), later);
        throw e;
      }
    }
    const created = ids.filter((id) => !existed.has(id));
    // Each email to its priority's queue; a batch of mixed priorities goes to several, at once.
    const failed = (
      await Promise.all(
        PRIORITIES.map(async (priority) => {
          const part = entries.filter((e) => e.priority === priority).map(({ priority: _, ...entry }) => entry);
          if (part.length === 0) return [];
          try {
            return await deps.queues[priority].send(part);
          } catch (e) {
            logger.error('enqueue failed', { error: e as Error, priority });
            return part.map((x) => x.id);
          }
        }),
      )
    ).flat();
    if (later.length > 0) failed.push(...(await placeFirings(scheduling(), later)));
    if (failed.length > 0) {
      // All or nothing: drop every record of this request; a message that reached SQS anyway (on any
      // priority's queue) finds no record and is discarded by the dispatcher, so nothing is sent for a
      // request that failed.
      await removeRecords(created);
      if (later.length > 0) await discardScheduled(scheduling(), later);
      throw new DomainError('unavailable', 'The email could not be queued; nothing was sent. Try again.');
    }
    metrics.addMetric(METRICS.accepted, 'Count', created.length);
    await countSends(
      templateDeps,
      refs.filter((_, i) => !existed.has(ids[i] ?? '')),
      logger,
    );
    if (later.length > 0) await announceScheduled(scheduling(), later);
    return records.map((r): Accepted => {
      if (existed.has(r.id)) return { id: r.id, existed: true };
      const s = laterById.get(r.id);
      return s ? { id: r.id, scheduledAt: s.at.iso } : { id: r.id };
    });
  };

  /** Which of these records still wait in `queued` (read one by one: only ids accepted before get here). */
  async function stillQueued(ids: readonly string[]): Promise<Set<string>> {
    const records = await Promise.all(ids.map((id) => deps.messages.get(id)));
    return new Set(records.flatMap((r) => (r?.status === 'queued' ? [r.id] : [])));
  }
}
