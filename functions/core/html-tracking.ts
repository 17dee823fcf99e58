/**
 * Rewrites an email's HTML for tracking, with a real HTML parser (parse5) and surgical edits: the
 * document is parsed with source locations, and only the `href` attributes of tracked links and
 * the pixel's insertion point change. Every other byte (tables, entities, comments, Outlook
 * conditional comments, formatting) stays as it was.
 *
 * In two steps: `planTracking` parses the document once and notes where tracking may edit it (it
 * depends on the HTML alone, so emails that share their HTML, such as a newsletter's batch, share
 * one plan); `applyTracking` writes one email's links and pixel into it, without parsing again.
 */
import { parse } from 'parse5';

interface Location {
  startOffset: number;
  endOffset: number;
}

interface Node {
  nodeName: string;
  tagName?: string;
  attrs?: { name: string; value: string }[];
  childNodes?: Node[];
  content?: Node;
  sourceCodeLocation?: (Location & { attrs?: Record<string, Location>; endTag?: Location }) | null;
}

export interface RewriteOptions {
  /** The tracking URL of the link with this index and target; undefined leaves the link alone. */
  readonly clickUrl?: (index: number, url: string) => string | undefined;
  /** The open pixel's URL; no pixel when undefined. */
  readonly pixelUrl?: string;
}

export interface Rewritten {
  readonly html: string;
  /** The original targets of the rewritten links, by link index. */
  readonly links: readonly string[];
}

/** A trackable link: where its `href` attribute is written, as what name, and its target. */
export interface TrackableLink {
  readonly start: number;
  readonly end: number;
  /** The attribute's name as written (HREF stays HREF). */
  readonly name: string;
  /** The target, entities decoded and spaces trimmed. */
  readonly target: string;
}

/** Where tracking may edit one HTML document. */
export interface TrackingPlan {
  /** The trackable links in document (tree) order, each href of the source once. */
  readonly links: readonly TrackableLink[];
  /**
   * Where the pixel goes: just before the first `</body>` (or `</html>`) that leaves it inside the
   * body, or the very end when the document has neither; never after `</html>`.
   */
  readonly pixelAt: number;
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/** http(s) links are tracked; mailto:, tel:, in-page anchors and relative links are not. */
export const isTrackable = (href: string) => /^https?:\/\//i.test(href.trim());

export function pixelTag(url: string): string {
  return `<img src="${attr(url)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px;" />`;
}

/** Parses `html` once and notes its trackable links and the pixel's place. */
export function planTracking(html: string): TrackingPlan {
  const doc = parse(html, { sourceCodeLocationInfo: true }) as unknown as Node;
  const links: TrackableLink[] = [];
  // The parser may build two elements from one tag (a link left open across a block is
  // reconstructed after it): each href written in the source is one link, edited once.
  const seen = new Set<number>();

  const visit = (node: Node) => {
    if (node.tagName === 'a' || node.tagName === 'area') {
      const href = node.attrs?.find((a) => a.name === 'href');
      const loc = node.sourceCodeLocation?.attrs?.href;
      if (href && loc && !seen.has(loc.startOffset) && isTrackable(href.value)) {
        seen.add(loc.startOffset);
        const name = html.slice(loc.startOffset, loc.endOffset).split('=')[0]?.trim() ?? 'href';
        links.push({ start: loc.startOffset, end: loc.endOffset, name, target: href.value.trim() });
      }
    }
    for (const child of node.childNodes ?? []) visit(child);
    if (node.content) visit(node.content); // <template>
  };
  visit(doc);
  return { links, pixelAt: pixelPlace(html) };
}

const PROBE = 'data-mailroute-pixel-probe';
/** At most this many candidate places are tried; documents with more `</body>` tags get the last resort. */
const MAX_CANDIDATES = 8;

/** Whether an `<img>` written at `at` is parsed as an element inside the document's body. */
function insideBody(html: string, at: number): boolean {
  const doc = parse(`${html.slice(0, at)}<img ${PROBE}>${html.slice(at)}`) as unknown as Node;
  const find = (node: Node, inBody: boolean): boolean | undefined => {
    if (node.tagName === 'img' && node.attrs?.some((a) => a.name === PROBE)) return inBody;
    const below = inBody || node.tagName === 'body';
    for (const child of node.childNodes ?? []) {
      const found = find(child, below);
      if (found !== undefined) return found;
    }
    // <template> content is never rendered: a pixel there does not count as inside the body.
    if (node.content) return find(node.content, false) === undefined ? undefined : false;
    return undefined;
  };
  return find(doc, false) === true;
}

/**
 * The pixel's place. The markup may leave `</body>` unparsed (text after `</html>`, a missing or
 * duplicated `</body>`, an end tag the parser ignores inside a table), so the place is not read off
 * the tree: each `</body>` or `</html>` written in the source is a candidate, in order, and the
 * first where a parse puts an `<img>` inside the body wins (an end tag inside a comment, script or
 * attribute fails that test). Without one, the end of the document (where an unclosed body ends).
 */
function pixelPlace(html: string): number {
  const candidates: number[] = [];
  for (const m of html.matchAll(/<\/(?:body|html)(?=[\s/>]|$)/gi)) {
    if (candidates.length === MAX_CANDIDATES) break;
    candidates.push(m.index);
  }
  return candidates.find((at) => insideBody(html, at)) ?? html.length;
}

/** Writes one email's tracking into `html` at the places `plan` (made from the same HTML) notes. */
export function applyTracking(html: string, plan: TrackingPlan, options: RewriteOptions): Rewritten {
  const edits: { start: number; end: number; text: string }[] = [];
  const links: string[] = [];
  if (options.clickUrl) {
    for (const link of plan.links) {
      const url = options.clickUrl(links.length, link.target);
      if (url === undefined) continue;
      edits.push({ start: link.start, end: link.end, text: `${link.name}="${attr(url)}"` });
      links.push(link.target);
    }
  }
  if (options.pixelUrl) edits.push({ start: plan.pixelAt, end: plan.pixelAt, text: pixelTag(options.pixelUrl) });
  if (edits.length === 0) return { html, links };

  // Edits never overlap (one per href, the pixel between tags): in source order, join the
  // untouched slices and the new text. (Tree order may differ, e.g. a link moved out of a table.)
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += html.slice(at, e.start) + e.text;
    at = e.end;
  }
  return { html: out + html.slice(at), links };
}

export function rewriteHtml(html: string, options: RewriteOptions): Rewritten {
  if (!options.clickUrl && !options.pixelUrl) return { html, links: [] };
  return applyTracking(html, planTracking(html), options);
}
