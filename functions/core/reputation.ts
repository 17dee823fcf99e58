/**
 * The reputation guard's arithmetic: rolling bounce and complaint rates per priority, kept as
 * counters in hour buckets, and what they mean for a stream (warn, pause) against thresholds set
 * below SES's own. Pure: the counters come from the store, the decisions go back to it.
 *
 * What counts: sends are recipients an email was handed to a provider for (dispatch); bounces are
 * hard bounces only (SES `Permanent`, but not the account-suppression-list kind, which SES does not
 * count either); complaints are complaint reports (not `not-spam`, not account-suppressed). Mail to
 * SES's mailbox simulator never counts, on either side.
 */
import { addressOf } from './queued-email';

/** SES's mailbox simulator: mail to it never counts towards a rate (SES does not count it either). */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

/** Whether an address (bare or formatted) is one of SES's mailbox-simulator addresses. */
export function isSimulatorAddress(address: string): boolean {
  const bare = addressOf(address).trim().toLowerCase();
  const at = bare.lastIndexOf('@');
  return at >= 0 && bare.slice(at + 1) === SIMULATOR_DOMAIN;
}

/** The recipients of an email that count as sends: every to, cc and bcc that is not the simulator. */
export function countedRecipients(email: {
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
}): number {
  let n = 0;
  for (const list of [email.to, email.cc, email.bcc]) for (const a of list) if (!isSimulatorAddress(a)) n++;
  return n;
}

/** Bounce subtypes SES itself leaves out of the bounce rate (the address was never mailed). */
const UNCOUNTED_BOUNCE_SUBTYPES = new Set(['onaccountsuppressionlist', 'ontenantsuppressionlist']);

/** The bounced recipients that count: hard bounces only, never the simulator. */
export function countedBounces(bounce: {
  readonly bounceType: string;
  readonly bounceSubType?: string | null | undefined;
  readonly recipients: readonly string[];
}): number {
  if (bounce.bounceType !== 'Permanent') return 0;
  if (UNCOUNTED_BOUNCE_SUBTYPES.has((bounce.bounceSubType ?? '').toLowerCase())) return 0;
  return bounce.recipients.filter((r) => !isSimulatorAddress(r)).length;
}

/** The complaining recipients that count: not a `not-spam` report, not account-suppressed, never the simulator. */
export function countedComplaints(complaint: {
  readonly feedbackType?: string | null | undefined;
  readonly subType?: string | null | undefined;
  readonly recipients: readonly string[];
}): number {
  if (complaint.feedbackType === 'not-spam') return 0;
  if ((complaint.subType ?? '').toLowerCase() === 'onaccountsuppressionlist') return 0;
  return complaint.recipients.filter((r) => !isSimulatorAddress(r)).length;
}

/** A warn and a pause threshold, in percent of the sends. */
export interface RateThresholds {
  readonly warnPercent: number;
  readonly pausePercent: number;
}

/** How the guard judges a stream. */
export interface GuardSettings {
  /** The rolling window, in hours. */
  readonly windowHours: number;
  /** Sends within the window below which no decision is made (too few to mean anything). */
  readonly minVolume: number;
  readonly bounce: RateThresholds;
  readonly complaint: RateThresholds;
}

/** Counters of one priority (one hour bucket, or summed over a window). */
export interface Counts {
  readonly sends: number;
  readonly bounces: number;
  readonly complaints: number;
}

export const ZERO: Counts = { sends: 0, bounces: 0, complaints: 0 };

export const HOUR_MS = 3_600_000;

/** The hour bucket a time falls in (hours since the epoch). */
export const hourBucket = (ms: number): number => Math.floor(ms / HOUR_MS);

/** The longest window the guard may be set to, in hours (a week). */
export const MAX_WINDOW_HOURS = 168;

/** Seconds since the epoch at which a bucket's counters may expire: a day after the longest window could read it. */
export const bucketExpiresAt = (bucket: number): number =>
  Math.floor(((bucket + 1 + MAX_WINDOW_HOURS + 24) * HOUR_MS) / 1000);

