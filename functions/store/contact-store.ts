/**
 * Contacts and lists in DynamoDB (the ContactStore port). One table, items by key prefix:
 *
 * | item               | pk                | sk            | holds                                   |
 * |--------------------|-------------------|---------------|-----------------------------------------|
 * | contact            | `C#<id>`          | `#`           | address, attributes, consent, times     |
 * | its lists          | `C#<id>`          | `L#<listId>`  | when it joined (listsOf: one Query)     |
 * | address key        | `A#<address>`     | `#`           | the contact's id (addresses are unique) |
 * | list               | `LISTS`           | `<listId>`    | name, description (lists: one Query)    |
 * | list member        | `L#<listId>`      | `M#<id>`      | nothing but its keys                    |
 *
 * A list's members are one item collection in contact-id order, with nothing but their keys, so a
 * page of 1,000 members is one Query of about 60 KB, and a broadcast reads each member's contact in
 * batches of 100 (BatchGetItem, eventually consistent): about 1.0 read per contact in all.
 *
 * The emulator the local stack and the tests run on (dynalite) has no transactions, so a create and
 * an erase are ordered conditional writes that a crash can stop halfway without breaking a rule:
 * - create claims the address first (conditional put of the address key), then writes the contact
 *   (conditional on its id); if the id is taken the claim is withdrawn. A claim left by a create
 *   that died before its contact was written names no contact, so `byAddress` sees none, and a later
 *   create takes the claim over once it is older than `ORPHAN_CLAIM_MS`.
 * - erase removes the memberships, then the address key, then the contact item last: a crash leaves
 *   the contact in place, and the erase repeated finishes the job.
 */
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Consent, Contact, ContactList } from '../core/contact';
import { DomainError } from '../core/errors';
import type { ContactPatch, ContactStore } from '../ports';
import { batchGetAll, chunk, conditional, isConditionFailure, pause, UNPROCESSED_RETRIES } from './dynamo';

/** A claim older than this that names no contact was left by a create that stopped halfway. */
export const ORPHAN_CLAIM_MS = 60_000;

const ITEM = '#';
const LISTS = 'LISTS';
export const contactKey = (id: string) => ({ pk: `C#${id}`, sk: ITEM });
export const addressItemKey = (address: string) => ({ pk: `A#${address}`, sk: ITEM });
export const listKey = (id: string) => ({ pk: LISTS, sk: id });
export const memberKey = (listId: string, contactId: string) => ({ pk: `L#${listId}`, sk: `M#${contactId}` });
export const membershipKey = (contactId: string, listId: string) => ({ pk: `C#${contactId}`, sk: `L#${listId}` });

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

const toContact = (item: Item): Contact => ({
  id: String(item.id),
  address: String(item.address),
  attributes: (item.attributes as Record<string, unknown> | undefined) ?? {},
  consent: (item.consent as Record<string, Consent> | undefined) ?? {},
  createdAt: String(item.createdAt),
  updatedAt: String(item.updatedAt),
});

const toList = (item: Item): ContactList => ({
  id: String(item.sk),
  name: String(item.name),
  ...(typeof item.description === 'string' ? { description: item.description } : {}),
  createdAt: String(item.createdAt),
});

const encode = (key: Item | undefined) => (key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined);

/** A cursor this store gave out; any other is the caller's mistake (a 422). */
function decode(cursor: string | undefined, pkPrefix: string): Key | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (
      typeof key.pk === 'string' &&
      typeof key.sk === 'string' &&
      key.pk.startsWith(pkPrefix) &&
      Object.keys(key).length === 2
    )
      return { pk: key.pk, sk: key.sk };
  } catch {
    // falls through
  }
  throw new DomainError('validation_failed', 'cursor is not one this API gave out.', [
    { path: 'cursor', message: 'invalid' },
  ]);
}

