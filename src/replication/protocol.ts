/**
 * The headers a site adds to S3 requests that write replicas at another site. They make a
 * request write a version with the source's id, Last-Modified and owner, so only principals
 * allowed to replicate into the bucket may send them.
 */
export const REPLICA_HEADERS = {
  versionId: 'x-xregion-replica-version-id',
  lastModified: 'x-xregion-replica-last-modified',
  owner: 'x-xregion-replica-owner',
  /** On PutObjectTagging: a metadata change written by replication, not to be replicated again. */
  sync: 'x-xregion-replica-sync',
} as const;
