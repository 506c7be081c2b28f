/**
 * kill -9 durability: ~40 concurrent writers (small inline objects, 200 KiB file objects, a few
 * multipart uploads) in two regions; the server is killed mid-stream, restarted on the same data
 * directory, and every acknowledged write must be there with its bytes, while nothing partial or
 * never attempted may be listed. Three kill/restart rounds. Then the orphan sweep: blob files
 * that nothing refers to are removed in the background after a restart.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { bodyBytes, bytes, md5hex, multipartETag, sleep } from '../helpers/s3http.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const WRITERS = 37;
const MULTIPART_WRITERS = 3;
const ROUNDS = 3;
const KILL_AFTER_MS = 1500;

interface Attempt {
  etag: string; // quoted
  md5: string;
  size: number;
  acked: boolean;
}

/** Per bucket/key, every write attempted, in order (one writer per key, so order is known). */
const attempts = new Map<string, Attempt[]>();
const id = (bucket: string, key: string) => `${bucket}/${key}`;

function record(bucket: string, key: string, body: Buffer, etag: string): Attempt {
  const a: Attempt = { etag, md5: md5hex(body), size: body.length, acked: false };
  const list = attempts.get(id(bucket, key)) ?? [];
  list.push(a);
  attempts.set(id(bucket, key), list);
  return a;
}

/** What a key may hold now: the last acknowledged write, or anything attempted after it. */
function acceptable(list: Attempt[]): { mustExist: boolean; options: Attempt[] } {
  let last = -1;
  list.forEach((a, i) => {
    if (a.acked) last = i;
  });
  return { mustExist: last >= 0, options: last >= 0 ? list.slice(last) : list };
}

let server: TestServer | undefined;
let dataDir: string;
const buckets = { east: 'crash-east', eu: 'crash-eu' };
const regionOf = { [buckets.east]: 'us-east-1', [buckets.eu]: 'eu-west-1' } as Record<string, string>;

function makeClient(s: TestServer, region: string): S3Client {
  return s.client({
    region,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }), requestTimeout: 30_000 }),
  });
}

async function writeRound(s: TestServer, round: number): Promise<{ acked: number; failed: number }> {
  const clients = { [buckets.east]: makeClient(s, 'us-east-1'), [buckets.eu]: makeClient(s, 'eu-west-1') };
  let killed = false;
  let acked = 0;
  let failed = 0;
  const started = Date.now();

  const putWriter = async (w: number) => {
    const bucket = w % 4 === 0 ? buckets.eu : buckets.east;
    const c = clients[bucket]!;
    for (let i = 0; !killed; i++) {
      const key = `w${w}/k${i % 6}`;
      const size = (i + w) % 3 === 0 ? 200 * KiB : KiB + ((i * 7 + w) % 100);
      const body = bytes(size, round * 1_000_000 + w * 1000 + i + 1);
      const a = record(bucket, key, body, `"${md5hex(body)}"`);
      try {
        const r = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        assert.equal(r.ETag, a.etag, 'a PUT acknowledges the ETag of its bytes');
        a.acked = true;
        acked++;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        failed++;
        if (killed) return;
        await sleep(5);
      }
    }
  };

  const multipartWriter = async (w: number) => {
    const bucket = buckets.east;
    const c = clients[bucket]!;
    for (let i = 0; !killed; i++) {
      const key = `mp${w}/k${i % 2}`;
      const parts = [bytes(5 * MiB, round * 1000 + w * 10 + i + 7), bytes(100 * KiB + w, round * 1000 + w * 10 + i + 8)];
      try {
        const created = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        const Parts = [];
        for (const [n, Body] of parts.entries()) {
          const r = await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: n + 1, Body }));
          Parts.push({ PartNumber: n + 1, ETag: r.ETag });
        }
        const whole = Buffer.concat(parts);
        const a = record(bucket, key, whole, multipartETag(parts));
        const done = await c.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, MultipartUpload: { Parts } }),
        );
        assert.equal(done.ETag, a.etag);
        a.acked = true;
        acked++;
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        failed++;
        if (killed) return;
        await sleep(5);
      }
    }
  };

  const writers = [
    ...Array.from({ length: WRITERS }, (_, w) => putWriter(w)),
    ...Array.from({ length: MULTIPART_WRITERS }, (_, w) => multipartWriter(w)),
  ];
  await sleep(KILL_AFTER_MS);
  killed = true;
  await s.kill9();
  await Promise.all(writers);
  for (const c of Object.values(clients)) c.destroy();
  assert.ok(Date.now() - started < 60_000);
  return { acked, failed };
}

