/**
 * Object bytes: taking a request body into storage (inline in the metadata row when small, a
 * blob file otherwise), reading a byte range back as a stream, and freeing replaced data.
 * Encrypted bodies are stored as object-cipher ciphertext (crypto/object-cipher.ts): everything
 * here speaks plaintext offsets and sizes, and maps them to the ciphertext it reads or writes.
 */
import { once } from 'node:events';
import { pipeline, Readable, type Transform } from 'node:stream';
import {
  cipherLength,
  CIPHER_READ_SIZE,
  CipherIntegrityError,
  decryptBuffer,
  decryptRange,
  encryptBuffer,
  encryptStream,
  openingRange,
} from '../crypto/object-cipher.js';
import type { BlobSegment, BlobStore, BlobWriter, DataLocation, PartRecord } from '../storage/types.js';
import type { Digests } from './digester.js';

/**
 * Stored bytes that cannot be read back as recorded (a file shorter than its version says, or
 * bytes that no longer match their ETag). An internal error for a client; a permanent failure
 * for replication (retrying reads the same bytes).
 */
export class UnreadableData extends Error {}

/** What the body of a request turned out to be, once fully read and verified. */
export type BodyDigests = Digests;

/**
 * A request body as the domain sees it. The http layer decodes the transfer framing, and
 * verifies signatures chunk by chunk; finish() checks whatever the request promised about the
 * whole body (Content-MD5, x-amz-content-sha256, x-amz-checksum-*) and throws an S3Error if the
 * bytes do not match, which keeps the data from being committed.
 */
export interface ObjectBody {
  readonly length: number | undefined;
  readonly stream: AsyncIterable<Buffer>;
  finish(): Promise<BodyDigests>;
}

interface IngestedData {
  location: DataLocation;
  digests: BodyDigests;
}

/** The key and salt a new cipher stream is written with. */
export interface StreamCipher {
  key: Buffer;
  salt: Buffer;
}

/**
 * How to read stored data back: the data key, and the salt and plaintext size of the data's
 * single cipher stream (inline and blob data). Parts carry their own salt and size.
 */
export interface DataKey {
  key: Buffer;
  salt?: Buffer;
  size: number;
}

/**
 * Reads a body into storage, encrypting it when `cipher` is given. Nothing is left behind when
 * the body fails verification. A negative threshold always makes a blob (multipart parts are
 * always blobs, even empty ones); the threshold applies to the bytes stored (ciphertext).
 */
export async function ingestBody(
  blobs: BlobStore,
  body: ObjectBody,
  inlineThreshold: number,
  cipher?: StreamCipher,
): Promise<IngestedData> {
  const stored = (n: number) => (cipher ? cipherLength(n) : n);
  const source = body.stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  let writer: BlobWriter | undefined;
  let flushed: Promise<void> | undefined;
  try {
    // A declared length above the threshold goes straight to a file; an unknown one is gathered
    // in memory up to the threshold first.
    let toBlob = inlineThreshold < 0 || (body.length !== undefined && stored(body.length) > inlineThreshold);
    while (!toBlob) {
      const r = await source.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headLength += r.value.length;
      if (stored(headLength) > inlineThreshold) toBlob = true;
    }
    if (!toBlob) {
      const digests = await body.finish();
      const plain = head.length === 1 ? head[0]! : Buffer.concat(head, headLength);
      return { location: { kind: 'inline', bytes: cipher ? encryptBuffer(cipher.key, cipher.salt, plain) : plain }, digests };
    }
    writer = blobs.create();
    if (cipher) {
      for await (const chunk of encrypting(head, ended ? undefined : source, cipher, body.length)) await writer.write(chunk);
    } else {
      for (const h of head) await writer.write(h);
      while (!ended) {
        const r = await source.next();
        if (r.done) break;
        await writer.write(r.value);
      }
    }
    // The blob's fsync and the body's verification overlap; a body that fails verification
    // waits for the fsync to settle, then its blob is removed (abort).
    flushed = writer.finish();
    flushed.catch(() => undefined);
    const digests = await body.finish();
    await flushed;
    return { location: { kind: 'blob', blobId: writer.id }, digests };
  } catch (e) {
    // As a for-await loop would: the body's reader learns that nobody reads on. Not awaited: a
    // read-ahead of the encrypting pipe may still wait on the network for its next chunk.
    source.return?.().catch(() => undefined);
    // An fsync under way must settle before the file is closed and removed.
    await flushed?.catch(() => undefined);
    await writer?.abort();
    throw e;
  }
}

