import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pixelTag, rewriteHtml } from '../../../functions/core/html-tracking';

const newsletter = readFileSync(join(import.meta.dirname, '../../fixtures/html/newsletter.html'), 'utf8');
const track = (i: number, u: string) =>
  u.startsWith('https://mail.example.com/u/') ? undefined : `https://t.example/c/${i}`;

describe('rewriteHtml on a real-world template', () => {
  const out = rewriteHtml(newsletter, { clickUrl: track, pixelUrl: 'https://t.example/o/P' });

  it('rewrites every http(s) link, in document order, with entities in the target decoded', () => {
    expect(out.links).toEqual([
      'https://shop.example.com/?utm_source=mail&utm_campaign=spring#top',
      'https://shop.example.com/sale?item=42&size=M',
      'https://shop.example.com/button',
    ]);
    expect(out.html).toContain('<a href="https://t.example/c/0" target="_blank">');
    expect(out.html).toContain(`<A HREF="https://t.example/c/1">spring sale</A>`);
    expect(out.html).toContain('<a href="https://t.example/c/2" class="btn">');
  });

  it('leaves mailto:, tel:, anchors, relative links, the unsubscribe link and Outlook conditional comments alone', () => {
    for (const kept of [
      '<a href="mailto:help@example.com?subject=Hi%20there">',
      '<a href="tel:+15555550100">',
      '<a href="#section-2">',
      '<a href="/relative/path">',
      '<a>no href</a>',
      '<a href="https://mail.example.com/u/TOKEN">',
      '<!--[if mso]><v:roundrect href="https://shop.example.com/mso-button"><center>Shop now</center></v:roundrect><![endif]-->',
      '<!--[if gte mso 9]><xml><o:OfficeDocumentSettings>',
    ]) {
      expect(out.html).toContain(kept);
    }
  });

  it('appends the pixel just before </body>', () => {
    expect(out.html).toContain(`${pixelTag('https://t.example/o/P')}</body>`);
  });

  it('changes nothing else: undoing the edits gives back the original byte for byte', () => {
    let undone = out.html.replace(pixelTag('https://t.example/o/P'), '');
    undone = undone
      .replace(
        'href="https://t.example/c/0"',
        'href="https://shop.example.com/?utm_source=mail&amp;utm_campaign=spring#top"',
      )
      .replace(`HREF="https://t.example/c/1"`, `HREF='https://shop.example.com/sale?item=42&size=M'`)
      .replace('href="https://t.example/c/2"', 'href="https://shop.example.com/button"');
    expect(undone).toBe(newsletter);
  });
});

describe('rewriteHtml edge cases', () => {
  it('appends the pixel at the end of a document without <body>', () => {
    const out = rewriteHtml('<p>Hi <a href="https://x.example/a">x</a></p>', { clickUrl: () => 'T', pixelUrl: 'P' });
    expect(out.html).toBe(`<p>Hi <a href="T">x</a></p>${pixelTag('P')}`);
  });

  it('escapes the tracking URL for the attribute', () => {
    const out = rewriteHtml('<a href="https://x.example">x</a>', { clickUrl: () => 'https://t.example/c?a=1&b="2"' });
    expect(out.html).toBe('<a href="https://t.example/c?a=1&amp;b=&quot;2&quot;">x</a>');
  });

  it('tracks uppercase schemes and trims spaces around the target', () => {
    const out = rewriteHtml('<a href="  HTTPS://X.example/Path  ">x</a>', { clickUrl: (i) => `T${i}` });
    expect(out.links).toEqual(['HTTPS://X.example/Path']);
    expect(out.html).toBe('<a href="T0">x</a>');
  });

  it('does nothing without options', () => {
    expect(rewriteHtml(newsletter, {}).html).toBe(newsletter);
  });

  it('handles image-map areas and keeps the query string and fragment in the signed target', () => {
    const out = rewriteHtml('<map><area href="https://x.example/a?q=1#frag" /></map>', { clickUrl: () => 'T' });
    expect(out.links).toEqual(['https://x.example/a?q=1#frag']);
  });
});
