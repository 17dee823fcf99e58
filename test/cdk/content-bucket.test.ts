/**
 * The content store's bucket (claim-check): encryption, TLS only, public access blocked, lifecycle
 * expiry per prefix, server access logs, and the object actions each function gets, per prefix.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_EXPIRY_DAYS, CONTENT_PREFIXES } from '../../functions/core/content-keys';
import { BUCKETS } from '../../lib/resources';
import {
  arnOf,
  environmentOf,
  logicalId,
  type Permission,
  permissionsOfRole,
  refOf,
  resource,
  roleIdOf,
  type Synthesized,
  synthesize,
} from './stack-fixture';

let s: Synthesized;
let bucketId: string;
beforeAll(() => {
  s = synthesize();
  bucketId = logicalId(s.stack.content.bucket);
});

const s3Permissions = (fn: 'ingest' | 'dispatch' | 'sesEvents' | 'tracking' | 'audience'): Permission[] =>
  permissionsOfRole(s.template, roleIdOf(s.stack.functions[fn].handler)).filter((p) => p.action.startsWith('s3:'));
/** `action → sorted resources` of a role's S3 permissions. */
const byAction = (permissions: Permission[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const p of permissions) out[p.action] = [...new Set([...(out[p.action] ?? []), p.resource])].sort();
  return out;
};
const objects = (...prefixes: string[]): string[] => prefixes.map((p) => `${arnOf(bucketId)}/${p}*`).sort();

describe('the content bucket', () => {
  it('is encrypted at rest (SSE-S3) and blocks every kind of public access', () => {
    const props = resource(s.template, bucketId).Properties ?? {};
    expect(props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
  });

  it('refuses every request that is not over TLS', () => {
    const policies = Object.values(s.template.findResources('AWS::S3::BucketPolicy')).filter(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as { Properties: { PolicyDocument: { Statement: unknown } } }).Properties
      .PolicyDocument.Statement as {
      Effect: string;
      Condition?: unknown;
    }[];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('expires each prefix after its days, and incomplete multipart uploads after one', () => {
    const lifecycle = resource(s.template, bucketId).Properties?.LifecycleConfiguration as { Rules: unknown };
    const rules = lifecycle.Rules as {
      Prefix?: string;
      ExpirationInDays?: number;
      AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
      Status: string;
    }[];
    for (const [kind, prefix] of Object.entries(CONTENT_PREFIXES)) {
      expect(rules, prefix).toContainEqual(
        expect.objectContaining({
          Prefix: prefix,
          ExpirationInDays: CONTENT_EXPIRY_DAYS[kind as keyof typeof CONTENT_PREFIXES],
          Status: 'Enabled',
        }),
      );
    }
    expect(rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
    );
    // A queued email's content outlives the email in its queue and its dead-letter queue (a redrive finds it).
    expect(CONTENT_EXPIRY_DAYS.attachments).toBeGreaterThan(14);
    expect(CONTENT_EXPIRY_DAYS.bodies).toBeGreaterThan(14);
  });

  it('logs server access to a bucket of its own, which is encrypted, TLS only and expires its logs', () => {
    const logsId = logicalId(s.stack.content.accessLogs);
    const props = resource(s.template, bucketId).Properties ?? {};
    expect(props.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'content/' });
    const logs = resource(s.template, logsId).Properties ?? {};
    expect(logs.BucketEncryption).toBeDefined();
    expect((logs.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual(
      expect.objectContaining({ ExpirationInDays: 90 }),
    );
  });

  it('is retained when it leaves the stack', () => {
    expect(resource(s.template, bucketId)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('the content grants', () => {
  it('give ingest read, write and delete on attachments, bodies and scheduled, read and write (presigned uploads) on uploads, and write (the presigned upload of an import) on imports', () => {
    expect(byAction(s3Permissions('ingest'))).toEqual({
      's3:GetObject': objects('attachments/', 'bodies/', 'scheduled/', 'uploads/'),
      's3:PutObject': objects('attachments/', 'bodies/', 'scheduled/', 'uploads/', 'imports/'),
      's3:DeleteObject': objects('attachments/', 'bodies/', 'scheduled/'),
      's3:ListBucket': [arnOf(bucketId)],
    });
  });

  it('give dispatch only reads of every prefix (it deletes nothing: the lifecycle does)', () => {
    expect(byAction(s3Permissions('dispatch'))).toEqual({
      's3:GetObject': objects('attachments/', 'bodies/', 'scheduled/', 'uploads/'),
      's3:ListBucket': [arnOf(bucketId)],
    });
  });

  it('give audience reads and deletes of import files (it deletes a file once imported) and writes of large bodies only', () => {
    expect(byAction(s3Permissions('audience'))).toEqual({
      's3:GetObject': objects('imports/'),
      's3:DeleteObject': objects('imports/'),
      's3:ListBucket': [arnOf(bucketId)],
      // A broadcast email's body too large for a queue message waits there, as at accept.
      's3:PutObject': objects('bodies/'),
    });
  });

  it('give ses-events and tracking nothing in S3', () => {
    expect(s3Permissions('sesEvents')).toEqual([]);
    expect(s3Permissions('tracking')).toEqual([]);
  });

  it("tell ingest and dispatch the bucket's name in the variable their config parsers read", () => {
    for (const fn of ['ingest', 'dispatch'] as const) {
      const env = environmentOf(resource(s.template, logicalId(s.stack.functions[fn].handler.function)));
      expect(env[BUCKETS.content.env], fn).toBe(refOf(bucketId));
    }
  });
});
