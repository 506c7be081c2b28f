import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KmsError } from '../../src/crypto/kms-errors.js';
import { RegionKms, type KeyInfo } from '../../src/crypto/kms.js';
import {
  MASTER_KEY_ENV,
  loadMasterKey,
  materialAad,
  rewrapAll,
  unwrapMaterial,
  wrapMaterial,
} from '../../src/crypto/master-key.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const REGION = 'us-east-1';
const DAY = 86_400_000;

let root: string;
let dir: string;
let now: number;
const clock = () => now;
const master = crypto.randomBytes(32);

function open(key = master, region = REGION): RegionKms {
  return RegionKms.open(dir, region, key, clock);
}

/** Asserts that fn throws a KmsError with this code (and message, when given). */
function throwsKms(fn: () => unknown, code: string, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KmsError, `expected KmsError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

/** The unwrapped material the KMS holds in memory, for the no-plaintext-on-disk check. */
function cachedMaterial(kms: RegionKms): Buffer[] {
  return [...((kms as unknown as { material: Map<string, Buffer> }).material.values())].map((b) => Buffer.from(b));
}

function dbBytes(region = REGION): Buffer {
  const base = path.join(dir, region, 'kms.db');
  return Buffer.concat([base, `${base}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
}

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-kms-store-'));
});

after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(root, 'case-'));
  now = 1_700_000_000_000;
});

describe('master key', () => {
  const saved = process.env[MASTER_KEY_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[MASTER_KEY_ENV];
    else process.env[MASTER_KEY_ENV] = saved;
  });

  it('prefers XREGION_MASTER_KEY (base64) and rejects one that is not 32 bytes', () => {
    const key = crypto.randomBytes(32);
    process.env[MASTER_KEY_ENV] = key.toString('base64');
    const warnings: string[] = [];
    assert.deepEqual(loadMasterKey({ dataDir: dir }, (m) => warnings.push(m)), key);
    assert.deepEqual(warnings, []);
    assert.equal(fs.existsSync(path.join(dir, 'master.key')), false);
    process.env[MASTER_KEY_ENV] = crypto.randomBytes(16).toString('base64');
    assert.throws(() => loadMasterKey({ dataDir: dir }, () => {}), /32 bytes/);
  });

  it('reads a key file holding base64 text or 32 raw bytes', () => {
    delete process.env[MASTER_KEY_ENV];
    const key = crypto.randomBytes(32);
    const text = path.join(dir, 'k.txt');
    fs.writeFileSync(text, `${key.toString('base64')}\n`, { mode: 0o600 });
    assert.deepEqual(loadMasterKey({ dataDir: dir, masterKeyFile: text }, () => {}), key);
    const raw = path.join(dir, 'k.bin');
    fs.writeFileSync(raw, key, { mode: 0o600 });
    assert.deepEqual(loadMasterKey({ dataDir: dir, masterKeyFile: raw }, () => {}), key);
    fs.writeFileSync(raw, 'not a key');
    assert.throws(() => loadMasterKey({ dataDir: dir, masterKeyFile: raw }, () => {}), /base64/);
  });

  it('generates <dataDir>/master.key (0600) once, warns that it sits next to the data, and reuses it', () => {
    delete process.env[MASTER_KEY_ENV];
    const warnings: string[] = [];
    const first = loadMasterKey({ dataDir: dir }, (m) => warnings.push(m));
    const file = path.join(dir, 'master.key');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(first.length, 32);
    assert.ok(warnings.some((w) => w.includes('next to the data')));
    const again = loadMasterKey({ dataDir: dir }, () => {});
    assert.deepEqual(again, first);
  });

  it('wraps material so that it unwraps only with the same key and AAD', () => {
    const material = crypto.randomBytes(32);
    const aad = materialAad('arn:aws:kms:us-east-1:111122223333:key/x', 1);
    const wrapped = wrapMaterial(master, material, aad);
    assert.equal(wrapped.includes(material), false);
    assert.deepEqual(unwrapMaterial(master, wrapped, aad), material);
    assert.throws(() => unwrapMaterial(crypto.randomBytes(32), wrapped, aad));
    assert.throws(() => unwrapMaterial(master, wrapped, materialAad('arn:aws:kms:us-east-1:111122223333:key/x', 2)));
  });
});

