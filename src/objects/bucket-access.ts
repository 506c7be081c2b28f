/**
 * A bucket's access settings as the authorizer reads them: its policy (kept as the text the
 * user sent, parsed once), its public access block merged with the account's, and its Object
 * Ownership setting. The documents live in bucket_config through BucketDirectory.
 */
import type { BucketDirectory } from './buckets.js';
import { parsePolicyDocument } from '../policy/parse.js';
import { isPublicPolicy } from '../policy/public.js';
import type { PolicyDocument } from '../policy/types.js';

export interface StoredPolicy {
  /** The policy as PutBucketPolicy received it; GetBucketPolicy returns it unchanged, as AWS does. */
  text: string;
}

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

export interface ParsedBucketPolicy {
  doc: PolicyDocument;
  isPublic: boolean;
}

const parsed = new WeakMap<StoredPolicy, ParsedBucketPolicy>();

export function bucketPolicy(buckets: BucketDirectory, bucket: string): ParsedBucketPolicy | undefined {
  const stored = buckets.config<StoredPolicy>(bucket, 'policy');
  if (!stored) return undefined;
  let p = parsed.get(stored);
  if (!p) {
    const doc = parsePolicyDocument(stored.text, 'resource');
    p = { doc, isPublic: isPublicPolicy(doc) };
    parsed.set(stored, p);
  }
  return p;
}

const NO_BLOCK: PublicAccessBlock = {
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
};

/**
 * The public access block in force for a bucket: each flag is on when the bucket's or the
 * bucket owner's account-level configuration turns it on (S3 applies the most restrictive).
 */
export async function effectivePublicAccessBlock(buckets: BucketDirectory, bucket: string, owner: string): Promise<PublicAccessBlock> {
  const b = buckets.config<PublicAccessBlock>(bucket, 'public-access-block') ?? NO_BLOCK;
  const a = (await buckets.accountConfig<PublicAccessBlock>(owner, 'public-access-block')) ?? NO_BLOCK;
  return {
    BlockPublicAcls: b.BlockPublicAcls || a.BlockPublicAcls,
    IgnorePublicAcls: b.IgnorePublicAcls || a.IgnorePublicAcls,
    BlockPublicPolicy: b.BlockPublicPolicy || a.BlockPublicPolicy,
    RestrictPublicBuckets: b.RestrictPublicBuckets || a.RestrictPublicBuckets,
  };
}

/** Object Ownership of a bucket: BucketOwnerEnforced (ACLs disabled) unless set otherwise. */
export function objectOwnership(buckets: BucketDirectory, bucket: string): ObjectOwnership {
  return buckets.config<{ ObjectOwnership: ObjectOwnership }>(bucket, 'ownership')?.ObjectOwnership ?? 'BucketOwnerEnforced';
}
