/**
 * Multipart uploads in the domain: parts are blobs recorded against the upload; completing an
 * upload turns the chosen parts into one version without copying a byte, in one transaction.
 */
import { createHash } from 'node:crypto';
import { Errors, S3Error } from '../errors.js';
import type {
  ChecksumAlgorithm,
  ChecksumType,
  NewVersion,
  PartRecord,
  StoredChecksum,
  UploadRecord,
  VersionRecord,
} from '../storage/types.js';
import type { BucketEntry } from './buckets.js';
import { combineCrc, compositeChecksum } from './checksums.js';
import { newSalt } from '../crypto/object-cipher.js';
import { freeData, ingestBody, storedLength, type ObjectBody } from './data.js';
import { newUploadId, newVersionId } from './ids.js';
import { planNewVersion } from '../replication/plan.js';

/** Every part but the last must be at least this big. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
export const MAX_PART_NUMBER = 10000;

export async function createUpload(
  bucket: BucketEntry,
  key: string,
  fields: Omit<UploadRecord, 'uploadId' | 'bucket' | 'key'>,
): Promise<UploadRecord> {
  if (fields.checksumType === 'FULL_OBJECT' && fields.checksumAlgorithm && !isCrc(fields.checksumAlgorithm)) {
    throw Errors.invalidRequest(`The ${fields.checksumAlgorithm} checksum algorithm does not support the FULL_OBJECT checksum type.`);
  }
  if (fields.checksumType === 'COMPOSITE' && fields.checksumAlgorithm === 'CRC64NVME') {
    throw Errors.invalidRequest('The CRC64NVME checksum algorithm does not support the COMPOSITE checksum type.');
  }
  const upload: UploadRecord = { ...fields, uploadId: newUploadId(), bucket: bucket.record.name, key };
  // An algorithm without a type: CRC64NVME only exists as a full-object checksum, the others
  // default to composite, as on S3.
  if (upload.checksumAlgorithm && !upload.checksumType) {
    upload.checksumType = upload.checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
  }
  await bucket.region.meta.createUpload(upload);
  return upload;
}

function isCrc(a: ChecksumAlgorithm): a is 'CRC32' | 'CRC32C' | 'CRC64NVME' {
  return a === 'CRC32' || a === 'CRC32C' || a === 'CRC64NVME';
}

/** The upload, if it exists in this bucket under this key. */
export async function requireUpload(bucket: BucketEntry, key: string, uploadId: string): Promise<UploadRecord> {
  const u = await bucket.region.meta.getUpload(bucket.record.name, uploadId);
  if (!u || u.key !== key) throw Errors.noSuchUpload(uploadId);
  return u;
}

/**
 * Stores a part from a body (UploadPart) or from a copied range (UploadPartCopy). A part of an
 * encrypted upload is its own cipher stream under the upload's data key, with a fresh salt.
 */
