/**
 * GetObject and HeadObject: version resolution, conditional requests, Range and partNumber,
 * response-* overrides, checksum mode.
 */
import { S3Error } from '../../errors.js';
import { evaluateReadConditions } from '../../objects/conditions.js';
import { readRange } from '../../objects/data.js';
import { checkCustomerKey, dataKeyOf, openDataKey } from '../../objects/encryption.js';
import { findReadableVersion, versionHeader } from '../../objects/versions.js';
import type { VersionRecord } from '../../storage/types.js';
import type { S3Response } from '../../http/respond.js';
import { bucketOf, header, intParam, keyOf, type Handler, type S3Call } from './call.js';
import { versionHeaders } from './object-headers.js';
import { kmsCaller, readCustomerKey } from './encryption.js';

interface ByteRange {
  start: number;
  end: number;
}

const invalidRange = (size: number, requested: string) =>
  new S3Error(
    'InvalidRange',
    416,
    'The requested range is not satisfiable',
    { RangeRequested: requested, ActualObjectSize: size },
    { 'content-range': `bytes */${size}` },
  );

/**
 * One byte range of a Range header. Syntactically invalid or multi-range headers are ignored
 * (the whole object is returned), as S3 does; a range starting past the end is a 416.
 */
export function parseRange(value: string, size: number): ByteRange | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size, value);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw invalidRange(size, value);
  return { start, end };
}

/** The byte range of part N of a version (the whole object is its only part unless multipart). */
function partRange(v: VersionRecord, partNumber: number): ByteRange {
  if (v.data.kind !== 'parts') {
    if (partNumber !== 1) throw new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable', { PartNumberRequested: partNumber, ActualPartCount: 1 });
    return { start: 0, end: v.size - 1 };
  }
  const parts = v.data.parts;
  if (partNumber > parts.length) {
    throw new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable', {
      PartNumberRequested: partNumber,
      ActualPartCount: parts.length,
    });
  }
  let start = 0;
  for (let i = 0; i < partNumber - 1; i++) start += parts[i]!.size;
  return { start, end: start + parts[partNumber - 1]!.size - 1 };
}

async function read(call: S3Call, withBody: boolean): Promise<S3Response> {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const versionId = call.query.get('versionId');
  const partNumber = intParam(call, 'partNumber', 1, 10000);
  const rangeHeader = header(call, 'range');
  if (partNumber !== undefined && rangeHeader !== undefined) {
    throw new S3Error('InvalidRequest', 400, 'Cannot specify both Range header and partNumber query parameter');
  }
  const customer = readCustomerKey(call);
  const v = await findReadableVersion(bucket, key, versionId, call.method);
  const enc = v.meta.encryption;
  checkCustomerKey(enc, customer);
  const headers = versionHeaders(v, versionHeader(bucket, v), call);
  const condition = evaluateReadConditions(v, {
    ifMatch: header(call, 'if-match'),
    ifNoneMatch: header(call, 'if-none-match'),
    ifModifiedSince: header(call, 'if-modified-since'),
    ifUnmodifiedSince: header(call, 'if-unmodified-since'),
  });
  if (condition === 'not-modified') {
    return { status: 304, headers: { etag: headers.etag, 'last-modified': headers['last-modified'], 'x-amz-version-id': headers['x-amz-version-id'] } };
  }
  let range: ByteRange | undefined;
  if (partNumber !== undefined) {
    range = partRange(v, partNumber);
    if (v.partsCount !== undefined) headers['x-amz-mp-parts-count'] = v.partsCount;
  } else if (rangeHeader !== undefined) {
    range = parseRange(rangeHeader, v.size);
  }
  if (range && v.size > 0) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else {
    range = undefined;
    headers['content-length'] = v.size;
  }
  const status = range ? 206 : 200;
  if (!withBody) return { status, headers };
  // A GET of an SSE-KMS object needs kms:Decrypt (and a usable key), even an empty one; a
  // HEAD needs neither, as on AWS.
  const crypt = enc ? dataKeyOf(enc, openDataKey(call.app, bucket, key, enc, { customer, caller: kmsCaller(call) }), v.size) : undefined;
  if (v.size === 0) return { status, headers };
  const start = range?.start ?? 0;
  const end = range?.end ?? v.size - 1;
  return { status, headers, body: readRange(bucket.region.blobs, v.data, start, end, crypt) };
}

export const getObject: Handler = (call) => read(call, true);
export const headObject: Handler = (call) => read(call, false);
