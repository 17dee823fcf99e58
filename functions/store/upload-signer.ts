/**
 * Presigned PUT URLs into the content store (S3). A presigned PUT cannot state a size range (only a
 * presigned POST policy can), so the signature covers the exact Content-Length the client declared:
 * S3 refuses a body of any other size, and the API checked the declared size against the limits.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { isContentKey } from '../core/content-keys';
import type { UploadSigner } from '../ports';

export class S3UploadSigner implements UploadSigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async presignPut(key: string, contentType: string, size: number, expiresInSeconds: number): Promise<string> {
    if (!isContentKey(key)) throw new Error(`upload signer: key ${JSON.stringify(key)} is outside the content store`);
    return getSignedUrl(
      this.s3,
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: contentType,
        ContentLength: size,
        ServerSideEncryption: 'AES256',
      }),
      { expiresIn: expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
    );
  }
}
