/**
 * ReplicationTarget: the one interface replication writes through. Two implementations: a
 * bucket in a region of this process (LocalTarget), and a bucket on another site reached over
 * the S3 API with replication headers (RemoteTarget, remote-target.ts).
 */
import type { App } from '../app.js';
import type { BucketEntry } from '../objects/buckets.js';
import { commitReplica, copyVersionData, replicaOf } from '../objects/replica.js';
import type { VersionRecord } from '../storage/types.js';
import { ReplicationFailure } from './failures.js';
import { RemoteTarget } from './remote-target.js';
import type { Destination } from './sites.js';

/** Resumable progress of one task (a remote multipart copy), kept in its outbox row. */
export interface TaskProgress {
  /**
   * The task has never been attempted (no retry, no saved progress): a target may skip asking
   * whether the replica already exists, since replica writes are idempotent by version id.
   */
  firstAttempt: boolean;
  saved?: string;
  save(progress: string | undefined): Promise<void>;
}

export interface ReplicationTarget {
  /** Writes the replica of an object version (idempotent by version id). */
  writeVersion(source: BucketEntry, v: VersionRecord, storageClass: string | undefined, progress: TaskProgress): Promise<void>;
  /** Writes the replica of a delete marker, with the marker's version id. */
  writeDeleteMarker(v: VersionRecord): Promise<void>;
  /** Replaces the tags of the replicated version (a metadata change). */
  writeTags(v: VersionRecord): Promise<void>;
}

export function targetFor(app: App, d: Destination): ReplicationTarget {
  return d.kind === 'local' ? new LocalTarget(app, d.bucket.record.name) : new RemoteTarget(d);
}

class LocalTarget implements ReplicationTarget {
  constructor(
    private readonly app: App,
    private readonly name: string,
  ) {}

  private bucket(): BucketEntry {
    const b = this.app.buckets.get(this.name);
    if (!b) throw new ReplicationFailure('DstBucketNotFound', `destination bucket ${this.name} does not exist`);
    if (b.record.versioning !== 'Enabled') {
      throw new ReplicationFailure('DstBucketUnversioned', `destination bucket ${this.name} does not have versioning enabled`);
    }
    return b;
  }

  async writeVersion(source: BucketEntry, v: VersionRecord, storageClass: string | undefined): Promise<void> {
    const dst = this.bucket();
    // Already there (a task replayed after a crash): no copy at all.
    if (await dst.region.meta.getVersion(this.name, v.key, v.versionId)) return;
    const data = await copyVersionData(source, v, dst.region.blobs, this.app.config.inlineThreshold);
    const fields = { versionId: v.versionId, lastModified: v.lastModified, owner: v.owner, storageClass: storageClass ?? v.storageClass };
    await commitReplica(dst, replicaOf(v, fields, data));
  }

  async writeDeleteMarker(v: VersionRecord): Promise<void> {
    const dst = this.bucket();
    const fields = { versionId: v.versionId, lastModified: v.lastModified, owner: v.owner, storageClass: 'STANDARD' };
    await commitReplica(dst, replicaOf(v, fields, { kind: 'none' }));
  }

  async writeTags(v: VersionRecord): Promise<void> {
    const dst = this.bucket();
    // Written by replication: it creates no replication work of its own at the destination.
    if (!(await dst.region.meta.setTags(this.name, v.key, v.versionId, v.tags))) {
      throw new ReplicationFailure('DstVersionNotFound', `version ${v.versionId} of ${v.key} is not in ${this.name}`);
    }
  }
}

