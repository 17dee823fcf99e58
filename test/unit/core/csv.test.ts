import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsv, writeCsvRecord } from '../../../functions/core/csv';

const read = (text: string) => [...readCsv(text)];

describe('readCsv', () => {
  it('reads fields, quoted fields with commas, line breaks and doubled quotes, CRLF and LF', () => {
    expect(read('email,name\r\nann@example.com,"Smith, Ann"\nbob@example.com,"say ""hi""\r\nthere"\r\n')).toEqual([
      { line: 1, fields: ['email', 'name'] },
      { line: 2, fields: ['ann@example.com', 'Smith, Ann'] },
      { line: 3, fields: ['bob@example.com', 'say "hi"\r\nthere'] },
    ]);
  });

  it('ignores a byte order mark and empty lines; a last record without a line break is read', () => {
    expect(read('\ufeffemail\n\nann@example.com\n\r\nbob@example.com')).toEqual([
      { line: 1, fields: ['email'] },
      { line: 3, fields: ['ann@example.com'] },
      { line: 5, fields: ['bob@example.com'] },
    ]);
    expect(read('')).toEqual([]);
    expect(read('a,,\n')).toEqual([{ line: 1, fields: ['a', '', ''] }]);
  });

  it('reports records that break the format, by line, and reads on', () => {
    expect(read('a,b"c\n"x"y,z\nok\n"never closed\nmore')).toEqual([
      { line: 1, fields: ['a', 'b"c'], problem: 'a quote inside a value that does not start with one' },
      { line: 2, fields: ['xy', 'z'], problem: 'text after a closing quote' },
      { line: 3, fields: ['ok'] },
      { line: 4, fields: ['never closed\nmore'], problem: 'a quoted value is never closed' },
    ]);
  });

  it('reads back whatever records are written, with either line break, with or without a BOM (property)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r\n', '\n', ' ', 'é', '😀') });
    const record = fc.array(field, { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), (records, lf, bom) => {
        // A record of one empty field is an empty line, which is no record: written quoted, it is one.
        let text = records.map(writeCsvRecord).join('');
        if (lf) text = text.replace(/\r\n(?=(?:[^"]*"[^"]*")*[^"]*$)/g, '\n');
        if (bom) text = `\ufeff${text}`;
        const back = read(text);
        expect(back.map((r) => r.fields)).toEqual(records);
        expect(back.every((r) => r.problem === undefined)).toBe(true);
        // Each record starts on the line after the lines of the records before it.
        let line = 1;
        for (const [i, r] of back.entries()) {
          expect(r.line).toBe(line);
          line += 1 + (records[i] ?? []).join(',').split(/\r\n|\n/).length - 1;
        }
      }),
    );
  });
});
