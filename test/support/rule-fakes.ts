/** An in-memory rule store, with the same answers as the DynamoDB adapter (store/rule-store.ts). */
import type { Rule } from '../../functions/core/rule';
import type { RuleStore } from '../../functions/ports';

export class MemoryRuleStore implements RuleStore {
  readonly rules = new Map<string, Rule>();
  /** Reads by event name, as the adapter's Queries. */
  queries = 0;

  async create(rule: Rule) {
    if (this.rules.has(rule.id)) return false;
    this.rules.set(rule.id, structuredClone(rule));
    return true;
  }
  async get(id: string) {
    const r = this.rules.get(id);
    return r ? structuredClone(r) : undefined;
  }
  async forEvent(event: string) {
    this.queries++;
    return [...this.rules.values()]
      .filter((r) => r.event === event)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((r) => structuredClone(r));
  }
  async list(limit: number, cursor?: string) {
    const all = [...this.rules.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const after = cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : undefined;
    const rest = after === undefined ? all : all.filter((r) => r.id > after);
    const items = rest.slice(0, limit).map((r) => structuredClone(r));
    const last = items.at(-1);
    return rest.length > limit && last
      ? { items, next: Buffer.from(last.id, 'utf8').toString('base64url') }
      : { items };
  }
  async replace(rule: Rule) {
    const old = this.rules.get(rule.id);
    if (!old || old.event !== rule.event) return false;
    this.rules.set(rule.id, structuredClone(rule));
    return true;
  }
  async delete(id: string) {
    return this.rules.delete(id);
  }
}
