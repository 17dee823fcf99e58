/**
 * Templates: rendering at accept time (a 50 KB template with 20 variables and a layout, its compiled
 * version cached, through the same function a send uses, the store in memory), the cold compile, and
 * the ingest function's cold init with and without the template engine evaluated at import.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { renderForSend } from '../functions/app/template-render';
import type { TemplateContent, VariableDecl } from '../functions/core/template';
import { compile, parseTemplate } from '../functions/core/template-engine';
import type { TemplateHead } from '../functions/ports';
import { BUNDLING, FUNCTION_ENTRIES } from '../lib/bundling';
import { MemoryTemplateStore } from '../test/support/template-fakes';
import { FUNCTION_ENV, median } from './bundles';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'cdk.out', 'bench', 'templates');

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

/**
 * A template of about `kb` KB of HTML (mostly markup and copy, as a designed email is) reading 20
 * declared variables: 16 strings, a number, a list looped over, an object and an optional boolean.
 */
export function benchTemplate(kb = 50): {
  layout: TemplateContent;
  template: TemplateContent;
  variables: Record<string, JsonValue>;
} {
  const names = Array.from({ length: 16 }, (_, i) => `field${i}`);
  const variables: VariableDecl[] = [
    ...names.map((name) => ({ name, type: 'string' as const })),
    { name: 'total', type: 'number' },
    { name: 'items', type: 'array' },
    { name: 'customer', type: 'object' },
    { name: 'vip', type: 'boolean', default: false },
  ];
  const copy =
    '<tr><td style="padding:12px 24px;font:14px/1.5 Helvetica,Arial,sans-serif;color:#333;border-bottom:1px solid #eee">' +
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore ' +
    'magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.' +
    '</td></tr>\n';
  let html = '<h1>Hello {{ customer.name }}</h1>{% if vip %}<p>VIP</p>{% endif %}<table>';
  html += names.map((n) => `<tr><td>${n}</td><td>{{ ${n} }}</td></tr>`).join('\n');
  html += '{% for item in items %}<tr><td>{{ item.name }}</td><td>{{ item.price }}</td></tr>{% endfor %}';
  while (Buffer.byteLength(html) < kb * 1024) html += copy;
  html += '</table><p>Total {{ total }}</p>';
  return {
    layout: {
      name: 'layout',
      kind: 'layout',
      html: '<html><body><header>{{ company }}</header>{% slot banner %}{% endslot %}{% content %}<footer>{{ company }}</footer></body></html>',
      text: '{% content %}\n-- {{ company }}',
      variables: [{ name: 'company', type: 'string', default: 'Acme' }],
    },
    template: {
      name: 'bench',
      kind: 'template',
      layout: 'layout',
      subject: 'Order {{ field0 }} for {{ customer.name }}',
      html,
      text: 'Hi {{ customer.name }}, your order {{ field0 }} totals {{ total }}.',
      variables,
    },
    variables: {
      ...Object.fromEntries(names.map((n, i) => [n, `value <${i}> & more`])),
      total: 42.5,
      items: Array.from({ length: 10 }, (_, i) => ({ name: `item ${i}`, price: i * 2.5 })),
      customer: { name: 'Jane Doe' },
    },
  };
}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const head = (slug: string, content: TemplateContent): TemplateHead => ({
  slug,
  kind: content.kind,
  draft: content,
  revision: 0,
  latestVersion: 1,
  activeVersion: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

export interface TemplateRenderFigures {
  readonly templateKB: number;
  readonly variables: number;
  /** First compile in a process (engine set up, template and layout parsed). */
  readonly coldCompileMs: number;
  /** Median compile of the template once the engine is set up. */
  readonly compileMs: number;
  readonly renders: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function measureTemplateRender(renders = 2000): Promise<TemplateRenderFigures> {
  const { layout, template, variables } = benchTemplate(50);
  const t0 = performance.now();
  const first = compile(template, layout.variables);
  parseTemplate(layout);
  const coldCompileMs = performance.now() - t0;
  if (!first.ok) throw new Error(`bench template does not compile: ${JSON.stringify(first.issues)}`);
  const compiles: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    compile(template, layout.variables);
    compiles.push(performance.now() - s);
  }

  const store = new MemoryTemplateStore();
  store.headsBySlug.set('bench', head('bench', template));
  store.headsBySlug.set('layout', head('layout', layout));
  store.versionsByKey.set('bench@1', { slug: 'bench', version: 1, content: template, publishedAt: '' });
  store.versionsByKey.set('layout@1', { slug: 'layout', version: 1, content: layout, publishedAt: '' });
  const deps = { store };
  const send = { slug: 'bench', variables, slots: { banner: 'Spring sale <20%>' } };
  const warm = await renderForSend(deps, [send], ['template']);
  if (warm.issues.length > 0) throw new Error(`bench template does not render: ${JSON.stringify(warm.issues)}`);
  const times: number[] = [];
  for (let i = 0; i < renders; i++) {
    const s = performance.now();
    await renderForSend(deps, [send], ['template']);
    times.push(performance.now() - s);
  }
  return {
    templateKB: Math.round(Buffer.byteLength(template.html ?? '') / 1024),
    variables: template.variables.length + layout.variables.length,
    coldCompileMs: Number(coldCompileMs.toFixed(2)),
    compileMs: Number(median(compiles).toFixed(2)),
    renders,
    p50Ms: Number(percentile(times, 50).toFixed(3)),
    p99Ms: Number(percentile(times, 99).toFixed(3)),
  };
}

const CHILD = `const t0 = performance.now();
await import(process.env.BENCH_BUNDLE_URL);
process.stdout.write('\\nBENCH ' + (performance.now() - t0) + '\\n');
process.exit(0);`;

function initOnce(file: string): Promise<number> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CHILD],
      { env: { PATH: process.env.PATH ?? '', ...FUNCTION_ENV, BENCH_BUNDLE_URL: pathToFileURL(file).href } },
      (error, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
        if (error || !line) fail(error ?? new Error(`no result from ${file}`));
        else done(Number(line.slice('BENCH '.length)));
      },
    );
  });
}

