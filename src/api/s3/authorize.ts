/**
 * Authorization of every S3 operation: the IAM action(s) it needs, on which resource, with which
 * S3 condition keys, evaluated against the caller's identity policies and the bucket policy
 * (restricted by the public access block), the way S3 does before it runs the operation.
 */
import { Errors, S3Error } from '../../errors.js';
import { deniedMessage } from '../../http/authorizer.js';
import { bucketPolicy, effectivePublicAccessBlock } from '../../objects/bucket-access.js';
import { parseCopySource } from '../../objects/copy.js';
import type { ConditionValues, PolicyDocument } from '../../policy/types.js';
import { REPLICA_HEADERS } from '../../replication/protocol.js';
import { header, type Handler, type S3Call } from './call.js';

/** What one operation asks for: an action on the bucket or on the object named by the call. */
export interface Permission {
  action: string;
  /** 'bucket': arn:aws:s3:::bucket; 'object': arn:aws:s3:::bucket/key; 'service': '*'. */
  on: 'bucket' | 'object' | 'service';
  /** With ?versionId=, the action's version variant (s3:GetObject → s3:GetObjectVersion). */
  versioned?: string;
}

const bucketAct = (action: string): Permission => ({ action, on: 'bucket' });
const objectAct = (action: string, versioned?: string): Permission => ({ action, on: 'object', versioned });

