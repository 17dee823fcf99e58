/**
 * Limiter accuracy: 8 concurrent dispatchers, each with its own limiter (as separate Lambdas),
 * reserving under a constant backlog against DynamoDB (dynalite) for several windows. Reports the
 * worst interval of the window length (over-admissions: admissions beyond the limit in it) and
 * the utilization of the limit.
 *
 * With the capacity shares in place (core/shares.ts, a 30 % bulk reserve): the same dispatchers
 * with only bulk mail waiting (utilization must not suffer from the reserve), and with a steady
 * trickle of transactional mail racing a bulk backlog (0 over-admissions; how long transactional
 * mail waited and how much of the limit bulk mail got).
 */

import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { maxInAnyInterval } from '../functions/core/rate-window';
import { documentClient } from '../functions/store/dynamo';
import { DynamoRateWindows } from '../functions/store/rate-windows';

export interface LimiterFigures {
  dispatchers: number;
  limit: number;
  windowSeconds: number;
  windows: number;
  admitted: number;
  maxInAnyWindow: number;
  overAdmissions: number;
  utilization: number;
}

/** How full the window (t − W, t] is, as a share of the limit, averaged over every slot boundary t. */
function utilizationOf(admitted: readonly number[], limit: number, windowSeconds: number): number {
  const sorted = [...admitted].sort((a, b) => a - b);
  const w = windowSeconds * 1000;
  const first = sorted[0] ?? 0;
  const last = sorted.at(-1) ?? 0;
  const fills: number[] = [];
  let lo = 0;
  let hi = 0;
  for (let t = first + w; t <= last; t += w / 20) {
    while (hi < sorted.length && (sorted[hi] as number) <= t) hi++;
    while (lo < hi && (sorted[lo] as number) <= t - w) lo++;
    fills.push((hi - lo) / limit);
  }
  return fills.length > 0 ? fills.reduce((a, b) => a + b, 0) / fills.length : 0;
}

/** A fresh dynalite with the rate-windows table, for one measurement. */
async function withDynalite<T>(run: (client: DynamoDBClient) => Promise<T>): Promise<T> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: 'RateWindows',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      }),
    );
    return await run(client);
  } finally {
    client.destroy();
    await new Promise((r) => server.close(r));
  }
}

