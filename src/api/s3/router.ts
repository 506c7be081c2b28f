/**
 * Request → S3 operation, from the method, whether a bucket and key are named, and the query's
 * sub-resource parameters; then the region check every bucket operation needs.
 */
import { Errors, S3Error } from '../../errors.js';
import type { S3Response } from '../../http/respond.js';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './acl.js';
import { getObjectAttributes } from './attributes.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './bucket.js';
import { header, type Handler, type S3Call } from './call.js';
import { copyObject, uploadPartCopy } from './copy.js';
import { listObjects, listObjectsV2, listObjectVersions } from './list.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './multipart.js';
import { deleteObject, deleteObjects } from './object-delete.js';
import { getObject, headObject } from './object-read.js';
import { putObject } from './object-write.js';
import {
  deleteBucketTagging,
  deleteObjectTagging,
  getBucketTagging,
  getObjectTagging,
  putBucketTagging,
  putObjectTagging,
} from './tagging.js';
import { getBucketVersioning, putBucketVersioning } from './versioning.js';
import { deleteBucketReplication, getBucketReplication, putBucketReplication } from './replication.js';
import { dispatchS3Control, isS3ControlCall } from '../s3control/router.js';
import { dispatchAdmin } from '../admin/replication.js';
import { parseCopySource } from '../../objects/copy.js';
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './policy.js';
import { deletePublicAccessBlock, getPublicAccessBlock, putPublicAccessBlock } from './public-access-block.js';
import { deleteOwnershipControls, getOwnershipControls, putOwnershipControls } from './ownership.js';
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './encryption.js';
import { authorizeOperation, PERMISSIONS as P, type Permission } from './authorize.js';
import { effectivePublicAccessBlock } from '../../objects/bucket-access.js';

type Routes = Partial<Record<string, Handler>>;

const ADMIN_PREFIX = '_xregion';

/** Bucket operations by sub-resource, per method. '' is the operation without a sub-resource. */
const BUCKET_ROUTES: Record<string, Routes> = {
  GET: {
    replication: getBucketReplication,
    versioning: getBucketVersioning,
    tagging: getBucketTagging,
    location: getBucketLocation,
    versions: listObjectVersions,
    uploads: listMultipartUploads,
    acl: getBucketAcl,
    policy: getBucketPolicy,
    policyStatus: getBucketPolicyStatus,
    publicAccessBlock: getPublicAccessBlock,
    ownershipControls: getOwnershipControls,
    encryption: getBucketEncryption,
    '': listObjects,
  },
  PUT: {
    replication: putBucketReplication,
    versioning: putBucketVersioning,
    tagging: putBucketTagging,
    acl: putBucketAcl,
    policy: putBucketPolicy,
    publicAccessBlock: putPublicAccessBlock,
    ownershipControls: putOwnershipControls,
    encryption: putBucketEncryption,
    '': createBucket,
  },
  DELETE: {
    replication: deleteBucketReplication,
    tagging: deleteBucketTagging,
    policy: deleteBucketPolicy,
    publicAccessBlock: deletePublicAccessBlock,
    ownershipControls: deleteOwnershipControls,
    encryption: deleteBucketEncryption,
    '': deleteBucket,
  },
  HEAD: { '': headBucket },
  POST: { delete: deleteObjects },
};

const OBJECT_ROUTES: Record<string, Routes> = {
  GET: { tagging: getObjectTagging, uploadId: listParts, attributes: getObjectAttributes, acl: getObjectAcl, '': getObject },
  HEAD: { '': headObject },
  PUT: { tagging: putObjectTagging, acl: putObjectAcl, '': putObject },
  DELETE: { tagging: deleteObjectTagging, uploadId: abortMultipartUpload, '': deleteObject },
  POST: { uploads: createMultipartUpload, uploadId: completeMultipartUpload },
};

/**
 * Sub-resources S3 has that this server does not (yet) serve: a clear 501 naming it, rather
 * than a listing or an upload that silently ignores what the client asked for.
 */
const UNSERVED = new Set([
  'accelerate', 'analytics', 'cors', 'intelligent-tiering', 'inventory', 'legal-hold', 'lifecycle',
  'logging', 'metadataTable', 'metrics', 'notification', 'object-lock', 'requestPayment', 'restore', 'retention', 'select',
  'torrent', 'website', 'session', 'abac', 'metadataConfiguration', 'renameObject',
]);

