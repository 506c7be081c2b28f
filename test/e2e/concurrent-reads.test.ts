/**
 * Blob reads recycle their buffers (read-buffers.ts) and encrypted ones are opened in place,
 * in a cipher thread (cipher-pool.ts) or, with --cipher-threads 0, on the event loop. A buffer handed back too early would show up as another object's bytes
 * in a response: many concurrent whole and ranged GETs of different objects, with downloads
 * abandoned half way between them, must each return exactly their own bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketName, startServer, type TestServer } from '../helpers/server.js';
import { bodyBytes, bytes, md5hex } from '../helpers/s3http.js';

const OBJECTS = 12;
const SIZES = [1024 * 1024, 1024 * 1024 + 1, 6 * 1024 * 1024 + 17, 200 * 1024];

async function slowly(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of body) {
    parts.push(b);
    await new Promise((r) => setTimeout(r, 2));
  }
  return Buffer.concat(parts);
}

for (const args of [[], ['--cipher-threads', '0']]) describe(`concurrent reads with recycled buffers ${args.join(' ')}`, () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = bucketName('reads');
  const bodies: Buffer[] = [];

  before(async () => {
    server = await startServer({ args });
    s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let i = 0; i < OBJECTS; i++) {
      const body = bytes(SIZES[i % SIZES.length]!, 1000 + i);
      bodies.push(body);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `o${i}`, Body: body }));
    }
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('every response carries its own object bytes', async () => {
    let next = 0;
    const failures: string[] = [];
    async function reader(w: number): Promise<void> {
      for (;;) {
        const n = next++;
        if (n >= 240) return;
        const i = (n * 7 + w) % OBJECTS;
        const body = bodies[i]!;
        if (n % 9 === 4) {
          // Abandoned after the first bytes: its buffers must not come back while in use.
          const ac = new AbortController();
          const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `o${i}` }), { abortSignal: ac.signal });
          const stream = r.Body as AsyncIterable<Buffer>;
          for await (const _ of stream) break;
          ac.abort();
          continue;
        }
        const ranged = n % 3 === 1;
        const start = ranged ? (n * 65_537) % (body.length - 1) : 0;
        const end = ranged ? Math.min(body.length - 1, start + ((n * 131_071) % (2 * 1024 * 1024))) : body.length - 1;
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `o${i}`, Range: ranged ? `bytes=${start}-${end}` : undefined }));
        // Every other reader is slow: its socket fills, so the server's writes stay pending
        // (their buffers in use) while other requests take and release buffers.
        const got = w % 2 ? await slowly(r.Body as AsyncIterable<Buffer>) : await bodyBytes(r.Body);
        const want = body.subarray(start, end + 1);
        if (got.length !== want.length || md5hex(got) !== md5hex(want)) failures.push(`o${i} ${start}-${end}: ${got.length} bytes, md5 ${md5hex(got)}`);
      }
    }
    await Promise.all(Array.from({ length: 16 }, (_, w) => reader(w)));
    assert.deepEqual(failures, []);
  });
});
