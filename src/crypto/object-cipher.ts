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
import { LruMap } from '../lru.js';
import { randomFromPool } from '../random-pool.js';
import { isRecyclable, markRecyclable, passRecyclable, releaseReadBuffer, takeReadBuffer } from '../read-buffers.js';
import { nativeAesGcm } from './aes-gcm-native.js';
import { hkdfSha256 } from './hkdf.js';
import type { BlobReadFn } from '../storage/types.js';
import { CipherJobError, cipherThreadCount, runCipherJob, type CipherJob, type OpenJob } from './cipher-pool.js';

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
  return randomFromPool(CIPHER_SALT);
}

/**
 * Recently derived stream subkeys, by data key and salt. HKDF per request was ~11% of a 4 KiB
 * GET's CPU; hot objects are read again and again. Bounded (LRU by insertion order); the data
 * keys these derive from are in memory during the same requests anyway.
 */
const subkeys = new LruMap<string, Buffer>(4096);

function subkey(key: Buffer, salt: Buffer): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new RangeError(`data key must be ${KEY_BYTES} bytes`);
  if (!Buffer.isBuffer(salt) || salt.length !== CIPHER_SALT) throw new RangeError(`salt must be ${CIPHER_SALT} bytes`);
  return subkeys.memo(key.toString('latin1') + salt.toString('latin1'), () => hkdfSha256(key, salt, HKDF_INFO, KEY_BYTES));
}

const native = nativeAesGcm();

/** Whether chunks are sealed and opened by the native addon (else by node's crypto module). */
export function usesNativeCipher(): boolean {
  return native !== null;
}

/**
 * Per-stream state that prepares the nonce and AAD of chunk i in place, so the hot loop
 * allocates nothing beyond what the cipher itself needs (nothing at all with the native addon).
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

  /** Encrypts `data` in place and writes its tag into `tag` (16 bytes apart from `data`). */
  sealInPlace(index: number, final: boolean, data: Buffer, tag: Buffer): void {
    this.prepare(index, final);
    if (native) {
      native.seal(this.key, this.nonce, this.aad, data, data, tag);
      return;
    }
    const c = crypto.createCipheriv(ALGORITHM, this.key, this.nonce, { authTagLength: CIPHER_TAG });
    c.setAAD(this.aad);
    // GCM is a stream mode: update returns every byte and final none.
    c.update(data).copy(data);
    c.final();
    c.getAuthTag().copy(tag);
  }

  /**
   * Decrypts `body` into `out` (a buffer of the same length, or `body` itself) after checking
   * `tag`; throws CipherIntegrityError when it does not authenticate, and `out` then holds no
   * plaintext.
   */
  openInto(index: number, final: boolean, body: Buffer, tag: Buffer, out: Buffer): void {
    this.prepare(index, final);
    if (native) {
      if (!native.open(this.key, this.nonce, this.aad, body, out, tag)) throw this.failed(index);
      return;
    }
    const plain = this.openWithNode(index, body, tag);
    plain.copy(out);
  }

  /** `sealed` is the chunk's ciphertext followed by its tag; returns the plaintext in a buffer of its own. */
  open(index: number, final: boolean, sealed: Buffer): Buffer {
    const bodyLength = sealed.length - CIPHER_TAG;
    const body = sealed.subarray(0, bodyLength);
    const tag = sealed.subarray(bodyLength);
    if (native) {
      const out = Buffer.allocUnsafe(bodyLength);
      this.openInto(index, final, body, tag, out);
      return out;
    }
    this.prepare(index, final);
    return this.openWithNode(index, body, tag);
  }

  /** node:crypto's open of the prepared chunk: the plaintext, only once the tag has checked. */
  private openWithNode(index: number, body: Buffer, tag: Buffer): Buffer {
    const d = crypto.createDecipheriv(ALGORITHM, this.key, this.nonce, { authTagLength: CIPHER_TAG });
    d.setAAD(this.aad);
    d.setAuthTag(tag);
    const plain = d.update(body);
    try {
      d.final();
    } catch {
      throw this.failed(index);
    }
    return plain;
  }

  private failed(index: number): CipherIntegrityError {
    return new CipherIntegrityError(`object data failed authentication at chunk ${index}`);
  }
}

