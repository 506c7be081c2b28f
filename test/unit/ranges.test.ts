import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from '../../src/api/s3/object-read.js';
import { multipartEtag } from '../../src/objects/multipart.js';
import { createHash } from 'node:crypto';

describe('Range header', () => {
  it('parses the three forms', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-1000', 100), { start: 50, end: 99 });
  });
  it('ignores what it cannot parse, like S3 (whole object)', () => {
    for (const r of ['bytes=a-b', 'items=0-1', 'bytes=5-1', 'bytes=0-1,3-4', 'bytes=-']) assert.equal(parseRange(r, 100), undefined, r);
  });
  it('416 when the range starts past the end', () => {
    assert.throws(() => parseRange('bytes=100-', 100), { code: 'InvalidRange', status: 416 });
    assert.throws(() => parseRange('bytes=0-0', 0), { code: 'InvalidRange' });
  });
});

describe('multipart ETag', () => {
  it('is the MD5 of the binary part MD5s, dash, count', () => {
    const a = createHash('md5').update('a').digest('hex');
    const b = createHash('md5').update('b').digest('hex');
    const expected = createHash('md5').update(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')])).digest('hex') + '-2';
    const part = (etag: string, n: number) => ({ partNumber: n, etag, size: 1, blobId: 'x', lastModified: 0 });
    assert.equal(multipartEtag([part(a, 1), part(b, 2)]), expected);
  });
});
