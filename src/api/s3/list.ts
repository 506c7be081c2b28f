/**
 * ListObjects (v1), ListObjectsV2 and ListObjectVersions.
 */
import { Errors } from '../../errors.js';
import { el, xmlDocument } from '../../http/xml.js';
import { listPage, resumeAfterMarker, type Page, type PageSource } from '../../objects/listing.js';
import type { ListedVersion, MetadataStore, ScanFrom } from '../../storage/types.js';
import { bucketOf, intParam, xml, type Handler, type S3Call } from './call.js';
import { quoteEtag } from './object-headers.js';
import { encodedEl, isoTime, listingEncoder, ownerXml } from './wire.js';

const MAX_KEYS = 1000;

function maxKeysOf(call: S3Call, name = 'max-keys'): number {
  return Math.min(intParam(call, name, 0, 2147483647) ?? MAX_KEYS, MAX_KEYS);
}

function currentObjects(store: MetadataStore, bucket: string, prefix: string): PageSource<ListedVersion, ScanFrom> {
  return {
    fetch: (cursor, limit) => store.scanCurrent(bucket, prefix, cursor, limit),
    keyOf: (r) => r.key,
    after: (r) => ({ key: r.key, inclusive: false }),
    atKey: (key) => ({ key, inclusive: true }),
  };
}

function delimiterOf(call: S3Call): string | undefined {
  const d = call.query.get('delimiter');
  return d === '' ? undefined : d;
}

function contentsXml(rows: ListedVersion[], encode: (s: string) => string, withOwner: boolean): string {
  let out = '';
  for (const r of rows) {
    out +=
      '<Contents>' +
      encodedEl('Key', r.key, encode) +
      el('LastModified', isoTime(r.lastModified)) +
      el('ETag', quoteEtag(r.etag)) +
      el('ChecksumAlgorithm', r.checksumAlgorithm) +
      el('ChecksumType', r.checksumType) +
      el('Size', r.size) +
      (withOwner ? ownerXml(r.owner) : '') +
      el('StorageClass', r.storageClass) +
      '</Contents>';
  }
  return out;
}

function prefixesXml(prefixes: string[], encode: (s: string) => string): string {
  let out = '';
  for (const p of prefixes) out += `<CommonPrefixes>${encodedEl('Prefix', p, encode)}</CommonPrefixes>`;
  return out;
}

function lastItem(page: Page<ListedVersion>): string | undefined {
  if (!page.last) return undefined;
  return 'prefix' in page.last ? page.last.prefix : page.last.row.key;
}

export const listObjects: Handler = async (call) => {
  const bucket = bucketOf(call);
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = delimiterOf(call);
  const marker = call.query.get('marker') ?? '';
  const maxKeys = maxKeysOf(call);
  const encode = listingEncoder(call.query.get('encoding-type'));
  const src = currentObjects(bucket.region.meta, bucket.record.name, prefix);
  const start = marker ? resumeAfterMarker(marker, prefix, delimiter, src, (k) => ({ key: k, inclusive: false })) : undefined;
  const page = await listPage(src, prefix, delimiter, maxKeys, start);
  const body =
    el('Name', bucket.record.name) +
    encodedEl('Prefix', prefix, encode) +
    encodedEl('Marker', marker, encode) +
    (page.truncated && delimiter !== undefined ? encodedEl('NextMarker', lastItem(page), encode) : '') +
    el('MaxKeys', maxKeys) +
    encodedEl('Delimiter', delimiter, encode) +
    el('IsTruncated', page.truncated) +
    el('EncodingType', call.query.get('encoding-type')) +
    contentsXml(page.rows, encode, true) +
    prefixesXml(page.prefixes, encode);
  return xml(xmlDocument('ListBucketResult', body));
};

