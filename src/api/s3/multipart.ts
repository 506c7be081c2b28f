/**
 * CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts,
 * ListMultipartUploads.
 */
import { Errors } from '../../errors.js';
import { children, el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import {
  checksumAlgorithmFromHeaderName,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  CHECKSUM_ALGORITHMS,
} from '../../objects/checksums.js';
import { writePrecondition } from '../../objects/conditions.js';
import { listPage, resumeAfterMarker, type PageSource } from '../../objects/listing.js';
import {
  abortUpload,
  completeUpload,
  createUpload,
  MAX_PART_NUMBER,
  MAX_PART_SIZE,
  requireUpload,
  uploadPart as storePart,
  uploadStoredPart,
  type CompletionExpectations,
  type RequestedPart,
} from '../../objects/multipart.js';
import { versionHeader } from '../../objects/versions.js';
import { checkReplicaDestination } from '../../objects/replica.js';
import { storedLength } from '../../objects/data.js';
import { bucketEncryption, openDataKey, seal, type CustomerKey } from '../../objects/encryption.js';
import { replicaRequest, storedPartFacts, storedUploadFacts } from './replica.js';
import type { ChecksumType, UploadCursor, UploadRecord } from '../../storage/types.js';
import type { BucketEntry } from '../../objects/buckets.js';
import { bucketOf, documentBody, empty, header, intParam, keyOf, uploadBody, xml, type Handler, type S3Call, writerOwner } from './call.js';
import { customerKey, encryptionHeaders, encryptionRequest, kmsCaller } from './encryption.js';
import {
  checkAclHeaders,
  checksumHeaders,
  metaFromHeaders,
  quoteEtag,
  storageClassFromHeaders,
  tagsFromHeader,
} from './object-headers.js';
import { encodedEl, isoTime, listingEncoder, ownerXml } from './wire.js';

export const createMultipartUpload: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  checkAclHeaders(call);
  const algHeader = header(call, 'x-amz-checksum-algorithm');
  const checksumAlgorithm = algHeader !== undefined ? parseChecksumAlgorithm(algHeader) : undefined;
  if (algHeader !== undefined && !checksumAlgorithm) {
    throw Errors.invalidRequest(`Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(', ')}]`);
  }
  const typeHeader = header(call, 'x-amz-checksum-type');
  if (typeHeader !== undefined && typeHeader !== 'COMPOSITE' && typeHeader !== 'FULL_OBJECT') {
    throw Errors.invalidRequest('Value for x-amz-checksum-type header is invalid.');
  }
  if (typeHeader !== undefined && !checksumAlgorithm) {
    throw Errors.invalidRequest('The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
  }
  const meta = metaFromHeaders(call);
  // The upload's data key is made now and kept (wrapped) with it; each part encrypts under it.
  // An SSE-C replica's upload takes the source's encryption as it is (its parts arrive stored).
  const stored = storedUploadFacts(call);
  if (stored && bucketEncryption(bucket).sseCBlocked) throw Errors.accessDenied();
  meta.encryption = stored ? stored.encryption : seal(call.app, bucket, key, encryptionRequest(call, bucket), kmsCaller(call)).stored;
  const upload = await createUpload(bucket, key, {
    initiated: call.now,
    owner: writerOwner(call, bucket),
    storageClass: storageClassFromHeaders(call),
    meta,
    tags: tagsFromHeader(call),
    checksumAlgorithm,
    checksumType: typeHeader as ChecksumType | undefined,
  });
  return xml(
    xmlDocument('InitiateMultipartUploadResult', el('Bucket', bucket.record.name) + el('Key', key) + el('UploadId', upload.uploadId)),
    {
      'x-amz-checksum-algorithm': upload.checksumAlgorithm,
      'x-amz-checksum-type': upload.checksumAlgorithm ? upload.checksumType : undefined,
      ...encryptionHeaders(meta.encryption, bucket.record.name, key),
    },
  );
};

/**
 * The SSE-C key a part request (UploadPart, UploadPartCopy's destination, and optionally
 * CompleteMultipartUpload) gives must be the one the upload was created with.
 */
function checkUploadCustomerKey(upload: UploadRecord, given: CustomerKey | undefined, required: boolean): void {
  const isC = upload.meta.encryption?.algorithm === 'SSE-C';
  if ((isC && !given && required) || (!isC && given)) {
    throw Errors.invalidRequest(
      'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    );
  }
  if (isC && given && given.md5 !== upload.meta.encryption!.customerKeyMd5) {
    throw Errors.invalidRequest('The provided encryption parameters did not match the ones used originally.');
  }
}

/**
 * The data key of an upload, for a part request: an SSE-KMS upload needs kms:Decrypt (AWS: a
 * multipart upload needs kms:GenerateDataKey and kms:Decrypt), an SSE-C one its key.
 */
export function uploadDataKey(call: S3Call, bucket: BucketEntry, upload: UploadRecord, given: CustomerKey | undefined): Buffer | undefined {
  checkUploadCustomerKey(upload, given, true);
  const enc = upload.meta.encryption;
  return enc ? openDataKey(call.app, bucket, upload.key, enc, { customer: given, caller: kmsCaller(call) }) : undefined;
}

function partNumberOf(call: S3Call): number {
  const n = intParam(call, 'partNumber', 1, MAX_PART_NUMBER);
  if (n === undefined) throw Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber');
  return n;
}

export const uploadPart: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const partNumber = partNumberOf(call);
  const upload = await requireUpload(bucket, key, call.query.get('uploadId')!);
  const stored = storedPartFacts(call);
  let part;
  if (stored) {
    if (upload.meta.encryption?.algorithm !== 'SSE-C') throw Errors.invalidRequest('Only parts of an SSE-C replica upload are sent as stored.');
    const body = uploadBody(call, { maxSize: storedLength(MAX_PART_SIZE, true), lengthRequired: true });
    part = await uploadStoredPart(bucket, upload, partNumber, body, call.now, stored);
  } else {
    const dataKey = uploadDataKey(call, bucket, upload, customerKey(call));
    const body = uploadBody(call, { maxSize: MAX_PART_SIZE, lengthRequired: true });
    part = await storePart(bucket, upload, partNumber, body, call.now, dataKey);
  }
  return empty(200, { etag: quoteEtag(part.etag), ...checksumHeaders(part.checksum), ...encryptionHeaders(upload.meta.encryption) });
};

export const completeMultipartUpload: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const uploadId = call.query.get('uploadId')!;
  const upload = await requireUpload(bucket, key, uploadId);
  const replica = replicaRequest(call);
  if (!replica) {
    // Completing reads the parts under the upload's key on AWS: kms:Decrypt is needed, and an
    // SSE-C key, if the request gives one, must be the upload's.
    const given = customerKey(call);
    checkUploadCustomerKey(upload, given, false);
    const enc = upload.meta.encryption;
    if (enc && enc.algorithm !== 'SSE-C') openDataKey(call.app, bucket, key, enc, { caller: kmsCaller(call) });
  }
  const expected = completionExpectations(call);
  const doc = parseXmlBody(
    await documentBody(call, { maxSize: 4 * 1024 * 1024, bodyChecksumHeaders: false }),
    'CompleteMultipartUpload',
  );
  const requested: RequestedPart[] = children(doc, 'Part').map((p) => {
    const n = text(p, 'PartNumber');
    const etag = text(p, 'ETag');
    if (n === undefined || etag === undefined || !/^\d+$/.test(n)) throw Errors.malformedXML();
    const checksum = CHECKSUM_ALGORITHMS.map((a) => text(p, `Checksum${a}`)).find((v) => v !== undefined);
    return { partNumber: Number(n), etag, checksum };
  });
  const precondition = writePrecondition(key, header(call, 'if-match'), header(call, 'if-none-match'));
  if (replica) checkReplicaDestination(bucket);
  const v = await completeUpload(bucket, key, uploadId, requested, expected, precondition, replica);
  const scheme = call.app.config.tls ? 'https' : 'http';
  const location = `${call.req.headers.host ? `${scheme}://${call.req.headers.host}` : ''}/${bucket.record.name}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  const checksum = v.checksum ? el(`Checksum${v.checksum.algorithm}`, v.checksum.value) + el('ChecksumType', v.checksum.type) : '';
  return xml(
    xmlDocument(
      'CompleteMultipartUploadResult',
      el('Location', location) + el('Bucket', bucket.record.name) + el('Key', key) + el('ETag', quoteEtag(v.etag)) + checksum,
    ),
    {
      'x-amz-version-id': versionHeader(bucket, v),
      // CompleteMultipartUpload's answer names SSE-S3/SSE-KMS; it has no SSE-C headers.
      ...(v.meta.encryption?.algorithm === 'SSE-C' ? {} : encryptionHeaders(v.meta.encryption, bucket.record.name, key)),
    },
  );
};

