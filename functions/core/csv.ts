/**
 * A small RFC 4180 reader for contact imports: comma-separated fields, fields in double quotes may
 * hold commas, line breaks and doubled quotes (`""`), records end with CRLF or LF, a UTF-8 byte order
 * mark at the start is ignored, and empty lines are skipped. It reads lazily (one record at a time),
 * so an import holds one record, not the whole parsed file.
 *
 * A record that breaks the format (a quote inside an unquoted field, text after a closing quote, a
 * quote never closed) is still returned, with a `problem`, so the import can report it by line.
 */

export interface CsvRecord {
  /** The 1-based line the record starts on (a quoted line break makes a record span lines). */
  readonly line: number;
  readonly fields: readonly string[];
  /** Why the record does not follow the format, if it does not. */
  readonly problem?: string;
}

const QUOTE = 34; // "
const COMMA = 44; // ,
const CR = 13;
const LF = 10;

/** The records of a CSV text, in order. */
export function* readCsv(text: string): Generator<CsvRecord> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let problem: string | undefined;
    let field = '';
    let atFieldStart = true;
    let quoted = false;
    let afterQuote = false;
    let ended = false;
    while (i < n && !ended) {
      const c = text.charCodeAt(i);
      if (quoted) {
        if (c === QUOTE) {
          if (text.charCodeAt(i + 1) === QUOTE) {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            afterQuote = true;
            i++;
          }
        } else {
          if (c === LF) line++;
          else if (c === CR && text.charCodeAt(i + 1) !== LF) line++;
          field += text[i];
          i++;
        }
        continue;
      }
      if (c === COMMA) {
        fields.push(field);
        field = '';
        atFieldStart = true;
        afterQuote = false;
        i++;
      } else if (c === LF || c === CR) {
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        line++;
        ended = true;
      } else if (c === QUOTE && atFieldStart) {
        quoted = true;
        atFieldStart = false;
        i++;
      } else {
        if (afterQuote) problem ??= 'text after a closing quote';
        else if (c === QUOTE) problem ??= 'a quote inside a value that does not start with one';
        atFieldStart = false;
        field += text[i];
        i++;
      }
    }
    if (quoted) problem ??= 'a quoted value is never closed';
    fields.push(field);
    // An empty line is no record.
    if (fields.length === 1 && fields[0] === '' && !afterQuote && problem === undefined) continue;
    yield problem === undefined ? { line: start, fields } : { line: start, fields, problem };
  }
}

/** One record as CSV (fields quoted only when they need it), CRLF-terminated: for tests and exports. */
export function writeCsvRecord(fields: readonly string[]): string {
  return `${fields.map((f) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)).join(',')}\r\n`;
}
