/**
 * Bundle size and cold init of each Lambda, next to its floor: a bundle that holds only the AWS SDK
 * clients the function uses, built with the same options. Init is the time to import the bundle in
 * a fresh Node process (module scope: config, clients, logger), median of several runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BUNDLING, FUNCTION_ENTRIES, type FunctionName } from '../lib/bundling';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', '.build');

/** The SDK clients each function uses: its floor imports and constructs exactly these. */
const FLOOR_CLIENTS: Record<FunctionName, string> = {
  ingest: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
const ddb = new DynamoDBClient({});
export const clients = [DynamoDBDocumentClient.from(ddb), new SQSClient({})];`,
  dispatch: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
const ddb = new DynamoDBClient({});
export const clients = [DynamoDBDocumentClient.from(ddb), new SQSClient({}), new SESv2Client({}), new SecretsManagerClient({})];`,
  sesEvents: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
export const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({}))];`,
  tracking: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({})), new SecretsManagerClient({})];`,
};

/** What the functions read at cold start, with placeholder values (no request is made at init). */
const FUNCTION_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  TABLE_MESSAGES: 'Messages',
  TABLE_IDEMPOTENCY: 'Idempotency',
  TABLE_SETTINGS: 'Settings',
  TABLE_SUPPRESSION: 'Suppression',
  TABLE_RATE_WINDOWS: 'RateWindows',
  SIGNING_KEYS_SECRET: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  PUBLIC_BASE_URL: 'https://mail.example.com',
  QUEUE_SEND_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send',
  SES_CONFIGURATION_SET: 'bench',
  POWERTOOLS_SERVICE_NAME: 'mailroute',
  POWERTOOLS_METRICS_NAMESPACE: 'Mailroute',
  NODE_NO_WARNINGS: '1',
};

async function bundle(entry: string, outfile: string): Promise<number> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourcemap,
    sourcesContent: false,
    format: BUNDLING.format,
    target: BUNDLING.target,
    platform: BUNDLING.platform,
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    external: [...BUNDLING.external],
    logLevel: 'error',
  });
  return statSync(outfile).size / 1024;
}

function initMs(file: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...FUNCTION_ENV },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return Number(out);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? '');
    const line = stderr.split('\n').find((l) => /Error/.test(l)) ?? 'unknown error';
    throw new Error(`importing ${file} failed: ${line.slice(0, 300)}`);
  }
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export interface FunctionFigures {
  bundleKB: number;
  floorBundleKB: number;
  initMs: number;
  floorInitMs: number;
  initRatio: number;
}

export async function measureFunctions(runs = 15): Promise<Record<FunctionName, FunctionFigures>> {
  mkdirSync(OUT, { recursive: true });
  const result = {} as Record<FunctionName, FunctionFigures>;
  for (const name of Object.keys(FUNCTION_ENTRIES) as FunctionName[]) {
    const dir = join(OUT, name);
    mkdirSync(dir, { recursive: true });
    const real = join(dir, 'index.mjs');
    const floor = join(dir, 'floor.mjs');
    const floorEntry = join(dir, 'floor-entry.ts');
    writeFileSync(floorEntry, `${FLOOR_CLIENTS[name]}\nexport const handler = async () => clients.length;\n`);
    const bundleKB = await bundle(join(ROOT, FUNCTION_ENTRIES[name]), real);
    const floorBundleKB = await bundle(floorEntry, floor);
    initMs(real); // warm the file cache once for each, so the first run is not an outlier
    initMs(floor);
    const reals: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, so machine noise hits both alike.
      reals.push(initMs(real));
      floors.push(initMs(floor));
    }
    const r = median(reals);
    const f = median(floors);
    result[name] = {
      bundleKB: Math.round(bundleKB),
      floorBundleKB: Math.round(floorBundleKB),
      initMs: Number(r.toFixed(1)),
      floorInitMs: Number(f.toFixed(1)),
      initRatio: Number((r / f).toFixed(2)),
    };
  }
  return result;
}
