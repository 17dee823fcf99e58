/**
 * The defaults of mailroute, written once. cdk.json validation (lib/context.ts), the constructs'
 * props, the resource specs (lib/resources.ts), the functions' environment parser
 * (functions/config.ts) and the local stack all read them from here.
 *
 * Pure data: no AWS SDK, no CDK, no zod, no environment, so CDK code and every function may import it
 * without loading anything else.
 */
import type { ProvidersConfig } from './providers';

export const DEFAULTS = {
  /** Days a message record is kept before DynamoDB TTL removes it. */
  retentionDays: 30,
  /** Transient (soft) bounces of one address within a window of hours that suppress it. */
  softBounce: { limit: 3, windowHours: 72 },
  /** Whether HTML mail gets an open pixel, and its links are rewritten to count clicks, when a request does not say. */
  tracking: { opens: true, clicks: true },
  dispatch: {
    /**
     * The dispatch function's timeout, in seconds; a claim older than this was left by a dispatcher
     * that stopped.
     */
    timeoutSeconds: 30,
    /**
     * Most concurrent dispatch invocations the event source of the critical queue, and that of the
     * transactional queue, each start (Lambda allows 2..1000).
     */
    maxConcurrency: 10,
    /**
     * Most concurrent dispatch invocations the bulk queue's event source starts (Lambda allows 2..1000):
     * a campaign drains at this pace, leaving the rest of the function's concurrency to the others.
     */
    bulkMaxConcurrency: 2,
  },
  sendQueue: {
    /** Receives before SQS moves a message to the dead-letter queue; the dispatcher marks the last one failed. */
    maxReceiveCount: 5,
  },
  /** How the providers' rate windows are shared between priorities (core/shares.ts). */
  capacity: {
    /** Percent of each rate window held back from bulk mail while critical or transactional mail is around. */
    bulkReservePercent: 30,
  },
  /** The adaptive throttle of a provider that throttles without a Retry-After (core/aimd.ts). */
  adaptiveThrottle: {
    /** A throttle multiplies the effective rate by this. */
    decrease: 0.5,
    /** The effective rate never drops below this share of the declared one. */
    floor: 0.1,
    /** Share of the declared rate won back per minute without a throttle. */
    increasePerMinute: 0.1,
    /** Throttles within this many seconds of a decrease do not decrease it again. */
    holdSeconds: 5,
  },
  /**
   * The reputation guard (core/reputation.ts): rolling hard-bounce and complaint rates per priority,
   * with a warn and a pause line each, below SES's own (SES reviews an account at 5 % bounces or
   * 0.1 % complaints and may pause it at 10 % or 0.5 %).
   */
  guard: {
    /** The rolling window of the rates, in hours. */
    windowHours: 24,
    /** Sends of a stream within the window below which its rates decide nothing. */
    minVolume: 500,
    /** Hard bounces, in percent of the sends. */
    bounce: { warnPercent: 4, pausePercent: 8 },
    /** Complaints, in percent of the sends. */
    complaint: { warnPercent: 0.08, pausePercent: 0.3 },
    /** Seconds an email of a paused stream waits on its queue before the dispatcher looks at it again. */
    heldWaitSeconds: 300,
  },
  /** Alarm thresholds (lib/constructs/monitoring.ts). */
  alarms: {
    /** Bounces as a share of the emails sent in an hour, in percent. */
    bounceRatePercent: 5,
    /** Complaints as a share of the emails sent in an hour, in percent. */
    complaintRatePercent: 0.1,
    /** Emails sent in an hour below which the rates are not judged. */
    minimumHourlySends: 100,
    /** Age, in seconds, of the oldest message on the transactional send queue. */
    oldestMessageSeconds: 300,
    /** Age, in seconds, of the oldest message on the critical send queue. */
    criticalOldestMessageSeconds: 60,
    /** Errors of one function within 5 minutes. */
    lambdaErrors: 5,
    /** 5xx responses of the HTTP API within 5 minutes. */
    api5xxErrors: 5,
  },
} as const;

/** SES alone: what a deployment without `providers` sends through (treat as read-only; clone to change). */
export const DEFAULT_PROVIDERS: ProvidersConfig = { providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] };
