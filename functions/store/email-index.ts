/**
 * The search index of GET /v1/emails in its own table (partition `pk`, sort `sk`): newest-first
 * timelines per API key, for the whole API and per recipient (core/email-search.ts builds the
 * entries). Its items are small and never change, so an email's later status updates cost the
 * index nothing; the records a page shows are read back from the messages table in one BatchGetItem.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IndexEntry, PartitionRead } from '../core/email-search';
import { MessageRecord } from '../core/message';
import type { EmailIndex, IndexFilter } from '../ports';
import { batchGetAll, chunk, pause, UNPROCESSED_RETRIES } from './dynamo';

/** Stored attribute names: short, since every email writes a few of these items. */
const toItem = (e: IndexEntry) => ({
  pk: e.pk,
  sk: e.sk,
  id: e.id,
  k: e.key,
  f: e.from,
  p: e.priority,
  t: e.tags,
  expiresAt: e.expiresAt,
});

const fromItem = (i: Record<string, unknown>): IndexEntry => ({
  pk: String(i.pk),
  sk: String(i.sk),
  id: String(i.id),
  key: String(i.k),
  from: String(i.f),
  priority: i.p as IndexEntry['priority'],
  tags: (i.t ?? {}) as Record<string, string>,
  expiresAt: Number(i.expiresAt),
});

export class DynamoEmailIndex implements EmailIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly messagesTable: string,
  ) {}

  async add(entries: readonly IndexEntry[]): Promise<void> {
    await Promise.all(
      chunk(entries, 25).map(async (part) => {
        let requests: Record<string, unknown>[] | undefined = part.map((e) => ({ PutRequest: { Item: toItem(e) } }));
        for (let attempt = 0; requests && requests.length > 0; attempt++) {
          if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not accept every index entry');
          if (attempt > 0) await pause(25 * 2 ** attempt);
          const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
          requests = out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
        }
      }),
    );
  }

  async read(
    partition: string,
    range: { readonly after?: string; readonly before?: string },
    filter: IndexFilter,
    limit: number,
  ): Promise<PartitionRead> {
    const names: Record<string, string> = { '#pk': 'pk' };
    if (range.after !== undefined || range.before !== undefined) names['#sk'] = 'sk';
    const values: Record<string, unknown> = { ':pk': partition };
    let keyCondition = '#pk = :pk';
    if (range.after !== undefined && range.before !== undefined) {
      keyCondition += ' AND #sk BETWEEN :after AND :before';
      Object.assign(values, { ':after': range.after, ':before': range.before });
    } else if (range.before !== undefined) {
      keyCondition += ' AND #sk < :before';
      values[':before'] = range.before;
    } else if (range.after !== undefined) {
      keyCondition += ' AND #sk >= :after';
      values[':after'] = range.after;
    }
    const filters: string[] = [];
    if (filter.key !== undefined) {
      filters.push('#k = :k');
      names['#k'] = 'k';
      values[':k'] = filter.key;
    }
    if (filter.from !== undefined) {
      filters.push('#f = :f');
      names['#f'] = 'f';
      values[':f'] = filter.from;
    }
    if (filter.priority !== undefined) {
      filters.push('#p = :p');
      names['#p'] = 'p';
      values[':p'] = filter.priority;
    }
    if (filter.tag !== undefined) {
      names['#t'] = 't';
      names['#tn'] = filter.tag.name;
      if (filter.tag.value === undefined) filters.push('attribute_exists(#t.#tn)');
      else {
        filters.push('#t.#tn = :tv');
        values[':tv'] = filter.tag.value;
      }
    }
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: keyCondition,
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const nowSeconds = Math.floor(Date.now() / 1000);
    // BETWEEN includes its upper bound; `before` is exclusive. TTL deletes late: expired entries are skipped.
    const entries = (out.Items ?? []).map(fromItem).filter((e) => e.sk !== range.before && e.expiresAt > nowSeconds);
    const last = out.LastEvaluatedKey?.sk;
    return { entries, ...(typeof last === 'string' ? { lastSk: last } : {}) };
  }

  async records(ids: readonly string[]): Promise<MessageRecord[]> {
    const keys = [...new Set(ids)].map((id) => ({ id }));
    const items = await batchGetAll(this.doc, this.messagesTable, keys, { what: 'message record' });
    return items.map((item) => MessageRecord.parse(item));
  }
}
