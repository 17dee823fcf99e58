/**
 * How every Lambda is bundled: minified ESM with source maps, AWS SDK clients included (pinned
 * versions, tree-shaken). The CDK function construct and the benchmark both read these options, so
 * the bench measures the bundles that are deployed.
 */
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from './spec';
export const LAMBDA_NODE_TARGET = 'node22';

/** Lets bundled CommonJS dependencies call require() inside an ESM bundle. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __mrCreateRequire } from 'node:module'; const require = __mrCreateRequire(import.meta.url);";

export const BUNDLING = {
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: LAMBDA_NODE_TARGET,
  platform: 'node',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  /** Nothing is left external: the SDK clients a function uses are bundled with it. */
  external: [] as string[],
} as const;

/** Lambda entry files, relative to the repository root, by function name (from the spec's functions). */
export const FUNCTION_ENTRIES = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, FUNCTIONS[name].entry])) as {
  readonly [K in FunctionName]: string;
};

export type { FunctionName };
