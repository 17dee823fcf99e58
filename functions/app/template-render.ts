/**
 * Rendering stored templates: for sends at accept time (every email of a request at once, each
 * problem named by its path) and for previews. The engine is imported on first use, so a function
 * instance that never renders a template never loads it; compiled versions are cached per
 * (slug, version) for the life of the instance (versions never change).
 */
import type { Cooldown } from '../core/cooldown';
import type { FieldIssue } from '../core/errors';
import type { SendTemplate, TemplateContent, TemplateRef, VariableDecl } from '../core/template';
import { bindVariables } from '../core/template';
import { pickVersion } from '../core/template-canary';
import type { Compiled, CompiledCache, Part, Rendered } from '../core/template-engine';
import type { TemplateHead, TemplateStore } from '../ports';

export type TemplateEngine = typeof import('../core/template-engine');

let engine: Promise<{ lib: TemplateEngine; cache: CompiledCache }> | undefined;

/** The engine and the instance's cache of compiled versions, loaded once. */
export function loadEngine(): Promise<{ lib: TemplateEngine; cache: CompiledCache }> {
  engine ??= import('../core/template-engine').then((lib) => ({ lib, cache: new lib.CompiledCache() }));
  return engine;
}

export interface TemplateRenderDeps {
  readonly store: TemplateStore;
  /** A draw in [0, 1) per send that has a canary to choose from. @default Math.random */
  readonly random?: () => number;
}

/** A version compiled (from the cache, or read and parsed), or why not. */
async function compiledVersion(
  deps: TemplateRenderDeps,
  slug: string,
  version: number,
): Promise<Compiled | 'missing' | FieldIssue[]> {
  const { lib, cache } = await loadEngine();
  const hit = cache.get(slug, version);
  if (hit) return hit;
  const stored = await deps.store.version(slug, version);
  if (!stored) return 'missing';
  const parsed = lib.parseTemplate(stored.content);
  if (!parsed.ok) return parsed.issues;
  cache.set(slug, version, parsed.compiled);
  return parsed.compiled;
}

/** Declarations a render binds: the layout's, overridden by the template's own of the same name. */
const mergedDecls = (own: readonly VariableDecl[], layout: readonly VariableDecl[]): VariableDecl[] => {
  const names = new Set(own.map((d) => d.name));
  return [...own, ...layout.filter((d) => !names.has(d.name))];
};

export interface RenderedEmail {
  readonly subject: string;
  readonly html?: string;
  readonly text?: string;
  readonly template: TemplateRef;
  /** The template version's default cooldown, if it has one. */
  readonly cooldown?: Cooldown;
}

export interface SendRenderResult {
  /** Per email, in order: the rendered parts, or undefined where it failed. */
  readonly emails: (RenderedEmail | undefined)[];
  readonly issues: FieldIssue[];
  /** Render failures per template version ("slug@version"), to count. */
  readonly failures: Map<string, TemplateRef & { count: number }>;
  /** The templates with a canary running, whose verdict may change with these counts. */
  readonly canaries: Set<string>;
}

/**
 * Renders the `template` of each email (undefined: an email with its own subject and body) at
 * `paths[i]` (e.g. "emails.3.template"). Heads are read once per request; versions from the cache.
 */
