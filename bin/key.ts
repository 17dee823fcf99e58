/**
 * API key management. `npm run key:create -- --name <app>` prints a new key once and stores only
 * its SHA-256 hash. Target: the running local stack (found through .local/state.json), else the
 * deployed stack (AWS credentials from the usual chain; table from the stack's outputs), or an
 * explicit --table (and --endpoint).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { hashKey } from '../functions/app/auth';
import { DynamoKeyStore, documentClient } from '../functions/store/dynamo';

const USAGE = `usage: npm run key:create -- --name <app> [--stack Mailroute] [--table <settings table> [--endpoint <url>]]`;

interface Target {
  readonly table: string;
  readonly client: DynamoDBClient;
  readonly where: string;
}

function localTarget(): Target | undefined {
  const file = join(process.cwd(), '.local', 'state.json');
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as {
    pid: number;
    dynamodbEndpoint: string;
    tables: { settings: string };
  };
  try {
    process.kill(state.pid, 0);
  } catch {
    return undefined; // stale file: that local stack is gone
  }
  return {
    table: state.tables.settings,
    client: new DynamoDBClient({
      endpoint: state.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    where: `the local stack (${state.dynamodbEndpoint})`,
  };
}

async function deployedTarget(stackName: string): Promise<Target> {
  const cfn = new CloudFormationClient({});
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const table = out.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'SettingsTableName')?.OutputValue;
  if (!table) throw new Error(`stack ${stackName} has no SettingsTableName output; is it deployed?`);
  return { table, client: new DynamoDBClient({}), where: `stack ${stackName} (${table})` };
}

export function newApiKey(): string {
  return `mr_${randomBytes(32).toString('base64url')}`;
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      stack: { type: 'string', default: 'Mailroute' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
    },
  });
  if (command !== 'create' || !values.name || !/^[A-Za-z0-9_.-]{1,64}$/.test(values.name)) {
    process.stderr.write(`${USAGE}\n--name: 1 to 64 letters, digits, ".", "_" or "-"\n`);
    process.exit(2);
  }
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
    : (localTarget() ?? (await deployedTarget(values.stack)));
  const key = newApiKey();
  await new DynamoKeyStore(documentClient(target.client), target.table).put(hashKey(key), {
    name: values.name,
    createdAt: new Date().toISOString(),
  });
  process.stderr.write(`Created API key "${values.name}" in ${target.where}. It is shown once; store it now:\n`);
  process.stdout.write(`${key}\n`);
  target.client.destroy();
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`key:create failed: ${(e as Error).message}\n`);
  process.exit(1);
});
