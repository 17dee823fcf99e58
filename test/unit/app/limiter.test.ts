import { describe, expect, it } from 'vitest';
import { limiter } from '../../../functions/app/limiter';

describe('limiter', () => {
  it('runs at most `max` at once, every one of them, and passes results and errors through', async () => {
    const slots = limiter(3);
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const task = (i: number) =>
      slots(async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((r) => gates.push(r));
        running -= 1;
        if (i === 4) throw new Error('four');
        return i;
      });
    const all = Promise.allSettled(Array.from({ length: 10 }, (_, i) => task(i)));
    // Open the gates as they come, one at a time.
    for (let opened = 0; opened < 10; opened++) {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    const results = await all;
    expect(most).toBe(3);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      0,
      1,
      2,
      3,
      'four',
      5,
      6,
      7,
      8,
      9,
    ]);
  });
});
