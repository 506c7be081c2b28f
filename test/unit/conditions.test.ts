import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { etagMatches, evaluateReadConditions, writePrecondition } from '../../src/objects/conditions.js';
import { S3Error } from '../../src/errors.js';
import type { VersionRecord } from '../../src/storage/types.js';

const v = {
  etag: 'abc123',
  lastModified: Date.parse('2024-05-01T10:00:00.500Z'),
  isDeleteMarker: false,
} as VersionRecord;

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as S3Error).code + ':' + (e as S3Error).status;
  }
  return 'ok';
};

describe('read conditions', () => {
  it('If-Match', () => {
    assert.equal(evaluateReadConditions(v, { ifMatch: '"abc123"' }), 'ok');
    assert.equal(evaluateReadConditions(v, { ifMatch: '*' }), 'ok');
    assert.equal(evaluateReadConditions(v, { ifMatch: '"x", "abc123"' }), 'ok');
    assert.equal(code(() => evaluateReadConditions(v, { ifMatch: '"nope"' })), 'PreconditionFailed:412');
  });
  it('If-None-Match', () => {
    assert.equal(evaluateReadConditions(v, { ifNoneMatch: '"abc123"' }), 'not-modified');
    assert.equal(evaluateReadConditions(v, { ifNoneMatch: '"other"' }), 'ok');
  });
  it('dates compare at second precision', () => {
    assert.equal(evaluateReadConditions(v, { ifModifiedSince: 'Wed, 01 May 2024 10:00:00 GMT' }), 'not-modified');
    assert.equal(evaluateReadConditions(v, { ifModifiedSince: 'Wed, 01 May 2024 09:59:59 GMT' }), 'ok');
    assert.equal(evaluateReadConditions(v, { ifUnmodifiedSince: 'Wed, 01 May 2024 10:00:00 GMT' }), 'ok');
    assert.equal(code(() => evaluateReadConditions(v, { ifUnmodifiedSince: 'Wed, 01 May 2024 09:00:00 GMT' })), 'PreconditionFailed:412');
    assert.equal(evaluateReadConditions(v, { ifModifiedSince: 'not a date' }), 'ok');
  });
  it('If-Match true wins over If-Unmodified-Since false; If-None-Match false wins over If-Modified-Since', () => {
    assert.equal(evaluateReadConditions(v, { ifMatch: '"abc123"', ifUnmodifiedSince: 'Wed, 01 May 2024 09:00:00 GMT' }), 'ok');
    assert.equal(evaluateReadConditions(v, { ifNoneMatch: '"zzz"', ifModifiedSince: 'Wed, 01 May 2024 11:00:00 GMT' }), 'ok');
  });
  it('etag lists and weak tags', () => {
    assert.ok(etagMatches('W/"abc123"', 'abc123'));
    assert.ok(!etagMatches('"abc"', 'abc123'));
  });
});

describe('write preconditions', () => {
  it('If-None-Match: * refuses an existing object but not a delete marker', () => {
    const check = writePrecondition('k', undefined, '*')!;
    assert.equal(code(() => check(undefined)), 'ok');
    assert.equal(code(() => check(v)), 'PreconditionFailed:412');
    assert.equal(code(() => check({ ...v, isDeleteMarker: true })), 'ok');
  });
  it('If-Match needs the current ETag, NoSuchKey when there is none', () => {
    const check = writePrecondition('k', '"abc123"', undefined)!;
    assert.equal(code(() => check(v)), 'ok');
    assert.equal(code(() => check(undefined)), 'NoSuchKey:404');
    assert.equal(code(() => writePrecondition('k', '"zz"', undefined)!(v)), 'PreconditionFailed:412');
  });
  it('If-None-Match with an ETag is not implemented on writes', () => {
    assert.equal(code(() => writePrecondition('k', undefined, '"abc"')), 'NotImplemented:501');
    assert.equal(writePrecondition('k', undefined, undefined), undefined);
  });
});
