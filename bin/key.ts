/**
 * API key management. `npm run key:create -- --name <app> [--scopes send,read] [--domains a.com]
 * [--rate 50]` prints a new key once and stores only its SHA-256 hash (a second active key with a name
 * already in use is refused unless `--force`, e.g. to rotate); `key:list` shows the keys (never the
 * keys themselves); `key:revoke -- --name <app>` or `--prefix <mr_…>` revokes (a key stops working
 * once the functions' cached look-up of it expires, `KEY_CACHE_MS`). Target:
 * the running local stack (found through .local/state.json), else the deployed stack (AWS
 * credentials from the usual chain; table from the stack's outputs), or an explicit --table (and
 * --endpoint).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { hashKey, KEY_CACHE_MS } from '../functions/app/auth';
import { documentClient } from '../functions/store/dynamo';
import { DynamoKeyStore } from '../functions/store/key-store';
import { resolveTarget } from './target';

const USAGE = `usage:
  npm run key:create -- --name <app> [--scopes send,read,admin] [--domains example.com,…|*] [--rate <requests/s>] [--force]
  npm run key:list
  npm run key:revoke -- --name <app> | --prefix <mr_…>
target options: [--stack Mailroute] [--table <settings table> [--endpoint <url>]]`;

const SCOPES = ['send', 'read', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

interface Target {
  readonly table: string;
  readonly client: DynamoDBClient;
  readonly where: string;
}

/** How long a revoked key may still work: the functions cache a key look-up this long. */
const revokedWithin = (): string => `${Math.ceil(KEY_CACHE_MS / 1000)} seconds`;

export function newApiKey(): string {
  return `mr_${randomBytes(32).toString('base64url')}`;
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      prefix: { type: 'string' },
      scopes: { type: 'string', default: 'send,read' },
      domains: { type: 'string', default: '*' },
      rate: { type: 'string', default: '100' },
      stack: { type: 'string', default: 'Mailroute' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  if (command !== 'create' && command !== 'list' && command !== 'revoke') fail('unknown command');
  let created: Parameters<DynamoKeyStore['put']>[1] | undefined;
  if (command === 'create') {
    if (!values.name || !/^[A-Za-z0-9_.-]{1,64}$/.test(values.name))
      fail('--name: 1 to 64 letters, digits, ".", "_" or "-"');
    const scopes = values.scopes.split(',').map((x) => x.trim());
    if (scopes.length === 0 || !scopes.every((x): x is Scope => (SCOPES as readonly string[]).includes(x))) {
      fail('--scopes: a comma-separated list of send, read, admin');
    }
    const domains = values.domains.split(',').map((d) => d.trim().toLowerCase());
    if (!domains.every((d) => d === '*' || /^(?!-)[a-z0-9-]{1,63}(?:\.(?!-)[a-z0-9-]{1,63})+$/.test(d))) {
      fail('--domains: a comma-separated list of domains, or * for any');
    }
    const rate = Number(values.rate);
    if (!Number.isInteger(rate) || rate < 1 || rate > 10_000) fail('--rate: requests per second, 1 to 10000');
    created = {
      name: values.name,
      createdAt: new Date().toISOString(),
      scopes,
      senderDomains: domains,
      ratePerSecond: rate,
    };
  }
  if (command === 'revoke' && !values.name && !values.prefix) fail('key:revoke needs --name or --prefix');

  const target: Target = values.table
    ? {
        table: values.table,
        client: new DynamoDBClient(
          values.endpoint
            ? {
                endpoint: values.endpoint,
                region: 'us-east-1',
                credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
              }
            : {},
        ),
        where: values.endpoint ? `${values.table} at ${values.endpoint}` : values.table,
      }
    : await resolveTarget(values.stack).then((t) => {
        t.sqs.destroy();
        return { table: t.tables.settings, client: t.dynamodb, where: t.where };
      });
  const store = new DynamoKeyStore(documentClient(target.client), target.table);

  if (created) {
    const name = created.name;
    const active = (await store.list()).filter((k) => k.name === name && !k.revoked);
    if (active.length > 0 && !values.force) {
      target.client.destroy();
      const prefixes = active.map((k) => k.prefix ?? '?').join(', ');
      process.stderr.write(
        `key:create: an active API key named "${name}" already exists in ${target.where} (prefix ${prefixes}); ` +
          'a second one with the same name was not created.\n' +
          `  Choose another --name, revoke the old key first (npm run key:revoke -- --name ${name}), ` +
          'or pass --force to create a second key with this name (to rotate: create it, switch the ' +
          `application over, then npm run key:revoke -- --prefix <old prefix>).\n`,
      );
      process.exit(1);
    }
    const key = newApiKey();
    await store.put(hashKey(key), { ...created, prefix: key.slice(0, 10) });
    process.stderr.write(
      `Created API key "${created.name}" (scopes ${created.scopes.join(', ')}; sends from ${created.senderDomains.join(', ')}; ${created.ratePerSecond} requests/s) in ${target.where}. It is shown once; store it now:\n`,
    );
    process.stdout.write(`${key}\n`);
  } else if (command === 'list') {
    for (const k of await store.list()) {
      process.stdout.write(
        `${(k.prefix ?? '?').padEnd(12)} ${k.name.padEnd(24)} ${k.revoked ? 'REVOKED ' : 'active  '} scopes=${k.scopes.join(',')} domains=${k.senderDomains.join(',')} rate=${k.ratePerSecond}/s created=${k.createdAt}\n`,
      );
    }
  } else {
    const n = await store.revoke({
      ...(values.name ? { name: values.name } : {}),
      ...(values.prefix ? { prefix: values.prefix } : {}),
    });
    process.stdout.write(`revoked ${n} key(s); they stop working within ${revokedWithin()}\n`);
    if (n === 0) process.exitCode = 1;
  }
  target.client.destroy();
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`key command failed: ${(e as Error).message}\n`);
  process.exit(1);
});
