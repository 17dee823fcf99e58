/**
 * Writes the API's OpenAPI document (the one GET /v1/openapi.json serves) to a file, or lints it
 * with Redocly's recommended rules (redocly.yaml): `tsx bin/openapi.ts --out openapi.json`,
 * `tsx bin/openapi.ts --lint` (what `npm run lint` runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOpenApi } from '../functions/app/openapi';

const args = process.argv.slice(2);
const json = `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
const out = args[args.indexOf('--out') + 1];
if (args.includes('--out') && out) {
  writeFileSync(out, json);
} else if (args.includes('--lint')) {
  const dir = mkdtempSync(join(tmpdir(), 'mailroute-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, json);
    const lint = spawnSync('redocly', ['lint', file, '--config', 'redocly.yaml'], {
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    process.exitCode = lint.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  process.stdout.write(json);
}
