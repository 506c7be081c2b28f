import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CIPHER_CHUNK,
  CIPHER_SALT,
  CIPHER_TAG,
  CipherIntegrityError,
  cipherLength,
  decryptBuffer,
  decryptRange,
  encryptBuffer,
  encryptStream,
  newSalt,
} from '../../src/crypto/object-cipher.js';
import { hkdfSha256 } from '../../src/crypto/hkdf.js';
import { randomFromPool } from '../../src/random-pool.js';

const KEY = crypto.randomBytes(32);
const SEALED = CIPHER_CHUNK + CIPHER_TAG;
const LENGTHS = [0, 1, 65535, 65536, 65537, 3 * 65536 + 5];

/** Deterministic pseudo-random bytes so a failure reproduces. */
function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function collect(source: Iterable<Buffer> | AsyncIterable<Buffer>, ...transforms: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(source, { objectMode: false }), ...(transforms as [NodeJS.ReadWriteStream]), sink);
  return Buffer.concat(parts);
}

/** Splits a buffer into pieces of awkward, varying sizes. */
function pieces(buf: Buffer, sizes = [1, 7, 4093, 65535, 65537, 131073, 3]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let s = 0;
  while (i < buf.length) {
    const n = sizes[s++ % sizes.length]!;
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

async function readRange(cipher: Buffer, salt: Buffer, plainLength: number, start: number, end: number, key = KEY): Promise<Buffer> {
  const { cipherStart, cipherEnd, decipher } = decryptRange(key, salt, plainLength, start, end);
  return collect(pieces(cipher.subarray(cipherStart, cipherEnd + 1), [5, 70001, 16, 1]), decipher);
}

function integrity(err: unknown): boolean {
  return err instanceof CipherIntegrityError;
}

describe('object cipher', () => {
  it('cipherLength counts one tag per chunk and one empty chunk for an empty body', () => {
    assert.equal(cipherLength(0), CIPHER_TAG);
    assert.equal(cipherLength(1), 1 + CIPHER_TAG);
    assert.equal(cipherLength(65536), 65536 + CIPHER_TAG);
    assert.equal(cipherLength(65537), 65537 + 2 * CIPHER_TAG);
    assert.equal(cipherLength(3 * 65536 + 5), 3 * 65536 + 5 + 4 * CIPHER_TAG);
    assert.equal(newSalt().length, CIPHER_SALT);
    assert.notDeepEqual(newSalt(), newSalt());
  });

  it('buffer round trips and whole/random ranges match plaintext slices', async () => {
    for (const n of LENGTHS) {
      const plain = bytes(n, n + 1);
      const salt = newSalt();
      const cipher = encryptBuffer(KEY, salt, plain);
      assert.equal(cipher.length, cipherLength(n));
      assert.ok(n < 16 || !cipher.subarray(0, 16).equals(plain.subarray(0, 16)), 'ciphertext differs from plaintext');
      assert.deepEqual(decryptBuffer(KEY, salt, cipher, n), plain);
      assert.deepEqual(await readRange(cipher, salt, n, 0, n - 1), plain, `full range of ${n}`);
      if (n === 0) continue;
      const edges: Array<[number, number]> = [
        [0, 0],
        [n - 1, n - 1],
        [0, Math.min(n, CIPHER_CHUNK) - 1],
        [Math.max(0, n - CIPHER_CHUNK), n - 1],
      ];
      if (n > CIPHER_CHUNK) edges.push([CIPHER_CHUNK - 1, CIPHER_CHUNK], [CIPHER_CHUNK, n - 1], [CIPHER_CHUNK - 3, CIPHER_CHUNK - 1]);
      const rnd = bytes(200, n);
      for (let k = 0; k < 40; k++) {
        const a = rnd.readUInt32LE(k * 4 % 196) % n;
        const b = rnd.readUInt32LE((k * 4 + 2) % 196) % n;
        edges.push([Math.min(a, b), Math.max(a, b)]);
      }
      for (const [s, e] of edges) {
        const got = await readRange(cipher, salt, n, s, e);
        assert.deepEqual(got, plain.subarray(s, e + 1), `range ${s}-${e} of ${n}`);
      }
    }
  });

  it('the format is AES-256-GCM per chunk under the stream subkey, nonce and AAD from the index (whichever cipher built it)', () => {
    const salt = newSalt();
    const streamKey = hkdfSha256(KEY, salt, Buffer.from('xregion/object-chunks/v1'), 32);
    for (const n of [0, 65536, 3 * 65536 + 5]) {
      const plain = bytes(n, 11);
      const sealed = encryptBuffer(KEY, salt, plain);
      const chunks = n === 0 ? 1 : Math.ceil(n / CIPHER_CHUNK);
      const opened: Buffer[] = [];
      for (let i = 0; i < chunks; i++) {
        const end = Math.min((i + 1) * SEALED, sealed.length);
        const nonce = Buffer.alloc(12);
        nonce.writeBigUInt64BE(BigInt(i), 4);
        const aad = Buffer.alloc(9);
        aad.writeBigUInt64BE(BigInt(i), 0);
        aad[8] = i === chunks - 1 ? 1 : 0;
        const d = crypto.createDecipheriv('aes-256-gcm', streamKey, nonce);
        d.setAAD(aad);
        d.setAuthTag(sealed.subarray(end - CIPHER_TAG, end));
        opened.push(d.update(sealed.subarray(i * SEALED, end - CIPHER_TAG)), d.final());
      }
      assert.ok(Buffer.concat(opened).equals(plain), `${n} bytes`);
    }
  });

  it('ranges read only the chunks they cover', () => {
    const n = 3 * 65536 + 5;
    const salt = newSalt();
    const inside = decryptRange(KEY, salt, n, 65536 + 10, 65536 + 20);
    assert.equal(inside.cipherStart, SEALED);
    assert.equal(inside.cipherEnd, 2 * SEALED - 1);
    const tail = decryptRange(KEY, salt, n, n - 1, n - 1);
    assert.equal(tail.cipherStart, 3 * SEALED);
    assert.equal(tail.cipherEnd, cipherLength(n) - 1);
    const empty = decryptRange(KEY, salt, 0, 0, -1);
    assert.equal(empty.cipherStart, 0);
    assert.equal(empty.cipherEnd, CIPHER_TAG - 1);
    assert.throws(() => decryptRange(KEY, salt, 10, 5, 10), RangeError);
    assert.throws(() => decryptRange(KEY, salt, 10, 5, 3), RangeError);
  });

  it('an empty range still authenticates the chunk it names', async () => {
    const salt = newSalt();
    const cipher = encryptBuffer(KEY, salt, Buffer.alloc(0));
    assert.equal((await readRange(cipher, salt, 0, 0, -1)).length, 0);
    const bad = Buffer.from(cipher);
    bad[3]! ^= 1;
    await assert.rejects(readRange(bad, salt, 0, 0, -1), integrity);
    // A 0-byte object whose blob was replaced by an encrypted non-empty chunk does not pass.
    const other = encryptBuffer(KEY, salt, Buffer.from('x'));
    await assert.rejects(readRange(other.subarray(0, CIPHER_TAG), salt, 0, 0, -1), integrity);
  });

  it('streamed encryption fed in odd-size pieces equals encryptBuffer', async () => {
    for (const n of [...LENGTHS, 2 * 65536, 5 * 65536 + 65535]) {
      const plain = bytes(n, 7 + n);
      const salt = newSalt();
      const streamed = await collect(pieces(plain), encryptStream(KEY, salt));
      assert.deepEqual(streamed, encryptBuffer(KEY, salt, plain), `length ${n}`);
      const single = await collect(n ? [plain] : [], encryptStream(KEY, salt));
      assert.deepEqual(single, streamed, `length ${n} in one write`);
    }
  });

  it('flipping any byte of a chunk or its tag fails', async () => {
    const n = 2 * 65536 + 100;
    const plain = bytes(n, 3);
    const salt = newSalt();
    const cipher = encryptBuffer(KEY, salt, plain);
    const positions = [0, 1, 65535, SEALED - CIPHER_TAG, SEALED - 1, SEALED, SEALED + 500, cipher.length - CIPHER_TAG - 1, cipher.length - 1];
    for (let k = 0; k < 20; k++) positions.push(crypto.randomInt(cipher.length));
    for (const p of positions) {
      const bad = Buffer.from(cipher);
      bad[p]! ^= 0x40;
      assert.throws(() => decryptBuffer(KEY, salt, bad, n), integrity, `byte ${p}`);
      await assert.rejects(readRange(bad, salt, n, 0, n - 1), integrity, `stream, byte ${p}`);
      const chunk = Math.floor(p / SEALED);
      const s = chunk * CIPHER_CHUNK;
      await assert.rejects(readRange(bad, salt, n, s, Math.min(n - 1, s + 3)), integrity, `range over chunk ${chunk}, byte ${p}`);
    }
  });

  it('no plaintext of a tampered chunk is emitted before the failure', async () => {
    const n = 3 * 65536;
    const plain = bytes(n, 11);
    const salt = newSalt();
    const bad = encryptBuffer(KEY, salt, plain);
    bad[SEALED + 5]! ^= 1;
    const { decipher } = decryptRange(KEY, salt, n, 0, n - 1);
    const got: Buffer[] = [];
    decipher.on('data', (c: Buffer) => got.push(c));
    await assert.rejects(pipeline(Readable.from(pieces(bad, [1000])), decipher), integrity);
    const emitted = Buffer.concat(got);
    assert.ok(emitted.length <= CIPHER_CHUNK, `emitted ${emitted.length} bytes`);
    assert.deepEqual(emitted, plain.subarray(0, emitted.length));
  });

  it('truncation, dropped and swapped chunks fail', async () => {
    const n = 3 * 65536 + 5;
    const plain = bytes(n, 5);
    const salt = newSalt();
    const cipher = encryptBuffer(KEY, salt, plain);
    const c = (i: number) => cipher.subarray(i * SEALED, Math.min(cipher.length, (i + 1) * SEALED));

    // Last chunk cut short, or gone: the stored length no longer matches.
    const cut = cipher.subarray(0, cipher.length - 3);
    assert.throws(() => decryptBuffer(KEY, salt, cut, n), integrity);
    await assert.rejects(collect([cut], decryptRange(KEY, salt, n, 0, n - 1).decipher), integrity);
    const dropped = Buffer.concat([c(0), c(1), c(2)]);
    assert.throws(() => decryptBuffer(KEY, salt, dropped, n), integrity);
    await assert.rejects(collect([dropped], decryptRange(KEY, salt, n, 0, n - 1).decipher), integrity);
    await assert.rejects(collect([], decryptRange(KEY, salt, n, 0, n - 1).decipher), integrity);

    // Even if the length were believed from the truncated blob, the final flag catches it.
    assert.throws(() => decryptBuffer(KEY, salt, dropped, 3 * 65536), integrity);
    assert.throws(() => decryptBuffer(KEY, salt, c(0), 65536), integrity);

    // Reordering full chunks keeps every length right; the index in the nonce/AAD catches it.
    const swapped = Buffer.concat([c(1), c(0), c(2), c(3)]);
    assert.equal(swapped.length, cipher.length);
    assert.throws(() => decryptBuffer(KEY, salt, swapped, n), integrity);
    await assert.rejects(readRange(swapped, salt, n, 0, n - 1), integrity);
    await assert.rejects(readRange(swapped, salt, n, 10, 20), integrity);

    // Trailing garbage beyond the planned range is rejected too.
    await assert.rejects(collect([Buffer.concat([cipher, Buffer.alloc(1)])], decryptRange(KEY, salt, n, 0, n - 1).decipher), integrity);
  });

  it('wrong key or wrong salt fails; the same key with two salts gives unrelated ciphertexts', async () => {
    const plain = bytes(70000, 9);
    const salt = newSalt();
    const cipher = encryptBuffer(KEY, salt, plain);
    const otherKey = crypto.randomBytes(32);
    const otherSalt = newSalt();
    assert.throws(() => decryptBuffer(otherKey, salt, cipher, plain.length), integrity);
    assert.throws(() => decryptBuffer(KEY, otherSalt, cipher, plain.length), integrity);
    await assert.rejects(readRange(cipher, salt, plain.length, 0, 10, otherKey), integrity);
    await assert.rejects(readRange(cipher, otherSalt, plain.length, 0, 10), integrity);
    const again = encryptBuffer(KEY, otherSalt, plain);
    assert.notDeepEqual(again.subarray(0, 64), cipher.subarray(0, 64));
    assert.throws(() => encryptBuffer(Buffer.alloc(16), salt, plain), RangeError);
    assert.throws(() => encryptStream(KEY, Buffer.alloc(8)), RangeError);
  });

  it('streams 200 MiB each way with bounded memory', async () => {
    const total = 200 * 1024 * 1024;
    const piece = bytes(1_000_003, 13);
    async function* source(): AsyncGenerator<Buffer> {
      let sent = 0;
      while (sent < total) {
        const n = Math.min(piece.length, total - sent);
        yield piece.subarray(0, n);
        sent += n;
      }
    }
    const salt = newSalt();
    // The cipher threads are started first: a fixed cost of the process, not of the stream.
    await collect([Buffer.alloc(1 << 20)], encryptStream(KEY, salt));
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let cipherBytes = 0;
    let plainBytes = 0;
    let mismatch = -1;
    const { cipherStart, cipherEnd, decipher } = decryptRange(KEY, salt, total, 0, total - 1);
    assert.equal(cipherStart, 0);
    assert.equal(cipherEnd, cipherLength(total) - 1);
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        cipherBytes += chunk.length;
        cb(null, chunk);
      },
    });
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        // Spot-check content against the repeating source pattern.
        const at = plainBytes % piece.length;
        const head = chunk.subarray(0, 8);
        if (mismatch < 0 && at + head.length <= piece.length && !head.equals(piece.subarray(at, at + head.length))) {
          mismatch = plainBytes;
        }
        plainBytes += chunk.length;
        const rss = process.memoryUsage().rss;
        if (rss > peak) peak = rss;
        cb();
      },
    });
    await pipeline(Readable.from(source()), encryptStream(KEY, salt), counter, decipher, sink);
    assert.equal(cipherBytes, cipherLength(total));
    assert.equal(plainBytes, total);
    assert.equal(mismatch, -1, `content differs at ${mismatch}`);
    const growth = peak - before;
    assert.ok(growth < 64 * 1024 * 1024, `rss grew by ${(growth / 1048576).toFixed(1)} MiB`);
  });
});

