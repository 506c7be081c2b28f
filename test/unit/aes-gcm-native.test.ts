/**
 * The native AES-256-GCM addon (native/aes_gcm.c) against node:crypto: same bytes and tags, in
 * place or into another buffer; a wrong tag, nonce, AAD or byte fails and leaves no plaintext;
 * every malformed call throws instead of touching memory it was not given.
 *
 * Where the addon was not built (no C compiler), these tests are skipped and say so; CI sets
 * XREGION_NATIVE_CIPHER=require, under which a missing addon fails the load instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
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
