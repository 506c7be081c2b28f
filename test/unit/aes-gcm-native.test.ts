/**
 * The native AES-256-GCM addon (native/aes_gcm.c) against node:crypto: same bytes and tags, in
 * place or into another buffer; a wrong tag, nonce, AAD or byte fails and leaves no plaintext;
 * every malformed call throws instead of touching memory it was not given. readOpen (read and
 * open sealed chunks of a file in one thread-pool job) against a stream sealed here with
 * node:crypto in object-cipher.ts's chunk format: whole and partial runs, damaged, reordered,
 * relabelled and short data, malformed calls.
 *
 * Where the addon was not built (no C compiler), these tests are skipped and say so; CI sets
 * XREGION_NATIVE_CIPHER=require, under which a missing addon fails the load instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nativeAesGcm, type AesGcmBinding } from '../../src/crypto/aes-gcm-native.js';

const g = nativeAesGcm();
const skip = g ? false : 'native AES-GCM addon not built or disabled (XREGION_NATIVE_CIPHER)';

function reference(key: Buffer, nonce: Buffer, aad: Buffer, plain: Buffer): { cipher: Buffer; tag: Buffer } {
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  if (aad.length) c.setAAD(aad);
  const cipher = Buffer.concat([c.update(plain), c.final()]);
  return { cipher, tag: c.getAuthTag() };
}

describe('native AES-256-GCM', { skip }, () => {
  const native = g as AesGcmBinding;
  const key = crypto.randomBytes(32);
  const nonce = crypto.randomBytes(12);

  it('seals and opens as node:crypto does, in place and into another buffer', () => {
    for (const n of [0, 1, 15, 16, 17, 4096, 65535, 65536, 200_003]) {
      for (const aad of [Buffer.alloc(0), crypto.randomBytes(9), crypto.randomBytes(1024)]) {
        const plain = crypto.randomBytes(n);
        const want = reference(key, nonce, aad, plain);
        const out = Buffer.alloc(n);
        const tag = Buffer.alloc(16);
        native.seal(key, nonce, aad, plain, out, tag);
        assert.ok(out.equals(want.cipher) && tag.equals(want.tag), `seal of ${n} bytes, aad ${aad.length}`);
        const inPlace = Buffer.from(plain);
        const tag2 = Buffer.alloc(16);
        native.seal(key, nonce, aad, inPlace, inPlace, tag2);
        assert.ok(inPlace.equals(want.cipher) && tag2.equals(want.tag), `in-place seal of ${n}`);
        const opened = Buffer.alloc(n);
        assert.equal(native.open(key, nonce, aad, want.cipher, opened, want.tag), true);
        assert.ok(opened.equals(plain), `open of ${n}`);
        assert.equal(native.open(key, nonce, aad, inPlace, inPlace, tag2), true);
        assert.ok(inPlace.equals(plain), `in-place open of ${n}`);
      }
    }
  });

  it('works on views inside larger buffers (offsets are honoured)', () => {
    const big = crypto.randomBytes(10_000);
    const plain = Buffer.from(big.subarray(1_001, 5_001));
    const want = reference(key, nonce, Buffer.alloc(0), plain);
    const data = big.subarray(1_001, 5_001);
    const tag = big.subarray(6_000, 6_016);
    const before = Buffer.from(big);
    native.seal(key, nonce, Buffer.alloc(0), data, data, tag);
    assert.ok(data.equals(want.cipher) && tag.equals(want.tag));
    // Nothing outside the two views changed.
    assert.ok(big.subarray(0, 1_001).equals(before.subarray(0, 1_001)));
    assert.ok(big.subarray(5_001, 6_000).equals(before.subarray(5_001, 6_000)));
    assert.ok(big.subarray(6_016).equals(before.subarray(6_016)));
  });

  it('refuses a wrong tag, nonce, AAD, key or byte, and wipes what it decrypted', () => {
    const aad = Buffer.from('chunk 7, final');
    const plain = crypto.randomBytes(70_000);
    const { cipher, tag } = reference(key, nonce, aad, plain);
    const flip = (b: Buffer, i: number) => {
      const c = Buffer.from(b);
      c[i]! ^= 0x01;
      return c;
    };
    const cases: [string, Buffer, Buffer, Buffer, Buffer, Buffer][] = [
      ['tag', key, nonce, aad, cipher, flip(tag, 15)],
      ['nonce', key, flip(nonce, 0), aad, cipher, tag],
      ['aad', key, nonce, flip(aad, 3), cipher, tag],
      ['key', flip(key, 31), nonce, aad, cipher, tag],
      ['first byte', key, nonce, aad, flip(cipher, 0), tag],
      ['last byte', key, nonce, aad, flip(cipher, cipher.length - 1), tag],
    ];
    for (const [what, k, iv, a, c, t] of cases) {
      const data = Buffer.from(c);
      assert.equal(native.open(k, iv, a, data, data, t), false, what);
      assert.ok(data.every((b) => b === 0), `${what}: unauthenticated plaintext wiped`);
    }
  });

  it('throws on malformed calls and leaves the buffers as they were', () => {
    const data = crypto.randomBytes(1000);
    const copy = Buffer.from(data);
    const tag = Buffer.alloc(16);
    const none = Buffer.alloc(0);
    const bad: [string, () => unknown][] = [
      ['short key', () => native.seal(key.subarray(1), nonce, none, data, data, tag)],
      ['long nonce', () => native.seal(key, Buffer.alloc(13), none, data, data, tag)],
      ['short tag', () => native.open(key, nonce, none, data, data, tag.subarray(1))],
      ['output shorter', () => native.seal(key, nonce, none, data, data.subarray(1), tag)],
      ['partial overlap', () => native.seal(key, nonce, none, data.subarray(0, 500), data.subarray(1, 501), tag)],
      ['tag inside the data', () => native.seal(key, nonce, none, data, data, data.subarray(100, 116))],
      ['aad over 1 KiB', () => native.seal(key, nonce, Buffer.alloc(1025), data, data, tag)],
      ['string', () => native.seal(key, nonce, none, 'abc' as unknown as Uint8Array, data, tag)],
      ['Uint16Array', () => native.seal(key, nonce, none, new Uint16Array(500) as unknown as Uint8Array, data, tag)],
      ['DataView', () => native.seal(key, nonce, none, new DataView(data.buffer) as unknown as Uint8Array, data, tag)],
      ['too few arguments', () => (native.seal as (...a: unknown[]) => void)(key, nonce, none, data, data)],
    ];
    for (const [what, call] of bad) {
      assert.throws(call, /aes_gcm:/, what);
      assert.ok(data.equals(copy), `${what}: data untouched`);
    }
  });

  it('runs in worker threads too (one module instance per thread)', async () => {
    const { Worker } = await import('node:worker_threads');
    const url = new URL('../../src/crypto/aes-gcm-native.js', import.meta.url).href;
    const source = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(url)}).then(({ nativeAesGcm }) => {
        const g = nativeAesGcm();
        const k = Buffer.alloc(32, 1), iv = Buffer.alloc(12, 2), d = Buffer.alloc(64, 3), t = Buffer.alloc(16);
        g.seal(k, iv, Buffer.alloc(0), d, d, t);
        parentPort.postMessage(Buffer.concat([d, t]).toString('hex'));
      });`;
    const w = new Worker(source, { eval: true });
    const got = await new Promise<string>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    const want = reference(Buffer.alloc(32, 1), Buffer.alloc(12, 2), Buffer.alloc(0), Buffer.alloc(64, 3));
    assert.equal(got, Buffer.concat([want.cipher, want.tag]).toString('hex'));
  });
});

const CHUNK = 65536;
const SEALED = CHUNK + 16;

/** Chunk i's nonce and AAD as object-cipher.ts writes them: i as uint64 BE, then the final flag. */
function chunkNonceAad(i: number, final: boolean): { nonce: Buffer; aad: Buffer } {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(i), 4);
  const aad = Buffer.alloc(9);
  aad.writeBigUInt64BE(BigInt(i), 0);
  aad[8] = final ? 1 : 0;
  return { nonce, aad };
}

