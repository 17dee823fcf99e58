/**
 * Broadcasts: one email to every consenting contact of a list, with a lifecycle enforced on the
 * server. `draft → scheduled → sending → sent`, plus `paused` and `canceled`; which action moves
 * which state where is one table (`TRANSITIONS`), read by the store's conditional writes and by the
 * API's 409 messages. The definition (list, template, variables, sender, category, cooldown, pace)
 * is edited only in `draft` and frozen afterwards. Pure: no SDK, no environment.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import './zod-locale';

export const BROADCAST_STATES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'canceled'] as const;
export type BroadcastState = (typeof BROADCAST_STATES)[number];

/** The states a broadcast never leaves. */
export const FINAL_BROADCAST_STATES: ReadonlySet<BroadcastState> = new Set(['sent', 'canceled']);

export const BROADCAST_ACTIONS = ['schedule', 'send', 'fire', 'pause', 'resume', 'cancel', 'finish'] as const;
export type BroadcastAction = (typeof BROADCAST_ACTIONS)[number];

export interface Transition {
  /** The states the action applies in. */
  readonly from: readonly BroadcastState[];
  readonly to: BroadcastState;
  /**
   * Starts a new run of the fan-out: its page jobs carry the new run number, so a job of an older
   * run (a resumed broadcast's, a superseded schedule's) finds another run and does nothing.
   */
  readonly newRun: boolean;
  /** What the API says the action needs, in a 409 ("only a draft can be scheduled"). */
  readonly needs: string;
}

/**
 * Every legal move. `fire` is the schedule's time coming (the scheduled job), `finish` the fan-out
 * reaching the end of the list; the others are API actions.
 */
export const TRANSITIONS = {
  schedule: { from: ['draft'], to: 'scheduled', newRun: true, needs: 'only a draft can be scheduled' },
  send: {
    from: ['draft', 'scheduled'],
    to: 'sending',
    newRun: true,
    needs: 'only a draft or a scheduled broadcast can be sent',
  },
  fire: { from: ['scheduled'], to: 'sending', newRun: false, needs: 'only a scheduled broadcast starts at its time' },
  pause: { from: ['sending'], to: 'paused', newRun: false, needs: 'only a sending broadcast can be paused' },
  resume: { from: ['paused'], to: 'sending', newRun: true, needs: 'only a paused broadcast can be resumed' },
  cancel: {
    from: ['draft', 'scheduled', 'sending', 'paused'],
    to: 'canceled',
    newRun: false,
    needs: 'a sent or canceled broadcast cannot be canceled',
  },
  finish: { from: ['sending'], to: 'sent', newRun: false, needs: 'only a sending broadcast can finish' },
} as const satisfies { readonly [A in BroadcastAction]: Transition };

/** Whether `action` applies in `state`. */
export const canApply = (action: BroadcastAction, state: BroadcastState): boolean =>
  (TRANSITIONS[action].from as readonly BroadcastState[]).includes(state);

/** The 409's message for an action refused in `state`: the current state, and what the action needs. */
export const refusal = (action: BroadcastAction, state: BroadcastState): string =>
  `The broadcast is ${state}; ${TRANSITIONS[action].needs}.`;

// ---------------------------------------------------------------------------------------------
// The definition

/** The category a broadcast is sent in unless it says otherwise. */
export const DEFAULT_BROADCAST_CATEGORY = 'marketing';
/** Emails per second a broadcast may be paced at, at most (a bulk stream's order of magnitude). */
export const MAX_PACE = 1000;
/** The longest cooldown window, in hours (a year). */
export const MAX_COOLDOWN_HOURS = 8760;

const ID_PATTERN = /^brd_[a-z0-9]{1,40}$/;
export const isBroadcastId = (id: string): boolean => ID_PATTERN.test(id);

/** The tag every broadcast email carries: its value is the broadcast's id. */
export const BROADCAST_TAG = 'broadcast';

export interface BroadcastDefinition {
  readonly name: string;
  readonly listId: string;
  readonly template: { readonly slug: string; readonly version?: number | undefined };
  readonly variables: Readonly<Record<string, unknown>>;
  readonly from: string;
  readonly replyTo?: string | undefined;
  readonly category: string;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly scheduledAt?: string | undefined;
  readonly cooldown?: { readonly key: string; readonly hours: number } | undefined;
  readonly pace?: number | undefined;
}

/** The key a broadcast's emails are sent as: the one that created it (sender domains checked at each page). */
export interface BroadcastSender {
  readonly keyName: string;
  readonly keyHash?: string | undefined;
  readonly senderDomains: readonly string[];
}

/** Counted by the fan-out itself, on the broadcast's item, in the same write as its checkpoint. */
export interface FanoutCounts {
  readonly targeted: number;
  readonly noConsent: number;
  readonly render: number;
}

