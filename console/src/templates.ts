/** Templates: the list, one template's versions, and a preview with variables (GET /v1/templates…, POST …/render). */
import { call } from './api';
import { field, h, replace, select, table, when } from './dom';
import { begin, failure, type Page } from './shell';

interface TemplateSummary {
  readonly slug: string;
  readonly kind: string;
  readonly name: string;
  readonly latestVersion: number;
  readonly activeVersion: number | null;
  readonly updatedAt: string;
}

interface VersionView {
  readonly version: number;
  readonly publishedAt: string;
  readonly active: boolean;
  readonly canary: boolean;
}

interface PreviewView {
  readonly ok: boolean;
  readonly parts: Readonly<Record<string, { readonly output?: string; readonly errors?: readonly string[] }>>;
  readonly errors: readonly { readonly path: string; readonly message: string }[];
}

export const templatesPage: Page = {
  path: 'templates',
  title: 'Templates',
  scope: 'read',
  async render(ctx, params) {
    const slug = params[0];
    if (!slug) {
      const body = h('div');
      begin(ctx, 'Templates', body);
      try {
        const list = await call<{ data: TemplateSummary[] }>('GET', '/v1/templates?limit=100');
        replace(
          body,
          list.data.length === 0
            ? h('p', {}, 'No templates yet.')
            : table(
                'Templates',
                ['Template', 'Kind', 'Name', 'Active version', 'Latest version', 'Updated'],
                list.data.map((t) => [
                  h('a', { href: `#/templates/${encodeURIComponent(t.slug)}` }, t.slug),
                  t.kind,
                  t.name,
                  t.activeVersion === null ? 'none' : String(t.activeVersion),
                  String(t.latestVersion),
                  when(t.updatedAt),
                ]),
              ),
        );
      } catch (e) {
        replace(body, failure(e));
      }
      return;
    }
    const versions = h('div');
    const output = h('div', { 'aria-live': 'polite' });
    const version = select([['', 'draft']]);
    const variables = h('textarea', {}, '{}');
    const form = h(
      'form',
      {
        class: 'stack',
        'aria-label': 'Preview',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void preview();
        },
      },
      field('tpl-version', 'Version', version),
      field('tpl-variables', 'Variables (JSON)', variables),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Preview')),
    );
    begin(
      ctx,
      `Template ${slug}`,
      h('p', {}, h('a', { href: '#/templates' }, 'Back to templates')),
      h('h2', {}, 'Versions'),
      versions,
      h('h2', {}, 'Preview'),
      form,
      output,
    );

    const preview = async () => {
      let vars: unknown;
      try {
        vars = JSON.parse(variables.value || '{}');
      } catch {
        replace(output, h('p', { class: 'error', role: 'alert' }, 'The variables are not valid JSON.'));
        return;
      }
      try {
        const r = await call<PreviewView>('POST', `/v1/templates/${encodeURIComponent(slug)}/render`, {
          ...(version.value ? { version: Number(version.value) } : {}),
          variables: vars,
        });
        replace(
          output,
          r.ok ? h('p', { class: 'ok' }, 'Renders without errors.') : h('p', { class: 'error' }, 'Does not render:'),
          r.errors.length > 0
            ? h('ul', {}, ...r.errors.map((e) => h('li', { class: 'error' }, `${e.path}: ${e.message}`)))
            : null,
          ...Object.entries(r.parts).flatMap(([part, p]) => [
            h('h3', {}, part),
            p.output !== undefined ? h('pre', {}, p.output) : h('p', { class: 'error' }, (p.errors ?? []).join(' ')),
          ]),
        );
      } catch (e) {
        replace(output, failure(e));
      }
    };

    try {
      const list = await call<{ data: VersionView[] }>(
        'GET',
        `/v1/templates/${encodeURIComponent(slug)}/versions?limit=100`,
      );
      for (const v of list.data) version.append(h('option', { value: String(v.version) }, `version ${v.version}`));
      replace(
        versions,
        list.data.length === 0
          ? h('p', {}, 'Not published yet.')
          : table(
              'Versions',
              ['Version', 'Published', 'State'],
              list.data.map((v) => [
                String(v.version),
                when(v.publishedAt),
                v.active ? 'active' : v.canary ? 'canary' : '',
              ]),
            ),
      );
    } catch (e) {
      replace(versions, failure(e));
    }
  },
};
