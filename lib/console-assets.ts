/**
 * The operator console's files, built at synth time with the esbuild that bundles the functions: its page
 * (console/index.html), its style sheet (console/console.css) and its script (console/src/main.ts, bundled and
 * minified for the browser). The console function gets them written into its bundle (esbuild `--define`), and
 * the local stack builds them the same way when it starts, so nothing is built at deploy time but by `cdk deploy`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import type { ConsoleAssets } from '../functions/app/console-assets';

/** The console's sources. */
export const CONSOLE_DIR = path.resolve(import.meta.dirname, '..', 'console');

/** The identifier the console function's entry reads its assets from (functions/handlers/console.ts). */
export const CONSOLE_ASSETS_IDENTIFIER = 'MAILROUTE_CONSOLE_ASSETS';

export function buildConsoleAssets(): ConsoleAssets {
  const out = buildSync({
    entryPoints: [path.join(CONSOLE_DIR, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
  });
  const js = out.outputFiles[0]?.text;
  if (js === undefined) throw new Error('console: esbuild produced no script');
  return {
    html: readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8'),
    css: readFileSync(path.join(CONSOLE_DIR, 'console.css'), 'utf8'),
    js,
  };
}

/** The `define` that writes the assets into the console function's bundle (a JSON string literal). */
export function consoleAssetsDefine(assets: ConsoleAssets = buildConsoleAssets()): Record<string, string> {
  return { [CONSOLE_ASSETS_IDENTIFIER]: JSON.stringify(JSON.stringify(assets)) };
}
