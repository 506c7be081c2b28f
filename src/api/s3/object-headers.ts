/**
 * Object metadata on the wire: request headers → stored metadata (standard headers, x-amz-meta-*,
 * storage class, tagging, ACL headers), and a stored version → response headers.
 */
import { Errors, S3Error } from '../../errors.js';
import { parseQuery } from '../../http/addressing.js';
import type { HeaderValue } from '../../http/respond.js';
import { httpDate } from '../../dates.js';
import { checksumHeader } from '../../objects/checksums.js';
import type { ObjectMeta, StoredChecksum, Tags, VersionRecord } from '../../storage/types.js';
import { header, type S3Call } from './call.js';
import { encryptionHeaders } from './encryption.js';

/** User metadata limit: the sum of names and values of x-amz-meta-* in UTF-8 bytes. */
const MAX_USER_METADATA = 2048;

const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
  'FSX_OPENZFS',
  'FSX_ONTAP',
]);

const STANDARD_HEADERS: Array<[keyof Omit<ObjectMeta, 'user' | 'encryption'>, string]> = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentDisposition', 'content-disposition'],
  ['contentLanguage', 'content-language'],
  ['cacheControl', 'cache-control'],
  ['expires', 'expires'],
  ['websiteRedirectLocation', 'x-amz-website-redirect-location'],
];

/** Standard and user metadata from request headers (PutObject, CreateMultipartUpload, COPY+REPLACE). */
export function metaFromHeaders(call: S3Call): ObjectMeta {
  const meta: ObjectMeta = { user: {} };
  for (const [field, name] of STANDARD_HEADERS) {
    const v = header(call, name);
    if (v !== undefined) meta[field] = v;
  }
  // aws-chunked is the transfer framing of the upload, not a property of the object.
  if (meta.contentEncoding !== undefined) {
    const rest = meta.contentEncoding
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
    if (rest.length) meta.contentEncoding = rest.join(',');
    else delete meta.contentEncoding;
  }
  if (meta.contentType === undefined) meta.contentType = 'binary/octet-stream';
  let size = 0;
  for (const [name, raw] of Object.entries(call.req.headers)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
    const key = name.slice('x-amz-meta-'.length);
    meta.user[key] = value;
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (size > MAX_USER_METADATA) {
    throw new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size', {
      Size: size,
      MaxSizeAllowed: MAX_USER_METADATA,
    });
  }
  return meta;
}

export function storageClassFromHeaders(call: S3Call): string {
  const v = header(call, 'x-amz-storage-class');
  if (v === undefined) return 'STANDARD';
  if (!STORAGE_CLASSES.has(v)) throw new S3Error('InvalidStorageClass', 400, 'The storage class you specified is not valid', { StorageClassRequested: v });
  return v;
}

const invalidTag = (message: string) => new S3Error('InvalidTag', 400, message);

/** Checks a tag set against S3's limits: 10 tags, keys of 1-128 and values of 0-256 characters, no duplicate keys. */
export function validateTags(tags: Tags, maxTags = 10): Tags {
  if (tags.length > maxTags) {
    throw invalidTag(maxTags === 10 ? 'Object tags cannot be greater than 10' : `Bucket tag count cannot be greater than ${maxTags}`);
  }
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k.length === 0 || [...k].length > 128) throw invalidTag('The TagKey you have provided is invalid');
    if ([...v].length > 256) throw invalidTag('The TagValue you have provided is invalid');
    if (k.startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:');
    if (seen.has(k)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(k);
  }
  return tags;
}

/** The x-amz-tagging header: a URL query string of key=value pairs. */
export function tagsFromHeader(call: S3Call): Tags {
  const v = header(call, 'x-amz-tagging');
  if (v === undefined || v === '') return [];
  const tags: Tags = [];
  const seen = new Set<string>();
  for (const part of v.split('&')) {
    if (part === '') continue;
    const one = parseQuery(part);
    for (const [k, val] of one) {
      if (seen.has(k)) throw invalidTag('Cannot provide multiple Tags with the same key');
      seen.add(k);
      tags.push([k, val]);
    }
  }
  return validateTags(tags);
}

const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
]);

/**
 * Buckets have Object Ownership "BucketOwnerEnforced" (AWS's default since 2023): ACLs are
 * disabled, and a request that sets one other than the owner's full control is refused.
 */
export function checkAclHeaders(call: S3Call): void {
  const acl = header(call, 'x-amz-acl');
  if (acl !== undefined) {
    if (!CANNED_ACLS.has(acl)) throw Errors.invalidArgument('', 'x-amz-acl', acl);
    if (acl !== 'private' && acl !== 'bucket-owner-full-control') throw aclNotSupported();
  }
  for (const name of Object.keys(call.req.headers)) {
    if (name.startsWith('x-amz-grant-')) throw aclNotSupported();
  }
}

export function aclNotSupported(): S3Error {
  return new S3Error('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs');
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** The checksum headers of a stored checksum (GET/HEAD with x-amz-checksum-mode, PUT responses). */
export function checksumHeaders(c: StoredChecksum | undefined): Record<string, HeaderValue> {
  if (!c) return {};
  return { [checksumHeader(c.algorithm)]: c.value, 'x-amz-checksum-type': c.type };
}

/** Headers of a GET or HEAD answer (without the body-dependent ones: length and range). */
export function versionHeaders(
  v: VersionRecord,
  versionId: string | undefined,
  call: S3Call,
): Record<string, HeaderValue> {
  const h: Record<string, HeaderValue> = {
    'last-modified': httpDate(v.lastModified),
    etag: quoteEtag(v.etag),
    'accept-ranges': 'bytes',
    'x-amz-version-id': versionId,
  };
  for (const [field, name] of STANDARD_HEADERS) {
    const value = v.meta[field];
    if (value !== undefined) h[name] = value;
  }
  for (const [k, value] of Object.entries(v.meta.user)) h[`x-amz-meta-${k}`] = value;
  if (v.storageClass !== 'STANDARD') h['x-amz-storage-class'] = v.storageClass;
  if (v.tags.length) h['x-amz-tagging-count'] = v.tags.length;
  if (v.replicationStatus) h['x-amz-replication-status'] = v.replicationStatus;
  // GetObject and HeadObject name the algorithm and key, not the encryption context.
  Object.assign(h, encryptionHeaders(v.meta.encryption));
  // A checksum describes the whole object: a ranged answer carries none (clients would check
  // it against the range), as S3 does.
  const ranged = call.query.has('partNumber') || header(call, 'range') !== undefined;
  if (!ranged && header(call, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') Object.assign(h, checksumHeaders(v.checksum));
  // response-* parameters override the stored headers of this one answer.
  for (const [param, name] of RESPONSE_OVERRIDES) {
    const value = call.query.get(param);
    if (value !== undefined) h[name] = headerSafe(param, value);
  }
  return h;
}

/**
 * A query value that becomes a response header: control characters (a newline would split the
 * header) are refused; text beyond Latin-1 is sent as its UTF-8 bytes, as S3 does.
 */
function headerSafe(param: string, value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw Errors.invalidArgument(`Header value of ${param} contains invalid characters`, param, value);
  }
  return /[^\u0000-\u00ff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

const RESPONSE_OVERRIDES: Array<[string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];
