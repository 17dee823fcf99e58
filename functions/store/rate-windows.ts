/**
 * Rate windows in DynamoDB: one item per provider holding every window's slot counters, a
 * version and the latest time seen. A reservation is one conditional write (version must match),
 * so racing dispatchers never both take the same capacity; the last state read or written is kept
 * in memory, so a dispatcher that was the last to write needs no read. The item's time only moves
 * forward, so clocks a little apart cannot reopen capacity that was already counted.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { providerWindowKey } from '../core/keys';
import { expiredSlots, grant, type RateWindow, type SlotCounts, slotOf, utilization } from '../core/rate-window';
import type { RateWindowStore, Reservation } from '../ports';

export type { Reservation };

interface State {
  readonly version: number;
  readonly atMs: number;
  readonly windows: Record<number, Record<number, number>>;
}

const ATTR = /^c(\d+)_(\d+)$/;
const attrOf = (windowSeconds: number, slot: number) => `c${windowSeconds}_${slot}`;
const MAX_ATTEMPTS = 10;

function stateOf(item: Record<string, unknown> | undefined): State {
  const windows: Record<number, Record<number, number>> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    const m = ATTR.exec(name);
    if (!m) continue;
    const w = Number(m[1]);
    windows[w] ??= {};
    (windows[w] as Record<number, number>)[Number(m[2])] = Number(value);
  }
  return { version: Number(item?.v ?? 0), atMs: Number(item?.t ?? 0), windows };
}

export class DynamoRateWindows implements RateWindowStore {
  private readonly cache = new Map<string, State>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly random: () => number = Math.random,
  ) {}

  private async read(provider: string): Promise<State> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: providerWindowKey(provider) }, ConsistentRead: true }),
    );
    return stateOf(out.Item);
  }

  /** Reserves up to `wanted` sends of `provider` in every window at once. */
  async reserve(provider: string, windows: readonly RateWindow[], wanted: number, nowMs: number): Promise<Reservation> {
    let state = this.cache.get(provider) ?? (await this.read(provider));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const atMs = Math.max(nowMs, state.atMs);
      const g = grant(state.windows as Record<number, SlotCounts>, windows, wanted, atMs);
      const share = utilization(state.windows as Record<number, SlotCounts>, windows, atMs, g.granted);
      if (g.granted === 0) return { ...g, atMs, utilization: share };
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':g': g.granted,
        ':t': atMs,
        ':v': state.version,
        ':nv': state.version + 1,
      };
      const adds: string[] = [];
      const removes: string[] = [];
      for (const w of windows) {
        const slot = slotOf(w, atMs);
        names[`#a${w.windowSeconds}`] = attrOf(w.windowSeconds, slot);
        adds.push(`#a${w.windowSeconds} :g`);
        for (const old of expiredSlots(state.windows[w.windowSeconds] ?? {}, w, atMs).slice(0, 20)) {
          names[`#r${w.windowSeconds}_${old}`] = attrOf(w.windowSeconds, old);
          removes.push(`#r${w.windowSeconds}_${old}`);
        }
      }
      try {
        const out = await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: providerWindowKey(provider) },
            UpdateExpression: `SET t = :t, v = :nv ADD ${adds.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: 'attribute_not_exists(v) OR v = :v',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        this.cache.set(provider, stateOf(out.Attributes));
        return { ...g, atMs, utilization: share };
      } catch (e) {
        if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
        // Another dispatcher reserved first: read what it left and decide again.
        await new Promise((r) => setTimeout(r, this.random() * 10 * (attempt + 1)));
        state = await this.read(provider);
      }
    }
    throw new Error(`rate window for ${provider}: too much contention, try again`);
  }
}
