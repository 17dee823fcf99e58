/**
 * Bundle size and cold init of each Lambda, next to its floor: a bundle that holds only the AWS SDK
 * clients the function uses, built with the same options. Init is the time to import the bundle in
 * a fresh Node process (module scope: config, clients, logger), median of several runs; the same
 * process then runs the first typical invocation (bench/first-invocation.ts), so work moved from
 * init into the first request shows in the second figure. The bytes of each bundle by package come
 * from esbuild's metafile.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { DEFAULT_PROVIDERS } from '../functions/core/defaults';
import { BUNDLING, FUNCTION_ENTRIES, type FunctionName } from '../lib/bundling';
import { consoleAssetsDefine } from '../lib/console-assets';
import { TABLES } from '../lib/resources';
import { FLOOR_FIRST_CALLS, startFirstInvocationBackends } from './first-invocation';

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
  audience: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
const ddb = new DynamoDBClient({});
export const clients = [DynamoDBDocumentClient.from(ddb), new SQSClient({})];`,
  webhooks: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({})), new SQSClient({}), new SecretsManagerClient({})];`,
  webhookApi: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({})), new SQSClient({}), new SecretsManagerClient({})];`,
  console: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
const ddb = new DynamoDBClient({});
export const clients = [DynamoDBDocumentClient.from(ddb), new SQSClient({})];`,
};

/** What the functions read at cold start, with placeholder values (no request is made at init). */
export const FUNCTION_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  TABLE_MESSAGES: 'Messages',
  TABLE_IDEMPOTENCY: 'Idempotency',
  TABLE_SETTINGS: 'Settings',
  TABLE_SUPPRESSION: 'Suppression',
  TABLE_RATE_WINDOWS: 'RateWindows',
  TABLE_TEMPLATES: 'Templates',
  TABLE_REPUTATION: 'Reputation',
  TABLE_WEBHOOKS: 'Webhooks',
  QUEUE_WEBHOOK_EVENTS_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-events',
  QUEUE_WEBHOOK_RETRIES_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-retries',
  TABLE_EMAIL_INDEX: 'EmailIndex',
  // Every table of the spec, by its variable: a function's config refuses to start without its own.
  ...Object.fromEntries(Object.values(TABLES).map((t) => [t.env, t.id])),
  QUEUE_AUDIENCE_JOBS_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/audience-jobs',
  SIGNING_KEYS_SECRET: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  PUBLIC_BASE_URL: 'https://mail.example.com',
  QUEUE_SEND_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send',
  QUEUE_SEND_CRITICAL_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send-critical',
  QUEUE_SEND_BULK_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send-bulk',
  QUEUE_SEND_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send-dlq',
  QUEUE_SEND_CRITICAL_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send-critical-dlq',
  QUEUE_SEND_BULK_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/send-bulk-dlq',
  QUEUE_SES_EVENTS_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ses-events',
  QUEUE_SES_EVENTS_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ses-events-dlq',
  SES_CONFIGURATION_SET: 'bench',
  CONTENT_BUCKET: 'bench-content',
  // The stack always sets PROVIDERS (ingest and dispatch parse it at cold start): the default chain.
  PROVIDERS: JSON.stringify(DEFAULT_PROVIDERS),
  POWERTOOLS_SERVICE_NAME: 'mailroute',
  POWERTOOLS_METRICS_NAMESPACE: 'Mailroute',
  // Lambda sets this when active tracing is on, as it is for every mailroute function.
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  NODE_NO_WARNINGS: '1',
};

export interface TopInput {
  /** An npm package, or a folder of this repository (functions/app, …). */
  readonly name: string;
  readonly kb: number;
}

/** Bytes of the bundle by npm package (or repository folder), largest first, from esbuild's metafile. */
export function topInputs(metafile: Metafile, limit = 12): TopInput[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  const bytes = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const name = pkg ?? path.split('/').slice(0, 2).join('/');
    bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, b]) => ({ name, kb: Math.round(b / 102.4) / 10 }));
}

async function bundle(entry: string, outfile: string): Promise<{ kb: number; metafile: Metafile }> {
  const result = await build({
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
    // The console's entry reads its page and script from the bundle, as the stack builds it.
    define: consoleAssetsDefine(),
    metafile: true,
    logLevel: 'error',
  });
  return { kb: statSync(outfile).size / 1024, metafile: result.metafile };
}

/**
 * One fresh Node process: import the bundle (init), then invoke its handler once with the event in
 * `eventFile` (the first invocation). Times are from the start of the import.
 */
const CHILD = `import { readFileSync } from 'node:fs';
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT_FILE, 'utf8'));
const context = { callbackWaitsForEmptyEventLoop: false, functionName: 'bench', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', memoryLimitInMB: '512',
  awsRequestId: 'bench-request', logGroupName: '/aws/lambda/bench', logStreamName: 'bench',
  getRemainingTimeInMillis: () => 10000, done() {}, fail() {}, succeed() {} };
const t0 = performance.now();
const m = await import(process.env.BENCH_BUNDLE_URL);
const t1 = performance.now();
let status;
try {
  const out = await m.handler(event, context);
  status = out && typeof out === 'object' && 'statusCode' in out ? String(out.statusCode)
    : out && typeof out === 'object' && 'batchItemFailures' in out ? out.batchItemFailures.length + ' of ' + event.Records.length + ' failed'
    : 'ok';
} catch (e) { status = 'threw ' + (e && e.name); }
const t2 = performance.now();
process.stdout.write('\\nBENCH ' + JSON.stringify({ init: t1 - t0, first: t2 - t0, status }) + '\\n');
process.exit(0);`;

