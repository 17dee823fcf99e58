import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindVariables, type TemplateContent, type VariableDecl } from '../../../functions/core/template';
import { type Compiled, CompiledCache, compile, expected, render } from '../../../functions/core/template-engine';

const decl = (name: string, type: VariableDecl['type'] = 'string', more: Partial<VariableDecl> = {}): VariableDecl => ({
  name,
  type,
  ...more,
});

const tpl = (parts: Partial<TemplateContent>): TemplateContent => ({
  name: 't',
  kind: 'template',
  variables: [],
  ...parts,
});

function compiled(content: TemplateContent, layoutVariables: VariableDecl[] = []): Compiled {
  const c = compile(content, layoutVariables);
  if (!c.ok) throw new Error(JSON.stringify(c.issues));
  return c.compiled;
}

const renderOf = (c: Compiled, vars: Record<string, unknown>, layout?: Compiled, slots?: Record<string, string>) =>
  render(c, layout, vars, slots, 'template');

describe('compile: strict at save', () => {
  it('refuses a template that reads an undeclared variable, naming it and the part', () => {
    const c = compile(tpl({ subject: 'Hi {{ name }}', html: '<p>{{ order.total }}</p>', variables: [decl('name')] }));
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.issues).toEqual([{ path: 'html', message: expect.stringContaining('"order"') }]);
  });

  it('accepts variables a loop or an assign defines, and the layout’s declared variables', () => {
    const c = compile(
      tpl({
        subject: '{% assign n = items | size %}{{ n }} items for {{ company }}',
        html: '{% for it in items %}{{ it.name }} {{ forloop.index }}{% endfor %}{% capture x %}y{% endcapture %}{{ x }}',
        variables: [decl('items', 'array')],
      }),
      [decl('company')],
    );
    expect(c.ok).toBe(true);
  });

  it('refuses unknown filters, include/render/layout tags and a layout without {% content %}', () => {
    const bad = compile(tpl({ subject: '{{ a | nosuch }}', html: '{% include "x" %}', text: '{% render "x" %}' }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path)).toEqual(['subject', 'html', 'text']);
    const layout = compile({ name: 'l', kind: 'layout', html: '<body></body>', variables: [] });
    expect(layout.ok).toBe(false);
  });
});

