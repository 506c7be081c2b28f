/**
 * `--cipher-threads`: the server encrypts and decrypts the same bytes whether the cipher work
 * runs on the event loop (0) or in worker threads (2); objects written under one setting read
 * back under the other (the format does not depend on where it was computed).
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

  async function roundTrip(threads: number, write: boolean): Promise<void> {
    server = await startServer({ dataDir, args: ['--cipher-threads', String(threads)] });
    const s3 = server.client();
    try {
      if (write) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const size of SIZES) {
        const key = `o-${size}`;
        const body = bytes(size, size);
        if (write) {
          const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}-${threads}`, Body: body }));
          assert.equal(put.ServerSideEncryption, 'AES256');
        }
        // Objects written under either setting so far read back whole and in ranges.
        for (const written of write ? [threads] : [0, 2]) {
          const whole = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}-${written}` }));
          assert.equal(md5hex(await bodyBytes(whole.Body)), md5hex(body), `${key} written with ${written}, read with ${threads}`);
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

  it('writes and reads with cipher work on the event loop', () => roundTrip(0, true));
  it('writes and reads with two cipher threads', () => roundTrip(2, true));
  it('reads what both wrote, with either setting', async () => {
    await roundTrip(0, false);
    await roundTrip(2, false);
  });
});
