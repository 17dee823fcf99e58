/**
 * Messages: search and filter (GET /v1/emails), and one email's status, provider, engagement and
 * timeline; a scheduled one's time, with cancel and reschedule (schedule.ts).
 */
import { call, query } from './api';
import { field, h, props, replace, select, table, when } from './dom';
import type { EmailView } from './email-view';
import { scheduleActions } from './schedule';
import { begin, type Ctx, failure, type Page } from './shell';
import { PRIORITIES, SETTLED, STATUSES } from './vocabulary';

interface Page_<T> {
  readonly data: readonly T[];
  readonly next: string | null;
}

export const emailLink = (id: string): HTMLAnchorElement =>
  h('a', { href: `#/messages/${encodeURIComponent(id)}` }, id);

const tagsText = (tags: EmailView['tags']): string =>
  tags
    ? Object.entries(tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')
    : '';

/** The status as a list shows it: a scheduled email with its time. */
const statusText = (e: EmailView): string =>
  e.status === 'scheduled' && e.scheduledAt ? `scheduled for ${when(e.scheduledAt)}` : e.status;

const datetime = (value: string): string | undefined => (value ? new Date(value).toISOString() : undefined);

export const messagesPage: Page = {
  path: 'messages',
  title: 'Messages',
  scope: 'read',
  async render(ctx, params) {
    const id = params[0];
    if (id) return detail(ctx, id);
    const input = (name: string, type = 'text') => h('input', { type, name, autocomplete: 'off' });
    const controls = {
      to: input('to', 'search'),
      from: input('from', 'search'),
      status: select([['', 'any'], ...STATUSES.map((s) => [s, s] as const)]),
      tag: input('tag'),
      priority: select([['', 'any'], ...PRIORITIES.map((p) => [p, p] as const)]),
      after: input('after', 'datetime-local'),
      before: input('before', 'datetime-local'),
    };
    const results = h('div', { 'aria-live': 'polite' });
    let cursor: string | null = null;
    const found: EmailView[] = [];

    const run = async (more: boolean) => {
      if (!more) found.length = 0;
      replace(results, h('p', {}, 'Searching…'));
      try {
        const page = await call<Page_<EmailView>>(
          'GET',
          `/v1/emails${query({
            to: controls.to.value.trim(),
            from: controls.from.value.trim(),
            status: controls.status.value,
            tag: controls.tag.value.trim(),
            priority: controls.priority.value,
            after: datetime(controls.after.value),
            before: datetime(controls.before.value),
            limit: '25',
            cursor: more ? (cursor ?? undefined) : undefined,
          })}`,
        );
        cursor = page.next;
        found.push(...page.data);
        replace(
          results,
          h('p', {}, found.length === 0 ? 'No email matches.' : `${found.length} email(s), newest first.`),
          found.length > 0
            ? table(
                'Emails found',
                ['Email', 'To', 'Subject', 'Status', 'Priority', 'Provider', 'Created'],
                found.map((e) => [
                  emailLink(e.id),
                  e.to.join(', '),
                  e.subject ?? '',
                  statusText(e),
                  e.priority,
                  e.provider ?? '—',
                  when(e.createdAt),
                ]),
              )
            : null,
          cursor ? h('button', { type: 'button', class: 'secondary', onclick: () => void run(true) }, 'More') : null,
        );
      } catch (e) {
        replace(results, failure(e));
      }
    };

    const search = h(
      'form',
      {
        class: 'grid',
        role: 'search',
        'aria-label': 'Search emails',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void run(false);
        },
      },
      field('q-to', 'To', controls.to),
      field('q-from', 'From', controls.from),
      field('q-status', 'Status', controls.status),
      field('q-tag', 'Tag', controls.tag, 'name=value'),
      field('q-priority', 'Priority', controls.priority),
      field('q-after', 'Created after', controls.after),
      field('q-before', 'Created before', controls.before),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search')),
    );
    const byId = h('input', { type: 'text', name: 'id', autocomplete: 'off', spellcheck: 'false' });
    const open = h(
      'form',
      {
        class: 'grid',
        'aria-label': 'Open an email by id',
        onsubmit: (e: Event) => {
          e.preventDefault();
          if (byId.value.trim()) location.hash = `#/messages/${encodeURIComponent(byId.value.trim())}`;
        },
      },
      field('q-id', 'Email id', byId),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Open')),
    );
    begin(ctx, 'Messages', search, open, h('h2', {}, 'Results'), results);
    await run(false);
  },
};

/** One email: its status view, refreshed until it settles (slowly while it waits for its time). */
async function detail(ctx: Ctx, id: string): Promise<void> {
  const schedule = h('div');
  const body = h('div');
  begin(ctx, `Email ${id}`, h('p', {}, h('a', { href: '#/messages' }, 'Back to messages')), schedule, body);
  let last = '';
  const show = (view: EmailView) => {
    if (!ctx.current()) return;
    if (view.status !== last) {
      ctx.announce(`Status: ${view.status}`);
      // Drawn again only when the status changes, so a time being typed is not wiped by a refresh.
      replace(schedule, ...scheduleActions(ctx, view, show));
    }
    last = view.status;
    replace(body, ...emailView(view));
  };
  for (;;) {
    let view: EmailView;
    try {
      view = await call<EmailView>('GET', `/v1/emails/${encodeURIComponent(id)}`);
    } catch (e) {
      replace(body, failure(e));
      return;
    }
    if (!ctx.current()) return;
    show(view);
    if (SETTLED.has(last)) return;
    await new Promise((r) => setTimeout(r, last === 'scheduled' ? 5000 : 1000));
    if (!ctx.current()) return;
  }
}

export function emailView(v: EmailView): Node[] {
  const e = v.engagement;
  return [
    props([
      ['Status', h('strong', { 'data-status': v.status }, v.status)],
      ['Reason', v.reason],
      ['Scheduled for', v.scheduledAt ? when(v.scheduledAt) : null],
      ['From', v.from],
      ['To', v.to.join(', ')],
      ['Subject', v.subject],
      ['Priority', v.priority],
      ['Tags', tagsText(v.tags) || null],
      ['Provider', v.provider],
      ['Provider message id', v.providerMessageId],
      ['Attempts', String(v.attempts)],
      ['Created', when(v.createdAt)],
      ['Updated', when(v.updatedAt)],
    ]),
    h('h2', {}, 'Engagement'),
    props([
      ['Opens', `${e.opens} (machine: ${e.machineOpens})`],
      ['Clicks', `${e.clicks} (machine: ${e.machineClicks})`],
      ['First open', when(e.firstOpenAt)],
      ['First click', when(e.firstClickAt)],
    ]),
    h('h2', {}, 'Timeline'),
    table(
      'Timeline',
      ['When', 'Event', 'Details'],
      v.events.map(({ type, at, ...rest }) => [
        when(at),
        type,
        Object.keys(rest).length > 0
          ? Object.entries(rest)
              .map(([k, x]) => `${k}: ${typeof x === 'string' ? x : JSON.stringify(x)}`)
              .join('; ')
          : '',
      ]),
    ),
  ];
}