/**
 * Seals chunks `first`.. of a stream in place: `buf` holds `plainLength` plaintext bytes from
 * offset 0 (every chunk full but the last) and has room for their tags; returns the sealed
 * length. `lastFinal` says whether the last of these chunks ends the stream.
 */
export function sealChunksInPlace(subkey: Buffer, first: number, plainLength: number, lastFinal: boolean, buf: Buffer): number {
  const n = lastFinal ? chunkCount(plainLength) : plainLength / CIPHER_CHUNK;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`cannot seal ${plainLength} bytes as whole chunks`);
  const sealedLength = plainLength + n * CIPHER_TAG;
  if (buf.length < sealedLength) throw new RangeError(`buffer of ${buf.length} bytes cannot hold ${sealedLength} sealed bytes`);
  const sealer = new ChunkSealer(subkey);
  // Backwards: chunk k moves to its sealed place, which covers only the plaintext of chunks
  // already moved and sealed, then is sealed there; nothing is overwritten before it is read.
  for (let k = n - 1; k >= 0; k--) {
    const from = k * CIPHER_CHUNK;
    const length = Math.min(CIPHER_CHUNK, plainLength - from);
    const at = k * SEALED_CHUNK;
    if (at !== from) buf.copyWithin(at, from, from + length);
    sealer.sealInPlace(first + k, lastFinal && k === n - 1, buf.subarray(at, at + length), buf.subarray(at + length, at + length + CIPHER_TAG));
  }
  return sealedLength;
}

/**
 * Opens whole sealed chunks `first`.. in place: `buf[offset, offset + length)` holds them, the
 * plaintext is written from `offset` on; returns its length. `finalIndex` is the index of the
 * stream's last chunk, the only one that may be short. Throws CipherIntegrityError when a chunk
 * does not authenticate or the run does not end on a chunk boundary.
 */
export function openChunksInPlace(subkey: Buffer, first: number, finalIndex: number, buf: Buffer, offset: number, length: number): number {
  const sealer = new ChunkSealer(subkey);
  let r = offset;
  let w = offset;
  const end = offset + length;
  for (let i = first; r < end; i++) {
    if (i > finalIndex) throw new CipherIntegrityError('more ciphertext than the stream has chunks');
    const n = i < finalIndex ? SEALED_CHUNK : end - r;
    if (r + n > end || n < CIPHER_TAG || n > SEALED_CHUNK) throw new CipherIntegrityError(`chunk ${i} is incomplete`);
    const body = buf.subarray(r, r + n - CIPHER_TAG);
    sealer.openInto(i, i === finalIndex, body, buf.subarray(r + n - CIPHER_TAG, r + n), body);
    // The plaintext moves to at or before its own ciphertext: later chunks are not touched.
    if (w !== r) buf.copyWithin(w, r, r + n - CIPHER_TAG);
    w += n - CIPHER_TAG;
    r += n;
  }
  return w - offset;
}

/** Runs of at least this many chunks go to a cipher thread; shorter ones cost less in place. */
const OFFLOAD_MIN_CHUNKS = 4;
/** Plaintext chunks an encrypting stream gathers into one sealing job. */
const SEAL_BATCH_CHUNKS = 16;
/**
 * Ciphertext reads of this size hold whole chunks only (16 sealed chunks, 1 MiB of plaintext):
 * a read that starts on a chunk boundary, as every decryptRange plan does, goes to a cipher
 * thread whole, with no chunk split across two reads to gather and open on the event loop.
 */
export const CIPHER_READ_SIZE = SEAL_BATCH_CHUNKS * (CIPHER_CHUNK + CIPHER_TAG);

function offloading(chunks: number): boolean {
  return chunks >= OFFLOAD_MIN_CHUNKS && cipherThreadCount() > 0;
}

