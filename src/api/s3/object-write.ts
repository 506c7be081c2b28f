/**
 * PutObject.
 */
import { writePrecondition } from '../../objects/conditions.js';
import { storedLength } from '../../objects/data.js';
import { bucketEncryption, seal } from '../../objects/encryption.js';
import { putObject as putObjectData, putReplica as putReplicaData, putStoredReplica } from '../../objects/put.js';
import { checkReplicaDestination } from '../../objects/replica.js';
import { replicaRequest, storedObjectFacts } from './replica.js';
import { versionHeader } from '../../objects/versions.js';
import { Errors } from '../../errors.js';
import { bucketOf, empty, header, keyOf, uploadBody, type Handler, writerOwner } from './call.js';
import { encryptionHeaders, encryptionRequest, kmsCaller } from './encryption.js';
import {
  checkAclHeaders,
  checksumHeaders,
  metaFromHeaders,
  quoteEtag,
  storageClassFromHeaders,
  tagsFromHeader,
} from './object-headers.js';

/** Largest single PUT S3 accepts: 5 GiB. */
const MAX_PUT_SIZE = 5 * 1024 * 1024 * 1024;

export const putObject: Handler = async (call) => {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  checkAclHeaders(call);
  const props = {
    meta: metaFromHeaders(call),
    tags: tagsFromHeader(call),
    storageClass: storageClassFromHeaders(call),
    owner: writerOwner(call, bucket),
    lastModified: call.now,
    precondition: writePrecondition(key, header(call, 'if-match'), header(call, 'if-none-match')),
  };
  const replica = replicaRequest(call);
  if (replica) checkReplicaDestination(bucket);
  const stored = replica ? storedObjectFacts(call) : undefined;
  let v;
  if (replica && stored) {
    // An SSE-C replica arrives as its source stored it; blocking SSE-C blocks replicas too.
    if (bucketEncryption(bucket).sseCBlocked) throw Errors.accessDenied();
    const body = uploadBody(call, { maxSize: storedLength(MAX_PUT_SIZE, true), lengthRequired: true });
    v = await putStoredReplica(bucket, key, body, { ...props, ...replica }, stored, call.app.config.inlineThreshold);
  } else {
    // The data key exists before the body is read: a KMS refusal answers before 100 Continue.
    const sealing = seal(call.app, bucket, key, encryptionRequest(call, bucket), kmsCaller(call));
    const body = uploadBody(call, { maxSize: MAX_PUT_SIZE, lengthRequired: true });
    v = replica
      ? await putReplicaData(bucket, key, body, { ...props, ...replica, sealing }, call.app.config.inlineThreshold)
      : await putObjectData(bucket, key, body, { ...props, sealing }, call.app.config.inlineThreshold);
  }
  return empty(200, {
    etag: quoteEtag(v.etag),
    'x-amz-version-id': versionHeader(bucket, v),
    ...checksumHeaders(v.checksum),
    ...encryptionHeaders(v.meta.encryption, bucket.record.name, key),
  });
};
