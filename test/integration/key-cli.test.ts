import { rmSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { KEY_CACHE_MS } from '../../functions/app/auth';
import { runCli, stateDir, useLocalStack } from '../support/local';

let stack: LocalStack;

// The key commands and the API's answers need no dispatcher: no pollers.
useLocalStack(
  (s) => {
    stack = s;
  },
  { pollers: 0 },
);

/** `npm run key:* -- …` from the project root, as a developer runs it. */
const keyCli = (args: string[]) => runCli('key.ts', args, process.cwd());

it('key:create prints a new key once, and that key can send', async () => {
  const { stdout, stderr } = await keyCli([
    'create',
    '--name',
    'billing',
    '--table',
    stack.tables.settings,
    '--endpoint',
    stack.dynamodbEndpoint,
  ]);
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
  await expect(keyCli(['create'])).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/--name: 1 to 64 letters[\s\S]*usage:[\s\S]*npm run key:create/),
  });
});

it('a key for one sender domain is refused (403) from another; key:list shows it; key:revoke stops it', async () => {
  const target = ['--table', stack.tables.settings, '--endpoint', stack.dynamodbEndpoint];
  const { stdout } = await keyCli([
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
  ]);
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

  const listed = await keyCli(['list', ...target]);
  expect(listed.stdout).toMatch(/billing-app\s+active\s+scopes=send domains=billing\.example rate=20\/s/);
  expect(listed.stdout).not.toContain(key);

  // A fresh key revoked before its first use is refused at once (a cached one within 30 s).
  const other = (await keyCli(['create', '--name', 'temp', ...target])).stdout.trim();
  const revoked = await keyCli(['revoke', '--name', 'temp', ...target]);
  expect(revoked.stdout).toMatch(/revoked 1 key/);
  // The same truth as the README and the functions' cache (KEY_CACHE_MS).
  expect(revoked.stdout).toContain(`they stop working within ${KEY_CACHE_MS / 1000} seconds`);
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

it('key:create refuses a second active key with the same name unless --force; a revoked name is free again', async () => {
  const target = ['--table', stack.tables.settings, '--endpoint', stack.dynamodbEndpoint];
  const first = (await keyCli(['create', '--name', 'orders', ...target])).stdout.trim();
  await expect(keyCli(['create', '--name', 'orders', ...target])).rejects.toMatchObject({
    code: 1,
    stdout: '',
    stderr: expect.stringMatching(
      new RegExp(
        `an active API key named "orders" already exists .*\\(prefix ${first.slice(0, 10)}\\)[\\s\\S]*--force`,
      ),
    ),
  });
  const orders = async () =>
    (await keyCli(['list', ...target])).stdout.split('\n').filter((line) => /\sorders\s/.test(line));
  expect(await orders()).toHaveLength(1);

  // --force: a second key with this name (to rotate), both active.
  const second = (await keyCli(['create', '--name', 'orders', '--force', ...target])).stdout.trim();
  expect(second).toMatch(/^mr_/);
  expect(second).not.toBe(first);
  expect((await orders()).filter((line) => /\sactive\s/.test(line))).toHaveLength(2);

  // Once every key of that name is revoked, the name can be used again without --force.
  await keyCli(['revoke', '--name', 'orders', ...target]);
  const third = (await keyCli(['create', '--name', 'orders', ...target])).stdout.trim();
  expect(third).toMatch(/^mr_/);
});