export interface SharesFigures {
  dispatchers: number;
  limit: number;
  windowSeconds: number;
  windows: number;
  bulkReservePercent: number;
  onlyBulk: { admitted: number; maxInAnyWindow: number; overAdmissions: number; utilization: number };
  mixed: {
    transactionalDispatchers: number;
    transactionalAsked: number;
    transactionalAdmitted: number;
    /** Longest time a transactional reservation waited from its first refusal to its admission. */
    transactionalMaxWaitMs: number;
    bulkAdmitted: number;
    maxInAnyWindow: number;
    overAdmissions: number;
    utilization: number;
    /** Bulk admissions as a share of the limit over the run. */
    bulkShareOfLimit: number;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The shares under racing dispatchers. Only bulk: every dispatcher has a bulk backlog (the reserve
 * must waste nothing). Mixed: two dispatchers each want one transactional email every 200 ms (well
 * under the limit), the others a bulk backlog.
 */
export async function measureShares(
  limit = 60,
  windowSeconds = 2,
  windows = 6,
  dispatchers = 8,
  bulkReservePercent = 30,
): Promise<SharesFigures> {
  const window = { limit, windowSeconds };
  const options = { bulkReserve: bulkReservePercent / 100 };
  const span = windows * windowSeconds * 1000;

  const onlyBulk = await withDynalite(async (client) => {
    const admitted: number[] = [];
    const end = Date.now() + span;
    await Promise.all(
      Array.from({ length: dispatchers }, async () => {
        const limiter = new DynamoRateWindows(documentClient(client), 'RateWindows');
        while (Date.now() < end) {
          const r = await limiter.reserveShares('bench', [window], { full: 0, bulk: 10 }, Date.now(), options);
          for (let i = 0; i < r.bulk.granted; i++) admitted.push(r.atMs);
          if (r.bulk.granted === 0) await sleep(Math.min(r.bulk.retryAfterMs, 50));
        }
      }),
    );
    const worst = maxInAnyInterval(admitted, windowSeconds * 1000);
    return {
      admitted: admitted.length,
      maxInAnyWindow: worst,
      overAdmissions: Math.max(0, worst - limit),
      utilization: Number(utilizationOf(admitted, limit, windowSeconds).toFixed(3)),
    };
  });

  const transactionalDispatchers = 2;
  const mixed = await withDynalite(async (client) => {
    const bulk: number[] = [];
    const transactional: number[] = [];
    let asked = 0;
    let maxWait = 0;
    const end = Date.now() + span;
    await Promise.all(
      Array.from({ length: dispatchers }, async (_, d) => {
        const limiter = new DynamoRateWindows(documentClient(client), 'RateWindows');
        if (d < transactionalDispatchers) {
          while (Date.now() < end) {
            asked += 1;
            const since = Date.now();
            for (;;) {
              const r = await limiter.reserveShares('bench', [window], { full: 1, bulk: 0 }, Date.now(), options);
              if (r.full.granted > 0) {
                transactional.push(r.atMs);
                maxWait = Math.max(maxWait, Date.now() - since);
                break;
              }
              if (Date.now() >= end) break;
              await sleep(Math.min(r.full.retryAfterMs, 50));
            }
            await sleep(200);
          }
          return;
        }
        while (Date.now() < end) {
          const r = await limiter.reserveShares('bench', [window], { full: 0, bulk: 10 }, Date.now(), options);
          for (let i = 0; i < r.bulk.granted; i++) bulk.push(r.atMs);
          if (r.bulk.granted === 0) await sleep(Math.min(r.bulk.retryAfterMs, 50));
        }
      }),
    );
    const all = [...bulk, ...transactional];
    const worst = maxInAnyInterval(all, windowSeconds * 1000);
    return {
      transactionalDispatchers,
      transactionalAsked: asked,
      transactionalAdmitted: transactional.length,
      transactionalMaxWaitMs: maxWait,
      bulkAdmitted: bulk.length,
      maxInAnyWindow: worst,
      overAdmissions: Math.max(0, worst - limit),
      utilization: Number(utilizationOf(all, limit, windowSeconds).toFixed(3)),
      bulkShareOfLimit: Number((bulk.length / ((limit * span) / (windowSeconds * 1000))).toFixed(3)),
    };
  });

  return { dispatchers, limit, windowSeconds, windows, bulkReservePercent, onlyBulk, mixed };
}

export async function measureLimiter(
  limit = 60,
  windowSeconds = 2,
  windows = 6,
  dispatchers = 8,
): Promise<LimiterFigures> {
  return withDynalite(async (client) => {
    const window = { limit, windowSeconds };
    const admitted: number[] = [];
    const end = Date.now() + windows * windowSeconds * 1000;
    await Promise.all(
      Array.from({ length: dispatchers }, async () => {
        const limiter = new DynamoRateWindows(documentClient(client), 'RateWindows');
        while (Date.now() < end) {
          const r = await limiter.reserve('bench', [window], 10, Date.now());
          for (let i = 0; i < r.granted; i++) admitted.push(r.atMs);
          if (r.granted === 0) await new Promise((res) => setTimeout(res, Math.min(r.retryAfterMs, 50)));
        }
      }),
    );
    const worst = maxInAnyInterval(admitted, windowSeconds * 1000);
    // Utilization under backlog: how full the window is, as a share of the limit, from the end of the
    // first window to the last admission.
    const utilization = utilizationOf(admitted, limit, windowSeconds);
    return {
      dispatchers,
      limit,
      windowSeconds,
      windows,
      admitted: admitted.length,
      maxInAnyWindow: worst,
      overAdmissions: Math.max(0, worst - limit),
      utilization: Number(utilization.toFixed(3)),
    };
  });
}
