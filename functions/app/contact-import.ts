/**
 * Runs a CSV import (the `import` job of the audience worker): reads the uploaded file record by
 * record, creates or updates a contact per row, adds them to the import's list, and reports the rows
 * it refused and why.
 *
 * Safe to run twice: rows are written in chunks, and after each chunk the import's checkpoint (the
 * last line written, with the counts so far) moves forward by a conditional write. A redelivered job
 * resumes after the checkpoint, so no row is counted twice; a row of a chunk that was written but not
 * checkpointed is written again (the same contact, counted as updated). Two runs at once: the one
 * whose checkpoint fails stops.
 *
 * Consent: a `consent.<category>` cell says yes or no for its row. The import's own `consent` (a
 * category every imported contact agreed to) is given to contacts that have no answer for that
 * category yet; it never overrides a withdrawal on file.
 */
import { randomUUID } from 'node:crypto';
import type { Consent, Contact } from '../core/contact';
import {
  type ContactImport,
  IMPORT_LIMITS,
  type ImportCounts,
  type ImportHeader,
  type ImportRefusal,
  readHeader,
  readRow,
} from '../core/contact-import';
import { type CsvRecord, readCsv } from '../core/csv';
import type { ContactImportStore, ContactStore, ContentStore } from '../ports';
import { type ImportJob, importFileKey } from './contact-imports';
import { logger as defaultLogger } from './observability';

export interface ImportDeps {
  readonly store: ContactStore;
  readonly imports: ContactImportStore;
  readonly content: ContentStore;
  readonly now?: () => Date;
  readonly newId?: () => string;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn'>;
}

/** Rows of a chunk written at once. */
const PARALLEL_ROWS = 10;

type Outcome = 'created' | 'updated';

export async function runImport(deps: ImportDeps, job: Pick<ImportJob, 'importId'>): Promise<void> {
  const now = () => (deps.now ?? (() => new Date()))().toISOString();
  const newId = deps.newId ?? randomUUID;
  const logger = deps.logger ?? defaultLogger;
  const found = await deps.imports.get(job.importId);
  if (!found || found.status === 'done' || found.status === 'failed' || found.status === 'waiting_upload') {
    logger.info('import job with nothing to do', { importId: job.importId, status: found?.status ?? 'none' });
    return;
  }
  const imp = await deps.imports.move(found.id, ['queued', 'running'], 'running', now());
  if (!imp) return;

  const fail = async (error: string) => {
    logger.warn('import failed', { importId: imp.id, error });
    await deps.imports.move(imp.id, ['running'], 'failed', now(), error);
    await deps.content.delete(importFileKey(imp.id));
  };

  const text = await readFile(deps.content, imp);
  if (!text.ok) return fail(text.error);
  const records = readCsv(text.text);
  const first = records.next();
  if (first.done) return fail('the file is empty: it needs a header row with an "email" column');
  if (first.value.problem) return fail(`the header row does not follow the CSV format: ${first.value.problem}`);
  const head = readHeader(first.value.fields);
  if (!head.ok) return fail(head.error);
  if (imp.listId !== undefined && !(await deps.store.getList(imp.listId)))
    return fail(`the list "${imp.listId}" was deleted`);

  const seen = new Set<string>();
  let line = imp.line;
  let counts: ImportCounts = imp.counts;
  let chunk: CsvRecord[] = [];
  const flush = async (): Promise<boolean> => {
    if (chunk.length === 0) return true;
    const result = await writeChunk(deps, imp, head.header, chunk, seen, counts, now(), newId);
    const last = chunk.at(-1)?.line ?? line;
    chunk = [];
    if (!(await deps.imports.checkpoint(imp.id, line, { line: last, counts: result }, now()))) {
      logger.info('import checkpoint taken by another run; stopping', { importId: imp.id, line });
      return false;
    }
    line = last;
    counts = result;
    return true;
  };
  for (const record of records) {
    if (record.line <= imp.line) {
      // Written and counted by an earlier run: read only for the duplicates it makes.
      readRow(head.header, record, seen);
      continue;
    }
    chunk.push(record);
    if (chunk.length >= IMPORT_LIMITS.chunkRows && !(await flush())) return;
  }
  if (!(await flush())) return;
  await deps.imports.move(imp.id, ['running'], 'done', now());
  // The file is personal data: gone as soon as it is imported (the bucket's lifecycle is the backstop).
  await deps.content.delete(importFileKey(imp.id));
  logger.info('import done', { importId: imp.id, ...counts });
}

