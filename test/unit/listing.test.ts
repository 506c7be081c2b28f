import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commonPrefixOf, listPage, resumeAfterMarker, type PageSource } from '../../src/objects/listing.js';
import { compareKeys } from '../../src/storage/key-order.js';

type Cursor = { key: string; inclusive: boolean };

/** A sorted key list behind the PageSource interface, counting rows read. */
function source(keys: string[], prefix: string) {
  const sorted = [...new Set(keys)].sort(compareKeys);
  const stats = { rowsRead: 0, queries: 0 };
  const src: PageSource<string, Cursor> = {
    async fetch(cursor, limit) {
      stats.queries++;
      const rows = sorted.filter(
        (k) =>
          k.startsWith(prefix) &&
          (!cursor || (cursor.inclusive ? compareKeys(k, cursor.key) >= 0 : compareKeys(k, cursor.key) > 0)),
      );
      const out = rows.slice(0, limit);
      stats.rowsRead += out.length;
      return out;
    },
    keyOf: (k) => k,
    after: (k) => ({ key: k, inclusive: false }),
    atKey: (k) => ({ key: k, inclusive: true }),
  };
  return { src, stats, sorted };
}

/** The whole listing as S3 defines it, computed naively. */
function expected(keys: string[], prefix: string, delimiter?: string) {
  const items: string[] = [];
  for (const k of [...new Set(keys)].sort(compareKeys)) {
    if (!k.startsWith(prefix)) continue;
    const cp = commonPrefixOf(k, prefix, delimiter);
    const item = cp ?? k;
    if (items[items.length - 1] !== item) items.push(item);
  }
  return items;
}

async function listAll(keys: string[], prefix: string, delimiter: string | undefined, maxKeys: number) {
  const { src } = source(keys, prefix);
  const items: string[] = [];
  let start: Cursor | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await listPage(src, prefix, delimiter, maxKeys, start);
    const pageItems = [...page.rows, ...page.prefixes].sort(compareKeys);
    items.push(...pageItems);
    assert.ok(pageItems.length <= maxKeys);
    if (!page.truncated) return items;
    assert.ok(page.last, 'a truncated page names its last item');
    const marker = 'prefix' in page.last ? page.last.prefix : page.last.row;
    start = resumeAfterMarker(marker, prefix, delimiter, src, (k) => ({ key: k, inclusive: false }));
  }
  throw new Error('listing did not end');
}

const KEYS = [
  'a', 'a/', 'a/b', 'a/b/c', 'a/b/d', 'a/c', 'a0', 'a//x', 'b', 'b/1', 'b/2/3', 'c/\u00e9/1', 'c/\u{1F600}', 'c/\uFF5E',
  'photos/2024/jan/1.jpg', 'photos/2024/feb/2.jpg', 'photos/2025/x.jpg', 'photos/readme', 'z', 'zz/top',
];

describe('listPage', () => {
  for (const delimiter of [undefined, '/', 'b', '//']) {
    for (const prefix of ['', 'a', 'a/', 'photos/', 'c/', 'nothing']) {
      for (const maxKeys of [1, 2, 3, 7, 1000]) {
        it(`prefix=${JSON.stringify(prefix)} delimiter=${JSON.stringify(delimiter)} max=${maxKeys}`, async () => {
          assert.deepEqual(await listAll(KEYS, prefix, delimiter, maxKeys), expected(KEYS, prefix, delimiter));
        });
      }
    }
  }

  it('reads rows per page, not per bucket: a common prefix is skipped with one seek', async () => {
    const keys: string[] = [];
    for (let d = 0; d < 20; d++) for (let i = 0; i < 500; i++) keys.push(`dir${String(d).padStart(2, '0')}/obj${i}`);
    const { src, stats } = source(keys, '');
    const page = await listPage(src, '', '/', 1000, undefined);
    assert.equal(page.prefixes.length, 20);
    assert.equal(page.truncated, false);
    // One row per prefix plus the final empty query, never the 10,000 keys under them.
    assert.ok(stats.rowsRead <= 20, `read ${stats.rowsRead} rows`);
  });

  it('resumes after a marker inside a common prefix without repeating the prefix', async () => {
    const { src } = source(KEYS, '');
    const start = resumeAfterMarker('a/b', '', '/', src, (k) => ({ key: k, inclusive: false }));
    const page = await listPage(src, '', '/', 1000, start);
    assert.deepEqual([...page.rows, ...page.prefixes].sort(compareKeys), ['a0', 'b', 'b/', 'c/', 'photos/', 'z', 'zz/']);
  });

  it('max-keys 0 returns nothing, not truncated, even when keys exist (as S3 does)', async () => {
    const { src, stats } = source(KEYS, '');
    const page = await listPage(src, '', undefined, 0, undefined);
    assert.deepEqual(page.rows, []);
    assert.deepEqual(page.prefixes, []);
    assert.equal(page.truncated, false);
    assert.equal(page.last, undefined);
    assert.equal(stats.queries, 0);
  });
});
