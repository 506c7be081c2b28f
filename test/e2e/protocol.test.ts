/**
 * Raw HTTP against the real server: SigV4 header authentication, replays, presigned URLs,
 * Expect: 100-continue, aws-chunked uploads (signed chunks and unsigned with trailers),
 * malformed XML, oversized headers, invalid names and ranges, unserved sub-resources. After
 * every rejected request the test checks that nothing changed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { bucketName, startServer, type TestServer } from '../helpers/server.js';
import {
  type RawRequest,
  type RawResponse,
  assertError,
  bytes,
  checksumB64,
  chunkedSignedRequest,
  decodeXml,
  md5b64,
  md5hex,
  objectPath,
  presign,
  presignManual,
  rawExchange,
  send,
  sendWithContinue,
  sha256hex,
  signRequest,
  signedSend,
  unsignedTrailerRequest,
  xmlText,
} from '../helpers/s3http.js';

let server: TestServer;
let port: number;
let bucket: string;

const versioningXml = (status: string) =>
  `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>${status}</Status></VersioningConfiguration>`;

/** Everything observable about the bucket: its versions (key, id, etag, size), tags, versioning, uploads. */
async function state(): Promise<string> {
  const v = await signedSend(port, { method: 'GET', path: objectPath(bucket), query: { versions: '' } });
  assert.equal(v.status, 200, v.text);
  const versions = [...v.text.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)].map((m) =>
    [m[1], decodeXml(xmlText(m[2]!, 'Key')!), xmlText(m[2]!, 'VersionId'), xmlText(m[2]!, 'ETag') ?? '', xmlText(m[2]!, 'Size') ?? ''].join(' '),
  );
  const t = await signedSend(port, { method: 'GET', path: objectPath(bucket), query: { tagging: '' } });
  const ver = await signedSend(port, { method: 'GET', path: objectPath(bucket), query: { versioning: '' } });
  const up = await signedSend(port, { method: 'GET', path: objectPath(bucket), query: { uploads: '' } });
  const uploads = [...up.text.matchAll(/<UploadId>([^<]*)<\/UploadId>/g)].map((m) => m[1]);
  return JSON.stringify({ versions, tags: t.status === 200 ? t.text.replace(/<RequestId>.*<\/RequestId>/, '') : t.status, status: xmlText(ver.text, 'Status'), uploads });
}

async function expectUnchanged(before: string, what: string): Promise<void> {
  assert.equal(await state(), before, `${what}: the bucket changed after a rejected request`);
}

async function getBody(key: string): Promise<RawResponse> {
  return signedSend(port, { method: 'GET', path: objectPath(bucket, key) });
}