/** Query parameters that select a sub-resource, in the order they decide the operation. */
const SELECTORS = [
  'uploadId', 'uploads', 'versions', 'versioning', 'replication', 'tagging', 'location', 'acl', 'attributes', 'delete',
  'policyStatus', 'policy', 'publicAccessBlock', 'ownershipControls', 'encryption',
];

/** The permission each operation needs (src/api/s3/authorize.ts). */
const PERMISSIONS = new Map<Handler, Permission>([
  [listBuckets, P.listBuckets],
  [createBucket, P.createBucket],
  [deleteBucket, P.deleteBucket],
  [headBucket, P.headBucket],
  [listObjects, P.listObjects],
  [listObjectsV2, P.listObjects],
  [listObjectVersions, P.listObjectVersions],
  [listMultipartUploads, P.listMultipartUploads],
  [getBucketLocation, P.getBucketLocation],
  [getBucketVersioning, P.getBucketVersioning],
  [putBucketVersioning, P.putBucketVersioning],
  [getBucketTagging, P.getBucketTagging],
  [putBucketTagging, P.putBucketTagging],
  [deleteBucketTagging, P.putBucketTagging],
  [getBucketReplication, P.getReplication],
  [putBucketReplication, P.putReplication],
  [deleteBucketReplication, P.putReplication],
  [getBucketPolicy, P.getBucketPolicy],
  [putBucketPolicy, P.putBucketPolicy],
  [deleteBucketPolicy, P.deleteBucketPolicy],
  [getBucketPolicyStatus, P.getPolicyStatus],
  [getPublicAccessBlock, P.getPublicAccessBlock],
  [putPublicAccessBlock, P.putPublicAccessBlock],
  [deletePublicAccessBlock, P.putPublicAccessBlock],
  [getOwnershipControls, P.getOwnership],
  [putOwnershipControls, P.putOwnership],
  [deleteOwnershipControls, P.putOwnership],
  [getBucketEncryption, P.getEncryption],
  [putBucketEncryption, P.putEncryption],
  [deleteBucketEncryption, P.putEncryption],
  [getBucketAcl, P.getBucketAcl],
  [putBucketAcl, P.putBucketAcl],
  [getObject, P.getObject],
  [headObject, P.getObject],
  [putObject, P.putObject],
  [copyObject, P.putObject],
  [deleteObject, P.deleteObject],
  [deleteObjects, P.none],
  [getObjectTagging, P.getObjectTagging],
  [putObjectTagging, P.putObjectTagging],
  [deleteObjectTagging, P.deleteObjectTagging],
  [getObjectAcl, P.getObjectAcl],
  [putObjectAcl, P.putObjectAcl],
  [getObjectAttributes, P.getObjectAttributes],
  [createMultipartUpload, P.putObject],
  [uploadPart, P.putObject],
  [uploadPartCopy, P.putObject],
  [completeMultipartUpload, P.putObject],
  [abortMultipartUpload, P.abortMultipartUpload],
  [listParts, P.listParts],
]);

/**
 * The bucket owner's root user may always read, change and delete the bucket policy, even one
 * that denies everything: AWS's way out of a policy that locks everyone out.
 */
const POLICY_LOCKOUT_EXEMPT = new Set<Handler>([getBucketPolicy, putBucketPolicy, deleteBucketPolicy]);

/** Canned ACLs that grant public access (refused under BlockPublicAcls). */
const PUBLIC_CANNED_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);

function pick(routes: Routes | undefined, call: S3Call): Handler | undefined {
  if (!routes) return undefined;
  for (const name of call.query.keys()) {
    if (UNSERVED.has(name)) throw Errors.notImplemented(`the "${name}" sub-resource`);
  }
  for (const s of SELECTORS) if (call.query.has(s) && routes[s]) return routes[s];
  if (call.method === 'GET' && !call.key && call.query.get('list-type') === '2') return listObjectsV2;
  if (call.method === 'PUT' && call.key) {
    if (call.query.has('partNumber') && call.query.has('uploadId')) {
      return header(call, 'x-amz-copy-source') !== undefined ? uploadPartCopy : uploadPart;
    }
    if (header(call, 'x-amz-copy-source') !== undefined && !call.query.has('tagging') && !call.query.has('acl')) return copyObject;
  }
  return routes[''];
}

