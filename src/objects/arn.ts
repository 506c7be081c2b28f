/**
 * S3 ARNs, as replication configurations and S3 Control jobs name buckets and objects, in any
 * partition (aws, aws-cn, aws-us-gov).
 */

/** "arn:aws:s3:::bucket" → "bucket"; undefined when it is not a bucket ARN. */
export function bucketFromArn(arn: string): string | undefined {
  const m = /^arn:aws[a-z-]*:s3:::([^/]+)$/.exec(arn);
  return m ? m[1] : undefined;
}

/** "arn:aws:s3:::bucket/key/with/slashes" → { bucket, key }. */
export function objectFromArn(arn: string): { bucket: string; key: string } | undefined {
  const m = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/s.exec(arn);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}
