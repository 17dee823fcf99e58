/**
 * Cooldowns (DESIGN §2.1, §2.5): "no second copy of the same kind of mail to one recipient within a
 * window". A send names a key and a window; at send time each recipient's cooldown is taken with
 * one conditional write (functions/ports/cooldowns.ts). A recipient whose cooldown another message
 * holds is dropped; when none is left the message ends `throttled`. Pure: the schema, the item's
 * key, the condition a write must meet (the memory fake and the DynamoDB adapter both follow it)
 * and the decision from the writes' outcomes.
 */
import * as z from 'zod/mini';
import { addressKey } from './address-key';
import { addressOf } from './queued-email';
import type { Recipients } from './recipients';
import './zod-locale';

export const COOLDOWN_LIMITS = {
  /** Characters of a key. */
  keyLength: 128,
  /** The window, in hours: one hour to one year; fractions allowed (1.5 = 90 minutes). */
  minHours: 1,
  maxHours: 8760,
} as const;

/** Printable ASCII without spaces and without "|" (the separator of the stored key). */
const KEY_PATTERN = /^[\x21-\x7b\x7d\x7e]+$/;

/** `cooldown: {key, hours}` of a send (and of a template's default). */
export const Cooldown = z.strictObject({
  key: z
    .string()
    .check(
      z.minLength(1, 'a cooldown key must not be empty'),
      z.maxLength(COOLDOWN_LIMITS.keyLength, `a cooldown key is at most ${COOLDOWN_LIMITS.keyLength} characters`),
      z.regex(KEY_PATTERN, 'a cooldown key is printable ASCII without spaces or "|", like "digest" or "reminder:42"'),
    ),
  hours: z
    .number()
    .check(
      z.minimum(COOLDOWN_LIMITS.minHours, `hours is at least ${COOLDOWN_LIMITS.minHours}`),
      z.maximum(COOLDOWN_LIMITS.maxHours, `hours is at most ${COOLDOWN_LIMITS.maxHours} (a year)`),
    ),
});
export type Cooldown = z.infer<typeof Cooldown>;

/**
 * The cooldown an email is sent with: its own (`null` turns its template's default off), else its
 * template's default, else none.
 */
export function effectiveCooldown(
  own: Cooldown | null | undefined,
  templateDefault: Cooldown | null | undefined,
): Cooldown | undefined {
  if (own === null) return undefined;
  return own ?? templateDefault ?? undefined;
}

const HOUR_MS = 3_600_000;

/** The window in milliseconds. */
export const windowMs = (c: Pick<Cooldown, 'hours'>): number => Math.round(c.hours * HOUR_MS);

/** The stored key of one recipient's cooldown: `<key>|<normalised address>` (a key has no "|"). */
export const cooldownId = (key: string, address: string): string => `${key}|${addressKey(address)}`;

/** One recipient's cooldown as stored. */
export interface CooldownItem {
  /** `cooldownId(key, address)`. */
  readonly id: string;
  /** The message that took it (a retry of that message passes its own cooldown). */
  readonly messageId: string;
  /** When it was taken (the recipient's last send of the key), epoch ms. */
  readonly sentAt: number;
  /** When the window ends, epoch ms: the write compares this itself (TTL deletes up to ~48 h late). */
  readonly until: number;
}

/** What a send asks for one recipient. */
export interface CooldownTake {
  readonly id: string;
  readonly messageId: string;
  readonly nowMs: number;
  readonly until: number;
}

/** The outcome of one write: taken (or already ours), or held by another message since `sentAt`. */
export type TakeOutcome =
  | { readonly taken: true }
  | { readonly taken: false; readonly heldBy: string; readonly sentAt: number; readonly until: number };

/**
 * The write's condition: no item, an item whose window has ended (compared with `nowMs`, the
 * dispatcher's clock, not left to TTL), or an item this message took before (a retry).
 */
export const mayTake = (current: CooldownItem | undefined, messageId: string, nowMs: number): boolean =>
  current === undefined || current.until <= nowMs || current.messageId === messageId;

/** The item a successful write leaves. */
export const itemOf = (t: CooldownTake): CooldownItem => ({
  id: t.id,
  messageId: t.messageId,
  sentAt: t.nowMs,
  until: t.until,
});

/** The TTL attribute (epoch seconds): the item is removed some time after its window ends. */
export const ttlOf = (until: number): number => Math.ceil(until / 1000);

/** The distinct recipients (normalised) of what is left to send, each with its cooldown's write. */
export function takesFor(
  messageId: string,
  cooldown: Cooldown,
  recipients: Pick<Recipients, 'to' | 'cc' | 'bcc'>,
  nowMs: number,
): (CooldownTake & { address: string })[] {
  const until = nowMs + windowMs(cooldown);
  const seen = new Map<string, CooldownTake & { address: string }>();
  for (const list of [recipients.to, recipients.cc, recipients.bcc])
    for (const m of list) {
      const address = addressOf(m);
      const id = cooldownId(cooldown.key, address);
      if (!seen.has(id)) seen.set(id, { id, messageId, nowMs, until, address });
    }
  return [...seen.values()];
}

/** A recipient its cooldown skipped: who, and since/until when the other message holds it. */
export interface ThrottledRecipient {
  readonly address: string;
  /** When the recipient last got mail of this key (ISO). */
  readonly lastSentAt: string;
  /** When the window ends (ISO). */
  readonly until: string;
}

/** The recipients left once those in their cooldown are dropped, and the ones dropped. */
export interface CooldownDecision {
  readonly recipients: Recipients;
  readonly throttled: readonly ThrottledRecipient[];
}

/**
 * Drops the recipients whose cooldown another message holds (`outcomes` by cooldown id). A recipient
 * listed twice (to and cc) is dropped from both.
 */
export function applyCooldown(
  cooldown: Pick<Cooldown, 'key'>,
  recipients: Recipients,
  outcomes: ReadonlyMap<string, TakeOutcome>,
): CooldownDecision {
  const throttled = new Map<string, ThrottledRecipient>();
  const keep = (list: readonly string[]) =>
    list.filter((m) => {
      const address = addressOf(m);
      const id = cooldownId(cooldown.key, address);
      const o = outcomes.get(id);
      if (!o || o.taken) return true;
      if (!throttled.has(id))
        throttled.set(id, {
          address,
          lastSentAt: new Date(o.sentAt).toISOString(),
          until: new Date(o.until).toISOString(),
        });
      return false;
    });
  return {
    recipients: {
      to: keep(recipients.to),
      cc: keep(recipients.cc),
      bcc: keep(recipients.bcc),
      dropped: recipients.dropped,
    },
    throttled: [...throttled.values()],
  };
}

/** The detail of the `throttled` event (and of a send that skipped some recipients). */
export const throttledDetail = (cooldown: Cooldown, throttled: readonly ThrottledRecipient[]) => ({
  cooldown: { key: cooldown.key, hours: cooldown.hours },
  throttledRecipients: throttled.map((t) => ({ ...t })),
});

/** The record's `reason` for a message every recipient's cooldown skipped. */
export const throttledReason = (cooldown: Cooldown, throttled: readonly ThrottledRecipient[]): string => {
  const first = throttled[0];
  const last = first ? `; last sent ${first.lastSentAt}, window until ${first.until}` : '';
  return `cooldown "${cooldown.key}" (${cooldown.hours} h): every recipient got this key within the window${last}`;
};
