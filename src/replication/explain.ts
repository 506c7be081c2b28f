/**
 * `replication explain`: for one key of a bucket, which rules select it, which rule wins for
 * each destination and why, what the replica would get (storage class, delete markers,
 * encryption, RTC), where the destination is, and — when nothing replicates — exactly why.
 * AWS gives no such answer.
 */
import type { App } from '../app.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { Tags, VersionRecord } from '../storage/types.js';
import { isV2, ruleTags, type ReplicationRule } from './config.js';
import { matchRules, type VersionFacts } from './rules.js';
import { SiteUnavailable } from './sites.js';
import { isSseKms } from '../objects/encryption.js';

export interface RuleExplanation {
  id: string;
  priority?: number;
  status: string;
  destination: string;
  selects: boolean;
  reason?: string;
}

export interface DestinationExplanation {
  destination: string;
  rule: string;
  outranked: string[];
  storageClass: string;
  deleteMarkers: string;
  encryption: string;
  replicationTime: boolean;
  /** Where the destination bucket is, or why replication there would fail. */
  target: string;
}

export interface Explanation {
  bucket: string;
  key: string;
  /** What the facts came from: the stored version, or the request's parameters. */
  subject: string;
  configured: boolean;
  replicates: boolean;
  reason?: string;
  /** For a stored version: its x-amz-replication-status and open failures. */
  status?: string;
  failures?: Array<{ destination: string; reason: string; error?: string }>;
  rules: RuleExplanation[];
  destinations: DestinationExplanation[];
}

function deleteMarkerBehaviour(rule: ReplicationRule): string {
  if (!isV2(rule)) return 'replicated (a V1 configuration replicates delete markers made by users)';
  if (ruleTags(rule).length > 0) return 'never replicated: the rule filters on tags';
  if (rule.deleteMarkerReplication === 'Enabled') return 'replicated, with the same version id';
  return 'not replicated: DeleteMarkerReplication is Disabled';
}

/** What the replica's encryption will be (spec §2.3), for this version when it is stored. */
function encryptionBehaviour(rule: ReplicationRule, stored: VersionRecord | undefined): string {
  const kms = rule.destination.encryptionConfiguration?.replicaKmsKeyId;
  const optedIn = rule.sourceSelectionCriteria?.sseKmsEncryptedObjects === 'Enabled' && kms;
  const general = optedIn
    ? `SSE-KMS objects replicate, re-encrypted with ${kms}; SSE-S3 stays SSE-S3, SSE-C stays SSE-C, unencrypted objects take the destination's default encryption`
    : 'SSE-S3 stays SSE-S3, SSE-C stays SSE-C, unencrypted objects take the destination\'s default encryption; SSE-KMS objects are not replicated (SourceSelectionCriteria.SseKmsEncryptedObjects not Enabled)';
  if (!stored || stored.isDeleteMarker) return general;
  const enc = stored.meta.encryption;
  if (!enc) return `this version is unencrypted: the replica takes the destination bucket's default encryption`;
  if (enc.algorithm === 'AES256') return 'this version is SSE-S3: the replica is SSE-S3 (the destination default is ignored)';
  if (enc.algorithm === 'SSE-C') return 'this version is SSE-C: the replica keeps its ciphertext and customer key (same key MD5)';
  return `this version is ${enc.algorithm === 'aws:kms:dsse' ? 'DSSE-KMS' : 'SSE-KMS'} under ${enc.kmsKeyArn}: the replica is re-encrypted with ${kms ?? '(no ReplicaKmsKeyID: it would fail, DstKmsKeyNotFound)'}`;
}

