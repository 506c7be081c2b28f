/**
 * Server-side encryption at rest: which key encrypts a new body (the request's choice, else the
 * bucket's default encryption, else SSE-S3 as on AWS since 2023), how each kind of data key is
 * kept, and how a stored body's data key is opened again for a read or a copy.
 *
 * Every encrypted body gets a fresh random data key (SSE-S3, SSE-KMS) or one derived from the
 * customer's key (SSE-C); the body itself is object-cipher ciphertext (crypto/object-cipher.ts),
 * one cipher stream per blob, inline body or multipart part, each with its own salt. Sizes,
 * ETags and checksums stay those of the plaintext.
 */
import type { Readable } from 'node:stream';
import type { KeyInfo, RegionKms } from '../crypto/kms.js';
import { KmsError } from '../crypto/kms-errors.js';
import { Errors, S3Error } from '../errors.js';
import type { ObjectMeta, SseAlgorithm, StoredEncryption, VersionRecord } from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { openRange, UnreadableData, type DataKey } from './data.js';
import { customerDataKey, newWrappedDataKey, unwrapDataKey, WrappedKeyError } from './sse-keys.js';

/**
 * What encryption needs of the process: each region's KMS (its keys, and the region's SSE-S3
 * root key, both wrapped by the master key in kms.db). App is one.
 */
export interface KeySource {
  readonly kms: ReadonlyMap<string, RegionKms>;
}

/** A customer-provided key (SSE-C) as a request presents it, already checked against its MD5. */
export interface CustomerKey {
  key: Buffer;
  /** Base64 MD5 of the key. */
  md5: string;
}

/** The encryption a write asks for with its headers. */
export type EncryptionRequest =
  | { algorithm: 'AES256' }
  | { algorithm: 'aws:kms' | 'aws:kms:dsse'; keyId?: string; bucketKeyEnabled?: boolean; context?: Record<string, string> }
  | { algorithm: 'SSE-C'; customer: CustomerKey };

export type KmsAction = 'kms:GenerateDataKey' | 'kms:Decrypt';

/** Who uses a KMS key through S3: aliases and key ids resolve in their account, as on AWS. */
export interface KmsCaller {
  accountId: string;
  /**
   * Throws (AccessDenied as S3 relays it) when the caller may not use the key for the action.
   * Absent when the caller is S3 itself (replication checks its role separately).
   */
  allow?(action: KmsAction, key: KeyInfo, context: Record<string, string>): void;
}

/** A data key ready to encrypt a new body, and what its version will record. */
export interface Sealing {
  /** Without a salt: each cipher stream (the body, or each part) gets its own. */
  stored: StoredEncryption;
  dataKey: Buffer;
}

// --- bucket default encryption (PutBucketEncryption) ---------------------------------------

export type DefaultAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';

export interface BucketEncryptionRule {
  sseAlgorithm: DefaultAlgorithm;
  /** As the request gave it (key id, key ARN, alias name or alias ARN): AWS stores it verbatim. */
  kmsMasterKeyId?: string;
  bucketKeyEnabled?: boolean;
}

/** The bucket_config 'encryption' document. */
export interface BucketEncryptionDoc {
  /** The default rule; absent: SSE-S3, every bucket's default on AWS. */
  rule?: BucketEncryptionRule;
  /** BlockedEncryptionTypes: whether writes that ask for SSE-C are refused. */
  sseCBlocked?: boolean;
}

/**
 * SSE-C is blocked for writes unless the bucket's owner unblocked it, as on AWS since April 2026
 * ("all new general purpose buckets have SSE-C encryption disabled for all new write requests").
 */
export const SSE_C_BLOCKED_BY_DEFAULT = true;

export const SSE_S3_RULE: BucketEncryptionRule = { sseAlgorithm: 'AES256', bucketKeyEnabled: false };

export interface BucketEncryption {
  rule: BucketEncryptionRule;
  sseCBlocked: boolean;
}

export function bucketEncryption(bucket: BucketEntry): BucketEncryption {
  const doc = bucket.configs.get('encryption') as BucketEncryptionDoc | undefined;
  return { rule: doc?.rule ?? SSE_S3_RULE, sseCBlocked: doc?.sseCBlocked ?? SSE_C_BLOCKED_BY_DEFAULT };
}

