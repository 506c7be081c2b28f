/**
 * The bucket namespace of the process: one name space across all regions it serves, each bucket
 * stored in the region of its LocationConstraint. Records are cached in memory; every change
 * goes through this class, so the cache is the truth once loaded.
 */
import { Errors, S3Error } from '../errors.js';
import type { Region } from '../region.js';
import type { BucketRecord, VersioningState } from '../storage/types.js';
import type { ReplicationConfig } from '../replication/config.js';
import { validateBucketName } from './bucket-names.js';
import { freeData } from './data.js';

export interface BucketEntry {
  record: BucketRecord;
  region: Region;
  /** The bucket's replication configuration, if it has one (kept in bucket_config). */
  replication?: ReplicationConfig;
}

/** The bucket_config kind holding the replication configuration (its JSON model). */
const REPLICATION_CONFIG_KIND = 'replication';

export class BucketDirectory {
  private readonly entries = new Map<string, BucketEntry>();
  /** Names being created right now: a second create must not slip in while the first commits. */
  private readonly reserved = new Set<string>();

  constructor(
    readonly regions: ReadonlyMap<string, Region>,
    private readonly clock: () => number,
  ) {}

  async load(): Promise<void> {
    for (const region of this.regions.values()) {
      for (const record of await region.meta.listBuckets()) {
        const entry: BucketEntry = { record, region };
        const doc = await region.meta.getBucketConfig(record.name, REPLICATION_CONFIG_KIND);
        if (doc !== undefined) entry.replication = JSON.parse(doc) as ReplicationConfig;
        this.entries.set(record.name, entry);
      }
    }
  }

  /** Stores (or with undefined removes) a bucket's replication configuration. */
  async setReplication(name: string, config: ReplicationConfig | undefined): Promise<void> {
    const e = this.require(name);
    await e.region.meta.putBucketConfig(name, REPLICATION_CONFIG_KIND, config ? JSON.stringify(config) : null);
    if (config) e.replication = config;
    else delete e.replication;
  }

  get(name: string): BucketEntry | undefined {
    return this.entries.get(name);
  }

  /** The bucket, or NoSuchBucket. */
  require(name: string): BucketEntry {
    const e = this.entries.get(name);
    if (!e) throw Errors.noSuchBucket(name);
    return e;
  }

  list(owner: string): BucketRecord[] {
    const out: BucketRecord[] = [];
    for (const e of this.entries.values()) if (e.record.owner === owner) out.push(e.record);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async create(name: string, regionName: string, owner: string): Promise<{ created: boolean }> {
    validateBucketName(name);
    const existing = this.entries.get(name);
    if (existing || this.reserved.has(name)) {
      if (existing && existing.record.owner === owner) {
        // us-east-1 keeps its legacy answer: re-creating your own bucket there succeeds.
        if (existing.record.region === 'us-east-1' && regionName === 'us-east-1') return { created: false };
        throw new S3Error(
          'BucketAlreadyOwnedByYou',
          409,
          'Your previous request to create the named bucket succeeded and you already own it.',
          { BucketName: name },
        );
      }
      throw new S3Error(
        'BucketAlreadyExists',
        409,
        'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
        { BucketName: name },
      );
    }
    const region = this.regions.get(regionName);
    if (!region) throw invalidLocation(regionName);
    const record: BucketRecord = { name, region: regionName, owner, createdAt: this.clock(), versioning: '' };
    this.reserved.add(name);
    try {
      await region.meta.createBucket(record);
      this.entries.set(name, { record, region });
    } finally {
      this.reserved.delete(name);
    }
    return { created: true };
  }

  async delete(name: string): Promise<void> {
    const e = this.require(name);
    const { deleted, freed } = await e.region.meta.deleteBucket(name);
    if (!deleted) {
      throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: name });
    }
    this.entries.delete(name);
    await freeData(e.region.blobs, freed);
  }

  async setVersioning(name: string, state: VersioningState): Promise<void> {
    const e = this.require(name);
    await e.region.meta.setVersioning(name, state);
    e.record.versioning = state;
  }
}

export function invalidLocation(location: string): S3Error {
  return new S3Error('InvalidLocationConstraint', 400, 'The specified location-constraint is not valid', {
    LocationConstraint: location,
  });
}
