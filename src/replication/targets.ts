/**
 * ReplicationTarget: the one interface replication writes through. Two implementations: a
 * bucket in a region of this process (LocalTarget), and a bucket on another site reached over
 * the S3 API with replication headers (RemoteTarget, remote-target.ts).
 *
 * Encryption of replicas (spec §2.3): unencrypted → the destination bucket's default; SSE-S3 →
 * SSE-S3 (the destination's default ignored); SSE-KMS / DSSE-KMS → re-encrypted under the rule's
 * ReplicaKmsKeyID; SSE-C → kept as stored (only the customer has the key).
 */
import type { App } from '../app.js';
import type { KeyInfo } from '../crypto/kms.js';
import { S3Error } from '../errors.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { DataKey } from '../objects/data.js';
import {
  bucketEncryption,
  dataKeyOf,
  isSseKms,
  openDataKey,
  seal,
  type EncryptionRequest,
  type KmsCaller,
  type Sealing,
} from '../objects/encryption.js';
import { commitReplica, copyVersionData, replicaOf, type ReplicaCipher } from '../objects/replica.js';
import type { StoredEncryption, VersionRecord } from '../storage/types.js';
import { destinationBucketName, type ReplicationRule } from './config.js';
import { ReplicationFailure } from './failures.js';
import { RemoteTarget } from './remote-target.js';
import { matchSourceVersion } from './plan.js';
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

export type KmsKeyUse = 'kms:Decrypt' | 'kms:Encrypt' | 'kms:GenerateDataKey';

/**
 * The hook through which the engine authorizes the replication role's use of a KMS key: called
 * with each key right before it is used (kms:Decrypt on an SSE-KMS source's key; kms:Encrypt on
 * the ReplicaKmsKeyID; kms:GenerateDataKey on a destination default key). It throws a
 * ReplicationFailure (permanent) to refuse. For a remote destination only the source side is
 * checked here: the other site authorizes its own keys.
 */
export type KmsKeyCheck = (action: KmsKeyUse, key: KeyInfo, side: 'source' | 'destination') => void;

export interface TargetOptions {
  /** The rule of the task (its ReplicaKmsKeyID); found by matching the rules when absent. */
  ruleId?: string;
  checkKey?: KmsKeyCheck;
}

export function targetFor(app: App, d: Destination, opts: TargetOptions = {}): ReplicationTarget {
  return d.kind === 'local' ? new LocalTarget(app, d.bucket.record.name, opts) : new RemoteTarget(app, d, opts);
}

/** The rule a task of `source`'s version to `destination` follows. */
export function ruleOf(source: BucketEntry, v: VersionRecord, destination: string, ruleId: string | undefined): ReplicationRule | undefined {
  const config = source.replication;
  if (!config) return undefined;
  if (ruleId !== undefined) {
    const r = config.rules.find((x) => x.id === ruleId);
    if (r) return r;
  }
  const match = matchSourceVersion(config, v);
  return match.destinations.find((x) => x.destination === destination)?.rule ?? config.rules.find((r) => destinationBucketName(r.destination) === destination);
}

function kmsCode(e: unknown): string | undefined {
  return e instanceof S3Error && e.code.startsWith('KMS.') ? e.code.slice(4) : undefined;
}

/**
 * The data key of the source version, to read it in plaintext: a source KMS key that cannot
 * decrypt (disabled, pending deletion, gone) fails the task for good (SrcKmsKeyInvalidState).
 * Undefined for a body in the clear. Not for SSE-C: nobody here has that key.
 */
export function sourceDataKey(app: App, source: BucketEntry, v: VersionRecord, checkKey: KmsKeyCheck | undefined): DataKey | undefined {
  const enc = v.meta.encryption;
  if (!enc) return undefined;
  const caller: KmsCaller = { accountId: source.record.owner, allow: (action, key) => checkKey?.(action, key, 'source') };
  try {
    return dataKeyOf(enc, openDataKey(app, source, v.key, enc, { caller }), v.size);
  } catch (e) {
    const code = kmsCode(e);
    if (code !== undefined) throw new ReplicationFailure('SrcKmsKeyInvalidState', `the source object's KMS key cannot decrypt it: KMS.${code}: ${(e as Error).message}`);
    throw e;
  }
}

