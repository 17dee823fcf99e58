/**
 * Every curl example in README.md, run as pasted against the local stack, in README order.
 *
 * The convention (README.md, "API"): an example is a command starting with `curl` in a ```sh block
 * whose first line that is not a comment is a curl command (so deploy steps, which start with npm, are not);
 * the `# …` lines right after it (no blank line between) show its answer: an optional status
 * (`# 202 {"id":"…"}`) and the JSON body, where `…` stands for what varies. A command is checked
 * against that answer: the status, when shown (else any 2xx), every key the shown body names, and
 * every string value shown whole (without `…`). A command runs with `sh -c`, with `API`, `KEY`,
 * `ADMIN_KEY`, `ID`, `WEBHOOK_ID`, `IMPORT_ID`, `UPLOAD_URL` and `BROADCAST_ID` set as the README says (`ID`: the id of
 * the last email sent, `WEBHOOK_ID`: that of the last webhook endpoint registered, `IMPORT_ID` and
 * `UPLOAD_URL`: those of the last contact import created, `BROADCAST_ID`: that of the last broadcast
 * created); the quick
 * start's literal `http://127.0.0.1:3000` and `5b0c8f0e-…` are the stack's URL and that id.
 *
 * One local stack for the file, started as `LOCAL_CONFIG=providers.local.json npm start` starts it
 * (the provider settings examples name its relay), with `npm start`'s API key and example templates.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_API_KEY, type LocalStack } from '../../bin/local-stack';
import { LocalProvidersConfig } from '../../functions/core/providers';
import { useLocalStack } from '../support/local';
import { type CurlExample, curlExamples } from '../support/readme-curl';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_API = 'http://127.0.0.1:3000';
const README_ID = '5b0c8f0e-…';

/** Every key named anywhere in an object or array, at any depth. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  return into;
}

/** Every `key: string value` pair anywhere in an object or array. */
function pairsOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) pairsOf(v, into);
  else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') into.add(`${k}=${v}`);
      pairsOf(v, into);
    }
  return into;
}

/** What an answer must have to match the README's: the keys it names, and its string values shown whole. */
function expectations(shown: string): { keys: string[]; pairs: string[] } {
  const keys = [...new Set([...shown.matchAll(/"([\w-]+)"\s*:/g)].map((m) => m[1] ?? ''))];
  const pairs = [...shown.matchAll(/"([\w-]+)"\s*:\s*"([^"…]*)"/g)].map((m) => `${m[1]}=${m[2]}`);
  return { keys, pairs };
}

