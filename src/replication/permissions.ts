/**
 * What the replication role may do, decided before each copy as S3 decides it: the worker
 * assumes the configuration's role (its trust policy must let s3.amazonaws.com assume it), then
 * the role's policies, the source and destination bucket policies and (for encrypted objects)
 * the key policies are evaluated with the same engine that authorizes requests. What is missing
 * ends the task FAILED with the AWS reason (spec §4.4, §5.2); a missing tag permission only
 * drops the tags, as S3 does.
 */
import type { App } from '../app.js';
import { authorize } from '../policy/authorize.js';
import type { AuthorizationMode, ConditionValues, Decision, PolicyDocument, Principal } from '../policy/types.js';
import { bucketPolicy } from '../objects/bucket-access.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { ReplicationTask, VersionRecord } from '../storage/types.js';
import { ReplicationFailure } from './failures.js';
import type { Destination } from './sites.js';

/** The principal S3's replication acts as on AWS: the service assuming the role. */
export const REPLICATION_SERVICE = 's3.amazonaws.com';

export interface ReplicationGrant {
  /** The role session the copy runs as. */
  principal: Principal;
  /** Whether tags travel with the replica (s3:GetObjectVersionTagging and s3:ReplicateTags). */
  tags: boolean;
  /** Checks a KMS action of the role on a key (for SSE-KMS sources and replica keys). */
  kms(action: 'kms:Decrypt' | 'kms:Encrypt' | 'kms:GenerateDataKey', key: { arn: string; accountId: string; policy: PolicyDocument }): boolean;
}

/**
 * The condition keys of the role's requests. Replication runs inside S3 over its own
 * connections: aws:SecureTransport is true (AWS's replication traffic is TLS), so that a source
 * bucket policy denying insecure transport (seed 000 step 9) does not stop it.
 */
function roleConditions(app: App, principal: Principal): ConditionValues {
  return {
    'aws:securetransport': ['true'],
    'aws:principalarn': [principal.principalArn],
    'aws:principalaccount': [principal.accountId],
    'aws:principaltype': ['AssumedRole'],
    'aws:userid': [principal.userId],
    'aws:currenttime': [new Date(app.clock()).toISOString()],
  };
}

function policyOf(app: App, bucket: string): PolicyDocument | undefined {
  return bucketPolicy(app.buckets, bucket)?.doc;
}

/**
 * Authorizes one replication task. Throws ReplicationFailure (permanent) with the AWS reason
 * when the role cannot be assumed or lacks a permission the copy needs.
 */
export function authorizeReplication(app: App, source: BucketEntry, t: ReplicationTask, v: VersionRecord, d: Destination): ReplicationGrant {
  const roleArn = source.replication?.role ?? '';
  const principal = app.iam.assumeRoleAsService(roleArn, REPLICATION_SERVICE);
  if (!principal || principal.accountId !== source.record.owner) {
    throw new ReplicationFailure(
      'AssumeRoleNotPermitted',
      `S3 cannot assume the replication role ${roleArn || '(none)'}: it does not exist in account ${source.record.owner}, or its trust policy does not allow ${REPLICATION_SERVICE} to sts:AssumeRole`,
    );
  }
  const conditions = roleConditions(app, principal);
  const identityPolicies = app.iam.policiesOf(principal);
  /** The role's decision on one action, with the resource's policy (bucket or key policy). */
  const decide = (action: string, resource: string, resourcePolicy: PolicyDocument | undefined, resourceAccount: string, mode: AuthorizationMode = 's3'): Decision =>
    authorize({
      ctx: { principal, action, resource, conditions: mode === 's3' ? { ...conditions, 's3:resourceaccount': [resourceAccount] } : conditions },
      identityPolicies,
      resourcePolicy,
      resourceAccount,
      mode,
    });
  const srcName = source.record.name;
  const srcPolicy = policyOf(app, srcName);
  const srcObject = `arn:aws:s3:::${srcName}/${v.key}`;
  const allowedOnSource = (action: string) => decide(action, srcObject, srcPolicy, source.record.owner).allowed;

  if (t.op === 'delete-marker') {
    // S3 needs s3:ListBucket on the source to see delete markers (spec §5.2).
    if (!decide('s3:ListBucket', `arn:aws:s3:::${srcName}`, srcPolicy, source.record.owner).allowed) {
      throw new ReplicationFailure('SrcHeadObjectNotPermitted', `the role ${roleArn} is not allowed s3:ListBucket on ${srcName} (needed to replicate delete markers)`);
    }
  } else if (!allowedOnSource('s3:GetObjectVersionForReplication')) {
    throw new ReplicationFailure(
      t.op === 'metadata' ? 'SrcHeadObjectNotPermitted' : 'SrcGetObjectNotPermitted',
      `the role ${roleArn} is not allowed s3:GetObjectVersionForReplication on ${srcObject}`,
    );
  }

  // The destination side: the role's policies, and the destination bucket's policy when the
  // bucket is here (a remote site evaluates its own policy for the site's credentials).
  const dstName = d.kind === 'local' ? d.bucket.record.name : t.destination;
  const dstOwner = d.kind === 'local' ? d.bucket.record.owner : source.record.owner;
  const dstPolicy = d.kind === 'local' ? policyOf(app, dstName) : undefined;
  const dstObject = `arn:aws:s3:::${dstName}/${v.key}`;
  const allowedOnDest = (action: string) => decide(action, dstObject, dstPolicy, dstOwner).allowed;

  if (t.op === 'delete-marker') {
    if (!allowedOnDest('s3:ReplicateDelete')) {
      throw new ReplicationFailure('DstDelObjNotPermitted', `the role ${roleArn} is not allowed s3:ReplicateDelete on ${dstObject}`);
    }
  } else if (t.op === 'metadata') {
    if (!allowedOnDest('s3:ReplicateTags') && !allowedOnDest('s3:ReplicateObject')) {
      throw new ReplicationFailure('DstPutTaggingNotPermitted', `the role ${roleArn} is not allowed s3:ReplicateTags on ${dstObject}`);
    }
  } else {
    if (!allowedOnDest('s3:ReplicateObject')) {
      throw new ReplicationFailure('DstPutObjectNotPermitted', `the role ${roleArn} is not allowed s3:ReplicateObject on ${dstObject}`);
    }
    const rule = source.replication?.rules.find((r) => r.id === t.ruleId);
    if (rule?.destination.accessControlTranslation && !allowedOnDest('s3:ObjectOwnerOverrideToBucketOwner')) {
      throw new ReplicationFailure(
        'DstPutObjectNotPermitted',
        `the role ${roleArn} is not allowed s3:ObjectOwnerOverrideToBucketOwner on ${dstObject} (AccessControlTranslation)`,
      );
    }
  }
  // Tags need both reading them at the source and writing them at the destination; without
  // either the object replicates without its tags (spec §2.3, §4.4 note).
  const tags = v.tags.length === 0 || (allowedOnSource('s3:GetObjectVersionTagging') && allowedOnDest('s3:ReplicateTags'));
  return {
    principal,
    tags,
    kms: (action, key) => decide(action, key.arn, key.policy, key.accountId, 'kms').allowed,
  };
}
