import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import type { ContentKind } from '../../functions/core/content-keys';
import type { BucketSpec } from '../resources';
import type { BucketAccess } from '../spec';
import type { MailrouteFunction } from './mailroute-function';

export interface ContentBucketProps {
  /** The bucket's spec: its prefixes and the days each prefix's objects are kept. */
  readonly spec: BucketSpec;
  /**
   * What happens to the bucket (and the content in it) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days the server access logs are kept.
   * @default 90
   */
  readonly accessLogDays?: number;
}

/**
 * The content store's bucket (claim-check: attachments, uploads, large and scheduled bodies): encrypted
 * at rest (SSE-S3), TLS only, every public access blocked, ACLs off, each prefix expiring after its
 * spec's days (and incomplete multipart uploads after one), server access logs in a bucket of their own.
 */
export class ContentBucket extends Construct {
  public readonly bucket: Bucket;
  /** Where S3 writes the content bucket's server access logs (it logs nothing itself). */
  public readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: ContentBucketProps) {
    super(scope, id);
    // S3 delivers the access logs under a bucket policy (not the log-delivery ACL), so ACLs stay off
    // on both buckets; the flag is set here, for these two buckets only, before they exist.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 90) }],
      removalPolicy,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'content/',
      lifecycleRules: [
        ...Object.values(props.spec.prefixes).map((p) => ({
          id: `expire-${p.prefix.replace(/\/$/, '')}`,
          prefix: p.prefix,
          expiration: Duration.days(p.expireDays),
        })),
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
  }
}

/** The IAM actions of each access to a content bucket's objects. */
const OBJECT_ACTIONS: Readonly<Record<BucketAccess, string>> = {
  read: 's3:GetObject',
  write: 's3:PutObject',
  delete: 's3:DeleteObject',
};

/**
 * Gives a function a bucket: sets the variable `spec.env` to the bucket's name and grants each access on
 * the objects under `prefixes` only (exact actions, no `s3:*Object*` wildcards). Reading also grants
 * ListBucket on the bucket, without which S3 answers a read of an absent key with AccessDenied rather
 * than NoSuchKey. The `<prefix>*` object resources are acknowledged to cdk-nag (IAM5) one by one.
 */
export function bindBucket(
  fn: MailrouteFunction,
  spec: BucketSpec,
  bucket: IBucket,
  access: readonly BucketAccess[],
  prefixes: readonly ContentKind[],
): void {
  if (access.length === 0 || prefixes.length === 0) {
    throw new Error(`bindBucket "${fn.node.path}": a bucket grant needs at least one access and one prefix`);
  }
  fn.addEnvironment(spec.env, bucket.bucketName);
  const objectPatterns = prefixes.map((kind) => `${spec.prefixes[kind].prefix}*`);
  Grant.addToPrincipal({
    grantee: fn,
    actions: [...new Set(access)].map((a) => OBJECT_ACTIONS[a]),
    resourceArns: objectPatterns.map((pattern) => bucket.arnForObjects(pattern)),
  });
  if (access.includes('read'))
    Grant.addToPrincipal({ grantee: fn, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
  const cfn = bucket.node.defaultChild as CfnBucket | undefined;
  if (!cfn) return;
  const logicalId = Stack.of(bucket).resolve(cfn.logicalId) as string;
  for (const pattern of objectPatterns) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${pattern}]`,
      reason:
        'Content objects are keyed by message, batch or upload ids that exist only at run time, so the grant ' +
        `names the prefix ("${pattern}") and exact object actions; the bucket's lifecycle rules expire that prefix.`,
    });
  }
}