describe('RegionKms', () => {
  let kms: RegionKms;
  beforeEach(() => {
    kms = open();
  });
  afterEach(() => {
    try {
      kms.close();
    } catch {
      // already closed by the test
    }
  });

  it('creates a symmetric key with AWS metadata and the default key policy', () => {
    const k = kms.createKey({ accountId: ACCOUNT, description: 'd' });
    assert.match(k.keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(k.arn, `arn:aws:kms:${REGION}:${ACCOUNT}:key/${k.keyId}`);
    assert.equal(k.state, 'Enabled');
    assert.equal(k.manager, 'CUSTOMER');
    assert.equal(k.keySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(k.createdAt, now);
    const policy = JSON.parse(k.policyText);
    assert.equal(policy.Statement[0].Sid, 'Enable IAM User Permissions');
    assert.equal(policy.Statement[0].Principal.AWS, `arn:aws:iam::${ACCOUNT}:root`);
    assert.equal(policy.Statement[0].Action, 'kms:*');
    assert.equal(k.policy.statements.length, 1);
  });

  it('encrypts and decrypts with the encryption context as AAD', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const ctx = { bucket: 'b', 'aws:s3:arn': 'arn:aws:s3:::b/k' };
    const blob = kms.encrypt(k, Buffer.from('hello'), ctx);
    const r = kms.decrypt(blob, { 'aws:s3:arn': 'arn:aws:s3:::b/k', bucket: 'b' });
    assert.equal(r.plaintext.toString(), 'hello');
    assert.equal(r.key.keyId, k.keyId);
    throwsKms(() => kms.decrypt(blob, {}), 'InvalidCiphertextException', '');
    throwsKms(() => kms.decrypt(blob, { ...ctx, bucket: 'c' }), 'InvalidCiphertextException');
    throwsKms(() => kms.decrypt(blob, { ...ctx, extra: '1' }), 'InvalidCiphertextException');
  });

  it('generates data keys whose blob decrypts to the same plaintext', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const dk = kms.generateDataKey(k, { a: '1' });
    assert.equal(dk.plaintext.length, 32);
    assert.equal(dk.ciphertextBlob.includes(dk.plaintext), false);
    assert.deepEqual(kms.decrypt(dk.ciphertextBlob, { a: '1' }).plaintext, dk.plaintext);
    assert.equal(kms.generateDataKey(k, {}, 16).plaintext.length, 16);
  });

  it('refuses any tampered blob with InvalidCiphertextException', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const blob = kms.generateDataKey(k, {}).ciphertextBlob;
    for (let i = 0; i < blob.length; i++) {
      const bad = Buffer.from(blob);
      bad[i]! ^= 0x01;
      assert.throws(() => kms.decrypt(bad, {}), (e: unknown) => e instanceof KmsError && e.code === 'InvalidCiphertextException', `byte ${i}`);
    }
    throwsKms(() => kms.decrypt(blob.subarray(0, blob.length - 1), {}), 'InvalidCiphertextException');
    throwsKms(() => kms.decrypt(Buffer.from('not a blob at all, not even close to one'), {}), 'InvalidCiphertextException');
    throwsKms(() => kms.decrypt(Buffer.alloc(0), {}), 'InvalidCiphertextException');
  });

  it('refuses a disabled key (DisabledException) and a key pending deletion (KMSInvalidStateException)', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const blob = kms.generateDataKey(k, {}).ciphertextBlob;
    kms.disableKey(k);
    throwsKms(() => kms.generateDataKey(k, {}), 'DisabledException', `${k.arn} is disabled.`);
    throwsKms(() => kms.decrypt(blob, {}), 'DisabledException', `${k.arn} is disabled.`);
    assert.equal(cachedMaterial(kms).length, 0, 'material of a disabled key leaves memory');
    kms.enableKey(k);
    assert.ok(kms.decrypt(blob, {}).plaintext.length === 32);

    const d = kms.scheduleDeletion(k, 7);
    assert.equal(d.state, 'PendingDeletion');
    assert.equal(d.deletionDate, now + 7 * DAY);
    throwsKms(() => kms.generateDataKey(k, {}), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
    throwsKms(() => kms.decrypt(blob, {}), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
    throwsKms(() => kms.enableKey(k), 'KMSInvalidStateException', `${k.arn} is pending deletion.`);
    throwsKms(() => kms.scheduleDeletion(k, 7), 'KMSInvalidStateException');
    const c = kms.cancelDeletion(k);
    assert.equal(c.state, 'Disabled');
    assert.equal(c.deletionDate, null);
    throwsKms(() => kms.cancelDeletion(k), 'KMSInvalidStateException', `${k.arn} is not pending deletion.`);
  });

  it('deletes a key for good when its waiting period ends', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    kms.createAlias(ACCOUNT, 'alias/gone', k);
    const blob = kms.generateDataKey(k, {}).ciphertextBlob;
    kms.scheduleDeletion(k, 7);
    now += 7 * DAY - 1;
    assert.equal(kms.resolveKey(k.keyId, ACCOUNT).state, 'PendingDeletion');
    now += 1;
    throwsKms(() => kms.resolveKey(k.keyId, ACCOUNT), 'NotFoundException', `Key '${k.arn}' does not exist`);
    throwsKms(() => kms.resolveKey('alias/gone', ACCOUNT), 'NotFoundException');
    throwsKms(() => kms.decrypt(blob, {}), 'InvalidCiphertextException');
    assert.equal(kms.listKeys(ACCOUNT, '', 100).keys.length, 0);
  });

  it('resolves key ids, key ARNs, alias names and alias ARNs with KMS wording for misses', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    kms.createAlias(ACCOUNT, 'alias/app', k);
    for (const ref of [k.keyId, k.arn, 'alias/app', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/app`]) {
      assert.equal(kms.resolveKey(ref, ACCOUNT).keyId, k.keyId, ref);
    }
    const missing = crypto.randomUUID();
    throwsKms(() => kms.resolveKey(missing, ACCOUNT), 'NotFoundException', `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${missing}' does not exist`);
    throwsKms(() => kms.resolveKey('alias/nope', ACCOUNT), 'NotFoundException', `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/nope is not found.`);
    throwsKms(() => kms.resolveKey('fake-key-id', ACCOUNT), 'NotFoundException', "Invalid keyId 'fake-key-id'");
    throwsKms(() => kms.resolveKey(k.arn.replace(REGION, 'eu-west-1'), ACCOUNT), 'NotFoundException', 'Invalid arn eu-west-1');
    // Another account's key: by ARN for cryptographic use (its policy decides), never by id or alias.
    throwsKms(() => kms.resolveKey(k.keyId, OTHER), 'NotFoundException');
    throwsKms(() => kms.resolveKey('alias/app', OTHER), 'NotFoundException');
    assert.equal(kms.resolveKey(k.arn, OTHER).keyId, k.keyId);
    throwsKms(() => kms.resolveKey(k.arn, OTHER, { crossAccount: false }), 'NotFoundException', `Key '${k.arn}' does not exist`);
  });

  it('keeps each region separate', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const blob = kms.generateDataKey(k, {}).ciphertextBlob;
    const west = open(master, 'us-west-2');
    try {
      throwsKms(() => west.resolveKey(k.keyId, ACCOUNT), 'NotFoundException', `Key 'arn:aws:kms:us-west-2:${ACCOUNT}:key/${k.keyId}' does not exist`);
      throwsKms(() => west.resolveKey(k.arn, ACCOUNT), 'NotFoundException', `Invalid arn ${REGION}`);
      throwsKms(() => west.decrypt(blob, {}), 'InvalidCiphertextException');
    } finally {
      west.close();
    }
  });

  it('checks a decrypt KeyId hint against the blob (IncorrectKeyException)', () => {
    const a = kms.createKey({ accountId: ACCOUNT });
    const b = kms.createKey({ accountId: ACCOUNT });
    const blob = kms.encrypt(a, Buffer.from('x'), {});
    assert.equal(kms.decrypt(blob, {}, a.arn, ACCOUNT).plaintext.toString(), 'x');
    throwsKms(() => kms.decrypt(blob, {}, b.keyId, ACCOUNT), 'IncorrectKeyException');
    const r = kms.reEncrypt(blob, {}, b, { to: 'b' });
    assert.equal(r.sourceKey.keyId, a.keyId);
    assert.equal(kms.decrypt(r.ciphertextBlob, { to: 'b' }).key.keyId, b.keyId);
  });

  it('creates the aws/s3 managed key once, with its alias and S3-only policy', () => {
    const m = kms.awsManagedKey(ACCOUNT, 's3');
    assert.equal(m.manager, 'AWS');
    assert.equal(m.rotationEnabled, true);
    assert.equal(m.description, 'Default key that protects my S3 objects when no other key is defined');
    assert.match(m.policyText, /"kms:ViaService" : "s3\.us-east-1\.amazonaws\.com"/);
    assert.equal(kms.awsManagedKey(ACCOUNT, 's3').keyId, m.keyId);
    assert.equal(kms.resolveKey('alias/aws/s3', ACCOUNT).keyId, m.keyId);
    assert.notEqual(kms.awsManagedKey(OTHER, 's3').keyId, m.keyId);
    const listed = kms.listAliases(ACCOUNT, '', 100).aliases;
    assert.deepEqual(listed.map((a) => [a.name, a.keyId]), [['alias/aws/s3', m.keyId]]);
  });

  it('lists the aws/s3 alias without a key before the managed key exists', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    kms.createAlias(ACCOUNT, 'alias/b', k);
    kms.createAlias(ACCOUNT, 'alias/a', k);
    const all = kms.listAliases(ACCOUNT, '', 100).aliases;
    assert.deepEqual(all.map((a) => a.name), ['alias/a', 'alias/aws/s3', 'alias/b']);
    assert.equal(all[1]!.keyId, undefined);
    const page = kms.listAliases(ACCOUNT, '', 2);
    assert.equal(page.truncated, true);
    assert.deepEqual(kms.listAliases(ACCOUNT, 'alias/aws/s3', 2).aliases.map((a) => a.name), ['alias/b']);
    assert.deepEqual(kms.listAliases(ACCOUNT, '', 100, k.keyId).aliases.map((a) => a.name), ['alias/a', 'alias/b']);
  });

  it('rejects duplicate aliases and updates and deletes them', () => {
    const a = kms.createKey({ accountId: ACCOUNT });
    const b = kms.createKey({ accountId: ACCOUNT });
    kms.createAlias(ACCOUNT, 'alias/x', a);
    throwsKms(() => kms.createAlias(ACCOUNT, 'alias/x', b), 'AlreadyExistsException', `An alias with the name arn:aws:kms:${REGION}:${ACCOUNT}:alias/x already exists`);
    kms.createAlias(OTHER, 'alias/x', kms.createKey({ accountId: OTHER }));
    kms.updateAlias(ACCOUNT, 'alias/x', b);
    assert.equal(kms.resolveKey('alias/x', ACCOUNT).keyId, b.keyId);
    kms.deleteAlias(ACCOUNT, 'alias/x');
    throwsKms(() => kms.deleteAlias(ACCOUNT, 'alias/x'), 'NotFoundException', `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/x is not found.`);
    assert.ok(kms.resolveKey('alias/x', OTHER));
  });

  it('pages ListKeys per account', () => {
    const ids = Array.from({ length: 5 }, () => kms.createKey({ accountId: ACCOUNT }).keyId).sort();
    kms.createKey({ accountId: OTHER });
    const p1 = kms.listKeys(ACCOUNT, '', 3);
    assert.equal(p1.truncated, true);
    const p2 = kms.listKeys(ACCOUNT, p1.keys[2]!.keyId, 3);
    assert.equal(p2.truncated, false);
    assert.deepEqual([...p1.keys, ...p2.keys].map((k) => k.keyId), ids);
  });

  it('rotates material, keeping earlier versions for decryption', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const before = kms.encrypt(k, Buffer.from('v1'), {});
    kms.enableKeyRotation(k, 90);
    now += 90 * DAY;
    const after = kms.encrypt(k, Buffer.from('v2'), {});
    const cur = kms.resolveKey(k.keyId, ACCOUNT);
    assert.equal(cur.currentVersion, 2);
    assert.equal(cur.nextRotationAt, now + 90 * DAY);
    assert.equal(after.readUInt32BE(17), 2);
    assert.equal(kms.decrypt(before, {}).plaintext.toString(), 'v1');
    assert.equal(kms.decrypt(after, {}).plaintext.toString(), 'v2');
    kms.close();
    kms = open();
    assert.equal(kms.decrypt(before, {}).plaintext.toString(), 'v1');
    assert.equal(kms.decrypt(after, {}).plaintext.toString(), 'v2');
  });

  it('persists keys, aliases, tags and states across reopen', () => {
    const k = kms.createKey({ accountId: ACCOUNT, description: 'kept', tags: [{ key: 't', value: 'v' }] });
    kms.createAlias(ACCOUNT, 'alias/kept', k);
    const dk = kms.generateDataKey(k, { c: '1' });
    const off = kms.createKey({ accountId: ACCOUNT });
    kms.disableKey(off);
    kms.close();
    kms = open();
    const again = kms.resolveKey('alias/kept', ACCOUNT);
    assert.equal(again.description, 'kept');
    assert.deepEqual(kms.listTags(again), [{ key: 't', value: 'v' }]);
    assert.deepEqual(kms.decrypt(dk.ciphertextBlob, { c: '1' }).plaintext, dk.plaintext);
    assert.equal(kms.resolveKey(off.keyId, ACCOUNT).state, 'Disabled');
  });

  it('refuses to open a kms.db with another master key', () => {
    kms.createKey({ accountId: ACCOUNT });
    kms.close();
    assert.throws(() => open(crypto.randomBytes(32)), /different KMS master key/);
    kms = open();
  });

  it('never writes key material or the master key to kms.db in plain text', () => {
    const keys: KeyInfo[] = [];
    for (let i = 0; i < 5; i++) keys.push(kms.createKey({ accountId: ACCOUNT }));
    for (const k of keys) kms.generateDataKey(k, {});
    kms.enableKeyRotation(keys[0]!, 90);
    now += 91 * DAY;
    kms.encrypt(keys[0]!, Buffer.from('rotate'), {});
    const secrets = cachedMaterial(kms);
    assert.equal(secrets.length, 6);
    const scan = (bytes: Buffer) => {
      for (const s of [...secrets, master]) {
        assert.equal(bytes.includes(s), false, 'plaintext secret found in kms.db');
        assert.equal(bytes.includes(Buffer.from(s.toString('hex'))), false, 'hex secret found in kms.db');
        assert.equal(bytes.includes(Buffer.from(s.toString('base64'))), false, 'base64 secret found in kms.db');
      }
    };
    scan(dbBytes());
    kms.close();
    scan(dbBytes());
    kms = open();
  });

  it('rotates the master key: rewrapAll re-wraps every region, once', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const blob = kms.generateDataKey(k, { x: 'y' });
    kms.close();
    const west = open(master, 'us-west-2');
    const wk = west.createKey({ accountId: ACCOUNT });
    const wblob = west.encrypt(wk, Buffer.from('west'), {});
    west.close();
    const next = crypto.randomBytes(32);

    const r = rewrapAll(dir, [REGION, 'us-west-2', 'eu-west-1'], master, next);
    assert.deepEqual(r, [
      { region: REGION, rewrapped: 1, alreadyRotated: false },
      { region: 'us-west-2', rewrapped: 1, alreadyRotated: false },
      { region: 'eu-west-1', rewrapped: 0, alreadyRotated: false },
    ]);
    assert.throws(() => open(master), /different KMS master key/);
    kms = open(next);
    assert.deepEqual(kms.decrypt(blob.ciphertextBlob, { x: 'y' }).plaintext, blob.plaintext);
    const west2 = open(next, 'us-west-2');
    assert.equal(west2.decrypt(wblob, {}).plaintext.toString(), 'west');
    west2.close();
    kms.close();

    // Running it again (say, after an interruption) finds every region done.
    assert.deepEqual(
      rewrapAll(dir, [REGION, 'us-west-2'], master, next).map((x) => x.alreadyRotated),
      [true, true],
    );
    // A wrong "old" key changes nothing.
    assert.throws(() => rewrapAll(dir, [REGION], crypto.randomBytes(32), crypto.randomBytes(32)), /not under the old master key/);
    kms = open(next);
    assert.deepEqual(kms.decrypt(blob.ciphertextBlob, { x: 'y' }).plaintext, blob.plaintext);
  });

  it('keeps the data-key path in memory (fast enough for a per-object call)', () => {
    const k = kms.createKey({ accountId: ACCOUNT });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) {
      const dk = kms.generateDataKey(k, { 'aws:s3:arn': `arn:aws:s3:::b/${i}` });
      kms.decrypt(dk.ciphertextBlob, { 'aws:s3:arn': `arn:aws:s3:::b/${i}` });
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 2000, `2000 generate+decrypt pairs took ${ms} ms`);
  });
});
