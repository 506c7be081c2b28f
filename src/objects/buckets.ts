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
  /** Its other sub-resource documents (policy, public access block, encryption …) by kind, parsed. */
  configs: Map<BucketConfigKind, unknown>;
}

/**
 * Bucket sub-resources kept as JSON documents in bucket_config and cached here. Each kind's
 * module owns its document shape; this class only stores and caches it.
 */
export type BucketConfigKind = 'policy' | 'public-access-block' | 'encryption' | 'ownership';
const CONFIG_KINDS: BucketConfigKind[] = ['policy', 'public-access-block', 'encryption', 'ownership'];

/**
 * Account-level settings (the account's public access block) live in bucket_config of the first
 * region under a name no bucket can have ('/' is not allowed in bucket names).
 */
const accountRow = (accountId: string) => `/account/${accountId}`;

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
        const entry: BucketEntry = { record, region, configs: new Map() };
        const doc = await region.meta.getBucketConfig(record.name, REPLICATION_CONFIG_KIND);
        if (doc !== undefined) entry.replication = JSON.parse(doc) as ReplicationConfig;
        for (const kind of CONFIG_KINDS) {
          const d = await region.meta.getBucketConfig(record.name, kind);
          if (d !== undefined) entry.configs.set(kind, JSON.parse(d));
        }
        this.entries.set(record.name, entry);
      }
    }
  }

  /** A bucket's cached document of one kind (undefined when it has none). */
  config<T>(name: string, kind: BucketConfigKind): T | undefined {
    return this.entries.get(name)?.configs.get(kind) as T | undefined;
  }

  /** Stores (or with undefined removes) a bucket's document of one kind, durably, then caches it. */
  async setConfig(name: string, kind: BucketConfigKind, doc: unknown): Promise<void> {
    const e = this.require(name);
    await e.region.meta.putBucketConfig(name, kind, doc === undefined ? null : JSON.stringify(doc));
    if (doc === undefined) e.configs.delete(kind);
    else e.configs.set(kind, doc);
  }

  private readonly accountConfigs = new Map<string, unknown>();

  /** An account-level document (e.g. the account's public access block). */
  async accountConfig<T>(accountId: string, kind: 'public-access-block'): Promise<T | undefined> {
    const cacheKey = `${accountId}/${kind}`;
    if (this.accountConfigs.has(cacheKey)) return this.accountConfigs.get(cacheKey) as T | undefined;
    const doc = await this.firstRegion().meta.getBucketConfig(accountRow(accountId), kind);
    const value = doc === undefined ? undefined : (JSON.parse(doc) as T);
    this.accountConfigs.set(cacheKey, value);
    return value;
  }

  async setAccountConfig(accountId: string, kind: 'public-access-block', doc: unknown): Promise<void> {
    await this.firstRegion().meta.putBucketConfig(accountRow(accountId), kind, doc === undefined ? null : JSON.stringify(doc));
    this.accountConfigs.set(`${accountId}/${kind}`, doc);
  }

  private firstRegion(): Region {
    return this.regions.values().next().value!;
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
      this.entries.set(name, { record, region, configs: new Map() });
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
