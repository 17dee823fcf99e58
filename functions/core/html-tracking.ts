/**
 * Rewrites an email's HTML for tracking, with a real HTML parser (parse5) and surgical edits: the
 * document is parsed with source locations, and only the `href` attributes of tracked links and
 * the pixel's insertion point change. Every other byte (tables, entities, comments, Outlook
 * conditional comments, formatting) stays as it was.
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

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/** http(s) links are tracked; mailto:, tel:, in-page anchors and relative links are not. */
export const isTrackable = (href: string) => /^https?:\/\//i.test(href.trim());

export function pixelTag(url: string): string {
  return `<img src="${attr(url)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px;" />`;
}

export function rewriteHtml(html: string, options: RewriteOptions): Rewritten {
  const doc = parse(html, { sourceCodeLocationInfo: true }) as unknown as Node;
  const edits: { start: number; end: number; text: string }[] = [];
  const links: string[] = [];
  let bodyEnd: number | undefined;

  const visit = (node: Node) => {
    if ((node.tagName === 'a' || node.tagName === 'area') && options.clickUrl) {
      const href = node.attrs?.find((a) => a.name === 'href');
      const loc = node.sourceCodeLocation?.attrs?.href;
      if (href && loc && isTrackable(href.value)) {
        const target = href.value.trim();
        const url = options.clickUrl(links.length, target);
        if (url !== undefined) {
          // Keep the attribute name as written (HREF stays HREF), replace the value.
          const name = html.slice(loc.startOffset, loc.endOffset).split('=')[0]?.trim() ?? 'href';
          edits.push({ start: loc.startOffset, end: loc.endOffset, text: `${name}="${attr(url)}"` });
          links.push(target);
        }
      }
    }
    if (node.tagName === 'body' && node.sourceCodeLocation?.endTag)
      bodyEnd = node.sourceCodeLocation.endTag.startOffset;
    for (const child of node.childNodes ?? []) visit(child);
    if (node.content) visit(node.content); // <template>
  };
  visit(doc);

  if (options.pixelUrl) {
    // Just before </body>, or at the very end when the document has none.
    const at = bodyEnd ?? html.length;
    edits.push({ start: at, end: at, text: pixelTag(options.pixelUrl) });
  }

  let out = html;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { html: out, links };
}
