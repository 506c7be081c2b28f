/**
 * CopyObject and UploadPartCopy.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, xmlDocument } from '../../http/xml.js';
import { parseChecksumAlgorithm } from '../../objects/checksums.js';
import { writePrecondition } from '../../objects/conditions.js';
import { copyBody, findCopySource, MAX_COPY_SIZE, parseCopySource, type CopySource } from '../../objects/copy.js';
import type { BucketEntry } from '../../objects/buckets.js';
import type { DataKey } from '../../objects/data.js';
import { checkCustomerKey, dataKeyOf, openDataKey, seal } from '../../objects/encryption.js';
import { requireUpload, uploadPart, MAX_PART_SIZE } from '../../objects/multipart.js';
import { fullObjectChecksum, ingestSealed } from '../../objects/put.js';
import { commitVersion, versionHeader } from '../../objects/versions.js';
import type { ChecksumAlgorithm, ObjectMeta, Tags, VersionRecord } from '../../storage/types.js';
import { bucketOf, header, intParam, keyOf, xml, type Handler, type S3Call, writerOwner } from './call.js';
import { copySourceCustomerKey, customerKey, encryptionHeaders, encryptionRequest, kmsCaller } from './encryption.js';
import { uploadDataKey } from './multipart.js';
import {
  checkAclHeaders,
  checksumHeaders,
  metaFromHeaders,
  quoteEtag,
  storageClassFromHeaders,
  tagsFromHeader,
} from './object-headers.js';
import { isoTime } from './wire.js';

function sourceOf(call: S3Call, src: CopySource) {
  return findCopySource(call.app.buckets, src, {
    ifMatch: header(call, 'x-amz-copy-source-if-match'),
    ifNoneMatch: header(call, 'x-amz-copy-source-if-none-match'),
    ifModifiedSince: header(call, 'x-amz-copy-source-if-modified-since'),
    ifUnmodifiedSince: header(call, 'x-amz-copy-source-if-unmodified-since'),
  });
}

/**
 * How to read a copy's source: an SSE-C source needs its key in the copy-source SSE-C headers,
 * an SSE-KMS one kms:Decrypt on its key.
 */
function sourceKey(call: S3Call, srcBucket: BucketEntry, src: VersionRecord): DataKey | undefined {
  const enc = src.meta.encryption;
  const customer = copySourceCustomerKey(call);
  checkCustomerKey(enc, customer);
  if (!enc) return undefined;
  return dataKeyOf(enc, openDataKey(call.app, srcBucket, src.key, enc, { customer, caller: kmsCaller(call) }), src.size);
}

function directive(call: S3Call, name: string): 'COPY' | 'REPLACE' {
  const v = header(call, name);
  if (v === undefined || v === 'COPY') return 'COPY';
  if (v === 'REPLACE') return 'REPLACE';
  throw Errors.invalidArgument(`Unknown ${name === 'x-amz-metadata-directive' ? 'metadata' : 'tagging'} directive.`, name, v);
}

function checksumResultXml(c: { algorithm: ChecksumAlgorithm; value: string; type: string } | undefined): string {
  if (!c) return '';
  const name = `Checksum${c.algorithm}`;
  return el(name, c.value) + el('ChecksumType', c.type);
}

