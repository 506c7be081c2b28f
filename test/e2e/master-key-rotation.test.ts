/**
 * `xregion kms rotate-master-key` (docs/security.md): after a rotation the objects written
 * before it — SSE-S3 and SSE-KMS — read back under the new master key, the old key no longer
 * opens the data directory, and no object was rewritten.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BIN, startServer, tempDir } from '../helpers/server.js';

describe('master key rotation', () => {
  it('re-wraps KMS material and SSE-S3 root keys; objects read back under the new key only', async () => {
    const dataDir = tempDir('xregion-rotate-');
    const oldKey = crypto.randomBytes(32).toString('base64');
    const newKeyFile = path.join(tempDir('xregion-rotate-key-'), 'new.key');
    fs.writeFileSync(newKeyFile, crypto.randomBytes(32).toString('base64'), { mode: 0o600 });
    const body = crypto.randomBytes(100_000);

    let server = await startServer({ dataDir, env: { XREGION_MASTER_KEY: oldKey } });
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'rotate' }));
    await s3.send(new PutObjectCommand({ Bucket: 'rotate', Key: 'sse-s3', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: 'rotate', Key: 'sse-kms', Body: body, ServerSideEncryption: 'aws:kms' }));
    await server.stop();
    const metaBefore = fs.statSync(path.join(dataDir, 'us-east-1', 'metadata.db')).mtimeMs;

    const out = execFileSync(process.execPath, [BIN, 'kms', 'rotate-master-key', '--data-dir', dataDir, '--new-key-file', newKeyFile], {
      env: { ...process.env, XREGION_MASTER_KEY: oldKey },
      encoding: 'utf8',
    });
    assert.match(out, /us-east-1: [1-9]\d* wrapped key\(s\) re-wrapped/);
    assert.equal(fs.statSync(path.join(dataDir, 'us-east-1', 'metadata.db')).mtimeMs, metaBefore, 'no object metadata rewritten');

    // The old key no longer opens the data directory.
    await assert.rejects(startServer({ dataDir, env: { XREGION_MASTER_KEY: oldKey } }), /different KMS master key/);

    server = await startServer({ dataDir, args: ['--master-key-file', newKeyFile], env: { XREGION_MASTER_KEY: '' } });
    try {
      for (const key of ['sse-s3', 'sse-kms']) {
        const got = await server.client().send(new GetObjectCommand({ Bucket: 'rotate', Key: key }));
        assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), key);
      }
    } finally {
      await server.stop();
    }
    // Running it again is harmless: every region is already under the new key.
    const again = execFileSync(process.execPath, [BIN, 'kms', 'rotate-master-key', '--data-dir', dataDir, '--new-key-file', newKeyFile], {
      env: { ...process.env, XREGION_MASTER_KEY: oldKey },
      encoding: 'utf8',
    });
    assert.match(again, /us-east-1: already under the new key/);
  });
});
