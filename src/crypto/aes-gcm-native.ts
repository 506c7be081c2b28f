/**
 * The native AES-256-GCM of native/aes_gcm.c (built by scripts/build-native.mjs), when it is
 * there and proves itself; null otherwise, and object-cipher.ts uses node's crypto instead.
 *
 * Why native: node's Cipher API allocates, zero-fills and copies every output, which on large
 * objects costs as much as the cipher; the addon runs node's own OpenSSL into the caller's
 * memory (in place), about twice as fast here. Both produce the same bytes: the choice is per
 * process and never shows in the data.
 *
 * XREGION_NATIVE_CIPHER: `auto` (default) uses the addon when present; `off` never does;
 * `require` makes its absence an error (CI, so that the fast path is the one tested).
 */
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

export interface AesGcmBinding {
  /** Encrypts `input` into `output` (the same bytes, or apart) and writes the 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, output: Uint8Array, tag: Uint8Array): void;
  /** Decrypts and checks `tag`; false (and `output` wiped) when it does not authenticate. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, output: Uint8Array, tag: Uint8Array): boolean;
  /**
   * In one job of libuv's thread pool: reads `length` bytes of sealed object-cipher chunks at
   * `position` of `fd` into `buf` and opens them there, chunk `first` first (`finalIndex` is the
   * stream's last); calls back with the plaintext's length, at the start of `buf`. On any error
   * (a read error, a file that ends early, a chunk that does not authenticate: code
   * ERR_XREGION_CIPHER_INTEGRITY) `buf` holds no plaintext. `buf` must not be touched until then.
   */
  readOpen(
    fd: number,
    position: number,
    length: number,
    buf: Uint8Array,
    key: Uint8Array,
    first: number,
    finalIndex: number,
    callback: (err: (Error & { code?: string }) | null, plainLength?: number) => void,
  ): void;
}

/** Relative to dist/src/crypto/, where this module runs from. */
const ADDON = '../../native/aes_gcm.node';

/**
 * One known-answer check against node's crypto before the addon is trusted: a build against
 * mismatched headers would fail here, not in a customer's data.
 */
function agrees(g: AesGcmBinding): boolean {
  const key = Buffer.alloc(32, 7);
  const nonce = Buffer.alloc(12, 9);
  const aad = Buffer.from('xregion/aes-gcm-self-test');
  const plain = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const expected = Buffer.concat([c.update(plain), c.final()]);
  const expectedTag = c.getAuthTag();
  const data = Buffer.from(plain);
  const tag = Buffer.alloc(16);
  g.seal(key, nonce, aad, data, data, tag);
  if (!data.equals(expected) || !tag.equals(expectedTag)) return false;
  if (!g.open(key, nonce, aad, data, data, tag) || !data.equals(plain)) return false;
  tag[0] ^= 1;
  return !g.open(key, nonce, aad, expected, Buffer.alloc(plain.length), tag);
}

function load(): AesGcmBinding | null {
  const mode = process.env.XREGION_NATIVE_CIPHER ?? 'auto';
  if (mode !== 'auto' && mode !== 'off' && mode !== 'require') {
    throw new Error(`XREGION_NATIVE_CIPHER must be auto, off or require, not ${JSON.stringify(mode)}`);
  }
  if (mode === 'off') return null;
  let binding: AesGcmBinding;
  try {
    binding = createRequire(import.meta.url)(ADDON) as AesGcmBinding;
  } catch (e) {
    if (mode === 'require') throw new Error(`XREGION_NATIVE_CIPHER=require but the native AES-GCM addon did not load: ${(e as Error).message}`);
    return null;
  }
  if (typeof binding.readOpen !== 'function' || !agrees(binding)) {
    const message = 'the native AES-GCM addon disagrees with node:crypto; it is not used';
    if (mode === 'require') throw new Error(message);
    process.emitWarning(message);
    return null;
  }
  return binding;
}

let binding: AesGcmBinding | null | undefined;

export function nativeAesGcm(): AesGcmBinding | null {
  if (binding === undefined) binding = load();
  return binding;
}
