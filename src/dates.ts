/**
 * The two ways S3 writes times: HTTP dates in headers (Last-Modified) and ISO 8601 with
 * milliseconds in XML documents (LastModified, CreationDate).
 */

/**
 * Recently formatted HTTP dates: Last-Modified of hot objects repeats, and formatting one was 6%
 * of a 4 KiB GET. Emptied when full rather than LRU: a miss is cheap, a hit must be cheaper.
 */
const httpDates = new Map<number, string>();
const HTTP_DATES_MAX = 4096;

export function httpDate(ms: number): string {
  let s = httpDates.get(ms);
  if (s === undefined) {
    s = new Date(ms).toUTCString();
    if (httpDates.size >= HTTP_DATES_MAX) httpDates.clear();
    httpDates.set(ms, s);
  }
  return s;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
