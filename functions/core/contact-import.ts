/**
 * A CSV import of contacts: its states, its counts and the rows it refused, and the rules that turn
 * a CSV row into a contact's fields. The use case (app/contact-import.ts) reads the file and writes;
 * this module decides. Pure: no I/O.
 *
 * States: `waiting_upload` (created, the file is being PUT to its upload URL) → `queued` (started: a
 * job is on the audience jobs queue) → `running` → `done` or `failed` (the file could not be read as
 * a whole: none uploaded, not UTF-8, a header without `email`…; rows it refuses one by one do not
 * fail it).
 */
import { normaliseAddress, parseAddress } from './address';
import { attributeNameProblem, CATEGORY_PATTERN, CONTACT_LIMITS, consentValue } from './contact-fields';

export const IMPORT_STATUSES = ['waiting_upload', 'queued', 'running', 'done', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export const IMPORT_LIMITS = {
  /** Bytes of a CSV file. */
  fileBytes: 10 * 1024 * 1024,
  /** Columns of a CSV file (email, attributes, consent columns). */
  columns: CONTACT_LIMITS.attributes + CONTACT_LIMITS.categories + 1,
  /** Seconds the upload URL accepts the file. */
  uploadUrlSeconds: 15 * 60,
  /** Days an import and its report are kept (its refused cells are personal data). */
  keepDays: 7,
  /** Refused rows kept in the report (the count goes on). */
  refusalsKept: 1000,
  /** Characters of a refused cell kept in the report. */
  valueChars: 200,
  /** Rows written between checkpoints. */
  chunkRows: 100,
} as const;

/** Why a row was refused. */
export const REFUSAL_REASONS = {
  bad_format: 'the row does not follow the CSV format',
  too_many_columns: 'the row has more values than the header has columns',
  bad_address: 'not an email address',
  duplicate_in_file: 'the address is on an earlier row of the file',
  bad_consent: 'a consent value is one of true, false, yes, no, 1 or 0 (or empty)',
  too_large: 'the attributes are larger than a contact may hold',
} as const;
export type RefusalReason = keyof typeof REFUSAL_REASONS;

export interface ImportRefusal {
  readonly line: number;
  /** The refused cell (or the row's first cell), cut short. */
  readonly value: string;
  readonly reason: RefusalReason;
  readonly message: string;
}

export interface ImportCounts {
  /** Rows read (the header is not a row). */
  readonly rows: number;
  readonly created: number;
  readonly updated: number;
  readonly refused: number;
}

export const NO_COUNTS: ImportCounts = { rows: 0, created: 0, updated: 0, refused: 0 };

export interface ContactImport {
  readonly id: string;
  readonly status: ImportStatus;
  /** The list every imported contact joins. */
  readonly listId?: string | undefined;
  /** Consent every imported contact gets, unless its row says otherwise. */
  readonly consent?: { readonly category: string; readonly source: string } | undefined;
  /** Bytes of the file (the upload URL takes exactly these). */
  readonly size: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly counts: ImportCounts;
  /** The last line of the file whose row is written and counted (the checkpoint a rerun resumes after). */
  readonly line: number;
  /** Why a failed import failed. */
  readonly error?: string | undefined;
  /** The API key that created it. */
  readonly createdBy: string;
}

/** What the header row means: the address column, attribute columns and consent columns by index. */
export interface ImportHeader {
  readonly email: number;
  readonly attributes: readonly { readonly index: number; readonly name: string }[];
  readonly consent: readonly { readonly index: number; readonly category: string }[];
  readonly width: number;
}

/** The header of a CSV import, or why the file cannot be imported. */
export function readHeader(
  fields: readonly string[],
): { ok: true; header: ImportHeader } | { ok: false; error: string } {
  const names = fields.map((f) => f.trim());
  if (names.length > IMPORT_LIMITS.columns)
    return { ok: false, error: `the header has ${names.length} columns; at most ${IMPORT_LIMITS.columns}` };
  const seen = new Set<string>();
  const attributes: { index: number; name: string }[] = [];
  const consent: { index: number; category: string }[] = [];
  let email = -1;
  for (const [index, raw] of names.entries()) {
    const name = raw.toLowerCase() === 'email' ? 'email' : raw;
    if (seen.has(name)) return { ok: false, error: `the header names "${name.slice(0, 64)}" twice` };
    seen.add(name);
    if (name === 'email') email = index;
    else if (name.startsWith('consent.')) {
      const category = name.slice('consent.'.length);
      if (!CATEGORY_PATTERN.test(category))
        return {
          ok: false,
          error: `column "${name.slice(0, 80)}": a consent category is lower case letters, digits, - or _`,
        };
      consent.push({ index, category });
    } else {
      const problem = attributeNameProblem(name);
      if (problem) return { ok: false, error: `column "${name.slice(0, 80)}": ${problem}` };
      attributes.push({ index, name });
    }
  }
  if (email < 0) return { ok: false, error: 'the header row has no "email" column' };
  if (consent.length > CONTACT_LIMITS.categories)
    return {
      ok: false,
      error: `the header has ${consent.length} consent columns; at most ${CONTACT_LIMITS.categories}`,
    };
  return { ok: true, header: { email, attributes, consent, width: names.length } };
}

/** A row turned into a contact's fields, or the reason it is refused. */
export type ImportRow =
  | {
      readonly ok: true;
      readonly address: string;
      readonly attributes: Readonly<Record<string, string>>;
      /** Per category: granted or withdrawn (categories whose cell is empty are left out). */
      readonly consent: Readonly<Record<string, boolean>>;
    }
  | { readonly ok: false; readonly refusal: ImportRefusal };

const cut = (value: string) =>
  value.length > IMPORT_LIMITS.valueChars ? `${value.slice(0, IMPORT_LIMITS.valueChars)}…` : value;

const refuse = (line: number, value: string, reason: RefusalReason, detail?: string): ImportRow => ({
  ok: false,
  refusal: { line, value: cut(value), reason, message: detail ?? REFUSAL_REASONS[reason] },
});

/**
 * One data row: its address normalised as the suppression list keys addresses, its non-empty
 * attribute cells, its consent cells. `seen` holds the addresses of earlier rows (this row's is added).
 */
export function readRow(
  header: ImportHeader,
  record: { readonly line: number; readonly fields: readonly string[]; readonly problem?: string },
  seen: Set<string>,
): ImportRow {
  const { line, fields } = record;
  if (record.problem) return refuse(line, fields[0] ?? '', 'bad_format', record.problem);
  if (fields.length > header.width)
    return refuse(
      line,
      fields.slice(header.width).join(','),
      'too_many_columns',
      `the row has ${fields.length} values; the header has ${header.width} columns`,
    );
  const cell = (i: number) => fields[i] ?? '';
  const rawAddress = cell(header.email).trim();
  const address = normaliseAddress(rawAddress);
  if (!address) {
    const parsed = rawAddress === '' ? undefined : parseAddress(rawAddress);
    const why = rawAddress === '' ? 'no address' : parsed && !parsed.ok ? parsed.message : 'not an email address';
    return refuse(line, rawAddress, 'bad_address', why);
  }
  const consent: Record<string, boolean> = {};
  for (const { index, category } of header.consent) {
    const value = cell(index);
    if (value.trim() === '') continue;
    const granted = consentValue(value);
    if (granted === undefined)
      return refuse(line, value, 'bad_consent', `consent.${category}: ${REFUSAL_REASONS.bad_consent}`);
    consent[category] = granted;
  }
  const attributes: Record<string, string> = {};
  for (const { index, name } of header.attributes) {
    const value = cell(index);
    if (value !== '') attributes[name] = value;
  }
  if (new TextEncoder().encode(JSON.stringify(attributes)).length > CONTACT_LIMITS.attributeBytes)
    return refuse(line, rawAddress, 'too_large', `the attributes are over ${CONTACT_LIMITS.attributeBytes} bytes`);
  if (seen.has(address)) return refuse(line, rawAddress, 'duplicate_in_file');
  seen.add(address);
  return { ok: true, address, attributes, consent };
}
