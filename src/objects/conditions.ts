/**
 * Conditional requests: If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since on
 * reads (RFC 7232 order, as S3 applies them), and If-Match / If-None-Match: * on writes.
 */
import { Errors, S3Error } from '../errors.js';
import type { VersionRecord } from '../storage/types.js';

export interface ReadConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

function etagList(value: string): string[] {
  return value.split(',').map((s) => s.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
}

export function etagMatches(condition: string, etag: string): boolean {
  return etagList(condition).some((e) => e === '*' || e === etag);
}

/** HTTP dates have second precision; Last-Modified is compared at that precision. */
function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Evaluates read preconditions. Returns 'not-modified' for a 304; throws PreconditionFailed
 * for a 412. An unparseable date is ignored, as HTTP says.
 */
export function evaluateReadConditions(v: VersionRecord, c: ReadConditions): 'ok' | 'not-modified' {
  const lastModified = Math.floor(v.lastModified / 1000) * 1000;
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, v.etag)) throw Errors.preconditionFailed('If-Match');
  } else {
    const since = parseHttpDate(c.ifUnmodifiedSince);
    if (since !== undefined && lastModified > since) throw Errors.preconditionFailed('If-Unmodified-Since');
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, v.etag)) return 'not-modified';
  } else {
    const since = parseHttpDate(c.ifModifiedSince);
    if (since !== undefined && lastModified <= since) return 'not-modified';
  }
  return 'ok';
}

/**
 * The precondition of a conditional write, checked inside the commit against the key's latest
 * version: If-None-Match: * needs no current object, If-Match needs the current one's ETag.
 */
export function writePrecondition(
  key: string,
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
): ((latest: VersionRecord | undefined) => void) | undefined {
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', {
      Header: 'If-None-Match',
      AdditionalMessage: 'We don\'t accept the provided value of If-None-Match header for this API',
    });
  }
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (latest) => {
    const exists = latest !== undefined && !latest.isDeleteMarker;
    if (ifNoneMatch !== undefined && exists) throw Errors.preconditionFailed('If-None-Match');
    if (ifMatch !== undefined) {
      if (!exists) throw Errors.noSuchKey(key);
      if (!etagMatches(ifMatch, latest.etag)) throw Errors.preconditionFailed('If-Match');
    }
  };
}