/**
 * What a CompleteMultipartUpload request states about the whole object: its checksum
 * (x-amz-checksum-<alg>, with x-amz-checksum-type) and its size (x-amz-mp-object-size).
 */
function completionExpectations(call: S3Call): CompletionExpectations {
  const expected: CompletionExpectations = {};
  for (const name of Object.keys(call.req.headers)) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type') continue;
    const algorithm = checksumAlgorithmFromHeaderName(name);
    if (!algorithm) throw Errors.invalidRequest(`The ${name} checksum is not supported by this server.`);
    const value = header(call, name)!;
    if (!isValidChecksumValue(algorithm, value)) throw Errors.invalidRequest(`Value for ${name} header is invalid.`);
    expected.checksum = { algorithm, value };
  }
  const type = header(call, 'x-amz-checksum-type');
  if (type !== undefined) {
    if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw Errors.invalidRequest('Value for x-amz-checksum-type header is invalid.');
    expected.checksumType = type;
  }
  const size = header(call, 'x-amz-mp-object-size');
  if (size !== undefined) {
    if (!/^\d{1,16}$/.test(size)) throw Errors.invalidArgument('Invalid x-amz-mp-object-size header', 'x-amz-mp-object-size', size);
    expected.size = Number(size);
  }
  return expected;
}

