/**
 * The CSV imports of contacts (store/contact-import-store.ts): each import's state, counts and
 * checkpoint, and the rows it refused. An import advances by conditional writes, so a job delivered
 * twice never counts a row twice.
 */
import type { ContactImport, ImportCounts, ImportRefusal, ImportStatus } from '../core/contact-import';

export interface ImportProgress {
  readonly line: number;
  readonly counts: ImportCounts;
}

export interface ContactImportStore {
  /** False when the id is taken. */
  create(item: ContactImport): Promise<boolean>;
  get(id: string): Promise<ContactImport | undefined>;
  /**
   * Moves an import in one of `from` to `to` (with an `error` for `failed`). The import afterwards;
   * undefined when there is none or it is in another state.
   */
  move(
    id: string,
    from: readonly ImportStatus[],
    to: ImportStatus,
    at: string,
    error?: string,
  ): Promise<ContactImport | undefined>;
  /**
   * Records the rows up to `next.line` as written and counted, if the checkpoint is still at
   * `previousLine` and the import is running; false otherwise (another run got there first).
   */
  checkpoint(id: string, previousLine: number, next: ImportProgress, at: string): Promise<boolean>;
  /** Keeps refused rows in the report (a row refused again replaces itself: keyed by its line). */
  addRefusals(id: string, refusals: readonly ImportRefusal[]): Promise<void>;
  /** The refused rows kept, by line. */
  refusals(id: string): Promise<ImportRefusal[]>;
}
