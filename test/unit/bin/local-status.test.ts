import { afterEach, describe, expect, it, vi } from 'vitest';
import { pollersOf } from '../../../bin/local/event-sources';
import {
  formatPipeline,
  formatSummary,
  type PipelineCounts,
  type StatusCounts,
  watchStatus,
} from '../../../bin/local-status';
import { EVENT_SOURCES } from '../../../lib/spec';

describe('local status line', () => {
  afterEach(() => vi.useRealTimers());

  it('lists the statuses in pipeline order, without zeros', () => {
    expect(formatSummary({})).toBe('0 messages');
    expect(formatSummary({ sent: 1 })).toBe('1 message: 1 sent');
    expect(formatSummary({ bounced: 1, queued: 2, sent: 10, failed: 0 })).toBe(
      '13 messages: 2 queued · 10 sent · 1 bounced',
    );
  });

  it('prints only when the counts change, and stops cleanly', async () => {
    vi.useFakeTimers();
    const states: StatusCounts[] = [{}, { queued: 1 }, { queued: 1 }, { sent: 1 }, { sent: 1 }, { delivered: 1 }];
    let i = 0;
    const printed: string[] = [];
    const stop = watchStatus(
      async () => states[Math.min(i++, states.length - 1)] ?? {},
      (l) => printed.push(l),
      100,
    );
    for (let t = 0; t < 8; t++) await vi.advanceTimersByTimeAsync(100);
    await stop();
    expect(printed).toEqual(['1 message: 1 queued', '1 message: 1 sent', '1 message: 1 delivered']);
    const before = i;
    await vi.advanceTimersByTimeAsync(500);
    expect(i).toBe(before);
  });

  it('shows the counts of each priority after the summary, in priority order, leaving out the empty ones', () => {
    expect(formatPipeline({ byStatus: {}, byPriority: {} })).toBe('0 messages');
    expect(
      formatPipeline({
        byStatus: { queued: 200, sent: 3 },
        byPriority: { bulk: { queued: 200, sent: 1 }, critical: { sent: 1 }, transactional: { sent: 1 } },
      }),
    ).toBe('203 messages: 200 queued · 3 sent | critical: 1 sent | transactional: 1 sent | bulk: 200 queued · 1 sent');
    expect(formatPipeline({ byStatus: { queued: 1 }, byPriority: { transactional: { queued: 1 }, bulk: {} } })).toBe(
      '1 message: 1 queued | transactional: 1 queued',
    );
  });

  it('prints the per-priority line when a priority moves, even if the totals do not', async () => {
    vi.useFakeTimers();
    const states: PipelineCounts[] = [
      { byStatus: { queued: 1 }, byPriority: { bulk: { queued: 1 } } },
      { byStatus: { queued: 1 }, byPriority: { transactional: { queued: 1 } } },
    ];
    let i = 0;
    const printed: string[] = [];
    const stop = watchStatus(
      async () => states[Math.min(i++, states.length - 1)] as PipelineCounts,
      (l) => printed.push(l),
      100,
      formatPipeline,
    );
    for (let t = 0; t < 4; t++) await vi.advanceTimersByTimeAsync(100);
    await stop();
    expect(printed).toEqual(['1 message: 1 queued | bulk: 1 queued', '1 message: 1 queued | transactional: 1 queued']);
  });
});

describe('local pollers', () => {
  const source = (queue: string) => {
    const found = EVENT_SOURCES.find((s) => s.queue === queue);
    if (!found) throw new Error(`no event source on ${queue}`);
    return found;
  };

  it('polls every send queue, the bulk one never with more pollers than its maximum concurrency', () => {
    expect(
      EVENT_SOURCES.filter((s) => s.fn === 'dispatch')
        .map((s) => s.queue)
        .sort(),
    ).toEqual(['send', 'sendBulk', 'sendCritical'].sort());
    expect(pollersOf(source('send'), 8)).toBe(8);
    expect(pollersOf(source('sendCritical'), 8)).toBe(8);
    expect(pollersOf(source('sendBulk'), 8)).toBe(source('sendBulk').maxConcurrency);
    expect(pollersOf({ ...source('sendBulk'), maxConcurrency: 3 }, 8)).toBe(3);
    expect(pollersOf(source('sesEvents'), 8)).toBe(1);
    expect(pollersOf(source('sendBulk'), 0)).toBe(0);
  });
});
