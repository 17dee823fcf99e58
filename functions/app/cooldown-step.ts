/**
 * The cooldown step of the dispatcher (DESIGN §2.1, §2.5): once a message is claimed and its
 * suppressed recipients are dropped, each remaining recipient's cooldown is taken with one
 * conditional write (all of a message's writes at once). Recipients whose cooldown another message
 * holds are dropped; the decision is core/cooldown.ts's. Returns what is left to send, or that
 * nobody is (the message then ends `throttled`).
 */
import { applyCooldown, type TakeOutcome, takesFor, throttledDetail, throttledReason } from '../core/cooldown';
import type { QueuedEmail } from '../core/queued-email';
import { noneLeft, type Recipients } from '../core/recipients';
import type { CooldownStore } from '../ports';

export type CooldownResult =
  /** Send to `recipients`: `skipped` recipients were in their cooldown, named in `detail`. */
  | {
      readonly kind: 'send';
      readonly recipients: Recipients;
      readonly skipped: number;
      readonly detail: Record<string, unknown>;
    }
  /** Every recipient is in its cooldown: the message ends `throttled`. */
  | { readonly kind: 'throttled'; readonly reason: string; readonly detail: Record<string, unknown> };

export type CooldownCheck = (email: QueuedEmail, recipients: Recipients) => Promise<CooldownResult>;

export interface CooldownCheckDeps {
  readonly cooldowns: CooldownStore;
  /** The dispatcher's clock: the windows are compared with it. */
  readonly now: () => number;
}

export function createCooldownCheck(deps: CooldownCheckDeps): CooldownCheck {
  return async (email, recipients) => {
    const cooldown = email.cooldown;
    if (!cooldown) return { kind: 'send', recipients, skipped: 0, detail: {} };
    const takes = takesFor(email.id, cooldown, recipients, deps.now());
    const outcomes = await deps.cooldowns.take(takes);
    if (outcomes.length !== takes.length) throw new Error('the cooldown store answered a different number of takes');
    const byId = new Map(takes.map((t, i) => [t.id, outcomes[i] as TakeOutcome]));
    const decision = applyCooldown(cooldown, recipients, byId);
    if (decision.throttled.length === 0) return { kind: 'send', recipients, skipped: 0, detail: {} };
    const detail = throttledDetail(cooldown, decision.throttled);
    if (noneLeft(decision.recipients))
      return { kind: 'throttled', reason: throttledReason(cooldown, decision.throttled), detail };
    return { kind: 'send', recipients: decision.recipients, skipped: decision.throttled.length, detail };
  };
}
