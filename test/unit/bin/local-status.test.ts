import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatSummary, type StatusCounts, watchStatus } from '../../../bin/local-status';

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
});
