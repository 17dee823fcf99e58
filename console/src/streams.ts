/** Streams: each priority's reputation stream, paused or not, its rates, and resume (GET/POST /v1/settings/streams). */
import { call } from './api';
import { h, replace, table, when } from './dom';
import { begin, failure, type Page } from './shell';

interface StreamView {
  readonly priority: string;
  readonly state: string;
  readonly since: string | null;
  readonly warning: boolean;
  readonly rates: {
    readonly windowHours: number;
    readonly sends: number;
    readonly bounceRatePercent: number;
    readonly complaintRatePercent: number;
    readonly level: string;
  };
}

export const streamsPage: Page = {
  path: 'streams',
  title: 'Streams',
  scope: 'admin',
  async render(ctx) {
    const body = h('div', { 'aria-live': 'polite' });
    begin(
      ctx,
      'Streams',
      h('p', { class: 'hint' }, 'The reputation guard pauses a stream whose bounce or complaint rate is too high.'),
      body,
    );
    const load = async (note?: Node) => {
      try {
        const doc = await call<{ streams: StreamView[] }>('GET', '/v1/settings/streams');
        replace(
          body,
          note ?? null,
          table(
            'Streams',
            ['Priority', 'State', 'Since', 'Sends', 'Bounce rate', 'Complaint rate', ''],
            doc.streams.map((s) => [
              s.priority,
              h(
                'span',
                { class: s.state === 'paused' ? 'error' : s.warning ? 'warn' : 'ok' },
                s.state,
                s.warning ? ' (warning)' : '',
              ),
              when(s.since),
              `${s.rates.sends} in ${s.rates.windowHours} h`,
              `${s.rates.bounceRatePercent}%`,
              `${s.rates.complaintRatePercent}%`,
              s.state === 'paused'
                ? h(
                    'button',
                    { type: 'button', 'aria-label': `Resume ${s.priority}`, onclick: () => void resume(s.priority) },
                    'Resume',
                  )
                : '',
            ]),
          ),
        );
      } catch (e) {
        replace(body, failure(e));
      }
    };
    const resume = async (priority: string) => {
      try {
        await call('POST', `/v1/settings/streams/${encodeURIComponent(priority)}/resume`);
        ctx.announce(`${priority} resumed`);
        await load(h('p', { class: 'ok', role: 'status' }, `The ${priority} stream is sending again.`));
      } catch (e) {
        replace(body, failure(e));
      }
    };
    await load();
  },
};