/** The ciphertext of `head` followed by the rest of `rest`, with the pipe's backpressure. */
function encrypting(head: Buffer[], rest: AsyncIterator<Buffer> | undefined, cipher: StreamCipher, length: number | undefined): Transform {
  async function* plain(): AsyncGenerator<Buffer> {
    yield* head;
    if (!rest) return;
    for (;;) {
      const r = await rest.next();
      if (r.done) return;
      yield r.value;
    }
  }
  const enc = encryptStream(cipher.key, cipher.salt, length);
  // Errors of either side end both: a failing body fails the iteration over `enc`, and a
  // consumer that stops destroys `enc`, which stops reading the body.
  pipeline(Readable.from(plain(), { objectMode: false }), enc, () => undefined);
  return enc;
}

/**
 * The bytes [start, end] (inclusive) of an object, as a stream — or, for data kept inline, as
 * the buffer itself: small objects skip stream machinery entirely. Encrypted data is
 * authenticated and decrypted on the way (a tampered inline body throws CipherIntegrityError
 * here; a tampered blob fails the stream before the damaged chunk's bytes are emitted).
 */
export function readRange(blobs: BlobStore, loc: DataLocation, start: number, end: number, crypt?: DataKey): Readable | Buffer {
  if (loc.kind === 'inline') return (crypt ? openInline(loc.bytes, crypt) : loc.bytes).subarray(start, end + 1);
  return openRange(blobs, loc, start, end, crypt);
}

/**
 * Plaintext of inline bodies already opened, by their stored ciphertext (the Buffer of a version
 * record the metadata layer's cache shares between requests): a hot small object is decrypted
 * once while its record stays cached, instead of once per GET (~10% of a 4 KiB GET). Weak:
 * an entry lives as long as the record's bytes do. Only the body's cipher is skipped: every read
 * still opens the data key first (KMS key state, key policy, the SSE-C key's MD5).
 */
const openedInline = new WeakMap<Buffer, Buffer>();

function openInline(bytes: Buffer, crypt: DataKey): Buffer {
  if (!crypt.salt) throw new UnreadableData('encrypted inline data has no salt recorded');
  let plain = openedInline.get(bytes);
  if (!plain) {
    plain = decryptBuffer(crypt.key, crypt.salt, bytes, crypt.size);
    openedInline.set(bytes, plain);
  }
  return plain;
}

function saltOf(p: PartRecord): Buffer {
  if (p.salt === undefined) throw new UnreadableData(`part ${p.partNumber} of an encrypted object has no salt recorded`);
  return Buffer.from(p.salt, 'base64');
}

/** The bytes [start, end] (inclusive) of an object, as a stream. */
export function openRange(blobs: BlobStore, loc: DataLocation, start: number, end: number, crypt?: DataKey): Readable {
  switch (loc.kind) {
    case 'none':
      return Readable.from([]);
    case 'inline':
      return Readable.from([(crypt ? openInline(loc.bytes, crypt) : loc.bytes).subarray(start, end + 1)], { objectMode: false });
    case 'blob': {
      if (!crypt) return blobs.read([{ blobId: loc.blobId, start, end }]);
      if (!crypt.salt) throw new UnreadableData('encrypted blob data has no salt recorded');
      const opening = openingRange(crypt.key, crypt.salt, crypt.size, start, end);
      if (opening) {
        const segment = { blobId: loc.blobId, start: opening.cipherStart, end: opening.cipherEnd, reader: opening.reader };
        const source = blobs.read([segment], CIPHER_READ_SIZE);
        return opening.exact ? source : through(source, opening.trim);
      }
      // The blob store's read buffers are the reader's alone: they may move to a cipher thread.
      const plan = decryptRange(crypt.key, crypt.salt, crypt.size, start, end, { ownsInput: true });
      return through(blobs.read([{ blobId: loc.blobId, start: plan.cipherStart, end: plan.cipherEnd }], CIPHER_READ_SIZE), plan.decipher);
    }
    case 'parts': {
      const segments: BlobSegment[] = [];
      const deciphers: Array<{ length: number; decipher: Transform }> = [];
      // Parts in the range share source buffers (decryptSegments splits them) unless only one is.
      let inRange = 0;
      for (let i = 0, o = 0; i < loc.parts.length; o += loc.parts[i]!.size, i++) {
        if (loc.parts[i]!.size > 0 && o <= end && o + loc.parts[i]!.size - 1 >= start) inRange++;
      }
      const alone = inRange === 1;
      let offset = 0;
      for (const p of loc.parts) {
        const pStart = offset;
        const pEnd = offset + p.size - 1;
        offset += p.size;
        if (pEnd < start || pStart > end || p.size === 0) continue;
        const lo = Math.max(start, pStart) - pStart;
        const hi = Math.min(end, pEnd) - pStart;
        if (!crypt) {
          segments.push({ blobId: p.blobId, start: lo, end: hi });
          continue;
        }
        const opening = openingRange(crypt.key, saltOf(p), p.size, lo, hi);
        if (opening) {
          // Each part's reads yield its plaintext: decryptSegments splits by plaintext lengths.
          segments.push({ blobId: p.blobId, start: opening.cipherStart, end: opening.cipherEnd, reader: opening.reader });
          deciphers.push({ length: opening.plainLength, decipher: opening.trim });
          continue;
        }
        const plan = decryptRange(crypt.key, saltOf(p), p.size, lo, hi, { ownsInput: alone });
        segments.push({ blobId: p.blobId, start: plan.cipherStart, end: plan.cipherEnd });
        deciphers.push({ length: plan.cipherEnd - plan.cipherStart + 1, decipher: plan.decipher });
      }
      if (!segments.length) return Readable.from([]);
      // One read of every segment: the blobs are pinned together, from the start.
      const source = blobs.read(segments, crypt ? CIPHER_READ_SIZE : undefined);
      if (!crypt) return source;
      if (deciphers.length === 1) return through(source, deciphers[0]!.decipher);
      return Readable.from(decryptSegments(source, deciphers), { objectMode: false });
    }
  }
}

