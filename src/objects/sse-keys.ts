/**
 * Data keys that S3 itself manages: an SSE-S3 data key wrapped under its region's SSE-S3 root
 * key (kept by RegionKms.sseS3Key in kms.db), and the data key of an SSE-C object (derived from
 * the customer's key, never stored). KMS-wrapped data keys are KMS's business (crypto/kms.ts);
 * objects/encryption.ts decides which of these an object uses.
 */
import crypto from 'node:crypto';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { LruMap } from '../lru.js';
import { randomFromPool } from '../random-pool.js';

export const DATA_KEY_BYTES = 32;
const WRAP_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = 1 + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES;
const WRAP_AAD = Buffer.from('xregion/sse-s3/data-key/v1', 'utf8');
const SSE_C_INFO = Buffer.from('xregion/sse-c/data-key/v1', 'utf8');

/** A stored data key that does not unwrap: damage, or a master key other than the one that wrapped it. */
export class WrappedKeyError extends Error {}

/**
 * A fresh data key and its wrapping under the region's SSE-S3 key, from one draw of randomness
 * (key and nonce): every SSE-S3 write makes one.
 */
export function newWrappedDataKey(regionKey: Buffer): { dataKey: Buffer; wrapped: Buffer } {
  const r = randomFromPool(DATA_KEY_BYTES + NONCE_BYTES);
  const dataKey = r.subarray(0, DATA_KEY_BYTES);
  return { dataKey, wrapped: wrapDataKey(regionKey, dataKey, r.subarray(DATA_KEY_BYTES)) };
}

/** version (1) || nonce (12) || AES-256-GCM(data key) (32) || tag (16) */
function wrapDataKey(regionKey: Buffer, dataKey: Buffer, nonce: Buffer): Buffer {
  const c = crypto.createCipheriv('aes-256-gcm', regionKey, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(WRAP_AAD);
  const body = Buffer.concat([c.update(dataKey), c.final()]);
  return Buffer.concat([Buffer.of(WRAP_VERSION), nonce, body, c.getAuthTag()]);
}

/**
 * Recently unwrapped data keys, per region key, by the wrapped key as stored (base64). Unwrapping
 * (a GCM decipher, after decoding the base64) was ~1% of an encrypted GET and more of a small
 * one; hot objects are read again and again. Bounded, LRU; the keys are in memory during the
 * requests that use them anyway, and so are the stream subkeys object-cipher.ts caches. Keyed by
 * the region key's identity: RegionKms keeps one Buffer per region key.
 */
const unwrapped = new WeakMap<Buffer, LruMap<string, Buffer>>();

/** The data key wrapped (base64, as stored) under `regionKey`; WrappedKeyError when it does not unwrap. */
export function unwrapDataKey(regionKey: Buffer, wrappedBase64: string): Buffer {
  let cache = unwrapped.get(regionKey);
  if (!cache) unwrapped.set(regionKey, (cache = new LruMap(4096)));
  return cache.memo(wrappedBase64, () => unwrapUncached(regionKey, Buffer.from(wrappedBase64, 'base64')));
}

function unwrapUncached(regionKey: Buffer, wrapped: Buffer): Buffer {
  if (wrapped.length !== WRAPPED_BYTES || wrapped[0] !== WRAP_VERSION) throw new WrappedKeyError('stored SSE-S3 data key has an unknown format');
  const d = crypto.createDecipheriv('aes-256-gcm', regionKey, wrapped.subarray(1, 1 + NONCE_BYTES), { authTagLength: TAG_BYTES });
  d.setAAD(WRAP_AAD);
  d.setAuthTag(wrapped.subarray(WRAPPED_BYTES - TAG_BYTES));
  try {
    return Buffer.concat([d.update(wrapped.subarray(1 + NONCE_BYTES, WRAPPED_BYTES - TAG_BYTES)), d.final()]);
  } catch {
    throw new WrappedKeyError('stored SSE-S3 data key does not authenticate under this region key');
  }
}

/**
 * An SSE-C object's data key. Derived rather than the customer's key itself, so that the bytes
 * used on the data never equal what the client sends (and a future change of derivation can
 * be told apart by its label).
 */
export function customerDataKey(customerKey: Buffer): Buffer {
  return hkdfSha256(customerKey, Buffer.alloc(0), SSE_C_INFO, DATA_KEY_BYTES);
}

export function md5Base64(b: Buffer): string {
  return crypto.createHash('md5').update(b).digest('base64');
}
