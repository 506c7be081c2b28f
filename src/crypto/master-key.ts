/**
 * The master key: the one secret the KMS key stores depend on. Every KMS key's material is kept
 * in <dataDir>/<region>/kms.db only wrapped (AES-256-GCM) under it, so the databases, their
 * backups and their WAL files reveal nothing without it.
 *
 * Where it comes from, first found wins:
 *   1. XREGION_MASTER_KEY: 32 bytes, base64;
 *   2. the configured master key file: base64 text, or exactly 32 raw bytes;
 *   3. <dataDir>/master.key, generated on first start. That is for development only: a key kept
 *      next to the data it protects protects nothing against whoever can read the data
 *      directory, so every start that uses it says so.
 *
 * Rotating the master key re-wraps every key's material (rewrapAll); the material itself, and so
 * every ciphertext and data key ever issued, stays valid.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KmsStore } from './kms-store.js';

export const MASTER_KEY_BYTES = 32;
export const DEFAULT_MASTER_KEY_FILE = 'master.key';
export const MASTER_KEY_ENV = 'XREGION_MASTER_KEY';

const WRAP_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const CHECK_LABEL = Buffer.from('xregion/kms/master-key-check/v1', 'utf8');
const BASE64_32 = /^[A-Za-z0-9+/_-]{43}=?$/;

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

function decodeBase64Key(text: string, source: string): Buffer {
  const t = text.trim();
  if (!BASE64_32.test(t)) {
    throw new MasterKeyError(`${source} must hold ${MASTER_KEY_BYTES} bytes encoded in base64 (44 characters)`);
  }
  const key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`${source} does not decode to ${MASTER_KEY_BYTES} bytes`);
  return key;
}

export function readKeyFile(file: string, source: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new MasterKeyError(`cannot read ${source} ${file}: ${(e as Error).message}`);
  }
  // 32 raw bytes cannot be mistaken for base64 text: the text of a 32-byte key is 44 characters.
  if (raw.length === MASTER_KEY_BYTES) return raw;
  return decodeBase64Key(raw.toString('latin1'), `${source} ${file}`);
}

/** Writes a new random key to `file` (0600), durably, unless another process got there first. */
function createDefaultKey(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const key = crypto.randomBytes(MASTER_KEY_BYTES);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${key.toString('base64')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    // link, not rename: it fails if the file appeared meanwhile, so two processes starting on a
    // fresh data directory cannot end up with different keys.
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    fs.unlinkSync(tmp);
    return readKeyFile(file, 'master key file');
  }
  fs.unlinkSync(tmp);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
  return key;
}