export interface EngineInitFigures {
  /** The ingest bundle as deployed: the engine is in it, evaluated on the first templated send. */
  readonly bundleKB: number;
  readonly initMs: number;
  /** The same bundle with the engine imported (evaluated) at init. */
  readonly eagerBundleKB: number;
  readonly eagerInitMs: number;
  /** What the first templated send adds: evaluating the engine (importing its module), median. */
  readonly engineLoadMs: number;
}

export async function measureEngineInit(runs = 15): Promise<EngineInitFigures> {
  mkdirSync(OUT, { recursive: true });
  const entry = join(ROOT, FUNCTION_ENTRIES.ingest);
  const eagerEntry = join(OUT, 'eager-entry.ts');
  writeFileSync(
    eagerEntry,
    `import '${join(ROOT, 'functions/core/template-engine.ts')}';\nexport { handler } from '${entry}';\n`,
  );
  const engineEntry = join(OUT, 'engine-entry.ts');
  writeFileSync(engineEntry, `export * from '${join(ROOT, 'functions/core/template-engine.ts')}';\n`);
  const bundle = async (from: string, to: string) => {
    await build({
      entryPoints: [from],
      outfile: to,
      bundle: true,
      minify: BUNDLING.minify,
      format: BUNDLING.format,
      target: BUNDLING.target,
      platform: BUNDLING.platform,
      mainFields: [...BUNDLING.mainFields],
      banner: { js: BUNDLING.banner },
      external: [...BUNDLING.external],
      logLevel: 'error',
    });
    return Math.round(statSync(to).size / 1024);
  };
  const lazy = join(OUT, 'ingest.mjs');
  const eager = join(OUT, 'ingest-eager.mjs');
  const engine = join(OUT, 'engine.mjs');
  const bundleKB = await bundle(entry, lazy);
  const eagerBundleKB = await bundle(eagerEntry, eager);
  await bundle(engineEntry, engine);
  await initOnce(lazy);
  await initOnce(eager);
  const lazyTimes: number[] = [];
  const eagerTimes: number[] = [];
  const engineTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    lazyTimes.push(await initOnce(lazy));
    eagerTimes.push(await initOnce(eager));
    engineTimes.push(await initOnce(engine));
  }
  return {
    bundleKB,
    initMs: Number(median(lazyTimes).toFixed(1)),
    eagerBundleKB,
    eagerInitMs: Number(median(eagerTimes).toFixed(1)),
    engineLoadMs: Number(median(engineTimes).toFixed(1)),
  };
}
