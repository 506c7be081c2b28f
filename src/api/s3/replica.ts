/**
 * The receiving side of replication from another site: requests that carry replication headers
 * (replication/protocol.ts) write replicas instead of new versions.
 */
import { Errors, S3Error } from '../../errors.js';
import type { BucketEntry } from '../../objects/buckets.js';
import { REPLICA_HEADERS } from '../../replication/protocol.js';
import { header, type S3Call } from './call.js';

export interface ReplicaRequest {
  versionId: string;
  lastModified: number;
  owner: string;
}

/**
 * The replica fields of a request, or undefined for an ordinary write. Only the bucket owner's
 * account may write replicas (the identity issue refines this to s3:ReplicateObject /
 * s3:ReplicateDelete under bucket policies); anyone else gets AccessDenied.
 */
export function replicaRequest(call: S3Call, bucket: BucketEntry): ReplicaRequest | undefined {
  const versionId = header(call, REPLICA_HEADERS.versionId);
  if (versionId === undefined) return undefined;
  if (call.accountId !== bucket.record.owner) throw Errors.accessDenied();
  const lastModified = Number(header(call, REPLICA_HEADERS.lastModified));
  const owner = header(call, REPLICA_HEADERS.owner) ?? call.accountId;
  if (!/^[A-Za-z0-9._-]{1,1024}$/.test(versionId) || !Number.isSafeInteger(lastModified) || lastModified < 0 || !/^\d{12}$/.test(owner)) {
    throw new S3Error('InvalidArgument', 400, 'Invalid replication headers', { ArgumentName: REPLICA_HEADERS.versionId, ArgumentValue: versionId });
  }
  return { versionId, lastModified, owner };
}

/** A metadata change written by replication (it must not be replicated again). */
export function isReplicaSync(call: S3Call, bucket: BucketEntry): boolean {
  if (header(call, REPLICA_HEADERS.sync) === undefined) return false;
  if (call.accountId !== bucket.record.owner) throw Errors.accessDenied();
  return true;
}