export async function renderForSend(
  deps: TemplateRenderDeps,
  templates: readonly (SendTemplate | undefined)[],
  paths: readonly string[],
): Promise<SendRenderResult> {
  const random = deps.random ?? Math.random;
  const { lib } = await loadEngine();
  const issues: FieldIssue[] = [];
  const failures = new Map<string, TemplateRef & { count: number }>();
  const used = templates.filter((t): t is SendTemplate => t !== undefined);
  const heads = await deps.store.heads(used.map((t) => t.slug));
  // Layouts are read in a second round trip, only for those not already read.
  const layoutSlugs = new Set<string>();
  for (const head of heads.values()) if (head.draft.layout) layoutSlugs.add(head.draft.layout);
  const emails: (RenderedEmail | undefined)[] = [];

  const layoutHeads = new Map(heads);
  const versionsToRead = new Map<string, { slug: string; version: number }>();
  const chosen: ({ head: TemplateHead; version: number } | undefined)[] = templates.map((t, i) => {
    if (!t) return undefined;
    const path = paths[i] ?? 'template';
    const head = heads.get(t.slug);
    if (head?.kind !== 'template') {
      issues.push({ path: `${path}.slug`, message: `no template "${t.slug}"` });
      return undefined;
    }
    const version = t.version ?? pickVersion(head, head.canary ? random() : 0);
    if (version === 0) {
      issues.push({ path: `${path}.slug`, message: `template "${t.slug}" has no active version: publish one` });
      return undefined;
    }
    if (version > head.latestVersion) {
      issues.push({ path: `${path}.version`, message: `template "${t.slug}" has no version ${version}` });
      return undefined;
    }
    versionsToRead.set(`${t.slug}@${version}`, { slug: t.slug, version });
    return { head, version };
  });

  const compiled = new Map<string, Compiled | 'missing' | FieldIssue[]>();
  await Promise.all(
    [...versionsToRead.entries()].map(async ([key, v]) => {
      compiled.set(key, await compiledVersion(deps, v.slug, v.version));
    }),
  );
  for (const c of compiled.values())
    if (typeof c === 'object' && 'content' in c && c.content.layout) layoutSlugs.add(c.content.layout);
  const missingLayouts = [...layoutSlugs].filter((s) => !layoutHeads.has(s));
  if (missingLayouts.length > 0) for (const [s, h] of await deps.store.heads(missingLayouts)) layoutHeads.set(s, h);

  /** The layout a version names, compiled, at its active (or canary) version; a string says why not. */
  const layoutCache = new Map<string, { compiled: Compiled; ref: TemplateRef } | string>();
  async function layoutFor(slug: string): Promise<{ compiled: Compiled; ref: TemplateRef } | string> {
    const known = layoutCache.get(slug);
    if (known) return known;
    const head = layoutHeads.get(slug);
    let result: { compiled: Compiled; ref: TemplateRef } | string;
    if (head?.kind !== 'layout') result = `its layout "${slug}" does not exist`;
    else {
      const version = pickVersion(head, head.canary ? random() : 0);
      const c = version === 0 ? 'missing' : await compiledVersion(deps, slug, version);
      result =
        c === 'missing'
          ? `its layout "${slug}" has no active version`
          : Array.isArray(c)
            ? `its layout "${slug}" does not parse`
            : { compiled: c, ref: { slug, version } };
    }
    layoutCache.set(slug, result);
    return result;
  }

  for (const [i, t] of templates.entries()) {
    const pick = chosen[i];
    if (!t || !pick) {
      emails.push(undefined);
      continue;
    }
    const path = paths[i] ?? 'template';
    const ref = { slug: t.slug, version: pick.version };
    const fail = (found: FieldIssue[]) => {
      issues.push(...found);
      const key = `${ref.slug}@${ref.version}`;
      const entry = failures.get(key) ?? { ...ref, count: 0 };
      failures.set(key, { ...entry, count: entry.count + 1 });
      emails.push(undefined);
    };
    const c = compiled.get(`${t.slug}@${pick.version}`);
    if (c === undefined || c === 'missing') {
      issues.push({ path: `${path}.version`, message: `template "${t.slug}" has no version ${pick.version}` });
      emails.push(undefined);
      continue;
    }
    if (Array.isArray(c)) {
      fail(c.map((x) => ({ path: `${path}.${x.path}`, message: x.message })));
      continue;
    }
    const layout = c.content.layout ? await layoutFor(c.content.layout) : undefined;
    if (typeof layout === 'string') {
      fail([{ path: `${path}.slug`, message: `template "${t.slug}": ${layout}` }]);
      continue;
    }
    const layoutDecls = layout?.compiled.content.variables ?? [];
    const declared = lib.undeclared(c, layoutDecls, path);
    if (declared.length > 0) {
      fail(declared);
      continue;
    }
    const bound = bindVariables(mergedDecls(c.content.variables, layoutDecls), t.variables, `${path}.variables`);
    if (!bound.ok) {
      fail(bound.issues);
      continue;
    }
    const r = lib.render(c, layout?.compiled, bound.values, t.slots ?? {}, path);
    if (r.issues.length > 0) {
      fail(r.issues);
      continue;
    }
    const out = (part: Part) => {
      const p = r.parts[part];
      return p?.ok ? p.output : undefined;
    };
    const subject = out('subject');
    const html = out('html');
    const text = out('text');
    emails.push({
      subject: subject ?? '',
      ...(html !== undefined ? { html } : {}),
      ...(text !== undefined ? { text } : {}),
      template: ref,
      ...(c.content.cooldown ? { cooldown: c.content.cooldown } : {}),
    });
  }
  // In the order of the emails, each email's problems in the order found.
  const order = (path: string) => paths.findIndex((p) => path === p || path.startsWith(`${p}.`));
  issues.sort((a, b) => order(a.path) - order(b.path));
  const canaries = new Set([...heads.values()].filter((h) => h.canary).map((h) => h.slug));
  return { emails, issues, failures, canaries };
}

