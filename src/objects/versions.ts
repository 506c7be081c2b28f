/**
 * Versioning semantics shared by every operation that creates, finds or removes versions:
 * which version id a new version gets, whether it replaces the null version, what a delete
 * does in each versioning state, and how a delete marker answers a read.
 */
import { Errors } from '../errors.js';
import { httpDate } from '../dates.js';
import type { DataLocation, NewVersion, PutVersionOptions, VersionRecord } from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { freeData } from './data.js';
import { newVersionId } from './ids.js';
import { planNewVersion } from '../replication/plan.js';
import { DurabilityLost } from '../storage/errors.js';

export type VersionFields = Omit<NewVersion, 'bucket' | 'key' | 'versionId'>;

/**
 * Commits a new version of a key as its latest, in the way the bucket's versioning state asks:
 * Enabled gives a fresh id; unversioned and Suspended write (and replace) the null version.
 * Data the write replaced is freed after the commit; the new data is freed if the commit fails.
 */
export async function commitVersion(
  bucket: BucketEntry,
  key: string,
  fields: VersionFields,
  precondition?: PutVersionOptions['precondition'],
): Promise<NewVersion> {
  const enabled = bucket.record.versioning === 'Enabled';
  const v: NewVersion = { ...fields, bucket: bucket.record.name, key, versionId: enabled ? newVersionId() : 'null' };
  let freed: DataLocation[];
  try {
    ({ freed } = await bucket.region.meta.putVersion(v, {
      replaceNull: !enabled,
      precondition,
      replicationFor: (final) => planNewVersion(bucket, final),
    }));
  } catch (e) {
    // After a failed fsync the row may be visible: its data must stay.
    if (!(e instanceof DurabilityLost)) await freeData(bucket.region.blobs, [v.data]);
    throw e;
  }
  await freeData(bucket.region.blobs, freed);
  return v;
}

export function checkVersionIdArgument(versionId: string | undefined): void {
  if (versionId === '') throw Errors.invalidArgument('Version id cannot be the empty string', 'versionId', '');
}

/** The `x-amz-version-id` header value of a version, or nothing for unversioned buckets' objects. */
export function versionHeader(bucket: BucketEntry, v: { versionId: string }): string | undefined {
  return bucket.record.versioning === '' && v.versionId === 'null' ? undefined : v.versionId;
}

/**
 * The version a GET or HEAD reads: the latest, or the one named. A delete marker answers 404
 * (latest) or 405 (named), with x-amz-delete-marker as AWS does.
 */
export async function findReadableVersion(
  bucket: BucketEntry,
  key: string,
  versionId: string | undefined,
  method: string,
): Promise<VersionRecord> {
  checkVersionIdArgument(versionId);
  const v = await bucket.region.meta.getVersion(bucket.record.name, key, versionId);
  if (!v) {
    if (versionId === undefined) throw Errors.noSuchKey(key);
    throw Errors.noSuchVersion(key, versionId);
  }
  if (v.isDeleteMarker) {
    const headers: Record<string, string> = {
      'x-amz-delete-marker': 'true',
      'x-amz-version-id': v.versionId,
      'last-modified': httpDate(v.lastModified),
    };
    if (versionId === undefined) throw Errors.noSuchKey(key, headers);
    throw Errors.methodNotAllowed(method, 'DeleteMarker', headers);
  }
  return v;
}

export interface DeleteOutcome {
  /** Version id removed or created, for x-amz-version-id. */
  versionId?: string;
  /** True when a delete marker was created or removed. */
  deleteMarker: boolean;
}

/**
 * DeleteObject. Without a version id: Enabled adds a delete marker, Suspended replaces the null
 * version with a null delete marker, unversioned removes the object. With one: that version (or
 * marker) is removed for good; deleting one that does not exist succeeds, as on AWS.
 */
export async function deleteObject(
  bucket: BucketEntry,
  key: string,
  versionId: string | undefined,
  owner: string,
  now: number,
): Promise<DeleteOutcome> {
  checkVersionIdArgument(versionId);
  const meta = bucket.region.meta;
  const name = bucket.record.name;
  if (versionId !== undefined) {
    const { deleted, freed } = await meta.deleteVersion(name, key, versionId);
    await freeData(bucket.region.blobs, freed);
    return { versionId, deleteMarker: deleted?.isDeleteMarker ?? false };
  }
  if (bucket.record.versioning === '') {
    const { freed } = await meta.deleteVersion(name, key, 'null');
    await freeData(bucket.region.blobs, freed);
    return { deleteMarker: false };
  }
  const marker = await commitVersion(bucket, key, {
    isDeleteMarker: true,
    size: 0,
    etag: '',
    lastModified: now,
    storageClass: 'STANDARD',
    owner,
    meta: { user: {} },
    tags: [],
    data: { kind: 'none' },
  });
  return { versionId: marker.versionId, deleteMarker: true };
}
