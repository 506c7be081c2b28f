/**
 * The headers a site adds to S3 requests that write replicas at another site. They make a
 * request write a version with the source's id, Last-Modified and owner, so only principals
 * allowed to replicate into the bucket may send them.
 */
import type { StoredChecksum, StoredEncryption } from '../storage/types.js';

export const REPLICA_HEADERS = {
  versionId: 'x-xregion-replica-version-id',
  lastModified: 'x-xregion-replica-last-modified',
  owner: 'x-xregion-replica-owner',
  /** On PutObjectTagging: a metadata change written by replication, not to be replicated again. */
  sync: 'x-xregion-replica-sync',
  /**
   * On PutObject, CreateMultipartUpload and UploadPart of an SSE-C replica: the body is sent as
   * the source stored it (ciphertext; only the customer has the key) and this header states,
   * as base64 of JSON, what the destination cannot compute from it (StoredObjectFacts on a
   * PutObject, { encryption } on CreateMultipartUpload, StoredPartFacts on UploadPart).
   */
  stored: 'x-xregion-replica-stored',
} as const;

/** What a body sent as stored states: its encryption (with the salt) and its plaintext's facts. */
export interface StoredObjectFacts {
  encryption: StoredEncryption;
  size: number;
  etag: string;
  checksum?: StoredChecksum;
}

export interface StoredUploadFacts {
  encryption: StoredEncryption;
}

export interface StoredPartFacts {
  salt: string;
  size: number;
  etag: string;
  checksum?: StoredChecksum;
}

export function encodeStoredFacts(facts: StoredObjectFacts | StoredUploadFacts | StoredPartFacts): string {
  return Buffer.from(JSON.stringify(facts), 'utf8').toString('base64');
}
