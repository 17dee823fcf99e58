/**
 * Cooldowns in DynamoDB (TABLES.cooldowns): one item per `<key>|<normalised address>` naming the
 * message that took it, when, and until when (`until`, epoch ms) plus the TTL attribute
 * `expiresAt`. Each take is one conditional PutItem whose condition compares `until` with the
 * dispatcher's clock itself, since TTL deletes items up to ~48 h late.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type CooldownItem, type CooldownTake, itemOf, type TakeOutcome, ttlOf } from '../core/cooldown';
import type { CooldownStore } from '../ports';
import { isConditionFailure } from './dynamo';

const toItem = (raw: Record<string, unknown>): CooldownItem => ({
  id: String(raw.pk),
  messageId: String(raw.messageId ?? ''),
  sentAt: Number(raw.sentAt ?? 0),
  until: Number(raw.until ?? 0),
});

export class DynamoCooldownStore implements CooldownStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  take(takes: readonly CooldownTake[]): Promise<TakeOutcome[]> {
    return Promise.all(takes.map((t) => this.takeOne(t)));
  }

  private async takeOne(t: CooldownTake, again = true): Promise<TakeOutcome> {
    const item = itemOf(t);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: item.id,
            messageId: item.messageId,
            sentAt: item.sentAt,
            until: item.until,
            expiresAt: ttlOf(item.until),
          },
          // core/cooldown.ts `mayTake`: none, ended (by its own `until`, not TTL), or ours.
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now OR messageId = :mid',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': t.nowMs, ':mid': t.messageId },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { taken: true };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // The failed condition returns the holder (ALL_OLD) at no cost; some implementations omit it.
      const raw = e.Item
        ? unmarshall(e.Item)
        : (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: t.id }, ConsistentRead: true })))
            .Item;
      // Gone in between (TTL removed it): the write is tried once more.
      if (!raw) {
        if (again) return this.takeOne(t, false);
        throw new Error(`cooldown ${t.id} was refused but has no item`);
      }
      const held = toItem(raw);
      return { taken: false, heldBy: held.messageId, sentAt: held.sentAt, until: held.until };
    }
  }
}
