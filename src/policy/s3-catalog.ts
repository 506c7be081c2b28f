/**
 * The S3 action names and S3 condition keys a bucket policy may use. PutBucketPolicy refuses a
 * policy naming an action S3 does not define ("Policy has invalid action") or an s3: condition
 * key it does not define ("Policy has an invalid condition key"); an action pattern is accepted
 * when it names at least one action.
 */
import { globMatcher } from './wildcard.js';

const ACTIONS = `
AbortMultipartUpload BypassGovernanceRetention CreateBucket DeleteBucket DeleteBucketOwnershipControls
DeleteBucketPolicy DeleteBucketWebsite DeleteObject DeleteObjectTagging DeleteObjectVersion
DeleteObjectVersionTagging GetAccelerateConfiguration GetAnalyticsConfiguration GetBucketAcl
GetBucketCORS GetBucketLocation GetBucketLogging GetBucketNotification GetBucketObjectLockConfiguration
GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock
GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration
GetIntelligentTieringConfiguration GetInventoryConfiguration GetLifecycleConfiguration
GetMetricsConfiguration GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold GetObjectRetention
GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl GetObjectVersionAttributes
GetObjectVersionForReplication GetObjectVersionTagging GetObjectVersionTorrent GetReplicationConfiguration
InitiateReplication ListBucket ListBucketMultipartUploads ListBucketVersions ListMultipartUploadParts
ObjectOwnerOverrideToBucketOwner PutAccelerateConfiguration PutAnalyticsConfiguration PutBucketAcl
PutBucketCORS PutBucketLogging PutBucketNotification PutBucketObjectLockConfiguration
PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment
PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
PutIntelligentTieringConfiguration PutInventoryConfiguration PutLifecycleConfiguration
PutMetricsConfiguration PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention PutObjectTagging
PutObjectVersionAcl PutObjectVersionTagging PutReplicationConfiguration ReplicateDelete ReplicateObject
ReplicateTags RestoreObject ListAllMyBuckets GetBucketAbac PutBucketAbac
CreateBucketMetadataTableConfiguration GetBucketMetadataTableConfiguration
DeleteBucketMetadataTableConfiguration UpdateBucketMetadataInventoryTableConfiguration
UpdateBucketMetadataJournalTableConfiguration PauseReplication
CreateAccessPoint DeleteAccessPoint DeleteAccessPointPolicy GetAccessPoint GetAccessPointPolicy
GetAccessPointPolicyStatus PutAccessPointPolicy ListAccessPoints PutAccessPointPublicAccessBlock
CreateAccessPointForObjectLambda DeleteAccessPointForObjectLambda DeleteAccessPointPolicyForObjectLambda
GetAccessPointConfigurationForObjectLambda GetAccessPointForObjectLambda GetAccessPointPolicyForObjectLambda
GetAccessPointPolicyStatusForObjectLambda ListAccessPointsForObjectLambda
PutAccessPointConfigurationForObjectLambda PutAccessPointPolicyForObjectLambda
GetAccountPublicAccessBlock PutAccountPublicAccessBlock CreateJob DescribeJob ListJobs
UpdateJobPriority UpdateJobStatus GetJobTagging PutJobTagging DeleteJobTagging
GetStorageLensConfiguration PutStorageLensConfiguration DeleteStorageLensConfiguration
ListStorageLensConfigurations GetStorageLensConfigurationTagging PutStorageLensConfigurationTagging
DeleteStorageLensConfigurationTagging GetStorageLensDashboard CreateStorageLensGroup
DeleteStorageLensGroup GetStorageLensGroup ListStorageLensGroups UpdateStorageLensGroup
CreateMultiRegionAccessPoint DeleteMultiRegionAccessPoint DescribeMultiRegionAccessPointOperation
GetMultiRegionAccessPoint GetMultiRegionAccessPointPolicy GetMultiRegionAccessPointPolicyStatus
GetMultiRegionAccessPointRoutes ListMultiRegionAccessPoints PutMultiRegionAccessPointPolicy
SubmitMultiRegionAccessPointRoutes ListTagsForResource TagResource UntagResource GetDataAccess
AssociateAccessGrantsIdentityCenter CreateAccessGrant CreateAccessGrantsInstance CreateAccessGrantsLocation
DeleteAccessGrant DeleteAccessGrantsInstance DeleteAccessGrantsInstanceResourcePolicy
DeleteAccessGrantsLocation DissociateAccessGrantsIdentityCenter GetAccessGrant GetAccessGrantsInstance
GetAccessGrantsInstanceForPrefix GetAccessGrantsInstanceResourcePolicy GetAccessGrantsLocation
ListAccessGrants ListAccessGrantsInstances ListAccessGrantsLocations ListCallerAccessGrants
PutAccessGrantsInstanceResourcePolicy UpdateAccessGrantsLocation
`
  .split(/\s+/)
  .filter(Boolean)
  .map((a) => 's3:' + a.toLowerCase());

const ACTION_SET = new Set(ACTIONS);

export function isKnownS3Action(action: string): boolean {
  const lower = action.toLowerCase();
  if (!lower.startsWith('s3:')) return false;
  if (ACTION_SET.has(lower)) return true;
  if (!lower.includes('*') && !lower.includes('?')) return false;
  const m = globMatcher(lower, false);
  return ACTIONS.some(m);
}

const CONDITION_KEYS = new Set(
  `
accesspointnetworkorigin authtype dataaccesspointaccount dataaccesspointarn delimiter existingjoboperation
existingjobpriority jobsuspendedcause locationconstraint max-keys object-lock-legal-hold object-lock-mode
object-lock-remaining-retention-days object-lock-retain-until-date prefix requestjoboperation
requestjobpriority requestobjecttagkeys resourceaccount signatureage signatureversion tlsversion versionid
objectcreationoperation if-match if-none-match accessgrantsinstancearn
`
    .split(/\s+/)
    .filter(Boolean)
    .map((k) => 's3:' + k),
);

/** Keys that take a tag key after the slash. */
const CONDITION_KEY_PREFIXES = ['s3:existingobjecttag/', 's3:requestobjecttag/', 's3:buckettag/'];

export function isKnownS3ConditionKey(key: string): boolean {
  const lower = key.toLowerCase();
  if (CONDITION_KEYS.has(lower)) return true;
  // The request-header keys (s3:x-amz-acl, s3:x-amz-server-side-encryption ...) all follow one form.
  if (lower.startsWith('s3:x-amz-') && lower.length > 's3:x-amz-'.length) return true;
  return CONDITION_KEY_PREFIXES.some((p) => lower.startsWith(p) && lower.length > p.length);
}
