/**
 * PutBucketReplication's semantic validation (spec §1.6). Confirmed rows use AWS's status, code
 * and message verbatim; rows marked [U] in the spec are choices documented in
 * docs/compatibility.md. Order: source versioning first (AWS rejects a valid document on an
 * unversioned source), then each rule's own checks, then cross-rule checks, then destinations.
 */
import { Errors, S3Error } from '../errors.js';
import type { VersioningState } from '../storage/types.js';
import { bucketFromArn } from '../objects/arn.js';
import { destinationBucketName, isV2, ruleTags, type ReplicationConfig, type ReplicationRule } from './config.js';

export interface ValidationEnv {
  sourceBucket: string;
  sourceVersioning: VersioningState;
  /** The versioning state of a destination bucket, or undefined when it does not exist. */
  destinationVersioning(bucketName: string): Promise<VersioningState | undefined>;
}

const MAX_RULES = 1000;
const SCHEMA_HINT = 'Please refer to S3 Developer Guide for more information.';
/** Classes that are not S3 storage classes a replica can be written in. */
const NOT_REPLICABLE_CLASSES = new Set(['OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS', 'FSX_ONTAP', 'AWS_BACKUP_WARM', 'AWS_BACKUP_LOW_COST_WARM']);
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const invalidRequest = (m: string) => new S3Error('InvalidRequest', 400, m);
const invalidArgument = (m: string, name?: string, value?: string) => Errors.invalidArgument(m, name, value);

function checkRule(r: ReplicationRule): void {
  if (r.id.length > 255) throw invalidArgument('ID length should not exceed allowed limit of 255', 'ID', r.id);
  if (isV2(r)) {
    if (r.deleteMarkerReplication === undefined) {
      throw invalidRequest(`DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
    }
    if (r.priority === undefined) {
      throw invalidRequest(`Priority must be specified for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
    }
    if (r.deleteMarkerReplication === 'Enabled' && ruleTags(r).length > 0) {
      throw invalidRequest(`Delete marker replication is not supported if any Tag filter is specified. ${SCHEMA_HINT}`);
    }
    const and = r.filter!.and;
    if (and && and.tags.length + (and.prefix !== undefined ? 1 : 0) < 2) throw Errors.malformedXML();
    const keys = ruleTags(r).map((t) => t.key);
    if (new Set(keys).size !== keys.length) throw invalidRequest('Duplicate Tag Keys are not allowed.');
  } else {
    if (r.deleteMarkerReplication !== undefined) {
      throw invalidRequest(`DeleteMarkerReplication cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
    }
    if (r.priority !== undefined) {
      throw invalidRequest(`Priority cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
    }
    if (r.sourceSelectionCriteria?.replicaModifications !== undefined) {
      throw invalidRequest(`ReplicaModifications cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
    }
    if (r.destination.replicationTime || r.destination.metrics) {
      throw invalidRequest(`ReplicationTime and Metrics cannot be used for this version of Cross Region Replication configuration schema. ${SCHEMA_HINT}`);
    }
  }
  if (r.prefix !== undefined && [...r.prefix].length > 1024) throw invalidArgument('Prefix length should not exceed 1024', 'Prefix');
  const ssc = r.sourceSelectionCriteria;
  if (ssc && ssc.sseKmsEncryptedObjects === undefined && ssc.replicaModifications === undefined) {
    throw invalidRequest('SourceSelectionCriteria cannot be empty');
  }
  const d = r.destination;
  if (ssc?.sseKmsEncryptedObjects !== undefined && !d.encryptionConfiguration?.replicaKmsKeyId) {
    throw invalidRequest('ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.');
  }
  const name = bucketFromArn(d.bucket);
  if (name === undefined || !BUCKET_NAME.test(name)) throw invalidArgument('Invalid bucket ARN.', 'Destination.Bucket', d.bucket);
  if (d.storageClass !== undefined && NOT_REPLICABLE_CLASSES.has(d.storageClass)) {
    throw invalidArgument(`The storage class ${d.storageClass} is not supported as a replication destination storage class.`, 'StorageClass', d.storageClass);
  }
  if (d.accessControlTranslation && d.account === undefined) {
    throw invalidRequest('Account must be specified if the Owner in AccessControlTranslation has a value');
  }
  if (d.account !== undefined && !/^\d{12}$/.test(d.account)) throw invalidArgument('Invalid account id.', 'Account', d.account);
  const rtcEnabled = d.replicationTime?.status === 'Enabled';
  if (d.metrics?.eventThresholdMinutes !== undefined && !rtcEnabled) {
    throw new S3Error('InvalidArgument', 400, 'Metrics cannot contain an event threshold when ReplicationTime is not specified or Disabled');
  }
  if (d.replicationTime && !d.metrics) {
    throw invalidRequest('Replication destination must contain both ReplicationTime and Metrics or neither.');
  }
  if (d.replicationTime && d.replicationTime.minutes !== 15) {
    throw invalidArgument('Invalid time minute value: only 15 minutes is supported.', 'Minutes', String(d.replicationTime.minutes));
  }
  if (d.metrics?.eventThresholdMinutes !== undefined && d.metrics.eventThresholdMinutes !== 15) {
    throw invalidArgument('Invalid event threshold minute value: only 15 minutes is supported.', 'Minutes', String(d.metrics.eventThresholdMinutes));
  }
  if (rtcEnabled && d.metrics?.status !== 'Enabled') {
    throw invalidRequest('Metrics must be Enabled when ReplicationTime is Enabled.');
  }
}

export async function validateReplicationConfig(c: ReplicationConfig, env: ValidationEnv): Promise<void> {
  if (env.sourceVersioning !== 'Enabled') {
    throw invalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration");
  }
  if (c.rules.length > MAX_RULES) throw invalidRequest(`The number of replication rules cannot exceed ${MAX_RULES}.`);
  if (!ROLE_ARN.test(c.role)) throw invalidArgument('Invalid Role specified in replication configuration', 'Role', c.role);
  for (const r of c.rules) checkRule(r);

  const v2 = c.rules.filter(isV2).length;
  if (v2 > 0 && v2 < c.rules.length) {
    throw invalidRequest(
      'A replication configuration cannot mix rules with a Filter (the current schema) and rules with a rule-level Prefix (the earlier schema).',
    );
  }
  const ids = new Set<string>();
  const priorities = new Set<number>();
  const destinations = new Set<string>();
  for (const r of c.rules) {
    if (ids.has(r.id)) throw invalidArgument('Rule Id must be unique.', 'ID', r.id);
    ids.add(r.id);
    if (r.priority !== undefined) {
      if (priorities.has(r.priority)) throw invalidRequest(`Found duplicate priority ${r.priority}.`);
      priorities.add(r.priority);
    }
    destinations.add(destinationBucketName(r.destination));
  }
  if (v2 === 0 && destinations.size > 1) throw invalidRequest('Number of distinct destination bucket ARNs cannot exceed 1');
  if (destinations.has(env.sourceBucket)) {
    throw invalidRequest('Destination bucket cannot be the same as the source bucket.');
  }
  // Destinations are checked for every rule, Disabled ones included, as AWS does.
  for (const name of destinations) {
    if ((await env.destinationVersioning(name)) !== 'Enabled') {
      throw invalidRequest('Destination bucket must have versioning enabled.');
    }
  }
}
