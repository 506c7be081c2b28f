/**
 * One region's KMS: its keys, aliases and the cryptography done with them. Used by the KMS api
 * (src/api/kms/) and by S3 encryption at rest, which calls generateDataKey on every encrypted
 * PUT and decrypt on every encrypted GET: those paths touch memory only (the key records and the
 * unwrapped material of Enabled keys are cached here; every state change goes through this
 * class, which keeps the cache right).
 *
 * Authorization is not done here: the callers authorize (the KMS api with the caller's identity
 * and the key policy; S3 on behalf of its caller) before asking for an operation. State rules
 * (disabled, pending deletion) are done here, so that no caller can forget them.
 *
 * Ciphertext blob (format 1), for Encrypt and data keys alike:
 *   0      1   format version (1)
 *   1     16   key id (the UUID's 16 bytes)
 *   17     4   material version, uint32 BE (rotation keeps older versions for decryption)
 *   21    16   salt: each ciphertext has its own AES key, derived from the material and the salt
 *              (NIST SP 800-108 counter-mode KDF with HMAC-SHA256), so that a key used for
 *              billions of data keys never repeats an AES-GCM (key, nonce) pair
 *   37    12   AES-GCM nonce
 *   49     n   ciphertext
 *   49+n  16   AES-GCM tag
 * The AAD is the 49-byte header followed by the encryption context as canonical JSON (an array
 * of [key, value] pairs sorted by key), so a blob decrypts only with the context it was made
 * with and any change to its header or body fails authentication.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { parsePolicyDocument } from '../policy/parse.js';
import { PolicyDocumentError, type ConditionValues, type PolicyDocument } from '../policy/types.js';
import { KmsError, KmsErrors } from './kms-errors.js';
import { KmsStore, type AliasRow, type KeyManager, type KeyRow, type KeyState, type Tag } from './kms-store.js';
import { MASTER_CHECK_META, masterKeyCheck, materialAad, SSE_S3_META, sseS3Aad, unwrapMaterial, wrapMaterial } from './master-key.js';

export type { KeyState, KeyManager, Tag } from './kms-store.js';

/** A key as callers see it: an immutable snapshot (a state change replaces it). */
export interface KeyInfo {
  readonly keyId: string;
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
  readonly state: KeyState;
  readonly manager: KeyManager;
  readonly description: string;
  readonly keyUsage: string;
  readonly keySpec: string;
  readonly origin: string;
  /** ms since epoch */
  readonly createdAt: number;
  readonly deletionDate: number | null;
  readonly pendingWindowDays: number | null;
  readonly policy: PolicyDocument;
  /** The key policy document exactly as set. */
  readonly policyText: string;
  readonly rotationEnabled: boolean;
  readonly rotationPeriodDays: number | null;
  readonly nextRotationAt: number | null;
  readonly currentVersion: number;
}

export interface AliasEntry {
  name: string;
  arn: string;
  /** Absent for a predefined AWS alias whose key does not exist yet (as ListAliases shows it). */
  keyId?: string;
  createdAt?: number;
  updatedAt?: number;
}

export interface NewKey {
  accountId: string;
  description?: string;
  /** The key policy text; the default policy when absent. */
  policy?: string;
  tags?: readonly Tag[];
  /**
   * Called with the key as it will be, before anything is written: a throw creates nothing.
   * The api layer runs the policy lockout safety check here (it needs the key's ARN).
   */
  beforeCreate?: (key: KeyInfo) => void;
}

export const DATA_KEY_BYTES = 32;
export const MATERIAL_BYTES = 32;
export const DEFAULT_ROTATION_DAYS = 365;
const DAY_MS = 86_400_000;

const FORMAT = 1;
const HEADER_BYTES = 49;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** SP 800-108 fixed input before the salt: [i]=1 || Label || 0x00; after it: [L]=256 bits. */
const KDF_PREFIX = Buffer.concat([Buffer.of(0, 0, 0, 1), Buffer.from('xregion/kms/ciphertext/v1', 'utf8'), Buffer.of(0)]);
const KDF_SUFFIX = Buffer.of(0, 0, 1, 0);

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MRK_RE = /^mrk-[0-9a-fA-F]{32}$/;
const KEY_ARN_RE = /^arn:aws:kms:([a-z0-9-]*):(\d{12}):key\/(.+)$/;
const ALIAS_ARN_RE = /^arn:aws:kms:([a-z0-9-]*):(\d{12}):(alias\/.+)$/;

