/**
 * Templates in DynamoDB (partition key `slug`, sort key `sk`): the head (kind, draft, latest and
 * active version, canary), one immutable item per published version, one counters item per version.
 * Template sources (up to 256 KB per part) are stored gzipped, so a version fits one item.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../core/errors';
import {
  TEMPLATE_HEAD_KEY,
  TEMPLATE_STATS_PREFIX,
  TEMPLATE_VERSION_PREFIX,
  templateStatsKey,
  templateVersionKey,
} from '../core/keys';
import { TEMPLATE_COUNTERS, type TemplateContent, type TemplateCounts, type TemplateKind } from '../core/template';
import type { TemplateCanary, TemplateHead, TemplateStore, TemplateVersion } from '../ports';
import { batchGetAll, conditional } from './dynamo';

/** DynamoDB's item limit is 400 KB; the rest of the item stays well under the margin. */
const MAX_STORED_BYTES = 380_000;

function pack(content: TemplateContent): Uint8Array {
  const bytes = gzipSync(Buffer.from(JSON.stringify(content), 'utf8'));
  if (bytes.byteLength > MAX_STORED_BYTES) {
    throw new DomainError(
      'payload_too_large',
      `The template is too large to store (${Math.round(bytes.byteLength / 1024)} KB compressed; at most ${Math.round(MAX_STORED_BYTES / 1024)} KB).`,
    );
  }
  return bytes;
}

const unpack = (value: unknown): TemplateContent =>
  JSON.parse(gunzipSync(value as Uint8Array).toString('utf8')) as TemplateContent;

const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new DomainError('validation_failed', 'The cursor is not one this API returned.', [
    { path: 'cursor', message: 'invalid' },
  ]);
}

const toHead = (item: Record<string, unknown>): TemplateHead => ({
  slug: String(item.slug),
  kind: String(item.kind) as TemplateKind,
  draft: unpack(item.draft),
  revision: Number(item.revision ?? 0),
  latestVersion: Number(item.latestVersion ?? 0),
  activeVersion: Number(item.activeVersion ?? 0),
  ...(item.canary ? { canary: item.canary as TemplateCanary } : {}),
  createdAt: String(item.createdAt),
  updatedAt: String(item.updatedAt),
});

const toCounts = (item: Record<string, unknown>): TemplateCounts =>
  Object.fromEntries(TEMPLATE_COUNTERS.map((c) => [c, Number(item[c] ?? 0)])) as TemplateCounts;

