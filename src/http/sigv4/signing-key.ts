/**
 * SigV4 signing key derivation:
 *   kDate    = HMAC("AWS4" + secret, yyyymmdd)
 *   kRegion  = HMAC(kDate, region)
 *   kService = HMAC(kRegion, service)
 *   kSigning = HMAC(kService, "aws4_request")
 *
 * Four HMACs per request is measurable at high request rates, and the key only changes once a
 * day per (identity, region, service), so derived keys are kept in a small LRU. It is bounded
 * because every distinct scope a client sends (any region string, any date) would otherwise grow
 * it without limit.
 */
import { createHmac } from 'node:crypto';

export function hmacSha256(key: Buffer | string, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Uncached derivation (exported for tests and one-off use). */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256(`AWS4${secretAccessKey}`, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, 'aws4_request');
}

const MAX_ENTRIES = 256;
// Map iteration order is insertion order, which makes it an LRU when hits are re-inserted.
const cache = new Map<string, Buffer>();

/**
 * Cached derivation. The returned Buffer is shared with the cache: callers use it as an HMAC key
 * and must not modify it.
 */
export function getSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  // NUL cannot occur in any of the parts (the scope is split on '/', secrets are base64-ish), so
  // the joined string is an unambiguous key.
  const id = `${secretAccessKey}\0${date}\0${region}\0${service}`;
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const key = deriveSigningKey(secretAccessKey, date, region, service);
  cache.set(id, key);
  if (cache.size > MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return key;
}

/** For tests: number of cached keys, and a way to start from empty. */
export function signingKeyCacheSize(): number {
  return cache.size;
}
export function clearSigningKeyCache(): void {
  cache.clear();
}
