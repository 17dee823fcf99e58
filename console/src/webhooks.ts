/**
 * Webhooks (admin keys): the endpoints (GET/POST/PATCH /v1/webhooks), each one's signing secret shown
 * once when it is created, a test event, and an endpoint's deliveries with a replay of one
 * (GET /v1/webhooks/{id}/deliveries, POST …/deliveries/{deliveryId}/replay).
 */
import { ApiFailure, call } from './api';
import { field, h, replace, table, when } from './dom';
import { formErrors } from './form-errors';
import { begin, failure, type Page } from './shell';

/** An endpoint as the API shows it (never its secret, except once in the answer to its creation). */
interface EndpointView {
  readonly id: string;
  readonly url: string;
  readonly description: string | null;
  readonly events: readonly string[];
  readonly enabled: boolean;
  readonly disabledReason?: string | null;
  readonly consecutiveFailures: number;
  readonly createdAt: string;
}

interface DeliveryView {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly status: 'pending' | 'retrying' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastAttemptAt: string | null;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
}

/** The create form's fields, by the API field each one sets. */
const FIELDS = ['url', 'events', 'description'] as const;
type FieldName = (typeof FIELDS)[number];

const list = (value: string): string[] =>
  value
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** How long a shown delivery list keeps refreshing while one of its deliveries is under way. */
const POLL_MS = 1500;
const MAX_POLLS = 60;
const UNDER_WAY = new Set(['pending', 'retrying']);

