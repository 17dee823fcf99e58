/**
 * CSV imports of contacts in the contacts table (the ContactImportStore port): the import item
 * (`I#<id>`, `#`) with its state, counts and checkpoint, and one item per refused row
 * (`I#<id>`, `R#<line>`), so a checkpoint rewrites a small item, never the whole report. Both expire
 * with the import (IMPORT_LIMITS.keepDays): refused cells are personal data.
 */
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ContactImport,
  IMPORT_LIMITS,
  type ImportCounts,
  type ImportRefusal,
  type ImportStatus,
  type RefusalReason,
} from '../core/contact-import';
import type { ContactImportStore, ImportProgress } from '../ports';
import { chunk, conditional, isConditionFailure, pause, UNPROCESSED_RETRIES } from './dynamo';

const ITEM = '#';
export const importKey = (id: string) => ({ pk: `I#${id}`, sk: ITEM });
export const refusalKey = (id: string, line: number) => ({ pk: `I#${id}`, sk: `R#${String(line).padStart(10, '0')}` });

const expiresAt = (createdAt: string) => Math.floor(Date.parse(createdAt) / 1000) + IMPORT_LIMITS.keepDays * 86_400;

const toImport = (item: Record<string, unknown>): ContactImport => ({
  id: String(item.id),
  status: String(item.status) as ImportStatus,
  ...(typeof item.listId === 'string' ? { listId: item.listId } : {}),
  ...(item.consent ? { consent: item.consent as { category: string; source: string } } : {}),
  size: Number(item.size),
  createdAt: String(item.createdAt),
  updatedAt: String(item.updatedAt),
  counts: item.counts as ImportCounts,
  line: Number(item.line ?? 0),
  ...(typeof item.error === 'string' ? { error: item.error } : {}),
  createdBy: String(item.createdBy),
});

export class DynamoContactImportStore implements ContactImportStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(item: ContactImport): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...importKey(item.id), ...item, expiresAt: expiresAt(item.createdAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async get(id: string): Promise<ContactImport | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: importKey(id), ConsistentRead: true }),
    );
    return out.Item ? toImport(out.Item) : undefined;
  }

  async move(
    id: string,
    from: readonly ImportStatus[],
    to: ImportStatus,
    at: string,
    error?: string,
  ): Promise<ContactImport | undefined> {
    const values: Record<string, unknown> = { ':to': to, ':at': at };
    from.forEach((s, i) => {
      values[`:f${i}`] = s;
    });
    if (error !== undefined) values[':error'] = error;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: importKey(id),
          UpdateExpression: `SET #status = :to, updatedAt = :at${error === undefined ? '' : ', #error = :error'}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status', ...(error === undefined ? {} : { '#error': 'error' }) },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toImport(out.Attributes) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  async checkpoint(id: string, previousLine: number, next: ImportProgress, at: string): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: importKey(id),
          UpdateExpression: 'SET #line = :line, counts = :counts, updatedAt = :at',
          ConditionExpression: '#line = :previous AND #status = :running',
          ExpressionAttributeNames: { '#line': 'line', '#status': 'status' },
          ExpressionAttributeValues: {
            ':line': next.line,
            ':counts': next.counts,
            ':at': at,
            ':previous': previousLine,
            ':running': 'running',
          },
        }),
      ),
    );
  }

  async addRefusals(id: string, refusals: readonly ImportRefusal[]): Promise<void> {
    if (refusals.length === 0) return;
    // Kept as long as the import (within a run's time).
    const expires = Math.floor(Date.now() / 1000) + IMPORT_LIMITS.keepDays * 86_400;
    for (const part of chunk(refusals, 25)) {
      let pending: Record<string, unknown>[] | undefined = part.map((r) => ({
        PutRequest: { Item: { ...refusalKey(id, r.line), ...r, expiresAt: expires } },
      }));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not take every refused row');
        if (attempt > 0) await pause(25 * 2 ** attempt);
        const out: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: pending } }),
        );
        pending = out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
      }
    }
  }

  async refusals(id: string): Promise<ImportRefusal[]> {
    const out: ImportRefusal[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
          ExpressionAttributeValues: { ':pk': `I#${id}`, ':r': 'R#' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? [])
        out.push({
          line: Number(item.line),
          value: String(item.value),
          reason: String(item.reason) as RefusalReason,
          message: String(item.message),
        });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
