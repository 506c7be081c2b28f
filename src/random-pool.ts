/**
 * Random bytes drawn from the CSPRNG in blocks: one call to OpenSSL serves many small draws on
 * the PUT hot path (version ids, data keys, nonces, salts: ~2.5 µs per separate call). Each
 * draw is a fresh part of a block that is never handed out twice nor written again.
 */
import { randomBytes } from 'node:crypto';

const BLOCK = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

export function randomFromPool(n: number): Buffer {
  if (n > BLOCK / 4) return randomBytes(n);
  if (offset + n > pool.length) {
    pool = randomBytes(BLOCK);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + n);
  offset += n;
  return b;
}
