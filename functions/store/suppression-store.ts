import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SOFT_BOUNCE_SCOPE_PREFIX, softBounceScope } from '../core/keys';
import { type SuppressionReason, suppressionKey } from '../core/suppression';
import type { SuppressionEntry, SuppressionKey, SuppressionRecord, SuppressionStore } from '../ports';
import { batchGetAll, conditional } from './dynamo';

const SUPPRESSION_NAMES = {
  '#active': 'active',
  '#reason': 'reason',
  '#source': 'source',
  '#at': 'suppressedAt',
  '#detail': 'detail',
  '#mid': 'messageId',
  '#re': 'reenabledAt',
  '#up': 'updatedAt',
};

const toRecord = (item: Record<string, unknown>): SuppressionRecord => ({
  address: String(item.address),
  scope: String(item.scope),
  active: item.active !== false,
  reason: String(item.reason ?? 'manual') as SuppressionReason,
  source: String(item.source ?? 'unknown'),
  at: String(item.suppressedAt ?? ''),
  ...(item.detail ? { detail: item.detail as Record<string, unknown> } : {}),
  ...(item.messageId ? { messageId: String(item.messageId) } : {}),
  ...(item.reenabledAt ? { reenabledAt: String(item.reenabledAt) } : {}),
});

export class DynamoSuppressionStore implements SuppressionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async suppressedAmong(keys: readonly SuppressionKey[]): Promise<Set<string>> {
    const unique = [...new Map(keys.map((k) => [suppressionKey(k.address, k.scope), k])).values()];
    const items = await batchGetAll(
      this.doc,
      this.table,
      unique.map((k) => ({ address: k.address, scope: k.scope })),
      {
        what: 'suppression look-up',
        projection: { expression: 'address, #scope, #active', names: { '#scope': 'scope', '#active': 'active' } },
      },
    );
    return new Set(
      items
        .filter((item) => item.active !== false)
        .map((item) => suppressionKey(String(item.address), String(item.scope))),
    );
  }

  suppress(e: SuppressionEntry): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { address: e.address, scope: e.scope },
          UpdateExpression:
            'SET #active = :true, #reason = :reason, #source = :source, #at = :at, #up = :now, #detail = :detail, #mid = :mid',
          ConditionExpression: 'attribute_not_exists(#re) OR #re < :at',
          ExpressionAttributeNames: SUPPRESSION_NAMES,
          ExpressionAttributeValues: {
            ':true': true,
            ':reason': e.reason,
            ':source': e.source,
            ':at': e.at,
            ':now': new Date().toISOString(),
            ':detail': e.detail ?? {},
            ':mid': e.messageId ?? null,
          },
        }),
      ),
    );
  }

  async reenable(key: SuppressionKey, at: string): Promise<boolean> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { address: key.address, scope: key.scope },
        UpdateExpression: 'SET #active = :false, #re = :at, #up = :at',
        ExpressionAttributeNames: { '#active': 'active', '#re': 'reenabledAt', '#up': 'updatedAt' },
        ExpressionAttributeValues: { ':false': false, ':at': at },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes !== undefined && out.Attributes.active !== false;
  }

  async get(address: string): Promise<SuppressionRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'address = :a',
        ExpressionAttributeValues: { ':a': address },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).filter((i) => !String(i.scope).startsWith(SOFT_BOUNCE_SCOPE_PREFIX)).map(toRecord);
  }

  async list(limit: number, cursor?: string): Promise<{ items: SuppressionRecord[]; next?: string }> {
    const items: SuppressionRecord[] = [];
    let start = cursor
      ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>)
      : undefined;
    do {
      const out: ScanCommandOutput = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          Limit: limit,
          FilterExpression: '#active <> :false AND NOT begins_with(#scope, :soft)',
          ExpressionAttributeNames: { '#active': 'active', '#scope': 'scope' },
          ExpressionAttributeValues: { ':false': false, ':soft': SOFT_BOUNCE_SCOPE_PREFIX },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map(toRecord));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    const page = items.slice(0, limit);
    const last = page.at(-1);
    // A page cut short of what was read resumes after its last item; otherwise after the scan's position.
    const resume = items.length > limit && last ? { address: last.address, scope: last.scope } : start;
    return { items: page, ...(resume ? { next: Buffer.from(JSON.stringify(resume)).toString('base64url') } : {}) };
  }

  async recordSoftBounce(
    address: string,
    feedbackId: string,
    at: string,
    windowHours: number,
    nowMs: number,
  ): Promise<number> {
    const windowMs = windowHours * 3_600_000;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          address,
          scope: softBounceScope(feedbackId),
          at,
          expiresAt: Math.floor((nowMs + windowMs) / 1000) + 86_400,
        },
      }),
    );
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'address = :a AND begins_with(#scope, :soft)',
        ExpressionAttributeNames: { '#scope': 'scope' },
        ExpressionAttributeValues: { ':a': address, ':soft': SOFT_BOUNCE_SCOPE_PREFIX },
        ConsistentRead: true,
      }),
    );
    const end = Date.parse(at);
    // TTL deletes late: expired items still show up, so the window is checked here.
    return (out.Items ?? []).filter((i) => {
      const t = Date.parse(String(i.at));
      return t <= end && t > end - windowMs;
    }).length;
  }
}