export const PERMISSIONS = {
  listBuckets: { action: 's3:ListAllMyBuckets', on: 'service' } as Permission,
  /** GetObjectAttributes needs s3:GetObject as well as its own action (S3 API reference). */
  getObjectAttributesRead: objectAct('s3:GetObject', 's3:GetObjectVersion'),
  createBucket: bucketAct('s3:CreateBucket'),
  deleteBucket: bucketAct('s3:DeleteBucket'),
  headBucket: bucketAct('s3:ListBucket'),
  listObjects: bucketAct('s3:ListBucket'),
  listObjectVersions: bucketAct('s3:ListBucketVersions'),
  listMultipartUploads: bucketAct('s3:ListBucketMultipartUploads'),
  getBucketLocation: bucketAct('s3:GetBucketLocation'),
  getBucketVersioning: bucketAct('s3:GetBucketVersioning'),
  putBucketVersioning: bucketAct('s3:PutBucketVersioning'),
  getBucketTagging: bucketAct('s3:GetBucketTagging'),
  putBucketTagging: bucketAct('s3:PutBucketTagging'),
  getReplication: bucketAct('s3:GetReplicationConfiguration'),
  putReplication: bucketAct('s3:PutReplicationConfiguration'),
  getBucketPolicy: bucketAct('s3:GetBucketPolicy'),
  putBucketPolicy: bucketAct('s3:PutBucketPolicy'),
  deleteBucketPolicy: bucketAct('s3:DeleteBucketPolicy'),
  getPublicAccessBlock: bucketAct('s3:GetBucketPublicAccessBlock'),
  putPublicAccessBlock: bucketAct('s3:PutBucketPublicAccessBlock'),
  getEncryption: bucketAct('s3:GetEncryptionConfiguration'),
  putEncryption: bucketAct('s3:PutEncryptionConfiguration'),
  getOwnership: bucketAct('s3:GetBucketOwnershipControls'),
  putOwnership: bucketAct('s3:PutBucketOwnershipControls'),
  getBucketAcl: bucketAct('s3:GetBucketAcl'),
  putBucketAcl: bucketAct('s3:PutBucketAcl'),
  getPolicyStatus: bucketAct('s3:GetBucketPolicyStatus'),
  getObject: objectAct('s3:GetObject', 's3:GetObjectVersion'),
  putObject: objectAct('s3:PutObject'),
  deleteObject: objectAct('s3:DeleteObject', 's3:DeleteObjectVersion'),
  getObjectTagging: objectAct('s3:GetObjectTagging', 's3:GetObjectVersionTagging'),
  putObjectTagging: objectAct('s3:PutObjectTagging', 's3:PutObjectVersionTagging'),
  deleteObjectTagging: objectAct('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'),
  getObjectAcl: objectAct('s3:GetObjectAcl', 's3:GetObjectVersionAcl'),
  putObjectAcl: objectAct('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
  getObjectAttributes: objectAct('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes'),
  abortMultipartUpload: objectAct('s3:AbortMultipartUpload'),
  listParts: objectAct('s3:ListMultipartUploadParts'),
  /** DeleteObjects is authorized per key by its handler; the request itself needs nothing more. */
  none: { action: '', on: 'service' } as Permission,
};

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

/** Condition keys S3 adds from the request's own headers and query. */
function requestConditions(call: S3Call, permission: Permission): ConditionValues {
  const c: ConditionValues = {
    's3:signatureversion': [call.auth.presigned || call.principal.kind !== 'anonymous' ? 'AWS4-HMAC-SHA256' : ''],
    's3:authtype': [call.principal.kind === 'anonymous' ? '' : call.auth.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER'],
  };
  const put = (key: string, v: string | undefined) => {
    if (v !== undefined) c[key] = [v];
  };
  put('s3:x-amz-content-sha256', header(call, 'x-amz-content-sha256'));
  if (permission.on === 'bucket') {
    put('s3:prefix', call.query.get('prefix'));
    put('s3:delimiter', call.query.get('delimiter'));
    put('s3:max-keys', call.query.get('max-keys'));
    put('s3:locationconstraint', undefined);
  } else {
    put('s3:versionid', call.query.get('versionId'));
    put('s3:x-amz-acl', header(call, 'x-amz-acl'));
    put('s3:x-amz-server-side-encryption', header(call, 'x-amz-server-side-encryption'));
    put('s3:x-amz-server-side-encryption-aws-kms-key-id', header(call, 'x-amz-server-side-encryption-aws-kms-key-id'));
    put('s3:x-amz-server-side-encryption-customer-algorithm', header(call, 'x-amz-server-side-encryption-customer-algorithm'));
    put('s3:x-amz-storage-class', header(call, 'x-amz-storage-class'));
    put('s3:x-amz-metadata-directive', header(call, 'x-amz-metadata-directive'));
    put('s3:x-amz-copy-source', header(call, 'x-amz-copy-source'));
    const tagging = header(call, 'x-amz-tagging');
    if (tagging !== undefined) {
      const keys: string[] = [];
      for (const [k, v] of new URLSearchParams(tagging)) {
        keys.push(k);
        c[`s3:requestobjecttag/${k.toLowerCase()}`] = [v];
      }
      c['s3:requestobjecttagkeys'] = keys;
    }
  }
  return c;
}

/** Whether any of these policies has a condition on s3:ExistingObjectTag (then the tags are loaded). */
const usesObjectTags = new WeakMap<PolicyDocument, boolean>();
function needsExistingTags(docs: Array<PolicyDocument | undefined>): boolean {
  for (const d of docs) {
    if (!d) continue;
    let uses = usesObjectTags.get(d);
    if (uses === undefined) {
      uses = d.statements.some((s) =>
        Object.values(s.condition ?? {}).some((byKey) => Object.keys(byKey).some((k) => k.toLowerCase().startsWith('s3:existingobjecttag/'))),
      );
      usesObjectTags.set(d, uses);
    }
    if (uses) return true;
  }
  return false;
}

/**
 * Checks one permission for the call on `bucketName` (and `key`), throwing AccessDenied when the
 * policies do not allow it. A bucket that does not exist is not checked: the operation answers
 * NoSuchBucket, as S3 does to a signed request.
 */
export async function requirePermission(
  call: S3Call,
  permission: Permission,
  bucketName: string | undefined,
  key: string | undefined,
  versionId?: string,
): Promise<void> {
  if (permission.action === '') return;
  const action = versionId !== undefined && permission.versioned ? permission.versioned : permission.action;
  const resource =
    // Bucket-less actions (ListAllMyBuckets) are evaluated on arn:aws:s3:::*, which both "*" and
    // the common "arn:aws:s3:::*" resource of policies match.
    permission.on === 'service' ? 'arn:aws:s3:::*' : permission.on === 'bucket' || key === undefined ? bucketArn(bucketName!) : objectArn(bucketName!, key);
  // CreateBucket is the caller's own act in its own account: a name taken by another account is
  // answered BucketAlreadyExists by the operation, not refused by that bucket's policy.
  const creating = permission.action === 's3:CreateBucket';
  const bucket = bucketName !== undefined && !creating ? call.app.buckets.get(bucketName) : undefined;
  if (permission.on !== 'service' && !creating && !bucket) return;
  let resourcePolicy: PolicyDocument | undefined;
  const owner = bucket?.record.owner ?? call.principal.accountId;
  if (bucket) {
    const policy = bucketPolicy(call.app.buckets, bucket.record.name);
    if (policy) {
      resourcePolicy = policy.doc;
      // RestrictPublicBuckets: while the policy is public, only the owner's account and AWS
      // services get in; every other account and anonymous callers are refused.
      const outsider = call.principal.accountId !== owner && call.principal.kind !== 'service';
      if (policy.isPublic && outsider) {
        const pab = await effectivePublicAccessBlock(call.app.buckets, bucket.record.name, owner);
        if (pab.RestrictPublicBuckets) {
          throw Errors.accessDenied(
            call.principal.kind === 'anonymous'
              ? 'Access Denied'
              : `User: ${call.principal.arn} is not authorized to perform: ${action} on resource: "${resource}" because the bucket's public policy is restricted by the RestrictPublicBuckets block public access setting`,
          );
        }
      }
    }
  }
  const conditions = requestConditions(call, permission);
  conditions['s3:resourceaccount'] = [owner];
  if (bucket && key !== undefined && permission.on === 'object' && needsExistingTags([resourcePolicy, ...call.app.iam.policiesOf(call.principal)])) {
    const v = await bucket.region.meta.getVersion(bucket.record.name, key, versionId).catch(() => undefined);
    for (const [k, val] of v?.tags ?? []) conditions[`s3:existingobjecttag/${k.toLowerCase()}`] = [val];
  }
  const d = call.authorize(action, resource, { resourcePolicy, resourceAccount: owner, mode: 's3', conditions });
  if (!d.allowed) throw Errors.accessDenied(deniedMessage(call.principal, action, resource, d, resourcePolicy !== undefined));
}

/**
 * Writes that carry replication headers are replica writes from another site: they need
 * s3:ReplicateObject (s3:ReplicateDelete for delete markers, s3:ReplicateTags for tag syncs)
 * instead of the ordinary write permission, as S3's replication role does on AWS.
 */
function replicaPermission(call: S3Call): Permission | undefined {
  if (
    header(call, REPLICA_HEADERS.versionId) === undefined &&
    header(call, REPLICA_HEADERS.sync) === undefined &&
    header(call, REPLICA_HEADERS.stored) === undefined
  ) {
    return undefined;
  }
  // A DELETE by version id is never a replica write (object-delete.ts): the ordinary permission.
  if (call.method === 'DELETE') return call.query.has('versionId') ? undefined : objectAct('s3:ReplicateDelete');
  if (call.query.has('tagging')) return objectAct('s3:ReplicateTags');
  return objectAct('s3:ReplicateObject');
}

/** Authorizes the operation `handler` is about to run for this call. */
export async function authorizeOperation(call: S3Call, handler: Handler, permissions: ReadonlyMap<Handler, Permission>): Promise<void> {
  const replica = replicaPermission(call);
  const permission = replica ?? permissions.get(handler);
  if (!permission) throw new S3Error('InternalError', 500, 'No authorization rule for this operation.');
  const versionId = replica ? undefined : call.query.get('versionId');
  await requirePermission(call, permission, call.bucketName, call.key, versionId);
  if (permission === PERMISSIONS.getObjectAttributes) {
    await requirePermission(call, PERMISSIONS.getObjectAttributesRead, call.bucketName, call.key, versionId);
  }
  // A copy reads its source: s3:GetObject (or s3:GetObjectVersion) there too.
  const copySource = header(call, 'x-amz-copy-source');
  if (copySource !== undefined && call.key !== undefined && call.method === 'PUT' && !call.query.has('tagging') && !call.query.has('acl')) {
    const src = parseCopySource(copySource);
    await requirePermission(call, PERMISSIONS.getObject, src.bucket, src.key, src.versionId);
  }
}