/** Operations a client may send signed for any region (they locate or create the bucket). */
const REGION_FREE = new Set<Handler>([createBucket, getBucketLocation]);

export async function dispatchS3(call: S3Call): Promise<S3Response> {
  // S3 Control (Batch Replication jobs, /v20180820/...): src/api/s3control/router.ts.
  if (isS3ControlCall(call)) return dispatchS3Control(call);
  // The admin endpoints: no bucket name can start with '_'.
  if (call.bucketName === ADMIN_PREFIX && !call.virtualHost) return dispatchAdmin(call);
  let handler: Handler | undefined;
  if (call.bucketName === undefined) {
    handler = call.method === 'GET' ? listBuckets : undefined;
  } else {
    handler = pick((call.key === undefined ? BUCKET_ROUTES : OBJECT_ROUTES)[call.method], call);
  }
  if (!handler) {
    throw Errors.methodNotAllowed(call.method, call.key === undefined ? (call.bucketName ? 'BUCKET' : 'SERVICE') : 'OBJECT');
  }
  if (call.bucketName !== undefined && !REGION_FREE.has(handler) && call.principal.kind !== 'anonymous') checkRegion(call);
  if (call.bucketName !== undefined) checkExpectedOwner(call);
  const owner = call.bucketName !== undefined ? call.app.buckets.get(call.bucketName)?.record.owner : undefined;
  const lockoutExempt = POLICY_LOCKOUT_EXEMPT.has(handler) && call.principal.kind === 'root' && call.principal.accountId === owner;
  if (!lockoutExempt) await authorizeOperation(call, handler, PERMISSIONS);
  await checkPublicAcl(call, owner);
  return handler(call);
}

/** BlockPublicAcls: a request that sets a public canned ACL is refused with 403. */
async function checkPublicAcl(call: S3Call, owner: string | undefined): Promise<void> {
  const acl = header(call, 'x-amz-acl');
  if (acl === undefined || owner === undefined || !PUBLIC_CANNED_ACLS.has(acl)) return;
  const pab = await effectivePublicAccessBlock(call.app.buckets, call.bucketName!, owner);
  if (pab.BlockPublicAcls) throw Errors.accessDenied();
}

/**
 * x-amz-expected-bucket-owner (and x-amz-source-expected-bucket-owner for copies): a request
 * meant for another account's bucket is refused with 403, whatever the operation.
 */
function checkExpectedOwner(call: S3Call): void {
  const expected = header(call, 'x-amz-expected-bucket-owner');
  const bucket = call.app.buckets.get(call.bucketName!);
  if (expected !== undefined && bucket && bucket.record.owner !== expected) throw Errors.accessDenied();
  const sourceExpected = header(call, 'x-amz-source-expected-bucket-owner');
  const copySource = header(call, 'x-amz-copy-source');
  if (sourceExpected !== undefined && copySource !== undefined) {
    const src = call.app.buckets.get(parseCopySource(copySource).bucket);
    if (src && src.record.owner !== sourceExpected) throw Errors.accessDenied();
  }
}

/**
 * A bucket lives in one region; a request signed for another gets AWS's answer, which tells the
 * client the right region (x-amz-bucket-region, and the error body) so that SDKs re-sign there:
 * 301 PermanentRedirect for path-style requests, 400 AuthorizationHeaderMalformed for
 * virtual-host-style ones, AuthorizationQueryParametersError for presigned URLs. The endpoint
 * named in the redirect is this one: every region of the process is served here.
 */
function checkRegion(call: S3Call): void {
  const bucket = call.app.buckets.get(call.bucketName!);
  if (!bucket || bucket.record.region === call.auth.region) return;
  const expected = bucket.record.region;
  const headers = { 'x-amz-bucket-region': expected };
  if (call.auth.presigned) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      400,
      `Error parsing the X-Amz-Credential parameter; the region '${call.auth.region}' is wrong; expecting '${expected}'`,
      { Region: expected },
      headers,
    );
  }
  if (!call.virtualHost) {
    throw new S3Error(
      'PermanentRedirect',
      301,
      'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
      { Endpoint: header(call, 'host'), Bucket: call.bucketName },
      headers,
    );
  }
  throw new S3Error(
    'AuthorizationHeaderMalformed',
    400,
    `The authorization header is malformed; the region '${call.auth.region}' is wrong; expecting '${expected}'`,
    { Region: expected },
    headers,
  );
}