describe('render: strict, escaped, bounded', () => {
  it('fails on a variable that is not given instead of rendering an empty string', () => {
    const c = compiled(tpl({ subject: 'Hi {{ name }}', variables: [decl('name', 'string', { required: false })] }));
    const r = renderOf(c, {});
    expect(r.issues).toEqual([{ path: 'template.subject', message: expect.stringContaining('name') }]);
  });

  it('lets `| default:` and `{% if %}` handle an optional variable', () => {
    const c = compiled(
      tpl({
        subject: 'Hi {{ name | default: "there" }}{% if vip %}!{% endif %}',
        variables: [decl('name', 'string', { required: false }), decl('vip', 'boolean', { required: false })],
      }),
    );
    expect(renderOf(c, {}).parts.subject).toEqual({ ok: true, output: 'Hi there' });
  });

  it('escapes html output, but not with | raw, and never escapes subject or text', () => {
    const c = compiled(
      tpl({
        subject: '{{ v }}',
        html: '<p>{{ v }}</p>{{ v | raw }}',
        text: '{{ v }}',
        variables: [decl('v')],
      }),
    );
    const r = renderOf(c, { v: '<b>"Tom" & \'Jerry\'</b>' });
    expect(r.parts.html).toEqual({
      ok: true,
      output: '<p>&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;</p><b>"Tom" & \'Jerry\'</b>',
    });
    expect(r.parts.subject).toEqual({ ok: true, output: '<b>"Tom" & \'Jerry\'</b>' });
    expect(r.parts.text).toEqual({ ok: true, output: '<b>"Tom" & \'Jerry\'</b>' });
  });

  it('refuses a subject that renders CR or LF', () => {
    const c = compiled(tpl({ subject: 'Hi {{ v }}', text: 'x', variables: [decl('v')] }));
    expect(renderOf(c, { v: 'a\r\nBcc: x@example.org' }).issues[0]?.path).toBe('template.subject');
  });

  it('reaches no prototype property', () => {
    const c = compiled(
      tpl({ subject: '{{ o.constructor }}', text: '{{ o.__proto__ }}', variables: [decl('o', 'object')] }),
    );
    const r = renderOf(c, { o: {} });
    expect(r.parts.subject?.ok).toBe(false);
    expect(r.parts.text?.ok).toBe(false);
  });

  it('stops a template that loops past the limits: its render fails, nothing else', () => {
    const huge = compiled(tpl({ subject: 's', text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}' }));
    expect(renderOf(huge, {}).parts.text?.ok).toBe(false);
    const slow = compiled(
      tpl({ subject: 's', text: '{% for i in (1..100000) %}{% for j in (1..100000) %}{% endfor %}{% endfor %}' }),
    );
    expect(renderOf(slow, {}).parts.text?.ok).toBe(false);
    const big = compiled(tpl({ subject: 's', text: '{{ v }}{{ v }}', variables: [decl('v')] }));
    expect(renderOf(big, { v: 'x'.repeat(300 * 1024) }).parts.text).toEqual({
      ok: false,
      error: expect.stringContaining('KB'),
    });
  });

  it('wraps html and text in the layout, and fills slots (escaped unless the slot is raw)', () => {
    const layout = compiled({
      name: 'base',
      kind: 'layout',
      html: '<main>{% content %}</main><aside>{% slot banner %}no banner{% endslot %}</aside>{% slot ad raw %}{% endslot %}{{ company }}',
      text: '{% content %}\n-- {{ company }}',
      variables: [decl('company', 'string', { default: 'Acme' })],
    });
    const inner = compiled(
      tpl({ subject: 'S', html: '<p>{{ name }}</p>', text: 'Hi {{ name }}', variables: [decl('name')] }),
      [...layout.content.variables],
    );
    const vars = { name: '<Jo>', company: 'Acme' };
    const r = renderOf(inner, vars, layout, { banner: '<i>sale</i>', ad: '<b>ad</b>' });
    expect(r.parts.html).toEqual({
      ok: true,
      output: '<main><p>&lt;Jo&gt;</p></main><aside>&lt;i&gt;sale&lt;/i&gt;</aside><b>ad</b>Acme',
    });
    expect(r.parts.text).toEqual({ ok: true, output: 'Hi <Jo>\n-- Acme' });
    expect(r.parts.subject).toEqual({ ok: true, output: 'S' });
    expect(renderOf(inner, vars, layout).parts.html).toMatchObject({ output: expect.stringContaining('no banner') });
    expect(renderOf(inner, vars, layout, { nope: 'x' }).issues).toEqual([
      { path: 'template.slots.nope', message: expect.stringContaining('nope') },
    ]);
    expect(expected(inner, layout)).toEqual({ variables: ['company', 'name'], slots: ['ad', 'banner'] });
  });
});

describe('properties', () => {
  const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/).filter((n) => !RESERVED.has(n));
  const RESERVED = new Set(['empty', 'blank', 'nil', 'null', 'true', 'false', 'forloop', 'tablerowloop']);

  it('any declared variable name renders its value, escaped in html and verbatim in text', () => {
    fc.assert(
      fc.property(identifier, fc.string(), (name, value) => {
        const c = compiled(
          tpl({ subject: 'x', html: `{{ ${name} }}`, text: `{{ ${name} }}`, variables: [decl(name)] }),
        );
        const r = renderOf(c, { [name]: value });
        const escaped = value
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, '&#34;')
          .replace(/'/g, '&#39;');
        expect(r.parts.html).toEqual({ ok: true, output: escaped });
        expect(r.parts.text).toEqual({ ok: true, output: value });
      }),
    );
  });

  it('any undeclared variable name is refused at save and named', () => {
    fc.assert(
      fc.property(identifier, (name) => {
        const c = compile(tpl({ subject: `{{ ${name} }}`, text: 'x' }));
        expect(c.ok).toBe(false);
        if (!c.ok) expect(c.issues[0]?.message).toContain(`"${name}"`);
      }),
    );
  });

  it('bindVariables refuses any value of another type, naming the variable', () => {
    const types = ['string', 'number', 'boolean', 'object', 'array'] as const;
    const valuesOf: Record<(typeof types)[number], fc.Arbitrary<unknown>> = {
      string: fc.string(),
      number: fc.double({ noNaN: true }),
      boolean: fc.boolean(),
      object: fc.dictionary(fc.string(), fc.string()),
      array: fc.array(fc.integer()),
    };
    fc.assert(
      fc.property(
        identifier,
        fc.constantFrom(...types),
        fc.constantFrom(...types),
        fc.gen(),
        (name, declared, given, gen) => {
          const value = gen(() => valuesOf[given]);
          const r = bindVariables([decl(name, declared)], { [name]: value }, 'template.variables');
          if (declared === given) expect(r).toEqual({ ok: true, values: { [name]: value } });
          else
            expect(r).toEqual({
              ok: false,
              issues: [{ path: `template.variables.${name}`, message: expect.stringContaining(`"${name}"`) }],
            });
        },
      ),
    );
  });
});

describe('bindVariables', () => {
  it('names a missing required variable and an undeclared one, and applies defaults', () => {
    const decls = [decl('name'), decl('total', 'number', { default: 0 }), decl('note', 'string', { required: false })];
    expect(bindVariables(decls, { nmae: 'x' }, 'emails.3.template.variables')).toEqual({
      ok: false,
      issues: [
        { path: 'emails.3.template.variables.nmae', message: expect.stringContaining('not a variable') },
        { path: 'emails.3.template.variables.name', message: '"name" is required (a string)' },
      ],
    });
    expect(bindVariables(decls, { name: 'Jo' }, 'v')).toEqual({ ok: true, values: { name: 'Jo', total: 0 } });
  });
});

describe('CompiledCache', () => {
  it('keeps compiled templates per slug and version, dropping the least recently used', () => {
    const cache = new CompiledCache(2);
    const c = compiled(tpl({ subject: 's', text: 't' }));
    cache.set('a', 1, c);
    cache.set('a', 2, c);
    expect(cache.get('a', 1)).toBe(c);
    cache.set('b', 1, c);
    expect(cache.get('a', 2)).toBeUndefined();
    expect(cache.get('a', 1)).toBe(c);
    expect(cache.size).toBe(2);
  });
});
