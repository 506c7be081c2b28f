/**
 * Writing replicas into a bucket: a version that keeps its source's version id, Last-Modified,
 * metadata, tags, checksum and ETag, and reads x-amz-replication-status REPLICA. Used by
 * replication within this process and by the S3 API when another site replicates here.
 * Idempotent: a version id the key already has is left alone, so a replayed task is harmless.
 */
import { S3Error } from '../errors.js';
import type { BlobStore, DataLocation, NewVersion, PartRecord, VersionRecord } from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { copyBody } from './copy.js';
import { freeData, ingestBody, openRange, UnreadableData } from './data.js';
import { Digester } from './digester.js';
import { DurabilityLost } from '../storage/errors.js';

/** What a replica keeps of its source version, and what the destination decides. */
export interface ReplicaFields {
  versionId: string;
  lastModified: number;
  owner: string;
  storageClass: string;
}

/** Destinations refuse replicas unless versioning is Enabled (AWS: DstBucketUnversioned). */
export function checkReplicaDestination(bucket: BucketEntry): void {
  if (bucket.record.versioning !== 'Enabled') {
    throw new S3Error('InvalidBucketState', 409, `Replicas can only be written to a bucket with versioning Enabled; ${bucket.record.name} is not.`);
  }
}

/** Commits a replica version whose data is already stored in the destination's blob store. */
export async function commitReplica(bucket: BucketEntry, v: NewVersion): Promise<{ applied: boolean }> {
  checkReplicaDestination(bucket);
  let result: { applied: boolean; freed: DataLocation[] };
  try {
    result = await bucket.region.meta.putReplica({ ...v, bucket: bucket.record.name, replicationStatus: 'REPLICA', isReplica: true });
  } catch (e) {
    if (!(e instanceof DurabilityLost)) await freeData(bucket.region.blobs, [v.data]);
    throw e;
  }
  if (!result.applied) await freeData(bucket.region.blobs, [v.data]);
  await freeData(bucket.region.blobs, result.freed);
  return { applied: result.applied };
}

/**
 * Copies a version's bytes from one region's blob store into another's, keeping the part
 * structure of multipart objects (so the replica's ETag and part checksums are the source's).
 * A copied single-part body must hash to the source's ETag: damage is not replicated.
 */
export async function copyVersionData(
  source: BucketEntry,
  v: VersionRecord,
  to: BlobStore,
  inlineThreshold: number,
): Promise<DataLocation> {
  const d = v.data;
  if (d.kind === 'none') return d;
  if (d.kind === 'inline') return { kind: 'inline', bytes: Buffer.from(d.bytes) };
  if (d.kind === 'blob') {
    const { location, digests } = await ingestBody(to, copyBody(source, v, 0, v.size - 1, undefined), inlineThreshold);
    if (digests.md5.toString('hex') !== v.etag) {
      await freeData(to, [location]);
      throw new UnreadableData(`the stored bytes of ${v.key} (version ${v.versionId}) do not match its ETag`);
    }
    return location;
  }
  const parts: PartRecord[] = [];
  try {
    for (const p of d.parts) {
      const writer = to.create();
      parts.push({ ...p, blobId: writer.id });
      const digester = new Digester(undefined, false);
      try {
        if (p.size > 0) {
          for await (const chunk of openRange(source.region.blobs, { kind: 'parts', parts: [p] }, 0, p.size - 1) as AsyncIterable<Buffer>) {
            digester.update(chunk);
            await writer.write(chunk);
          }
        }
        await writer.finish();
      } catch (e) {
        await writer.abort();
        throw e;
      }
      if (digester.digest().md5.toString('hex') !== p.etag) {
        throw new UnreadableData(`the stored bytes of part ${p.partNumber} of ${v.key} (version ${v.versionId}) do not match its ETag`);
      }
    }
  } catch (e) {
    await freeData(to, [{ kind: 'parts', parts }]);
    throw e;
  }
  return { kind: 'parts', parts };
}

/** The replica of a source version, with the destination's choices applied. */
export function replicaOf(v: VersionRecord, fields: ReplicaFields, data: DataLocation): NewVersion {
  const r: NewVersion = {
    bucket: '',
    key: v.key,
    versionId: fields.versionId,
    isDeleteMarker: v.isDeleteMarker,
    size: v.size,
    etag: v.etag,
    lastModified: fields.lastModified,
    storageClass: fields.storageClass,
    owner: fields.owner,
    meta: v.meta,
    tags: v.tags,
    data,
  };
  if (v.checksum) r.checksum = v.checksum;
  return r;
}
