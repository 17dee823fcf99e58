/**
 * The cooldown store (store/cooldown-store.ts): one item per key and recipient, taken by the
 * dispatcher with one conditional write per recipient when an email with a `cooldown` is sent
 * (core/cooldown.ts says when a write may take an item).
 */
import type { CooldownTake, TakeOutcome } from '../core/cooldown';

export interface CooldownStore {
  /**
   * Takes each cooldown for its message, each with one conditional write (run in parallel): written
   * when no item is there, when the item's window has ended at `nowMs`, or when the same message
   * holds it (a retry). Outcomes in the order of `takes`; a held one names its holder and window.
   * Throws when a write fails for another reason (the ones written stay: they name this message,
   * so a retry passes them).
   */
  take(takes: readonly CooldownTake[]): Promise<TakeOutcome[]>;
}
