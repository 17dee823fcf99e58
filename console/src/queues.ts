/** Queues: depth per queue and its dead-letter queue, the dead letters themselves, and redrive (GET/POST /v1/queues…). */
import { call } from './api';
import { h, replace, table, when } from './dom';
import { begin, failure, type Page } from './shell';

interface Depth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

interface QueueView {
  readonly queue: string;
  readonly depth: Depth;
  readonly deadLetters: { readonly depth: Depth; readonly oldestAgeSeconds: number | null };
  readonly redrive: boolean;
}

interface DeadLetter {
  readonly messageId: string;
  readonly emailId: string | null;
  readonly sentAt: string | null;
  readonly receiveCount: number | null;
  readonly status: string | null;
  readonly reason: string | null;
}

interface RedriveReport {
  readonly moved: readonly string[];
  readonly dropped: readonly { id: string; why: string }[];
  readonly left: readonly { id: string; why: string }[];
}

const depthText = (d: Depth): string =>
  `${d.visible} waiting, ${d.inFlight} in flight${d.delayed ? `, ${d.delayed} delayed` : ''}`;
const age = (s: number | null): string =>
  s === null ? '—' : s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;

export const queuesPage: Page = {
  path: 'queues',
  title: 'Queues',
  scope: 'admin',
  async render(ctx) {
    const body = h('div');
    const detail = h('div', { 'aria-live': 'polite' });
    begin(ctx, 'Queues', body, detail);

    const showDeadLetters = async (queue: string) => {
      try {
        const list = await call<{ data: DeadLetter[] }>('GET', `/v1/queues/${encodeURIComponent(queue)}/dead-letters`);
        replace(
          detail,
          h('h2', {}, `Dead letters of ${queue}`),
          list.data.length === 0
            ? h('p', {}, 'None.')
            : table(
                `Dead letters of ${queue}`,
                ['Email', 'Status', 'Reason', 'Received', 'Queued at'],
                list.data.map((d) => [
                  d.emailId
                    ? h('a', { href: `#/messages/${encodeURIComponent(d.emailId)}` }, d.emailId)
                    : `(not an email) ${d.messageId}`,
                  d.status ?? '—',
                  d.reason ?? '',
                  d.receiveCount === null ? '—' : `${d.receiveCount}×`,
                  when(d.sentAt),
                ]),
              ),
          h('p', { class: 'hint' }, 'Shows up to 10; they stay in the queue.'),
        );
      } catch (e) {
        replace(detail, failure(e));
      }
    };

    const redrive = async (queue: string) => {
      try {
        const r = await call<RedriveReport>('POST', `/v1/queues/${encodeURIComponent(queue)}/redrive`, {});
        ctx.announce(`${r.moved.length} moved back to ${queue}`);
        replace(
          detail,
          h('h2', {}, `Redrive of ${queue}`),
          h(
            'p',
            { class: 'ok', role: 'status' },
            `Moved back: ${r.moved.length}. Dropped: ${r.dropped.length}. Left: ${r.left.length}.`,
          ),
          r.dropped.length + r.left.length > 0
            ? h('ul', {}, ...[...r.dropped, ...r.left].map((x) => h('li', {}, `${x.id}: ${x.why}`)))
            : null,
        );
        await load();
      } catch (e) {
        replace(detail, failure(e));
      }
    };

    const load = async () => {
      try {
        const list = await call<{ data: QueueView[] }>('GET', '/v1/queues');
        replace(
          body,
          table(
            'Queues',
            ['Queue', 'Depth', 'Dead letters', 'Oldest dead letter', ''],
            list.data.map((q) => {
              const dead = q.deadLetters.depth.visible + q.deadLetters.depth.inFlight;
              return [
                q.queue,
                depthText(q.depth),
                String(dead),
                age(q.deadLetters.oldestAgeSeconds),
                h(
                  'span',
                  { class: 'actions' },
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'aria-label': `Show dead letters of ${q.queue}`,
                      onclick: () => void showDeadLetters(q.queue),
                    },
                    'Dead letters',
                  ),
                  q.redrive
                    ? h(
                        'button',
                        {
                          type: 'button',
                          'aria-label': `Redrive ${q.queue}`,
                          disabled: dead === 0,
                          onclick: () => void redrive(q.queue),
                        },
                        'Redrive',
                      )
                    : null,
                ),
              ];
            }),
          ),
          h(
            'p',
            { class: 'hint' },
            'The age of the oldest waiting message of each queue is on the CloudWatch dashboard (SQS shows it only as a metric).',
          ),
          h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Refresh'),
        );
      } catch (e) {
        replace(body, failure(e));
      }
    };
    await load();
  },
};
