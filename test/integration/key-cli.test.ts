import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { runCli, stateDir, useLocalStack } from '../support/local';

const run = promisify(execFile);
let stack: LocalStack;

useLocalStack((s) => {
  stack = s;
});

it('key:create prints a new key once, and that key can send', async () => {
  const { stdout, stderr } = await run(
    'npx',
    [
      'tsx',
      'bin/key.ts',
      'create',
      '--name',
      'billing',
      '--table',
      stack.tables.settings,
      '--endpoint',
      stack.dynamodbEndpoint,
    ],
    { env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const key = stdout.trim();
  expect(key).toMatch(/^mr_[A-Za-z0-9_-]{43}$/);
  expect(stderr).toMatch(/Created API key "billing"/);
  const send = (k: string) =>
    fetch(`${stack.apiUrl}/v1/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'billing@example.com', to: 'user@example.org', subject: 'Invoice', text: 'Hi' }),
    });
  expect((await send(key)).status).toBe(202);
  const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
  expect((await send(tampered)).status).toBe(401);
});

it('key:create refuses a missing name with usage help', async () => {
  await expect(
    run('npx', ['tsx', 'bin/key.ts', 'create'], { env: { ...process.env, NODE_NO_WARNINGS: '1' } }),
  ).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/--name: 1 to 64 letters[\s\S]*usage:[\s\S]*npm run key:create/),
  });
});

it('a key for one sender domain is refused (403) from another; key:list shows it; key:revoke stops it', async () => {
  const env = { ...process.env, NODE_NO_WARNINGS: '1' };
  const target = ['--table', stack.tables.settings, '--endpoint', stack.dynamodbEndpoint];
  const { stdout } = await run(
    'npx',
    [
      'tsx',
      'bin/key.ts',
      'create',
      '--name',
      'billing-app',
      '--scopes',
      'send',
      '--domains',
      'billing.example',
      '--rate',
      '20',
      ...target,
    ],
    { env },
  );
  const key = stdout.trim();
  const send = (k: string, from: string) =>
    fetch(`${stack.apiUrl}/v1/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from, to: 'user@example.org', subject: 'Invoice', text: 'Hi' }),
    });
  expect((await send(key, 'invoices@billing.example')).status).toBe(202);
  const foreign = await send(key, 'ceo@marketing.example');
  expect(foreign.status).toBe(403);
  expect(await foreign.json()).toMatchObject({ error: { code: 'forbidden' } });
  // A send-only key cannot read the suppression list.
  const read = await fetch(`${stack.apiUrl}/v1/suppressions`, { headers: { authorization: `Bearer ${key}` } });
  expect(read.status).toBe(403);

  const listed = await run('npx', ['tsx', 'bin/key.ts', 'list', ...target], { env });
  expect(listed.stdout).toMatch(/billing-app\s+active\s+scopes=send domains=billing\.example rate=20\/s/);
  expect(listed.stdout).not.toContain(key);

  // A fresh key revoked before its first use is refused at once (a cached one within 30 s).
  const other = (await run('npx', ['tsx', 'bin/key.ts', 'create', '--name', 'temp', ...target], { env })).stdout.trim();
  const revoked = await run('npx', ['tsx', 'bin/key.ts', 'revoke', '--name', 'temp', ...target], { env });
  expect(revoked.stdout).toMatch(/revoked 1 key/);
  expect((await send(other, 'app@example.com')).status).toBe(401);
});

it('without --table, key commands find the running local stack through .local/state.json', async () => {
  const cwd = stateDir(stack);
  try {
    const created = await runCli('key.ts', ['create', '--name', 'from-state'], cwd);
    expect(created.stderr).toMatch(/in the local stack \(http:\/\/127\.0\.0\.1:\d+\)/);
    const listed = await runCli('key.ts', ['list'], cwd);
    expect(listed.stdout).toMatch(/from-state\s+active/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
