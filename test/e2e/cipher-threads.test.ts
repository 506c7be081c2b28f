/**
 * `--cipher-threads` and XREGION_NATIVE_CIPHER: the server encrypts and decrypts the same bytes
 * whether the cipher work runs on the event loop (0) or in worker threads (2), and whether the
 * native AES-GCM or node's crypto module computes it; objects written under one setting read back
 * under every other (the format does not depend on where or by what it was computed).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bucketName, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { bodyBytes, bytes, md5hex } from '../helpers/s3http.js';

const SIZES = [100 * 1024, 1024 * 1024, 5 * 1024 * 1024 + 3];

describe('cipher threads, end to end', () => {
  const dataDir = tempDir();
  const bucket = bucketName('ct');
  let server: TestServer | undefined;
  after(async () => {
    await server?.stop();
  });

  const SETTINGS = [
    { name: 'loop-node', threads: 0, cipher: 'off' },
    { name: 'threads-node', threads: 2, cipher: 'off' },
    { name: 'loop-native', threads: 0, cipher: 'auto' },
    { name: 'threads-native', threads: 2, cipher: 'auto' },
  ];

  async function roundTrip(setting: (typeof SETTINGS)[number], write: boolean): Promise<void> {
    server = await startServer({
      dataDir,
      args: ['--cipher-threads', String(setting.threads)],
      env: { XREGION_NATIVE_CIPHER: process.env.XREGION_NATIVE_CIPHER === 'require' && setting.cipher === 'auto' ? 'require' : setting.cipher },
    });
    const s3 = server.client();
    // The banner says which cipher computes (a server that silently fell back would show here).
    const native = process.env.XREGION_NATIVE_CIPHER === 'require' && setting.cipher === 'auto';
    if (native || setting.cipher === 'off') assert.match(server.stdout(), native ? /by the native addon/ : /by node's crypto module/);
    assert.match(server.stdout(), new RegExp(`, ${setting.threads} cipher thread`));
    try {
      if (write) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const size of SIZES) {
        const key = `o-${size}`;
        const body = bytes(size, size);
        if (write) {
          const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}-${setting.name}`, Body: body }));
          assert.equal(put.ServerSideEncryption, 'AES256');
        }
        // Objects written under a setting read back whole and in ranges, under every setting.
        for (const written of write ? [setting.name] : SETTINGS.map((s) => s.name)) {
          const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}-${written}` }));
          assert.equal(md5hex(await bodyBytes(whole.Body)), md5hex(body), `${key} written with ${written}, read with ${setting.name}`);
          const start = Math.floor(size / 3);
          const end = Math.min(size - 1, start + 300_000);
          const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}-${written}`, Range: `bytes=${start}-${end}` }));
          assert.deepEqual(await bodyBytes(part.Body), body.subarray(start, end + 1));
        }
      }
    } finally {
      s3.destroy();
      await server.stop();
      server = undefined;
    }
  }

  for (const setting of SETTINGS) {
    it(`writes and reads: ${setting.name}`, () => roundTrip(setting, true));
  }
  it('reads what every setting wrote, under every setting', async () => {
    for (const setting of SETTINGS) await roundTrip(setting, false);
  });
});