async function listAll(c: S3Client, Bucket: string): Promise<Array<{ Key: string; ETag: string; Size: number }>> {
  const out: Array<{ Key: string; ETag: string; Size: number }> = [];
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.push({ Key: o.Key!, ETag: o.ETag!, Size: o.Size! });
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

/** Everything acknowledged is there, and everything there was attempted and is whole. */
async function verify(s: TestServer, round: number): Promise<void> {
  for (const bucket of Object.values(buckets)) {
    const c = makeClient(s, regionOf[bucket]!);
    try {
      const listed = await listAll(c, bucket);
      const listedKeys = new Set(listed.map((o) => o.Key));
      for (const o of listed) {
        const list = attempts.get(id(bucket, o.Key));
        assert.ok(list, `round ${round}: ${bucket}/${o.Key} is listed but was never written`);
        const { options } = acceptable(list);
        const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        const body = await bodyBytes(r.Body);
        const md5 = md5hex(body);
        const match = options.find((a) => a.md5 === md5);
        assert.ok(
          match,
          `round ${round}: ${bucket}/${o.Key} holds ${body.length} bytes (md5 ${md5}) that are neither the last acknowledged write nor a later attempt`,
        );
        assert.equal(r.ETag, match.etag, `round ${round}: ${bucket}/${o.Key} GET ETag`);
        assert.equal(o.ETag, match.etag, `round ${round}: ${bucket}/${o.Key} listed ETag`);
        assert.equal(o.Size, match.size, `round ${round}: ${bucket}/${o.Key} listed size`);
      }
      for (const [k, list] of attempts) {
        const [b, ...rest] = k.split('/');
        if (b !== bucket) continue;
        const key = rest.join('/');
        if (acceptable(list).mustExist) assert.ok(listedKeys.has(key), `round ${round}: acknowledged ${bucket}/${key} is not listed`);
      }
    } finally {
      c.destroy();
    }
  }
}

function blobFiles(): string[] {
  const out: string[] = [];
  for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) {
    const root = path.join(dataDir, region, 'blobs');
    if (!fs.existsSync(root)) continue;
    for (const sub of fs.readdirSync(root)) {
      const d = path.join(root, sub);
      if (!fs.statSync(d).isDirectory()) continue;
      for (const f of fs.readdirSync(d)) if (/^[0-9a-f]{32}$/.test(f)) out.push(path.join(d, f));
    }
  }
  return out;
}

/** Plants an unreferenced blob file, as a crash between writing a blob and committing would. */
function plantOrphan(region: string): string {
  const name = randomBytes(16).toString('hex');
  const dir = path.join(dataDir, region, 'blobs', name.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes(300 * KiB, 99));
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(file, old, old);
  return file;
}

/** How many blob files the live data may need at most: file-sized objects' parts and open uploads' parts. */
async function blobBound(s: TestServer): Promise<number> {
  let bound = 0;
  for (const bucket of Object.values(buckets)) {
    const c = makeClient(s, regionOf[bucket]!);
    try {
      for (const o of await listAll(c, bucket)) {
        if (o.ETag.includes('-')) {
          const h = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key, PartNumber: 1 }));
          bound += h.PartsCount ?? 1;
        } else if (o.Size > 64 * KiB) bound += 1;
      }
      const ups = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      for (const u of ups.Uploads ?? []) {
        const parts = await c.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
        bound += parts.Parts?.length ?? 0;
      }
    } finally {
      c.destroy();
    }
  }
  return bound;
}

describe('crash durability (kill -9)', () => {
  after(async () => {
    await server?.kill9();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds of ${WRITERS + MULTIPART_WRITERS} writers killed mid-stream: acknowledged writes survive, nothing partial is listed; orphans are swept`, async (t) => {
    dataDir = tempDir('xregion-crash-');
    server = await startServer({ dataDir });
    {
      const east = makeClient(server, 'us-east-1');
      await east.send(new CreateBucketCommand({ Bucket: buckets.east }));
      await east.send(new CreateBucketCommand({ Bucket: buckets.eu, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      east.destroy();
    }
    let totalAcked = 0;
    const planted: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { acked } = await writeRound(server, round);
      totalAcked += acked;
      t.diagnostic(`round ${round}: ${acked} writes acknowledged before kill -9`);
      assert.ok(acked > 20, `round ${round}: only ${acked} writes were acknowledged before the kill`);
      planted.push(plantOrphan('us-east-1'), plantOrphan('eu-west-1'));
      server = await startServer({ dataDir });
      await verify(server, round);
    }
    assert.ok(totalAcked > 100, `${totalAcked} acknowledged writes in all`);

    // The background sweep removes the planted orphans and whatever the kills left behind.
    const deadline = Date.now() + 15_000;
    let bound = await blobBound(server);
    let files = blobFiles();
    while (Date.now() < deadline && (planted.some((f) => fs.existsSync(f)) || files.length > bound)) {
      await sleep(250);
      files = blobFiles();
      bound = await blobBound(server);
    }
    const logs = () => server!.stderr().split('\n').filter((l) => /orphan|sweep/i.test(l)).slice(0, 5).join('\n');
    for (const f of planted) assert.ok(!fs.existsSync(f), `planted orphan ${path.relative(dataDir, f)} was not removed; server log:\n${logs()}`);
    assert.ok(files.length <= bound, `${files.length} blob files remain for data that needs at most ${bound}; server log:\n${logs()}`);
    // The sweep removed nothing that is still referenced.
    await verify(server, ROUNDS + 1);
    await server.stop();
    server = undefined;
  });
});