/** A destination KMS failure as the replication failure reason AWS gives it. */
function destinationKmsFailure(e: unknown): unknown {
  const code = kmsCode(e);
  if (code === undefined) return e;
  const reason = code === 'NotFoundException' ? 'DstKmsKeyNotFound' : 'DstKmsKeyInvalidState';
  return new ReplicationFailure(reason, `the destination KMS key cannot encrypt the replica: KMS.${code}: ${(e as Error).message}`);
}

/** How an SSE-KMS source's replica is encrypted: under the rule's ReplicaKmsKeyID, in the destination's region. */
function replicaKmsRequest(enc: StoredEncryption, rule: ReplicationRule | undefined): EncryptionRequest {
  const keyId = rule?.destination.encryptionConfiguration?.replicaKmsKeyId;
  if (keyId === undefined) throw new ReplicationFailure('DstKmsKeyNotFound', 'the rule names no ReplicaKmsKeyID for SSE-KMS objects');
  return { algorithm: enc.algorithm === 'aws:kms:dsse' ? 'aws:kms:dsse' : 'aws:kms', keyId };
}

/** What the replica of `v` in `dst` is encrypted with, as the source's encryption decides. */
export function replicaRequest(v: VersionRecord, rule: ReplicationRule | undefined): EncryptionRequest | undefined {
  const enc = v.meta.encryption;
  if (!enc) return undefined;
  if (enc.algorithm === 'AES256') return { algorithm: 'AES256' };
  if (isSseKms(enc)) return replicaKmsRequest(enc, rule);
  throw new Error('an SSE-C replica keeps its source bytes');
}

class LocalTarget implements ReplicationTarget {
  constructor(
    private readonly app: App,
    private readonly name: string,
    private readonly opts: TargetOptions,
  ) {}

  private bucket(): BucketEntry {
    const b = this.app.buckets.get(this.name);
    if (!b) throw new ReplicationFailure('DstBucketNotFound', `destination bucket ${this.name} does not exist`);
    if (b.record.versioning !== 'Enabled') {
      throw new ReplicationFailure('DstBucketUnversioned', `destination bucket ${this.name} does not have versioning enabled`);
    }
    return b;
  }

  /** The replica's data key in the destination bucket's region. */
  private reseal(source: BucketEntry, v: VersionRecord, dst: BucketEntry): Sealing {
    const request = replicaRequest(v, ruleOf(source, v, this.name, this.opts.ruleId));
    // Re-encrypting a KMS source is kms:Encrypt on the replica key; encrypting a plaintext source
    // under a KMS default is kms:GenerateDataKey (spec §5.2).
    const action = request && request.algorithm !== 'AES256' ? 'kms:Encrypt' : 'kms:GenerateDataKey';
    const caller: KmsCaller = { accountId: dst.record.owner, allow: (_a, key) => this.opts.checkKey?.(action, key, 'destination') };
    try {
      return seal(this.app, dst, v.key, request, caller);
    } catch (e) {
      throw destinationKmsFailure(e);
    }
  }

  async writeVersion(source: BucketEntry, v: VersionRecord, storageClass: string | undefined): Promise<void> {
    const dst = this.bucket();
    // Already there (a task replayed after a crash): no copy at all.
    if (await dst.region.meta.getVersion(this.name, v.key, v.versionId)) return;
    let cipher: ReplicaCipher;
    if (v.meta.encryption?.algorithm === 'SSE-C') {
      if (bucketEncryption(dst).sseCBlocked) {
        throw new ReplicationFailure('DstPutObjectNotPermitted', `destination bucket ${this.name} blocks SSE-C encrypted objects (BlockedEncryptionTypes)`);
      }
      cipher = { mode: 'stored' };
    } else {
      const open = sourceDataKey(this.app, source, v, this.opts.checkKey);
      cipher = { mode: 'transcode', reseal: this.reseal(source, v, dst) };
      if (open) cipher.open = open;
    }
    const { location, encryption } = await copyVersionData(source, v, dst.region.blobs, this.app.config.inlineThreshold, cipher);
    const fields = { versionId: v.versionId, lastModified: v.lastModified, owner: v.owner, storageClass: storageClass ?? v.storageClass };
    await commitReplica(dst, replicaOf(v, fields, location, encryption));
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