/** Whether `buf` may move to a cipher thread: its memory is the caller's alone, from offset 0. */
function movable(buf: Buffer): boolean {
  return buf.byteOffset === 0 && buf.buffer instanceof ArrayBuffer && (buf.byteLength === buf.buffer.byteLength || isRecyclable(buf));
}

/** Runs a job on `buf` (movable) in a cipher thread; the result is a view of the same memory. */
async function offThread(job: CipherJob, buf: Buffer): Promise<Buffer> {
  if (!movable(buf)) throw new RangeError('a cipher job needs an ArrayBuffer of its own');
  const recycle = isRecyclable(buf);
  try {
    const r = await runCipherJob(job, buf.buffer as ArrayBuffer);
    const at = job.op === 'open' ? job.offset : 0;
    const view = Buffer.from(r.buf, at, r.length);
    // The memory came back whole to this one view: it stays recyclable.
    return recycle && at === 0 ? markRecyclable(view) : view;
  } catch (e) {
    if (e instanceof CipherJobError && e.integrity) throw new CipherIntegrityError(e.message);
    throw e;
  }
}

/**
 * Encrypts a stream of unknown length. Plaintext is gathered into batches of
 * SEAL_BATCH_CHUNKS chunks, sealed in a cipher thread; a full batch is held back until either
 * one more byte arrives (then its last chunk is not the stream's last) or the input ends (then
 * it is), so at most one batch is buffered.
 */
export function encryptStream(key: Buffer, salt: Buffer, expectedLength?: number): Transform {
  const streamKey = subkey(key, salt);
  const batchPlain = SEAL_BATCH_CHUNKS * CIPHER_CHUNK;
  const fullBatch = SEAL_BATCH_CHUNKS * SEALED_CHUNK;
  // A small body gets a small buffer (many concurrent small uploads must not each hold 1 MiB);
  // one of unknown length starts at one chunk and grows.
  const initial = expectedLength === undefined ? SEALED_CHUNK : Math.min(fullBatch, Math.max(CIPHER_TAG, cipherLength(expectedLength)));
  // Full batches come from the read-buffer pool and go back to it once the blob writer has
  // written them: 1 MiB of fresh external memory per upload kept V8 starting full collections.
  const batchBuffer = (size: number): Buffer => (size === fullBatch ? takeReadBuffer(size) : Buffer.allocUnsafeSlow(size));
  let pending = batchBuffer(initial);
  let fill = 0;
  let index = 0;

  /** Room for `n` more plaintext bytes (and their tags) in the batch, up to a full batch. */
  const reserve = (n: number): void => {
    const want = Math.min(fullBatch, cipherLength(fill + n));
    if (pending.length >= want) return;
    const grown = batchBuffer(Math.min(fullBatch, Math.max(want, pending.length * 2)));
    pending.copy(grown, 0, 0, fill);
    pending = grown;
  };

  /** Seals the batch (`fill` bytes) and returns its ciphertext; the batch starts over. */
  const sealBatch = async (lastFinal: boolean): Promise<Buffer> => {
    const n = lastFinal ? chunkCount(fill) : fill / CIPHER_CHUNK;
    const first = index;
    const plainLength = fill;
    index += n;
    fill = 0;
    const batch = pending;
    // The batch leaves with its ciphertext: the next one needs a buffer of its own.
    if (!lastFinal) pending = batchBuffer(fullBatch);
    if (!offloading(n)) return passRecyclable(batch, batch.subarray(0, sealChunksInPlace(streamKey, first, plainLength, lastFinal, batch)));
    return offThread({ op: 'seal', key: new Uint8Array(streamKey), first, plainLength, lastFinal }, batch);
  };

  return new Transform({
    transform(data: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      (async () => {
        let offset = 0;
        while (offset < data.length) {
          // Another byte exists, so the held batch's last chunk is not the stream's last.
          if (fill === batchPlain) this.push(await sealBatch(false));
          const take = Math.min(batchPlain - fill, data.length - offset);
          reserve(take);
          data.copy(pending, fill, offset, offset + take);
          fill += take;
          offset += take;
        }
      })().then(() => callback(), (err: Error) => callback(err));
    },
    flush(callback: TransformCallback) {
      sealBatch(true).then(
        (sealed) => callback(null, sealed),
        (err: Error) => callback(err),
      );
    },
  });
}