export function loadMasterKey(opts: { dataDir: string; masterKeyFile?: string }, warn: (msg: string) => void): Buffer {
  const fromEnv = process.env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return decodeBase64Key(fromEnv, MASTER_KEY_ENV);
  if (opts.masterKeyFile) {
    const key = readKeyFile(opts.masterKeyFile, 'master key file');
    const mode = fs.statSync(opts.masterKeyFile).mode;
    if ((mode & 0o077) !== 0) {
      warn(`master key file ${opts.masterKeyFile} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    }
    return key;
  }
  const file = path.join(opts.dataDir, DEFAULT_MASTER_KEY_FILE);
  let key: Buffer;
  if (fs.existsSync(file)) {
    key = readKeyFile(file, 'master key file');
  } else {
    key = createDefaultKey(file);
    warn(`generated a new KMS master key in ${file}`);
  }
  warn(
    `the KMS master key is ${file}, next to the data it protects: anyone who can read the data directory can ` +
      `decrypt every object; for production set ${MASTER_KEY_ENV} or --master-key-file`,
  );
  return key;
}

/** The AAD that binds wrapped material to its key and version: it cannot be moved to another key. */
export function materialAad(keyArn: string, version: number): Buffer {
  return Buffer.from(`xregion/kms/material/v1\0${keyArn}\0${version}`, 'utf8');
}

/** version (1) || nonce (12) || ciphertext || tag (16) */
export function wrapMaterial(masterKey: Buffer, material: Buffer, aad: Buffer): Buffer {
  const nonce = crypto.randomBytes(NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(material), cipher.final()]);
  return Buffer.concat([Buffer.of(WRAP_VERSION), nonce, body, cipher.getAuthTag()]);
}

/** Throws MasterKeyError when the wrapped bytes do not authenticate under this key and AAD. */
export function unwrapMaterial(masterKey: Buffer, wrapped: Buffer, aad: Buffer): Buffer {
  if (wrapped.length < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] !== WRAP_VERSION) {
    throw new MasterKeyError('wrapped key material has an unknown format');
  }
  const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
  const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
  const decipher = crypto.createDecipheriv('aes-256-gcm', masterKey, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(1 + NONCE_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new MasterKeyError('wrapped key material does not authenticate under the master key');
  }
}

/**
 * A value each kms.db keeps to recognise the master key it was written with, so that starting
 * with another key fails at once rather than at the first decrypt. It reveals nothing of the key.
 */
export function masterKeyCheck(masterKey: Buffer): Buffer {
  return crypto.createHmac('sha256', masterKey).update(CHECK_LABEL).digest();
}

export const MASTER_CHECK_META = 'master_key_check';

/** The meta row holding a region's wrapped SSE-S3 root key, and the AAD it is wrapped with. */
export const SSE_S3_META = 'sse_s3_root_key';
export function sseS3Aad(region: string): Buffer {
  return Buffer.from(`xregion/sse-s3/${region}`);
}

export interface RewrapResult {
  region: string;
  /** Material versions re-wrapped; 0 for a region already under the new key or without kms.db. */
  rewrapped: number;
  alreadyRotated: boolean;
}

/**
 * Re-wraps every key's material in each region's kms.db from `oldKey` to `newKey`, one
 * transaction per region. Run it with the server stopped: a running server holds the old check
 * value and would refuse its own database afterwards.
 *
 * A region already under `newKey` is skipped, so a rotation interrupted between regions is
 * finished by running it again with the same two keys.
 */
export function rewrapAll(dataDir: string, regions: readonly string[], oldKey: Buffer, newKey: Buffer): RewrapResult[] {
  for (const k of [oldKey, newKey]) {
    if (!Buffer.isBuffer(k) || k.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`master keys must be ${MASTER_KEY_BYTES} bytes`);
  }
  const oldCheck = masterKeyCheck(oldKey);
  const newCheck = masterKeyCheck(newKey);
  const results: RewrapResult[] = [];
  for (const region of regions) {
    const file = path.join(dataDir, region, 'kms.db');
    if (!fs.existsSync(file)) {
      results.push({ region, rewrapped: 0, alreadyRotated: false });
      continue;
    }
    const store = KmsStore.open(file);
    try {
      const check = store.getMeta(MASTER_CHECK_META);
      if (check && check.equals(newCheck) && !oldCheck.equals(newCheck)) {
        results.push({ region, rewrapped: 0, alreadyRotated: true });
        continue;
      }
      if (check && !check.equals(oldCheck)) {
        throw new MasterKeyError(`${file} is not under the old master key given`);
      }
      let count = 0;
      store.transaction(() => {
        for (const m of store.allMaterials()) {
          const aad = materialAad(m.arn, m.version);
          const plain = unwrapMaterial(oldKey, m.wrapped, aad);
          store.replaceMaterial(m.keyId, m.version, wrapMaterial(newKey, plain, aad));
          plain.fill(0);
          count++;
        }
        // The region's SSE-S3 root key (RegionKms.sseS3Key) is wrapped the same way.
        const sse = store.getMeta(SSE_S3_META);
        if (sse) {
          const aad = sseS3Aad(region);
          const plain = unwrapMaterial(oldKey, sse, aad);
          store.setMeta(SSE_S3_META, wrapMaterial(newKey, plain, aad));
          plain.fill(0);
          count++;
        }
        store.setMeta(MASTER_CHECK_META, newCheck);
      });
      results.push({ region, rewrapped: count, alreadyRotated: false });
    } finally {
      store.close();
    }
  }
  return results;
}