/**
 * `source` through `t`; an error of either destroys both (the source's blobs are unpinned).
 * Wired by hand: the callback form of stream.pipeline allocates an AbortController and an
 * AbortError (a DOMException) per call, ~4% of an encrypted 1 MiB GET.
 */
function through(source: Readable, t: Transform): Transform {
  source.once('error', (e) => t.destroy(e));
  source.once('close', () => {
    if (!source.readableEnded && !t.destroyed) t.destroy(new Error('stored data stream closed before its end'));
  });
  t.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(t);
  return t;
}

/**
 * Splits one stream of consecutive segments (the parts of a multipart object, as ciphertext or
 * as the plaintext an opening reader yields) among their own deciphers, in order. Plaintext
 * waits in memory for at most one source chunk.
 */
async function* decryptSegments(source: Readable, segments: Array<{ length: number; decipher: Transform }>): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  for (const s of segments) {
    s.decipher.on('data', (b: Buffer) => out.push(b));
    // Failures surface through the write callbacks and the awaited 'end'.
    s.decipher.on('error', () => undefined);
  }
  let i = 0;
  let left = segments[0]!.length;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        if (i >= segments.length) throw new CipherIntegrityError('more ciphertext than the parts need');
        const cur = segments[i]!.decipher;
        const n = Math.min(left, chunk.length - off);
        // A chunk that lies within one part goes on as it is: a slice would lose its recyclable
        // mark, and every 1 MiB read of a multipart GET would be left to the GC (RSS then grew
        // by ~70 MiB over a 1 GiB GET, and how far depended on when V8 collected).
        const piece = off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n);
        await new Promise<void>((resolve, reject) => cur.write(piece, (e) => (e ? reject(e) : resolve())));
        off += n;
        left -= n;
        if (left === 0) {
          const ended = once(cur, 'end');
          cur.end();
          await ended;
          i++;
          if (i < segments.length) left = segments[i]!.length;
        }
        while (out.length) yield out.shift()!;
      }
    }
    if (i < segments.length) throw new CipherIntegrityError(`object data is truncated: part ${i + 1} of the range is incomplete`);
    while (out.length) yield out.shift()!;
  } finally {
    source.destroy();
    for (const s of segments) if (!s.decipher.destroyed) s.decipher.destroy();
  }
}

/**
 * The stored bytes of data as they are (ciphertext when encrypted), for copies that keep them
 * encrypted (SSE-C replicas). `length` is what was stored.
 */
export function openStored(blobs: BlobStore, loc: DataLocation, storedLength: number): Readable {
  if (loc.kind === 'inline') return Readable.from([loc.bytes], { objectMode: false });
  if (loc.kind === 'blob' && storedLength > 0) return blobs.read([{ blobId: loc.blobId, start: 0, end: storedLength - 1 }]);
  return Readable.from([]);
}

/** Bytes a body of `size` plaintext bytes occupies in storage. */
export function storedLength(size: number, encrypted: boolean): number {
  return encrypted ? cipherLength(size) : size;
}

/** Deletes the blobs of replaced or deleted data. Failures are left to the orphan sweep. */
export async function freeData(blobs: BlobStore, locations: DataLocation[]): Promise<void> {
  for (const loc of locations) {
    const ids = loc.kind === 'blob' ? [loc.blobId] : loc.kind === 'parts' ? loc.parts.map((p) => p.blobId) : [];
    for (const id of ids) await blobs.delete(id).catch(() => undefined);
  }
}
