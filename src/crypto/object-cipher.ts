/**
 * Encryption at rest for object bodies: AES-256-GCM over fixed-size plaintext chunks.
 *
 * Layout of one encrypted stream (one blob, one inline body or one multipart part):
 *   chunk 0 ciphertext || tag 0 || chunk 1 ciphertext || tag 1 || ... || last chunk || last tag
 * Every chunk holds CIPHER_CHUNK plaintext bytes except the last, which holds 0..CIPHER_CHUNK.
 * An empty plaintext is still one (empty) chunk and its tag, so an emptied blob cannot pass
 * for an empty object.
 *
 * Chunking exists so that a ranged GET authenticates and decrypts only the chunks it touches,
 * and so that memory stays bounded by one chunk however large the object is. Each chunk's
 * AAD binds its index and whether it is the last, so a reordered, dropped, duplicated or
 * truncated chunk fails authentication instead of yielding plausible bytes.
 *
 * The data key is never used directly: each stream derives its own subkey from a fresh salt,
 * because the chunk nonces restart at 0 in every stream and the same data key encrypts every
 * part of a multipart upload; the per-stream subkey is what keeps (key, nonce) pairs unique.
 */
import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const CIPHER_CHUNK = 65536;
export const CIPHER_TAG = 16;
export const CIPHER_SALT = 16;

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const AAD_BYTES = 9;
const SEALED_CHUNK = CIPHER_CHUNK + CIPHER_TAG;
const HKDF_INFO = Buffer.from('xregion/object-chunks/v1', 'utf8');
const ALGORITHM = 'aes-256-gcm';

/** Raised (as a stream error, or thrown by the buffer functions) when ciphertext does not authenticate or is short. */
export class CipherIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CipherIntegrityError';
  }
}

function chunkCount(plainLength: number): number {
  return plainLength === 0 ? 1 : Math.ceil(plainLength / CIPHER_CHUNK);
}