export interface Broadcast extends BroadcastDefinition {
  readonly id: string;
  readonly state: BroadcastState;
  readonly sender: BroadcastSender;
  /** The template version every email uses, pinned when the first page renders. */
  readonly templateVersion?: number | undefined;
  /** The fan-out's run: bumped by schedule, send and resume. */
  readonly run: number;
  /** The next page to fan out (0 before the first). */
  readonly page: number;
  /** Where the next page starts in the list (none: at the start, or the list is done). */
  readonly cursor?: string | undefined;
  /** The list is read to its end. */
  readonly exhausted: boolean;
  readonly fanout: FanoutCounts;
  /** Each state change, in order. */
  readonly history: readonly { readonly state: BroadcastState; readonly at: string; readonly action?: string }[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly sentAt?: string | undefined;
}

/** Just the definition's fields of a broadcast. */
export function definitionPart(b: BroadcastDefinition): BroadcastDefinition {
  return {
    name: b.name,
    listId: b.listId,
    template: b.template,
    variables: b.variables,
    from: b.from,
    ...(b.replyTo !== undefined ? { replyTo: b.replyTo } : {}),
    category: b.category,
    ...(b.tags !== undefined ? { tags: b.tags } : {}),
    ...(b.scheduledAt !== undefined ? { scheduledAt: b.scheduledAt } : {}),
    ...(b.cooldown !== undefined ? { cooldown: b.cooldown } : {}),
    ...(b.pace !== undefined ? { pace: b.pace } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The fan-out

/** Contacts per page of the fan-out, unpaced: ~1,000 emails per job keeps the job's own SQS requests near 0.003 per contact. */
export const FANOUT_PAGE_SIZE = 1000;
/** The smallest page (a slow pace). */
export const MIN_PAGE_SIZE = 10;
/** A paced broadcast's page holds this many seconds of its pace. */
export const PACED_PAGE_SECONDS = 10;

/** Contacts in one page: the pace's ten seconds (10 to 1,000), or 1,000 unpaced. */
export function pageSize(pace: number | undefined): number {
  if (pace === undefined) return FANOUT_PAGE_SIZE;
  return Math.min(FANOUT_PAGE_SIZE, Math.max(MIN_PAGE_SIZE, pace * PACED_PAGE_SECONDS));
}

/**
 * How long the next page waits after one of `emails` that took `elapsedMs`, so the broadcast keeps
 * its pace (whole seconds; 0 unpaced; at most SQS's 900 s delay).
 */
export function nextPageDelaySeconds(pace: number | undefined, emails: number, elapsedMs: number): number {
  if (pace === undefined || emails === 0) return 0;
  return Math.min(900, Math.max(0, Math.ceil(((emails / pace) * 1000 - elapsedMs) / 1000)));
}

/** A page job of the fan-out (on the audience jobs queue). */
export const FanoutJob = z.object({
  kind: z.literal('fanout'),
  broadcastId: z.string().check(z.regex(ID_PATTERN)),
  run: z.int().check(z.gte(1)),
  page: z.int().check(z.gte(0)),
  /**
   * Times the job waited for the state write that starts its run (the API queues the job first,
   * then writes; the job may come before the write).
   */
  waits: z.optional(z.int().check(z.gte(0))),
});
/** How often a job of a run not yet started waits (a second each) before it gives up: its write did not happen. */
export const MAX_RUN_WAITS = 10;
export type FanoutJob = z.infer<typeof FanoutJob>;

/**
 * The id of the email a broadcast sends a contact: derived from both, so a contact gets a broadcast at
 * most once whichever job, run or retry accepts it (`b-` and 32 characters of the SHA-256, base64url
 * without "_", so the id stays within [A-Za-z0-9-]).
 */
export function broadcastEmailId(broadcastId: string, contactId: string): string {
  const digest = createHash('sha256').update(`${broadcastId}|${contactId}`).digest('base64url');
  return `b-${digest.replaceAll('_', '-').slice(0, 32)}`;
}

/**
 * The values a contact's email renders with, for the variables the template declares: the broadcast's
 * fixed `variables` first, then the contact's `attributes`, and `email` as the contact's address. A
 * declared variable none of them gives is left out (its default applies, or the render refuses it).
 */
export function variablesFor(
  declared: readonly string[],
  fixed: Readonly<Record<string, unknown>>,
  attributes: Readonly<Record<string, unknown>>,
  address: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of declared) {
    if (Object.hasOwn(fixed, name)) out[name] = fixed[name];
    else if (Object.hasOwn(attributes, name)) out[name] = attributes[name];
    else if (name === 'email') out[name] = address;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Counts

/** What message events add to a broadcast (on its counters item). */
export const EVENT_COUNTERS = [
  'sent',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'unsubscribed',
  'suppressed',
  'cooldown',
  'failed',
] as const;
export type EventCounter = (typeof EVENT_COUNTERS)[number];
export type EventCounts = { readonly [C in EventCounter]: number };
export const NO_EVENT_COUNTS: EventCounts = Object.fromEntries(EVENT_COUNTERS.map((c) => [c, 0])) as EventCounts;

/** A broadcast's counts as the API shows them. */
export interface BroadcastCounts {
  readonly targeted: number;
  readonly skipped: {
    readonly no_consent: number;
    readonly suppressed: number;
    readonly cooldown: number;
    readonly render: number;
  };
  readonly sent: number;
  readonly delivered: number;
  readonly bounced: number;
  readonly complained: number;
  readonly opened: number;
  readonly clicked: number;
  readonly unsubscribed: number;
  readonly failed: number;
}

export function countsOf(fanout: FanoutCounts, events: EventCounts): BroadcastCounts {
  return {
    targeted: fanout.targeted,
    skipped: {
      no_consent: fanout.noConsent,
      suppressed: events.suppressed,
      cooldown: events.cooldown,
      render: fanout.render,
    },
    sent: events.sent,
    delivered: events.delivered,
    bounced: events.bounced,
    complained: events.complained,
    opened: events.opened,
    clicked: events.clicked,
    unsubscribed: events.unsubscribed,
    failed: events.failed,
  };
}