export function encryptBuffer(key: Buffer, salt: Buffer, plain: Buffer): Buffer {
  const out = Buffer.allocUnsafe(cipherLength(plain.length));
  plain.copy(out);
  sealChunksInPlace(subkey(key, salt), 0, plain.length, true, out);
  return out;
}

/** Plaintext length of chunk i of a stream of plainLength bytes. */
function chunkPlainLength(i: number, plainLength: number, chunks: number): number {
  return i < chunks - 1 ? CIPHER_CHUNK : plainLength - (chunks - 1) * CIPHER_CHUNK;
}

/**
 * The chunks that hold plaintext [start, end] (inclusive; `end === start - 1` is an empty range,
 * which still reads the chunk holding `start`) and where their ciphertext is, inclusive.
 */
function planRange(plainLength: number, start: number, end: number) {
  checkLength(plainLength);
  checkLength(start, 'start');
  if (!Number.isSafeInteger(end) || end < start - 1 || end >= plainLength) {
    throw new RangeError(`bad range [${start}, ${end}] for ${plainLength} bytes`);
  }
  const chunks = chunkCount(plainLength);
  const finalIndex = chunks - 1;
  const empty = end < start;
  const firstChunk = Math.min(Math.floor(start / CIPHER_CHUNK), finalIndex);
  const lastChunk = empty ? firstChunk : Math.floor(end / CIPHER_CHUNK);
  const cipherStart = firstChunk * SEALED_CHUNK;
  const lastPlain = chunkPlainLength(lastChunk, plainLength, chunks);
  const cipherEnd = lastChunk * SEALED_CHUNK + lastPlain + CIPHER_TAG - 1;
  /** Plaintext bytes of the chunks firstChunk..lastChunk, all of them. */
  const plainOfChunks = (lastChunk - firstChunk) * CIPHER_CHUNK + lastPlain;
  return { chunks, finalIndex, empty, firstChunk, lastChunk, cipherStart, cipherEnd, plainOfChunks };
}

