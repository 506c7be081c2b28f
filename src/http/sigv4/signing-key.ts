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
import crypto, { createHmac } from 'node:crypto';
import { LruMap } from '../../lru.js';

function hmacSha256(key: Buffer | string, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

const BLOCK = 64;
const oneShotHash = (crypto as unknown as { hash?: (alg: string, data: Buffer, enc: 'latin1' | 'hex') => string }).hash;

/**
 * HMAC-SHA256 under one fixed key, computed as H((K^opad) || H((K^ipad) || m)) with the padded
 * keys prepared once: two one-shot hashes per message instead of an Hmac object (whose key setup
 * is most of its cost for short messages). Used for the per-request signature check.
 */
class FixedKeyHmac {
  private inner = Buffer.alloc(BLOCK + 512);
  private readonly outer = Buffer.alloc(BLOCK + 32);

  constructor(private readonly key: Buffer) {
    const k = key.length > BLOCK ? crypto.createHash('sha256').update(key).digest() : key;
    for (let i = 0; i < BLOCK; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  hex(message: string): string {
    if (!oneShotHash) return hmacSha256(this.key, message).toString('hex');
    const need = BLOCK + Buffer.byteLength(message);
    if (need > this.inner.length) {
      const bigger = Buffer.alloc(need * 2);
      this.inner.copy(bigger, 0, 0, BLOCK);
      this.inner = bigger;
    }
    const n = this.inner.write(message, BLOCK, 'utf8');
    this.outer.write(oneShotHash('sha256', this.inner.subarray(0, BLOCK + n), 'latin1'), BLOCK, 'latin1');
    return oneShotHash('sha256', this.outer, 'hex');
  }
}

const hmacs = new WeakMap<Buffer, FixedKeyHmac>();

/** HMAC-SHA256 hex of a message under a (cached) signing key. */
export function signatureHex(signingKey: Buffer, message: string): string {
  let h = hmacs.get(signingKey);
  if (!h) {
    h = new FixedKeyHmac(signingKey);
    hmacs.set(signingKey, h);
  }
  return h.hex(message);
}

/** Uncached derivation (exported for tests and one-off use). */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256(`AWS4${secretAccessKey}`, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, 'aws4_request');
}

const cache = new LruMap<string, Buffer>(256);

/**
 * Cached derivation. The returned Buffer is shared with the cache: callers use it as an HMAC key
 * and must not modify it.
 */
let last: { secret: string; date: string; region: string; service: string; key: Buffer } | undefined;

export function getSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  // Most requests repeat the previous scope: that one is answered without touching the LRU.
  if (last && last.secret === secretAccessKey && last.date === date && last.region === region && last.service === service) {
    return last.key;
  }
  // NUL cannot occur in any of the parts (the scope is split on '/', secrets are base64-ish), so
  // the joined string is an unambiguous key.
  const id = `${secretAccessKey}\0${date}\0${region}\0${service}`;
  const key = cache.memo(id, () => deriveSigningKey(secretAccessKey, date, region, service));
  last = { secret: secretAccessKey, date, region, service, key };
  return key;
}

/** For tests: number of cached keys, and a way to start from empty. */
export function signingKeyCacheSize(): number {
  return cache.size;
}
export function clearSigningKeyCache(): void {
  cache.clear();
  last = undefined;
}
