/**
 * The cooldown step of the dispatcher (DESIGN §2.1, §2.5): once a message is claimed and its
 * suppressed recipients are dropped, each remaining recipient's cooldown is taken with one
 * conditional write (all of a message's writes at once). Recipients whose cooldown another message
 * holds are dropped (the decision is core/cooldown.ts's); when nobody is left the claim ends
 * `throttled`, a final state. When the cooldowns cannot be checked, the claim is handed back and
 * the error passed on: the message is retried like any other error, never sent unchecked.
 */
import { applyCooldown, type TakeOutcome, takesFor, throttledDetail, throttledReason } from '../core/cooldown';
import { METRICS } from '../core/metric-names';
import type { QueuedEmail } from '../core/queued-email';
import { noneLeft, type Recipients } from '../core/recipients';
import { DONE, type SendPlan } from '../core/send-plan';
import type { CooldownStore, MessageStore } from '../ports';
import type { AppLogger, AppMetrics } from './observability';
import { retrying } from './retrying';

/** A claimed message whose cooldowns are to be taken. */
export interface Claimed {
  readonly email: QueuedEmail;
  /** Its recipients once the suppressed ones are dropped. */
  readonly recipients: Recipients;
  /** The claim token the record is held with, and the provider it is pinned to, if any. */
  readonly token: string;
  readonly pin?: string | undefined;
  /** What the record's event says already (the suppressed recipients). */
  readonly detail: Readonly<Record<string, unknown>>;
}

export type CooldownResult =
  /** Send to `recipients`: `skipped` recipients were in their cooldown, named in `detail`. */
  | {
      readonly kind: 'send';
      readonly recipients: Recipients;
      readonly skipped: number;
      readonly detail: Record<string, unknown>;
    }
  /** Nobody is left: the record is `throttled` (the claim has ended). */
  | { readonly kind: 'throttled'; readonly plan: SendPlan };

export type CooldownStep = (claimed: Claimed) => Promise<CooldownResult>;

export interface CooldownStepDeps {
  readonly cooldowns: CooldownStore;
  readonly messages: MessageStore;
  /** The dispatcher's clock: the windows are compared with it. */
  readonly now: () => number;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
}

export function createCooldownStep(deps: CooldownStepDeps): CooldownStep {
  const { messages, logger, metrics } = deps;
  const at = () => new Date(deps.now()).toISOString();

  /** The recipients left, by one conditional write per distinct recipient. */
  async function decide(email: QueuedEmail, recipients: Recipients) {
    const cooldown = email.cooldown;
    if (!cooldown) return undefined;
    const takes = takesFor(email.id, cooldown, recipients, deps.now());
    const outcomes = await deps.cooldowns.take(takes);
    if (outcomes.length !== takes.length) throw new Error('the cooldown store answered a different number of takes');
    const decision = applyCooldown(
      cooldown,
      recipients,
      new Map(takes.map((t, i) => [t.id, outcomes[i] as TakeOutcome])),
    );
    return decision.throttled.length === 0 ? undefined : { cooldown, ...decision };
  }

  return async ({ email, recipients, token, pin, detail }) => {
    const id = email.id;
    let decided: Awaited<ReturnType<typeof decide>>;
    try {
      decided = await decide(email, recipients);
    } catch (e) {
      const reason = 'the cooldowns could not be checked';
      await retrying(() => messages.release(id, token, { type: 'retry', at: at(), detail: { reason } }, pin)).catch(
        (error) =>
          logger.warn('could not hand back the claim of a message whose cooldowns could not be checked', {
            messageId: id,
            error,
          }),
      );
      throw e;
    }
    if (!decided) return { kind: 'send', recipients, skipped: 0, detail: {} };
    const skipped = decided.throttled.length;
    metrics.addMetric(METRICS.cooldownSkipped, 'Count', skipped);
    const own = throttledDetail(decided.cooldown, decided.throttled);
    if (!noneLeft(decided.recipients)) return { kind: 'send', recipients: decided.recipients, skipped, detail: own };

    logger.info('message throttled by its cooldown', { messageId: id });
    const reason = throttledReason(decided.cooldown, decided.throttled);
    await retrying(() =>
      messages.finish(id, token, {
        status: 'throttled',
        reason,
        event: { type: 'throttled', at: at(), detail: { ...detail, ...own } },
      }),
    );
    metrics.addMetric(METRICS.throttled, 'Count', 1);
    return { kind: 'throttled', plan: DONE };
  };
}
