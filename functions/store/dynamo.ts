/** DynamoDB adapters for the message, suppression and key ports. */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type MessageEvent, MessageRecord } from '../core/message';
import type { ApiKeyRecord, ClaimResult, FinishPatch, KeyStore, MessageStore, SuppressionStore } from './ports';

export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UNPROCESSED_RETRIES = 5;

const isConditionFailure = (e: unknown): e is ConditionalCheckFailedException =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; false when its condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createMany(records: readonly MessageRecord[]): Promise<void> {
    for (const part of chunk(records, 25)) {
      let requests: Record<string, unknown>[] | undefined = part.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests && requests.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not accept every message record');
        if (attempt > 0) await pause(25 * 2 ** attempt);
        const out: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
      }
    }
  }

  async deleteQueued(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        conditional(() =>
          this.doc.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { id },
              ConditionExpression: '#s = :queued',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':queued': 'queued' },
            }),
          ),
        ),
      ),
    );
  }

  async get(id: string): Promise<MessageRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return out.Item ? MessageRecord.parse(out.Item) : undefined;
  }

  async claim(id: string, token: string, nowMs: number): Promise<ClaimResult> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: 'SET #s = :sending, claimToken = :t, claimedAt = :now, updatedAt = :iso ADD attempts :one',
          ConditionExpression: '#s = :queued',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':sending': 'sending',
            ':queued': 'queued',
            ':t': token,
            ':now': nowMs,
            ':iso': new Date(nowMs).toISOString(),
            ':one': 1,
          },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, attempts: Number(out.Attributes?.attempts ?? 1) };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // The failed condition returns the current item (ALL_OLD) at no cost; the document client
      // leaves it marshalled, and some implementations omit it, so read it when it is missing.
      const record = e.Item ? MessageRecord.parse(unmarshall(e.Item)) : await this.get(id);
      if (!record) return { ok: false };
      return { ok: false, current: { status: record.status, claimedAt: record.claimedAt } };
    }
  }

  private patchUpdate(patch: FinishPatch) {
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = {
      ':status': patch.status,
      ':iso': patch.event.at,
      ':ev': [patch.event],
      ':empty': [],
    };
    const sets = ['#s = :status', 'updatedAt = :iso', 'events = list_append(if_not_exists(events, :empty), :ev)'];
    for (const key of ['provider', 'providerMessageId', 'reason'] as const) {
      const v = patch[key];
      if (v !== undefined) {
        sets.push(`${key} = :${key}`);
        values[`:${key}`] = v;
      }
    }
    return { names, values, set: `SET ${sets.join(', ')}` };
  }

  /** One conditional update that applies `patch`; false when `condition` does not hold. */
  private conditionalPatch(
    id: string,
    patch: FinishPatch,
    condition: string,
    values: Record<string, unknown>,
    endClaim: boolean,
  ): Promise<boolean> {
    const u = this.patchUpdate(patch);
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: endClaim ? `${u.set} REMOVE claimToken, claimedAt` : u.set,
          ConditionExpression: condition,
          ExpressionAttributeNames: u.names,
          ExpressionAttributeValues: { ...u.values, ...values },
        }),
      ),
    );
  }

  finish(id: string, token: string, patch: FinishPatch): Promise<boolean> {
    return this.conditionalPatch(id, patch, 'claimToken = :t', { ':t': token }, true);
  }

  release(id: string, token: string, event: MessageEvent): Promise<boolean> {
    return this.finish(id, token, { status: 'queued', event });
  }

  settleQueued(id: string, patch: FinishPatch): Promise<boolean> {
    return this.conditionalPatch(id, patch, '#s = :queued', { ':queued': 'queued' }, false);
  }

  failStale(id: string, claimedAt: number | undefined, patch: FinishPatch): Promise<boolean> {
    return claimedAt === undefined
      ? this.conditionalPatch(
          id,
          patch,
          '#s = :sending AND attribute_not_exists(claimedAt)',
          { ':sending': 'sending' },
          true,
        )
      : this.conditionalPatch(
          id,
          patch,
          '#s = :sending AND claimedAt = :c',
          { ':sending': 'sending', ':c': claimedAt },
          true,
        );
  }
}

/** Scope key for suppression of all mail (categories get their own scope values). */
export const ALL_MAIL = '*';

export class DynamoSuppressionStore implements SuppressionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async suppressedAmong(addresses: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(addresses)];
    for (const part of chunk(unique, 100)) {
      let keys: Record<string, unknown>[] | undefined = part.map((address) => ({ address, scope: ALL_MAIL }));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not answer every suppression look-up');
        if (attempt > 0) await pause(25 * 2 ** attempt);
        const out: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: 'address' } },
          }),
        );
        for (const item of out.Responses?.[this.table] ?? []) found.add(String(item.address));
        keys = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return found;
  }
}

const keyPk = (hash: string) => `apikey#${hash}`;

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: keyPk(hash) } }));
    if (!out.Item) return undefined;
    return { name: String(out.Item.name), createdAt: String(out.Item.createdAt), revoked: out.Item.revoked === true };
  }

  async put(hash: string, key: ApiKeyRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: keyPk(hash), ...key } }));
  }
}
