import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { useLocalStack } from '../support/local';

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
    stderr: expect.stringMatching(/usage: npm run key:create/),
  });
});