export interface Preview {
  readonly version: number | 'draft';
  readonly ok: boolean;
  /** Per part: its output, or its errors. */
  readonly parts: Partial<Record<Part, { output: string } | { errors: string[] }>>;
  /** Problems with the variables or slots given. */
  readonly errors: FieldIssue[];
  /** What the template expects: its declared variables (with its layout's) and what it reads, and its slots. */
  readonly expects: {
    readonly declared: readonly VariableDecl[];
    readonly reads: readonly string[];
    readonly slots: readonly string[];
  };
}

/**
 * Renders a template's draft or a version (and its layout's active version, or the layout's draft
 * when it has none) for an editor or a CI job; nothing is counted or stored.
 */
export async function preview(
  deps: TemplateRenderDeps,
  content: TemplateContent,
  version: number | 'draft',
  variables: Readonly<Record<string, unknown>>,
  slots: Readonly<Record<string, string>> | undefined,
): Promise<Preview> {
  const { lib } = await loadEngine();
  const parts: Preview['parts'] = {};
  const errors: FieldIssue[] = [];
  let layout: Compiled | undefined;
  if (content.layout) {
    const layoutHead = await deps.store.head(content.layout);
    const layoutContent =
      layoutHead && layoutHead.activeVersion > 0
        ? (await deps.store.version(content.layout, layoutHead.activeVersion))?.content
        : layoutHead?.draft;
    const parsed = layoutContent ? lib.parseTemplate(layoutContent) : undefined;
    if (parsed?.ok) layout = parsed.compiled;
    else errors.push({ path: 'layout', message: `the layout "${content.layout}" does not exist or does not parse` });
  }
  const layoutDecls = layout?.content.variables ?? [];
  const decls = mergedDecls(content.variables, layoutDecls);
  const parsed = lib.parseTemplate(content);
  const expects = {
    declared: decls,
    reads: parsed.ok ? lib.expected(parsed.compiled, layout).variables : [],
    slots: parsed.ok ? lib.expected(parsed.compiled, layout).slots : [],
  };
  if (!parsed.ok) {
    for (const issue of parsed.issues) {
      const part = issue.path as Part;
      parts[part] = { errors: [...((parts[part] as { errors?: string[] })?.errors ?? []), issue.message] };
    }
    return { version, ok: false, parts, errors, expects };
  }
  const partErrors = new Map<Part, string[]>();
  for (const issue of lib.undeclared(parsed.compiled, layoutDecls)) {
    const part = issue.path as Part;
    partErrors.set(part, [...(partErrors.get(part) ?? []), issue.message]);
  }
  const bound = bindVariables(decls, variables, 'variables');
  if (!bound.ok) errors.push(...bound.issues);
  const rendered: Rendered | undefined = bound.ok
    ? lib.render(parsed.compiled, layout, bound.values, slots ?? {})
    : undefined;
  for (const issue of rendered?.issues ?? []) if (issue.path.startsWith('slots.')) errors.push(issue);
  for (const part of lib.PARTS) {
    if (!parsed.compiled.parts[part]) continue;
    const known = partErrors.get(part);
    const result = rendered?.parts[part];
    if (known) parts[part] = { errors: known };
    else if (!result) parts[part] = { errors: ['not rendered: see errors'] };
    else parts[part] = result.ok ? { output: result.output } : { errors: [result.error] };
  }
  const ok = errors.length === 0 && Object.values(parts).every((p) => 'output' in p);
  return { version, ok, parts, errors, expects };
}