export class DynamoContactStore implements ContactStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(contact: Contact): Promise<boolean> {
    const claim = { ...addressItemKey(contact.address), contactId: contact.id, at: contact.createdAt };
    let claimed = await conditional(() =>
      this.doc.send(
        new PutCommand({ TableName: this.table, Item: claim, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
    if (!claimed) claimed = await this.takeOverOrphan(contact);
    if (!claimed) return false;
    const written = await conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...contactKey(contact.id), ...contact },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (!written) await this.withdrawClaim(contact.address, contact.id);
    return written;
  }

  /** Takes over an address key left by a create that stopped before writing its contact. */
  private async takeOverOrphan(contact: Contact): Promise<boolean> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: addressItemKey(contact.address), ConsistentRead: true }),
    );
    const held = out.Item;
    if (!held) return false;
    const age = Date.parse(contact.createdAt) - Date.parse(String(held.at));
    if (!(age > ORPHAN_CLAIM_MS)) return false;
    if (await this.get(String(held.contactId))) return false;
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...addressItemKey(contact.address), contactId: contact.id, at: contact.createdAt },
          ConditionExpression: 'contactId = :held',
          ExpressionAttributeValues: { ':held': held.contactId },
        }),
      ),
    );
  }

  private async withdrawClaim(address: string, contactId: string): Promise<void> {
    await conditional(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: addressItemKey(address),
          ConditionExpression: 'contactId = :id',
          ExpressionAttributeValues: { ':id': contactId },
        }),
      ),
    );
  }

  async get(id: string): Promise<Contact | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: contactKey(id), ConsistentRead: true }),
    );
    return out.Item ? toContact(out.Item) : undefined;
  }

  async byAddress(address: string): Promise<Contact | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: addressItemKey(address), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const contact = await this.get(String(out.Item.contactId));
    // A claim of a create that stopped halfway names no contact (or, after a take-over race, another).
    return contact?.address === address ? contact : undefined;
  }

  async many(ids: readonly string[]): Promise<Map<string, Contact>> {
    // Eventually consistent: a broadcast's fan-out reads contacts written well before it.
    const items = await batchGetAll(this.doc, this.table, [...new Set(ids)].map(contactKey), {
      what: 'contact look-up',
    });
    return new Map(items.map((item) => [String(item.id), toContact(item)]));
  }

  async update(id: string, patch: ContactPatch, at: string): Promise<Contact | undefined> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':at': at };
    const set = ['#updatedAt = :at'];
    const remove: string[] = [];
    let n = 0;
    for (const [field, entries] of [
      ['attributes', patch.attributes ?? {}],
      ['consent', patch.consent ?? {}],
    ] as const) {
      for (const [key, value] of Object.entries(entries)) {
        names[`#${field}`] = field;
        const k = `#k${n}`;
        names[k] = key;
        if (value === null) remove.push(`#${field}.${k}`);
        else {
          values[`:v${n}`] = value;
          set.push(`#${field}.${k} = :v${n}`);
        }
        n++;
      }
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: contactKey(id),
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toContact(out.Attributes) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  async erase(id: string): Promise<boolean> {
    const contact = await this.get(id);
    if (!contact) return false;
    const memberships = await this.queryAll(`C#${id}`, 'L#');
    const listIds = memberships.map((m) => String(m.sk).slice(2));
    await this.deleteAll([...listIds.map((l) => memberKey(l, id)), ...listIds.map((l) => membershipKey(id, l))]);
    await this.withdrawClaim(contact.address, id);
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: contactKey(id) }));
    return true;
  }

  async list(limit: number, cursor?: string): Promise<{ items: Contact[]; next?: string }> {
    const items: Contact[] = [];
    // The scan may stop on any item of the table, so its cursor may name any key.
    let start: Item | undefined = decode(cursor, '');
    do {
      const out: ScanCommandOutput = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          Limit: Math.max(limit, 100),
          FilterExpression: 'begins_with(pk, :c) AND sk = :item',
          ExpressionAttributeValues: { ':c': 'C#', ':item': ITEM },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map(toContact));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    const page = items.slice(0, limit);
    const last = page.at(-1);
    // A page cut short of what was read resumes after its last contact; otherwise after the scan's position.
    const resume = items.length > limit && last ? contactKey(last.id) : start;
    const next = encode(resume);
    return next ? { items: page, next } : { items: page };
  }

  async createList(list: ContactList): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...listKey(list.id),
            name: list.name,
            ...(list.description === undefined ? {} : { description: list.description }),
            createdAt: list.createdAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async getList(id: string): Promise<ContactList | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: listKey(id), ConsistentRead: true }));
    return out.Item ? toList(out.Item) : undefined;
  }

  async lists(limit: number, cursor?: string): Promise<{ items: ContactList[]; next?: string }> {
    const start = decode(cursor, LISTS);
    const out: QueryCommandOutput = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': LISTS },
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const next = encode(out.LastEvaluatedKey);
    const items = (out.Items ?? []).map(toList);
    return next ? { items, next } : { items };
  }

  async deleteList(id: string): Promise<boolean> {
    const list = await this.getList(id);
    if (!list) return false;
    for (let start: Item | undefined, first = true; first || start; first = false) {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
          ExpressionAttributeValues: { ':pk': `L#${id}`, ':m': 'M#' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const contactIds = (out.Items ?? []).map((m) => String(m.sk).slice(2));
      await this.deleteAll([
        ...contactIds.map((c) => membershipKey(c, id)),
        ...contactIds.map((c) => memberKey(id, c)),
      ]);
      start = out.LastEvaluatedKey;
    }
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: listKey(id) }));
    return true;
  }

  async addMembers(listId: string, contactIds: readonly string[], at: string): Promise<void> {
    const ids = [...new Set(contactIds)];
    await this.writeAll([
      ...ids.map((c) => ({ PutRequest: { Item: memberKey(listId, c) } })),
      ...ids.map((c) => ({ PutRequest: { Item: { ...membershipKey(c, listId), at } } })),
    ]);
  }

  async removeMembers(listId: string, contactIds: readonly string[]): Promise<void> {
    const ids = [...new Set(contactIds)];
    await this.deleteAll([...ids.map((c) => memberKey(listId, c)), ...ids.map((c) => membershipKey(c, listId))]);
  }

  async members(listId: string, limit: number, cursor?: string): Promise<{ ids: string[]; next?: string }> {
    const start = decode(cursor, `L#${listId}`);
    const out: QueryCommandOutput = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
        ExpressionAttributeValues: { ':pk': `L#${listId}`, ':m': 'M#' },
        Limit: limit,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const ids = (out.Items ?? []).map((m) => String(m.sk).slice(2));
    const next = encode(out.LastEvaluatedKey);
    return next ? { ids, next } : { ids };
  }

  async listsOf(contactId: string): Promise<string[]> {
    return (await this.queryAll(`C#${contactId}`, 'L#')).map((m) => String(m.sk).slice(2));
  }

  private async queryAll(pk: string, skPrefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': pk, ':p': skPrefix },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private deleteAll(keys: readonly Key[]): Promise<void> {
    return this.writeAll(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /** BatchWriteItem, 25 a request, retrying what DynamoDB left unprocessed. */
  private async writeAll(requests: readonly Item[]): Promise<void> {
    for (const part of chunk(requests, 25)) {
      let pending: Item[] | undefined = part;
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new Error('DynamoDB did not take every contact write');
        if (attempt > 0) await pause(25 * 2 ** attempt);
        const out: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: pending } }),
        );
        pending = out.UnprocessedItems?.[this.table] as Item[] | undefined;
      }
    }
  }
}
