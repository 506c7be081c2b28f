/**
 * PutObject in the domain: the body goes to storage (encrypted under the write's data key),
 * then one transaction makes it the key's latest version (conditionally, if the request asked),
 * then the caller may acknowledge.
 */
import { newSalt } from '../crypto/object-cipher.js';
import { S3Error } from '../errors.js';
import type { NewVersion, ObjectMeta, StoredChecksum, StoredEncryption, Tags, VersionRecord } from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { freeData, ingestBody, storedLength, type BodyDigests, type ObjectBody } from './data.js';
import { withoutEncryption, type Sealing } from './encryption.js';
import { commitVersion } from './versions.js';
import { commitReplica } from './replica.js';

export interface ObjectProps {
  meta: ObjectMeta;
  tags: Tags;
  storageClass: string;
  owner: string;
  lastModified: number;
  precondition?: (latest: VersionRecord | undefined) => void;
  /** The data key the body is encrypted under (objects/encryption.ts seal); absent: stored in the clear. */
  sealing?: Sealing;
}

export function fullObjectChecksum(d: BodyDigests): StoredChecksum | undefined {
  return d.checksum ? { algorithm: d.checksum.algorithm, value: d.checksum.digest.toString('base64'), type: 'FULL_OBJECT' } : undefined;
}

/** Stores a body, encrypted when sealed; the metadata then records how (with the stream's salt). */
export async function ingestSealed(bucket: BucketEntry, body: ObjectBody, inlineThreshold: number, meta: ObjectMeta, sealing: Sealing | undefined) {
  if (!sealing) return { ...(await ingestBody(bucket.region.blobs, body, inlineThreshold)), meta: withoutEncryption(meta) };
  const salt = newSalt();
  const ingested = await ingestBody(bucket.region.blobs, body, inlineThreshold, { key: sealing.dataKey, salt });
  const encryption: StoredEncryption = { ...sealing.stored, salt: salt.toString('base64') };
  return { ...ingested, meta: { ...meta, encryption } };
}

/**
 * A replica written by another site (PutObject with replication headers): the body is stored
 * as usual (encrypted as the request's headers ask), the version keeps the source's id,
 * Last-Modified and owner.
 */
export async function putReplica(
  bucket: BucketEntry,
  key: string,
  body: ObjectBody,
  props: ObjectProps & { versionId: string },
  inlineThreshold: number,
): Promise<NewVersion> {
  const { location, digests, meta } = await ingestSealed(bucket, body, inlineThreshold, props.meta, props.sealing);
  const facts = { size: digests.size, etag: digests.md5.toString('hex'), checksum: fullObjectChecksum(digests) };
  return commitReplicaVersion(bucket, key, props, { ...facts, meta, data: location });
}

/** Commits a replica's version: the source's id, Last-Modified and owner, the body's facts. */
async function commitReplicaVersion(
  bucket: BucketEntry,
  key: string,
  props: ObjectProps & { versionId: string },
  body: Pick<NewVersion, 'size' | 'etag' | 'checksum' | 'meta' | 'data'>,
): Promise<NewVersion> {
  const v: NewVersion = {
    bucket: bucket.record.name,
    key,
    versionId: props.versionId,
    isDeleteMarker: false,
    lastModified: props.lastModified,
    storageClass: props.storageClass,
    owner: props.owner,
    tags: props.tags,
    ...body,
  };
  if (v.checksum === undefined) delete v.checksum;
  await commitReplica(bucket, v);
  return v;
}

/** What the sending site states about a body it sends still encrypted (an SSE-C replica). */
export interface StoredBodyFacts {
  encryption: StoredEncryption;
  /** Plaintext size, MD5 (hex) and checksum: the body here is ciphertext, they cannot be computed. */
  size: number;
  etag: string;
  checksum?: StoredChecksum;
}

/**
 * A replica whose body arrives as the source stored it (SSE-C: nobody here has the key). The
 * body is kept byte for byte; its length must be the ciphertext length of the stated size.
 */
export async function putStoredReplica(
  bucket: BucketEntry,
  key: string,
  body: ObjectBody,
  props: ObjectProps & { versionId: string },
  facts: StoredBodyFacts,
  inlineThreshold: number,
): Promise<NewVersion> {
  const { location, digests } = await ingestBody(bucket.region.blobs, body, inlineThreshold);
  if (digests.size !== storedLength(facts.size, true)) {
    await freeData(bucket.region.blobs, [location]);
    throw new S3Error('InvalidArgument', 400, `The replicated ciphertext is ${digests.size} bytes; ${facts.size} plaintext bytes need ${storedLength(facts.size, true)}`);
  }
  const meta = { ...props.meta, encryption: facts.encryption };
  return commitReplicaVersion(bucket, key, props, { size: facts.size, etag: facts.etag, checksum: facts.checksum, meta, data: location });
}

export async function putObject(
  bucket: BucketEntry,
  key: string,
  body: ObjectBody,
  props: ObjectProps,
  inlineThreshold: number,
): Promise<NewVersion> {
  const { location, digests, meta } = await ingestSealed(bucket, body, inlineThreshold, props.meta, props.sealing);
  return commitVersion(
    bucket,
    key,
    {
      isDeleteMarker: false,
      size: digests.size,
      etag: digests.md5.toString('hex'),
      lastModified: props.lastModified,
      storageClass: props.storageClass,
      owner: props.owner,
      meta,
      tags: props.tags,
      checksum: fullObjectChecksum(digests),
      data: location,
    },
    props.precondition,
  );
}
