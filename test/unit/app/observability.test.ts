import { describe, expect, it } from 'vitest';
import { maskAddresses, publishMetrics } from '../../../functions/app/observability';

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

describe('maskAddresses', () => {
  it('masks the local part of every address and keeps the domain', () => {
    expect(maskAddresses('Email address is not verified: Jane.Doe+x@Example.org, bob@b.co')).toBe(
      'Email address is not verified: J***@Example.org, b***@b.co',
    );
    expect(maskAddresses('HTTP 503 Service Unavailable')).toBe('HTTP 503 Service Unavailable');
  });
});
