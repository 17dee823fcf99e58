/**
 * Live provider settings and provider health in the settings table:
 *
 * - `settings#providers`: the live chain, enabled flags and limits, with a version for
 *   optimistic concurrency (two admins saving at once cannot silently overwrite each other);
 * - `health#<provider>`: the circuit (`st`, `until`, `why`, `since`) and outcome counts per bucket
 *   (`a<bucket>` attempts, `e<bucket>` errors), added with ADD so racing dispatchers never lose a count.
 *
 * A dispatcher reads all of it with one BatchGetItem (then caches it briefly). The keys are built in
 * core/keys.ts, which the IAM conditions of the functions use too.
 */
import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { BucketCounts, CircuitState, ProviderHealth } from '../core/health';
import { LIVE_SETTINGS_KEY, providerHealthKey } from '../core/keys';
import type { LiveProvider, LiveSettings } from '../core/providers';
import type { ProviderSettingsStore } from '../ports';

const MINUTE = /^([ae])(\d+)$/;
const STATES = new Set<CircuitState>(['closed', 'open', 'half-open']);

export function healthOf(item: Record<string, unknown> | undefined): ProviderHealth {
  const buckets: Record<number, { attempts: number; errors: number }> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    const m = MINUTE.exec(name);
    if (!m) continue;
    const bucket = Number(m[2]);
    const c = buckets[bucket] ?? { attempts: 0, errors: 0 };
    buckets[bucket] = c;
    if (m[1] === 'a') c.attempts = Number(value);
    else c.errors = Number(value);
  }
  const st = item?.st as CircuitState | undefined;
  return {
    state: st && STATES.has(st) ? st : 'closed',
    untilMs: typeof item?.until === 'number' ? item.until : undefined,
    reason: typeof item?.why === 'string' ? item.why : undefined,
    sinceMs: typeof item?.since === 'number' ? item.since : undefined,
    buckets,
  };
}

function liveOf(item: Record<string, unknown> | undefined): LiveSettings | undefined {
  if (!item || !Array.isArray(item.chain)) return undefined;
  return {
    chain: (item.chain as unknown[]).filter((c): c is string => typeof c === 'string'),
    providers: (item.providers ?? {}) as Record<string, LiveProvider>,
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
    version: Number(item.version ?? 0),
  };
}

export class DynamoProviderSettings implements ProviderSettingsStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async load(ids: readonly string[]): Promise<{ live?: LiveSettings; health: Record<string, ProviderHealth> }> {
    const keys = [LIVE_SETTINGS_KEY, ...ids.map(providerHealthKey)].map((pk) => ({ pk }));
    const items: Record<string, unknown>[] = [];
    let request: Record<string, { Keys: { pk: string }[]; ConsistentRead: boolean }> | undefined = {
      [this.table]: { Keys: keys, ConsistentRead: true },
    };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      if (attempt > 5) throw new Error('provider settings: unprocessed keys after retries');
      const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
      items.push(...((out.Responses?.[this.table] ?? []) as Record<string, unknown>[]));
      request = out.UnprocessedKeys as typeof request;
    }
    const byPk = new Map(items.map((i) => [String(i.pk), i]));
    const live = liveOf(byPk.get(LIVE_SETTINGS_KEY));
    return {
      ...(live ? { live } : {}),
      health: Object.fromEntries(ids.map((id) => [id, healthOf(byPk.get(providerHealthKey(id)))])),
    };
  }

  async saveLive(next: LiveSettings, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: LIVE_SETTINGS_KEY, ...next },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }

  async recordOutcomes(
    id: string,
    bucket: number,
    counts: BucketCounts,
    drop: readonly number[],
  ): Promise<ProviderHealth> {
    const names: Record<string, string> = { '#a': `a${bucket}`, '#e': `e${bucket}` };
    const removes = drop.filter((m) => m !== bucket).slice(0, 20);
    removes.forEach((m, i) => {
      names[`#ra${i}`] = `a${m}`;
      names[`#re${i}`] = `e${m}`;
    });
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: providerHealthKey(id) },
        UpdateExpression: `ADD #a :a, #e :e${removes.length > 0 ? ` REMOVE ${removes.map((_, i) => `#ra${i}, #re${i}`).join(', ')}` : ''}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':a': counts.attempts, ':e': counts.errors },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return healthOf(out.Attributes);
  }

  async moveCircuit(
    id: string,
    from: { readonly state: CircuitState; readonly dueBy?: number },
    to: {
      readonly state: CircuitState;
      readonly untilMs?: number;
      readonly reason?: string;
      readonly sinceMs?: number;
    },
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ':from': from.state, ':to': to.state };
    const conditions = [from.state === 'closed' ? '(attribute_not_exists(st) OR st = :from)' : 'st = :from'];
    if (from.dueBy !== undefined) {
      conditions.push('(attribute_not_exists(#until) OR #until <= :due)');
      values[':due'] = from.dueBy;
    }
    const sets = ['st = :to'];
    const removes: string[] = [];
    if (to.untilMs !== undefined) {
      sets.push('#until = :until');
      values[':until'] = to.untilMs;
    } else removes.push('#until');
    if (to.reason !== undefined) {
      sets.push('why = :why');
      values[':why'] = to.reason.slice(0, 500);
    } else if (to.state === 'closed') removes.push('why');
    if (to.sinceMs !== undefined) {
      sets.push('since = :since');
      values[':since'] = to.sinceMs;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: providerHealthKey(id) },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }
}
