/**
 * The template engine: Liquid (liquidjs), strict. A variable that is not given is an error, never an
 * empty string (`| default:` and `{% if %}` still work on optional ones); an unknown filter is an
 * error; only own properties are reachable (no prototypes); nothing is read from a file system
 * (include, render and layout tags do not exist: layouts come from the store, passed in memory).
 * HTML output is escaped unless marked `| raw`; subject and text are not escaped. Each render is
 * bounded in time, memory and output size, so a template that loops fails its own render only.
 *
 * Two tags of mailroute's own:
 * - `{% content %}` in a layout: where the wrapped template's rendered part goes;
 * - `{% slot banner %}default{% endslot %}`: content a send can give (`slots: {banner: "…"}`),
 *   escaped in html like a variable, unless the template marks it `{% slot banner raw %}`.
 *
 * Loaded only where a template is rendered (dynamic import), so other sends do not pay for it.
 */
import {
  type Context,
  type Emitter,
  Liquid,
  type Parser,
  Tag,
  type TagToken,
  type Template,
  type TopLevelToken,
} from 'liquidjs';
import type { FieldIssue } from './errors';
import { TEMPLATE_LIMITS, type TemplateContent, type VariableDecl } from './template';

export const PARTS = ['subject', 'html', 'text'] as const;
export type Part = (typeof PARTS)[number];

const SLOTS = Symbol('slots');
const CONTENT = Symbol('content');
interface Globals {
  [SLOTS]?: Readonly<Record<string, string>>;
  [CONTENT]?: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function slotTag(escapes: boolean) {
  return class SlotTag extends Tag {
    readonly slot: string;
    readonly raw: boolean;
    readonly templates: Template[] = [];
    constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid, parser: Parser) {
      super(token, remain, liquid);
      this.slot = this.tokenizer.readIdentifier().content;
      if (!this.slot) throw new Error('a slot needs a name: {% slot banner %}…{% endslot %}');
      this.tokenizer.skipBlank();
      const flag = this.tokenizer.readIdentifier().content;
      if (flag !== '' && flag !== 'raw') throw new Error(`unknown slot option "${flag}" (only "raw")`);
      this.raw = flag === 'raw';
      while (remain.length > 0) {
        const token = remain.shift() as TopLevelToken;
        if ('name' in token && token.name === 'endslot') return;
        this.templates.push(parser.parseToken(token, remain));
      }
      throw new Error(`slot "${this.slot}" is not closed with {% endslot %}`);
    }
    *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
      const given = (ctx.globals as Globals)[SLOTS]?.[this.slot];
      if (given !== undefined) {
        emitter.write(escapes && !this.raw ? escapeHtml(given) : given);
        return;
      }
      yield this.liquid.renderer.renderTemplates(this.templates, ctx, emitter);
    }
    // Static analysis (the variables a template reads) walks into the slot's default content.
    // biome-ignore lint/correctness/useYield: liquidjs reads the children as a generator's return value
    *children(): Generator<unknown, Template[], unknown> {
      return this.templates;
    }
  };
}

class ContentTag extends Tag {
  render(ctx: Context, emitter: Emitter): void {
    emitter.write((ctx.globals as Globals)[CONTENT] ?? '');
  }
}

function newEngine(escapes: boolean): Liquid {
  const engine = new Liquid({
    strictVariables: true,
    strictFilters: true,
    // `{% if optional %}` and `{{ optional | default: "…" }}` work on a variable that is not given.
    lenientIf: true,
    ownPropertyOnly: true,
    // An empty in-memory file system: no template is ever read from disk.
    templates: {},
    ...(escapes ? { outputEscape: 'escape' as const } : {}),
    parseLimit: TEMPLATE_LIMITS.partBytes * 2,
    renderLimit: TEMPLATE_LIMITS.renderMs,
    memoryLimit: TEMPLATE_LIMITS.memory,
    cache: false,
  });
  for (const tag of ['include', 'render', 'layout', 'block']) delete engine.tags[tag];
  engine.registerTag('slot', slotTag(escapes));
  engine.registerTag('content', ContentTag);
  return engine;
}

let engines: { html: Liquid; plain: Liquid } | undefined;
const engineFor = (part: Part): Liquid => {
  engines ??= { html: newEngine(true), plain: newEngine(false) };
  return part === 'html' ? engines.html : engines.plain;
};

/** One compiled part: the parsed template, the variables it reads and the slots it has. */
interface CompiledPart {
  readonly templates: Template[];
  readonly uses: readonly string[];
  readonly slots: readonly string[];
}

export interface Compiled {
  readonly content: TemplateContent;
  readonly parts: Partial<Record<Part, CompiledPart>>;
}