export class DynamoTemplateStore implements TemplateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(head: TemplateHead): Promise<boolean> {
    const { draft, canary: _canary, ...rest } = head;
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...rest, sk: TEMPLATE_HEAD_KEY, draft: pack(draft) },
          ConditionExpression: 'attribute_not_exists(slug)',
        }),
      ),
    );
  }

  async head(slug: string): Promise<TemplateHead | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { slug, sk: TEMPLATE_HEAD_KEY } }));
    return out.Item ? toHead(out.Item) : undefined;
  }

  async heads(slugs: readonly string[]): Promise<Map<string, TemplateHead>> {
    const keys = [...new Set(slugs)].map((slug) => ({ slug, sk: TEMPLATE_HEAD_KEY }));
    const items = await batchGetAll(this.doc, this.table, keys, { what: 'template look-up' });
    return new Map(items.map((item) => [String(item.slug), toHead(item)]));
  }

  async list(limit: number, cursor?: string): Promise<{ items: TemplateHead[]; next?: string }> {
    const items: TemplateHead[] = [];
    let start = decodeCursor(cursor);
    do {
      const out: ScanCommandOutput = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          Limit: limit,
          FilterExpression: 'sk = :head',
          ExpressionAttributeValues: { ':head': TEMPLATE_HEAD_KEY },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map(toHead));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    const page = items.slice(0, limit);
    const last = page.at(-1);
    const resume = items.length > limit && last ? { slug: last.slug, sk: TEMPLATE_HEAD_KEY } : start;
    const next = encodeCursor(resume);
    return { items: page, ...(next ? { next } : {}) };
  }

  async saveDraft(slug: string, draft: TemplateContent, revision: number, at: string): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { slug, sk: TEMPLATE_HEAD_KEY },
          UpdateExpression: 'SET draft = :draft, revision = :next, updatedAt = :at',
          ConditionExpression: 'revision = :rev',
          ExpressionAttributeValues: { ':draft': pack(draft), ':next': revision + 1, ':rev': revision, ':at': at },
        }),
      ),
    );
  }

  async publish(slug: string, latestVersion: number, content: TemplateContent, at: string): Promise<boolean> {
    const version = latestVersion + 1;
    const packed = pack(content);
    // The number first: a publish that stops after this leaves a gap, never a version that blocks the next.
    const claimed = await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { slug, sk: TEMPLATE_HEAD_KEY },
          UpdateExpression: 'SET latestVersion = :v, updatedAt = :at',
          ConditionExpression: 'latestVersion = :latest',
          ExpressionAttributeValues: { ':v': version, ':latest': latestVersion, ':at': at },
        }),
      ),
    );
    if (!claimed) return false;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { slug, sk: templateVersionKey(version), version, content: packed, publishedAt: at },
        ConditionExpression: 'attribute_not_exists(slug)',
      }),
    );
    return true;
  }

  async version(slug: string, version: number): Promise<TemplateVersion | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { slug, sk: templateVersionKey(version) } }),
    );
    if (!out.Item) return undefined;
    return { slug, version, content: unpack(out.Item.content), publishedAt: String(out.Item.publishedAt) };
  }

  async versions(
    slug: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Omit<TemplateVersion, 'content'>[]; next?: string }> {
    const start = decodeCursor(cursor);
    const out: QueryCommandOutput = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'slug = :slug AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':slug': slug, ':v': TEMPLATE_VERSION_PREFIX },
        ProjectionExpression: 'slug, sk, version, publishedAt',
        ScanIndexForward: false,
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => ({
      slug,
      version: Number(i.version),
      publishedAt: String(i.publishedAt),
    }));
    const next = encodeCursor(out.LastEvaluatedKey);
    return { items, ...(next ? { next } : {}) };
  }

  async activate(
    slug: string,
    next: { readonly activeVersion: number; readonly canary?: TemplateCanary | undefined },
    expected: { readonly activeVersion: number; readonly canaryVersion: number },
    at: string,
  ): Promise<boolean> {
    const canaryCondition =
      expected.canaryVersion === 0 ? 'attribute_not_exists(canary)' : 'canary.version = :canaryVersion';
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { slug, sk: TEMPLATE_HEAD_KEY },
          UpdateExpression: next.canary
            ? 'SET activeVersion = :active, canary = :canary, updatedAt = :at'
            : 'SET activeVersion = :active, updatedAt = :at REMOVE canary',
          ConditionExpression: `activeVersion = :expected AND ${canaryCondition}`,
          ExpressionAttributeValues: {
            ':active': next.activeVersion,
            ':expected': expected.activeVersion,
            ':at': at,
            ...(next.canary ? { ':canary': next.canary } : {}),
            ...(expected.canaryVersion === 0 ? {} : { ':canaryVersion': expected.canaryVersion }),
          },
        }),
      ),
    );
  }

  async count(slug: string, version: number, add: Partial<TemplateCounts>): Promise<void> {
    const counters = TEMPLATE_COUNTERS.filter((c) => (add[c] ?? 0) !== 0);
    if (counters.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { slug, sk: templateStatsKey(version) },
        UpdateExpression: `SET version = :version ADD ${counters.map((c) => `#${c} :${c}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(counters.map((c) => [`#${c}`, c])),
        ExpressionAttributeValues: {
          ':version': version,
          ...Object.fromEntries(counters.map((c) => [`:${c}`, add[c]])),
        },
      }),
    );
  }

  async stats(slug: string): Promise<Map<number, TemplateCounts>> {
    const found = new Map<number, TemplateCounts>();
    let start: Record<string, unknown> | undefined;
    do {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'slug = :slug AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':slug': slug, ':s': TEMPLATE_STATS_PREFIX },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) found.set(Number(item.version), toCounts(item));
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }
}
