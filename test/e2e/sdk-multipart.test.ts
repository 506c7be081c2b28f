/**
 * Multipart uploads through @aws-sdk/client-s3: full flows, ETags, checksums (COMPOSITE and
 * FULL_OBJECT), UploadPartCopy, part replacement, abort, ListParts and ListMultipartUploads
 * paging, GetObject by part number, and the completion errors.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
  type ChecksumType,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, startServer, type TestServer } from '../helpers/server.js';
import {
  type Algo,
  bodyBytes,
  bytes,
  checksumB64,
  compositeChecksum,
  expectSdkError,
  expectSdkErrorOneOf,
  md5hex,
  multipartETag,
} from '../helpers/s3http.js';

const MiB = 1024 * 1024;
let server: TestServer;
let s3: S3Client;
let plain: S3Client;
let bucket: string;
const clients: S3Client[] = [];

function client(extra: Record<string, unknown> = {}): S3Client {
  const c = server.client({ maxAttempts: 1, ...extra });
  clients.push(c);
  return c;
}

async function upload(
  Key: string,
  parts: Buffer[],
  opts: { algo?: Algo; type?: ChecksumType; c?: S3Client } = {},
): Promise<{ uploadId: string; completed: CompletedPart[]; result: any }> {
  const c = opts.c ?? s3;
  const created = await c.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key,
      ChecksumAlgorithm: opts.algo as ChecksumAlgorithm | undefined,
      ChecksumType: opts.type,
    }),
  );
  const uploadId = created.UploadId!;
  const completed: CompletedPart[] = [];
  for (const [i, Body] of parts.entries()) {
    const r = await c.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body,
        ChecksumAlgorithm: opts.algo as ChecksumAlgorithm | undefined,
      }),
    );
    assert.equal(r.ETag, `"${md5hex(Body)}"`, `part ${i + 1} ETag`);
    const part: CompletedPart = { PartNumber: i + 1, ETag: r.ETag };
    if (opts.algo) {
      const field = `Checksum${opts.algo}` as keyof CompletedPart;
      const value = (r as unknown as Record<string, string>)[field];
      assert.equal(value, checksumB64(opts.algo, Body), `part ${i + 1} ${opts.algo}`);
      (part as Record<string, unknown>)[field] = value;
    }
    completed.push(part);
  }
  const result = await c.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: completed } }),
  );
  return { uploadId, completed, result };
}

describe('multipart (SDK)', () => {
  before(async () => {
    server = await startServer();
    s3 = client();
    // A client that does not ask for or validate response checksums (WHEN_REQUIRED), for reads
    // whose checksum behaviour is not the subject.
    plain = client({ responseChecksumValidation: 'WHEN_REQUIRED', requestChecksumCalculation: 'WHEN_REQUIRED' });
    bucket = bucketName('mpu');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('a 20 MiB upload in 3 parts: ETag md5-of-md5s-3, bytes, parts count, partNumber reads', async () => {
    const parts = [bytes(8 * MiB, 1), bytes(8 * MiB, 2), bytes(4 * MiB, 3)];
    const whole = Buffer.concat(parts);
    const { result } = await upload('big', parts, { c: plain });
    assert.equal(result.ETag, multipartETag(parts));
    assert.equal(result.Key, 'big');
    assert.equal(result.Bucket, bucket);
    const got = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }));
    assert.equal(got.ETag, multipartETag(parts));
    assert.equal(got.ContentLength, whole.length);
    assert.ok((await bodyBytes(got.Body)).equals(whole), 'whole object bytes');
    const head = await plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' }));
    assert.equal(head.ContentLength, 20 * MiB);
    assert.equal(head.PartsCount, undefined, 'x-amz-mp-parts-count only with partNumber');
    const listed = await plain.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'big' }));
    assert.deepEqual(listed.Contents?.map((c) => [c.Key, c.ETag, c.Size]), [['big', multipartETag(parts), 20 * MiB]]);

    let offset = 0;
    for (const [i, p] of parts.entries()) {
      const r = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', PartNumber: i + 1 }));
      assert.equal(r.$metadata.httpStatusCode, 206, `part ${i + 1} status`);
      assert.equal(r.PartsCount, 3, 'x-amz-mp-parts-count');
      assert.equal(r.ContentLength, p.length);
      assert.equal(r.ContentRange, `bytes ${offset}-${offset + p.length - 1}/${whole.length}`);
      assert.equal(r.ETag, multipartETag(parts));
      assert.ok((await bodyBytes(r.Body)).equals(p), `part ${i + 1} bytes`);
      const h = await plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big', PartNumber: i + 1 }));
      assert.equal(h.PartsCount, 3);
      assert.equal(h.ContentLength, p.length);
      offset += p.length;
    }
    await expectSdkError(plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', PartNumber: 4 })), 'InvalidPartNumber', 416);
    const attrs = await plain.send(
      new GetObjectAttributesCommand({ Bucket: bucket, Key: 'big', ObjectAttributes: ['ObjectParts', 'ETag', 'ObjectSize'] }),
    );
    assert.equal(attrs.ETag, multipartETag(parts).replace(/"/g, ''));
    assert.equal(attrs.ObjectSize, 20 * MiB);
    // <ObjectParts><PartsCount> on the wire (botocore model: TotalPartsCount, locationName PartsCount).
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
  });

  for (const algo of ['CRC32', 'SHA256'] as Algo[]) {
    it(`COMPOSITE ${algo}: part checksums and the checksum-of-checksums "-N"`, async () => {
      const parts = [bytes(5 * MiB, 10), bytes(5 * MiB, 11), bytes(77_777, 12)];
      const expected = compositeChecksum(algo, parts);
      const field = `Checksum${algo}`;
      const { result } = await upload(`comp-${algo}`, parts, { algo, type: 'COMPOSITE' });
      assert.equal(result[field], expected, 'CompleteMultipartUpload returns the composite checksum');
      assert.equal(result.ChecksumType, 'COMPOSITE');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `comp-${algo}`, ChecksumMode: 'ENABLED' }));
      assert.equal((got as unknown as Record<string, unknown>)[field], expected);
      assert.equal(got.ChecksumType, 'COMPOSITE');
      assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `comp-${algo}`, ChecksumMode: 'ENABLED' }));
      assert.equal((head as unknown as Record<string, unknown>)[field], expected);
      const attrs = await s3.send(
        new GetObjectAttributesCommand({ Bucket: bucket, Key: `comp-${algo}`, ObjectAttributes: ['Checksum', 'ObjectParts'], MaxParts: 10 }),
      );
      // Whether AWS keeps the "-N" suffix here is not documented: compare without it.
      const attrSum = String((attrs.Checksum as Record<string, unknown> | undefined)?.[field] ?? '');
      assert.equal(attrSum.replace(/-\d+$/, ''), expected.replace(/-\d+$/, ''), 'GetObjectAttributes checksum');
      assert.equal(attrs.Checksum?.ChecksumType, 'COMPOSITE');
      const partSums = (attrs.ObjectParts?.Parts ?? []).map((p) => (p as unknown as Record<string, unknown>)[field]);
      assert.deepEqual(partSums, parts.map((p) => checksumB64(algo, p)), 'per-part checksums in GetObjectAttributes');
      assert.deepEqual((attrs.ObjectParts?.Parts ?? []).map((p) => p.Size), parts.map((p) => p.length));
      // <ObjectParts><PartsCount> on the wire (botocore model: TotalPartsCount, locationName PartsCount).
      assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
    });
  }

  for (const algo of ['CRC32', 'CRC64NVME'] as Algo[]) {
    it(`FULL_OBJECT ${algo}: the object checksum is the checksum of all the bytes`, async () => {
      const parts = [bytes(5 * MiB, 20), bytes(1234, 21)];
      const whole = Buffer.concat(parts);
      const expected = checksumB64(algo, whole);
      const field = `Checksum${algo}`;
      const { result } = await upload(`full-${algo}`, parts, { algo, type: 'FULL_OBJECT' });
      assert.equal(result[field], expected);
      assert.equal(result.ChecksumType, 'FULL_OBJECT');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `full-${algo}`, ChecksumMode: 'ENABLED' }));
      assert.equal((got as unknown as Record<string, unknown>)[field], expected);
      assert.equal(got.ChecksumType, 'FULL_OBJECT');
      // The SDK validates a FULL_OBJECT checksum against the bytes it read.
      assert.ok((await bodyBytes(got.Body)).equals(whole));
    });
  }

  it('FULL_OBJECT: a full-object checksum given at completion is verified (BadDigest when wrong)', async () => {
    const parts = [bytes(5 * MiB, 30), bytes(10, 31)];
    const whole = Buffer.concat(parts);
    for (const [value, ok] of [
      [checksumB64('CRC32', Buffer.from('wrong')), false],
      [checksumB64('CRC32', whole), true],
    ] as const) {
      const created = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'full-given', ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }),
      );
      const Parts: CompletedPart[] = [];
      for (const [i, Body] of parts.entries()) {
        const r = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: 'full-given', UploadId: created.UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32' }),
        );
        Parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
      }
      const complete = s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'full-given',
          UploadId: created.UploadId,
          ChecksumCRC32: value,
          ChecksumType: 'FULL_OBJECT',
          MultipartUpload: { Parts },
        }),
      );
      if (ok) {
        const r = await complete;
        assert.equal(r.ChecksumCRC32, value);
      } else {
        await expectSdkError(complete, 'BadDigest', 400);
        await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'full-given' })), 'NotFound', 404);
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'full-given', UploadId: created.UploadId }));
      }
    }
  });

  it('checksum type rules: SHA256 cannot be FULL_OBJECT, CRC64NVME cannot be COMPOSITE', async () => {
    await expectSdkError(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad-type', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })),
      'InvalidRequest',
      400,
    );
    await expectSdkError(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad-type', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' })),
      'InvalidRequest',
      400,
    );
    const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'bad-type' }));
    assert.deepEqual(ups.Uploads ?? [], []);
  });

  it('UploadPartCopy with ranges assembles an object from another one', async () => {
    const src = bytes(12 * MiB, 40);
    await plain.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-src', Body: src }));
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copy-dst' }));
    const ranges: Array<[number, number]> = [
      [0, 5 * MiB - 1],
      [5 * MiB, 11 * MiB - 1],
      [11 * MiB, 12 * MiB - 1],
    ];
    const Parts: CompletedPart[] = [];
    for (const [i, [a, b]] of ranges.entries()) {
      const r = await plain.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'copy-dst',
          UploadId: created.UploadId,
          PartNumber: i + 1,
          CopySource: `${bucket}/copy-src`,
          CopySourceRange: `bytes=${a}-${b}`,
        }),
      );
      assert.equal(r.CopyPartResult?.ETag, `"${md5hex(src.subarray(a, b + 1))}"`);
      assert.ok(r.CopyPartResult?.LastModified instanceof Date);
      Parts.push({ PartNumber: i + 1, ETag: r.CopyPartResult!.ETag });
    }
    // A whole-object part copy (no range) as well, into a second upload.
    const whole = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copy-whole' }));
    const w = await plain.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy-whole', UploadId: whole.UploadId, PartNumber: 1, CopySource: `${bucket}/copy-src` }),
    );
    assert.equal(w.CopyPartResult?.ETag, `"${md5hex(src)}"`);
    await plain.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'copy-whole',
        UploadId: whole.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: w.CopyPartResult!.ETag }] },
      }),
    );
    assert.ok((await bodyBytes((await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-whole' }))).Body)).equals(src));

    // A malformed range is InvalidArgument; a range past the source's end is refused.
    await expectSdkError(
      plain.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'copy-dst',
          UploadId: created.UploadId,
          PartNumber: 9,
          CopySource: `${bucket}/copy-src`,
          CopySourceRange: 'bytes=abc',
        }),
      ),
      'InvalidArgument',
      400,
    );
    const past = await expectSdkErrorOneOf(
      plain.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: 'copy-dst',
          UploadId: created.UploadId,
          PartNumber: 9,
          CopySource: `${bucket}/copy-src`,
          CopySourceRange: `bytes=${12 * MiB}-${13 * MiB}`,
        }),
      ),
      ['InvalidArgument', 'InvalidRange'],
    );
    assert.ok(past.status === 400 || past.status === 416);
    const done = await plain.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'copy-dst', UploadId: created.UploadId, MultipartUpload: { Parts } }),
    );
    const pieces = ranges.map(([a, b]) => src.subarray(a, b + 1));
    assert.equal(done.ETag, multipartETag(pieces));
    const got = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-dst' }));
    assert.ok((await bodyBytes(got.Body)).equals(src));
  });

  it('re-uploading a part replaces it; completing with the old ETag is InvalidPart', async () => {
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'replace' }));
    const U = { Bucket: bucket, Key: 'replace', UploadId: created.UploadId };
    const old1 = bytes(5 * MiB, 50);
    const new1 = bytes(5 * MiB, 51);
    const p2 = Buffer.from('tail');
    const o = await plain.send(new UploadPartCommand({ ...U, PartNumber: 1, Body: old1 }));
    const n = await plain.send(new UploadPartCommand({ ...U, PartNumber: 1, Body: new1 }));
    const t = await plain.send(new UploadPartCommand({ ...U, PartNumber: 2, Body: p2 }));
    const parts = await plain.send(new ListPartsCommand(U));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [
      [1, n.ETag, new1.length],
      [2, t.ETag, p2.length],
    ]);
    await expectSdkError(
      plain.send(new CompleteMultipartUploadCommand({ ...U, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: o.ETag }, { PartNumber: 2, ETag: t.ETag }] } })),
      'InvalidPart',
      400,
    );
    const done = await plain.send(
      new CompleteMultipartUploadCommand({ ...U, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: n.ETag }, { PartNumber: 2, ETag: t.ETag }] } }),
    );
    assert.equal(done.ETag, multipartETag([new1, p2]));
    const got = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'replace' }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat([new1, p2])));
  });

  it('completion errors: EntityTooSmall, InvalidPart, InvalidPartOrder, MalformedXML, bad part numbers', async () => {
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'errs' }));
    const U = { Bucket: bucket, Key: 'errs', UploadId: created.UploadId };
    const small1 = await plain.send(new UploadPartCommand({ ...U, PartNumber: 1, Body: Buffer.alloc(1024, 1) }));
    const small2 = await plain.send(new UploadPartCommand({ ...U, PartNumber: 2, Body: Buffer.alloc(1024, 2) }));
    const complete = (Parts: CompletedPart[]) => plain.send(new CompleteMultipartUploadCommand({ ...U, MultipartUpload: { Parts } }));
    await expectSdkError(complete([{ PartNumber: 1, ETag: small1.ETag }, { PartNumber: 2, ETag: small2.ETag }]), 'EntityTooSmall', 400);
    await expectSdkError(complete([{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }]), 'InvalidPart', 400);
    await expectSdkError(complete([{ PartNumber: 3, ETag: small1.ETag }]), 'InvalidPart', 400);
    await expectSdkError(complete([{ PartNumber: 2, ETag: small2.ETag }, { PartNumber: 1, ETag: small1.ETag }]), 'InvalidPartOrder', 400);
    await expectSdkError(complete([]), 'MalformedXML', 400);
    for (const PartNumber of [0, 10001]) {
      await expectSdkError(plain.send(new UploadPartCommand({ ...U, PartNumber, Body: 'x' })), 'InvalidArgument', 400);
    }
    // None of that created the object or ended the upload.
    await expectSdkError(plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'errs' })), 'NotFound', 404);
    const parts = await plain.send(new ListPartsCommand(U));
    assert.deepEqual(parts.Parts?.map((p) => p.PartNumber), [1, 2]);
    // A single small part is fine: the last part may be small.
    const done = await complete([{ PartNumber: 1, ETag: small1.ETag }]);
    assert.equal(done.ETag, multipartETag([Buffer.alloc(1024, 1)]));
    // Completed: the upload id is gone.
    await expectSdkError(plain.send(new ListPartsCommand(U)), 'NoSuchUpload', 404);
  });

  it('x-amz-mp-object-size at completion: a size that does not match the parts is 400 InvalidRequest', async () => {
    // botocore model, CompleteMultipartUploadRequest.MpuObjectSize: "If there's a mismatch between
    // the specified object size value and the actual object size value, it results in an HTTP 400
    // InvalidRequest error."
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpsize' }));
    const U = { Bucket: bucket, Key: 'mpsize', UploadId: created.UploadId };
    const p = await plain.send(new UploadPartCommand({ ...U, PartNumber: 1, Body: Buffer.alloc(1024, 3) }));
    const Parts = [{ PartNumber: 1, ETag: p.ETag }];
    await expectSdkError(plain.send(new CompleteMultipartUploadCommand({ ...U, MpuObjectSize: 1025, MultipartUpload: { Parts } })), 'InvalidRequest', 400);
    await expectSdkError(plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpsize' })), 'NotFound', 404);
    const done = await plain.send(new CompleteMultipartUploadCommand({ ...U, MpuObjectSize: 1024, MultipartUpload: { Parts } }));
    assert.equal(done.ETag, multipartETag([Buffer.alloc(1024, 3)]));
  });

  it('conditional CompleteMultipartUpload: If-None-Match: * and If-Match', async () => {
    await plain.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-mpu', Body: 'existing' }));
    const existing = await plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-mpu' }));
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'cond-mpu' }));
    const U = { Bucket: bucket, Key: 'cond-mpu', UploadId: created.UploadId };
    const p = await plain.send(new UploadPartCommand({ ...U, PartNumber: 1, Body: 'new data' }));
    const Parts = [{ PartNumber: 1, ETag: p.ETag }];
    await expectSdkError(plain.send(new CompleteMultipartUploadCommand({ ...U, IfNoneMatch: '*', MultipartUpload: { Parts } })), 'PreconditionFailed', 412);
    await expectSdkError(
      plain.send(new CompleteMultipartUploadCommand({ ...U, IfMatch: '"ffffffffffffffffffffffffffffffff"', MultipartUpload: { Parts } })),
      'PreconditionFailed',
      412,
    );
    const still = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond-mpu' }));
    assert.equal((await bodyBytes(still.Body)).toString(), 'existing');
    await plain.send(new CompleteMultipartUploadCommand({ ...U, IfMatch: existing.ETag, MultipartUpload: { Parts } }));
    const now = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond-mpu' }));
    assert.equal((await bodyBytes(now.Body)).toString(), 'new data');
  });

  it('abort: the upload and its parts are gone; NoSuchUpload afterwards', async () => {
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'aborted' }));
    const U = { Bucket: bucket, Key: 'aborted', UploadId: created.UploadId };
    const p = await plain.send(new UploadPartCommand({ ...U, PartNumber: 1, Body: bytes(100_000, 60) }));
    const ab = await plain.send(new AbortMultipartUploadCommand(U));
    assert.equal(ab.$metadata.httpStatusCode, 204);
    await expectSdkError(plain.send(new UploadPartCommand({ ...U, PartNumber: 2, Body: 'x' })), 'NoSuchUpload', 404);
    await expectSdkError(plain.send(new ListPartsCommand(U)), 'NoSuchUpload', 404);
    await expectSdkError(
      plain.send(new CompleteMultipartUploadCommand({ ...U, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } })),
      'NoSuchUpload',
      404,
    );
    await expectSdkError(plain.send(new AbortMultipartUploadCommand(U)), 'NoSuchUpload', 404);
    await expectSdkError(plain.send(new AbortMultipartUploadCommand({ ...U, UploadId: 'no-such-upload-id' })), 'NoSuchUpload', 404);
    const ups = await plain.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'aborted' }));
    assert.deepEqual(ups.Uploads ?? [], []);
    await expectSdkError(plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'aborted' })), 'NotFound', 404);
  });

  it('ListParts paging with MaxParts and PartNumberMarker', async () => {
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'lp', StorageClass: 'STANDARD_IA' }));
    const U = { Bucket: bucket, Key: 'lp', UploadId: created.UploadId };
    const etags = new Map<number, string>();
    for (const n of [1, 2, 3, 5, 8, 13, 21]) {
      const r = await plain.send(new UploadPartCommand({ ...U, PartNumber: n, Body: Buffer.alloc(n * 10, n) }));
      etags.set(n, r.ETag!);
    }
    const seen: number[] = [];
    let marker: string | undefined;
    const markers: Array<string | undefined> = [];
    for (let page = 0; page < 10; page++) {
      const r = await plain.send(new ListPartsCommand({ ...U, MaxParts: 3, PartNumberMarker: marker }));
      assert.equal(r.MaxParts, 3);
      assert.equal(r.UploadId, created.UploadId);
      assert.equal(r.Key, 'lp');
      assert.equal(r.StorageClass, 'STANDARD_IA');
      for (const p of r.Parts ?? []) {
        seen.push(p.PartNumber!);
        assert.equal(p.ETag, etags.get(p.PartNumber!));
        assert.equal(p.Size, p.PartNumber! * 10);
        assert.ok(p.LastModified instanceof Date);
      }
      markers.push(r.NextPartNumberMarker);
      if (!r.IsTruncated) break;
      assert.equal(r.Parts?.length, 3);
      marker = r.NextPartNumberMarker;
    }
    assert.deepEqual(seen, [1, 2, 3, 5, 8, 13, 21]);
    assert.deepEqual(markers.slice(0, 2), ['3', '13']);
    // A marker in the middle of the numbers.
    const mid = await plain.send(new ListPartsCommand({ ...U, PartNumberMarker: '6' }));
    assert.deepEqual(mid.Parts?.map((p) => p.PartNumber), [8, 13, 21]);
    assert.equal(mid.IsTruncated, false);
    await plain.send(new AbortMultipartUploadCommand(U));
  });

  it('ListMultipartUploads paging with key and upload-id markers, prefix and delimiter', async () => {
    const b = bucketName('lmu');
    await plain.send(new CreateBucketCommand({ Bucket: b }));
    const keys = ['a/1', 'a/2', 'b', 'b', 'b', 'c/x/y', 'd'];
    const uploads: Array<{ key: string; id: string }> = [];
    for (const Key of keys) {
      const r = await plain.send(new CreateMultipartUploadCommand({ Bucket: b, Key }));
      uploads.push({ key: Key, id: r.UploadId! });
      await new Promise((res) => setTimeout(res, 5));
    }
    // Sorted by key; uploads of one key by initiation time.
    const all = await plain.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.deepEqual(all.Uploads?.map((u) => [u.Key, u.UploadId]), uploads.map((u) => [u.key, u.id]));
    assert.equal(all.IsTruncated, false);
    assert.ok(all.Uploads!.every((u) => u.Initiated instanceof Date && u.StorageClass === 'STANDARD'));

    const seen: Array<[string, string]> = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await plain.send(new ListMultipartUploadsCommand({ Bucket: b, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
      pages++;
      seen.push(...(r.Uploads ?? []).map((u) => [u.Key!, u.UploadId!] as [string, string]));
      if (!r.IsTruncated) break;
      assert.equal(r.Uploads?.length, 2);
      const last = r.Uploads![1]!;
      assert.equal(r.NextKeyMarker, last.Key);
      assert.equal(r.NextUploadIdMarker, last.UploadId);
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
      assert.ok(pages < 10);
    }
    assert.deepEqual(seen, uploads.map((u) => [u.key, u.id]));
    assert.equal(pages, 4);
    // key-marker without upload-id-marker: only keys after it.
    const afterB = await plain.send(new ListMultipartUploadsCommand({ Bucket: b, KeyMarker: 'b' }));
    assert.deepEqual(afterB.Uploads?.map((u) => u.Key), ['c/x/y', 'd']);
    // key-marker with upload-id-marker: the rest of that key's uploads, then later keys.
    const afterFirstB = await plain.send(new ListMultipartUploadsCommand({ Bucket: b, KeyMarker: 'b', UploadIdMarker: uploads[2]!.id }));
    assert.deepEqual(afterFirstB.Uploads?.map((u) => u.UploadId), [uploads[3]!.id, uploads[4]!.id, uploads[5]!.id, uploads[6]!.id]);
    // Delimiter rolls keys up into common prefixes.
    const delim = await plain.send(new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/' }));
    assert.deepEqual(delim.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'c/']);
    assert.deepEqual(delim.Uploads?.map((u) => u.Key), ['b', 'b', 'b', 'd']);
    const pre = await plain.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: 'c/', Delimiter: '/' }));
    assert.deepEqual(pre.CommonPrefixes?.map((p) => p.Prefix), ['c/x/']);
    assert.deepEqual(pre.Uploads ?? [], []);
    const pref = await plain.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: 'a/' }));
    assert.deepEqual(pref.Uploads?.map((u) => u.Key), ['a/1', 'a/2']);
    for (const u of uploads) await plain.send(new AbortMultipartUploadCommand({ Bucket: b, Key: u.key, UploadId: u.id }));
    const none = await plain.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.deepEqual(none.Uploads ?? [], []);
  });

  it('the SDK default client (request checksums WHEN_SUPPORTED) can do a plain multipart upload', async () => {
    // With the SDK's defaults each UploadPart carries x-amz-checksum-crc32 although the upload
    // was created without an algorithm; AWS accepts this.
    const parts = [bytes(5 * MiB, 70), bytes(100, 71)];
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'defaults' }));
    const Parts: CompletedPart[] = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'defaults', UploadId: created.UploadId, PartNumber: i + 1, Body }));
      Parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'defaults', UploadId: created.UploadId, MultipartUpload: { Parts } }),
    );
    assert.equal(done.ETag, multipartETag(parts));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'defaults' }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)));
  });
});