const SLOT_NAMES = /\{%-?\s*slot\s+([A-Za-z_][A-Za-z0-9_]*)/g;

const message = (e: unknown): string => {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/** Parses every part of a template; issues: a part that does not parse, a layout without `{% content %}`. */
export function parseTemplate(
  content: TemplateContent,
): { ok: true; compiled: Compiled } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const parts: Partial<Record<Part, CompiledPart>> = {};
  for (const part of PARTS) {
    const source = content[part];
    if (source === undefined) continue;
    try {
      const engine = engineFor(part);
      const templates = engine.parse(source);
      const uses = engine.globalVariablesSync(templates);
      const slots = [...new Set([...source.matchAll(SLOT_NAMES)].map((m) => m[1] as string))];
      parts[part] = { templates, uses, slots };
    } catch (e) {
      issues.push({ path: part, message: `does not parse: ${message(e)}` });
      continue;
    }
    if (content.kind === 'layout' && part !== 'subject' && !/\{%-?\s*content\s*-?%\}/.test(source)) {
      issues.push({ path: part, message: 'a layout shows the wrapped template with {% content %}' });
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, compiled: { content, parts } };
}

/** The variables a template reads that neither it nor its layout declares, each named (paths under `path`). */
export function undeclared(compiled: Compiled, layoutVariables: readonly VariableDecl[] = [], path = ''): FieldIssue[] {
  const declared = new Set([...compiled.content.variables, ...layoutVariables].map((d) => d.name));
  const prefix = path ? `${path}.` : '';
  return PARTS.flatMap((part) =>
    (compiled.parts[part]?.uses ?? [])
      .filter((name) => !declared.has(name))
      .map((name) => ({
        path: `${prefix}${part}`,
        message: `uses the variable "${name}", which is not declared: add it to \`variables\``,
      })),
  );
}

/**
 * Parses a template and checks that it declares every variable it reads (its own declarations and
 * its layout's): what a save and a publish check.
 */
export function compile(
  content: TemplateContent,
  layoutVariables: readonly VariableDecl[] = [],
): { ok: true; compiled: Compiled } | { ok: false; issues: FieldIssue[] } {
  const parsed = parseTemplate(content);
  if (!parsed.ok) return parsed;
  const issues = undeclared(parsed.compiled, layoutVariables);
  return issues.length > 0 ? { ok: false, issues } : parsed;
}

/** Every variable a template reads (its layout's included), and its slots. */
export function expected(compiled: Compiled, layout?: Compiled): { variables: string[]; slots: string[] } {
  const all = [compiled, ...(layout ? [layout] : [])].flatMap((c) => Object.values(c.parts));
  return {
    variables: [...new Set(all.flatMap((p) => p.uses))].sort(),
    slots: [...new Set(all.flatMap((p) => p.slots))].sort(),
  };
}

export type PartResult =
  | { readonly ok: true; readonly output: string }
  | { readonly ok: false; readonly error: string };

export interface Rendered {
  readonly parts: Partial<Record<Part, PartResult>>;
  /** Field issues, paths under `path` (e.g. "template.html"); none when every part rendered. */
  readonly issues: FieldIssue[];
}

function renderPart(
  part: Part,
  compiled: CompiledPart,
  variables: Readonly<Record<string, unknown>>,
  globals: Globals,
): PartResult {
  try {
    const output: unknown = engineFor(part).renderSync(compiled.templates, { ...variables }, { globals });
    const text = String(output);
    if (Buffer.byteLength(text, 'utf8') > TEMPLATE_LIMITS.renderedBytes) {
      return { ok: false, error: `renders to more than ${TEMPLATE_LIMITS.renderedBytes / 1024} KB` };
    }
    if (part === 'subject') {
      if (/[\r\n\0]/.test(text)) return { ok: false, error: 'the rendered subject contains CR, LF or NUL' };
      if (text.trim() === '') return { ok: false, error: 'the rendered subject is empty' };
      if (text.length > 998) return { ok: false, error: 'the rendered subject is longer than 998 characters' };
    }
    return { ok: true, output: text };
  } catch (e) {
    return { ok: false, error: message(e) };
  }
}

/**
 * Renders a compiled template (its html and text wrapped in `layout` when given) with variables
 * already bound (`bindVariables`). A slot given that neither has is an issue.
 */
export function render(
  compiled: Compiled,
  layout: Compiled | undefined,
  variables: Readonly<Record<string, unknown>>,
  slots: Readonly<Record<string, string>> = {},
  path = '',
): Rendered {
  const prefix = path ? `${path}.` : '';
  const issues: FieldIssue[] = [];
  const known = new Set(expected(compiled, layout).slots);
  for (const name of Object.keys(slots)) {
    if (!known.has(name))
      issues.push({ path: `${prefix}slots.${name}`, message: `the template has no slot "${name}"` });
  }
  const parts: Partial<Record<Part, PartResult>> = {};
  for (const part of PARTS) {
    const inner = compiled.parts[part];
    if (!inner) continue;
    let result = renderPart(part, inner, variables, { [SLOTS]: slots });
    const wrapper = part === 'subject' ? undefined : layout?.parts[part];
    if (result.ok && wrapper) {
      result = renderPart(part, wrapper, variables, { [SLOTS]: slots, [CONTENT]: result.output });
      if (!result.ok) result = { ok: false, error: `in its layout: ${result.error}` };
    }
    parts[part] = result;
    if (!result.ok) issues.push({ path: `${prefix}${part}`, message: result.error });
  }
  return { parts, issues };
}

/** Compiled templates per (slug, version): versions never change, so entries never go stale. */
export class CompiledCache {
  private readonly entries = new Map<string, Compiled>();
  constructor(private readonly max = 200) {}
  get(slug: string, version: number): Compiled | undefined {
    const key = `${slug}@${version}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }
  set(slug: string, version: number, compiled: Compiled): void {
    this.entries.set(`${slug}@${version}`, compiled);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
  get size(): number {
    return this.entries.size;
  }
}
