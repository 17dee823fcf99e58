import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import type { RateWindow } from '../../functions/core/rate-window';
import { maxInAnyInterval } from '../../functions/core/rate-window';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoRateWindows } from '../../functions/store/rate-windows';
import { useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack(
  (s) => {
    stack = s;
  },
  { pollers: 0 },
);

describe('rate windows on DynamoDB (dynalite)', () => {
  it('8 racing dispatchers never over-admit, in any window of a provider', async () => {
    const windows: RateWindow[] = [
      { limit: 15, windowSeconds: 1 },
      { limit: 40, windowSeconds: 4 },
    ];
    const admitted: number[] = [];
    const until = Date.now() + 5_000;
    // Each dispatcher has its own limiter (its own cache), as separate Lambdas would.
    const dispatchers = Array.from(
      { length: 8 },
      () => new DynamoRateWindows(documentClient(stack.clients.dynamodb), stack.tables.rateWindows),
    );
    await Promise.all(
      dispatchers.map(async (limiter) => {
        while (Date.now() < until) {
          const r = await limiter.reserve('racing', windows, 3, Date.now());
          for (let i = 0; i < r.granted; i++) admitted.push(r.atMs);
          if (r.granted === 0) await new Promise((res) => setTimeout(res, Math.min(r.retryAfterMs, 100)));
        }
      }),
    );
    expect(admitted.length).toBeGreaterThan(0);
    expect(maxInAnyInterval(admitted, 1_000)).toBeLessThanOrEqual(15);
    expect(maxInAnyInterval(admitted, 4_000)).toBeLessThanOrEqual(40);
  });

  it('keeps only the slots that still count', async () => {
    const limiter = new DynamoRateWindows(documentClient(stack.clients.dynamodb), stack.tables.rateWindows);
    const w = [{ limit: 1000, windowSeconds: 2 }];
    for (let i = 0; i < 200; i++) await limiter.reserve('pruned', w, 1, 1_000_000 + i * 100);
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const item = await documentClient(stack.clients.dynamodb).send(
      new GetCommand({ TableName: stack.tables.rateWindows, Key: { pk: 'provider#pruned' } }),
    );
    const slots = Object.keys(item.Item ?? {}).filter((k) => k.startsWith('c2_'));
    expect(slots.length).toBeLessThanOrEqual(22);
  });
});