interface ChildRun {
  readonly init: number;
  readonly first: number;
  readonly status: string;
}

function runChild(file: string, eventFile: string, env: Record<string, string>): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ...FUNCTION_ENV,
          ...env,
          BENCH_BUNDLE_URL: pathToFileURL(file).href,
          BENCH_EVENT_FILE: eventFile,
        },
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
        if (error || !line) {
          const cause =
            String(stderr)
              .split('\n')
              .find((l) => /^\s*(\w*Error|Invalid function environment)\b/.test(l)) ??
            error?.message ??
            'no result';
          reject(new Error(`running ${file} failed: ${cause.slice(0, 300)}`));
          return;
        }
        resolve(JSON.parse(line.slice('BENCH '.length)) as ChildRun);
      },
    );
  });
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** The same function built from another checkout (e.g. the previous commit), measured in the same run. */
export interface BaselineFigures {
  bundleKB: number;
  initMs: number;
  initRatio: number;
  firstMs: number;
  firstRatio: number;
}

export interface FunctionFigures {
  bundleKB: number;
  floorBundleKB: number;
  /** Cold init: importing the bundle in a fresh process (median). */
  initMs: number;
  floorInitMs: number;
  initRatio: number;
  /** Init plus the first typical invocation (the floor: init plus one call on each client). */
  firstMs: number;
  floorFirstMs: number;
  firstRatio: number;
  /** What the first invocation answered (e.g. 202, or "0 of 1 failed" for a batch), by count. */
  firstStatus: Record<string, number>;
  /** The bundle's largest inputs by package. */
  topInputs: TopInput[];
  /** With `baselineRoot`: the baseline's figures against the same floor, interleaved with these. */
  baseline?: BaselineFigures;
}

export interface MeasureOptions {
  /** Another checkout of this repository (with node_modules): its bundles run interleaved with these. */
  readonly baselineRoot?: string;
}

const round1 = (n: number) => Number(n.toFixed(1));

export async function measureFunctions(
  runs = 15,
  options: MeasureOptions = {},
): Promise<Record<FunctionName, FunctionFigures>> {
  mkdirSync(OUT, { recursive: true });
  const backends = await startFirstInvocationBackends();
  const result = {} as Record<FunctionName, FunctionFigures>;
  try {
    for (const name of Object.keys(FUNCTION_ENTRIES) as FunctionName[]) {
      const dir = join(OUT, name);
      mkdirSync(dir, { recursive: true });
      const real = join(dir, 'index.mjs');
      const floor = join(dir, 'floor.mjs');
      const floorEntry = join(dir, 'floor-entry.ts');
      writeFileSync(
        floorEntry,
        `${FLOOR_CLIENTS[name]}\n${FLOOR_FIRST_CALLS[name]}\nexport const handler = async () => { await first(clients); return { statusCode: 200 }; };\n`,
      );
      const realBundle = await bundle(join(ROOT, FUNCTION_ENTRIES[name]), real);
      const floorBundle = await bundle(floorEntry, floor);
      const base = join(dir, 'baseline.mjs');
      const baseBundle = options.baselineRoot
        ? await bundle(join(options.baselineRoot, FUNCTION_ENTRIES[name]), base)
        : undefined;
      const eventFile = join(dir, 'event.json');
      const once = async (file: string) => {
        writeFileSync(eventFile, JSON.stringify(await backends.event(name)));
        return runChild(file, eventFile, backends.env);
      };
      await once(real); // warm the file cache once for each, so the first run is not an outlier
      await once(floor);
      if (baseBundle) await once(base);
      const reals: ChildRun[] = [];
      const floors: ChildRun[] = [];
      const bases: ChildRun[] = [];
      for (let i = 0; i < runs; i++) {
        // Interleaved, so machine noise hits them alike.
        reals.push(await once(real));
        floors.push(await once(floor));
        if (baseBundle) bases.push(await once(base));
      }
      const ri = median(reals.map((r) => r.init));
      const fi = median(floors.map((r) => r.init));
      const rf = median(reals.map((r) => r.first));
      const ff = median(floors.map((r) => r.first));
      const firstStatus: Record<string, number> = {};
      for (const r of reals) firstStatus[r.status] = (firstStatus[r.status] ?? 0) + 1;
      result[name] = {
        bundleKB: Math.round(realBundle.kb),
        floorBundleKB: Math.round(floorBundle.kb),
        initMs: round1(ri),
        floorInitMs: round1(fi),
        initRatio: Number((ri / fi).toFixed(2)),
        firstMs: round1(rf),
        floorFirstMs: round1(ff),
        firstRatio: Number((rf / ff).toFixed(2)),
        firstStatus,
        topInputs: topInputs(realBundle.metafile),
        ...(baseBundle
          ? {
              baseline: {
                bundleKB: Math.round(baseBundle.kb),
                initMs: round1(median(bases.map((r) => r.init))),
                initRatio: Number((median(bases.map((r) => r.init)) / fi).toFixed(2)),
                firstMs: round1(median(bases.map((r) => r.first))),
                firstRatio: Number((median(bases.map((r) => r.first)) / ff).toFixed(2)),
              },
            }
          : {}),
      };
    }
  } finally {
    await backends.stop();
  }
  return result;
}
