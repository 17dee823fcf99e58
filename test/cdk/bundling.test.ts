import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, FUNCTION_ENTRIES, type FunctionName } from '../../lib/bundling';
import { type CfnResource, environmentOf, logicalId, resource, type Synthesized, synthesize } from './stack-fixture';

let s: Synthesized;
let fns: Record<FunctionName, CfnResource>;

beforeAll(() => {
  try {
    s = synthesize({ bundle: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Bundling the Lambda entries (${Object.values(FUNCTION_ENTRIES).join(', ')}) failed. ` +
        'esbuild printed the cause above (often a module under functions/ that is missing or does not compile).\n' +
        message,
    );
  }
  fns = {
    ingest: resource(s.template, logicalId(s.stack.ingest.handler.function)),
    dispatch: resource(s.template, logicalId(s.stack.dispatch.handler.function)),
    sesEvents: resource(s.template, logicalId(s.stack.sesEvents.handler.function)),
    tracking: resource(s.template, logicalId(s.stack.tracking.handler.function)),
    webhooks: resource(s.template, logicalId(s.stack.functions.webhooks.handler.function)),
    webhookApi: resource(s.template, logicalId(s.stack.functions.webhookApi.handler.function)),
    console: resource(s.template, logicalId(s.stack.console.handler.function)),
    audience: resource(s.template, logicalId(s.stack.functions.audience.handler.function)),
  };
});

/** The directory of the bundled asset of a function, inside the cloud assembly. */
function assetDir(fn: CfnResource): string {
  const key = (fn.Properties?.Code as { S3Key?: string } | undefined)?.S3Key;
  if (!key) throw new Error('The function has no S3 asset');
  return path.join(s.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
}

describe.each(Object.keys(FUNCTION_ENTRIES) as FunctionName[])('%s function bundle', (name) => {
  it('enables source maps in Node.js', () => {
    expect(environmentOf(fns[name]).NODE_OPTIONS).toContain('--enable-source-maps');
  });

  it('is invoked as index.handler', () => {
    expect(fns[name].Properties?.Handler).toBe('index.handler');
  });

  it('is an ES module with a source map and nothing else', () => {
    expect(readdirSync(assetDir(fns[name])).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('starts with the createRequire banner', () => {
    const code = readFileSync(path.join(assetDir(fns[name]), 'index.mjs'), 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
  });

  it('bundles the AWS SDK instead of importing it from the runtime', () => {
    const code = readFileSync(path.join(assetDir(fns[name]), 'index.mjs'), 'utf8');
    // An external module shows up as an import statement (`from"@aws-sdk/…"`) or a CommonJS `__require`.
    const externalSdkImports = [...code.matchAll(/(?:\bfrom\s*|__require\(\s*)["'](@aws-sdk\/[^"']+)/g)];
    expect(externalSdkImports.map((match) => match[1])).toEqual([]);
  });

  it('is minified', () => {
    const code = readFileSync(path.join(assetDir(fns[name]), 'index.mjs'), 'utf8');
    const lines = code.split('\n').length;
    expect(code.length / lines).toBeGreaterThan(1000);
  });

  it('has a source map without the sources', () => {
    const mapFile = path.join(assetDir(fns[name]), 'index.mjs.map');
    expect(existsSync(mapFile)).toBe(true);
    const map = JSON.parse(readFileSync(mapFile, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    expect(map.sources.some((source) => source.includes(path.basename(FUNCTION_ENTRIES[name])))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });
});
