/**
 * Contacts on the local stack: a CSV uploaded through the import's presigned URL to the S3
 * emulator, the import started, run by the audience worker from its queue, and its report read
 * back; then the erase path on the real tables.
 */
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { api, eventually, useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack((s) => {
  stack = s;
});

const CSV = [
  'email,first_name,consent.newsletter',
  'ann@example.com,Ann,yes',
  '"bob@example.com","Bob ""the builder""",no',
  'not-an-address,Cy,yes',
  'ANN@example.com,Ann again,yes',
  'dee@example.com,Dee,maybe',
  '',
].join('\r\n');

describe('CSV import on the local stack', () => {
  it('uploads the file through the presigned URL, imports it on the audience worker, and reports refused rows', async () => {
    expect((await api(stack, 'POST', '/v1/lists', { id: 'news', name: 'News' })).status).toBe(201);
    const bytes = new TextEncoder().encode(CSV);
    const created = await api(stack, 'POST', '/v1/contacts/imports', {
      size: bytes.byteLength,
      listId: 'news',
      consent: { category: 'product', source: 'import' },
    });
    expect(created.status).toBe(201);
    const put = await fetch(created.body.uploadUrl, { method: 'PUT', headers: created.body.headers, body: bytes });
    expect(put.status).toBe(200);
    const id: string = created.body.id;
    expect((await api(stack, 'POST', `/v1/contacts/imports/${id}/start`)).status).toBe(202);
    const done = await eventually(async () => {
      const r = await api(stack, 'GET', `/v1/contacts/imports/${id}`);
      return r.body?.status === 'done' || r.body?.status === 'failed' ? r.body : undefined;
    }, 'the import to end');
    expect(done).toMatchObject({
      status: 'done',
      counts: { rows: 5, created: 2, updated: 0, refused: 3 },
      refused: [
        { line: 4, value: 'not-an-address', reason: 'bad_address' },
        { line: 5, value: 'ANN@example.com', reason: 'duplicate_in_file' },
        { line: 6, value: 'maybe', reason: 'bad_consent' },
      ],
    });
    const bob = await api(stack, 'GET', '/v1/contacts/bob@example.com');
    expect(bob.body).toMatchObject({
      attributes: { first_name: 'Bob "the builder"' },
      consent: { newsletter: { granted: false, source: 'import' }, product: { granted: true, source: 'import' } },
    });
    const members = await api(stack, 'GET', '/v1/lists/news/members');
    expect(members.body.data.map((c: { email: string }) => c.email).sort()).toEqual([
      'ann@example.com',
      'bob@example.com',
    ]);
    // Started once only.
    expect((await api(stack, 'POST', `/v1/contacts/imports/${id}/start`)).status).toBe(409);
  });

  it('erases a contact from the tables, keeping its suppression', async () => {
    expect((await api(stack, 'POST', '/v1/contacts', { email: 'erase-me@example.com' })).status).toBe(201);
    await api(stack, 'POST', '/v1/lists/news/members', { contacts: ['erase-me@example.com'] });
    expect((await api(stack, 'PUT', '/v1/suppressions/erase-me@example.com', {})).status).toBe(200);
    const erased = await api(stack, 'DELETE', '/v1/contacts/erase-me@example.com');
    expect(erased.body).toMatchObject({ erased: true, suppressionKept: ['*'] });
    expect((await api(stack, 'GET', '/v1/contacts/erase-me@example.com')).status).toBe(404);
    const members = await api(stack, 'GET', '/v1/lists/news/members');
    expect(members.body.data.map((c: { email: string }) => c.email)).not.toContain('erase-me@example.com');
    expect((await api(stack, 'GET', '/v1/suppressions/erase-me@example.com')).status).toBe(200);
  });
});
