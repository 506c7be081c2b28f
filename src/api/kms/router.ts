/**
 * The KMS JSON 1.1 protocol: POST / with `X-Amz-Target: TrentService.<Operation>` and a JSON
 * body; answers are JSON (application/x-amz-json-1.1), errors `{"__type": code, "message": ...}`
 * with status 400 (500 for KMSInternalException). The region is the credential scope's: each
 * region's keys are invisible from every other.
 */
import { KmsError } from '../../crypto/kms-errors.js';
import type { ServiceDispatch, ServiceResponse } from '../service/call.js';
import { createAlias, deleteAlias, listAliases, updateAlias } from './aliases.js';
import type { KmsHandler } from './call.js';
import { decrypt, encrypt, generateDataKey, generateDataKeyWithoutPlaintext, reEncrypt } from './cryptography.js';
import {
  cancelKeyDeletion,
  createKey,
  describeKey,
  disableKey,
  disableKeyRotation,
  enableKey,
  enableKeyRotation,
  generateRandom,
  getKeyRotationStatus,
  listKeyRotations,
  listKeys,
  scheduleKeyDeletion,
  updateKeyDescription,
} from './keys.js';
import { getKeyPolicy, listKeyPolicies, putKeyPolicy } from './policy.js';
import { listResourceTags, tagResource, untagResource } from './tags.js';
import { Params, type JsonObject } from './wire.js';

const TARGET_PREFIX = 'TrentService.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

const OPERATIONS: Record<string, KmsHandler> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  EnableKey: enableKey,
  DisableKey: disableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  UpdateKeyDescription: updateKeyDescription,
  GetKeyRotationStatus: getKeyRotationStatus,
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  ListKeyRotations: listKeyRotations,
  CreateAlias: createAlias,
  UpdateAlias: updateAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
  GetKeyPolicy: getKeyPolicy,
  PutKeyPolicy: putKeyPolicy,
  ListKeyPolicies: listKeyPolicies,
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  GenerateRandom: generateRandom,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListResourceTags: listResourceTags,
};

/**
 * KMS operations this KMS does not offer (asymmetric and HMAC keys, grants, imported material,
 * custom key stores, multi-Region keys): a clear refusal rather than an unknown-operation error.
 */
const NOT_OFFERED = new Set([
  'CreateGrant',
  'ListGrants',
  'ListRetirableGrants',
  'RetireGrant',
  'RevokeGrant',
  'Sign',
  'Verify',
  'GenerateMac',
  'VerifyMac',
  'GetPublicKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'DeriveSharedSecret',
  'GetParametersForImport',
  'ImportKeyMaterial',
  'DeleteImportedKeyMaterial',
  'ReplicateKey',
  'UpdatePrimaryRegion',
  'RotateKeyOnDemand',
  'CreateCustomKeyStore',
  'DeleteCustomKeyStore',
  'DescribeCustomKeyStores',
  'UpdateCustomKeyStore',
  'ConnectCustomKeyStore',
  'DisconnectCustomKeyStore',
]);

function respond(status: number, body: string, requestId: string, errorType?: string): ServiceResponse {
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  return { status, headers, body };
}

export function kmsErrorResponse(e: KmsError, requestId: string): ServiceResponse {
  const body: JsonObject = { __type: e.code };
  if (e.hasMessage) body.message = e.message;
  return respond(e.status, JSON.stringify(body), requestId, e.code);
}

function parseBody(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KmsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new KmsError('SerializationException', 'Start of structure or map found where not expected.');
  }
  return json as JsonObject;
}

export const dispatchKms: ServiceDispatch = async (call) => {
  try {
    const target = call.req.headers['x-amz-target'];
    const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
    if (call.method !== 'POST' || name === undefined) throw new KmsError('UnknownOperationException');
    const handler = OPERATIONS[name];
    if (handler === undefined) {
      if (NOT_OFFERED.has(name)) throw new KmsError('UnsupportedOperationException', `${name} is not supported by this KMS.`);
      throw new KmsError('UnknownOperationException');
    }
    const kms = call.app.kms.get(call.region);
    if (kms === undefined) {
      throw new KmsError('InvalidSignatureException', `Credential should be scoped to a valid region, not '${call.region}'. `);
    }
    const result = handler({ call, kms, p: new Params(parseBody(call.body)), account: call.principal.accountId });
    return respond(200, result === undefined ? '' : JSON.stringify(result), call.requestId);
  } catch (e) {
    if (e instanceof KmsError) return kmsErrorResponse(e, call.requestId);
    throw e;
  }
};
