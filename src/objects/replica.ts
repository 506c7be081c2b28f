/**
 * Writing replicas into a bucket: a version that keeps its source's version id, Last-Modified,
 * metadata, tags, checksum and ETag, and reads x-amz-replication-status REPLICA. Used by
 * replication within this process and by the S3 API when another site replicates here.
 * Idempotent: a version id the key already has is left alone, so a replayed task is harmless.
 */
import { S3Error } from '../errors.js';
import { CipherIntegrityError, newSalt } from '../crypto/object-cipher.js';
import type { BlobStore, DataLocation, NewVersion, PartRecord, StoredEncryption, VersionRecord } from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { copyBody } from './copy.js';
import { freeData, ingestBody, openStored, storedLength, UnreadableData, type DataKey } from './data.js';
import { withoutEncryption, type Sealing } from './encryption.js';
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

/** How a replica's bytes relate to its source's. */
export type ReplicaCipher =
  /** Decrypt the source (when `open` is given) and store in the clear or under `reseal`. */
  | { mode: 'transcode'; open?: DataKey; reseal?: Sealing }
  /** Keep the stored bytes as they are (SSE-C: the key is the customer's, nobody here has it). */
  | { mode: 'stored' };

export interface ReplicaData {
  location: DataLocation;
  /** The replica's encryption (with its salts), or undefined when it is stored in the clear. */
  encryption?: StoredEncryption;
}

/**
 * Copies a version's bytes from one region's blob store into another's, keeping the part
 * structure of multipart objects (so the replica's ETag and part checksums are the source's).
 * A copied body must hash to the source's ETag (each part to its own): damage is not
 * replicated. Bodies kept as stored cannot be hashed; their length must be what was stored.
 */
export async function copyVersionData(
  source: BucketEntry,
  v: VersionRecord,
  to: BlobStore,
  inlineThreshold: number,
  cipher: ReplicaCipher = { mode: 'transcode' },
): Promise<ReplicaData> {
  try {
    return await copyData(source, v, to, inlineThreshold, cipher);
  } catch (e) {
    // Source ciphertext that does not authenticate is damage: retrying reads the same bytes.
    if (e instanceof CipherIntegrityError) throw new UnreadableData(`${v.key} (version ${v.versionId}): ${e.message}`);
    throw e;
  }
}

async function copyData(source: BucketEntry, v: VersionRecord, to: BlobStore, inlineThreshold: number, cipher: ReplicaCipher): Promise<ReplicaData> {
  const d = v.data;
  if (d.kind === 'none') return { location: d };
  if (cipher.mode === 'stored') return copyStored(source, v, to);
  const { open, reseal } = cipher;
  if (d.kind === 'inline' && !open && !reseal) return { location: { kind: 'inline', bytes: Buffer.from(d.bytes) } };
  if (d.kind !== 'parts') {
    const salt = reseal ? newSalt() : undefined;
    const body = copyBody(source, v, 0, v.size - 1, undefined, open);
    const { location, digests } = await ingestBody(to, body, inlineThreshold, reseal ? { key: reseal.dataKey, salt: salt! } : undefined);
    if (digests.md5.toString('hex') !== v.etag) {
      await freeData(to, [location]);
      throw new UnreadableData(`the stored bytes of ${v.key} (version ${v.versionId}) do not match its ETag`);
    }
    return { location, encryption: reseal ? { ...reseal.stored, salt: salt!.toString('base64') } : undefined };
  }
  const parts: PartRecord[] = [];
  try {
    for (const p of d.parts) {
      const salt = reseal ? newSalt() : undefined;
      const one: VersionRecord = { ...v, size: p.size, data: { kind: 'parts', parts: [p] } };
      const { location, digests } = await ingestBody(
        to,
        copyBody(source, one, 0, p.size - 1, undefined, open),
        -1,
        reseal ? { key: reseal.dataKey, salt: salt! } : undefined,
      );
      if (location.kind !== 'blob') throw new Error('a part must be stored as a blob');
      const copy: PartRecord = { ...p, blobId: location.blobId };
      delete copy.salt;
      if (salt) copy.salt = salt.toString('base64');
      parts.push(copy);
      if (digests.md5.toString('hex') !== p.etag) {
        throw new UnreadableData(`the stored bytes of part ${p.partNumber} of ${v.key} (version ${v.versionId}) do not match its ETag`);
      }
    }
  } catch (e) {
    await freeData(to, [{ kind: 'parts', parts }]);
    throw e;
  }
  return { location: { kind: 'parts', parts }, encryption: reseal ? { ...reseal.stored } : undefined };
}

/** The stored bytes (ciphertext) copied as they are, with the source's encryption record. */
async function copyStored(source: BucketEntry, v: VersionRecord, to: BlobStore): Promise<ReplicaData> {
  const d = v.data;
  const encrypted = v.meta.encryption !== undefined;
  const encryption = v.meta.encryption;
  if (d.kind === 'inline') return { location: { kind: 'inline', bytes: Buffer.from(d.bytes) }, encryption };
  const copyBlob = async (blobId: string, size: number): Promise<string> => {
    const length = storedLength(size, encrypted);
    const writer = to.create();
    let copied = 0;
    try {
      for await (const chunk of openStored(source.region.blobs, { kind: 'blob', blobId }, length) as AsyncIterable<Buffer>) {
        copied += chunk.length;
        await writer.write(chunk);
      }
      if (copied !== length) throw new UnreadableData(`the stored bytes of ${v.key} (version ${v.versionId}) are ${copied} bytes, not ${length}`);
      await writer.finish();
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return writer.id;
  };
  if (d.kind === 'blob') return { location: { kind: 'blob', blobId: await copyBlob(d.blobId, v.size) }, encryption };
  if (d.kind !== 'parts') return { location: d, encryption };
  const parts: PartRecord[] = [];
  try {
    for (const p of d.parts) parts.push({ ...p, blobId: await copyBlob(p.blobId, p.size) });
  } catch (e) {
    await freeData(to, [{ kind: 'parts', parts }]);
    throw e;
  }
  return { location: { kind: 'parts', parts }, encryption };
}

/**
 * The replica of a source version, with the destination's choices applied; `encryption` is the
 * replica's own (its data key is never the source's unless the bytes were kept as stored).
 */
export function replicaOf(v: VersionRecord, fields: ReplicaFields, data: DataLocation, encryption?: StoredEncryption): NewVersion {
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
    meta: encryption ? { ...withoutEncryption(v.meta), encryption } : withoutEncryption(v.meta),
    tags: v.tags,
    data,
  };
  if (v.checksum) r.checksum = v.checksum;
  return r;
}
