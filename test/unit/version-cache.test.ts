import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VersionCache } from '../../src/storage/metadata/version-cache.js';
import type { VersionRecord } from '../../src/storage/types.js';
import { httpDate } from '../../src/dates.js';

/** A version with an inline body of `n` bytes: all the cache looks at. */
const version = (key: string, n = 1000) => ({ bucket: 'b', key, data: { kind: 'inline', bytes: Buffer.alloc(n) } }) as unknown as VersionRecord;

describe('VersionCache', () => {
  it('stays within its byte budget, and a read entry outlives unread older ones', () => {
    // Room for 16 entries of 100 bytes (+512 overhead each): an entry may use 1/16 of the budget.
    const cache = new VersionCache(16 * 612 + 100);
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
    for (const k of keys) cache.set(version(k, 100));
    for (const k of keys) assert.ok(cache.get('b', k), `${k} is cached`);
    // All read: k0 is given a second chance first and goes to the back; the next one in line
    // (k1, also read) too ... until one is found unflagged: the first one moved back, k0.
    cache.set(version('n0', 100));
    assert.equal(cache.get('b', 'k0'), undefined, 'oldest goes once everything had its second chance');
    assert.ok(cache.get('b', 'n0'));
    // k1 was flagged off by the sweep and not read since; k2 is read now: k1 goes, k2 stays.
    assert.ok(cache.get('b', 'k2'));
    cache.set(version('n1', 100));
    assert.equal(cache.get('b', 'k1'), undefined);
    assert.ok(cache.get('b', 'k2'), 'read since its second chance: kept');
    cache.invalidate('b', 'k2');
    assert.equal(cache.get('b', 'k2'), undefined);
  });

  it('keeps nothing too large and nothing with a zero budget', () => {
    const small = new VersionCache(16 * 1024);
    small.set(version('big', 2000));
    assert.equal(small.get('b', 'big'), undefined);
    const none = new VersionCache(0);
    none.set(version('x', 1));
    assert.equal(none.get('b', 'x'), undefined);
  });
});

describe('httpDate', () => {
  it('formats as HTTP dates, the same from its memo', () => {
    for (const ms of [0, 1795371267487, 1795371267487, Date.UTC(2026, 10, 22, 18, 0, 0)]) {
      assert.equal(httpDate(ms), new Date(ms).toUTCString());
    }
    for (let i = 0; i < 5000; i++) assert.equal(httpDate(i * 1000), new Date(i * 1000).toUTCString());
  });
});
