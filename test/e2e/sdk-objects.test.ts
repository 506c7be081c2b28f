/**
 * Objects through @aws-sdk/client-s3: put/get/head/delete, metadata and standard headers,
 * ranges, conditional reads and writes, response-* overrides, copy, tagging, checksums,
 * GetObjectAttributes, awkward keys and empty objects.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type ChecksumAlgorithm,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, startServer, type TestServer } from '../helpers/server.js';
import {
  type Algo,
  assertError,
  bodyBytes,
  bytes,
  checksumB64,
  expectSdkError,
  expectSdkErrorOneOf,
  expectSdkStatus,
  md5hex,
  objectPath,
  send,
  signedSend,
} from '../helpers/s3http.js';

let server: TestServer;
let s3: S3Client;
let bucket: string;
const clients: S3Client[] = [];

function client(region = 'us-east-1', extra: Record<string, unknown> = {}): S3Client {
  const c = server.client({ region, maxAttempts: 1, ...extra });
  clients.push(c);
  return c;
}

async function getText(Bucket: string, Key: string, extra: Record<string, unknown> = {}, c = s3) {
  const r = await c.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { r, body: await bodyBytes(r.Body) };
}

const tagMap = (t: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((t ?? []).map((x) => [x.Key!, x.Value!]));

describe('objects (SDK)', () => {
  before(async () => {
    server = await startServer();
    s3 = client();
    bucket = bucketName('obj');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('put, get, head, delete with ETag, length and Last-Modified; NoSuchKey after delete', async () => {
    const data = bytes(100_000, 7);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'basic', Body: data }));
    assert.equal(put.ETag, `"${md5hex(data)}"`);
    const { r, body } = await getText(bucket, 'basic');
    assert.ok(body.equals(data), 'GET returns the bytes that were put');
    assert.equal(r.ETag, put.ETag);
    assert.equal(r.ContentLength, data.length);
    assert.equal(r.AcceptRanges, 'bytes');
    assert.ok(r.LastModified instanceof Date && Math.abs(r.LastModified.getTime() - Date.now()) < 60_000);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'basic' }));
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.LastModified?.getTime(), r.LastModified?.getTime());
    // An overwrite replaces the bytes.
    const data2 = Buffer.from('second version');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'basic', Body: data2 }));
    assert.ok((await getText(bucket, 'basic')).body.equals(data2));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'basic' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const e = await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'basic' })), 'NoSuchKey', 404);
    assert.equal(e.err.Key, 'basic');
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'basic' })), 'NotFound', 404);
    // Deleting what is not there is a success.
    const again = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'basic' }));
    assert.equal(again.$metadata.httpStatusCode, 204);
  });

  it('user metadata and standard headers round-trip; metadata over 2 KB is MetadataTooLarge', async () => {
    const expires = new Date('2030-01-02T03:04:05Z');
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'meta',
        Body: 'm',
        ContentType: 'text/plain; charset=utf-8',
        ContentEncoding: 'identity',
        ContentDisposition: 'attachment; filename="a b.txt"',
        ContentLanguage: 'de-CH',
        CacheControl: 'max-age=60, private',
        Expires: expires,
        Metadata: { color: 'Blue', 'Mixed-Case': 'V a l u e', empty: '' },
      }),
    );
    for (const r of [
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta' })),
      (await getText(bucket, 'meta')).r,
    ]) {
      assert.equal(r.ContentType, 'text/plain; charset=utf-8');
      assert.equal(r.ContentEncoding, 'identity');
      assert.equal(r.ContentDisposition, 'attachment; filename="a b.txt"');
      assert.equal(r.ContentLanguage, 'de-CH');
      assert.equal(r.CacheControl, 'max-age=60, private');
      assert.equal(r.Expires?.getTime(), expires.getTime());
      // Names come back lower-cased; values as sent.
      assert.deepEqual(r.Metadata, { color: 'Blue', 'mixed-case': 'V a l u e', empty: '' });
    }
    // 2 KB: the sum of the UTF-8 bytes of names and values.
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-big', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })),
      'MetadataTooLarge',
      400,
    );
    await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'meta-big',
          Body: 'x',
          Metadata: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`key${i}`, 'v'.repeat(70)])),
        }),
      ),
      'MetadataTooLarge',
      400,
    );
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-big' })), 'NotFound', 404);
    // Just under the limit is fine.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-ok', Body: 'x', Metadata: { ok: 'v'.repeat(1900) } }));
    const ok = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-ok' }));
    assert.equal(ok.Metadata?.ok?.length, 1900);
  });

  it('Content-Type defaults to binary/octet-stream when none is sent', async () => {
    const r = await signedSend(server.port, { method: 'PUT', path: objectPath(bucket, 'no-type'), body: 'abc' });
    assert.equal(r.status, 200, r.text);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'no-type' }));
    assert.equal(head.ContentType, 'binary/octet-stream');
  });

  it('ranges: first bytes, middle, open-ended, suffix, past the end; 416 InvalidRange', async () => {
    const data = bytes(1000, 3);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range', Body: data }));
    // Range semantics only here (checksum headers on ranged reads are the next test's subject).
    const plain = client('us-east-1', { responseChecksumValidation: 'WHEN_REQUIRED' });
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0],
      ['bytes=0-99', 0, 99],
      ['bytes=100-199', 100, 199],
      ['bytes=990-', 990, 999],
      ['bytes=-10', 990, 999],
      ['bytes=-5000', 0, 999], // a suffix longer than the object is the whole object
      ['bytes=900-5000', 900, 999], // an end past the object is clamped
      ['bytes=999-999', 999, 999],
    ];
    for (const [range, start, end] of cases) {
      const { r, body } = await getText(bucket, 'range', { Range: range }, plain);
      assert.equal(r.$metadata.httpStatusCode, 206, range);
      assert.equal(r.ContentRange, `bytes ${start}-${end}/1000`, range);
      assert.equal(r.ContentLength, end - start + 1, range);
      assert.ok(body.equals(data.subarray(start, end + 1)), `${range} bytes`);
    }
    for (const range of ['bytes=1000-', 'bytes=1000-2000', 'bytes=5000-6000']) {
      const e = await expectSdkError(plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'range', Range: range })), 'InvalidRange', 416);
      assert.equal(e.headers['content-range'], 'bytes */1000', `${range}: Content-Range of a 416`);
      assert.equal(String(e.err.ActualObjectSize), '1000');
    }
    // HEAD honours Range too.
    const head = await plain.send(new HeadObjectCommand({ Bucket: bucket, Key: 'range', Range: 'bytes=10-19' }));
    assert.equal(head.$metadata.httpStatusCode, 206);
    assert.equal(head.ContentLength, 10);
    assert.equal(head.ContentRange, 'bytes 10-19/1000');
  });

  it('a ranged GET or HEAD with checksum mode does not return the whole-object checksum', async () => {
    // AWS omits x-amz-checksum-* on ranged reads (the value covers the whole object, not the
    // bytes returned); the SDK's default client validates and would reject the range.
    const data = bytes(1000, 4);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range-ck', Body: data, ChecksumAlgorithm: 'CRC32' }));
    for (const method of ['GET', 'HEAD']) {
      const r = await signedSend(server.port, {
        method,
        path: objectPath(bucket, 'range-ck'),
        headers: { range: 'bytes=0-99', 'x-amz-checksum-mode': 'ENABLED' },
      });
      assert.equal(r.status, 206, method);
      assert.equal(r.headers['x-amz-checksum-crc32'], undefined, `${method}: no whole-object checksum on a range`);
    }
    const { body } = await getText(bucket, 'range-ck', { Range: 'bytes=100-199' });
    assert.ok(body.equals(data.subarray(100, 200)));
  });

  it('conditional GET and HEAD: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'conditional' }));
    const etag = put.ETag!;
    const lm = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond' }))).LastModified!;
    const before = new Date(lm.getTime() - 60_000);
    const later = new Date(lm.getTime() + 60_000);

    assert.equal((await getText(bucket, 'cond', { IfMatch: etag })).body.toString(), 'conditional');
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"0123456789abcdef0123456789abcdef"' })), 'PreconditionFailed', 412);
    const nm = await expectSdkStatus(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: etag })), 304);
    assert.equal(nm.headers.etag, etag, 'a 304 carries the ETag');
    assert.equal((await getText(bucket, 'cond', { IfNoneMatch: '"other"' })).body.toString(), 'conditional');
    await expectSdkStatus(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfModifiedSince: later })), 304);
    await expectSdkStatus(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfModifiedSince: lm })), 304);
    assert.equal((await getText(bucket, 'cond', { IfModifiedSince: before })).body.toString(), 'conditional');
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfUnmodifiedSince: before })), 'PreconditionFailed', 412);
    assert.equal((await getText(bucket, 'cond', { IfUnmodifiedSince: later })).body.toString(), 'conditional');
    // RFC 7232 precedence as S3 documents it: If-Match true wins over If-Unmodified-Since false,
    // If-None-Match false (a match) wins over If-Modified-Since true.
    assert.equal((await getText(bucket, 'cond', { IfMatch: etag, IfUnmodifiedSince: before })).body.toString(), 'conditional');
    await expectSdkStatus(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: etag, IfModifiedSince: before })), 304);
    // HEAD answers the same statuses, without bodies.
    const h412 = await expectSdkStatus(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond', IfMatch: '"nope"' })), 412);
    assert.equal(h412.status, 412);
    const h304 = await expectSdkStatus(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond', IfNoneMatch: etag })), 304);
    assert.equal(h304.status, 304);
    // A 412 body is an S3 error document.
    const raw = await signedSend(server.port, { method: 'GET', path: objectPath(bucket, 'cond'), headers: { 'if-match': '"nope"' } });
    assertError(raw, 412, 'PreconditionFailed');
  });

  it('response-* query parameters override the response headers', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'override', Body: 'o', ContentType: 'text/plain' }));
    const expires = new Date('2031-05-06T07:08:09Z');
    const { r } = await getText(bucket, 'override', {
      ResponseContentType: 'application/json',
      ResponseContentLanguage: 'fr',
      ResponseContentDisposition: 'inline; filename="x.json"',
      ResponseContentEncoding: 'gzip-not-really',
      ResponseCacheControl: 'no-store',
      ResponseExpires: expires,
    });
    assert.equal(r.ContentType, 'application/json');
    assert.equal(r.ContentLanguage, 'fr');
    assert.equal(r.ContentDisposition, 'inline; filename="x.json"');
    assert.equal(r.ContentEncoding, 'gzip-not-really');
    assert.equal(r.CacheControl, 'no-store');
    assert.equal(r.Expires?.getTime(), expires.getTime());
    // The stored headers are unchanged.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'override' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.ContentLanguage, undefined);
  });

  it('CopyObject: COPY and REPLACE directives for metadata and tagging', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'src',
        Body: 'copy me',
        ContentType: 'text/x-src',
        CacheControl: 'max-age=1',
        Metadata: { origin: 'src' },
        Tagging: 't1=v1&t2=v2',
      }),
    );
    const srcHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'src' }));
    // Defaults: both COPY.
    const c1 = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst-copy', CopySource: `${bucket}/src` }));
    assert.equal(c1.CopyObjectResult?.ETag, srcHead.ETag);
    assert.ok(c1.CopyObjectResult?.LastModified instanceof Date);
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst-copy' }));
    assert.equal(h1.ContentType, 'text/x-src');
    assert.equal(h1.CacheControl, 'max-age=1');
    assert.deepEqual(h1.Metadata, { origin: 'src' });
    assert.deepEqual(tagMap((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'dst-copy' }))).TagSet), { t1: 'v1', t2: 'v2' });
    assert.equal((await getText(bucket, 'dst-copy')).body.toString(), 'copy me');
    // COPY ignores metadata sent with the request.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst-copy2', CopySource: `${bucket}/src`, Metadata: { ignored: 'yes' } }));
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst-copy2' }))).Metadata, { origin: 'src' });
    // REPLACE both.
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'dst-replace',
        CopySource: `${bucket}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/x-new',
        Metadata: { fresh: '1' },
        TaggingDirective: 'REPLACE',
        Tagging: 'n=1',
      }),
    );
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dst-replace' }));
    assert.equal(h2.ContentType, 'text/x-new');
    assert.equal(h2.CacheControl, undefined, 'REPLACE drops headers not given');
    assert.deepEqual(h2.Metadata, { fresh: '1' });
    assert.deepEqual(tagMap((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'dst-replace' }))).TagSet), { n: '1' });
    // REPLACE tagging with no tags: none.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst-notags', CopySource: `${bucket}/src`, TaggingDirective: 'REPLACE' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'dst-notags' }))).TagSet ?? [], []);
    // Bad directive values.
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst-bad', CopySource: `${bucket}/src`, MetadataDirective: 'MERGE' as never })),
      'InvalidArgument',
      400,
    );
    // Missing source.
    await expectSdkError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst-x', CopySource: `${bucket}/no-such-src` })), 'NoSuchKey', 404);
    await expectSdkError(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'dst-x', CopySource: `${bucket}-missing/src` })),
      'NoSuchBucket',
      404,
    );
  });

  it('CopyObject to itself: refused unless something changes', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'self', Body: 'self', Metadata: { a: '1' } }));
    const before = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }));
    await expectSdkError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self` })), 'InvalidRequest', 400);
    const unchanged = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }));
    assert.deepEqual(unchanged.Metadata, { a: '1' });
    assert.equal(unchanged.LastModified?.getTime(), before.LastModified?.getTime());
    // Replacing the metadata makes it legal.
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self`, MetadataDirective: 'REPLACE', Metadata: { a: '2' } }),
    );
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }))).Metadata, { a: '2' });
    // So does changing the storage class.
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'self', CopySource: `${bucket}/self`, StorageClass: 'STANDARD_IA' }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'self' }));
    assert.equal(h.StorageClass, 'STANDARD_IA');
    assert.deepEqual(h.Metadata, { a: '2' });
    assert.equal((await getText(bucket, 'self')).body.toString(), 'self');
  });

  it('CopyObject: x-amz-copy-source-if-* preconditions and source versionId', async () => {
    const vb = bucketName('cpv');
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'two' }));
    assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
    const c = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'from-v1', CopySource: `${vb}/k?versionId=${v1.VersionId}` }));
    assert.equal(c.CopySourceVersionId, v1.VersionId);
    assert.equal((await getText(bucket, 'from-v1')).body.toString(), 'one');
    const latest = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'from-latest', CopySource: `${vb}/k` }));
    assert.equal(latest.CopySourceVersionId, v2.VersionId);
    assert.equal((await getText(bucket, 'from-latest')).body.toString(), 'two');
    // AWS answers 404 NoSuchVersion for an unknown version id (400 InvalidArgument if it is malformed).
    await expectSdkErrorOneOf(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'from-bad', CopySource: `${vb}/k?versionId=nonexistent-version-id` })),
      ['NoSuchVersion', 'InvalidArgument'],
    );
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'from-bad' })), 'NotFound', 404);

    const head = await s3.send(new HeadObjectCommand({ Bucket: vb, Key: 'k' }));
    const lm = head.LastModified!;
    const ok = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cond-ok', CopySource: `${vb}/k`, CopySourceIfMatch: head.ETag }));
    assert.equal(ok.CopyObjectResult?.ETag, head.ETag);
    const fails: Array<Record<string, unknown>> = [
      { CopySourceIfMatch: '"ffffffffffffffffffffffffffffffff"' },
      { CopySourceIfNoneMatch: head.ETag },
      { CopySourceIfUnmodifiedSince: new Date(lm.getTime() - 60_000) },
      { CopySourceIfModifiedSince: new Date(lm.getTime() + 60_000) },
    ];
    for (const cond of fails) {
      await expectSdkError(
        s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'cond-fail', CopySource: `${vb}/k`, ...cond })),
        'PreconditionFailed',
        412,
      );
    }
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-fail' })), 'NotFound', 404);
  });

  it('CopyObject across regions (eu-west-1 → us-west-2)', async () => {
    const eu = bucketName('cpeu');
    const west = bucketName('cpw2');
    const euClient = client('eu-west-1');
    const westClient = client('us-west-2');
    await euClient.send(new CreateBucketCommand({ Bucket: eu }));
    await westClient.send(new CreateBucketCommand({ Bucket: west }));
    const data = bytes(300_000, 11);
    const put = await euClient.send(new PutObjectCommand({ Bucket: eu, Key: 'x/y z', Body: data, Metadata: { from: 'eu' } }));
    const c = await westClient.send(new CopyObjectCommand({ Bucket: west, Key: 'copied', CopySource: `${eu}/${encodeURIComponent('x/y z')}` }));
    assert.equal(c.CopyObjectResult?.ETag, put.ETag);
    const { r, body } = await getText(west, 'copied', {}, westClient);
    assert.ok(body.equals(data));
    assert.deepEqual(r.Metadata, { from: 'eu' });
    // The copy lives in us-west-2: a us-east-1 signed read of it is told so.
    const wrong = await expectSdkErrorOneOf(s3.send(new GetObjectCommand({ Bucket: west, Key: 'copied' })), [
      'AuthorizationHeaderMalformed',
      'PermanentRedirect',
    ]);
    assert.equal(wrong.headers['x-amz-bucket-region'], 'us-west-2');
  });

  it('object tagging: x-amz-tagging on PUT, Put/Get/DeleteObjectTagging, tagging count, InvalidTag', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 't', Tagging: 'a=1&b=two%20words&c=' }));
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
    assert.deepEqual(tagMap(got.TagSet), { a: '1', b: 'two words', c: '' });
    const g = await getText(bucket, 'tagged');
    assert.equal(g.r.TagCount, 3, 'x-amz-tagging-count');
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'only', Value: 'this' }] } }));
    assert.deepEqual(tagMap((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet), { only: 'this' });
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet ?? [], []);
    assert.equal((await getText(bucket, 'tagged')).r.TagCount, undefined, 'no tagging count without tags');

    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'keep', Value: '1' }] } }));
    const invalid: Array<{ Key: string; Value: string }[]> = [
      Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })), // more than 10
      [{ Key: 'k'.repeat(129), Value: 'v' }], // key over 128
      [{ Key: 'k', Value: 'v'.repeat(257) }], // value over 256
      [{ Key: 'dup', Value: '1' }, { Key: 'dup', Value: '2' }],
    ];
    for (const TagSet of invalid) {
      await expectSdkError(s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet } })), 'InvalidTag', 400);
    }
    assert.deepEqual(tagMap((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet), { keep: '1' });
    // Exactly 10 tags, 128-char key and 256-char value are fine.
    const ten = Array.from({ length: 10 }, (_, i) => ({ Key: i === 0 ? 'k'.repeat(128) : `k${i}`, Value: i === 0 ? 'v'.repeat(256) : 'v' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: ten } }));
    assert.equal((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet?.length, 10);
    // Too many tags in the x-amz-tagging header: refused, and nothing written.
    const many = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
    const e = await expectSdkErrorOneOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tag-many', Body: 'x', Tagging: many })), [
      'InvalidTag',
      'BadRequest',
      'InvalidArgument',
    ]);
    assert.equal(e.status, 400);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tag-many' })), 'NotFound', 404);
    await expectSdkError(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'no-such' })), 'NoSuchKey', 404);
    await expectSdkError(
      s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'no-such', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } })),
      'NoSuchKey',
      404,
    );
  });

  it('checksums: every algorithm computed by the SDK is verified, stored and returned', async () => {
    const data = bytes(50_000, 21);
    for (const algo of ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as Algo[]) {
      const key = `ck-${algo}`;
      const expected = checksumB64(algo, data);
      const field = `Checksum${algo}` as const;
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ChecksumAlgorithm: algo as ChecksumAlgorithm }));
      assert.equal((put as unknown as Record<string, unknown>)[field], expected, `${algo}: PutObject echoes the checksum`);
      const { r, body } = await getText(bucket, key, { ChecksumMode: 'ENABLED' });
      assert.ok(body.equals(data));
      assert.equal((r as unknown as Record<string, unknown>)[field], expected, `${algo}: GetObject returns it`);
      assert.equal(r.ChecksumType, 'FULL_OBJECT');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal((head as unknown as Record<string, unknown>)[field], expected, `${algo}: HeadObject returns it`);
      // Without ChecksumMode no checksum header.
      const plain = await signedSend(server.port, { method: 'HEAD', path: objectPath(bucket, key) });
      assert.equal(plain.headers[`x-amz-checksum-${algo.toLowerCase()}`], undefined, `${algo}: not returned unless asked`);
      // A wrong value is BadDigest and writes nothing.
      const wrong = checksumB64(algo, Buffer.from('something else'));
      await expectSdkError(
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}-bad`, Body: data, ChecksumAlgorithm: algo as ChecksumAlgorithm, [field]: wrong })),
        'BadDigest',
        400,
      );
      await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}-bad` })), 'NotFound', 404);
    }
  });

  it('a stream body with ChecksumAlgorithm: the SDK sends aws-chunked over Transfer-Encoding: chunked with a trailer', async () => {
    // The SDK sends Content-Encoding: aws-chunked, Transfer-Encoding: chunked (no Content-Length),
    // x-amz-decoded-content-length and x-amz-trailer; AWS's sigv4-streaming documentation allows
    // Transfer-Encoding in place of Content-Length.
    for (const algo of ['CRC32', 'SHA256'] as Algo[]) {
      const big = bytes(300_000, 5);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `stream-${algo}`,
          Body: Readable.from([big.subarray(0, 100_000), big.subarray(100_000)]),
          ContentLength: big.length,
          ChecksumAlgorithm: algo as ChecksumAlgorithm,
        }),
      );
      assert.equal(put.ETag, `"${md5hex(big)}"`);
      const { r, body } = await getText(bucket, `stream-${algo}`, { ChecksumMode: 'ENABLED' });
      assert.ok(body.equals(big));
      assert.equal((r as unknown as Record<string, unknown>)[`Checksum${algo}`], checksumB64(algo, big));
    }
  });

  it('GetObjectAttributes', async () => {
    const data = bytes(12345, 2);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'attrs', Body: data, ChecksumAlgorithm: 'SHA256', StorageClass: 'STANDARD_IA' }),
    );
    const a = await s3.send(
      new GetObjectAttributesCommand({ Bucket: bucket, Key: 'attrs', ObjectAttributes: ['ETag', 'Checksum', 'ObjectSize', 'StorageClass', 'ObjectParts'] }),
    );
    assert.equal(a.ETag, put.ETag!.replace(/"/g, ''), 'GetObjectAttributes ETag has no quotes');
    assert.equal(a.ObjectSize, data.length);
    assert.equal(a.StorageClass, 'STANDARD_IA');
    assert.equal(a.Checksum?.ChecksumSHA256, checksumB64('SHA256', data));
    assert.equal(a.Checksum?.ChecksumType, 'FULL_OBJECT');
    assert.equal(a.ObjectParts, undefined, 'a single-part object has no ObjectParts');
    assert.ok(a.LastModified instanceof Date);
    // Only what was asked for.
    const only = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'attrs', ObjectAttributes: ['ObjectSize'] }));
    assert.equal(only.ObjectSize, data.length);
    assert.equal(only.ETag, undefined);
    assert.equal(only.StorageClass, undefined);
    await expectSdkError(
      s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'no-such', ObjectAttributes: ['ETag'] })),
      'NoSuchKey',
      404,
    );
  });

  it('conditional writes: If-None-Match: * and If-Match on PutObject', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cw', Body: 'first', IfNoneMatch: '*' }));
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cw', Body: 'second', IfNoneMatch: '*' })), 'PreconditionFailed', 412);
    assert.equal((await getText(bucket, 'cw')).body.toString(), 'first');
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cw', Body: 'third', IfMatch: '"00000000000000000000000000000000"' })), 'PreconditionFailed', 412);
    assert.equal((await getText(bucket, 'cw')).body.toString(), 'first');
    const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cw', Body: 'fourth', IfMatch: first.ETag }));
    assert.equal(second.ETag, `"${md5hex('fourth')}"`);
    assert.equal((await getText(bucket, 'cw')).body.toString(), 'fourth');
    // If-Match on a key that does not exist: 404 NoSuchKey.
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cw-none', Body: 'x', IfMatch: first.ETag })), 'NoSuchKey', 404);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cw-none' })), 'NotFound', 404);
  });

  it('awkward keys round-trip through PUT, GET, HEAD, LIST and DELETE', async () => {
    const b = bucketName('keys');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = [
      'ünïcödé/日本語/emoji-😀',
      '../escape/../../etc/passwd',
      './dot/./segments/.',
      'with space and  two',
      'plus+sign',
      'percent%20literal%',
      'question?mark=1&x',
      'hash#fragment',
      'new\nline',
      'tab\tand\\backslash',
      'semi;colon,comma:colon@at$dollar',
      'quote"apos\'lt<gt>amp&',
      '//leading/double/slash',
      'trailing/',
      'k'.repeat(1024),
      `${'é'.repeat(511)}ab`, // 1024 bytes of UTF-8
    ];
    for (const [i, Key] of keys.entries()) {
      const body = Buffer.from(`body ${i}`);
      await s3.send(new PutObjectCommand({ Bucket: b, Key, Body: body }));
      const got = await getText(b, Key);
      assert.ok(got.body.equals(body), `GET ${JSON.stringify(Key)}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key }));
      assert.equal(head.ContentLength, body.length, `HEAD ${JSON.stringify(Key)}`);
    }
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: token, MaxKeys: 5 }));
      listed.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(listed, expected);
    // 1025 bytes is too long, for PUT and GET alike.
    for (const Key of ['k'.repeat(1025), `${'é'.repeat(512)}a`]) {
      await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key, Body: 'x' })), 'KeyTooLongError', 400);
    }
    for (const Key of keys) await s3.send(new DeleteObjectCommand({ Bucket: b, Key }));
    const after = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.equal(after.KeyCount, 0);
  });

  it('empty objects', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
    assert.equal(put.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const { r, body } = await getText(bucket, 'empty');
    assert.equal(body.length, 0);
    assert.equal(r.ContentLength, 0);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'empty' }));
    assert.equal(head.ContentLength, 0);
    // A directory-marker style key.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'folder/', Body: '' }));
    const l = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'folder/' }));
    assert.deepEqual(l.Contents?.map((c) => [c.Key, c.Size]), [['folder/', 0]]);
    // A range on an empty object cannot be satisfied.
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty', Range: 'bytes=0-0' })), 'InvalidRange', 416);
  });

  it('storage class is stored and reported; an unknown one is InvalidStorageClass', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sc-ia', Body: 'x', StorageClass: 'STANDARD_IA' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sc-std', Body: 'x' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sc-ia' }))).StorageClass, 'STANDARD_IA');
    // STANDARD is not announced in x-amz-storage-class.
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sc-std' }))).StorageClass, undefined);
    const l = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sc-' }));
    assert.deepEqual(l.Contents?.map((c) => [c.Key, c.StorageClass]), [['sc-ia', 'STANDARD_IA'], ['sc-std', 'STANDARD']]);
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sc-bad', Body: 'x', StorageClass: 'PLATINUM' as never })), 'InvalidStorageClass', 400);
  });

  it('DeleteObjects: verbose and quiet', async () => {
    const keys = ['d/1', 'd/2', 'd/3', 'd/4'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));
    const r = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'd/1' }, { Key: 'd/2' }, { Key: 'd/missing' }] } }),
    );
    assert.deepEqual((r.Deleted ?? []).map((d) => d.Key).sort(), ['d/1', 'd/2', 'd/missing']);
    assert.equal(r.Errors, undefined);
    const q = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'd/3' }] } }));
    assert.equal(q.Deleted, undefined, 'Quiet lists no successes');
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'd/' }));
    assert.deepEqual(left.Contents?.map((c) => c.Key), ['d/4']);
    // At most 1000 keys per request.
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ Key: i === 0 ? 'd/4' : `d/none-${i}` }));
    await expectSdkError(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: tooMany } })), 'MalformedXML', 400);
    const still = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'd/' }));
    assert.deepEqual(still.Contents?.map((c) => c.Key), ['d/4']);
  });

  it('an unsigned GET is refused with 403 AccessDenied', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'private', Body: 'secret' }));
    const r = await send(server.port, { method: 'GET', path: objectPath(bucket, 'private') });
    assertError(r, 403, 'AccessDenied');
    assert.ok(!r.text.includes('secret'));
  });
});