async function readFile(
  content: ContentStore,
  imp: ContactImport,
): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  const bytes = await content.get(importFileKey(imp.id));
  if (!bytes) return { ok: false, error: 'no file was uploaded to the upload URL' };
  if (bytes.byteLength > IMPORT_LIMITS.fileBytes)
    return { ok: false, error: `the file is larger than ${IMPORT_LIMITS.fileBytes} bytes` };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, error: 'the file is not UTF-8 text' };
  }
}

/** Writes one chunk's rows and keeps its refusals; the counts after it. */
async function writeChunk(
  deps: ImportDeps,
  imp: ContactImport,
  header: ImportHeader,
  records: readonly CsvRecord[],
  seen: Set<string>,
  before: ImportCounts,
  at: string,
  newId: () => string,
): Promise<ImportCounts> {
  const refusals: ImportRefusal[] = [];
  const rows: { address: string; attributes: Record<string, string>; consent: Record<string, boolean> }[] = [];
  for (const record of records) {
    const row = readRow(header, record, seen);
    if (row.ok) rows.push({ address: row.address, attributes: { ...row.attributes }, consent: { ...row.consent } });
    else refusals.push(row.refusal);
  }
  const outcomes: { id: string; outcome: Outcome }[] = [];
  for (let i = 0; i < rows.length; i += PARALLEL_ROWS)
    outcomes.push(...(await Promise.all(rows.slice(i, i + PARALLEL_ROWS).map((r) => upsert(deps, imp, r, at, newId)))));
  if (imp.listId !== undefined && outcomes.length > 0)
    await deps.store.addMembers(
      imp.listId,
      outcomes.map((o) => o.id),
      at,
    );
  const room = Math.max(0, IMPORT_LIMITS.refusalsKept - before.refused);
  await deps.imports.addRefusals(imp.id, refusals.slice(0, room));
  return {
    rows: before.rows + records.length,
    created: before.created + outcomes.filter((o) => o.outcome === 'created').length,
    updated: before.updated + outcomes.filter((o) => o.outcome === 'updated').length,
    refused: before.refused + refusals.length,
  };
}

/** Creates the row's contact, or updates the one with its address. */
async function upsert(
  deps: ImportDeps,
  imp: ContactImport,
  row: { address: string; attributes: Record<string, string>; consent: Record<string, boolean> },
  at: string,
  newId: () => string,
): Promise<{ id: string; outcome: Outcome }> {
  const source = imp.consent?.source ?? 'import';
  const answers = (existing: Contact | undefined): Record<string, Consent> => {
    const out: Record<string, Consent> = {};
    if (imp.consent && existing?.consent[imp.consent.category] === undefined)
      out[imp.consent.category] = { granted: true, source, at };
    for (const [category, granted] of Object.entries(row.consent)) out[category] = { granted, source, at };
    return out;
  };
  const existing = await deps.store.byAddress(row.address);
  if (!existing) {
    const contact: Contact = {
      id: newId(),
      address: row.address,
      attributes: row.attributes,
      consent: answers(undefined),
      createdAt: at,
      updatedAt: at,
    };
    if (await deps.store.create(contact)) return { id: contact.id, outcome: 'created' };
  }
  const current = existing ?? (await deps.store.byAddress(row.address));
  if (!current) throw new Error(`import: the contact of a row could be neither created nor found`);
  await deps.store.update(current.id, { attributes: row.attributes, consent: answers(current) }, at);
  return { id: current.id, outcome: 'updated' };
}