export interface DecryptOptions {
  /**
   * The buffers written to the decipher are its alone (nobody reads them after the write, as
   * with a file read stream's): they are opened in place, on this thread or, whole, in a
   * cipher thread, and their memory becomes the plaintext pushed.
   */
  ownsInput?: boolean;
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
 *
 * Runs of whole chunks within one input buffer are opened in a cipher thread (long runs) or in
 * place (inputs the decipher owns); chunks split across input buffers are gathered and opened
 * into buffers of their own.
 */
export function decryptRange(
  key: Buffer,
  salt: Buffer,
  plainLength: number,
  start: number,
  end: number,
  options: DecryptOptions = {},
): { cipherStart: number; cipherEnd: number; decipher: Transform } {
  const { chunks, finalIndex, empty, firstChunk, lastChunk, cipherStart, cipherEnd } = planRange(plainLength, start, end);
  const streamKey = subkey(key, salt);
  const sealer = new ChunkSealer(streamKey);
  const sealedLength = (i: number) => chunkPlainLength(i, plainLength, chunks) + CIPHER_TAG;

  /**
   * A chunk split across input buffers, gathered. Allocated when first needed: a whole-object
   * read arrives in chunk-aligned buffers and never needs it, and 64 KiB per GET was enough
   * external memory to keep V8 starting full collections.
   */
  let heldBuffer: Buffer | undefined;
  const held = (): Buffer => (heldBuffer ??= Buffer.allocUnsafe(SEALED_CHUNK));
  let fill = 0;
  let index = firstChunk;

  /**
   * Plaintext of one transform call, pushed as one buffer: a socket write per input buffer (up
   * to 1 MiB) instead of one per 64 KiB chunk halves the GET path's write and GC overhead.
   */
  const out: Buffer[] = [];
  const flushOut = (stream: Transform): void => {
    if (out.length === 1) {
      stream.push(out[0]);
    } else if (out.length > 1) {
      stream.push(Buffer.concat(out));
      // Copied: whichever of them are recyclable (outputs of cipher threads) are done with.
      for (const b of out) releaseReadBuffer(b);
    }
    out.length = 0;
  };

  /** Queues the part inside the range of `plain`, the plaintext of chunks `from`.. (`count` of them). */
  const queue = (plain: Buffer, from: number, count: number): void => {
    index = from + count;
    if (empty) return;
    const base = from * CIPHER_CHUNK;
    const lo = Math.max(start, base) - base;
    const hi = Math.min(end + 1, base + plain.length) - base;
    if (hi > lo) out.push(lo === 0 && hi === plain.length ? plain : plain.subarray(lo, hi));
  };

  /** Opens the whole chunks at data[offset, offset + length) in a cipher thread. */
  const openOffThread = async (data: Buffer, offset: number, length: number, count: number): Promise<void> => {
    const from = index;
    const job: OpenJob = { op: 'open', key: new Uint8Array(streamKey), first: from, finalIndex, offset, length };
    if (options.ownsInput && movable(data)) {
      queue(await offThread(job, data), from, count);
    } else {
      const copy = Buffer.allocUnsafeSlow(length);
      data.copy(copy, 0, offset, offset + length);
      queue(await offThread({ ...job, offset: 0 }, copy), from, count);
    }
  };

  /**
   * Opens the whole chunks at data[offset, offset + length) in place on this thread: the input
   * is ours (ownsInput), so its memory becomes the output, with no buffer allocated per chunk
   * (at 1 GB/s those allocations kept V8's full collector busy).
   */
  const openHere = (data: Buffer, offset: number, length: number, count: number): void => {
    const from = index;
    const plain = data.subarray(offset, offset + openChunksInPlace(streamKey, from, finalIndex, data, offset, length));
    queue(passRecyclable(data, plain), from, count);
  };

  const transformOne = async (data: Buffer): Promise<void> => {
    let offset = 0;
    while (offset < data.length) {
      if (index > lastChunk) throw new CipherIntegrityError('more ciphertext than the range needs');
      const need = sealedLength(index);
      if (fill === 0) {
        // Whole chunks of this write, from offset on.
        let count = 0;
        let length = 0;
        while (index + count <= lastChunk && length + sealedLength(index + count) <= data.length - offset) {
          length += sealedLength(index + count);
          count++;
        }
        const offload = offloading(count);
        if (offload || (count > 0 && options.ownsInput)) {
          // The tail (part of the next chunk) is kept first: the buffer may leave this thread,
          // or become the output.
          const tail = data.length - offset - length;
          if (tail > 0) data.copy(held(), 0, offset + length);
          if (offload) await openOffThread(data, offset, length, count);
          else openHere(data, offset, length, count);
          if (tail > 0 && index > lastChunk) throw new CipherIntegrityError('more ciphertext than the range needs');
          fill = tail;
          return;
        }
        if (count > 0) {
          // One chunk in place, no copy.
          queue(sealer.open(index, index === finalIndex, data.subarray(offset, offset + need)), index, 1);
          offset += need;
          continue;
        }
      }
      const take = Math.min(need - fill, data.length - offset);
      data.copy(held(), fill, offset, offset + take);
      fill += take;
      offset += take;
      if (fill === need) {
        fill = 0;
        queue(sealer.open(index, index === finalIndex, held().subarray(0, need)), index, 1);
      }
    }
  };

  const decipher = new Transform({
    transform(data: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      transformOne(data).then(
        () => {
          // An input of our own is done with: opened into other buffers, or its memory (and
          // mark) passed on to the output, or moved to a cipher thread and back as output.
          if (options.ownsInput) releaseReadBuffer(data);
          flushOut(this);
          callback();
        },
        (err: Error) => {
          out.length = 0;
          callback(err);
        },
      );
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
  const buf = Buffer.from(cipher);
  return buf.subarray(0, openChunksInPlace(subkey(key, salt), 0, chunkCount(plainLength) - 1, buf, 0, buf.length));
}

/**
 * Plans the read of plaintext [start, end] (inclusive) of a stream stored alone in a file, for a
 * blob store that can let `reader` fill its read buffers: each read (of whole chunks, from a
 * chunk boundary: CIPHER_READ_SIZE) is read and opened in one job of libuv's thread pool by the
 * native addon, so the blob stream yields plaintext, and `trim` cuts it to the range and fails if
 * any of it is missing. `plainLength` of the plan is how many plaintext bytes the reads yield;
 * `exact` says they are the range itself (a whole object, or a range of whole chunks): each read
 * yields all its chunks or fails, so the blob stream can then go out without `trim`.
 *
 * Why: a decryptRange read goes to the thread pool, then to a cipher thread, then back; here the
 * thread that read the chunks opens them while they are in its core's cache: +10-20% encrypted
 * GET 1 MiB throughput (docs/benchmarks.md).
 * Null without the native addon or with no cipher threads: then decryptRange it is.
 */
export function openingRange(
  key: Buffer,
  salt: Buffer,
  plainLength: number,
  start: number,
  end: number,
): { cipherStart: number; cipherEnd: number; plainLength: number; exact: boolean; reader: BlobReadFn; trim: Transform } | null {
  // Cipher threads set to 0 keep all cipher work on the event loop (decryptRange, in place).
  if (!native || cipherThreadCount() === 0) return null;
  const { finalIndex, empty, firstChunk, cipherStart, cipherEnd, plainOfChunks } = planRange(plainLength, start, end);
  const streamKey = subkey(key, salt);
  const binding = native;
  const reader: BlobReadFn = (fd, buf, length, position, callback) => {
    // Whole chunks from a chunk boundary, as the plan's reads are: anything else is a caller's bug.
    if (position % SEALED_CHUNK !== 0 || position < cipherStart || position + length - 1 > cipherEnd) {
      callback(new RangeError(`read of ${length} bytes at ${position} is not a run of whole chunks of the plan`));
      return;
    }
    binding.readOpen(fd, position, length, buf, streamKey, position / SEALED_CHUNK, finalIndex, (err, produced) => {
      if (err) callback(err.code === 'ERR_XREGION_CIPHER_INTEGRITY' ? new CipherIntegrityError(err.message) : err);
      else callback(null, produced);
    });
  };
  const base = firstChunk * CIPHER_CHUNK;
  const exact = !empty && start === base && end + 1 === base + plainOfChunks;
  return { cipherStart, cipherEnd, plainLength: plainOfChunks, exact, reader, trim: trimPlaintext(base, plainOfChunks, start, empty ? start - 1 : end) };
}

/**
 * Passes on the part within [start, end] of a plaintext stream that begins at offset `base`
 * and must be `total` bytes long (else CipherIntegrityError at its end). Whole buffers go on as
 * they are, with their recyclable memory; buffers outside the range are given back.
 */
function trimPlaintext(base: number, total: number, start: number, end: number): Transform {
  let at = base;
  return new Transform({
    transform(data: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
      const lo = Math.max(start, at) - at;
      const hi = Math.min(end + 1, at + data.length) - at;
      at += data.length;
      if (at > base + total) return callback(new CipherIntegrityError('more plaintext than the range needs'));
      if (hi <= lo) {
        releaseReadBuffer(data);
        return callback();
      }
      callback(null, lo === 0 && hi === data.length ? data : data.subarray(lo, hi));
    },
    flush(callback: TransformCallback) {
      callback(at === base + total ? null : new CipherIntegrityError(`object data is truncated: ${base + total - at} bytes of the range are missing`));
    },
  });
}