interface Answer {
  readonly status: number;
  /** The response headers, when the command asks for them (`curl -i`), lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly raw: string;
}

let stack: LocalStack;
const scratch = mkdtempSync(join(tmpdir(), 'mailroute-readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const config = LocalProvidersConfig.parse(JSON.parse(readFileSync(join(ROOT, 'providers.local.json'), 'utf8')));
useLocalStack(
  (s) => {
    stack = s;
  },
  { providers: config, apiKey: DEFAULT_LOCAL_API_KEY, seedTemplates: true },
);

/** Runs one example as pasted (with the stack's URL), returning the status and the parsed body. */
async function run(example: CurlExample, env: Record<string, string>): Promise<Answer> {
  const command = example.command.replaceAll(README_API, stack.apiUrl).replaceAll(README_ID, env.ID ?? '');
  // -s: no progress; -w: the status on a line of its own after the body.
  const withStatus = command.replace(/^curl /, `curl -s -w '\\n%{http_code}' `);
  const { stdout } = await execFileAsync('sh', ['-c', withStatus], {
    env: { PATH: process.env.PATH ?? '', ...env },
    // Files an example writes (curl -o) land in a scratch folder, never in the repository.
    cwd: scratch,
  }).catch((e: Error & { stdout?: string }) => ({ stdout: `${e.message}\n0` }));
  const cut = stdout.lastIndexOf('\n');
  let raw = stdout.slice(0, cut);
  const status = Number(stdout.slice(cut + 1));
  const headers: Record<string, string> = {};
  if (/^HTTP\/\S+ \d{3}/.test(raw)) {
    const end = raw.indexOf('\r\n\r\n');
    for (const line of raw.slice(0, end).split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    raw = raw.slice(end + 4);
  }
  let body: unknown;
  try {
    body = raw ? JSON.parse(raw) : undefined;
  } catch {
    body = raw;
  }
  return { status, headers, body, raw };
}

/** Why an answer does not match the README's (empty when it does). */
function mismatches(example: CurlExample, answer: Answer): string[] {
  const problems: string[] = [];
  if (example.status !== undefined ? answer.status !== example.status : answer.status < 200 || answer.status > 299)
    problems.push(`status ${answer.status}, README shows ${example.status ?? '2xx'}`);
  if (example.body !== undefined) {
    const { keys, pairs } = expectations(example.body);
    const has = keysOf(answer.body);
    const values = pairsOf(answer.body);
    for (const k of keys) if (!has.has(k)) problems.push(`no "${k}"`);
    for (const p of pairs) if (!values.has(p)) problems.push(`no ${p}`);
  }
  for (const [, name = '', value = ''] of example.shown.matchAll(/^\(with the header ([\w-]+): (.+)\)$/gm))
    if (answer.headers[name.toLowerCase()] !== value) problems.push(`no header ${name}: ${value}`);
  return problems;
}

const examples = curlExamples(README);

describe('the README curl examples', () => {
  it('are found: the quick start, every API section, the provider settings', () => {
    // Every curl command that starts a line is an example (the deploy steps' one is indented).
    expect(examples.length).toBe(README.split('\n').filter((l) => l.startsWith('curl ')).length);
    expect(examples.length).toBeGreaterThanOrEqual(10);
    const commands = examples.map((e) => e.command);
    for (const path of ['/v1/emails', '/v1/emails/batch', '/v1/suppressions', '/v1/settings/providers'])
      expect(
        commands.some((c) => c.includes(path)),
        path,
      ).toBe(true);
  });

  it('reads the answers the README shows', () => {
    expect(
      curlExamples('```sh\ncurl -X POST "$API/v1/x" \\\n  -d \'{\n "a": 1\n}\'\n# 202 {"id":"…",\n#  "k":"v"}\n```'),
    ).toEqual([
      {
        line: 2,
        command: 'curl -X POST "$API/v1/x" \\\n  -d \'{\n "a": 1\n}\'',
        shown: '202 {"id":"…",\n "k":"v"}',
        status: 202,
        body: '{"id":"…",\n "k":"v"}',
      },
    ]);
    expect(expectations('{"id":"…","status":"sent","n":1,"events":[{"type":"queued"}]}')).toEqual({
      keys: ['id', 'status', 'n', 'events', 'type'],
      pairs: ['status=sent', 'type=queued'],
    });
  });

  it('run as pasted, in README order, and answer what the README shows', async () => {
    const env: Record<string, string> = {
      API: stack.apiUrl,
      KEY: stack.apiKey,
      ADMIN_KEY: stack.apiKey,
      ID: '',
    };
    const failures: string[] = [];
    for (const example of examples) {
      // An answer that follows the pipeline (a status "sent") may take a moment: the README says so.
      let answer = await run(example, env);
      for (let tries = 0; mismatches(example, answer).length > 0 && answer.status < 300 && tries < 40; tries++) {
        await new Promise((r) => setTimeout(r, 250));
        answer = await run(example, env);
      }
      const problems = mismatches(example, answer);
      if (problems.length > 0)
        failures.push(
          `README line ${example.line}: ${example.command.split('\n')[0]}\n  ${problems.join('; ')}\n  got ${answer.status} ${answer.raw.slice(0, 600)}`,
        );
      // Carry the id of the email just sent to the examples that read it.
      const body = answer.body as { id?: unknown; data?: { id?: unknown }[] } | undefined;
      if (example.command.includes('/v1/emails') && typeof body?.id === 'string' && answer.status === 202)
        env.ID = body.id;
      // …and the id of the webhook endpoint just registered to those that manage it (README: WEBHOOK_ID).
      if (example.command.includes('/v1/webhooks') && typeof body?.id === 'string' && answer.status === 201)
        env.WEBHOOK_ID = body.id;
      // …and the id of the broadcast just created to those that act on it (README: BROADCAST_ID).
      if (example.command.includes('/v1/broadcasts') && typeof body?.id === 'string' && answer.status === 201)
        env.BROADCAST_ID = body.id;
      // …and the id and upload URL of the contact import just created (README: IMPORT_ID, UPLOAD_URL).
      const upload = (body as { uploadUrl?: unknown } | undefined)?.uploadUrl;
      if (
        example.command.includes('/v1/contacts/imports') &&
        typeof upload === 'string' &&
        typeof body?.id === 'string'
      ) {
        env.IMPORT_ID = body.id;
        env.UPLOAD_URL = upload;
      }
    }
    expect(failures).toEqual([]);
  });
});
