import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bucketFromHost, parseQuery, resolveTarget } from '../../src/http/addressing.js';
import { validateBucketName } from '../../src/objects/bucket-names.js';

describe('addressing', () => {
  it('path style', () => {
    const t = resolveTarget('/bucket/a/b%20c.txt?versionId=x&tagging', '127.0.0.1:9000', ['localhost']);
    assert.equal(t.bucket, 'bucket');
    assert.equal(t.key, 'a/b c.txt');
    assert.equal(t.query.get('versionId'), 'x');
    assert.equal(t.query.get('tagging'), '');
    assert.equal(t.rawPath, '/bucket/a/b%20c.txt');
  });
  it('keys keep slashes, dots and empty segments', () => {
    assert.equal(resolveTarget('/b/../x//y/', 'localhost', ['localhost']).key, '../x//y/');
    assert.equal(resolveTarget('/b/', 'localhost', ['localhost']).key, undefined);
    assert.equal(resolveTarget('/', 'localhost', ['localhost']).bucket, undefined);
  });
  it('virtual-host style', () => {
    assert.equal(bucketFromHost('my.bucket.localhost:9000', ['localhost']), 'my.bucket');
    assert.equal(bucketFromHost('mybucket.s3.us-west-2.localhost', ['localhost']), 'mybucket');
    assert.equal(bucketFromHost('s3.localhost:9000', ['localhost']), undefined);
    assert.equal(bucketFromHost('s3.us-west-2.localhost', ['localhost']), undefined);
    assert.equal(bucketFromHost('localhost:9000', ['localhost']), undefined);
    assert.equal(bucketFromHost('127.0.0.1:9000', ['localhost']), undefined);
    const t = resolveTarget('/photo%2B1.jpg', 'pics.localhost:9000', ['localhost']);
    assert.equal(t.bucket, 'pics');
    assert.equal(t.key, 'photo+1.jpg');
  });
  it('query: plus stays plus, first value wins, bad escapes are InvalidURI', () => {
    const q = parseQuery('a=1+2&a=3&b=%2B&c');
    assert.equal(q.get('a'), '1+2');
    assert.equal(q.get('b'), '+');
    assert.equal(q.get('c'), '');
    assert.throws(() => resolveTarget('/b/%E0%A4%A', 'localhost', []), { code: 'InvalidURI' });
  });
});

describe('bucket names', () => {
  it('accepts valid names', () => {
    for (const n of ['abc', 'my-bucket', 'my.bucket.1', 'a'.repeat(63), '123']) validateBucketName(n);
  });
  it('rejects invalid names', () => {
    for (const n of ['ab', 'a'.repeat(64), 'ABC', 'a_b', '-abc', 'abc-', 'a..b', 'a.-b', '192.168.1.1', 'xn--abc', 'abc-s3alias', 'sthree-x', 'a b']) {
      assert.throws(() => validateBucketName(n), { code: 'InvalidBucketName' }, n);
    }
  });
});
