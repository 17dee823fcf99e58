/**
 * README.md renders as written: every code fence closes (a closing fence that carries text is no
 * fence, and swallows what follows into the code block), every `##`/`###` heading of the source is a
 * heading once rendered by a real Markdown parser (marked), and every in-page `#anchor` link names a
 * heading that exists (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lexer, type Token, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';

const README = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const tokens = Lexer.lex(README, { gfm: true });

/** Every token, nested ones (in lists, blockquotes, inline) included. */
function walk(list: readonly Token[]): Token[] {
  return list.flatMap((t) => {
    const children: Token[] = [];
    if ('tokens' in t && Array.isArray(t.tokens)) children.push(...walk(t.tokens));
    if (t.type === 'list') for (const item of (t as Tokens.List).items) children.push(...walk(item.tokens));
    if (t.type === 'table') {
      const table = t as Tokens.Table;
      for (const cell of [...table.header, ...table.rows.flat()]) children.push(...walk(cell.tokens));
    }
    return [t, ...children];
  });
}
const all = walk(tokens);

/** The text a reader sees in an inline run (code spans, emphasis and links reduced to their text). */
function plain(list: readonly Token[] | undefined, fallback: string): string {
  if (!list) return fallback;
  return list
    .map((t) => ('tokens' in t && Array.isArray(t.tokens) ? plain(t.tokens, '') : 'text' in t ? String(t.text) : ''))
    .join('');
}

/** GitHub's anchor for a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');

const headings = all.filter((t): t is Tokens.Heading => t.type === 'heading');

describe('README.md', () => {
  it('closes every code fence it opens (CommonMark: same character, at least as long, nothing after it)', () => {
    const unclosed: string[] = [];
    const closersWithText: string[] = [];
    let open: { line: number; char: string; length: number; indent: number } | undefined;
    README.split('\n').forEach((text, i) => {
      const fence = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(text);
      if (!fence) return;
      const [, indent = '', marks = '', rest = ''] = fence;
      if (!open) {
        open = { line: i + 1, char: marks.charAt(0), length: marks.length, indent: indent.length };
        return;
      }
      if (marks.charAt(0) !== open.char || marks.length < open.length) return;
      if (rest.trim() === '') open = undefined;
      else closersWithText.push(`line ${i + 1}: ${text}`);
    });
    if (open) unclosed.push(`the fence opened on line ${open.line} never closes`);
    expect(closersWithText).toEqual([]);
    expect(unclosed).toEqual([]);
  });

  it('renders every fenced code block with its closing fence (none runs to the end of the file)', () => {
    const fenced = all.filter((t): t is Tokens.Code => t.type === 'code' && /^\s*(```|~~~)/.test(t.raw));
    expect(fenced.length).toBeGreaterThan(20);
    for (const code of fenced) expect(code.raw.trimEnd(), code.raw.slice(0, 80)).toMatch(/(```|~~~)$/);
  });

  it('renders every ## and ### heading of the source as a heading (none is swallowed by a code block)', () => {
    const inSource = README.split('\n')
      .map((line) => /^(#{2,3}) (.+?)\s*$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]} ${m[2]}`);
    const rendered = headings
      .filter((h) => h.depth === 2 || h.depth === 3)
      .map((h) => `${'#'.repeat(h.depth)} ${h.text}`);
    expect(inSource.length).toBeGreaterThan(20);
    expect(rendered).toEqual(inSource);
    expect(rendered).toContain('### Suppressions');
  });

  it('links in-page only to headings that exist', () => {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const h of headings) {
      const base = slug(plain(h.tokens, h.text));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    const links = all.filter((t): t is Tokens.Link => t.type === 'link' && t.href.startsWith('#'));
    expect(links.length).toBeGreaterThan(5);
    const broken = links.map((l) => l.href.slice(1)).filter((a) => !anchors.has(decodeURIComponent(a)));
    expect(broken).toEqual([]);
  });
});
