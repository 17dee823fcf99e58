/** An in-memory import store, with the same conditions as the DynamoDB adapter (store/contact-import-store.ts). */
import type { ContactImport, ImportRefusal, ImportStatus } from '../../functions/core/contact-import';
import type { ContactImportStore, ImportProgress } from '../../functions/ports';

export class MemoryContactImportStore implements ContactImportStore {
  readonly imports = new Map<string, ContactImport>();
  readonly refused = new Map<string, Map<number, ImportRefusal>>();
  /** Checkpoints taken (tests count them). */
  checkpoints = 0;

  async create(item: ContactImport) {
    if (this.imports.has(item.id)) return false;
    this.imports.set(item.id, structuredClone(item));
    return true;
  }
  async get(id: string) {
    const item = this.imports.get(id);
    return item ? structuredClone(item) : undefined;
  }
  async move(id: string, from: readonly ImportStatus[], to: ImportStatus, at: string, error?: string) {
    const item = this.imports.get(id);
    if (!item || !from.includes(item.status)) return undefined;
    const next: ContactImport = { ...item, status: to, updatedAt: at, ...(error === undefined ? {} : { error }) };
    this.imports.set(id, next);
    return structuredClone(next);
  }
  async checkpoint(id: string, previousLine: number, next: ImportProgress, at: string) {
    const item = this.imports.get(id);
    if (!item || item.line !== previousLine || item.status !== 'running') return false;
    this.imports.set(id, { ...item, line: next.line, counts: { ...next.counts }, updatedAt: at });
    this.checkpoints++;
    return true;
  }
  async addRefusals(id: string, refusals: readonly ImportRefusal[]) {
    const kept = this.refused.get(id) ?? new Map<number, ImportRefusal>();
    for (const r of refusals) kept.set(r.line, { ...r });
    this.refused.set(id, kept);
  }
  async refusals(id: string) {
    return [...(this.refused.get(id)?.values() ?? [])].sort((a, b) => a.line - b.line);
  }
}
