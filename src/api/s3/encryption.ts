/**
 * Server-side encryption on the wire: Put/Get/DeleteBucketEncryption, the SSE request headers
 * of object writes and reads (SSE-S3, SSE-KMS, DSSE-KMS, SSE-C), the KMS permissions S3 checks
 * for its caller, and the SSE response headers. What the headers choose is carried out by
 * objects/encryption.ts.
 */
import { encryptionContextConditions, viaServiceConditions, type KeyInfo } from '../../crypto/kms.js';
import { Errors, S3Error } from '../../errors.js';
import type { HeaderValue } from '../../http/respond.js';
import { children, el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import type { BucketEntry } from '../../objects/buckets.js';
import {
  bucketEncryption,
  kmsContext,
  SSE_C_BLOCKED_BY_DEFAULT,
  type BucketEncryptionDoc,
  type BucketEncryptionRule,
  type CustomerKey,
  type DefaultAlgorithm,
  type EncryptionRequest,
  type KmsAction,
  type KmsCaller,
} from '../../objects/encryption.js';
import { md5Base64 } from '../../objects/sse-keys.js';
import type { StoredEncryption } from '../../storage/types.js';
import { bucketOf, documentBody, empty, header, xml, type Handler, type S3Call } from './call.js';

const SSE = 'x-amz-server-side-encryption';
const SSE_KMS_KEY = 'x-amz-server-side-encryption-aws-kms-key-id';
const SSE_CONTEXT = 'x-amz-server-side-encryption-context';
const SSE_BUCKET_KEY = 'x-amz-server-side-encryption-bucket-key-enabled';
const SSE_C = 'x-amz-server-side-encryption-customer';
const COPY_SSE_C = 'x-amz-copy-source-server-side-encryption-customer';

const ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

// --- request headers ----------------------------------------------------------------------------

function sseArgument(message: string, value = 'null'): S3Error {
  return Errors.invalidArgument(message, SSE, value);
}

/**
 * A customer-provided key from the three SSE-C headers under `prefix` (the object's, or the
 * copy source's), checked as S3 checks it: the algorithm, the key, its MD5, the key's length.
 * SSE-C travels only over TLS.
 */
export function customerKey(call: S3Call, prefix: typeof SSE_C | typeof COPY_SSE_C = SSE_C): CustomerKey | undefined {
  const algorithm = header(call, `${prefix}-algorithm`);
  const key = header(call, `${prefix}-key`);
  const md5 = header(call, `${prefix}-key-md5`);
  if (algorithm === undefined && key === undefined && md5 === undefined) return undefined;
  if (call.conditions['aws:securetransport']?.[0] !== 'true') {
    throw Errors.invalidRequest('Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  }
  if (algorithm === undefined) {
    throw sseArgument('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.');
  }
  if (algorithm !== 'AES256') {
    throw new S3Error('InvalidEncryptionAlgorithmError', 400, 'The Encryption request you specified is not valid. Supported value: AES256.', {
      ArgumentName: SSE,
      ArgumentValue: algorithm,
    });
  }
  if (key === undefined) {
    throw sseArgument('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.');
  }
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(key.trim()) ? Buffer.from(key.trim(), 'base64') : Buffer.alloc(0);
  const computed = md5Base64(bytes);
  // Clients that cannot compute the MD5 leave it out; the key's length still decides.
  if (md5 !== undefined && md5.trim() !== computed) throw sseArgument('The calculated MD5 hash of the key did not match the hash that was provided.');
  if (bytes.length !== 32) throw sseArgument('The secret key was invalid for the specified algorithm.');
  return { key: bytes, md5: computed };
}

function kmsOnlyHeaders(call: S3Call): void {
  if (header(call, SSE_KMS_KEY) !== undefined || header(call, SSE_CONTEXT) !== undefined) {
    throw Errors.invalidArgument(
      'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
      SSE_KMS_KEY,
      header(call, SSE_KMS_KEY) ?? header(call, SSE_CONTEXT),
    );
  }
}

/** x-amz-server-side-encryption-context: base64 of a JSON object of strings. */
function encryptionContext(value: string): Record<string, string> {
  const bad = () =>
    Errors.invalidArgument(
      `The header '${SSE_CONTEXT}' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map`,
      SSE_CONTEXT,
      value,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw bad();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad();
  for (const v of Object.values(parsed)) if (typeof v !== 'string') throw bad();
  return parsed as Record<string, string>;
}

/**
 * The encryption a write's headers ask for (PutObject, CreateMultipartUpload, CopyObject's
 * destination), or undefined for the bucket's default. A bucket that blocks SSE-C refuses it.
 */
export function encryptionRequest(call: S3Call, bucket: BucketEntry, action = 's3:PutObject'): EncryptionRequest | undefined {
  const algorithm = header(call, SSE);
  const hasCustomer = [`${SSE_C}-algorithm`, `${SSE_C}-key`, `${SSE_C}-key-md5`].some((h) => header(call, h) !== undefined);
  if (hasCustomer) {
    if (algorithm !== undefined) {
      throw sseArgument('Server Side Encryption with Customer provided key is incompatible with the encryption method specified', algorithm);
    }
    kmsOnlyHeaders(call);
    const customer = customerKey(call)!;
    if (bucketEncryption(bucket).sseCBlocked) {
      const resource = `arn:aws:s3:::${bucket.record.name}/${call.key ?? ''}`;
      throw Errors.accessDenied(
        `User: ${call.principal.arn} is not authorized to perform: ${action} on resource: "${resource}" because this bucket has blocked upload requests that specify Server Side Encryption with Customer provided keys (SSE-C). Please specify a different server-side encryption type`,
      );
    }
    return { algorithm: 'SSE-C', customer };
  }
  if (algorithm === undefined) {
    kmsOnlyHeaders(call);
    return undefined;
  }
  if (!ALGORITHMS.has(algorithm)) throw sseArgument('The encryption method specified is not supported', algorithm);
  if (algorithm === 'AES256') {
    kmsOnlyHeaders(call);
    return { algorithm: 'AES256' };
  }
  const r: EncryptionRequest = { algorithm: algorithm as 'aws:kms' | 'aws:kms:dsse' };
  const keyId = header(call, SSE_KMS_KEY);
  if (keyId !== undefined && keyId !== '') r.keyId = keyId;
  const ctx = header(call, SSE_CONTEXT);
  if (ctx !== undefined) r.context = encryptionContext(ctx);
  const bucketKey = header(call, SSE_BUCKET_KEY);
  if (bucketKey !== undefined) {
    if (bucketKey.toLowerCase() !== 'true' && bucketKey.toLowerCase() !== 'false') {
      throw Errors.invalidArgument('Invalid value for header x-amz-server-side-encryption-bucket-key-enabled', SSE_BUCKET_KEY, bucketKey);
    }
    r.bucketKeyEnabled = bucketKey.toLowerCase() === 'true';
  }
  return r;
}

/**
 * The SSE-C key of a read (GetObject, HeadObject, GetObjectAttributes). Reads name no other
 * encryption: "x-amz-server-side-encryption" on a GET or HEAD is a 400, as on AWS.
 */
export function readCustomerKey(call: S3Call): CustomerKey | undefined {
  if (header(call, SSE) !== undefined) {
    throw Errors.invalidArgument('x-amz-server-side-encryption header is not supported for this operation.', SSE, header(call, SSE));
  }
  return customerKey(call);
}

/** The SSE-C key a copy names for its source (x-amz-copy-source-server-side-encryption-customer-*). */
export function copySourceCustomerKey(call: S3Call): CustomerKey | undefined {
  return customerKey(call, COPY_SSE_C);
}

// --- KMS permissions --------------------------------------------------------------------------

/**
 * AWS's refusal of a KMS action, as S3 relays it: a key of the caller's own account is named; a
 * key of another account is not even confirmed to exist.
 */
function kmsDenied(call: S3Call, action: KmsAction, key: KeyInfo, reason: 'explicit-deny' | 'implicit-deny' | 'allowed'): S3Error {
  if (call.principal.kind === 'anonymous') return Errors.accessDenied();
  const who = `User: ${call.principal.arn} is not authorized to perform: ${action}`;
  if (key.accountId !== call.accountId) {
    return Errors.accessDenied(
      `${who} on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access`,
    );
  }
  if (reason === 'explicit-deny') return Errors.accessDenied(`${who} on resource: ${key.arn} with an explicit deny in a resource-based policy`);
  return Errors.accessDenied(`${who} on resource: ${key.arn} because no resource-based policy allows the ${action} action`);
}

/**
 * The caller of an S3 request as KMS sees it when S3 uses a key on its behalf: the key policy
 * decides (mode 'kms'), with kms:ViaService, kms:CallerAccount and the encryption context.
 */
export function kmsCaller(call: S3Call): KmsCaller {
  return {
    accountId: call.accountId,
    allow(action, key, context) {
      const d = call.authorize(action, key.arn, {
        resourcePolicy: key.policy,
        resourceAccount: key.accountId,
        mode: 'kms',
        conditions: { ...viaServiceConditions('s3', key.region, call.accountId), ...encryptionContextConditions(context) },
      });
      if (!d.allowed) throw kmsDenied(call, action, key, d.reason);
    },
  };
}

// --- response headers ---------------------------------------------------------------------------

/**
 * The SSE headers of an answer about an encrypted object (PUT, GET, HEAD, copy, multipart):
 * the algorithm, the KMS key's ARN and Bucket Key, or SSE-C's algorithm and key MD5.
 */
export function encryptionHeaders(enc: StoredEncryption | undefined, bucket?: string, key?: string): Record<string, HeaderValue> {
  if (!enc) return {};
  if (enc.algorithm === 'SSE-C') return { [`${SSE_C}-algorithm`]: 'AES256', [`${SSE_C}-key-md5`]: enc.customerKeyMd5 };
  const h: Record<string, HeaderValue> = { [SSE]: enc.algorithm };
  if (enc.kmsKeyArn !== undefined) h[SSE_KMS_KEY] = enc.kmsKeyArn;
  if (enc.bucketKeyEnabled) h[SSE_BUCKET_KEY] = 'true';
  if (enc.context && bucket !== undefined && key !== undefined) {
    h[SSE_CONTEXT] = Buffer.from(JSON.stringify(kmsContext(bucket, key, enc))).toString('base64');
  }
  return h;
}

// --- Put/Get/DeleteBucketEncryption -----------------------------------------------------------

const DEFAULT_ALGORITHMS = new Set<string>(['AES256', 'aws:kms', 'aws:kms:dsse']);

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw Errors.malformedXML();
}

/** The one Rule of a ServerSideEncryptionConfiguration, validated as S3 does. */
function parseConfiguration(body: Buffer): { rule?: BucketEncryptionRule; sseCBlocked?: boolean } {
  const doc = parseXmlBody(body, 'ServerSideEncryptionConfiguration');
  const rules = children(doc, 'Rule');
  if (rules.length !== 1) throw Errors.malformedXML();
  const rule = rules[0]!;
  if (typeof rule !== 'object') throw Errors.malformedXML();
  const out: { rule?: BucketEncryptionRule; sseCBlocked?: boolean } = {};
  const bucketKey = parseBool(text(rule, 'BucketKeyEnabled'));
  const byDefault = children(rule, 'ApplyServerSideEncryptionByDefault');
  if (byDefault.length > 1) throw Errors.malformedXML();
  if (byDefault.length === 1) {
    const d = byDefault[0]!;
    const algorithm = text(d, 'SSEAlgorithm');
    if (algorithm === undefined || !DEFAULT_ALGORITHMS.has(algorithm)) throw Errors.malformedXML();
    const kmsKey = text(d, 'KMSMasterKeyID');
    if (kmsKey !== undefined && algorithm === 'AES256') {
      throw Errors.invalidArgument(
        'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
        'ApplyServerSideEncryptionByDefault',
        '',
      );
    }
    out.rule = { sseAlgorithm: algorithm as DefaultAlgorithm };
    if (kmsKey !== undefined && kmsKey !== '') out.rule.kmsMasterKeyId = kmsKey;
  } else if (bucketKey !== undefined) {
    out.rule = { sseAlgorithm: 'AES256' };
  }
  if (out.rule && bucketKey !== undefined) out.rule.bucketKeyEnabled = bucketKey;
  const blocked = children(rule, 'BlockedEncryptionTypes');
  if (blocked.length > 1) throw Errors.malformedXML();
  if (blocked.length === 1) {
    const types = children(blocked[0], 'EncryptionType').map((t) => {
      if (typeof t !== 'string' || (t !== 'SSE-C' && t !== 'NONE')) throw Errors.malformedXML();
      return t;
    });
    if (types.length === 0 || (types.includes('NONE') && types.length > 1)) throw Errors.malformedXML();
    out.sseCBlocked = types.includes('SSE-C');
  }
  if (!out.rule && out.sseCBlocked === undefined) throw Errors.malformedXML();
  return out;
}

/**
 * PutBucketEncryption. A rule without BlockedEncryptionTypes leaves SSE-C's block as it was,
 * and one with only BlockedEncryptionTypes leaves the default encryption as it was.
 */
export const putBucketEncryption: Handler = async (call) => {
  const bucket = bucketOf(call);
  const parsed = parseConfiguration(await documentBody(call, { integrityRequired: true }));
  const current = (bucket.configs.get('encryption') as BucketEncryptionDoc | undefined) ?? {};
  const next: BucketEncryptionDoc = {};
  const rule = parsed.rule ?? current.rule;
  if (rule) next.rule = rule;
  const blocked = parsed.sseCBlocked ?? current.sseCBlocked;
  if (blocked !== undefined && blocked !== SSE_C_BLOCKED_BY_DEFAULT) next.sseCBlocked = blocked;
  await call.app.buckets.setConfig(bucket.record.name, 'encryption', Object.keys(next).length ? next : undefined);
  return empty(200);
};

/** GetBucketEncryption: every bucket has one; without a configuration, SSE-S3 (AWS since 2023). */
export const getBucketEncryption: Handler = async (call) => {
  const bucket = bucketOf(call);
  const { rule, sseCBlocked } = bucketEncryption(bucket);
  const byDefault = el('SSEAlgorithm', rule.sseAlgorithm) + el('KMSMasterKeyID', rule.kmsMasterKeyId);
  const blocked = `<BlockedEncryptionTypes>${el('EncryptionType', sseCBlocked ? 'SSE-C' : 'NONE')}</BlockedEncryptionTypes>`;
  const body =
    '<Rule>' +
    `<ApplyServerSideEncryptionByDefault>${byDefault}</ApplyServerSideEncryptionByDefault>` +
    el('BucketKeyEnabled', rule.bucketKeyEnabled ?? false) +
    blocked +
    '</Rule>';
  return xml(xmlDocument('ServerSideEncryptionConfiguration', body));
};

/** DeleteBucketEncryption: back to SSE-S3; SSE-C's block is a setting of its own and stays. */
export const deleteBucketEncryption: Handler = async (call) => {
  const bucket = bucketOf(call);
  const current = bucket.configs.get('encryption') as BucketEncryptionDoc | undefined;
  if (current) {
    const next: BucketEncryptionDoc = current.sseCBlocked !== undefined ? { sseCBlocked: current.sseCBlocked } : {};
    await call.app.buckets.setConfig(bucket.record.name, 'encryption', Object.keys(next).length ? next : undefined);
  }
  return empty(204);
};