describe('hkdfSha256 and pooled randomness', () => {
  it('derives the same bytes as crypto.hkdfSync', () => {
    for (let i = 0; i < 50; i++) {
      const ikm = crypto.randomBytes(1 + (i % 64));
      const salt = crypto.randomBytes(i % 3 === 0 ? 0 : 16 + (i % 70));
      const info = crypto.randomBytes(i % 40);
      for (const len of [32, 16, 1]) {
        assert.deepEqual(hkdfSha256(ikm, salt, info, len), Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, len)), `case ${i}, ${len} bytes`);
      }
    }
    assert.throws(() => hkdfSha256(Buffer.alloc(1), Buffer.alloc(0), Buffer.alloc(0), 33), RangeError);
  });

  it('pooled draws never overlap and are never handed out twice', () => {
    const draws = Array.from({ length: 2000 }, (_, i) => randomFromPool(1 + (i % 60)));
    const seen = new Set<string>();
    for (const d of draws) {
      if (d.length < 8) continue;
      const hex = d.toString('hex');
      assert.ok(!seen.has(hex));
      seen.add(hex);
    }
    // Draws from one block are disjoint ranges of it.
    const a = randomFromPool(16);
    const b = randomFromPool(16);
    if (a.buffer === b.buffer) assert.ok(a.byteOffset + 16 <= b.byteOffset);
    assert.equal(randomFromPool(5000).length, 5000);
  });
});
