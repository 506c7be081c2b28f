import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys, prefixUpperBound } from '../../src/storage/key-order.js';

const utf8Compare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('compareKeys', () => {
  it('orders like UTF-8 bytes, not like UTF-16 code units', () => {
    // U+FF5E (BMP, above U+E000) sorts after U+1F600 in UTF-16 but before it in UTF-8.
    const keys = ['a', 'b/', 'b', '\uFF5E', '\u{1F600}', 'é', 'z', '', 'a/b', 'a0', '\u{10FFFF}', '\uE000', '\uD7FF'];
    const expected = [...keys].sort(utf8Compare);
    assert.deepEqual([...keys].sort(compareKeys), expected);
    assert.ok(compareKeys('\uFF5E', '\u{1F600}') < 0);
    assert.ok('\uFF5E' > '\u{1F600}', 'JS string order differs, which is why compareKeys exists');
  });

  it('agrees with byte order on random strings', () => {
    const alphabet = ['a', 'b', '/', '\u00e9', '\uFF5E', '\u{1F600}', '\uE000', '\u0000', '~'];
    for (let i = 0; i < 2000; i++) {
      const r = () => Array.from({ length: Math.floor(Math.random() * 5) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
      const a = r();
      const b = r();
      assert.equal(Math.sign(compareKeys(a, b)), Math.sign(utf8Compare(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });
});

describe('prefixUpperBound', () => {
  it('is greater than every key with the prefix and not greater than the next key without it', () => {
    const p = 'photos/';
    const u = prefixUpperBound(p)!;
    assert.equal(u, 'photos0');
    for (const k of ['photos/', 'photos/a', 'photos/\u{10FFFF}\u{10FFFF}', 'photos/\uFFFF']) assert.ok(utf8Compare(k, u) < 0, k);
    assert.ok(utf8Compare('photos0', u) >= 0);
  });

  it('skips the surrogate range and carries past U+10FFFF', () => {
    assert.equal(prefixUpperBound('a\uD7FF'), 'a\uE000');
    assert.equal(prefixUpperBound('a\u{10FFFF}'), 'b');
    assert.equal(prefixUpperBound('\u{10FFFF}\u{10FFFF}'), null);
    assert.equal(prefixUpperBound(''), null);
  });
});
