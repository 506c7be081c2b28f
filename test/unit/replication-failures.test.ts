import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asPermanent, ReplicationFailure, retryDelay } from '../../src/replication/failures.js';
import { UnreadableData } from '../../src/objects/data.js';

describe('replication failure classification', () => {
  it('keeps explicit failures, turns damaged or missing source data into SrcVersionNotFound', () => {
    const f = new ReplicationFailure('DstBucketNotFound', 'gone');
    assert.equal(asPermanent(f), f);
    assert.equal(asPermanent(new UnreadableData('short read'))?.reason, 'SrcVersionNotFound');
    const enoent = Object.assign(new Error('open blobs/ab/cd'), { code: 'ENOENT' });
    assert.equal(asPermanent(enoent)?.reason, 'SrcVersionNotFound');
  });
  it('leaves network and server errors transient', () => {
    assert.equal(asPermanent(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), undefined);
    assert.equal(asPermanent(new Error('503 SlowDown')), undefined);
  });
  it('backs off from 200 ms, doubling, to at most 30 s (±25%)', () => {
    for (let i = 0; i < 50; i++) {
      const first = retryDelay(0);
      assert.ok(first >= 150 && first <= 250, String(first));
      const late = retryDelay(20);
      assert.ok(late >= 22_500 && late <= 37_500, String(late));
    }
  });
});
