import { describe, expect, it } from 'vitest';
import { publishMetrics } from '../../../functions/app/observability';

describe('publishMetrics', () => {
  const fake = (stored: boolean) => {
    let published = 0;
    return {
      m: { hasStoredMetrics: () => stored, publishStoredMetrics: () => void published++ },
      published: () => published,
    };
  };

  it('publishes after an invocation that stored metrics, also on error', async () => {
    const f = fake(true);
    const mw = publishMetrics(f.m);
    await mw.after();
    await mw.onError();
    expect(f.published()).toBe(2);
  });

  it('stays silent when nothing was stored (no empty-metrics warning per request)', async () => {
    const f = fake(false);
    await publishMetrics(f.m).after();
    expect(f.published()).toBe(0);
  });
});
