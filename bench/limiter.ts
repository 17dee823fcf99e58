/**
 * Limiter accuracy: 8 concurrent dispatchers, each with its own limiter (as separate Lambdas),
 * reserving under a constant backlog against DynamoDB (dynalite) for several windows. Reports the
 * worst interval of the window length (over-admissions: admissions beyond the limit in it) and
 * the utilization of the limit.
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

export async function measureLimiter(
  limit = 60,
  windowSeconds = 2,
  windows = 6,
  dispatchers = 8,
): Promise<LimiterFigures> {
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
    // Utilization under backlog: how full the window (t − W, t] is, as a share of the limit,
    // averaged over every slot boundary t from the end of the first window to the last admission.
    const sorted = [...admitted].sort((a, b) => a - b);
    const w = windowSeconds * 1000;
    const first = sorted[0] ?? 0;
    const last = sorted.at(-1) ?? 0;
    const fills: number[] = [];
    for (let t = first + w; t <= last; t += w / 20) {
      fills.push(sorted.filter((x) => x > t - w && x <= t).length / limit);
    }
    const utilization = fills.length > 0 ? fills.reduce((a, b) => a + b, 0) / fills.length : 0;
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
  } finally {
    client.destroy();
    await new Promise((r) => server.close(r));
  }
}