/** The AWS managed keys this store creates on first use, by the alias services know them by. */
const MANAGED_ALIASES: Record<string, 's3'> = { 'alias/aws/s3': 's3' };
const MANAGED_DESCRIPTIONS: Record<'s3', string> = {
  s3: 'Default key that protects my S3 objects when no other key is defined',
};

/** KMS writes the policies it makes itself the way Jackson pretty-prints: GetKeyPolicy shows exactly that. */
export function awsPolicyText(value: unknown, indent = 0): string {
  const pad = (n: number) => '  '.repeat(n);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => awsPolicyText(v, indent)).join(', ')} ]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{ }';
    const body = entries.map(([k, v]) => `${pad(indent + 1)}${JSON.stringify(k)} : ${awsPolicyText(v, indent + 1)}`);
    return `{\n${body.join(',\n')}\n${pad(indent)}}`;
  }
  return JSON.stringify(value);
}

/** The policy CreateKey gives a key created without one: the account decides through IAM. */
export function defaultKeyPolicy(accountId: string): string {
  return awsPolicyText({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/** The aws/s3 key's policy: any principal of the account, but only through S3 in this region. */
export function awsManagedS3Policy(accountId: string, region: string): string {
  return awsPolicyText({
    Version: '2012-10-17',
    Id: 'auto-s3-2',
    Statement: [
      {
        Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        Resource: '*',
      },
    ],
  });
}

/** A key policy document, parsed; a bad one is KMS's MalformedPolicyDocumentException. */
export function parseKeyPolicy(text: string): PolicyDocument {
  try {
    return parsePolicyDocument(text, 'key');
  } catch (e) {
    if (e instanceof PolicyDocumentError) throw KmsErrors.malformedPolicy(e.message);
    throw e;
  }
}

/**
 * The condition values a service adds when it uses KMS on its caller's behalf (kms:ViaService,
 * kms:CallerAccount): what the aws/s3 key policy, and key policies written for S3, test.
 */
export function viaServiceConditions(service: 's3', region: string, callerAccount: string): ConditionValues {
  return { 'kms:viaservice': [`${service}.${region}.amazonaws.com`], 'kms:calleraccount': [callerAccount] };
}

/** kms:EncryptionContext:<key> and kms:EncryptionContextKeys for a request's encryption context. */
export function encryptionContextConditions(ctx: Record<string, string>): ConditionValues {
  const out: ConditionValues = {};
  const keys = Object.keys(ctx);
  if (keys.length > 0) out['kms:encryptioncontextkeys'] = keys;
  for (const k of keys) out[`kms:encryptioncontext:${k.toLowerCase()}`] = [ctx[k]!];
  return out;
}

export function canonicalContext(ctx: Record<string, string>): Buffer {
  const entries = Object.entries(ctx).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function uuidBytes(keyId: string): Buffer {
  return Buffer.from(keyId.replace(/-/g, ''), 'hex');
}

function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The per-ciphertext key. One HMAC block suffices (and costs a fifth of HKDF on this path): the
 * material is already uniformly random, so HKDF's extract step would add nothing.
 */
function derive(material: Buffer, salt: Buffer): Buffer {
  return crypto.createHmac('sha256', material).update(KDF_PREFIX).update(salt).update(KDF_SUFFIX).digest();
}

export class RegionKms {
  /** Key records by key id; a deleted key is removed. */
  private readonly keys = new Map<string, KeyInfo>();
  /** Unwrapped material of Enabled keys, by `${keyId}/${version}`. */
  private readonly material = new Map<string, Buffer>();

  private constructor(
    readonly region: string,
    private readonly store: KmsStore,
    private readonly masterKey: Buffer,
    private readonly clock: () => number,
  ) {}

  static open(dataDir: string, region: string, masterKey: Buffer, clock: () => number): RegionKms {
    if (!Buffer.isBuffer(masterKey) || masterKey.length !== 32) throw new Error('the KMS master key must be 32 bytes');
    const file = path.join(dataDir, region, 'kms.db');
    const store = KmsStore.open(file);
    try {
      const check = masterKeyCheck(masterKey);
      const stored = store.getMeta(MASTER_CHECK_META);
      if (stored === undefined) store.setMeta(MASTER_CHECK_META, check);
      else if (!stored.equals(check)) {
        throw new Error(`${file} was written under a different KMS master key (rotate with rewrapAll, or start with the right key)`);
      }
      const kms = new RegionKms(region, store, masterKey, clock);
      kms.purgeDue();
      return kms;
    } catch (e) {
      store.close();
      throw e;
    }
  }

  private sseS3?: Buffer;

  /**
   * The region's SSE-S3 root key: S3-owned, never visible through the KMS API. It wraps the data
   * keys of SSE-S3 objects. Kept in kms.db wrapped by the master key like any key material, so
   * that rotating the master key (rewrapAll) never touches object metadata.
   */
  sseS3Key(): Buffer {
    if (this.sseS3) return this.sseS3;
    const aad = sseS3Aad(this.region);
    const wrapped = this.store.getMeta(SSE_S3_META);
    if (wrapped) {
      this.sseS3 = unwrapMaterial(this.masterKey, wrapped, aad);
    } else {
      const key = crypto.randomBytes(32);
      this.store.setMeta(SSE_S3_META, wrapMaterial(this.masterKey, key, aad));
      this.sseS3 = key;
    }
    return this.sseS3;
  }

  close(): void {
    this.sseS3?.fill(0);
    for (const m of this.material.values()) m.fill(0);
    this.material.clear();
    this.keys.clear();
    this.store.close();
  }

  keyArn(accountId: string, keyId: string): string {
    return `arn:aws:kms:${this.region}:${accountId}:key/${keyId}`;
  }

  aliasArn(accountId: string, aliasName: string): string {
    return `arn:aws:kms:${this.region}:${accountId}:${aliasName}`;
  }

  // ---- records ----

  private toInfo(row: KeyRow): KeyInfo {
    return Object.freeze({ ...row, region: this.region, policyText: row.policy, policy: parseKeyPolicy(row.policy) });
  }

  /** The stored row of a key record: what toInfo added taken off again, the policy as text. */
  private rowOf(k: KeyInfo): KeyRow {
    const { region: _region, policyText, policy: _policy, ...row } = k;
    return { ...row, policy: policyText };
  }

  /** The current record of a key id, deleting it first if its waiting period is over. */
  private lookup(keyId: string): KeyInfo | undefined {
    let k = this.keys.get(keyId);
    if (k === undefined) {
      const row = this.store.getKey(keyId);
      if (row === undefined) return undefined;
      k = this.toInfo(row);
      this.keys.set(keyId, k);
    }
    if (k.state === 'PendingDeletion' && k.deletionDate !== null && k.deletionDate <= this.clock()) {
      this.purge(keyId);
      return undefined;
    }
    return k;
  }

  private purge(keyId: string): void {
    this.store.deleteKey(keyId);
    this.forget(keyId);
  }

  /** Drops a key's record and unwrapped material from memory (the next use reads the store). */
  private forget(keyId: string): void {
    this.keys.delete(keyId);
    this.dropMaterial(keyId);
  }

  private dropMaterial(keyId: string): void {
    const prefix = `${keyId}/`;
    for (const [id, m] of this.material) {
      if (id.startsWith(prefix)) {
        m.fill(0);
        this.material.delete(id);
      }
    }
  }

  /** Deletes every key whose waiting period is over. */
  purgeDue(): void {
    for (const keyId of this.store.dueDeletions(this.clock())) this.purge(keyId);
  }

  /** Writes a changed record and makes it current; material stays cached only while Enabled. */
  private save(next: KeyInfo): KeyInfo {
    this.store.updateKey(this.rowOf(next));
    this.keys.set(next.keyId, next);
    if (next.state !== 'Enabled') this.dropMaterial(next.keyId);
    return next;
  }

  private change(key: KeyInfo, fields: Partial<Omit<KeyInfo, 'keyId' | 'arn' | 'accountId' | 'region'>>): KeyInfo {
    const base = this.current(key);
    return this.save(Object.freeze({ ...base, ...fields }));
  }

  /** The record as it is now (a caller may hold a stale snapshot). */
  current(key: KeyInfo): KeyInfo {
    const k = this.lookup(key.keyId);
    if (k === undefined) throw KmsErrors.keyNotFound(key.arn);
    return k;
  }

  keyById(keyId: string): KeyInfo | undefined {
    return this.lookup(keyId.toLowerCase());
  }

  // ---- resolution ----

  /**
   * The key a request names: key id, key ARN, alias name or alias ARN. `accountId` is the
   * caller's account. A key or alias ARN of another account resolves only with crossAccount
   * (the cryptographic operations and DescribeKey allow it; management operations do not).
   */
  resolveKey(keyRef: string, accountId: string, opts: { crossAccount?: boolean } = {}): KeyInfo {
    const crossAccount = opts.crossAccount ?? true;
    if (keyRef.startsWith('arn:')) {
      const km = KEY_ARN_RE.exec(keyRef);
      if (km) {
        const [, region, account, keyId] = km as unknown as [string, string, string, string];
        if (region !== this.region) throw KmsErrors.invalidArnRegion(region);
        if (account !== accountId && !crossAccount) throw KmsErrors.keyNotFound(keyRef);
        if (!UUID_RE.test(keyId)) {
          if (MRK_RE.test(keyId)) throw KmsErrors.keyNotFound(keyRef);
          throw KmsErrors.invalidKeyId(keyRef);
        }
        const k = this.lookup(keyId.toLowerCase());
        if (k === undefined || k.accountId !== account) throw KmsErrors.keyNotFound(keyRef);
        return k;
      }
      const am = ALIAS_ARN_RE.exec(keyRef);
      if (am) {
        const [, region, account, name] = am as unknown as [string, string, string, string];
        if (region !== this.region || (account !== accountId && !crossAccount)) throw KmsErrors.aliasNotFound(keyRef);
        return this.resolveAlias(account, name, account === accountId);
      }
      throw KmsErrors.invalidKeyId(keyRef);
    }
    if (keyRef.startsWith('alias/')) return this.resolveAlias(accountId, keyRef, true);
    if (UUID_RE.test(keyRef)) {
      const k = this.lookup(keyRef.toLowerCase());
      if (k === undefined || k.accountId !== accountId) throw KmsErrors.keyNotFound(this.keyArn(accountId, keyRef));
      return k;
    }
    if (MRK_RE.test(keyRef)) throw KmsErrors.keyNotFound(this.keyArn(accountId, keyRef));
    throw KmsErrors.invalidKeyId(keyRef);
  }

  /** An alias's key; a predefined AWS alias creates its managed key on first use, as KMS does. */
  private resolveAlias(accountId: string, name: string, mayCreate: boolean): KeyInfo {
    const a = this.store.getAlias(accountId, name);
    if (a !== undefined) {
      const k = this.lookup(a.keyId);
      if (k !== undefined) return k;
    }
    const service = MANAGED_ALIASES[name];
    if (service !== undefined && mayCreate) return this.awsManagedKey(accountId, service);
    throw KmsErrors.aliasNotFound(this.aliasArn(accountId, name));
  }

  /** The account's AWS managed key for a service (aws/s3), created with its alias on first use. */
  awsManagedKey(accountId: string, service: 's3'): KeyInfo {
    const aliasName = `alias/aws/${service}`;
    const a = this.store.getAlias(accountId, aliasName);
    if (a !== undefined) {
      const k = this.lookup(a.keyId);
      if (k !== undefined) return k;
      // The managed key was deleted (only possible through the store); its alias goes with it.
      this.store.deleteAlias(accountId, aliasName);
    }
    const now = this.clock();
    return this.insert(
      {
        accountId,
        description: MANAGED_DESCRIPTIONS[service],
        policy: awsManagedS3Policy(accountId, this.region),
      },
      'AWS',
      now,
      { accountId, name: aliasName, keyId: '', createdAt: now, updatedAt: now },
    );
  }

  // ---- lifecycle ----

  createKey(input: NewKey): KeyInfo {
    return this.insert(input, 'CUSTOMER', this.clock());
  }

  private insert(input: NewKey, manager: KeyManager, now: number, alias?: AliasRow): KeyInfo {
    const keyId = crypto.randomUUID();
    const arn = this.keyArn(input.accountId, keyId);
    const policy = input.policy ?? defaultKeyPolicy(input.accountId);
    const row: KeyRow = {
      keyId,
      accountId: input.accountId,
      arn,
      description: input.description ?? '',
      keyUsage: 'ENCRYPT_DECRYPT',
      keySpec: 'SYMMETRIC_DEFAULT',
      origin: 'AWS_KMS',
      manager,
      state: 'Enabled',
      createdAt: now,
      deletionDate: null,
      pendingWindowDays: null,
      policy,
      // AWS managed keys rotate every year and that cannot be changed.
      rotationEnabled: manager === 'AWS',
      rotationPeriodDays: manager === 'AWS' ? DEFAULT_ROTATION_DAYS : null,
      nextRotationAt: manager === 'AWS' ? now + DEFAULT_ROTATION_DAYS * DAY_MS : null,
      currentVersion: 1,
    };
    const info = this.toInfo(row);
    input.beforeCreate?.(info);
    const material = crypto.randomBytes(MATERIAL_BYTES);
    const wrapped = wrapMaterial(this.masterKey, material, materialAad(arn, 1));
    this.store.insertKey(row, wrapped, input.tags ?? [], alias ? { ...alias, keyId } : undefined);
    this.keys.set(keyId, info);
    this.material.set(`${keyId}/1`, material);
    return info;
  }

  enableKey(key: KeyInfo): KeyInfo {
    const k = this.current(key);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    return k.state === 'Enabled' ? k : this.change(k, { state: 'Enabled' });
  }

  disableKey(key: KeyInfo): KeyInfo {
    const k = this.current(key);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    return k.state === 'Disabled' ? k : this.change(k, { state: 'Disabled' });
  }

  scheduleDeletion(key: KeyInfo, pendingWindowDays: number): KeyInfo {
    const k = this.current(key);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    return this.change(k, {
      state: 'PendingDeletion',
      deletionDate: this.clock() + pendingWindowDays * DAY_MS,
      pendingWindowDays,
    });
  }

  /** Back to Disabled, as KMS does: re-enabling is a separate, deliberate step. */
  cancelDeletion(key: KeyInfo): KeyInfo {
    const k = this.current(key);
    if (k.state !== 'PendingDeletion') throw KmsErrors.notPendingDeletion(k.arn);
    return this.change(k, { state: 'Disabled', deletionDate: null, pendingWindowDays: null });
  }

  updateDescription(key: KeyInfo, description: string): KeyInfo {
    const k = this.current(key);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    return this.change(k, { description });
  }

  putKeyPolicy(key: KeyInfo, policyText: string): KeyInfo {
    const k = this.current(key);
    const policy = parseKeyPolicy(policyText);
    return this.change(k, { policyText, policy });
  }

  enableKeyRotation(key: KeyInfo, periodDays: number = DEFAULT_ROTATION_DAYS): KeyInfo {
    const k = this.usable(key);
    const now = this.clock();
    return this.change(k, { rotationEnabled: true, rotationPeriodDays: periodDays, nextRotationAt: now + periodDays * DAY_MS });
  }

  disableKeyRotation(key: KeyInfo): KeyInfo {
    const k = this.usable(key);
    return this.change(k, { rotationEnabled: false, nextRotationAt: null });
  }

  /**
   * New material becomes current; every earlier version stays, so everything encrypted before
   * still decrypts. Rotation never changes the key id, ARN, policy or aliases.
   */
  rotate(key: KeyInfo): KeyInfo {
    const k = this.current(key);
    const now = this.clock();
    const version = k.currentVersion + 1;
    const material = crypto.randomBytes(MATERIAL_BYTES);
    const next: KeyInfo = Object.freeze({
      ...k,
      currentVersion: version,
      nextRotationAt: k.rotationEnabled && k.rotationPeriodDays !== null ? now + k.rotationPeriodDays * DAY_MS : k.nextRotationAt,
    });
    this.store.addMaterial(this.rowOf(next), wrapMaterial(this.masterKey, material, materialAad(k.arn, version)), now);
    this.keys.set(k.keyId, next);
    if (next.state === 'Enabled') this.material.set(`${k.keyId}/${version}`, material);
    else material.fill(0);
    return next;
  }

  materialVersions(key: KeyInfo): { version: number; createdAt: number }[] {
    return this.store.materialVersions(this.current(key).keyId);
  }

  listTags(key: KeyInfo): Tag[] {
    return this.store.listTags(this.current(key).keyId);
  }

  tagKey(key: KeyInfo, tags: readonly Tag[]): void {
    const k = this.current(key);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    this.store.putTags(k.keyId, tags);
  }

  untagKey(key: KeyInfo, tagKeys: readonly string[]): void {
    const k = this.current(key);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    this.store.removeTags(k.keyId, tagKeys);
  }

  /** The account's keys in this region, in key id order, after `afterKeyId`. */
  listKeys(accountId: string, afterKeyId: string, limit: number): { keys: KeyInfo[]; truncated: boolean } {
    this.purgeDue();
    const rows = this.store.listKeys(accountId, afterKeyId, limit + 1);
    const keys = rows.slice(0, limit).map((r) => this.keys.get(r.keyId) ?? this.toInfo(r));
    return { keys, truncated: rows.length > limit };
  }

  // ---- aliases ----

  getAlias(accountId: string, name: string): AliasRow | undefined {
    return this.store.getAlias(accountId, name);
  }

  createAlias(accountId: string, name: string, target: KeyInfo): void {
    const k = this.current(target);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    if (this.store.getAlias(accountId, name) !== undefined) throw KmsErrors.alreadyExists(this.aliasArn(accountId, name));
    const now = this.clock();
    this.store.insertAlias({ accountId, name, keyId: k.keyId, createdAt: now, updatedAt: now });
  }

  updateAlias(accountId: string, name: string, target: KeyInfo): void {
    const k = this.current(target);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    if (this.store.getAlias(accountId, name) === undefined) throw KmsErrors.aliasNotFound(this.aliasArn(accountId, name));
    this.store.updateAlias(accountId, name, k.keyId, this.clock());
  }

  deleteAlias(accountId: string, name: string): void {
    if (this.store.getAlias(accountId, name) === undefined) throw KmsErrors.aliasNotFound(this.aliasArn(accountId, name));
    this.store.deleteAlias(accountId, name);
  }

  /**
   * The account's aliases in name order after `afterName`. Without a key filter the list also
   * shows each predefined AWS alias whose managed key does not exist yet, without a key, as
   * ListAliases does.
   */
  listAliases(accountId: string, afterName: string, limit: number, keyId?: string): { aliases: AliasEntry[]; truncated: boolean } {
    this.purgeDue();
    const rows = this.store.listAliases(accountId, afterName, limit + 1, keyId);
    const entries: AliasEntry[] = rows.map((a) => ({
      name: a.name,
      arn: this.aliasArn(accountId, a.name),
      keyId: a.keyId,
      createdAt: a.createdAt,
      updatedAt: a.updatedAt,
    }));
    if (keyId === undefined) {
      for (const name of Object.keys(MANAGED_ALIASES)) {
        if (name > afterName && this.store.getAlias(accountId, name) === undefined) {
          entries.push({ name, arn: this.aliasArn(accountId, name) });
        }
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    return { aliases: entries.slice(0, limit), truncated: entries.length > limit };
  }

  // ---- cryptography ----

  /** The current record if it may encrypt or decrypt; KMS's error for its state otherwise. */
  usable(key: KeyInfo): KeyInfo {
    const k = this.current(key);
    if (k.state === 'Disabled') throw KmsErrors.disabled(k.arn);
    if (k.state === 'PendingDeletion') throw KmsErrors.pendingDeletion(k.arn);
    return k;
  }

  private materialOf(k: KeyInfo, version: number): Buffer | undefined {
    const id = `${k.keyId}/${version}`;
    let m = this.material.get(id);
    if (m === undefined) {
      const wrapped = this.store.getMaterial(k.keyId, version);
      if (wrapped === undefined) return undefined;
      try {
        m = unwrapMaterial(this.masterKey, wrapped, materialAad(k.arn, version));
      } catch (e) {
        throw KmsErrors.internal(`key material of ${k.arn} does not unwrap: ${(e as Error).message}`);
      }
      this.material.set(id, m);
    }
    return m;
  }

  encrypt(key: KeyInfo, plaintext: Buffer, encryptionContext: Record<string, string> = {}): Buffer {
    let k = this.usable(key);
    if (k.rotationEnabled && k.nextRotationAt !== null && this.clock() >= k.nextRotationAt) k = this.rotate(k);
    const material = this.materialOf(k, k.currentVersion);
    if (material === undefined) throw KmsErrors.internal(`key material of ${k.arn} is missing`);
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header[0] = FORMAT;
    uuidBytes(k.keyId).copy(header, 1);
    header.writeUInt32BE(k.currentVersion, 17);
    crypto.randomFillSync(header, 21, SALT_BYTES + NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', derive(material, header.subarray(21, 37)), header.subarray(37, 49), {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.concat([header, canonicalContext(encryptionContext)]));
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    return Buffer.concat([header, body, tail, cipher.getAuthTag()]);
  }

  generateDataKey(
    key: KeyInfo,
    encryptionContext: Record<string, string> = {},
    numberOfBytes = DATA_KEY_BYTES,
  ): { plaintext: Buffer; ciphertextBlob: Buffer } {
    this.usable(key);
    const plaintext = crypto.randomBytes(numberOfBytes);
    return { plaintext, ciphertextBlob: this.encrypt(key, plaintext, encryptionContext) };
  }

  /**
   * The key a ciphertext blob was made under, read from its header (without decrypting), so
   * that a caller can authorize before decrypting. A blob of another format, or whose key is
   * not in this region (another region's, or deleted), is InvalidCiphertextException.
   */
  ciphertextKey(ciphertextBlob: Buffer): KeyInfo {
    if (ciphertextBlob.length < HEADER_BYTES + TAG_BYTES || ciphertextBlob[0] !== FORMAT) throw KmsErrors.invalidCiphertext();
    const k = this.lookup(uuidString(ciphertextBlob.subarray(1, 17)));
    if (k === undefined) throw KmsErrors.invalidCiphertext();
    return k;
  }

  /**
   * Decrypts a blob from encrypt/generateDataKey. `keyRefHint` (Decrypt's KeyId) must name the
   * blob's key, else IncorrectKeyException; it resolves in `callerAccount` (default: the key's).
   */
  decrypt(
    ciphertextBlob: Buffer,
    encryptionContext: Record<string, string> = {},
    keyRefHint?: string,
    callerAccount?: string,
  ): { key: KeyInfo; plaintext: Buffer } {
    const blobKey = this.ciphertextKey(ciphertextBlob);
    if (keyRefHint !== undefined) {
      const hinted = this.resolveKey(keyRefHint, callerAccount ?? blobKey.accountId);
      if (hinted.keyId !== blobKey.keyId) throw KmsErrors.incorrectKey();
    }
    const k = this.usable(blobKey);
    const version = ciphertextBlob.readUInt32BE(17);
    const material = this.materialOf(k, version);
    if (material === undefined) throw KmsErrors.invalidCiphertext();
    const header = ciphertextBlob.subarray(0, HEADER_BYTES);
    const decipher = crypto.createDecipheriv('aes-256-gcm', derive(material, header.subarray(21, 37)), header.subarray(37, 49), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.concat([header, canonicalContext(encryptionContext)]));
    decipher.setAuthTag(ciphertextBlob.subarray(ciphertextBlob.length - TAG_BYTES));
    try {
      const body = decipher.update(ciphertextBlob.subarray(HEADER_BYTES, ciphertextBlob.length - TAG_BYTES));
      return { key: k, plaintext: Buffer.concat([body, decipher.final()]) };
    } catch {
      throw KmsErrors.invalidCiphertext();
    }
  }

  /** Decrypts under the blob's key and encrypts the plaintext under `destination`, never exposing it. */
  reEncrypt(
    ciphertextBlob: Buffer,
    sourceContext: Record<string, string>,
    destination: KeyInfo,
    destinationContext: Record<string, string>,
    sourceKeyHint?: string,
    callerAccount?: string,
  ): { sourceKey: KeyInfo; destinationKey: KeyInfo; ciphertextBlob: Buffer } {
    const { key, plaintext } = this.decrypt(ciphertextBlob, sourceContext, sourceKeyHint, callerAccount);
    try {
      const blob = this.encrypt(destination, plaintext, destinationContext);
      return { sourceKey: key, destinationKey: this.current(destination), ciphertextBlob: blob };
    } finally {
      plaintext.fill(0);
    }
  }
}

export { KmsError, KmsErrors };