/**
 * Where counting starts after a resume: the bucket of the resume, and what that bucket had counted
 * by then (subtracted, so a resumed stream is judged on mail sent after the resume only).
 */
export interface CountFrom {
  readonly bucket: number;
  readonly baseline: Counts;
  /** When counting started (ISO). */
  readonly at: string;
}

/** The buckets of the window ending now (oldest first), none before `from`. */
export function windowBuckets(nowMs: number, windowHours: number, from?: CountFrom): number[] {
  const current = hourBucket(nowMs);
  const first = Math.max(current - windowHours + 1, from?.bucket ?? Number.NEGATIVE_INFINITY);
  const out: number[] = [];
  for (let b = first; b <= current; b++) out.push(b);
  return out;
}

const minus = (a: number, b: number) => Math.max(0, a - b);

/** The counts over the window: the buckets' sum, less the baseline of the bucket counting starts in. */
export function windowCounts(
  buckets: ReadonlyMap<number, Counts>,
  nowMs: number,
  windowHours: number,
  from?: CountFrom,
): Counts {
  let sends = 0;
  let bounces = 0;
  let complaints = 0;
  for (const b of windowBuckets(nowMs, windowHours, from)) {
    let c = buckets.get(b) ?? ZERO;
    if (from && b === from.bucket) {
      c = {
        sends: minus(c.sends, from.baseline.sends),
        bounces: minus(c.bounces, from.baseline.bounces),
        complaints: minus(c.complaints, from.baseline.complaints),
      };
    }
    sends += c.sends;
    bounces += c.bounces;
    complaints += c.complaints;
  }
  return { sends, bounces, complaints };
}

/** Rates in percent of the sends (null with no sends). */
export interface Rates {
  readonly bouncePercent: number | null;
  readonly complaintPercent: number | null;
}

export function ratesOf(c: Counts): Rates {
  if (c.sends <= 0) return { bouncePercent: null, complaintPercent: null };
  return { bouncePercent: (100 * c.bounces) / c.sends, complaintPercent: (100 * c.complaints) / c.sends };
}

/** What the rates of a stream call for. */
export type Level = 'ok' | 'warn' | 'pause';

export interface Judgement {
  readonly level: Level;
  /** False below the minimum volume: the level is then `ok` whatever the rates. */
  readonly judged: boolean;
  readonly counts: Counts;
  readonly rates: Rates;
  /** Which rates crossed which line, e.g. "bounce rate 9.1% ≥ pause 8%". */
  readonly reasons: readonly string[];
}

const LEVEL_ORDER: Record<Level, number> = { ok: 0, warn: 1, pause: 2 };

const fmt = (n: number) => `${Math.round(n * 1000) / 1000}%`;

/** Judges one stream's counts: the worse of its bounce and complaint levels, once the volume is enough. */
export function judge(counts: Counts, settings: GuardSettings): Judgement {
  const rates = ratesOf(counts);
  if (counts.sends < settings.minVolume || counts.sends <= 0) {
    return { level: 'ok', judged: false, counts, rates, reasons: [] };
  }
  let level: Level = 'ok';
  const reasons: string[] = [];
  const check = (name: string, rate: number | null, t: RateThresholds) => {
    if (rate === null) return;
    const l: Level = rate >= t.pausePercent ? 'pause' : rate >= t.warnPercent ? 'warn' : 'ok';
    if (l === 'ok') return;
    reasons.push(
      `${name} rate ${fmt(rate)} ≥ ${l} ${fmt(l === 'pause' ? t.pausePercent : t.warnPercent)} of ${counts.sends} sends`,
    );
    if (LEVEL_ORDER[l] > LEVEL_ORDER[level]) level = l;
  };
  check('bounce', rates.bouncePercent, settings.bounce);
  check('complaint', rates.complaintPercent, settings.complaint);
  return { level, judged: true, counts, rates, reasons };
}

/** Rounds a rate for display (three decimals of a percent). */
export const roundRate = (r: number | null): number | null => (r === null ? null : Math.round(r * 1000) / 1000);
