/**
 * PutObject.
 */
import { writePrecondition } from '../../objects/conditions.js';
import { putObject as putObjectData, putReplica as putReplicaData } from '../../objects/put.js';
import { checkReplicaDestination } from '../../objects/replica.js';
import { replicaRequest } from './replica.js';
import { versionHeader } from '../../objects/versions.js';
import { bucketOf, empty, header, keyOf, uploadBody, type Handler } from './call.js';
import {
  checkAclHeaders,
  checkEncryptionHeaders,
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
  checkEncryptionHeaders(call);
  const props = {
    meta: metaFromHeaders(call),
    tags: tagsFromHeader(call),
    storageClass: storageClassFromHeaders(call),
    owner: call.accountId,
    lastModified: call.now,
    precondition: writePrecondition(key, header(call, 'if-match'), header(call, 'if-none-match')),
  };
  const replica = replicaRequest(call, bucket);
  if (replica) checkReplicaDestination(bucket);
  const body = uploadBody(call, { maxSize: MAX_PUT_SIZE, lengthRequired: true });
  const v = replica
    ? await putReplicaData(bucket, key, body, { ...props, ...replica }, call.app.config.inlineThreshold)
    : await putObjectData(bucket, key, body, props, call.app.config.inlineThreshold);
  return empty(200, {
    etag: quoteEtag(v.etag),
    'x-amz-version-id': versionHeader(bucket, v),
    ...checksumHeaders(v.checksum),
  });
};
