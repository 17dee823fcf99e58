/**
 * A send form for test emails: it keeps its fields after sending, shows each validation error of the
 * API next to the field it names (the error envelope's `details[].path`), and follows the email it sent
 * until its status settles. With a "Send at" time it schedules the email instead, and says when it goes.
 */
import { ApiFailure, call } from './api';
import { field, h, replace, select, when } from './dom';
import type { EmailView } from './email-view';
import { formErrors } from './form-errors';
import { emailLink } from './messages';
import { begin, failure, type Page } from './shell';
import { PRIORITIES, SETTLED } from './vocabulary';

/** The form's fields, by the name of the API field each one sets. */
const FIELDS = ['from', 'to', 'cc', 'subject', 'text', 'html', 'priority', 'tags', 'scheduledAt'] as const;
type FieldName = (typeof FIELDS)[number];

const list = (value: string): string[] =>
  value
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** "name=value, other=x" as the API's tags object (a part without "=" is a tag with an empty value). */
function tagsOf(value: string): Record<string, string> | undefined {
  const parts = list(value);
  if (parts.length === 0) return undefined;
  return Object.fromEntries(
    parts.map((p) => [p.split('=')[0]?.trim() ?? p, p.includes('=') ? p.slice(p.indexOf('=') + 1).trim() : '']),
  );
}

/** The field an issue's path names: its first segment ("to.0" → to), if the form has it. */
export function fieldOf(path: string): FieldName | undefined {
  const first = path.split('.')[0] ?? '';
  return (FIELDS as readonly string[]).includes(first) ? (first as FieldName) : undefined;
}

export const sendPage: Page = {
  path: 'send',
  title: 'Send a test email',
  scope: 'send',
  async render(ctx) {
    const controls: Record<FieldName, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement> = {
      from: h('input', { type: 'text', autocomplete: 'off', value: 'app@example.com' }),
      to: h('input', { type: 'text', autocomplete: 'off' }),
      cc: h('input', { type: 'text', autocomplete: 'off' }),
      subject: h('input', { type: 'text', autocomplete: 'off' }),
      text: h('textarea', {}),
      html: h('textarea', {}),
      priority: select([['', 'from the category (transactional)'], ...PRIORITIES.map((p) => [p, p] as const)]),
      tags: h('input', { type: 'text', autocomplete: 'off' }),
      scheduledAt: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' }),
    };
    const formError = h('div', { id: 'send-form-error', class: 'field-error', role: 'alert' });
    const outcome = h('div', { id: 'send-outcome', 'aria-live': 'polite' });

    const errors = formErrors('send', FIELDS, controls, formError, fieldOf);

    const follow = async (id: string) => {
      const status = h('strong', { id: 'sent-status' }, 'queued');
      const via = h('span', { id: 'sent-provider' });
      replace(outcome, h('p', {}, 'Accepted as ', emailLink(id), '. Status: ', status, via));
      for (;;) {
        await new Promise((r) => setTimeout(r, 700));
        if (!ctx.current()) return;
        let view: EmailView;
        try {
          view = await call<EmailView>('GET', `/v1/emails/${encodeURIComponent(id)}`);
        } catch (e) {
          // A key that may send but not read sees only that it was accepted.
          if (e instanceof ApiFailure && e.status === 403) return;
          outcome.append(failure(e));
          return;
        }
        if (status.textContent !== view.status) {
          status.textContent = view.status;
          ctx.announce(`Status: ${view.status}`);
        }
        via.textContent = view.provider ? ` via ${view.provider}` : '';
        if (SETTLED.has(view.status)) return;
      }
    };

    const submit = async (e: Event) => {
      e.preventDefault();
      errors.clear();
      const v = (name: FieldName) => controls[name].value.trim();
      const body: Record<string, unknown> = {
        from: v('from'),
        to: list(v('to')),
        ...(v('cc') ? { cc: list(v('cc')) } : {}),
        ...(v('subject') ? { subject: v('subject') } : {}),
        ...(v('text') ? { text: controls.text.value } : {}),
        ...(v('html') ? { html: controls.html.value } : {}),
        ...(v('priority') ? { priority: v('priority') } : {}),
        ...(tagsOf(v('tags')) ? { tags: tagsOf(v('tags')) } : {}),
        ...(v('scheduledAt') ? { scheduledAt: v('scheduledAt') } : {}),
      };
      button.disabled = true;
      try {
        const { id, scheduledAt } = await call<{ id: string; scheduledAt?: string }>('POST', '/v1/emails', body);
        if (scheduledAt) {
          // Nothing happens until its time: its page follows it from there (and can cancel it).
          replace(
            outcome,
            h(
              'p',
              {},
              'Scheduled as ',
              emailLink(id),
              '. Status: ',
              h('strong', { id: 'sent-status' }, 'scheduled'),
              ` for ${when(scheduledAt)}.`,
            ),
          );
          ctx.announce(`Scheduled as ${id}`);
        } else {
          ctx.announce(`Accepted as ${id}`);
          void follow(id);
        }
      } catch (err) {
        replace(outcome);
        if (err instanceof ApiFailure) errors.show(err.message, err.details);
        else formError.textContent = String(err);
      } finally {
        button.disabled = false;
      }
    };

    const button = h('button', { type: 'submit' }, 'Send');
    const form = h(
      'form',
      { class: 'stack', 'aria-label': 'Test email', novalidate: true, onsubmit: (e: Event) => void submit(e) },
      formError,
      field('send-from', 'From', controls.from),
      field('send-to', 'To', controls.to, 'One or more addresses, separated by commas'),
      field('send-cc', 'Cc', controls.cc),
      field('send-subject', 'Subject', controls.subject),
      field('send-text', 'Text', controls.text),
      field('send-html', 'HTML', controls.html),
      field('send-priority', 'Priority', controls.priority),
      field('send-tags', 'Tags', controls.tags, 'name=value, separated by commas'),
      field(
        'send-scheduledAt',
        'Send at',
        controls.scheduledAt,
        'Optional: RFC 3339 with an offset, e.g. 2026-12-01T09:00:00Z (at most 30 days ahead); empty sends now',
      ),
      h('div', { class: 'actions' }, button),
    );
    begin(ctx, 'Send a test email', form, h('h2', {}, 'Last email'), outcome);
  },
};
