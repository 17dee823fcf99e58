/**
 * The content store in memory, for the local stack while it has no S3 emulator wired: bodies of
 * scheduled emails live as long as the process. Same port as the S3 adapter.
 */
import type { ContentStore } from '../../functions/ports';

export class MemoryContentStore implements ContentStore {
  readonly objects = new Map<string, { readonly body: Uint8Array; readonly contentType: string }>();

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, { body: new Uint8Array(body), contentType });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const o = this.objects.get(key);
    return o ? new Uint8Array(o.body) : undefined;
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