/** Continuation tokens carry the last item of the previous page, opaque to the client. */
function encodeToken(item: string): string {
  return Buffer.from(`1:${item}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  if (!s.startsWith('1:') || encodeToken(s.slice(2)) !== token) {
    throw Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return s.slice(2);
}

export const listObjectsV2: Handler = async (call) => {
  const bucket = bucketOf(call);
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = delimiterOf(call);
  const token = call.query.get('continuation-token');
  const startAfter = call.query.get('start-after');
  const maxKeys = maxKeysOf(call);
  const encode = listingEncoder(call.query.get('encoding-type'));
  const fetchOwner = call.query.get('fetch-owner') === 'true';
  const src = currentObjects(bucket.region.meta, bucket.record.name, prefix);
  const resumeFrom = token !== undefined ? decodeToken(token) : startAfter;
  const start = resumeFrom
    ? resumeAfterMarker(resumeFrom, prefix, delimiter, src, (k) => ({ key: k, inclusive: false }))
    : undefined;
  const page = await listPage(src, prefix, delimiter, maxKeys, start);
  const last = lastItem(page);
  const body =
    el('Name', bucket.record.name) +
    encodedEl('Prefix', prefix, encode) +
    el('ContinuationToken', token) +
    (page.truncated && last !== undefined ? el('NextContinuationToken', encodeToken(last)) : '') +
    el('KeyCount', page.rows.length + page.prefixes.length) +
    el('MaxKeys', maxKeys) +
    encodedEl('Delimiter', delimiter, encode) +
    el('IsTruncated', page.truncated) +
    el('EncodingType', call.query.get('encoding-type')) +
    encodedEl('StartAfter', startAfter, encode) +
    contentsXml(page.rows, encode, fetchOwner) +
    prefixesXml(page.prefixes, encode);
  return xml(xmlDocument('ListBucketResult', body));
};

type VersionCursor = { key: string; afterSeq?: number; inclusiveKey: boolean };

export const listObjectVersions: Handler = async (call) => {
  const bucket = bucketOf(call);
  const store = bucket.region.meta;
  const name = bucket.record.name;
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = delimiterOf(call);
  const keyMarker = call.query.get('key-marker') ?? '';
  const versionIdMarker = call.query.get('version-id-marker');
  const maxKeys = maxKeysOf(call);
  const encode = listingEncoder(call.query.get('encoding-type'));
  const src: PageSource<ListedVersion & { seq: number }, VersionCursor> = {
    fetch: (cursor, limit) => store.scanVersions(name, prefix, cursor, limit),
    keyOf: (r) => r.key,
    after: (r) => ({ key: r.key, afterSeq: r.seq, inclusiveKey: false }),
    atKey: (key) => ({ key, inclusiveKey: true }),
  };
  let start: VersionCursor | undefined;
  if (versionIdMarker !== undefined && versionIdMarker !== '') {
    if (keyMarker === '') {
      throw Errors.invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
    }
    const seq = await store.versionSeq(name, keyMarker, versionIdMarker);
    if (seq === undefined) throw Errors.invalidArgument('Invalid version id specified', 'version-id-marker', versionIdMarker);
    start = { key: keyMarker, afterSeq: seq, inclusiveKey: false };
  } else if (keyMarker !== '') {
    start = resumeAfterMarker(keyMarker, prefix, delimiter, src, (k) => ({ key: k, inclusiveKey: false }));
  }
  const page = await listPage(src, prefix, delimiter, maxKeys, start);
  let entries = '';
  for (const r of page.rows) {
    const common =
      encodedEl('Key', r.key, encode) +
      el('VersionId', r.versionId) +
      el('IsLatest', r.isLatest) +
      el('LastModified', isoTime(r.lastModified));
    entries += r.isDeleteMarker
      ? `<DeleteMarker>${common}${ownerXml(r.owner)}</DeleteMarker>`
      : `<Version>${common}${el('ETag', quoteEtag(r.etag))}${el('Size', r.size)}${ownerXml(r.owner)}` +
        `${el('StorageClass', r.storageClass)}${el('ChecksumAlgorithm', r.checksumAlgorithm)}${el('ChecksumType', r.checksumType)}</Version>`;
  }
  let next = '';
  if (page.truncated && page.last) {
    next =
      'prefix' in page.last
        ? encodedEl('NextKeyMarker', page.last.prefix, encode)
        : encodedEl('NextKeyMarker', page.last.row.key, encode) + el('NextVersionIdMarker', page.last.row.versionId);
  }
  const body =
    el('Name', name) +
    encodedEl('Prefix', prefix, encode) +
    encodedEl('KeyMarker', keyMarker, encode) +
    el('VersionIdMarker', versionIdMarker ?? '') +
    next +
    el('MaxKeys', maxKeys) +
    encodedEl('Delimiter', delimiter, encode) +
    el('IsTruncated', page.truncated) +
    el('EncodingType', call.query.get('encoding-type')) +
    entries +
    prefixesXml(page.prefixes, encode);
  return xml(xmlDocument('ListVersionsResult', body));
};
