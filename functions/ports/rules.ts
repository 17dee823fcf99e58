/**
 * The rule store (store/rule-store.ts): event rules, read by event name in one Query when an event
 * is emitted, and by id through the rules API.
 */
import type { Rule } from '../core/rule';

export interface RuleStore {
  /** Writes a new rule; false when its id is taken (nothing written). */
  create(rule: Rule): Promise<boolean>;
  get(id: string): Promise<Rule | undefined>;
  /** Every rule of an event name, enabled or not (one Query). */
  forEvent(event: string): Promise<Rule[]>;
  /** Rules in id order, paged. */
  list(limit: number, cursor?: string): Promise<{ items: Rule[]; next?: string }>;
  /** Replaces an existing rule (same id and event name); false when there is none. */
  replace(rule: Rule): Promise<boolean>;
  /** Removes a rule; false when there was none. */
  delete(id: string): Promise<boolean>;
}