export const copyObject: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  checkAclHeaders(call);
  const encryption = encryptionRequest(call, bucket);
  const metaDirective = directive(call, 'x-amz-metadata-directive');
  const tagDirective = directive(call, 'x-amz-tagging-directive');
  const source = parseCopySource(header(call, 'x-amz-copy-source')!);
  const { bucket: srcBucket, version: src } = await sourceOf(call, source);
  if (src.size > MAX_COPY_SIZE) {
    throw Errors.invalidRequest(`The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_SIZE}`);
  }
  const storageClass = header(call, 'x-amz-storage-class') !== undefined ? storageClassFromHeaders(call) : src.storageClass;
  // Copying a named older version onto its key is how a previous version is restored.
  const sameObject = srcBucket.record.name === bucket.record.name && src.key === key && source.versionId === undefined;
  if (
    sameObject &&
    metaDirective === 'COPY' &&
    header(call, 'x-amz-storage-class') === undefined &&
    header(call, 'x-amz-website-redirect-location') === undefined &&
    encryption === undefined
  ) {
    throw Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const meta: ObjectMeta = metaDirective === 'REPLACE' ? metaFromHeaders(call) : src.meta;
  const tags: Tags = tagDirective === 'REPLACE' ? tagsFromHeader(call) : src.tags;
  const requestedAlg = header(call, 'x-amz-checksum-algorithm');
  const algorithm = requestedAlg !== undefined ? parseChecksumAlgorithm(requestedAlg) : src.checksum?.algorithm;
  if (requestedAlg !== undefined && !algorithm) throw Errors.invalidRequest('Invalid x-amz-checksum-algorithm.');
  const precondition = writePrecondition(key, header(call, 'if-match'), header(call, 'if-none-match'));
  // The copy is a new object: decrypted from the source's key, encrypted under its own (the
  // request's choice, else the destination bucket's default), never the source's.
  const crypt = sourceKey(call, srcBucket, src);
  const sealing = seal(call.app, bucket, key, encryption, kmsCaller(call));
  const body = copyBody(srcBucket, src, 0, src.size - 1, algorithm, crypt);
  const stored = await ingestSealed(bucket, body, call.app.config.inlineThreshold, meta, sealing);
  const { location, digests } = stored;
  const v = await commitVersion(
    bucket,
    key,
    {
      isDeleteMarker: false,
      size: digests.size,
      etag: digests.md5.toString('hex'),
      lastModified: call.now,
      storageClass,
      owner: writerOwner(call, bucket),
      meta: stored.meta,
      tags,
      checksum: fullObjectChecksum(digests),
      data: location,
    },
    precondition,
  );
  const result = el('LastModified', isoTime(v.lastModified)) + el('ETag', quoteEtag(v.etag)) + checksumResultXml(v.checksum);
  return xml(xmlDocument('CopyObjectResult', result), {
    'x-amz-version-id': versionHeader(bucket, v),
    'x-amz-copy-source-version-id': versionHeader(srcBucket, src),
    ...checksumHeaders(v.checksum),
    ...encryptionHeaders(v.meta.encryption, bucket.record.name, key),
  });
};

/** x-amz-copy-source-range: `bytes=first-last`, both required and within the source. */
function copyRange(value: string | undefined, size: number): { start: number; end: number } {
  if (value === undefined) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m) {
    throw Errors.invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', 'x-amz-copy-source-range', value);
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end >= size) {
    throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { RangeRequested: value, ActualObjectSize: size });
  }
  return { start, end };
}

export const uploadPartCopy: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const partNumber = intParam(call, 'partNumber', 1, 10000)!;
  const upload = await requireUpload(bucket, key, call.query.get('uploadId')!);
  const dataKey = uploadDataKey(call, bucket, upload, customerKey(call));
  const { bucket: srcBucket, version: src } = await sourceOf(call, parseCopySource(header(call, 'x-amz-copy-source')!));
  const { start, end } = copyRange(header(call, 'x-amz-copy-source-range'), src.size);
  if (end - start + 1 > MAX_PART_SIZE) throw Errors.entityTooLarge(end - start + 1, MAX_PART_SIZE);
  const crypt = sourceKey(call, srcBucket, src);
  const part = await uploadPart(bucket, upload, partNumber, copyBody(srcBucket, src, start, end, upload.checksumAlgorithm, crypt), call.now, dataKey);
  const result =
    el('LastModified', isoTime(part.lastModified)) + el('ETag', quoteEtag(part.etag)) + checksumResultXml(part.checksum);
  return xml(xmlDocument('CopyPartResult', result), {
    'x-amz-copy-source-version-id': versionHeader(srcBucket, src),
    ...encryptionHeaders(upload.meta.encryption),
  });
};
