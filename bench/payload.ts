/**
 * Object bodies and key names shared by the load generator (which writes them) and the
 * orchestrator (which reads a few back and compares bytes).
 *
 * Bodies are pre-computed once per (size, variant): sending one costs no allocation or copy.
 * A key's variant is derived from its name, so a server that answers with the wrong object's
 * bytes fails the spot-check (unless both land on the same variant: 1 chance in VARIANTS).
 */

export const VARIANTS = 16;

/** Deterministic pseudo-random bytes (xorshift32), different per (size, variant). */
export function makeBody(size: number, variant: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = (0x9e3779b9 ^ Math.imul(variant + 1, 0x85ebca6b) ^ size) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

const cache = new Map<string, Buffer>();

export function body(size: number, variant: number): Buffer {
  const k = `${size}/${variant}`;
  let b = cache.get(k);
  if (!b) {
    b = makeBody(size, variant);
    cache.set(k, b);
  }
  return b;
}

/**
 * Key prefix of a scenario. The object size is part of every key (`obj-<size>/...`): the
 * ceiling server, which stores nothing, answers a GET with a body of that many bytes.
 */
export function keyPrefix(op: 'put' | 'get', size: number): string {
  return `obj-${size}/${op}`;
}

/** Key of the n-th PUT of worker w in the PUT scenario: distinct for every request. */
export function putKey(prefix: string, worker: number, n: number): string {
  return `${prefix}/${worker}/${n}`;
}

export function putVariant(worker: number, n: number): number {
  return (worker * 7 + n) % VARIANTS;
}

/** Key of the i-th object written by the GET scenario's pre-fill. */
export function fillKey(prefix: string, i: number): string {
  return `${prefix}/fill/${i}`;
}

export function fillVariant(i: number): number {
  return i % VARIANTS;
}

/** Object size encoded in a key by keyPrefix, or undefined. */
export function sizeFromPath(path: string): number | undefined {
  const m = /\/obj-(\d+)\//.exec(path);
  return m ? Number(m[1]) : undefined;
}
