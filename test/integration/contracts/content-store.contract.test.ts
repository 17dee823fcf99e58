/**
 * The ContentStore contract: the same cases against the in-memory fake and the S3 adapter on fauxqs
 * (bytes back exactly as put, absent reads as undefined, delete of an absent key is fine, keys
 * outside the store's prefixes refused).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentKey } from '../../../functions/core/content-keys';
import type { ContentStore } from '../../../functions/ports';
import { S3_CLIENT_OPTIONS, S3ContentStore } from '../../../functions/store/content-store';
import { MemoryContentStore } from '../../support/content-store';

let s3: S3Client;
let stop: (() => Promise<void>) | undefined;
const BUCKET = 'contract-content';
beforeAll(async () => {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  stop = () => server.stop();
  s3 = new S3Client({
    ...S3_CLIENT_OPTIONS,
    endpoint: `http://127.0.0.1:${server.port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  s3?.destroy();
  await stop?.();
});

const subjects: [string, () => ContentStore][] = [
  ['the in-memory fake', () => new MemoryContentStore()],
  ['the S3 adapter on fauxqs', () => new S3ContentStore(s3, BUCKET)],
];

describe.each(subjects)('ContentStore: %s', (_name, make) => {
  it('gives back exactly the bytes put, binary included', async () => {
    const store = make();
    const key = contentKey('attachments', randomUUID(), '0');
    const body = new Uint8Array(randomBytes(300_000));
    await store.put(key, body, 'application/pdf');
    expect(Buffer.from((await store.get(key)) ?? []).equals(Buffer.from(body))).toBe(true);
  });

  it('keeps an empty object apart from an absent one', async () => {
    const store = make();
    const key = contentKey('bodies', randomUUID());
    await store.put(key, new Uint8Array(), 'text/html');
    expect(await store.get(key)).toEqual(new Uint8Array());
    expect(await store.get(contentKey('bodies', randomUUID()))).toBeUndefined();
  });

  it('replaces an object put again under the same key', async () => {
    const store = make();
    const key = contentKey('scheduled', randomUUID());
    await store.put(key, new TextEncoder().encode('first'), 'application/json');
    await store.put(key, new TextEncoder().encode('second'), 'application/json');
    expect(new TextDecoder().decode(await store.get(key))).toBe('second');
  });

  it('deletes an object, and a delete of an absent key is fine', async () => {
    const store = make();
    const key = contentKey('uploads', randomUUID());
    await store.put(key, new Uint8Array([1, 2, 3]), 'image/png');
    await store.delete(key);
    expect(await store.get(key)).toBeUndefined();
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it.each(['other/x', 'attachments/', 'attachments/../bodies/x', '/attachments/x', 'attachments//x'])(
    'refuses the key %j, outside the prefixes the grants and lifecycle rules cover',
    async (key) => {
      const store = make();
      await expect(store.put(key, new Uint8Array([1]), 'text/plain')).rejects.toThrow(/outside its prefixes/);
      await expect(store.get(key)).rejects.toThrow(/outside its prefixes/);
      await expect(store.delete(key)).rejects.toThrow(/outside its prefixes/);
    },
  );
});

describe('the S3 adapter', () => {
  it('stores the content type with the object', async () => {
    const store = new S3ContentStore(s3, BUCKET);
    const key = contentKey('attachments', randomUUID(), 'logo');
    await store.put(key, new Uint8Array([137, 80, 78, 71]), 'image/png');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentType).toBe('image/png');
    expect(head.ContentLength).toBe(4);
  });
});
