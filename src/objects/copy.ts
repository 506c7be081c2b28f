/**
 * The source side of CopyObject and UploadPartCopy: parsing x-amz-copy-source, finding the
 * source version under its conditions, and streaming (a range of) it as a new body.
 */
import { Errors, S3Error } from '../errors.js';
import type { ChecksumAlgorithm, VersionRecord } from '../storage/types.js';
import type { BucketDirectory, BucketEntry } from './buckets.js';
import { etagMatches, type ReadConditions } from './conditions.js';
import { openRange, UnreadableData, type DataKey, type ObjectBody } from './data.js';
import { Digester } from './digester.js';
import { checkVersionIdArgument } from './versions.js';

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/** Largest object CopyObject copies in one request (larger ones need UploadPartCopy). */
export const MAX_COPY_SIZE = 5 * 1024 * 1024 * 1024;

const invalidSource = () =>
  Errors.invalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source');

/** `bucket/key[?versionId=id]`, URL-encoded, with or without a leading slash. */
export function parseCopySource(value: string): CopySource {
  let v = value.startsWith('/') ? value.slice(1) : value;
  let versionId: string | undefined;
  const q = v.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(v.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    v = v.slice(0, q);
  }
  const slash = v.indexOf('/');
  if (slash <= 0 || slash === v.length - 1) throw invalidSource();
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(v.slice(0, slash));
    key = decodeURIComponent(v.slice(slash + 1));
  } catch {
    throw invalidSource();
  }
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId };
}

/** The copy source version, after its x-amz-copy-source-if-* conditions (all 412 on failure). */
export async function findCopySource(
  buckets: BucketDirectory,
  src: CopySource,
  conditions: ReadConditions,
): Promise<{ bucket: BucketEntry; version: VersionRecord }> {
  checkVersionIdArgument(src.versionId);
  const bucket = buckets.require(src.bucket);
  const v = await bucket.region.meta.getVersion(src.bucket, src.key, src.versionId);
  if (!v) {
    if (src.versionId === undefined) throw Errors.noSuchKey(src.key);
    throw Errors.noSuchVersion(src.key, src.versionId);
  }
  if (v.isDeleteMarker) {
    if (src.versionId === undefined) throw Errors.noSuchKey(src.key);
    throw new S3Error('InvalidRequest', 400, 'The source of a copy request may not specifically refer to a delete marker by version id.');
  }
  checkCopyConditions(v, conditions);
  return { bucket, version: v };
}

/**
 * Copy-source conditions differ from GET's: every failing one is a 412, and If-Match true with
 * If-Unmodified-Since false (or If-None-Match false with If-Modified-Since true) still copies.
 */
function checkCopyConditions(v: VersionRecord, c: ReadConditions): void {
  const lastModified = Math.floor(v.lastModified / 1000) * 1000;
  const date = (s: string | undefined) => (s === undefined || Number.isNaN(Date.parse(s)) ? undefined : Date.parse(s));
  const failed = (name: string) => Errors.preconditionFailed(`x-amz-copy-source-${name}`);
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, v.etag)) throw failed('If-Match');
  } else {
    const since = date(c.ifUnmodifiedSince);
    if (since !== undefined && lastModified > since) throw failed('If-Unmodified-Since');
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, v.etag)) throw failed('If-None-Match');
  } else {
    const since = date(c.ifModifiedSince);
    if (since !== undefined && lastModified <= since) throw failed('If-Modified-Since');
  }
}

/**
 * Bytes [start, end] of a stored version as a (plaintext) body to write elsewhere; `crypt`
 * opens an encrypted version (objects/encryption.ts dataKeyOf).
 */
export function copyBody(
  bucket: BucketEntry,
  v: VersionRecord,
  start: number,
  end: number,
  algorithm: ChecksumAlgorithm | undefined,
  crypt?: DataKey,
): ObjectBody {
  const length = end - start + 1;
  const digester = new Digester(algorithm, false);
  const source = length > 0 ? openRange(bucket.region.blobs, v.data, start, end, crypt) : undefined;
  let ended = false;
  async function* stream(): AsyncGenerator<Buffer> {
    if (source) {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        digester.update(chunk);
        yield chunk;
      }
    }
    ended = true;
  }
  return {
    length,
    stream: stream(),
    async finish() {
      const d = digester.digest();
      // A stored object that reads back shorter or longer than recorded is damage, not a client error.
      if (!ended || d.size !== length) throw new UnreadableData(`${v.key} (version ${v.versionId}) read back ${d.size} bytes, not ${length}`);
      return d;
    },
  };
}