function checkLength(plainLength: number, what = 'plainLength'): void {
  if (!Number.isSafeInteger(plainLength) || plainLength < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${plainLength}`);
  }
}

export function cipherLength(plainLength: number): number {
  checkLength(plainLength);
  return plainLength + chunkCount(plainLength) * CIPHER_TAG;
}

export function newSalt(): Buffer {
  return crypto.randomBytes(CIPHER_SALT);
}

/**
 * Recently derived stream subkeys, by data key and salt. HKDF per request was ~11% of a 4 KiB
 * GET's CPU; hot objects are read again and again. Bounded (LRU by insertion order); the data
 * keys these derive from are in memory during the same requests anyway.
 */
const SUBKEY_CACHE_MAX = 4096;
const subkeys = new Map<string, Buffer>();

function subkey(key: Buffer, salt: Buffer): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new RangeError(`data key must be ${KEY_BYTES} bytes`);
  if (!Buffer.isBuffer(salt) || salt.length !== CIPHER_SALT) throw new RangeError(`salt must be ${CIPHER_SALT} bytes`);
  const id = key.toString('latin1') + salt.toString('latin1');
  let k = subkeys.get(id);
  if (k) {
    subkeys.delete(id);
  } else {
    k = Buffer.from(crypto.hkdfSync('sha256', key, salt, HKDF_INFO, KEY_BYTES));
    if (subkeys.size >= SUBKEY_CACHE_MAX) subkeys.delete(subkeys.keys().next().value!);
  }
  subkeys.set(id, k);
  return k;
}

/**
 * Per-stream state that prepares the nonce and AAD of chunk i in place, so the hot loop
 * allocates nothing beyond what the cipher objects themselves need.
 */
class ChunkSealer {
  private readonly nonce = Buffer.alloc(NONCE_BYTES);
  private readonly aad = Buffer.alloc(AAD_BYTES);

  constructor(private readonly key: Buffer) {}

  private prepare(index: number, final: boolean): void {
    // uint64 BE written as two uint32 halves: chunk indexes stay below 2^53 / 2^16.
    const hi = Math.floor(index / 0x1_0000_0000);
    const lo = index >>> 0;
    this.nonce.writeUInt32BE(hi, 4);
    this.nonce.writeUInt32BE(lo, 8);
    this.aad.writeUInt32BE(hi, 0);
    this.aad.writeUInt32BE(lo, 4);
    this.aad[8] = final ? 1 : 0;
  }

  /** Returns [ciphertext, tag]; the ciphertext has plain.length bytes. */
  seal(index: number, final: boolean, plain: Buffer): [Buffer, Buffer] {
    this.prepare(index, final);
    const c = crypto.createCipheriv(ALGORITHM, this.key, this.nonce, { authTagLength: CIPHER_TAG });
    c.setAAD(this.aad);
    const body = c.update(plain);
    const rest = c.final();
    return [rest.length === 0 ? body : Buffer.concat([body, rest]), c.getAuthTag()];
  }

  /** `sealed` is the chunk's ciphertext followed by its tag; returns the plaintext or throws CipherIntegrityError. */
  open(index: number, final: boolean, sealed: Buffer): Buffer {
    this.prepare(index, final);
    const bodyLength = sealed.length - CIPHER_TAG;
    const d = crypto.createDecipheriv(ALGORITHM, this.key, this.nonce, { authTagLength: CIPHER_TAG });
    d.setAAD(this.aad);
    d.setAuthTag(sealed.subarray(bodyLength));
    const body = d.update(sealed.subarray(0, bodyLength));
    let rest: Buffer;
    try {
      rest = d.final();
    } catch {
      throw new CipherIntegrityError(`object data failed authentication at chunk ${index}`);
    }
    return rest.length === 0 ? body : Buffer.concat([body, rest]);
  }
}

/**
 * Encrypts a stream of unknown length. A full chunk is held back until either one more byte
 * arrives (then it is not the last) or the input ends (then it is), so at most one chunk is
 * buffered.
 */
export function encryptStream(key: Buffer, salt: Buffer): Transform {
  const sealer = new ChunkSealer(subkey(key, salt));
  const pending = Buffer.allocUnsafe(CIPHER_CHUNK);
  let fill = 0;
  let index = 0;

  return new Transform({
    transform(data: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      try {
        let offset = 0;
        while (offset < data.length) {
          if (fill === CIPHER_CHUNK) {
            // Another byte exists, so the held chunk is not the last.
            const [body, tag] = sealer.seal(index++, false, pending);
            this.push(body);
            this.push(tag);
            fill = 0;
          }
          const remaining = data.length - offset;
          if (fill === 0 && remaining > CIPHER_CHUNK) {
            // Whole chunk followed by more input in the same write: seal it without copying.
            const [body, tag] = sealer.seal(index++, false, data.subarray(offset, offset + CIPHER_CHUNK));
            this.push(body);
            this.push(tag);
            offset += CIPHER_CHUNK;
            continue;
          }
          const take = Math.min(CIPHER_CHUNK - fill, remaining);
          data.copy(pending, fill, offset, offset + take);
          fill += take;
          offset += take;
        }
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        const [body, tag] = sealer.seal(index++, true, pending.subarray(0, fill));
        this.push(body);
        this.push(tag);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

export function encryptBuffer(key: Buffer, salt: Buffer, plain: Buffer): Buffer {
  const sealer = new ChunkSealer(subkey(key, salt));
  const chunks = chunkCount(plain.length);
  const out = Buffer.allocUnsafe(cipherLength(plain.length));
  let w = 0;
  for (let i = 0; i < chunks; i++) {
    const from = i * CIPHER_CHUNK;
    const to = Math.min(from + CIPHER_CHUNK, plain.length);
    const [body, tag] = sealer.seal(i, i === chunks - 1, plain.subarray(from, to));
    w += body.copy(out, w);
    w += tag.copy(out, w);
  }
  return out;
}

/** Plaintext length of chunk i of a stream of plainLength bytes. */
function chunkPlainLength(i: number, plainLength: number, chunks: number): number {
  return i < chunks - 1 ? CIPHER_CHUNK : plainLength - (chunks - 1) * CIPHER_CHUNK;
}

/**
 * Plans the read of plaintext [start, end] (inclusive).
 *
 * `cipherStart`/`cipherEnd` are inclusive too, so they can go straight into
 * `fs.createReadStream(path, { start: cipherStart, end: cipherEnd })` or an HTTP Range.
 *
 * An empty range is written `end === start - 1` (the whole of a 0-byte object is
 * `decryptRange(k, s, 0, 0, -1)`): nothing is emitted, but the chunk holding `start` (the
 * last chunk when start === plainLength) is still read and authenticated, so an emptied or
 * swapped blob is caught even when no bytes are returned.
 */
export function decryptRange(
  key: Buffer,
  salt: Buffer,
  plainLength: number,
  start: number,
  end: number,
): { cipherStart: number; cipherEnd: number; decipher: Transform } {
  checkLength(plainLength);
  checkLength(start, 'start');
  if (!Number.isSafeInteger(end) || end < start - 1 || end >= plainLength) {
    throw new RangeError(`bad range [${start}, ${end}] for ${plainLength} bytes`);
  }
  const sealer = new ChunkSealer(subkey(key, salt));
  const chunks = chunkCount(plainLength);
  const empty = end < start;
  const firstChunk = Math.min(Math.floor(start / CIPHER_CHUNK), chunks - 1);
  const lastChunk = empty ? firstChunk : Math.floor(end / CIPHER_CHUNK);
  const cipherStart = firstChunk * SEALED_CHUNK;
  const cipherEnd = lastChunk * SEALED_CHUNK + chunkPlainLength(lastChunk, plainLength, chunks) + CIPHER_TAG - 1;

  const held = Buffer.allocUnsafe(SEALED_CHUNK);
  let fill = 0;
  let index = firstChunk;
  let need = chunkPlainLength(index, plainLength, chunks) + CIPHER_TAG;

  /**
   * Plaintext of one transform call, pushed as one buffer: a socket write per input buffer (up
   * to 1 MiB) instead of one per 64 KiB chunk halves the GET path's write and GC overhead.
   */
  const out: Buffer[] = [];
  const flushOut = (stream: Transform): void => {
    if (out.length === 1) stream.push(out[0]);
    else if (out.length > 1) stream.push(Buffer.concat(out));
    out.length = 0;
  };

  /** Authenticates one sealed chunk and queues the part of it inside the range. */
  const emit = (_stream: Transform, sealed: Buffer): void => {
    const plain = sealer.open(index, index === chunks - 1, sealed);
    if (!empty) {
      const base = index * CIPHER_CHUNK;
      const lo = index === firstChunk ? start - base : 0;
      const hi = index === lastChunk ? end - base + 1 : plain.length;
      out.push(lo === 0 && hi === plain.length ? plain : plain.subarray(lo, hi));
    }
    index++;
    need = index <= lastChunk ? chunkPlainLength(index, plainLength, chunks) + CIPHER_TAG : 0;
  };

  const decipher = new Transform({
    transform(data: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      try {
        let offset = 0;
        while (offset < data.length) {
          if (index > lastChunk) throw new CipherIntegrityError('more ciphertext than the range needs');
          const remaining = data.length - offset;
          if (fill === 0 && remaining >= need) {
            // The whole chunk is in this write: authenticate it in place, no copy.
            const sealed = data.subarray(offset, offset + need);
            offset += need;
            emit(this, sealed);
            continue;
          }
          const take = Math.min(need - fill, remaining);
          data.copy(held, fill, offset, offset + take);
          fill += take;
          offset += take;
          if (fill === need) {
            fill = 0;
            emit(this, held.subarray(0, need));
          }
        }
        flushOut(this);
        callback();
      } catch (err) {
        out.length = 0;
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      if (index <= lastChunk) {
        callback(new CipherIntegrityError(`object data is truncated: chunk ${index} is incomplete or missing`));
      } else {
        callback();
      }
    },
  });
  return { cipherStart, cipherEnd, decipher };
}

export function decryptBuffer(key: Buffer, salt: Buffer, cipher: Buffer, plainLength: number): Buffer {
  const expected = cipherLength(plainLength);
  if (cipher.length !== expected) {
    throw new CipherIntegrityError(`object data is ${cipher.length} bytes of ciphertext, expected ${expected}`);
  }
  const sealer = new ChunkSealer(subkey(key, salt));
  const chunks = chunkCount(plainLength);
  const out = Buffer.allocUnsafe(plainLength);
  let r = 0;
  let w = 0;
  for (let i = 0; i < chunks; i++) {
    const n = chunkPlainLength(i, plainLength, chunks) + CIPHER_TAG;
    w += sealer.open(i, i === chunks - 1, cipher.subarray(r, r + n)).copy(out, w);
    r += n;
  }
  return out;
}
