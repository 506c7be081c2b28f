/**
 * Listing with prefix, delimiter and paging, for objects, versions and multipart uploads alike.
 *
 * Cost follows the page, not the bucket: rows come from an index range scan in key order, and
 * when a key rolls up into a common prefix the scan seeks past every key under that prefix in
 * one step (to the prefix's upper bound) instead of reading them.
 */
import { prefixUpperBound } from '../storage/key-order.js';

export interface PageSource<R, C> {
  /** Rows in key order from a cursor (undefined: the start of the prefix). */
  fetch(cursor: C | undefined, limit: number): Promise<R[]>;
  keyOf(row: R): string;
  /** The cursor just after a row. */
  after(row: R): C;
  /** The cursor at the first row whose key is >= key. */
  atKey(key: string): C;
}

export interface Page<R> {
  rows: R[];
  prefixes: string[];
  truncated: boolean;
  /** The last row or common prefix of the page, whichever came last: the next page's marker. */
  last?: { row: R } | { prefix: string };
}

/** Largest number of rows read from the index per query while filling a page. */
const SCAN_BATCH = 1000;

/** The common prefix a key rolls up into, or undefined if it has none. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter || !key.startsWith(prefix)) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

/**
 * Where a listing that resumes after `marker` starts. A marker inside a common prefix (or equal
 * to one, as NextMarker is after a prefix) resumes past the whole prefix: S3 never returns a
 * common prefix twice.
 */
export function resumeAfterMarker<C>(
  marker: string,
  prefix: string,
  delimiter: string | undefined,
  src: Pick<PageSource<unknown, C>, 'atKey'>,
  exclusiveAt: (key: string) => C,
): C | undefined {
  const cp = commonPrefixOf(marker, prefix, delimiter);
  if (cp !== undefined) {
    const upper = prefixUpperBound(cp);
    return upper === null ? undefined : src.atKey(upper);
  }
  return exclusiveAt(marker);
}

export async function listPage<R, C>(
  src: PageSource<R, C>,
  prefix: string,
  delimiter: string | undefined,
  maxKeys: number,
  start: C | undefined,
): Promise<Page<R>> {
  const page: Page<R> = { rows: [], prefixes: [], truncated: false };
  // max-keys=0 asks for nothing: S3 answers an empty page that is not truncated, with no marker
  // or token, whatever the bucket holds (a truncated page with no token would loop a paginator).
  if (maxKeys <= 0) return page;
  let cursor = start;
  let count = 0;
  // With a delimiter, rows after the first of a common prefix are skipped, so reading ahead is
  // waste: batches start at one row after each seek and double while keys do not roll up.
  let batchSize = delimiter ? 1 : SCAN_BATCH;
  for (;;) {
    const limit = Math.min(maxKeys - count + 1, batchSize);
    const batch = await src.fetch(cursor, limit);
    let seeked = false;
    for (const row of batch) {
      if (count >= maxKeys) {
        page.truncated = true;
        return page;
      }
      const key = src.keyOf(row);
      const cp = commonPrefixOf(key, prefix, delimiter);
      if (cp === undefined) {
        page.rows.push(row);
        page.last = { row };
        count++;
        cursor = src.after(row);
        continue;
      }
      page.prefixes.push(cp);
      page.last = { prefix: cp };
      count++;
      const upper = prefixUpperBound(cp);
      if (upper === null) return page;
      cursor = src.atKey(upper);
      seeked = true;
      break;
    }
    if (seeked) batchSize = 1;
    else if (batch.length < limit) return page;
    else batchSize = Math.min(batchSize * 2, SCAN_BATCH);
  }
}