/** The request a write without encryption headers stands for: the bucket's default. */
export function defaultRequest(bucket: BucketEntry): EncryptionRequest {
  const { rule } = bucketEncryption(bucket);
  if (rule.sseAlgorithm === 'AES256') return { algorithm: 'AES256' };
  const r: EncryptionRequest = { algorithm: rule.sseAlgorithm };
  if (rule.kmsMasterKeyId !== undefined) r.keyId = rule.kmsMasterKeyId;
  if (rule.bucketKeyEnabled) r.bucketKeyEnabled = true;
  return r;
}

/**
 * The request a write stands for: its own headers' choice, or the bucket's default. An explicit
 * aws:kms that does not say whether to use a Bucket Key follows the bucket's setting.
 */
export function effectiveRequest(bucket: BucketEntry, requested: EncryptionRequest | undefined): EncryptionRequest {
  if (!requested) return defaultRequest(bucket);
  if (requested.algorithm === 'aws:kms' && requested.bucketKeyEnabled === undefined) {
    const { rule } = bucketEncryption(bucket);
    if (rule.sseAlgorithm === 'aws:kms' && rule.bucketKeyEnabled) return { ...requested, bucketKeyEnabled: true };
  }
  return requested;
}

// --- KMS --------------------------------------------------------------------------------------

/** S3 relays KMS's errors under its own codes: KMS.NotFoundException, KMS.DisabledException ... */
export function kmsToS3(e: KmsError): S3Error {
  if (e.status >= 500) return Errors.internal();
  const err = new S3Error(`KMS.${e.code}`, e.status, e.message);
  (err as Error & { cause?: unknown }).cause = e;
  return err;
}

function regionKms(keys: KeySource, region: string): RegionKms {
  const kms = keys.kms.get(region);
  if (!kms) throw Errors.internal();
  return kms;
}

