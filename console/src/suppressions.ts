/** Suppressions: look an address up, list them, add one, lift one (GET/PUT/DELETE /v1/suppressions). */
import { ApiFailure, call, query } from './api';
import { field, h, replace, table, when } from './dom';
import { begin, can, failure, type Page } from './shell';

interface SuppressionView {
  readonly address: string;
  readonly scope: string;
  readonly reason: string;
  readonly source: string;
  readonly suppressedAt: string;
  readonly messageId?: string;
}

export const suppressionsPage: Page = {
  path: 'suppressions',
  title: 'Suppressions',
  scope: 'read',
  async render(ctx) {
    const results = h('div', { 'aria-live': 'polite' });
    const admin = can(ctx, 'admin');

    const lift = async (s: SuppressionView) => {
      try {
        await call(
          'DELETE',
          `/v1/suppressions/${encodeURIComponent(s.address)}${query({ scope: s.scope === '*' ? undefined : s.scope })}`,
        );
        ctx.announce(`${s.address} is no longer suppressed`);
        replace(results, h('p', { class: 'ok', role: 'status' }, `Lifted: ${s.address} (${s.scope}) gets mail again.`));
      } catch (e) {
        replace(results, failure(e));
      }
    };

    const show = (items: readonly SuppressionView[], next: string | null) => {
      replace(
        results,
        items.length === 0
          ? h('p', {}, 'No suppression found.')
          : table(
              'Suppressions',
              ['Address', 'Scope', 'Reason', 'Source', 'Since', ''],
              items.map((s) => [
                s.address,
                s.scope,
                s.reason,
                s.source,
                when(s.suppressedAt),
                admin
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        'aria-label': `Lift ${s.address} (${s.scope})`,
                        onclick: () => void lift(s),
                      },
                      'Lift',
                    )
                  : '',
              ]),
            ),
        next ? h('button', { type: 'button', class: 'secondary', onclick: () => void listAll(next) }, 'More') : null,
      );
    };

    const lookUp = async (address: string) => {
      try {
        const found = await call<{ suppressions: SuppressionView[] }>(
          'GET',
          `/v1/suppressions/${encodeURIComponent(address)}`,
        );
        show(found.suppressions, null);
      } catch (e) {
        if (e instanceof ApiFailure && e.status === 404) replace(results, h('p', {}, `${address} is not suppressed.`));
        else replace(results, failure(e));
      }
    };

    const listAll = async (cursor?: string) => {
      try {
        const page = await call<{ data: SuppressionView[]; next: string | null }>(
          'GET',
          `/v1/suppressions${query({ limit: '50', cursor })}`,
        );
        show(page.data, page.next);
      } catch (e) {
        replace(results, failure(e));
      }
    };

    const address = h('input', { type: 'search', autocomplete: 'off' });
    const search = h(
      'form',
      {
        class: 'grid',
        role: 'search',
        'aria-label': 'Find a suppression',
        onsubmit: (e: Event) => {
          e.preventDefault();
          const a = address.value.trim();
          void (a ? lookUp(a) : listAll());
        },
      },
      field('sup-address', 'Address', address, 'Empty lists them all'),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Find')),
    );

    const addAddress = h('input', { type: 'text', autocomplete: 'off' });
    const addScope = h('input', { type: 'text', autocomplete: 'off', value: '*' });
    const addNote = h('input', { type: 'text', autocomplete: 'off' });
    const addOutcome = h('div', { 'aria-live': 'polite' });
    const add = h(
      'form',
      {
        class: 'grid',
        'aria-label': 'Suppress an address',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            const s = await call<SuppressionView>(
              'PUT',
              `/v1/suppressions/${encodeURIComponent(addAddress.value.trim())}`,
              {
                scope: addScope.value.trim() || '*',
                ...(addNote.value.trim() ? { note: addNote.value.trim() } : {}),
              },
            );
            replace(addOutcome, h('p', { class: 'ok', role: 'status' }, `Suppressed: ${s.address} (${s.scope}).`));
          } catch (err) {
            replace(addOutcome, failure(err));
          }
        },
      },
      field('sup-add-address', 'Address', addAddress),
      field('sup-add-scope', 'Scope', addScope, '"*" for all mail, or a category'),
      field('sup-add-note', 'Note', addNote),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Suppress')),
    );

    begin(
      ctx,
      'Suppressions',
      search,
      results,
      admin ? h('h2', {}, 'Add a suppression') : null,
      admin ? add : null,
      addOutcome,
    );
    await listAll();
  },
};
