/**
 * The API reference against the running local stack: the answers of the API (successes and errors,
 * /v1 and /resend) are what the OpenAPI document it serves says they are, and the /docs page renders
 * that document in a real browser, under its policy, without a request to another origin, and sends
 * a request with the reader's key.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_API_KEY, type LocalStack } from '../../bin/local-stack';
import { api, statusOf, useLocalStack } from '../support/local';
import { findOperation, type Json, validator } from '../support/openapi';
import { CHROMIUM } from './global-setup';

let stack: LocalStack;
let doc: Json;
let browser: Browser;

useLocalStack(
  (s) => {
    stack = s;
  },
  { apiKey: DEFAULT_LOCAL_API_KEY, seedTemplates: true },
);

beforeAll(async () => {
  const res = await fetch(`${stack.apiUrl}/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Json;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => {
  await browser?.close();
});

/** The answer to a request, checked against the operation the document has for it. */
async function conforms(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await api(stack, method, url, body, headers);
  const path = url.split('?')[0] ?? '';
  const op = findOperation(doc, method, path)?.op;
  expect(op, `${method} ${path}`).toBeDefined();
  const documented = op?.responses[String(res.status)];
  expect(documented, `${method} ${url} answered ${res.status}, not documented`).toBeDefined();
  const schema = documented?.content?.['application/json']?.schema;
  if (schema) {
    const parsed = validator(doc, schema).safeParse(res.body);
    expect(parsed.success, `${method} ${url} ${res.status}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  }
  return res;
}

describe('the answers of the running API', () => {
  it('match the document: send, status, search, errors', async () => {
    const sent = await conforms('POST', '/v1/emails', {
      from: 'app@example.com',
      to: ['ref@example.org'],
      subject: 'reference-1',
      text: 'Hi',
      tags: { kind: 'ref' },
    });
    expect(sent.status).toBe(202);
    await statusOf(stack, sent.body.id, 'sent');
    await conforms('GET', `/v1/emails/${sent.body.id}`);
    const found = await conforms('GET', '/v1/emails?to=ref@example.org&tag=kind:ref');
    expect(found.body.data.map((e: { id: string }) => e.id)).toEqual([sent.body.id]);
    await conforms('POST', '/v1/emails/batch', {
      emails: [{ from: 'app@example.com', to: 'b@example.org', subject: 'reference-2', text: 'Hi' }],
    });
    expect((await conforms('GET', '/v1/emails?status=lost')).status).toBe(422);
    expect((await conforms('POST', '/v1/emails', { from: 'app@example.com' })).status).toBe(422);
    expect((await conforms('GET', '/v1/emails/nope')).status).toBe(404);
    expect((await conforms('GET', '/v1/emails', undefined, { authorization: 'Bearer mr_nope_nope_nope' })).status).toBe(
      401,
    );
  });

  it('match the document: suppressions, templates, settings, health', async () => {
    await conforms('PUT', '/v1/suppressions/gone@example.org', { scope: '*' });
    await conforms('GET', '/v1/suppressions');
    await conforms('GET', '/v1/suppressions/gone@example.org');
    await conforms('DELETE', '/v1/suppressions/gone@example.org');
    await conforms('GET', '/v1/templates');
    await conforms('GET', '/v1/templates/receipt');
    await conforms('GET', '/v1/templates/receipt/versions');
    await conforms('POST', '/v1/templates/receipt/render', { variables: { name: 'Jane' } });
    await conforms('GET', '/v1/settings/providers');
    await conforms('GET', '/v1/settings/streams');
    expect((await conforms('POST', '/v1/settings/streams/bulk/resume')).status).toBe(409);
    await conforms('GET', '/health');
  });

  it("match the document in Resend's shapes", async () => {
    const sent = await conforms('POST', '/resend/emails', {
      from: 'app@example.com',
      to: 'r@example.org',
      subject: 'reference-3',
      text: 'Hi',
    });
    expect(sent.status).toBe(200);
    await conforms('GET', `/resend/emails/${sent.body.id}`);
    await conforms('POST', '/resend/emails/batch', [{ from: 'app@example.com', to: 'nope', subject: 'x', text: 'x' }], {
      'x-batch-validation': 'permissive',
    });
    expect((await conforms('POST', '/resend/emails', { from: 'app@example.com' })).status).toBe(422);
    expect((await conforms('POST', `/resend/emails/${sent.body.id}/cancel`)).status).toBe(409);
  });
});

describe('the /docs page in a browser', () => {
  it('renders every operation under its policy, from this origin only, and tries a request with the key', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    const origins = new Set<string>();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => {
      origins.add(new URL(r.url()).origin);
    });
    const res = await page.goto(`${stack.apiUrl}/docs`);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);
    await page.waitForSelector('#getV1EmailsById');
    expect(problems).toEqual([]);
    const operations = await page.locator('section.op').count();
    const documented = Object.values(doc.paths as Record<string, Json>).reduce(
      (n, item) => n + Object.keys(item).length,
      0,
    );
    expect(operations).toBe(documented);

    await page.fill('#key', stack.apiKey);
    const search = page.locator('#getV1Emails');
    await search.locator('summary', { hasText: 'Try it' }).click();
    await search.locator('input[name="getV1Emails-query-limit"]').fill('1');
    await search.locator('button', { hasText: 'Send' }).click();
    await expect.poll(() => search.locator('pre').textContent()).toMatch(/^200 /);
    expect(await search.locator('pre').textContent()).toContain('"data"');

    expect(problems).toEqual([]);
    expect([...origins]).toEqual([stack.apiUrl]);
    await page.close();
  });
});
