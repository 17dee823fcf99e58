/**
 * Providers: the chain's order, enabled flags, limits, circuit, error rate and effective rate
 * (GET /v1/settings/providers); reorder and enable/disable, saved with the version that was read, so a
 * change made meanwhile is never overwritten (the API answers 409 and the page reloads).
 */
import { ApiFailure, call } from './api';
import { h, replace, table } from './dom';
import { begin, failure, type Page } from './shell';

interface RateLimit {
  readonly max: number;
  readonly perSeconds: number;
}

interface ProviderView {
  readonly id: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly position: number | null;
  readonly limits: readonly RateLimit[];
  readonly throttle: { readonly rateFactor: number; readonly effectiveLimits: readonly RateLimit[] };
  readonly health: {
    readonly circuit: string;
    readonly openUntil: string | null;
    readonly reason: string | null;
    readonly errorRate: number;
    readonly attempts: number;
    readonly errors: number;
    readonly windowMinutes: number;
  };
}

interface SettingsView {
  readonly chain: readonly string[];
  readonly version: number;
  readonly source: string;
  readonly updatedAt: string | null;
  readonly providers: readonly ProviderView[];
  readonly cacheSeconds: number;
}

const PER: Readonly<Record<number, string>> = { 1: 's', 60: 'min', 3600: 'h', 86400: 'day' };
const rate = (limits: readonly RateLimit[]): string =>
  limits.length === 0
    ? 'no limit'
    : limits.map((l) => `${l.max}/${PER[l.perSeconds] ?? `${l.perSeconds}s`}`).join(', ');

export const providersPage: Page = {
  path: 'providers',
  title: 'Providers',
  scope: 'admin',
  async render(ctx) {
    const body = h('div');
    const note = h('div', { 'aria-live': 'polite' });
    begin(
      ctx,
      'Providers',
      h(
        'p',
        { class: 'hint' },
        'Emails go to the first enabled provider that has capacity, then fail over down the chain.',
      ),
      note,
      body,
    );

    let settings: SettingsView;
    /** The order and flags being edited. */
    let chain: string[] = [];
    let enabled: Record<string, boolean> = {};

    const load = async () => {
      settings = await call<SettingsView>('GET', '/v1/settings/providers');
      chain = [...settings.chain];
      enabled = Object.fromEntries(settings.providers.map((p) => [p.id, p.enabled]));
      draw();
    };

    const move = (id: string, by: number) => {
      const i = chain.indexOf(id);
      const j = i + by;
      if (i < 0 || j < 0 || j >= chain.length) return;
      [chain[i], chain[j]] = [chain[j] as string, chain[i] as string];
      draw(`${id} ${by < 0 ? 'up' : 'down'}`);
      ctx.announce(`${id} is now number ${j + 1} of ${chain.length}`);
    };

    const save = async () => {
      try {
        settings = await call<SettingsView>('PUT', '/v1/settings/providers', {
          chain,
          providers: Object.fromEntries(chain.map((id) => [id, { enabled: enabled[id] ?? true }])),
          version: settings.version,
        });
        chain = [...settings.chain];
        draw();
        replace(
          note,
          h(
            'p',
            { class: 'ok', role: 'status' },
            `Saved (version ${settings.version}). Dispatchers use it within ${settings.cacheSeconds} s.`,
          ),
        );
      } catch (e) {
        if (e instanceof ApiFailure && e.status === 409) {
          await load();
          replace(
            note,
            h('p', { class: 'error', role: 'alert' }, `${e.message} The page now shows the current settings.`),
          );
          return;
        }
        replace(note, failure(e));
      }
    };

    /** Redraws the table; `focus` names the button to focus again (after a move the row changed place). */
    const draw = (focus?: string) => {
      const byId = new Map(settings.providers.map((p) => [p.id, p]));
      const dirty =
        chain.join() !== settings.chain.join() || settings.providers.some((p) => p.enabled !== enabled[p.id]);
      const rows = chain.flatMap((id, i) => {
        const p = byId.get(id);
        if (!p) return [];
        const toggle = h('input', {
          type: 'checkbox',
          id: `enabled-${id}`,
          checked: enabled[id] ?? true,
          onchange: (e: Event) => {
            enabled[id] = (e.target as HTMLInputElement).checked;
            draw(`enabled-${id}`);
          },
        });
        return [
          [
            String(i + 1),
            h('span', {}, h('strong', {}, id), ` (${p.type})`),
            h('span', {}, toggle, h('label', { for: `enabled-${id}` }, ' enabled')),
            rate(p.limits),
            `${rate(p.throttle.effectiveLimits)}${p.throttle.rateFactor < 1 ? ` (×${p.throttle.rateFactor})` : ''}`,
            h(
              'span',
              { class: p.health.circuit === 'closed' ? 'ok' : 'warn' },
              p.health.circuit,
              p.health.reason ? ` — ${p.health.reason}` : '',
            ),
            `${Math.round(p.health.errorRate * 1000) / 10}% of ${p.health.attempts} in ${p.health.windowMinutes} min`,
            h(
              'span',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  id: `${id} up`,
                  'aria-label': `Move ${id} up`,
                  disabled: i === 0,
                  onclick: () => move(id, -1),
                },
                '↑',
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  id: `${id} down`,
                  'aria-label': `Move ${id} down`,
                  disabled: i === chain.length - 1,
                  onclick: () => move(id, 1),
                },
                '↓',
              ),
            ),
          ],
        ];
      });
      replace(
        body,
        table(
          'Provider chain',
          ['#', 'Provider', 'Enabled', 'Limits', 'Effective rate', 'Circuit', 'Error rate', 'Order'],
          rows,
        ),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', id: 'save-providers', disabled: !dirty, onclick: () => void save() }, 'Save'),
          h(
            'button',
            { type: 'button', class: 'secondary', disabled: !dirty, onclick: () => void load() },
            'Discard changes',
          ),
        ),
        h(
          'p',
          { class: 'hint' },
          `Version ${settings.version} (${settings.source}), updated ${settings.updatedAt ?? 'never'}.`,
        ),
      );
      if (focus) document.getElementById(focus)?.focus();
    };

    try {
      await load();
    } catch (e) {
      replace(body, failure(e));
    }
  },
};
