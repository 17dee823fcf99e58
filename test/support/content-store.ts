/** An in-memory content store with the S3 adapter's promises (test/integration/contracts/content-store.contract.test.ts). */
import { isContentKey } from '../../functions/core/content-keys';
import type { ContentStore } from '../../functions/ports';

export interface StoredContent {
  readonly body: Uint8Array;
  readonly contentType: string;
}

export class MemoryContentStore implements ContentStore {
  /** What the store holds, by key (copies: a caller changing its buffer later changes nothing here). */
  readonly objects = new Map<string, StoredContent>();
  /** Every call, in order, to count requests as S3 would bill them. */
  readonly calls: { readonly op: 'put' | 'get' | 'delete'; readonly key: string }[] = [];

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.calls.push({ op: 'put', key: checked(key) });
    this.objects.set(key, { body: new Uint8Array(body), contentType });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.calls.push({ op: 'get', key: checked(key) });
    const found = this.objects.get(key);
    return found && new Uint8Array(found.body);
  }

  async delete(key: string): Promise<void> {
    this.calls.push({ op: 'delete', key: checked(key) });
    this.objects.delete(key);
  }
}

function checked(key: string): string {
  if (!isContentKey(key)) throw new Error(`content store: key ${JSON.stringify(key)} is outside its prefixes`);
  return key;
}