export const abortMultipartUpload: Handler = async (call) => {
  const bucket = bucketOf(call);
  await abortUpload(bucket, keyOf(call), call.query.get('uploadId')!);
  return empty(204);
};

export const listParts: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const upload = await requireUpload(bucket, key, call.query.get('uploadId')!);
  const maxParts = Math.min(intParam(call, 'max-parts', 0, 2147483647) ?? 1000, 1000);
  const marker = intParam(call, 'part-number-marker', 0, 2147483647) ?? 0;
  const parts = await bucket.region.meta.listParts(upload.uploadId, marker, maxParts + 1);
  const truncated = parts.length > maxParts;
  const page = parts.slice(0, maxParts);
  let body =
    el('Bucket', bucket.record.name) +
    el('Key', key) +
    el('UploadId', upload.uploadId) +
    el('PartNumberMarker', marker) +
    (page.length ? el('NextPartNumberMarker', page[page.length - 1]!.partNumber) : '') +
    el('MaxParts', maxParts) +
    el('IsTruncated', truncated);
  for (const p of page) {
    body +=
      '<Part>' +
      el('PartNumber', p.partNumber) +
      el('LastModified', isoTime(p.lastModified)) +
      el('ETag', quoteEtag(p.etag)) +
      el('Size', p.size) +
      (p.checksum ? el(`Checksum${p.checksum.algorithm}`, p.checksum.value) : '') +
      '</Part>';
  }
  body +=
    ownerXml(upload.owner, 'Initiator') +
    ownerXml(upload.owner) +
    el('StorageClass', upload.storageClass) +
    el('ChecksumAlgorithm', upload.checksumAlgorithm) +
    el('ChecksumType', upload.checksumAlgorithm ? upload.checksumType : undefined);
  return xml(xmlDocument('ListPartsResult', body));
};

export const listMultipartUploads: Handler = async (call) => {
  const bucket = bucketOf(call);
  const store = bucket.region.meta;
  const name = bucket.record.name;
  const prefix = call.query.get('prefix') ?? '';
  const d = call.query.get('delimiter');
  const delimiter = d === '' ? undefined : d;
  const keyMarker = call.query.get('key-marker') ?? '';
  const uploadIdMarker = call.query.get('upload-id-marker');
  const maxUploads = Math.min(intParam(call, 'max-uploads', 0, 2147483647) ?? 1000, 1000);
  const encode = listingEncoder(call.query.get('encoding-type'));
  const src: PageSource<UploadRecord, UploadCursor> = {
    fetch: (cursor, limit) => store.listUploads(name, prefix, cursor, limit),
    keyOf: (u) => u.key,
    after: (u) => ({ key: u.key, uploadId: u.uploadId }),
    atKey: (key) => ({ key, inclusive: true }),
  };
  let start: UploadCursor | undefined;
  if (keyMarker !== '') {
    start =
      uploadIdMarker !== undefined && uploadIdMarker !== ''
        ? { key: keyMarker, uploadId: uploadIdMarker }
        : resumeAfterMarker(keyMarker, prefix, delimiter, src, (k) => ({ key: k }));
  }
  const page = await listPage(src, prefix, delimiter, maxUploads, start);
  let next = '';
  if (page.truncated && page.last) {
    next =
      'prefix' in page.last
        ? encodedEl('NextKeyMarker', page.last.prefix, encode)
        : encodedEl('NextKeyMarker', page.last.row.key, encode) + el('NextUploadIdMarker', page.last.row.uploadId);
  }
  let uploads = '';
  for (const u of page.rows) {
    uploads +=
      '<Upload>' +
      encodedEl('Key', u.key, encode) +
      el('UploadId', u.uploadId) +
      ownerXml(u.owner, 'Initiator') +
      ownerXml(u.owner) +
      el('StorageClass', u.storageClass) +
      el('Initiated', isoTime(u.initiated)) +
      el('ChecksumAlgorithm', u.checksumAlgorithm) +
      el('ChecksumType', u.checksumAlgorithm ? u.checksumType : undefined) +
      '</Upload>';
  }
  let prefixes = '';
  for (const p of page.prefixes) prefixes += `<CommonPrefixes>${encodedEl('Prefix', p, encode)}</CommonPrefixes>`;
  const body =
    el('Bucket', name) +
    encodedEl('KeyMarker', keyMarker, encode) +
    el('UploadIdMarker', uploadIdMarker ?? '') +
    next +
    encodedEl('Prefix', prefix, encode) +
    encodedEl('Delimiter', delimiter, encode) +
    el('MaxUploads', maxUploads) +
    el('IsTruncated', page.truncated) +
    el('EncodingType', call.query.get('encoding-type')) +
    uploads +
    prefixes;
  return xml(xmlDocument('ListMultipartUploadsResult', body));
};