export const webhooksPage: Page = {
  path: 'webhooks',
  title: 'Webhooks',
  scope: 'admin',
  async render(ctx) {
    const controls: Record<FieldName, HTMLInputElement> = {
      url: h('input', { type: 'url', autocomplete: 'off', spellcheck: 'false' }),
      events: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: 'email.*' }),
      description: h('input', { type: 'text', autocomplete: 'off' }),
    };
    const formError = h('div', { id: 'webhook-form-error', class: 'field-error', role: 'alert' });
    const created = h('div', { id: 'webhook-created' });
    const status = h('div', { id: 'webhook-status', 'aria-live': 'polite' });
    const endpoints = h('div');
    const deliveries = h('section', { 'aria-label': 'Deliveries' });
    /** Counts the delivery lists shown, so a refreshing one stops when another replaces it. */
    let shown = 0;

    const errors = formErrors('webhook', FIELDS, controls, formError, (path) =>
      FIELDS.find((f) => f === path.split('.')[0]),
    );

    const create = async (e: Event) => {
      e.preventDefault();
      errors.clear();
      replace(created);
      const description = controls.description.value.trim();
      try {
        const made = await call<EndpointView & { secret: string }>('POST', '/v1/webhooks', {
          url: controls.url.value.trim(),
          events: list(controls.events.value),
          ...(description ? { description } : {}),
        });
        replace(
          created,
          h(
            'p',
            { class: 'ok', role: 'status' },
            `Created ${made.url}. Its signing secret, shown only this once (keep it where your receiver verifies signatures): `,
            h('code', { id: 'webhook-secret' }, made.secret),
          ),
        );
        await load();
      } catch (err) {
        if (err instanceof ApiFailure) errors.show(err.message, err.details);
        else formError.textContent = String(err);
      }
    };

    const act = async (what: () => Promise<string>) => {
      replace(status);
      try {
        const said = await what();
        replace(status, h('p', { class: 'ok' }, said));
        ctx.announce(said);
      } catch (e) {
        replace(status, failure(e));
      }
    };

    const toggle = (e: EndpointView) =>
      act(async () => {
        await call('PATCH', `/v1/webhooks/${encodeURIComponent(e.id)}`, { enabled: !e.enabled });
        await load();
        // The table was drawn again: keep the keyboard where it was.
        endpoints.querySelector<HTMLElement>(`[data-endpoint="${e.id}"][data-action="toggle"]`)?.focus();
        return `${e.url} is ${e.enabled ? 'disabled' : 'enabled'}.`;
      });

    const test = (e: EndpointView) =>
      act(async () => {
        const sent = await call<{ deliveryId: string }>('POST', `/v1/webhooks/${encodeURIComponent(e.id)}/test`);
        void showDeliveries(e, sent.deliveryId);
        return `A test event is on its way to ${e.url} (delivery ${sent.deliveryId}).`;
      });

    const replay = (e: EndpointView, d: DeliveryView) =>
      act(async () => {
        await call('POST', `/v1/webhooks/${encodeURIComponent(e.id)}/deliveries/${encodeURIComponent(d.id)}/replay`);
        void showDeliveries(e, d.id);
        return `Delivery ${d.id} is sent again.`;
      });

    const deliveryRows = (e: EndpointView, ds: readonly DeliveryView[]) =>
      ds.map((d) => [
        d.id,
        d.type,
        h('span', { 'data-delivery-status': d.status }, d.status),
        String(d.attempts),
        d.lastStatusCode !== null ? String(d.lastStatusCode) : (d.lastError ?? '—'),
        when(d.lastAttemptAt),
        UNDER_WAY.has(d.status) ? when(d.nextAttemptAt) : '—',
        h(
          'button',
          { type: 'button', class: 'secondary', 'aria-label': `Replay ${d.id}`, onclick: () => void replay(e, d) },
          'Replay',
        ),
      ]);

    /** An endpoint's newest deliveries; refreshed while `awaiting` (or any shown) is still under way. */
    async function showDeliveries(e: EndpointView, awaiting?: string): Promise<void> {
      const mine = ++shown;
      const body = h('div');
      replace(
        deliveries,
        h('h2', {}, `Deliveries to ${e.url}`),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', onclick: () => void showDeliveries(e) }, 'Refresh'),
        ),
        body,
      );
      for (let poll = 0; ; poll++) {
        let page: { data: DeliveryView[] };
        try {
          page = await call<{ data: DeliveryView[] }>(
            'GET',
            `/v1/webhooks/${encodeURIComponent(e.id)}/deliveries?limit=25`,
          );
        } catch (err) {
          replace(body, failure(err));
          return;
        }
        if (mine !== shown || !ctx.current()) return;
        replace(
          body,
          page.data.length === 0
            ? h('p', {}, 'No delivery yet.')
            : table(
                `Deliveries to ${e.url}`,
                ['Delivery', 'Event', 'Status', 'Attempts', 'Last response', 'Last attempt', 'Next attempt', ''],
                deliveryRows(e, page.data),
              ),
        );
        const waiting = awaiting !== undefined && !page.data.some((d) => d.id === awaiting);
        if ((!waiting && !page.data.some((d) => UNDER_WAY.has(d.status))) || poll >= MAX_POLLS) return;
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (mine !== shown || !ctx.current()) return;
      }
    }

    const button = (e: EndpointView, action: string, label: string, name: string, onclick: () => void) =>
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'aria-label': name,
          'data-endpoint': e.id,
          'data-action': action,
          onclick,
        },
        label,
      );

    async function load(): Promise<void> {
      let all: EndpointView[];
      try {
        all = (await call<{ data: EndpointView[] }>('GET', '/v1/webhooks')).data;
      } catch (e) {
        replace(endpoints, failure(e));
        return;
      }
      if (!ctx.current()) return;
      replace(
        endpoints,
        all.length === 0
          ? h('p', {}, 'No endpoint yet.')
          : table(
              'Webhook endpoints',
              ['URL', 'Events', 'State', 'Failures in a row', 'Created', ''],
              all.map((e) => [
                h('span', {}, e.url, e.description ? h('div', { class: 'hint' }, e.description) : null),
                e.events.join(', '),
                e.enabled ? 'enabled' : `disabled${e.disabledReason ? ` (${e.disabledReason})` : ''}`,
                String(e.consecutiveFailures),
                when(e.createdAt),
                h(
                  'div',
                  { class: 'actions' },
                  button(
                    e,
                    'toggle',
                    e.enabled ? 'Disable' : 'Enable',
                    `${e.enabled ? 'Disable' : 'Enable'} ${e.url}`,
                    () => void toggle(e),
                  ),
                  button(e, 'test', 'Send test', `Send test event to ${e.url}`, () => void test(e)),
                  button(e, 'deliveries', 'Deliveries', `Show deliveries to ${e.url}`, () => void showDeliveries(e)),
                ),
              ]),
            ),
      );
    }

    const form = h(
      'form',
      {
        class: 'stack',
        'aria-label': 'New webhook endpoint',
        novalidate: true,
        onsubmit: (e: Event) => void create(e),
      },
      formError,
      field('webhook-url', 'URL', controls.url, 'Where events are posted (https; a local stack also takes http)'),
      field(
        'webhook-events',
        'Events',
        controls.events,
        'Event types, prefixes such as email.* or *, separated by commas',
      ),
      field('webhook-description', 'Description', controls.description),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create endpoint')),
    );
    begin(
      ctx,
      'Webhooks',
      h('h2', {}, 'New endpoint'),
      form,
      created,
      h('h2', {}, 'Endpoints'),
      status,
      endpoints,
      deliveries,
    );
    await load();
  },
};