/** A sealed stream of `plain`, sealed with node:crypto (independent of the addon). */
function sealStream(key: Buffer, plain: Buffer): Buffer {
  const n = plain.length === 0 ? 1 : Math.ceil(plain.length / CHUNK);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const { nonce, aad } = chunkNonceAad(i, i === n - 1);
    const { cipher, tag } = reference(key, nonce, aad, plain.subarray(i * CHUNK, (i + 1) * CHUNK));
    parts.push(cipher, tag);
  }
  return Buffer.concat(parts);
}

describe('native readOpen (read and open sealed chunks in one thread-pool job)', { skip }, () => {
  const native = g as AesGcmBinding;
  const key = crypto.randomBytes(32);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-readopen-'));
  let fileNo = 0;

  function fileOf(bytes: Buffer): number {
    const file = path.join(dir, `f${fileNo++}`);
    fs.writeFileSync(file, bytes);
    return fs.openSync(file, 'r');
  }

  function readOpen(fd: number, position: number, length: number, buf: Buffer, first: number, finalIndex: number, k = key) {
    return new Promise<{ err: (Error & { code?: string }) | null; plainLength?: number }>((resolve) => {
      native.readOpen(fd, position, length, buf, k, first, finalIndex, (err, plainLength) => resolve({ err, plainLength }));
    });
  }

  it('opens whole streams and runs of chunks from any chunk on, as node:crypto sealed them', async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 4 * CHUNK + 1234]) {
      const plain = crypto.randomBytes(size);
      const sealed = sealStream(key, plain);
      const fd = fileOf(sealed);
      const finalIndex = size === 0 ? 0 : Math.ceil(size / CHUNK) - 1;
      for (let first = 0; first <= finalIndex; first++) {
        for (let last = first; last <= finalIndex; last++) {
          const position = first * SEALED;
          const length = Math.min(sealed.length, (last + 1) * SEALED) - position;
          const buf = Buffer.alloc(length + 100, 0xaa);
          const r = await readOpen(fd, position, length, buf, first, finalIndex);
          assert.equal(r.err, null, `size ${size}, chunks ${first}..${last}`);
          const want = plain.subarray(first * CHUNK, Math.min(size, (last + 1) * CHUNK));
          assert.equal(r.plainLength, want.length);
          assert.ok(buf.subarray(0, want.length).equals(want), `size ${size}, chunks ${first}..${last}`);
          assert.ok(buf.subarray(length).every((b) => b === 0xaa), 'nothing written past the run');
        }
      }
      fs.closeSync(fd);
    }
  });

  it('fails damaged, relabelled, reordered or cut data and leaves no plaintext in the buffer', async () => {
    const plain = crypto.randomBytes(3 * CHUNK + 500);
    const sealed = sealStream(key, plain);
    const flip = (at: number) => {
      const c = Buffer.from(sealed);
      c[at]! ^= 0x40;
      return c;
    };
    const swapped = Buffer.concat([sealed.subarray(SEALED, 2 * SEALED), sealed.subarray(0, SEALED), sealed.subarray(2 * SEALED)]);
    const cases: Array<[string, Buffer, number, number, number, number, RegExp]> = [
      // what, file bytes, position, length, first, finalIndex, message
      ['a flipped byte in chunk 2', flip(2 * SEALED + 7), 0, sealed.length, 0, 3, /authentication at chunk 2/],
      ['a flipped tag byte of the last chunk', flip(sealed.length - 1), 0, sealed.length, 0, 3, /authentication at chunk 3/],
      ['chunks 0 and 1 swapped', swapped, 0, sealed.length, 0, 3, /authentication at chunk 0/],
      ['chunk 1 read as chunk 0', sealed, SEALED, SEALED, 0, 3, /authentication at chunk 0/],
      ['the stream cut after chunk 2, read as if that were its end', sealed.subarray(0, 3 * SEALED), 0, 3 * SEALED, 0, 2, /authentication at chunk 2/],
      ['a run ending inside a chunk', sealed, 0, SEALED + 100, 0, 3, /chunk 1 is incomplete/],
      ['ciphertext past the final chunk', sealed, 0, 3 * SEALED, 0, 1, /chunk 1 is incomplete/],
    ];
    for (const [what, bytes, position, length, first, finalIndex, message] of cases) {
      const fd = fileOf(bytes);
      const buf = Buffer.alloc(length);
      const r = await readOpen(fd, position, length, buf, first, finalIndex);
      fs.closeSync(fd);
      assert.ok(r.err, what);
      assert.equal(r.err.code, 'ERR_XREGION_CIPHER_INTEGRITY', what);
      assert.match(r.err.message, message, what);
      assert.equal(r.plainLength, undefined);
      assert.ok(buf.every((b) => b === 0), `${what}: buffer wiped`);
    }
    const fd = fileOf(sealed);
    const wrongKey = await readOpen(fd, 0, sealed.length, Buffer.alloc(sealed.length), 0, 3, crypto.randomBytes(32));
    assert.equal(wrongKey.err?.code, 'ERR_XREGION_CIPHER_INTEGRITY');
    fs.closeSync(fd);
  });

  it('reports a file that ends before the run as a read error', async () => {
    const sealed = sealStream(key, crypto.randomBytes(2 * CHUNK));
    const fd = fileOf(sealed.subarray(0, sealed.length - 10));
    const r = await readOpen(fd, 0, sealed.length, Buffer.alloc(sealed.length), 0, 1);
    fs.closeSync(fd);
    assert.equal(r.err?.code, 'ERR_XREGION_READ');
    assert.match(r.err.message, new RegExp(`ends at ${sealed.length - 10}, before ${sealed.length}`));
  });

  it('throws on malformed calls, before reading anything', () => {
    const buf = Buffer.alloc(SEALED);
    const cb = () => assert.fail('no callback for a refused call');
    const call = native.readOpen as (...a: unknown[]) => void;
    const bad: [string, unknown[]][] = [
      ['negative fd', [-1, 0, SEALED, buf, key, 0, 0, cb]],
      ['fractional position', [0, 0.5, SEALED, buf, key, 0, 0, cb]],
      ['length past the buffer', [0, 0, SEALED + 1, buf, key, 0, 0, cb]],
      ['length shorter than a tag', [0, 0, 15, buf, key, 0, 0, cb]],
      ['short key', [0, 0, SEALED, buf, key.subarray(1), 0, 0, cb]],
      ['first after finalIndex', [0, 0, SEALED, buf, key, 2, 1, cb]],
      ['buffer a string', [0, 0, SEALED, 'x'.repeat(SEALED), key, 0, 0, cb]],
      ['no callback', [0, 0, SEALED, buf, key, 0, 0, 'cb']],
      ['too few arguments', [0, 0, SEALED, buf, key, 0, 0]],
    ];
    for (const [what, args] of bad) assert.throws(() => call(...args), /readOpen:/, what);
  });

  it('runs jobs concurrently and delivers each result to its own callback', async () => {
    const streams = Array.from({ length: 12 }, (_, i) => crypto.randomBytes(CHUNK * (1 + (i % 3)) + i));
    const results = await Promise.all(
      streams.map(async (plain) => {
        const sealed = sealStream(key, plain);
        const fd = fileOf(sealed);
        const buf = Buffer.alloc(sealed.length);
        const r = await readOpen(fd, 0, sealed.length, buf, 0, Math.ceil(plain.length / CHUNK) - 1);
        fs.closeSync(fd);
        return r.err === null && r.plainLength === plain.length && buf.subarray(0, plain.length).equals(plain);
      }),
    );
    assert.deepEqual(results, streams.map(() => true));
  });

  it('a process exits by itself once its reads are done', async () => {
    const { execFileSync } = await import('node:child_process');
    const url = new URL('../../src/crypto/aes-gcm-native.js', import.meta.url).href;
    const source = `import(${JSON.stringify(url)}).then(({ nativeAesGcm }) => {
      const g = nativeAesGcm();
      const fs = require('node:fs'); const fd = fs.openSync(process.execPath, 'r');
      g.readOpen(fd, 0, 100, Buffer.alloc(100), Buffer.alloc(32), 0, 0, (err) => console.log(err.code));
    });`;
    const out = execFileSync(process.execPath, ['-e', source], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(out.trim(), 'ERR_XREGION_CIPHER_INTEGRITY', 'the job finished, the process exited');
  });
});
