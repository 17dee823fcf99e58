/**
 * The CSV import use case on fakes: every reason a row is refused, the counts, consent from the
 * file and from the import, the list, what fails a whole import, and a job run twice (or stopped
 * halfway and run again) counting each row once.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { runImport } from '../../../functions/app/contact-import';
import { importFileKey } from '../../../functions/app/contact-imports';
import type { ContactImport } from '../../../functions/core/contact-import';
import { IMPORT_LIMITS, NO_COUNTS } from '../../../functions/core/contact-import';
import { MemoryContactStore } from '../../support/contact-fakes';
import { MemoryContactImportStore } from '../../support/contact-import-fakes';
import { MemoryContentStore } from '../../support/content-store';

const T0 = '2026-11-29T09:00:00.000Z';
const NOW = '2026-11-29T10:00:00.000Z';
const silent = { info: () => undefined, warn: () => undefined };

let store: MemoryContactStore;
let imports: MemoryContactImportStore;
let content: MemoryContentStore;
let ids: number;

beforeEach(async () => {
  store = new MemoryContactStore();
  imports = new MemoryContactImportStore();
  content = new MemoryContentStore();
  ids = 0;
  await store.createList({ id: 'news', name: 'News', createdAt: T0 });
});

const deps = () => ({
  store,
  imports,
  content,
  now: () => new Date(NOW),
  newId: () => `c-${String(++ids).padStart(4, '0')}`,
  logger: silent,
});

async function given(csv: string, over: Partial<ContactImport> = {}): Promise<string> {
  const id = `imp-${Object.keys(over).length}-${imports.imports.size}`;
  await imports.create({
    id,
    status: 'queued',
    size: csv.length,
    createdAt: T0,
    updatedAt: T0,
    counts: NO_COUNTS,
    line: 1,
    createdBy: 'ops',
    ...over,
  });
  await content.put(importFileKey(id), new TextEncoder().encode(csv), 'text/csv');
  return id;
}

const run = (id: string) => runImport(deps(), { importId: id });

describe('runImport', () => {
  it('creates and updates contacts, adds them to the list, and counts each row', async () => {
    await store.create({
      id: 'old',
      address: 'bob@example.com',
      attributes: { plan: 'free', city: 'Lyon' },
      consent: {},
      createdAt: T0,
      updatedAt: T0,
    });
    const id = await given('email,first_name,plan\r\nAnn@Example.com,Ann,pro\nbob@example.com,Bob,\n', {
      listId: 'news',
    });
    await run(id);
    expect(await imports.get(id)).toMatchObject({
      status: 'done',
      counts: { rows: 2, created: 1, updated: 1, refused: 0 },
    });
    expect(await store.byAddress('ann@example.com')).toMatchObject({
      id: 'c-0001',
      attributes: { first_name: 'Ann', plan: 'pro' },
    });
    // An empty cell leaves the attribute as it was.
    expect((await store.get('old'))?.attributes).toEqual({ plan: 'free', city: 'Lyon', first_name: 'Bob' });
    expect((await store.members('news', 10)).ids).toEqual(['c-0001', 'old']);
    // The file is personal data: deleted once imported.
    expect(content.objects.has(importFileKey(id))).toBe(false);
  });

  it('refuses rows for every reason, with the line, the value and why', async () => {
    const csv = [
      'email,name,consent.newsletter',
      'ann@example.com,Ann,yes',
      'not-an-address,X,yes',
      ',Nobody,',
      'ANN@example.com,Ann again,no',
      'cy@example.com,Cy,maybe',
      'dee@example.com,Dee,1,extra',
      'eve@example.com,"Eve"x,1',
      `fay@example.com,${'y'.repeat(9000)},1`,
      'gus@example.com,"Gus, Jr",0',
    ].join('\n');
    const id = await given(csv);
    await run(id);
    expect(await imports.get(id)).toMatchObject({
      status: 'done',
      counts: { rows: 9, created: 2, updated: 0, refused: 7 },
    });
    expect(await imports.refusals(id)).toEqual([
      { line: 3, value: 'not-an-address', reason: 'bad_address', message: expect.any(String) },
      { line: 4, value: '', reason: 'bad_address', message: 'no address' },
      {
        line: 5,
        value: 'ANN@example.com',
        reason: 'duplicate_in_file',
        message: expect.stringContaining('earlier row'),
      },
      { line: 6, value: 'maybe', reason: 'bad_consent', message: expect.stringContaining('consent.newsletter') },
      {
        line: 7,
        value: 'extra',
        reason: 'too_many_columns',
        message: 'the row has 4 values; the header has 3 columns',
      },
      { line: 8, value: 'eve@example.com', reason: 'bad_format', message: 'text after a closing quote' },
      { line: 9, value: 'fay@example.com', reason: 'too_large', message: expect.stringContaining('bytes') },
    ]);
    expect((await store.byAddress('gus@example.com'))?.attributes).toEqual({ name: 'Gus, Jr' });
  });

  it("gives the import's consent to contacts with no answer yet, never over a withdrawal; cells say yes or no", async () => {
    await store.create({
      id: 'out',
      address: 'out@example.com',
      attributes: {},
      consent: { newsletter: { granted: false, source: 'unsubscribe', at: T0 } },
      createdAt: T0,
      updatedAt: T0,
    });
    const id = await given('email,consent.product\nnew@example.com,\nout@example.com,no\nboth@example.com,YES\n', {
      consent: { category: 'newsletter', source: 'signup-form' },
    });
    await run(id);
    const at = NOW;
    expect((await store.byAddress('new@example.com'))?.consent).toEqual({
      newsletter: { granted: true, source: 'signup-form', at },
    });
    expect((await store.get('out'))?.consent).toEqual({
      newsletter: { granted: false, source: 'unsubscribe', at: T0 },
      product: { granted: false, source: 'signup-form', at },
    });
    expect((await store.byAddress('both@example.com'))?.consent).toEqual({
      newsletter: { granted: true, source: 'signup-form', at },
      product: { granted: true, source: 'signup-form', at },
    });
  });

  it('keeps the first 1000 refused rows and counts them all', async () => {
    const rows = Array.from({ length: 1005 }, (_, i) => `bad-${i}`);
    const id = await given(['email', ...rows].join('\n'));
    await run(id);
    expect((await imports.get(id))?.counts).toEqual({ rows: 1005, created: 0, updated: 0, refused: 1005 });
    const kept = await imports.refusals(id);
    expect(kept).toHaveLength(IMPORT_LIMITS.refusalsKept);
    expect(kept.at(-1)?.value).toBe('bad-999');
  });

  it('fails the whole import when the file cannot be imported, and says why', async () => {
    const cases: [string | Uint8Array | undefined, string][] = [
      [undefined, 'no file was uploaded to the upload URL'],
      ['', 'the file is empty: it needs a header row with an "email" column'],
      ['name,city\nAnn,Lyon\n', 'the header row has no "email" column'],
      ['email,email\n', 'the header names "email" twice'],
      [
        'email,first name\n',
        'column "first name": an attribute name is a letter or _, then letters, digits or _ (64 characters at most)',
      ],
      ['email,consent.*\n', 'column "consent.*": a consent category is lower case letters, digits, - or _'],
      [new Uint8Array([0x65, 0x6d, 0xff, 0xfe]), 'the file is not UTF-8 text'],
    ];
    for (const [file, error] of cases) {
      const id = `imp-fail-${cases.findIndex((c) => c[1] === error)}`;
      await imports.create({
        id,
        status: 'queued',
        size: 1,
        createdAt: T0,
        updatedAt: T0,
        counts: NO_COUNTS,
        line: 1,
        createdBy: 'ops',
      });
      if (file !== undefined)
        await content.put(
          importFileKey(id),
          typeof file === 'string' ? new TextEncoder().encode(file) : file,
          'text/csv',
        );
      await run(id);
      expect(await imports.get(id), error).toMatchObject({ status: 'failed', error });
    }
    expect(store.contacts.size).toBe(0);
    const listGone = await given('email\nann@example.com\n', { listId: 'gone' });
    await run(listGone);
    expect(await imports.get(listGone)).toMatchObject({ status: 'failed', error: 'the list "gone" was deleted' });
  });

  it('does nothing for an import that is done, failed or not started', async () => {
    for (const status of ['done', 'failed', 'waiting_upload'] as const) {
      const id = await given('email\nann@example.com\n', { status });
      await run(id);
      expect((await imports.get(id))?.status).toBe(status);
    }
    expect(store.contacts.size).toBe(0);
    await run('imp-none');
  });

  it('run twice (a redelivered job), counts each row once', async () => {
    const csv = [
      'email,n',
      ...Array.from({ length: 250 }, (_, i) => `c${i}@example.com,${i}`),
      'c7@example.com,dup',
    ].join('\n');
    const id = await given(csv, { listId: 'news' });
    await run(id);
    const first = await imports.get(id);
    expect(first?.counts).toEqual({ rows: 251, created: 250, updated: 0, refused: 1 });
    // The job comes again after the import finished: nothing changes.
    await imports.move(id, ['done'], 'queued', NOW);
    await run(id);
    expect((await imports.get(id))?.counts).toEqual(first?.counts);
    expect((await imports.refusals(id)).map((r) => r.line)).toEqual([252]);
  });

  it('stopped halfway and run again, resumes after its checkpoint: no row counted twice, none skipped', async () => {
    const csv = ['email', ...Array.from({ length: 250 }, (_, i) => `c${i}@example.com`), 'c3@example.com'].join('\n');
    const id = await given(csv, { listId: 'news' });
    // The first run dies while writing its third chunk (after two checkpoints).
    const crashing = new MemoryContactStore();
    Object.assign(crashing, { contacts: store.contacts, listItems: store.listItems, memberships: store.memberships });
    let writes = 0;
    const create = crashing.create.bind(crashing);
    crashing.create = async (c) => {
      if (++writes > 2 * IMPORT_LIMITS.chunkRows + 5)
        throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return create(c);
    };
    await expect(runImport({ ...deps(), store: crashing }, { importId: id })).rejects.toThrow('throttled');
    expect(await imports.get(id)).toMatchObject({ status: 'running', line: 201, counts: { rows: 200, created: 200 } });
    // The redelivered job.
    await run(id);
    expect(await imports.get(id)).toMatchObject({
      status: 'done',
      // The five rows written before the crash but after the checkpoint are written again, as updates.
      counts: { rows: 251, created: 245, updated: 5, refused: 1 },
    });
    expect(store.contacts.size).toBe(250);
    expect((await store.members('news', 1000)).ids).toHaveLength(250);
    // The duplicate of a row before the checkpoint is still found.
    expect(await imports.refusals(id)).toEqual([expect.objectContaining({ line: 252, reason: 'duplicate_in_file' })]);
  });

  it('two runs at once: the one that loses a checkpoint stops', async () => {
    const id = await given(['email', ...Array.from({ length: 150 }, (_, i) => `c${i}@example.com`)].join('\n'));
    await imports.move(id, ['queued'], 'running', NOW);
    // Another run checkpointed the first chunk meanwhile.
    const checkpoint = imports.checkpoint.bind(imports);
    let first = true;
    imports.checkpoint = async (...args) => {
      if (first) {
        first = false;
        await checkpoint(id, 1, { line: 101, counts: { rows: 100, created: 100, updated: 0, refused: 0 } }, NOW);
      }
      return checkpoint(...args);
    };
    await run(id);
    expect(await imports.get(id)).toMatchObject({ status: 'running', line: 101 });
  });
});