describe('protocol (raw HTTP)', () => {
  before(async () => {
    server = await startServer();
    port = server.port;
    bucket = bucketName('proto');
    assert.equal((await signedSend(port, { method: 'PUT', path: objectPath(bucket) })).status, 200);
    const body = versioningXml('Enabled');
    const v = await signedSend(port, { method: 'PUT', path: objectPath(bucket), query: { versioning: '' }, headers: { 'content-md5': md5b64(body) }, body });
    assert.equal(v.status, 200, v.text);
    const tags = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';
    const t = await signedSend(port, { method: 'PUT', path: objectPath(bucket), query: { tagging: '' }, headers: { 'content-md5': md5b64(tags) }, body: tags });
    assert.equal(t.status, 204, t.text);
    const p = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'existing'), body: 'original' });
    assert.equal(p.status, 200, p.text);
  });
  after(async () => {
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('a correctly signed request works; its error documents carry the request id', async () => {
    const r = await getBody('existing');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'original');
    const missing = await getBody('missing');
    assertError(missing, 404, 'NoSuchKey');
    assert.equal(xmlText(missing.text, 'RequestId'), missing.headers['x-amz-request-id'], 'RequestId matches x-amz-request-id');
    assert.equal(xmlText(missing.text, 'Key'), 'missing');
    assert.match(missing.headers['content-type'] ?? '', /xml/);
  });

  it('SignatureDoesNotMatch: wrong secret, or a signed header changed after signing', async () => {
    const before = await state();
    const wrong = await signedSend(
      port,
      { method: 'PUT', path: objectPath(bucket, 'sig'), body: 'x' },
      { credentials: { accessKeyId: 'test', secretAccessKey: 'not-the-secret' } },
    );
    assertError(wrong, 403, 'SignatureDoesNotMatch');
    const signed = await signRequest(port, { method: 'PUT', path: objectPath(bucket, 'sig'), headers: { 'x-amz-meta-a': '1' }, body: 'x' });
    const changed = await send(port, { ...signed, headers: { ...signed.headers, 'x-amz-meta-a': '2' } });
    assertError(changed, 403, 'SignatureDoesNotMatch');
    // A query parameter added after signing.
    const q = await signRequest(port, { method: 'GET', path: objectPath(bucket, 'existing') });
    const added = await send(port, { ...q, query: { 'response-content-type': 'text/html' } });
    assertError(added, 403, 'SignatureDoesNotMatch');
    // Signed for another service.
    const otherService = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'sig'), body: 'x' }, { service: 'ec2' });
    assert.ok(otherService.status >= 400 && otherService.status < 600, `signed for ec2: ${otherService.status}`);
    await expectUnchanged(before, 'bad signatures');
  });

  it('InvalidAccessKeyId, malformed Authorization, unsigned requests', async () => {
    const before = await state();
    const r = await signedSend(
      port,
      { method: 'PUT', path: objectPath(bucket, 'ak'), body: 'x' },
      { credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'whatever' } },
    );
    assertError(r, 403, 'InvalidAccessKeyId');
    const signed = await signRequest(port, { method: 'PUT', path: objectPath(bucket, 'ak'), body: 'x' });
    const garbled = await send(port, { ...signed, headers: { ...signed.headers, authorization: 'AWS4-HMAC-SHA256 Credential=test/garbage' } });
    assertError(garbled, 400, 'AuthorizationHeaderMalformed');
    const unsigned = await send(port, { method: 'PUT', path: objectPath(bucket, 'ak'), body: 'x' });
    assertError(unsigned, 403, 'AccessDenied');
    await expectUnchanged(before, 'bad credentials');
  });

  it('RequestTimeTooSkewed for a date 20 minutes off either way', async () => {
    const before = await state();
    for (const offset of [-20, 20]) {
      const r = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'skew'), body: 'x' }, { date: new Date(Date.now() + offset * 60_000) });
      assertError(r, 403, 'RequestTimeTooSkewed', `${offset} min:`);
    }
    // 5 minutes off is within the allowed 15.
    const ok = await signedSend(port, { method: 'GET', path: objectPath(bucket, 'existing') }, { date: new Date(Date.now() - 5 * 60_000) });
    assert.equal(ok.status, 200);
    await expectUnchanged(before, 'skewed');
  });

  it('payload hash: missing x-amz-content-sha256 → InvalidRequest; body differs → XAmzContentSHA256Mismatch', async () => {
    const before = await state();
    const missing = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'sha'), body: 'x' }, { omitContentSha256: true });
    assertError(missing, 400, 'InvalidRequest');
    const mismatch = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'sha'), body: 'actual body' }, { contentSha256: sha256hex('other body') });
    assertError(mismatch, 400, 'XAmzContentSHA256Mismatch');
    const bad = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'sha'), body: 'x' }, { contentSha256: 'not-a-hash' });
    assert.equal(bad.status, 400, `x-amz-content-sha256: not-a-hash → ${bad.status} ${bad.code}`);
    await expectUnchanged(before, 'payload hash');
    // UNSIGNED-PAYLOAD is accepted.
    const unsignedPayload = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'sha-unsigned'), body: 'free' }, { contentSha256: 'UNSIGNED-PAYLOAD' });
    assert.equal(unsignedPayload.status, 200, unsignedPayload.text);
    assert.equal((await getBody('sha-unsigned')).text, 'free');
  });

  it('Content-MD5: mismatch → BadDigest, malformed → InvalidDigest, right → stored', async () => {
    const before = await state();
    const mismatch = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'md5'), headers: { 'content-md5': md5b64('other') }, body: 'body' });
    assertError(mismatch, 400, 'BadDigest');
    for (const v of ['not base64!', 'AAAA', md5hex('body')]) {
      const r = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'md5'), headers: { 'content-md5': v }, body: 'body' });
      assertError(r, 400, 'InvalidDigest', `Content-MD5 ${v}:`);
    }
    await expectUnchanged(before, 'Content-MD5');
    const ok = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'md5'), headers: { 'content-md5': md5b64('body') }, body: 'body' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.etag, `"${md5hex('body')}"`);
  });

  it('replay: a captured signed PUT replayed with another body or to another key is refused', async () => {
    const captured = await signRequest(port, { method: 'PUT', path: objectPath(bucket, 'replay'), body: 'AAAA' });
    const first = await send(port, captured);
    assert.equal(first.status, 200, first.text);
    const before = await state();
    const otherBody = await send(port, { ...captured, body: 'BBBB' });
    assertError(otherBody, 400, 'XAmzContentSHA256Mismatch');
    const otherKey = await send(port, { ...captured, path: objectPath(bucket, 'replay-elsewhere') });
    assertError(otherKey, 403, 'SignatureDoesNotMatch');
    const otherMethod = await send(port, { ...captured, method: 'POST' });
    assert.ok(otherMethod.status >= 400, `POST replay: ${otherMethod.status}`);
    await expectUnchanged(before, 'replays');
    assert.equal((await getBody('replay')).text, 'AAAA');
  });

  it('presigned GET and PUT work', async () => {
    const get = await send(port, { method: 'GET', path: await presign(port, 'GET', objectPath(bucket, 'existing')) });
    assert.equal(get.status, 200, get.text);
    assert.equal(get.text, 'original');
    const putUrl = await presign(port, 'PUT', objectPath(bucket, 'presigned put'), { expiresIn: 300 });
    const put = await send(port, { method: 'PUT', path: putUrl, body: 'via url' });
    assert.equal(put.status, 200, put.text);
    assert.equal((await getBody('presigned put')).text, 'via url');
    // A presigned HEAD, and response-* overrides as part of the signed query.
    const head = await send(port, { method: 'HEAD', path: await presign(port, 'HEAD', objectPath(bucket, 'existing')) });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '8');
    const ov = await send(port, {
      method: 'GET',
      path: await presign(port, 'GET', objectPath(bucket, 'existing'), { query: { 'response-content-type': 'text/x-over' } }),
    });
    assert.equal(ov.status, 200);
    assert.equal(ov.headers['content-type'], 'text/x-over');
  });

  it('presigned URLs: expired → 403 AccessDenied "Request has expired"; over a week → AuthorizationQueryParametersError; tampering → SignatureDoesNotMatch', async () => {
    const before = await state();
    const expired = await presign(port, 'GET', objectPath(bucket, 'existing'), { expiresIn: 60, date: new Date(Date.now() - 2 * 3600_000) });
    const e = await send(port, { method: 'GET', path: expired });
    assertError(e, 403, 'AccessDenied');
    assert.equal(e.message, 'Request has expired');
    const expiredPut = await presign(port, 'PUT', objectPath(bucket, 'expired-put'), { expiresIn: 1, date: new Date(Date.now() - 60_000) });
    assertError(await send(port, { method: 'PUT', path: expiredPut, body: 'x' }), 403, 'AccessDenied');

    const week = presignManual(port, 'GET', objectPath(bucket, 'existing'), { expires: 604801 });
    assertError(await send(port, { method: 'GET', path: week }), 400, 'AuthorizationQueryParametersError');
    const okWeek = presignManual(port, 'GET', objectPath(bucket, 'existing'), { expires: 604800 });
    const ow = await send(port, { method: 'GET', path: okWeek });
    assert.equal(ow.status, 200, `a hand-built presigned URL of exactly a week works: ${ow.text}`);

    const url = await presign(port, 'GET', objectPath(bucket, 'existing'), { expiresIn: 600 });
    // Another key.
    const otherKey = url.replace(objectPath(bucket, 'existing'), objectPath(bucket, 'presigned put'));
    assertError(await send(port, { method: 'GET', path: otherKey }), 403, 'SignatureDoesNotMatch');
    // A longer expiry.
    const longer = url.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000');
    assert.notEqual(longer, url);
    assertError(await send(port, { method: 'GET', path: longer }), 403, 'SignatureDoesNotMatch');
    // An extra parameter.
    assertError(await send(port, { method: 'GET', path: `${url}&response-content-type=text%2Fhtml` }), 403, 'SignatureDoesNotMatch');
    // Another method with a GET URL.
    const asPut = await send(port, { method: 'PUT', path: url, body: 'overwrite!' });
    assertError(asPut, 403, 'SignatureDoesNotMatch');
    await expectUnchanged(before, 'presigned rejections');
    assert.equal((await getBody('existing')).text, 'original');
  });

  it('presigned URL signed for the wrong region → 400 AuthorizationQueryParametersError; the right region works', async () => {
    const eu = `${bucket}-eu`;
    const cfg = '<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>';
    assert.equal((await signedSend(port, { method: 'PUT', path: objectPath(eu), body: cfg })).status, 200);
    assert.equal((await signedSend(port, { method: 'PUT', path: objectPath(eu, 'obj'), body: 'eu data' }, { region: 'eu-west-1' })).status, 200);
    const wrong = await send(port, { method: 'GET', path: await presign(port, 'GET', objectPath(eu, 'obj'), { region: 'us-east-1' }) });
    assertError(wrong, 400, 'AuthorizationQueryParametersError');
    const right = await send(port, { method: 'GET', path: await presign(port, 'GET', objectPath(eu, 'obj'), { region: 'eu-west-1' }) });
    assert.equal(right.status, 200, right.text);
    assert.equal(right.text, 'eu data');
    const wrongPut = await send(port, { method: 'PUT', path: await presign(port, 'PUT', objectPath(eu, 'obj'), { region: 'us-west-2' }), body: 'overwrite' });
    assertError(wrongPut, 400, 'AuthorizationQueryParametersError');
    assert.equal((await signedSend(port, { method: 'GET', path: objectPath(eu, 'obj') }, { region: 'eu-west-1' })).text, 'eu data');
  });

  it('Expect: 100-continue: a forged or unsigned PUT is answered without 100 Continue; a good one gets 100 then 200', async () => {
    const before = await state();
    const data = bytes(256 * 1024, 9);
    const forged = await signRequest(
      port,
      { method: 'PUT', path: objectPath(bucket, 'continue'), body: data },
      { credentials: { accessKeyId: 'test', secretAccessKey: 'forged' } },
    );
    const f = await sendWithContinue(port, forged);
    assert.equal(f.gotContinue, false, 'no 100 Continue for a forged request');
    assertError(f.response, 403, 'SignatureDoesNotMatch');
    const u = await sendWithContinue(port, { method: 'PUT', path: objectPath(bucket, 'continue'), body: data });
    assert.equal(u.gotContinue, false, 'no 100 Continue for an unsigned request');
    assertError(u.response, 403, 'AccessDenied');
    const nb = await sendWithContinue(port, await signRequest(port, { method: 'PUT', path: objectPath(`${bucket}-nope`, 'continue'), body: data }));
    assert.equal(nb.gotContinue, false, 'no 100 Continue for a missing bucket');
    assertError(nb.response, 404, 'NoSuchBucket');
    await expectUnchanged(before, '100-continue rejections');
    const good = await sendWithContinue(port, await signRequest(port, { method: 'PUT', path: objectPath(bucket, 'continue'), body: data }));
    assert.equal(good.gotContinue, true, '100 Continue for a good request');
    assert.equal(good.response.status, 200, good.response.text);
    assert.equal(good.response.headers.etag, `"${md5hex(data)}"`);
    const got = await getBody('continue');
    assert.ok(got.body.equals(data));
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: signed chunks upload; a bad chunk signature or altered data creates nothing', async () => {
    const data = bytes(200_000, 13);
    const ok = await send(port, await chunkedSignedRequest(port, { method: 'PUT', path: objectPath(bucket, 'chunked') }, data));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.etag, `"${md5hex(data)}"`);
    const got = await getBody('chunked');
    assert.ok(got.body.equals(data), 'the stored bytes are the decoded payload');
    assert.equal(got.headers['content-length'], String(data.length));
    assert.equal(got.headers['content-encoding'], undefined, 'aws-chunked is not stored as Content-Encoding');
    // Exactly one chunk plus the final one, and a final chunk only.
    const small = Buffer.from('tiny');
    const s = await send(port, await chunkedSignedRequest(port, { method: 'PUT', path: objectPath(bucket, 'chunked-small') }, small));
    assert.equal(s.status, 200, s.text);
    assert.equal((await getBody('chunked-small')).text, 'tiny');
    const e = await send(port, await chunkedSignedRequest(port, { method: 'PUT', path: objectPath(bucket, 'chunked-empty') }, Buffer.alloc(0)));
    assert.equal(e.status, 200, e.text);
    assert.equal((await getBody('chunked-empty')).body.length, 0);

    const before = await state();
    for (const corruptChunk of [0, 1, 3]) {
      const r = await send(port, await chunkedSignedRequest(port, { method: 'PUT', path: objectPath(bucket, 'chunked-bad') }, data, { corruptChunk }));
      assertError(r, 403, 'SignatureDoesNotMatch', `corrupt chunk ${corruptChunk}:`);
    }
    const t = await send(port, await chunkedSignedRequest(port, { method: 'PUT', path: objectPath(bucket, 'chunked-bad') }, data, { tamperData: true }));
    assertError(t, 403, 'SignatureDoesNotMatch', 'altered chunk data:');
    // Overwriting an existing object with a bad stream leaves the old one.
    const over = await send(port, await chunkedSignedRequest(port, { method: 'PUT', path: objectPath(bucket, 'chunked') }, bytes(100_000, 1), { corruptChunk: 1 }));
    assertError(over, 403, 'SignatureDoesNotMatch');
    await expectUnchanged(before, 'bad chunked uploads');
    assert.ok((await getBody('chunked')).body.equals(data));
  });

  it('STREAMING-UNSIGNED-PAYLOAD-TRAILER with an x-amz-checksum-crc32 trailer; a wrong trailer is BadDigest', async () => {
    const data = bytes(150_000, 17);
    const crc = checksumB64('CRC32', data);
    const ok = await send(port, await unsignedTrailerRequest(port, { method: 'PUT', path: objectPath(bucket, 'trailer') }, data, 'x-amz-checksum-crc32', crc));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers['x-amz-checksum-crc32'], crc);
    const got = await signedSend(port, { method: 'GET', path: objectPath(bucket, 'trailer'), headers: { 'x-amz-checksum-mode': 'ENABLED' } });
    assert.ok(got.body.equals(data));
    assert.equal(got.headers['x-amz-checksum-crc32'], crc);
    const sha = checksumB64('SHA256', data);
    const ok2 = await send(port, await unsignedTrailerRequest(port, { method: 'PUT', path: objectPath(bucket, 'trailer-sha') }, data, 'x-amz-checksum-sha256', sha));
    assert.equal(ok2.status, 200, ok2.text);

    const before = await state();
    const bad = await send(
      port,
      await unsignedTrailerRequest(port, { method: 'PUT', path: objectPath(bucket, 'trailer-bad') }, data, 'x-amz-checksum-crc32', checksumB64('CRC32', Buffer.from('x'))),
    );
    assertError(bad, 400, 'BadDigest');
    const malformed = await send(
      port,
      await unsignedTrailerRequest(port, { method: 'PUT', path: objectPath(bucket, 'trailer-bad') }, data, 'x-amz-checksum-crc32', 'not-base64!'),
    );
    assertError(malformed, 400, 'InvalidRequest');
    await expectUnchanged(before, 'bad trailers');
  });

  it('aws-chunked inside Transfer-Encoding: chunked (no Content-Length), as the JS SDK sends streams', async () => {
    // AWS "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
    // Chunks": either Content-Length or Transfer-Encoding (then no Content-Length), and always
    // x-amz-decoded-content-length.
    const data = bytes(120_000, 19);
    const crc = checksumB64('CRC32', data);
    const req = await unsignedTrailerRequest(port, { method: 'PUT', path: objectPath(bucket, 'te-chunked') }, data, 'x-amz-checksum-crc32', crc, {
      httpChunked: true,
    });
    assert.equal(req.headers!['content-length'], undefined);
    const r = await send(port, req);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${md5hex(data)}"`);
    assert.ok((await getBody('te-chunked')).body.equals(data));
  });

  it('malformed XML bodies → 400 MalformedXML and no change', async () => {
    const created = await signedSend(port, { method: 'POST', path: objectPath(bucket, 'mpu'), query: { uploads: '' } });
    const uploadId = xmlText(created.text, 'UploadId')!;
    assert.ok(uploadId);
    const part = await signedSend(port, { method: 'PUT', path: objectPath(bucket, 'mpu'), query: { partNumber: '1', uploadId }, body: 'part' });
    assert.equal(part.status, 200);
    const before = await state();
    const bodies = ['<not-closed', 'plain text', '<Wrong/>', ''];
    for (const body of bodies) {
      const withMd5 = (b: string) => ({ 'content-md5': md5b64(b) });
      const ver = await signedSend(port, { method: 'PUT', path: objectPath(bucket), query: { versioning: '' }, headers: withMd5(body), body });
      assertError(ver, 400, 'MalformedXML', `PutBucketVersioning ${JSON.stringify(body)}:`);
      const tag = await signedSend(port, { method: 'PUT', path: objectPath(bucket), query: { tagging: '' }, headers: withMd5(body), body });
      assertError(tag, 400, 'MalformedXML', `PutBucketTagging ${JSON.stringify(body)}:`);
      const del = await signedSend(port, { method: 'POST', path: objectPath(bucket), query: { delete: '' }, headers: withMd5(body), body });
      assertError(del, 400, 'MalformedXML', `DeleteObjects ${JSON.stringify(body)}:`);
      const complete = await signedSend(port, { method: 'POST', path: objectPath(bucket, 'mpu'), query: { uploadId }, body });
      assertError(complete, 400, 'MalformedXML', `CompleteMultipartUpload ${JSON.stringify(body)}:`);
    }
    // Well-formed XML that does not validate.
    const badDelete = '<Delete><Object><NotAKey>existing</NotAKey></Object></Delete>';
    assertError(
      await signedSend(port, { method: 'POST', path: objectPath(bucket), query: { delete: '' }, headers: { 'content-md5': md5b64(badDelete) }, body: badDelete }),
      400,
      'MalformedXML',
    );
    const badPart = '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>';
    assertError(await signedSend(port, { method: 'POST', path: objectPath(bucket, 'mpu'), query: { uploadId }, body: badPart }), 400, 'MalformedXML');
    // DeleteObjects without Content-MD5 or a checksum.
    const goodDelete = '<Delete><Object><Key>existing</Key></Object></Delete>';
    assertError(await signedSend(port, { method: 'POST', path: objectPath(bucket), query: { delete: '' }, body: goodDelete }), 400, 'InvalidRequest');
    await expectUnchanged(before, 'malformed XML');
    assert.equal((await getBody('existing')).text, 'original');
  });

  it('a header section over 16 KiB → 400, and the server keeps serving', async () => {
    const before = await state();
    const signed = await signRequest(port, { method: 'PUT', path: objectPath(bucket, 'big-headers'), body: 'x' });
    const lines = Object.entries({ ...signed.headers, 'x-amz-meta-big': 'a'.repeat(17 * 1024) })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const answer = await rawExchange(port, `PUT ${signed.path} HTTP/1.1\r\n${lines}content-length: 1\r\n\r\nx`);
    assert.match(answer, /^HTTP\/1\.1 400 /, `answer: ${answer.slice(0, 200)}`);
    await expectUnchanged(before, 'oversized headers');
    assert.equal((await getBody('existing')).status, 200);
  });

  it('invalid bucket names in the path', async () => {
    const before = await state();
    for (const name of ['ab', 'Bad_Bucket', 'a..b', '-dash', 'x'.repeat(64)]) {
      const create = await signedSend(port, { method: 'PUT', path: objectPath(name) });
      assertError(create, 400, 'InvalidBucketName', `PUT /${name}:`);
      for (const [method, key] of [['GET', 'k'], ['PUT', 'k'], ['GET', undefined]] as const) {
        const r = await signedSend(port, { method, path: objectPath(name, key), body: method === 'PUT' ? 'x' : undefined });
        assert.ok(r.status === 400 || r.status === 404, `${method} /${name}/${key ?? ''}: ${r.status}`);
        assert.ok(r.code === 'InvalidBucketName' || r.code === 'NoSuchBucket', `${method} /${name}: ${r.code}`);
      }
    }
    await expectUnchanged(before, 'invalid bucket names');
  });

  it('ranges: unparseable ranges are ignored (200, whole object), unsatisfiable ones are 416', async () => {
    for (const range of ['bytes=abc', 'bytes=5-2', 'chars=0-1', 'bytes=']) {
      const r = await signedSend(port, { method: 'GET', path: objectPath(bucket, 'existing'), headers: { range } });
      assert.equal(r.status, 200, `${range}: ${r.status} ${r.text}`);
      assert.equal(r.text, 'original');
      assert.equal(r.headers['content-range'], undefined);
    }
    const r = await signedSend(port, { method: 'GET', path: objectPath(bucket, 'existing'), headers: { range: 'bytes=8-' } });
    assertError(r, 416, 'InvalidRange');
    assert.equal(r.headers['content-range'], 'bytes */8');
    const ok = await signedSend(port, { method: 'GET', path: objectPath(bucket, 'existing'), headers: { range: 'bytes=2-4' } });
    assert.equal(ok.status, 206);
    assert.equal(ok.text, 'igi');
    // Range and partNumber together are refused.
    const both = await signedSend(port, { method: 'GET', path: objectPath(bucket, 'existing'), query: { partNumber: '1' }, headers: { range: 'bytes=0-1' } });
    assertError(both, 400, 'InvalidRequest');
  });

  it('sub-resources S3 has but this server does not serve → 501 NotImplemented, and nothing changes', async () => {
    const before = await state();
    const lifecycle =
      '<LifecycleConfiguration><Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>';
    const cases: RawRequest[] = [
      { method: 'GET', path: objectPath(bucket), query: { cors: '' } },
      { method: 'GET', path: objectPath(bucket), query: { lifecycle: '' } },
      { method: 'PUT', path: objectPath(bucket), query: { lifecycle: '' }, headers: { 'content-md5': md5b64(lifecycle) }, body: lifecycle },
      { method: 'GET', path: objectPath(bucket), query: { website: '' } },
      { method: 'PUT', path: objectPath(bucket, 'existing'), query: { retention: '' }, body: '<Retention/>' },
      { method: 'POST', path: objectPath(bucket, 'existing'), query: { restore: '' }, body: '<RestoreRequest/>' },
    ];
    for (const c of cases) {
      const r = await signedSend(port, c);
      assertError(r, 501, 'NotImplemented', `${c.method} ?${Object.keys(c.query!)[0]}:`);
    }
    await expectUnchanged(before, 'unserved sub-resources');
  });

  it('a method an object does not have (POST without a sub-resource) is refused', async () => {
    const before = await state();
    const r = await signedSend(port, { method: 'POST', path: objectPath(bucket, 'existing'), body: 'x' });
    assert.ok(r.status >= 400 && r.status < 500, `POST object: ${r.status}`);
    assert.ok(r.code, 'an S3 error document');
    await expectUnchanged(before, 'POST object');
  });
});
