/**
 * The receiving side of replication from another site: requests that carry replication headers
 * (replication/protocol.ts) write replicas instead of new versions.
 */
import { S3Error } from '../../errors.js';
import { CHECKSUM_ALGORITHMS } from '../../objects/checksums.js';
import {
  REPLICA_HEADERS,
  type StoredObjectFacts,
  type StoredPartFacts,
  type StoredUploadFacts,
} from '../../replication/protocol.js';
import type { StoredChecksum, StoredEncryption } from '../../storage/types.js';
import { header, type S3Call } from './call.js';

export interface ReplicaRequest {
  versionId: string;
  lastModified: number;
  owner: string;
}

/**
 * The replica fields of a request, or undefined for an ordinary write. Who may write replicas
 * was decided by the router: s3:ReplicateObject / s3:ReplicateDelete / s3:ReplicateTags under
 * the caller's policies and the bucket policy (api/s3/authorize.ts).
 */
export function replicaRequest(call: S3Call): ReplicaRequest | undefined {
  const versionId = header(call, REPLICA_HEADERS.versionId);
  if (versionId === undefined) return undefined;
  const lastModified = Number(header(call, REPLICA_HEADERS.lastModified));
  const owner = header(call, REPLICA_HEADERS.owner) ?? call.accountId;
  if (!/^[A-Za-z0-9._-]{1,1024}$/.test(versionId) || !Number.isSafeInteger(lastModified) || lastModified < 0 || !/^\d{12}$/.test(owner)) {
    throw new S3Error('InvalidArgument', 400, 'Invalid replication headers', { ArgumentName: REPLICA_HEADERS.versionId, ArgumentValue: versionId });
  }
  return { versionId, lastModified, owner };
}

/** A metadata change written by replication (it must not be replicated again). */
export function isReplicaSync(call: S3Call): boolean {
  return header(call, REPLICA_HEADERS.sync) !== undefined;
}

const invalidStored = () =>
  new S3Error('InvalidArgument', 400, 'Invalid replication headers', { ArgumentName: REPLICA_HEADERS.stored });

const B64_16 = /^[A-Za-z0-9+/]{22}==$/;
const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isEtag = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{32}$/.test(s);

function checksumOf(v: unknown): StoredChecksum | undefined {
  if (v === undefined) return undefined;
  const c = v as StoredChecksum;
  if (
    typeof c !== 'object' ||
    c === null ||
    !(CHECKSUM_ALGORITHMS as readonly string[]).includes(c.algorithm) ||
    typeof c.value !== 'string' ||
    (c.type !== 'FULL_OBJECT' && c.type !== 'COMPOSITE')
  ) {
    throw invalidStored();
  }
  return { algorithm: c.algorithm, value: c.value, type: c.type };
}

/** Only SSE-C bodies travel as stored: no other encryption's key is out of this site's reach. */
function encryptionOf(v: unknown, withSalt: boolean): StoredEncryption {
  const e = v as StoredEncryption;
  if (typeof e !== 'object' || e === null || e.algorithm !== 'SSE-C' || typeof e.customerKeyMd5 !== 'string' || !B64_16.test(e.customerKeyMd5)) {
    throw invalidStored();
  }
  const out: StoredEncryption = { algorithm: 'SSE-C', customerKeyMd5: e.customerKeyMd5 };
  if (withSalt) {
    if (typeof e.salt !== 'string' || !B64_16.test(e.salt)) throw invalidStored();
    out.salt = e.salt;
  }
  return out;
}

function storedHeader(call: S3Call): Record<string, unknown> | undefined {
  const raw = header(call, REPLICA_HEADERS.stored);
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidStored();
    return v as Record<string, unknown>;
  } catch {
    throw invalidStored();
  }
}

/** What a PutObject replica sent as stored states (undefined: an ordinary body). */
export function storedObjectFacts(call: S3Call): StoredObjectFacts | undefined {
  const v = storedHeader(call);
  if (!v) return undefined;
  if (!isSize(v.size) || !isEtag(v.etag)) throw invalidStored();
  const facts: StoredObjectFacts = { encryption: encryptionOf(v.encryption, true), size: v.size, etag: v.etag };
  const checksum = checksumOf(v.checksum);
  if (checksum) facts.checksum = checksum;
  return facts;
}

/** What a CreateMultipartUpload of a replica sent as stored states. */
export function storedUploadFacts(call: S3Call): StoredUploadFacts | undefined {
  const v = storedHeader(call);
  return v ? { encryption: encryptionOf(v.encryption, false) } : undefined;
}

/** What an UploadPart of a replica sent as stored states. */
export function storedPartFacts(call: S3Call): StoredPartFacts | undefined {
  const v = storedHeader(call);
  if (!v) return undefined;
  if (typeof v.salt !== 'string' || !B64_16.test(v.salt) || !isSize(v.size) || !isEtag(v.etag)) throw invalidStored();
  const facts: StoredPartFacts = { salt: v.salt, size: v.size, etag: v.etag };
  const checksum = checksumOf(v.checksum);
  if (checksum) facts.checksum = checksum;
  return facts;
}