/** The encryption context S3 gives KMS: the object's ARN, or the bucket's with a Bucket Key. */
export function kmsContext(bucket: string, key: string, enc: Pick<StoredEncryption, 'bucketKeyEnabled' | 'context'>): Record<string, string> {
  return { ...enc.context, 'aws:s3:arn': enc.bucketKeyEnabled ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}` };
}

/** The KMS key a request names (or the caller's aws/s3 key), resolved in the bucket's region. */
export function resolveKmsKey(keys: KeySource, region: string, keyId: string | undefined, accountId: string): KeyInfo {
  const kms = regionKms(keys, region);
  try {
    return keyId === undefined ? kms.awsManagedKey(accountId, 's3') : kms.resolveKey(keyId, accountId);
  } catch (e) {
    if (e instanceof KmsError) throw kmsToS3(e);
    throw e;
  }
}

// --- sealing new bodies -------------------------------------------------------------------------

/**
 * A new data key for a body written to `bucket`/`key` as `request` asks (undefined: the
 * bucket's default), recorded the way its kind needs.
 */
export function seal(keys: KeySource, bucket: BucketEntry, key: string, request: EncryptionRequest | undefined, caller: KmsCaller): Sealing {
  const r = effectiveRequest(bucket, request);
  const region = bucket.record.region;
  switch (r.algorithm) {
    case 'AES256': {
      const { dataKey, wrapped } = newWrappedDataKey(regionKms(keys, region).sseS3Key());
      return { stored: { algorithm: 'AES256', wrappedKey: wrapped.toString('base64') }, dataKey };
    }
    case 'SSE-C':
      return { stored: { algorithm: 'SSE-C', customerKeyMd5: r.customer.md5 }, dataKey: customerDataKey(r.customer.key) };
    default: {
      const kmsKey = resolveKmsKey(keys, region, r.keyId, caller.accountId);
      // AWS: "S3 Bucket Keys aren't supported for DSSE-KMS".
      const bucketKeyEnabled = r.algorithm === 'aws:kms' && r.bucketKeyEnabled === true;
      const stored: StoredEncryption = { algorithm: r.algorithm, kmsKeyArn: kmsKey.arn };
      if (bucketKeyEnabled) stored.bucketKeyEnabled = true;
      if (r.context && Object.keys(r.context).length > 0) stored.context = r.context;
      const context = kmsContext(bucket.record.name, key, stored);
      caller.allow?.('kms:GenerateDataKey', kmsKey, context);
      try {
        const { plaintext, ciphertextBlob } = regionKms(keys, region).generateDataKey(kmsKey, context);
        stored.wrappedKey = ciphertextBlob.toString('base64');
        return { stored, dataKey: plaintext };
      } catch (e) {
        if (e instanceof KmsError) throw kmsToS3(e);
        throw e;
      }
    }
  }
}

// --- opening stored bodies ----------------------------------------------------------------------

const keyRequired = () =>
  Errors.invalidRequest('The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');

/**
 * A read's SSE-C key against the object's encryption: an SSE-C object needs the key it was
 * written with (400 without one, 403 with another); any other object takes none.
 */
export function checkCustomerKey(enc: StoredEncryption | undefined, given: CustomerKey | undefined): void {
  if (enc?.algorithm === 'SSE-C') {
    if (!given) throw keyRequired();
    if (given.md5 !== enc.customerKeyMd5) {
      throw Errors.accessDenied('Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.');
    }
  } else if (given) {
    throw Errors.invalidRequest('The encryption parameters are not applicable to this object.');
  }
}

/**
 * The plaintext data key of a stored body. KMS errors come back as S3 relays them (KMS.*),
 * after `caller.allow` has had its say on kms:Decrypt; a stored key that does not unwrap is
 * damage (UnreadableData).
 */
export function openDataKey(
  keys: KeySource,
  bucket: BucketEntry,
  key: string,
  enc: StoredEncryption,
  access: { customer?: CustomerKey; caller?: KmsCaller },
): Buffer {
  switch (enc.algorithm) {
    case 'AES256':
      try {
        return unwrapDataKey(regionKms(keys, bucket.record.region).sseS3Key(), enc.wrappedKey ?? '');
      } catch (e) {
        if (e instanceof WrappedKeyError) throw new UnreadableData(`${key}: ${e.message}`);
        throw e;
      }
    case 'SSE-C':
      checkCustomerKey(enc, access.customer);
      return customerDataKey(access.customer!.key);
    default: {
      const kms = regionKms(keys, bucket.record.region);
      const blob = Buffer.from(enc.wrappedKey ?? '', 'base64');
      const context = kmsContext(bucket.record.name, key, enc);
      try {
        access.caller?.allow?.('kms:Decrypt', kms.ciphertextKey(blob), context);
        return kms.decrypt(blob, context).plaintext;
      } catch (e) {
        if (e instanceof KmsError) throw kmsToS3(e);
        throw e;
      }
    }
  }
}

/** How to read a stored body: its data key, and the salt and size of its single cipher stream. */
export function dataKeyOf(enc: StoredEncryption, dataKey: Buffer, size: number): DataKey {
  const d: DataKey = { key: dataKey, size };
  if (enc.salt !== undefined) d.salt = Buffer.from(enc.salt, 'base64');
  return d;
}

/**
 * The plaintext bytes [start, end] of a stored version, for S3's own readers (a Batch
 * Operations manifest): its data key is opened by S3 itself, without a caller's KMS permission.
 * An SSE-C version cannot be read this way (InvalidRequest): only its owner has the key.
 */
export function openPlaintext(keys: KeySource, bucket: BucketEntry, v: VersionRecord, start: number, end: number): Readable {
  const enc = v.meta.encryption;
  const crypt = enc ? dataKeyOf(enc, openDataKey(keys, bucket, v.key, enc, {}), v.size) : undefined;
  return openRange(bucket.region.blobs, v.data, start, end, crypt);
}

/** x-amz-server-side-encryption of a stored body (SSE-C has none: its own two headers say it). */
export function sseHeaderValue(enc: StoredEncryption | undefined): SseAlgorithm | undefined {
  return enc && enc.algorithm !== 'SSE-C' ? enc.algorithm : undefined;
}

export function isSseKms(enc: StoredEncryption | undefined): boolean {
  return enc?.algorithm === 'aws:kms' || enc?.algorithm === 'aws:kms:dsse';
}

/** Metadata copied from elsewhere never carries that object's encryption into a new one. */
export function withoutEncryption(meta: ObjectMeta): ObjectMeta {
  if (meta.encryption === undefined) return meta;
  const { encryption: _dropped, ...rest } = meta;
  return rest;
}
