/**
 * PutObject in the domain: the body goes to storage, then one transaction makes it the key's
 * latest version (conditionally, if the request asked), then the caller may acknowledge.
 */
import type { NewVersion, ObjectMeta, StoredChecksum, Tags, VersionRecord } from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { ingestBody, type BodyDigests, type ObjectBody } from './data.js';
import { commitVersion } from './versions.js';
import { commitReplica } from './replica.js';

export interface ObjectProps {
  meta: ObjectMeta;
  tags: Tags;
  storageClass: string;
  owner: string;
  lastModified: number;
  precondition?: (latest: VersionRecord | undefined) => void;
}

export function fullObjectChecksum(d: BodyDigests): StoredChecksum | undefined {
  return d.checksum ? { algorithm: d.checksum.algorithm, value: d.checksum.digest.toString('base64'), type: 'FULL_OBJECT' } : undefined;
}

/**
 * A replica written by another site (PutObject with replication headers): the body is stored
 * as usual, the version keeps the source's id, Last-Modified and owner.
 */
export async function putReplica(
  bucket: BucketEntry,
  key: string,
  body: ObjectBody,
  props: ObjectProps & { versionId: string },
  inlineThreshold: number,
): Promise<NewVersion> {
  const { location, digests } = await ingestBody(bucket.region.blobs, body, inlineThreshold);
  const v: NewVersion = {
    bucket: bucket.record.name,
    key,
    versionId: props.versionId,
    isDeleteMarker: false,
    size: digests.size,
    etag: digests.md5.toString('hex'),
    lastModified: props.lastModified,
    storageClass: props.storageClass,
    owner: props.owner,
    meta: props.meta,
    tags: props.tags,
    checksum: fullObjectChecksum(digests),
    data: location,
  };
  await commitReplica(bucket, v);
  return v;
}

export async function putObject(
  bucket: BucketEntry,
  key: string,
  body: ObjectBody,
  props: ObjectProps,
  inlineThreshold: number,
): Promise<NewVersion> {
  const { location, digests } = await ingestBody(bucket.region.blobs, body, inlineThreshold);
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
      meta: props.meta,
      tags: props.tags,
      checksum: fullObjectChecksum(digests),
      data: location,
    },
    props.precondition,
  );
}
