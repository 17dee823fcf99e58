import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { applyTracking, pixelTag, planTracking, rewriteHtml } from '../../../functions/core/html-tracking';

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

describe('links the parser builds twice', () => {
  it('tracks a link left open across a block once, and keeps the rest of the HTML as it was', () => {
    // The parser reconstructs the <a> after the <p>: two elements, one href in the source.
    const html = '<p><a href="https://x.example/a">one<p>two</a>three';
    const out = rewriteHtml(html, { clickUrl: (i) => `T${i}`, pixelUrl: 'P' });
    expect(out.links).toEqual(['https://x.example/a']);
    expect(out.html).toBe(`<p><a href="T0">one<p>two</a>three${pixelTag('P')}`);
  });

  it('changes nothing but hrefs and the pixel, whatever the nesting (property)', () => {
    const fragment = fc.oneof(
      fc.constantFrom('<p>', '</p>', '<div>', '</div>', '<b>', '</b>', '<table>', '<tr>', '<td>', '</table>', '</a>'),
      fc.constantFrom('<body>', '</body>', '<template>', '</template>', '<!-- <a href="https://c.example/"> -->'),
      fc.integer({ min: 0, max: 9 }).map((n) => `<a href="https://x.example/${n}">`),
      fc.integer({ min: 0, max: 9 }).map((n) => `<area href="https://x.example/${n}">`),
      fc.constantFrom('text', ' ', 'é &amp; '),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), (parts) => {
        const html = parts.join('');
        const out = rewriteHtml(html, { clickUrl: (i) => `T${i}`, pixelUrl: 'P' });
        const undone = out.html
          .replace(pixelTag('P'), '')
          .replace(/href="T(\d+)"/g, (_m, i: string) => `href="${out.links[Number(i)]}"`);
        expect(undone).toBe(html);
        // One plan serves every email with this HTML.
        const plan = planTracking(html);
        expect(applyTracking(html, plan, { clickUrl: (i) => `T${i}`, pixelUrl: 'P' })).toEqual(out);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the open pixel goes inside the body, even when the markup leaves </body> unparsed', () => {
  /** The elements the pixel sits in, from the document down (undefined: it is not an element of the tree). */
  function ancestorsOfPixel(html: string): string[] | undefined {
    interface N {
      nodeName: string;
      attrs?: { name: string; value: string }[];
      childNodes?: N[];
    }
    const walk = (node: N, path: string[]): string[] | undefined => {
      if (node.nodeName === 'img' && node.attrs?.some((a) => a.name === 'src' && a.value === 'P')) return path;
      for (const c of node.childNodes ?? []) {
        const found = walk(c, [...path, node.nodeName]);
        if (found) return found;
      }
      return undefined;
    };
    return walk(parse(html) as unknown as N, []);
  }

  it.each([
    ['text after </html>', '<html><body><p>Hi</p></body></html>\ntrailing text', '<p>Hi</p>[PX]</body>'],
    ['markup after </html>', '<html><body><p>Hi</p></body></html><p>late</p>', '<p>Hi</p>[PX]</body>'],
    ['no </body>, text after </html>', '<html><body><p>Hi</p></html>tail', '<p>Hi</p>[PX]</html>tail'],
    ['a duplicated </body>', '<html><body><p>Hi</p></body></body></html>', '<p>Hi</p>[PX]</body></body>'],
    ['a second body after </html>', '<html><body>x</body></html><body>y</body>', 'x[PX]</body></html><body>y'],
    ['</body> ignored in a table', '<body><table><tr><td>x</td></tr></body></html>', '</tr>[PX]</body>'],
    ['</body> ignored in a cell', '<body><table><tr><td>x</body></html>', '<td>x[PX]</body>'],
    ['</body> in a comment first', '<body>x<!-- </body> --></body></html>', '-->[PX]</body>'],
    ['</body> in a script first', '<body><script>s="</body>"</script>y</body></html>', 'y[PX]</body>'],
    ['</body> in a template first', '<body><template></body></template>y</body></html>', 'y[PX]</body>'],
    ['no </body>, no </html>', '<html><body><p>Hi</p>', '<p>Hi</p>[PX]'],
  ])('%s', (_what, html, around) => {
    const out = rewriteHtml(html, { pixelUrl: 'P' }).html;
    expect(out.replace(pixelTag('P'), '[PX]')).toContain(around);
    expect(out.replace(pixelTag('P'), '')).toBe(html);
    const at = out.indexOf(pixelTag('P'));
    const htmlEnd = html.search(/<\/html/i);
    if (htmlEnd >= 0) expect(at).toBeLessThanOrEqual(htmlEnd);
    expect(ancestorsOfPixel(out)).toContain('body');
  });
});
