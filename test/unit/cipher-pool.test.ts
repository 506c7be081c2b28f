import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cipherThreadCount, runCipherJob, setCipherThreads, stopCipherThreads } from '../../src/crypto/cipher-pool.js';
import {
  CIPHER_CHUNK,
  CIPHER_TAG,
  CipherIntegrityError,
  cipherLength,
  decryptBuffer,
  decryptRange,
  encryptBuffer,
  encryptStream,
  newSalt,
} from '../../src/crypto/object-cipher.js';

const KEY = crypto.randomBytes(32);
const SEALED = CIPHER_CHUNK + CIPHER_TAG;
/** Around the offload threshold (4 chunks) and the sealing batch (16 chunks). */
const LENGTHS = [4 * CIPHER_CHUNK, 4 * CIPHER_CHUNK + 1, 16 * CIPHER_CHUNK, 16 * CIPHER_CHUNK + 1, 33 * CIPHER_CHUNK - 7];
const initialThreads = cipherThreadCount();

/** A buffer that owns its whole ArrayBuffer, as a file read stream's do. */
function whole(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}

/** Splits into whole buffers of `size` bytes (the last shorter). */
function split(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(whole(b.subarray(i, i + size)));
  return out;
}

async function collect(source: Buffer[], t: NodeJS.ReadWriteStream, seen?: Buffer[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      seen?.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(source, { objectMode: false }), t, sink);
  return Buffer.concat(parts);
}

const integrity = (e: unknown): boolean => e instanceof CipherIntegrityError;

describe('cipher threads', () => {
  after(async () => {
    setCipherThreads(initialThreads);
    await stopCipherThreads();
  });

  for (const threads of [0, 1, 2]) {
    it(`with ${threads} thread(s): streams equal the in-place buffer functions, whole and ranged`, async () => {
      setCipherThreads(threads);
      for (const n of LENGTHS) {
        const plain = crypto.randomBytes(n);
        const salt = newSalt();
        const sealed = encryptBuffer(KEY, salt, plain);
        assert.equal(sealed.length, cipherLength(n));
        assert.deepEqual(decryptBuffer(KEY, salt, sealed, n), plain);
        // Fed in 1 MiB and in odd pieces: the same ciphertext (same key, salt, nonces).
        assert.deepEqual(await collect(split(plain, 1 << 20), encryptStream(KEY, salt)), sealed, `encrypt ${n} by MiB`);
        assert.deepEqual(await collect(split(plain, 100_003), encryptStream(KEY, salt)), sealed, `encrypt ${n} by odd pieces`);
        // The length hint sizes the first batch; a wrong one costs memory, never bytes.
        for (const hint of [n, 0, 10, n + 1, 2 * n]) {
          assert.deepEqual(await collect(split(plain, 300_007), encryptStream(KEY, salt, hint)), sealed, `encrypt ${n} with hint ${hint}`);
        }
        const ranges: Array<[number, number]> = [
          [0, n - 1],
          [1, n - 2],
          [CIPHER_CHUNK - 1, n - CIPHER_CHUNK],
          [5 * CIPHER_CHUNK + 3, n - 1],
        ];
        for (const [s, e] of ranges) {
          if (e < s || e >= n) continue;
          for (const [size, owns] of [
            [1 << 20, true],
            [1 << 20, false],
            [SEALED * 4, true],
            [777_777, true],
          ] as const) {
            const plan = decryptRange(KEY, salt, n, s, e, { ownsInput: owns });
            const input = split(sealed.subarray(plan.cipherStart, plan.cipherEnd + 1), size);
            const got = await collect(input, plan.decipher);
            assert.deepEqual(got, plain.subarray(s, e + 1), `range ${s}-${e} of ${n}, ${size}-byte reads, owns ${owns}`);
            // Buffers not offered are never taken (detached) from their owner.
            if (!owns) assert.ok(input.every((b) => b.length > 0), 'an input buffer was detached');
          }
        }
      }
    });
  }

  it('a tampered chunk in an offloaded run fails it, and none of its plaintext is emitted', async () => {
    setCipherThreads(1);
    const n = 20 * CIPHER_CHUNK + 9;
    const plain = crypto.randomBytes(n);
    const salt = newSalt();
    for (const at of [3, 5 * SEALED + 100, 15 * SEALED + SEALED - 1, cipherLength(n) - 1]) {
      const bad = encryptBuffer(KEY, salt, plain);
      bad[at]! ^= 0x01;
      const emitted: Buffer[] = [];
      await assert.rejects(collect(split(bad, 1 << 20), decryptRange(KEY, salt, n, 0, n - 1, { ownsInput: true }).decipher, emitted), integrity, `byte ${at}`);
      const out = Buffer.concat(emitted);
      // Whatever came out precedes the damaged chunk and is the true plaintext.
      assert.ok(out.length <= Math.floor(at / SEALED) * CIPHER_CHUNK, `emitted ${out.length} bytes, damage at ${at}`);
      assert.deepEqual(out, plain.subarray(0, out.length));
    }
  });

  it('truncated or extended ciphertext fails in an offloaded run', async () => {
    setCipherThreads(1);
    const n = 8 * CIPHER_CHUNK + 5;
    const salt = newSalt();
    const sealed = encryptBuffer(KEY, salt, crypto.randomBytes(n));
    const read = (b: Buffer) => collect(split(b, 1 << 20), decryptRange(KEY, salt, n, 0, n - 1, { ownsInput: true }).decipher);
    await assert.rejects(read(sealed.subarray(0, sealed.length - 1)), integrity);
    await assert.rejects(read(sealed.subarray(0, 8 * SEALED)), integrity);
    await assert.rejects(read(Buffer.concat([sealed, Buffer.alloc(3)])), integrity);
    // A stream sealed as longer (no final flag on chunk 7) does not pass for this one.
    const longer = encryptBuffer(KEY, salt, crypto.randomBytes(9 * CIPHER_CHUNK));
    await assert.rejects(
      collect(split(longer.subarray(0, 8 * SEALED), 1 << 20), decryptRange(KEY, salt, 8 * CIPHER_CHUNK, 0, 8 * CIPHER_CHUNK - 1, { ownsInput: true }).decipher),
      integrity,
    );
  });

  it('a worker that goes away fails the jobs it held; the next job starts another', async () => {
    setCipherThreads(1);
    const n = 64 * CIPHER_CHUNK;
    const plain = crypto.randomBytes(n);
    const salt = newSalt();
    const sealed = encryptBuffer(KEY, salt, plain);
    // A job surely held by the worker when it goes: posted, then the worker stopped at once.
    const big = 512 * CIPHER_CHUNK;
    const held = runCipherJob({ op: 'seal', key: new Uint8Array(32), first: 0, plainLength: big, lastFinal: true }, new ArrayBuffer(big + 512 * CIPHER_TAG));
    const stopped = stopCipherThreads();
    await assert.rejects(held, (e: Error) => !integrity(e) && /cipher worker exited/.test(e.message));
    await stopped;
    const again = decryptRange(KEY, salt, n, 0, n - 1, { ownsInput: true });
    assert.deepEqual(await collect(split(sealed, 1 << 20), again.decipher), plain);
  });

  it('rejects a thread count out of range', () => {
    assert.throws(() => setCipherThreads(-1), RangeError);
    assert.throws(() => setCipherThreads(1.5), RangeError);
    assert.throws(() => setCipherThreads(65), RangeError);
  });
});
