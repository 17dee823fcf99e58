import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { API_KEY_PREFIX, apiKeyKey } from '../core/keys';
import type { ApiKeyRecord, KeyStore } from '../ports';

/** A key item as read back from DynamoDB; keys from before scopes existed can send and read, from any domain. */
// Marked pure: only the API's bundle, which reads keys, keeps (and builds) it.
const KeyItem = /* @__PURE__ */ (() =>
  z.looseObject({
    name: z.string(),
    createdAt: z.string(),
    revoked: z._default(z.boolean(), false),
    scopes: z._default(z.array(z.enum(['send', 'read', 'admin'])), ['send', 'read']),
    senderDomains: z._default(z.array(z.string()), ['*']),
    ratePerSecond: z._default(z.number(), 100),
    prefix: z.optional(z.string()),
  }))();

const toKey = (item: Record<string, unknown>): ApiKeyRecord => {
  const k = KeyItem.parse(item);
  return {
    name: k.name,
    createdAt: k.createdAt,
    revoked: k.revoked,
    scopes: k.scopes,
    senderDomains: k.senderDomains,
    ratePerSecond: k.ratePerSecond,
    ...(k.prefix ? { prefix: k.prefix } : {}),
  };
};

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: apiKeyKey(hash) } }));
    return out.Item ? toKey(out.Item) : undefined;
  }

  async put(hash: string, key: ApiKeyRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: apiKeyKey(hash), ...key } }));
  }

  private async scanKeys(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out: ScanCommandOutput = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :p)',
          ExpressionAttributeValues: { ':p': API_KEY_PREFIX },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await this.scanKeys()).map(toKey).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(match: { name?: string; prefix?: string }): Promise<number> {
    const hits = (await this.scanKeys()).filter(
      (i) =>
        (match.name !== undefined && i.name === match.name) ||
        (match.prefix !== undefined && i.prefix === match.prefix),
    );
    for (const item of hits) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: item.pk },
          UpdateExpression: 'SET revoked = :t, revokedAt = :now',
          ExpressionAttributeValues: { ':t': true, ':now': new Date().toISOString() },
        }),
      );
    }
    return hits.length;
  }
}