export async function uploadPart(
  bucket: BucketEntry,
  upload: UploadRecord,
  partNumber: number,
  body: ObjectBody,
  now: number,
  dataKey?: Buffer,
): Promise<PartRecord> {
  if (upload.meta.encryption && !dataKey) throw Errors.internal();
  const salt = dataKey ? newSalt() : undefined;
  const { location, digests } = await ingestBody(bucket.region.blobs, body, -1, dataKey ? { key: dataKey, salt: salt! } : undefined);
  if (location.kind !== 'blob') throw Errors.internal();
  if (upload.checksumAlgorithm && digests.checksum && digests.checksum.algorithm !== upload.checksumAlgorithm) {
    await freeData(bucket.region.blobs, [location]);
    throw Errors.invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${digests.checksum.algorithm.toLowerCase()}`,
    );
  }
  const part: PartRecord = {
    partNumber,
    size: digests.size,
    etag: digests.md5.toString('hex'),
    blobId: location.blobId,
    lastModified: now,
  };
  if (digests.checksum) {
    part.checksum = { algorithm: digests.checksum.algorithm, value: digests.checksum.digest.toString('base64'), type: 'FULL_OBJECT' };
  }
  if (salt) part.salt = salt.toString('base64');
  return recordPart(bucket, upload, part);
}

/** What the sending site states about a part it sends still encrypted (an SSE-C replica's). */
export interface StoredPartFacts {
  salt: string;
  size: number;
  etag: string;
  checksum?: StoredChecksum;
}

/**
 * A part of a replica whose bytes arrive as the source stored them (SSE-C ciphertext): kept
 * byte for byte, with the plaintext facts the source states.
 */
export async function uploadStoredPart(
  bucket: BucketEntry,
  upload: UploadRecord,
  partNumber: number,
  body: ObjectBody,
  now: number,
  facts: StoredPartFacts,
): Promise<PartRecord> {
  const { location, digests } = await ingestBody(bucket.region.blobs, body, -1);
  if (location.kind !== 'blob') throw Errors.internal();
  if (digests.size !== storedLength(facts.size, true)) {
    await freeData(bucket.region.blobs, [location]);
    throw Errors.invalidArgument(`The replicated ciphertext of part ${partNumber} does not fit its stated size ${facts.size}`);
  }
  const part: PartRecord = { partNumber, size: facts.size, etag: facts.etag, blobId: location.blobId, lastModified: now, salt: facts.salt };
  if (facts.checksum) part.checksum = facts.checksum;
  return recordPart(bucket, upload, part);
}

async function recordPart(bucket: BucketEntry, upload: UploadRecord, part: PartRecord): Promise<PartRecord> {
  const location = { kind: 'blob' as const, blobId: part.blobId };
  const { found, freed } = await bucket.region.meta.putPart(upload.uploadId, part);
  if (!found) {
    // Aborted or completed while the part was uploading.
    await freeData(bucket.region.blobs, [location]);
    throw Errors.noSuchUpload(upload.uploadId);
  }
  await freeData(bucket.region.blobs, freed);
  return part;
}

/** What the completing request states about the object; each is checked, 400 on a mismatch. */
export interface CompletionExpectations {
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  checksumType?: ChecksumType;
  size?: number;
}

export interface RequestedPart {
  partNumber: number;
  etag: string;
  /** Checksum value the client lists for the part, if any. */
  checksum?: string;
}

const invalidPart = (n: number, etag: string) =>
  new S3Error(
    'InvalidPart',
    400,
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    { UploadId: undefined, PartNumber: n, ETag: etag },
  );

/** S3's multipart ETag: MD5 of the concatenated binary MD5s of the parts, then "-<count>". */
export function multipartEtag(parts: PartRecord[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(Buffer.from(p.etag, 'hex'));
  return `${h.digest('hex')}-${parts.length}`;
}

/** The checksum of the whole object from its parts' checksums, per the upload's type. */
function objectChecksum(upload: UploadRecord, parts: PartRecord[], requested: RequestedPart[]): StoredChecksum | undefined {
  const alg = upload.checksumAlgorithm;
  if (!alg) return undefined;
  const type: ChecksumType = upload.checksumType ?? 'COMPOSITE';
  parts.forEach((p, i) => {
    if (!p.checksum) {
      throw Errors.invalidRequest(
        `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
      );
    }
    const listed = requested[i]!.checksum;
    if (listed === undefined && type === 'COMPOSITE') {
      throw Errors.invalidRequest(
        `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
      );
    }
    if (listed !== undefined && listed !== p.checksum.value) throw invalidPart(p.partNumber, requested[i]!.etag);
  });
  const digests = parts.map((p) => Buffer.from(p.checksum!.value, 'base64'));
  if (type === 'COMPOSITE') return { algorithm: alg, value: compositeChecksum(alg, digests), type };
  if (!isCrc(alg)) throw Errors.internal();
  let crc: Buffer = digests[0]!;
  for (let i = 1; i < parts.length; i++) crc = combineCrc(alg, crc, digests[i]!, parts[i]!.size);
  return { algorithm: alg, value: crc.toString('base64'), type };
}

/** The object checksum a completing request states must be the one the parts add up to. */
function checkStatedChecksum(upload: UploadRecord, computed: StoredChecksum | undefined, expected: CompletionExpectations): void {
  if (expected.checksumType !== undefined && upload.checksumAlgorithm && expected.checksumType !== upload.checksumType) {
    throw Errors.invalidRequest(
      `The upload was created using the ${upload.checksumType} checksum mode. The complete request must use the same checksum mode.`,
    );
  }
  const stated = expected.checksum;
  if (!stated) return;
  if (!computed || stated.algorithm !== computed.algorithm) {
    throw Errors.invalidRequest(
      `The upload was created using ${upload.checksumAlgorithm ? `a ${upload.checksumAlgorithm.toLowerCase()}` : 'no'} checksum. The complete request cannot state a ${stated.algorithm.toLowerCase()} checksum.`,
    );
  }
  // A composite value may be stated with or without its "-N" suffix.
  const bare = computed.value.replace(/-\d+$/, '');
  if (stated.value !== computed.value && stated.value !== bare) {
    throw Errors.badDigest(`The ${stated.algorithm} you specified did not match the calculated checksum.`);
  }
}

/**
 * CompleteMultipartUpload. The client's part list is checked against the stored parts inside
 * the commit (order, existence, ETags, minimum sizes, checksums); parts left out are freed.
 */
export async function completeUpload(
  bucket: BucketEntry,
  key: string,
  uploadId: string,
  requested: RequestedPart[],
  expected: CompletionExpectations,
  precondition?: (latest: VersionRecord | undefined) => void,
  replica?: { versionId: string; lastModified: number; owner: string },
): Promise<NewVersion> {
  if (requested.length === 0) throw Errors.malformedXML();
  for (let i = 1; i < requested.length; i++) {
    if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) {
      throw new S3Error(
        'InvalidPartOrder',
        400,
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        { UploadId: uploadId },
      );
    }
  }
  const enabled = bucket.record.versioning === 'Enabled';
  const versionId = replica ? replica.versionId : enabled ? newVersionId() : 'null';
  if (replica) {
    // A replica that already arrived (a replayed completion): the upload is not needed.
    const existing = await bucket.region.meta.getVersion(bucket.record.name, key, replica.versionId);
    if (existing) {
      await abortUpload(bucket, key, uploadId);
      return existing;
    }
  }
  const build = (upload: UploadRecord, stored: PartRecord[]): NewVersion => {
    if (upload.key !== key || upload.bucket !== bucket.record.name) throw Errors.noSuchUpload(uploadId);
    const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
    const parts = requested.map((r) => {
      const p = byNumber.get(r.partNumber);
      const etag = r.etag.replace(/^"(.*)"$/, '$1');
      if (!p || p.etag !== etag) throw invalidPart(r.partNumber, r.etag);
      return p;
    });
    parts.forEach((p, i) => {
      if (i < parts.length - 1 && p.size < MIN_PART_SIZE) {
        throw new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed object size.', {
          ProposedSize: p.size,
          MinSizeAllowed: MIN_PART_SIZE,
          PartNumber: p.partNumber,
          ETag: `"${p.etag}"`,
        });
      }
    });
    const size = parts.reduce((n, p) => n + p.size, 0);
    if (expected.size !== undefined && expected.size !== size) {
      throw Errors.invalidRequest(
        `The provided 'x-amz-mp-object-size' header value ${expected.size} does not match what was computed: ${size}`,
      );
    }
    const checksum = objectChecksum(upload, parts, requested);
    checkStatedChecksum(upload, checksum, expected);
    return {
      bucket: bucket.record.name,
      key,
      versionId,
      isDeleteMarker: false,
      size,
      etag: multipartEtag(parts),
      // S3 dates a multipart object by the start of its upload; a replica by its source.
      lastModified: replica ? replica.lastModified : upload.initiated,
      storageClass: upload.storageClass,
      owner: replica ? replica.owner : upload.owner,
      ...(replica ? { replicationStatus: 'REPLICA' as const, isReplica: true } : {}),
      meta: upload.meta,
      tags: upload.tags,
      checksum,
      data: { kind: 'parts', parts },
    };
  };
  const res = await bucket.region.meta.completeUpload(uploadId, build, {
    replaceNull: !enabled,
    precondition,
    replicationFor: (v) => (replica ? [] : planNewVersion(bucket, v)),
  });
  if (!res.found) throw Errors.noSuchUpload(uploadId);
  await freeData(bucket.region.blobs, res.freed);
  return res.version!;
}

export async function abortUpload(bucket: BucketEntry, key: string, uploadId: string): Promise<void> {
  await requireUpload(bucket, key, uploadId);
  const { found, freed } = await bucket.region.meta.abortUpload(uploadId);
  if (!found) throw Errors.noSuchUpload(uploadId);
  await freeData(bucket.region.blobs, freed);
}
