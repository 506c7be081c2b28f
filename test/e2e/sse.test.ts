/**
 * Encryption at rest from two sides. In process: the storage path of encrypted bodies (inline,
 * blob and multipart data written with ingestBody, read back through every kind of range, parts
 * split among their own deciphers), damage that must fail the stream rather than shorten it,
 * and the replication data side (a disabled source key is SrcKmsKeyInvalidState, the KMS hook
 * is asked). Over the wire: the JS SDK v3 against a real server (SSE-S3 default, SSE-KMS with
 * a key of the server's KMS, multipart, copies).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CIPHER_CHUNK, CIPHER_TAG, newSalt } from '../../src/crypto/object-cipher.js';
import { RegionKms } from '../../src/crypto/kms.js';
import { FileBlobStore } from '../../src/storage/blobs/file-blob-store.js';
import { ingestBody, openRange, readRange, type DataKey, type ObjectBody } from '../../src/objects/data.js';
import { Digester } from '../../src/objects/digester.js';
import { openDataKey, seal, type KeySource } from '../../src/objects/encryption.js';
import type { BucketEntry } from '../../src/objects/buckets.js';
import type { App } from '../../src/app.js';
import { ReplicationFailure } from '../../src/replication/failures.js';
import { sourceDataKey } from '../../src/replication/targets.js';
import type { DataLocation, PartRecord, VersionRecord } from '../../src/storage/types.js';
import { bucketName, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { bodyBytes, expectSdkError, md5hex } from '../helpers/s3http.js';

function bodyOf(data: Buffer, pieces = 7): ObjectBody {
  const digester = new Digester(undefined, false);
  async function* stream(): AsyncGenerator<Buffer> {
    const step = Math.max(1, Math.ceil(data.length / pieces));
    for (let i = 0; i < data.length; i += step) {
      const c = data.subarray(i, i + step);
      digester.update(c);
      yield c;
    }
  }
  return { length: data.length, stream: stream(), finish: async () => digester.digest() };
}

async function readAll(r: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(r)) return r;
  const out: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

function ranges(size: number): Array<[number, number]> {
  const c = CIPHER_CHUNK;
  const out: Array<[number, number]> = [[0, size - 1], [0, 0], [size - 1, size - 1]];
  for (const [a, b] of [[c - 1, c], [c - 5, 3 * c + 5], [c, 2 * c - 1], [1, size - 2], [size - c - 3, size - 1]]) {
    if (a! >= 0 && b! < size && a! <= b!) out.push([a!, b!]);
  }
  return out;
}

describe('encrypted storage (in process)', () => {
  let dir: string;
  let blobs: FileBlobStore;
  const key = crypto.randomBytes(32);

  before(() => {
    dir = tempDir('xregion-sse-');
    blobs = new FileBlobStore(path.join(dir, 'blobs'));
  });
  after(async () => {
    await blobs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const size of [0, 1, 1000, CIPHER_CHUNK - 1, CIPHER_CHUNK, CIPHER_CHUNK + 1, 3 * CIPHER_CHUNK + 77]) {
    it(`stores ${size} bytes encrypted (inline or blob) and reads every range back`, async () => {
      const plain = crypto.randomBytes(size);
      for (const threshold of [64 * 1024, -1]) {
        const salt = newSalt();
        const { location, digests } = await ingestBody(blobs, bodyOf(plain), threshold, { key, salt });
        assert.equal(digests.size, size);
        assert.equal(digests.md5.toString('hex'), md5hex(plain), 'digests are of the plaintext');
        const stored = location.kind === 'inline' ? location.bytes : fs.readFileSync(path.join(dir, 'blobs', (location as { blobId: string }).blobId.slice(0, 2), (location as { blobId: string }).blobId));
        assert.equal(stored.length, size + Math.max(1, Math.ceil(size / CIPHER_CHUNK)) * CIPHER_TAG, 'ciphertext length');
        if (size >= 32) assert.equal(stored.includes(plain.subarray(0, 32)), false, 'no plaintext stored');
        if (threshold < 0) assert.equal(location.kind, 'blob');
        else assert.equal(location.kind, size + CIPHER_TAG * Math.max(1, Math.ceil(size / CIPHER_CHUNK)) > threshold ? 'blob' : 'inline');
        if (size === 0) continue;
        const crypt: DataKey = { key, salt, size };
        for (const [a, b] of ranges(size)) {
          assert.deepEqual(await readAll(readRange(blobs, location, a, b, crypt)), plain.subarray(a, b + 1), `range ${a}-${b}`);
        }
      }
    });
  }

  async function multipart(sizes: number[]): Promise<{ loc: DataLocation; plain: Buffer }> {
    const parts: PartRecord[] = [];
    const plains: Buffer[] = [];
    for (const [i, n] of sizes.entries()) {
      const plain = crypto.randomBytes(n);
      const salt = newSalt();
      const { location } = await ingestBody(blobs, bodyOf(plain, 3), -1, { key, salt });
      parts.push({ partNumber: i + 1, size: n, etag: md5hex(plain), blobId: (location as { blobId: string }).blobId, lastModified: 0, salt: salt.toString('base64') });
      plains.push(plain);
    }
    return { loc: { kind: 'parts', parts }, plain: Buffer.concat(plains) };
  }

  it('reads ranges across the parts of an encrypted multipart object, each part its own cipher stream', async () => {
    const sizes = [2 * CIPHER_CHUNK + 5, 100, 0, CIPHER_CHUNK, 3 * CIPHER_CHUNK + 1];
    const { loc, plain } = await multipart(sizes);
    const crypt: DataKey = { key, size: plain.length };
    const edges = [0, sizes[0]!, sizes[0]! + sizes[1]!, sizes[0]! + sizes[1]! + sizes[3]!];
    const cases: Array<[number, number]> = [[0, plain.length - 1], ...ranges(plain.length)];
    for (const e of edges) for (const d of [1, 17, CIPHER_CHUNK + 3]) if (e - d >= 0 && e + d < plain.length) cases.push([e - d, e + d]);
    for (const [a, b] of cases) {
      assert.deepEqual(await readAll(openRange(blobs, loc, a, b, crypt)), plain.subarray(a, b + 1), `range ${a}-${b}`);
    }
  });

  it('fails (never shortens) a multipart read whose later part is damaged', async () => {
    const { loc, plain } = await multipart([CIPHER_CHUNK + 10, CIPHER_CHUNK + 10, 500]);
    const second = (loc as { parts: PartRecord[] }).parts[1]!;
    const file = path.join(dir, 'blobs', second.blobId.slice(0, 2), second.blobId);
    const bytes = fs.readFileSync(file);
    bytes[CIPHER_CHUNK + CIPHER_TAG + 3]! ^= 0x80;
    fs.writeFileSync(file, bytes);
    const got: Buffer[] = [];
    await assert.rejects(async () => {
      for await (const c of openRange(blobs, loc, 0, plain.length - 1, { key, size: plain.length }) as AsyncIterable<Buffer>) got.push(c);
    }, /authentication|truncated/);
    assert.ok(Buffer.concat(got).length < plain.length);
    // The part before the damage, and the first chunk of the damaged part, still read.
    const upTo = CIPHER_CHUNK + 10 + CIPHER_CHUNK - 1;
    assert.deepEqual(await readAll(openRange(blobs, loc, 0, upTo, { key, size: plain.length })), plain.subarray(0, upTo + 1));
  });

  it('fails a read whose blob was cut short', async () => {
    const plain = crypto.randomBytes(2 * CIPHER_CHUNK);
    const salt = newSalt();
    const { location } = await ingestBody(blobs, bodyOf(plain), -1, { key, salt });
    const id = (location as { blobId: string }).blobId;
    const file = path.join(dir, 'blobs', id.slice(0, 2), id);
    fs.truncateSync(file, fs.statSync(file).size - 1);
    await assert.rejects(readAll(openRange(blobs, location, 0, plain.length - 1, { key, salt, size: plain.length })));
  });
});

describe('replication data side (in process)', () => {
  let dir: string;
  let kms: RegionKms;
  let kmsEu: RegionKms;
  const masterKey = crypto.randomBytes(32);
  let keys: KeySource;
  const bucket = { record: { name: 'src', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: 'Enabled' }, configs: new Map() } as unknown as BucketEntry;

  before(() => {
    dir = tempDir('xregion-sse-kms-');
    kms = RegionKms.open(dir, 'us-east-1', masterKey, Date.now);
    kmsEu = RegionKms.open(dir, 'eu-west-1', masterKey, Date.now);
    keys = { kms: new Map([['us-east-1', kms], ['eu-west-1', kmsEu]]) };
  });
  after(() => {
    kms.close();
    kmsEu.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function versionUnder(enc: VersionRecord['meta']['encryption']): VersionRecord {
    return {
      bucket: 'src', key: 'k', versionId: 'v1', seq: 1, isLatest: true, isDeleteMarker: false, size: 1, etag: '', lastModified: 0,
      storageClass: 'STANDARD', owner: '000000000000', meta: { user: {}, encryption: { ...enc!, salt: newSalt().toString('base64') } }, tags: [], data: { kind: 'none' },
    };
  }

  it('opens an SSE-KMS source key through the hook, and fails for good once the key is disabled', () => {
    const key = kms.createKey({ accountId: '000000000000' });
    const sealing = seal(keys, bucket, 'k', { algorithm: 'aws:kms', keyId: key.arn }, { accountId: '000000000000' });
    const v = versionUnder(sealing.stored);
    const asked: string[] = [];
    const app = keys as unknown as App;
    const open = sourceDataKey(app, bucket, v, (action, k, side) => asked.push(`${action} ${k.arn} ${side}`));
    assert.deepEqual(open!.key, sealing.dataKey);
    assert.deepEqual(asked, [`kms:Decrypt ${key.arn} source`]);
    assert.throws(() => sourceDataKey(app, bucket, v, () => {
      throw new ReplicationFailure('SrcGetObjectNotPermitted', 'the role may not decrypt');
    }), (e: unknown) => e instanceof ReplicationFailure && e.reason === 'SrcGetObjectNotPermitted');
    kms.disableKey(key);
    assert.throws(() => sourceDataKey(app, bucket, v, undefined), (e: unknown) => e instanceof ReplicationFailure && e.reason === 'SrcKmsKeyInvalidState');
  });

  it('SSE-S3 data keys are bound to their region', () => {
    const sealing = seal(keys, bucket, 'k', { algorithm: 'AES256' }, { accountId: '000000000000' });
    assert.deepEqual(openDataKey(keys, bucket, 'k', sealing.stored, {}), sealing.dataKey);
    const elsewhere = { ...bucket, record: { ...bucket.record, region: 'eu-west-1' } } as BucketEntry;
    assert.throws(() => openDataKey(keys, elsewhere, 'k', sealing.stored, {}), /does not authenticate/);
  });
});

describe('SSE over the JS SDK', () => {
  let server: TestServer;
  let s3: S3Client;
  const bucket = bucketName('sse');

  before(async () => {
    server = await startServer();
    s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('encrypts with SSE-S3 by default and says so', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'hello' }));
    assert.equal(put.ServerSideEncryption, 'AES256');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a' }));
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.equal((await bodyBytes(got.Body)).toString(), 'hello');
  });

  it('SSE-KMS with the aws/s3 key, a multipart upload and a copy to SSE-S3', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'kms', ServerSideEncryption: 'aws:kms', BucketKeyEnabled: true }));
    assert.equal(put.ServerSideEncryption, 'aws:kms');
    assert.match(put.SSEKMSKeyId ?? '', /^arn:aws:kms:us-east-1:000000000000:key\//);
    assert.equal(put.BucketKeyEnabled, true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.equal(head.SSEKMSKeyId, put.SSEKMSKeyId);

    const parts = [crypto.randomBytes(5 * 1024 * 1024), crypto.randomBytes(CIPHER_CHUNK + 3)];
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ServerSideEncryption: 'aws:kms' }));
    assert.equal(up.SSEKMSKeyId, put.SSEKMSKeyId);
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: i + 1, Body: p }));
      etags.push(r.ETag!);
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }));
    assert.equal(done.ServerSideEncryption, 'aws:kms');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', Range: `bytes=${parts[0]!.length - 10}-${parts[0]!.length + 10}` }));
    assert.deepEqual(await bodyBytes(got.Body), Buffer.concat(parts).subarray(parts[0]!.length - 10, parts[0]!.length + 11));

    const copy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'mp-copy', CopySource: `${bucket}/mp`, ServerSideEncryption: 'AES256' }));
    assert.equal(copy.ServerSideEncryption, 'AES256');
    const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp-copy' }));
    assert.deepEqual(await bodyBytes(back.Body), Buffer.concat(parts));
  });

  it('refuses what AWS refuses', async () => {
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'nope' as 'AES256' })), 'InvalidArgument', 400);
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/none' })), 'KMS.NotFoundException', 400);
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', SSECustomerAlgorithm: 'AES256', SSECustomerKey: crypto.randomBytes(16).toString('hex') })),
      'InvalidRequest',
      400,
    );
  });
});
