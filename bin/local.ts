/** `npm start`: mailroute on this machine, on the emulators, until Ctrl-C. */
import { readFileSync } from 'node:fs';
import { LocalProvidersConfig } from '../functions/core/providers';
import { CONTEXT_KEY, parseContext } from '../lib/context';
import { startLocalStack } from './local-stack';
import { countPipeline, formatPipeline, watchStatus } from './local-status';

/**
 * LOCAL_CONFIG names a JSON file with the provider definitions and chain (the structure of
 * cdk.json's `providers`/`chain`), credentials inline (`token`, `connectionString`): there is no
 * Secrets Manager locally, so `tokenSecret`/`connectionStringSecret` are refused with that advice.
 * The repository ships providers.local.json as an example.
 */
function localConfig(): LocalProvidersConfig | undefined {
  const file = process.env.LOCAL_CONFIG;
  if (!file) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`LOCAL_CONFIG: cannot read ${file} as JSON: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const parsed = LocalProvidersConfig.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n');
    process.stderr.write(`LOCAL_CONFIG: ${file} is not a valid provider configuration:\n${issues}\n`);
    process.exit(2);
  }
  return parsed.data as LocalProvidersConfig;
}
const providers = localConfig();

/**
 * The bulk queue's maximum concurrency as cdk.json sets it (`dispatch.bulkMaxConcurrency`), so the
 * local pollers honour the same cap as the deployed event source.
 */
function bulkMaxConcurrency(): number {
  try {
    const cdk = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: Record<string, unknown> };
    return parseContext(cdk.context?.[CONTEXT_KEY]).dispatch.bulkMaxConcurrency;
  } catch (e) {
    process.stderr.write(`cdk.json: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

/** An AWS CLI command against the local emulators, with the dummy credentials and region it needs. */
const localAwsCli = (endpoint: string, command: string): string =>
  `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url ${endpoint} --region us-east-1 ${command}`;

const port = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    process.stderr.write(`${name} must be a port number (0-65535), got "${raw}"\n`);
    process.exit(2);
  }
  return n;
};

const stack = await startLocalStack({
  apiPort: port('PORT', 3000),
  sesPort: port('SES_PORT', 8005),
  awsPort: port('AWS_LOCAL_PORT', 4566),
  dynamodbPort: port('DYNAMODB_PORT', 4567),
  ...(process.env.MAILROUTE_API_KEY ? { apiKey: process.env.MAILROUTE_API_KEY } : {}),
  writeState: true,
  bulkMaxConcurrency: bulkMaxConcurrency(),
  seedTemplates: true,
  ...(providers ? { providers } : {}),
}).catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  const hint =
    err.code === 'EADDRINUSE' ? ' (a port is taken: set PORT, SES_PORT, AWS_LOCAL_PORT or DYNAMODB_PORT)' : '';
  process.stderr.write(`mailroute could not start: ${err.message}${hint}\n`);
  process.exit(1);
});

process.stdout.write(`
mailroute is running on this machine

  API          ${stack.apiUrl}        (GET ${stack.apiUrl}/health)
  API docs     ${stack.apiUrl}/docs   (OpenAPI: ${stack.apiUrl}/v1/openapi.json)
  Resend SDK   RESEND_BASE_URL=${stack.apiUrl}/resend
  Console      ${stack.apiUrl}/console        (sign in with the API key below)
  SES inbox    ${stack.sesUrl}        (every email sent, as a web page)
  SQS / SNS    ${stack.awsEndpoint}
  DynamoDB     ${stack.dynamodbEndpoint}
  API key      ${stack.apiKey}
  Templates    receipt, password-reset (layout: brand)     (GET ${stack.apiUrl}/v1/templates)
  Providers    ${stack.providers.chain.join(' → ')}${process.env.LOCAL_CONFIG ? `        (from ${process.env.LOCAL_CONFIG})` : ''}

Send an email:

  curl -X POST ${stack.apiUrl}/v1/emails \\
    -H "Authorization: Bearer ${stack.apiKey}" -H 'Content-Type: application/json' \\
    -d '{"from":"app@example.com","to":"user@example.org","subject":"Hi","html":"<p>Hello</p>"}'

Then open ${stack.sesUrl} or GET ${stack.apiUrl}/v1/emails/<id>.

Look at the queues with the AWS CLI (the emulators take any credentials, but the CLI needs some):

  ${localAwsCli(stack.awsEndpoint, 'sqs list-queues')}

Ctrl-C stops everything.
`);

// One line whenever the counts by status (overall and per priority) change: the pipeline moving, at a glance.
const stopStatus = watchStatus(
  () => countPipeline(stack.clients.dynamodb, stack.tables.messages),
  (line) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`),
  1000,
  formatPipeline,
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping mailroute…\n`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await stopStatus();
  await stack.stop();
  process.stdout.write('stopped.\n');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
