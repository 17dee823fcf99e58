/**
 * A scheduled email's actions on its page: cancel it (POST /v1/emails/{id}/cancel) or move it to another
 * time (PATCH /v1/emails/{id}). Either is a 409 once the email is no longer scheduled; the console shows
 * the API's message and the email as it is now.
 */
import { ApiFailure, call } from './api';
import { field, h, replace, when } from './dom';
import type { EmailView } from './email-view';
import { type Ctx, can } from './shell';

/**
 * The schedule section for `view` (nothing unless it is scheduled); `show` draws the email as the API
 * answers. Cancel and reschedule need a `send` key (the API also wants the key that sent it, or admin).
 */
export function scheduleActions(ctx: Ctx, view: EmailView, show: (v: EmailView) => void): Node[] {
  if (view.status !== 'scheduled') return [];
  if (!can(ctx, 'send'))
    return [h('h2', {}, 'Schedule'), h('p', {}, `Waiting to be sent at ${when(view.scheduledAt)}.`)];
  const path = `/v1/emails/${encodeURIComponent(view.id)}`;
  const message = h('div', { id: 'schedule-message', 'aria-live': 'polite' });
  const at = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: view.scheduledAt ?? '' });
  const atError = () => document.getElementById('reschedule-at-error');

  /** A 409 means the email moved on meanwhile: say so, and show it as it is now. */
  const failed = async (e: unknown) => {
    const text = e instanceof Error ? e.message : String(e);
    replace(message, h('p', { class: 'error', role: 'alert' }, text));
    if (e instanceof ApiFailure && e.status === 409) {
      try {
        show(await call<EmailView>('GET', path));
      } catch {
        // The message above says what happened; the page's own refresh shows the rest.
      }
    }
  };

  const cancel = async () => {
    cancelButton.disabled = true;
    replace(message);
    try {
      const v = await call<EmailView>('POST', `${path}/cancel`);
      show(v);
      ctx.announce('Canceled: it will not be sent.');
    } catch (e) {
      cancelButton.disabled = false;
      await failed(e);
    }
  };

  const move = async (e: Event) => {
    e.preventDefault();
    replace(message);
    const slot = atError();
    if (slot) slot.textContent = '';
    at.removeAttribute('aria-invalid');
    try {
      const v = await call<EmailView>('PATCH', path, { scheduledAt: at.value.trim() });
      show(v);
      replace(message, h('p', {}, `Moved to ${when(v.scheduledAt)}.`));
    } catch (err) {
      const issues = err instanceof ApiFailure && err.status === 422 ? err.details : [];
      if (issues.length > 0 && slot) {
        slot.textContent = issues.map((i) => i.message).join(' ');
        at.setAttribute('aria-invalid', 'true');
        at.focus();
      }
      await failed(err);
    }
  };

  const cancelButton = h('button', { type: 'button', onclick: () => void cancel() }, 'Cancel');
  const reschedule = h(
    'form',
    { class: 'grid', 'aria-label': 'Reschedule', novalidate: true, onsubmit: (e: Event) => void move(e) },
    field('reschedule-at', 'Send at', at, 'RFC 3339 with an offset, e.g. 2026-12-01T09:00:00Z'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Reschedule')),
  );
  return [
    h('h2', {}, 'Schedule'),
    h('p', {}, `Waiting to be sent at ${when(view.scheduledAt)}. `, cancelButton),
    reschedule,
    message,
  ];
}
