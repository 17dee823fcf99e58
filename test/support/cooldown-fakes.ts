/** The in-memory CooldownStore: the same condition as the DynamoDB adapter (core/cooldown.ts `mayTake`). */
import { type CooldownItem, type CooldownTake, itemOf, mayTake, type TakeOutcome } from '../../functions/core/cooldown';
import type { CooldownStore } from '../../functions/ports';

export class MemoryCooldownStore implements CooldownStore {
  readonly items = new Map<string, CooldownItem>();
  /** Writes asked for (one per recipient), for request counts. */
  writes = 0;
  /** When set, every take throws it (a store that cannot be reached). */
  failWith: Error | undefined;

  async take(takes: readonly CooldownTake[]): Promise<TakeOutcome[]> {
    return Promise.all(takes.map((t) => this.takeOne(t)));
  }

  private async takeOne(t: CooldownTake): Promise<TakeOutcome> {
    this.writes++;
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
    const current = this.items.get(t.id);
    if (mayTake(current, t.messageId, t.nowMs)) {
      this.items.set(t.id, itemOf(t));
      return { taken: true };
    }
    const held = current as CooldownItem;
    return { taken: false, heldBy: held.messageId, sentAt: held.sentAt, until: held.until };
  }
}