async function describeTarget(app: App, name: string): Promise<string> {
  try {
    const d = await app.destinations.resolve(name);
    if (!d) return `bucket ${name} is not in this process nor at any configured site: replication would fail (DstBucketNotFound)`;
    const where = d.kind === 'local' ? `bucket ${name} in ${d.bucket.record.region} (this process)` : `bucket ${name} in ${d.region} at site ${d.site.config.name} (${d.site.config.endpoint})`;
    const versioning = await app.destinations.versioning(d);
    if (versioning !== 'Enabled') return `${where}: versioning is not Enabled, replication would fail (DstBucketUnversioned)`;
    return where;
  } catch (e) {
    if (e instanceof SiteUnavailable) return `bucket ${name}: a site that may hold it cannot be reached now (${e.message}); replication waits and retries`;
    throw e;
  }
}

export async function explainReplication(
  app: App,
  bucket: BucketEntry,
  key: string,
  opts: { versionId?: string; tags?: Tags; deleteMarker?: boolean; sseKms?: boolean },
): Promise<Explanation> {
  const config = bucket.replication;
  let stored: VersionRecord | undefined;
  if (opts.versionId !== undefined || opts.tags === undefined) {
    stored = await bucket.region.meta.getVersion(bucket.record.name, key, opts.versionId);
  }
  const facts: VersionFacts = stored
    ? { key, tags: stored.tags, isDeleteMarker: stored.isDeleteMarker, isReplica: stored.isReplica === true, sseKms: isSseKms(stored.meta.encryption) }
    : { key, tags: opts.tags ?? [], isDeleteMarker: opts.deleteMarker === true, isReplica: false, sseKms: opts.sseKms === true };
  const out: Explanation = {
    bucket: bucket.record.name,
    key,
    subject: stored
      ? `stored ${stored.isDeleteMarker ? 'delete marker' : 'version'} ${stored.versionId}`
      : `a new ${facts.isDeleteMarker ? 'delete marker' : 'object'} with tags {${facts.tags.map(([k, v]) => `${k}=${v}`).join(', ')}}`,
    configured: config !== undefined,
    replicates: false,
    rules: [],
    destinations: [],
  };
  if (stored) {
    if (stored.replicationStatus) out.status = stored.replicationStatus;
    const failed = await bucket.region.meta.replicationTasks({
      bucket: bucket.record.name,
      status: 'failed',
      key,
      versionId: stored.versionId,
      limit: 100,
    });
    if (failed.length) out.failures = failed.map((t) => ({ destination: t.destination, reason: t.failureReason ?? 'unknown', error: t.lastError }));
  }
  if (!config) {
    out.reason = `bucket ${bucket.record.name} has no replication configuration`;
    return out;
  }
  const match = matchRules(config, facts);
  out.rules = match.verdicts.map((v) => {
    const r: RuleExplanation = {
      id: v.rule.id,
      status: v.rule.status,
      destination: v.rule.destination.bucket,
      selects: v.selects,
    };
    if (v.rule.priority !== undefined) r.priority = v.rule.priority;
    if (!v.selects) r.reason = v.reason;
    return r;
  });
  for (const d of match.destinations) {
    out.destinations.push({
      destination: d.destination,
      rule: d.rule.id,
      outranked: d.outranked.map((r) => r.id),
      storageClass: d.rule.destination.storageClass ?? (stored ? `${stored.storageClass} (the source's)` : "the source's"),
      deleteMarkers: deleteMarkerBehaviour(d.rule),
      encryption: encryptionBehaviour(d.rule, stored),
      replicationTime: d.rule.destination.replicationTime?.status === 'Enabled',
      target: await describeTarget(app, d.destination),
    });
  }
  out.replicates = match.destinations.length > 0;
  if (match.notReplicatedBecause) out.reason = match.notReplicatedBecause;
  else if (!out.replicates) {
    out.reason = config.rules.length === 1 ? `the only rule does not select it: ${out.rules[0]!.reason}` : 'no enabled rule selects it (see each rule)';
  }
  if (stored && out.replicates && !stored.replicationStatus && !stored.isReplica) {
    out.reason = 'the rules select it, but this version was written before they applied: only Batch Replication copies it (status NONE)';
    out.replicates = false;
  }
  return out;
}
