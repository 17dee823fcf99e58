/**
 * The content store on S3 (claim-check): bytes kept outside the queue under the prefixes of
 * core/content-keys.ts, each object encrypted at rest (SSE-S3, also the bucket's default), its
 * lifecycle set by the bucket per prefix.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { isContentKey } from '../core/content-keys';
import type { ContentStore } from '../ports';

/**
 * The S3 client's options: two attempts at most (one retry of a throttle or a 5xx, not the default
 * three with back-off, so a slow S3 cannot hold a dispatcher's batch past its timeout) and a request
 * timeout well inside the functions' timeouts.
 */
export const S3_CLIENT_OPTIONS = {
  maxAttempts: 2,
  requestHandler: { requestTimeout: 5_000 },
} as const satisfies S3ClientConfig;

/** An error of a read of an absent key (NoSuchKey; NotFound for a HEAD). */
const isAbsent = (e: unknown): boolean => {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
};

export class S3ContentStore implements ContentStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: checked(key),
        Body: body,
        ContentType: contentType,
        ContentLength: body.byteLength,
        ServerSideEncryption: 'AES256',
      }),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: checked(key) }));
      if (!out.Body) return new Uint8Array();
      return await out.Body.transformToByteArray();
    } catch (e) {
      // Absent reads as NoSuchKey only with s3:ListBucket (the grants give it); AccessDenied otherwise.
      if (isAbsent(e)) return undefined;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for an absent key too.
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checked(key) }));
  }
}

/** Refuses a key outside the store's prefixes: no grant reaches it, and no lifecycle rule expires it. */
function checked(key: string): string {
  if (!isContentKey(key)) throw new Error(`content store: key ${JSON.stringify(key)} is outside its prefixes`);
  return key;
}
