/**
 * What replication work a change in a bucket creates: the tasks recorded in the outbox with a
 * new version, a delete marker, or a metadata change of a replicated version.
 */
import type { BucketEntry } from '../objects/buckets.js';
import type { NewVersion, ReplicationTaskInput, VersionRecord } from '../storage/types.js';
import { destinationBucketName, rulePrefix, ruleTags, type ReplicationConfig, type ReplicationRule } from './config.js';
import { matchRules, type MatchResult } from './rules.js';
import { isSseKms } from '../objects/encryption.js';

/** The outbox task of a rule for one destination (live replication, or a Batch job's). */
export function taskFor(rule: ReplicationRule, destination: string, op: ReplicationTaskInput['op'], batchJob?: string): ReplicationTaskInput {
  const d = rule.destination;
  const rtc = d.replicationTime?.status === 'Enabled';
  const t: ReplicationTaskInput = { destination, ruleId: rule.id, op, rtc, metrics: rtc || d.metrics?.status === 'Enabled' };
  if (d.storageClass !== undefined && op === 'object') t.storageClass = d.storageClass;
  if (batchJob !== undefined) t.batchJob = batchJob;
  return t;
}

/**
 * Tasks for a version about to be committed: one per destination selected by the bucket's
 * enabled rules (highest priority per destination). Replicas are never replicated again.
 */
export function planNewVersion(bucket: BucketEntry, v: NewVersion): ReplicationTaskInput[] {
  const config = bucket.replication;
  if (!config || v.isReplica) return [];
  return matchSourceVersion(config, v).destinations.map((d) => taskFor(d.rule, d.destination, v.isDeleteMarker ? 'delete-marker' : 'object'));
}

/** The rules a source (not replica) version matches: by key, tags, marker-ness and encryption. */
export function matchSourceVersion(config: ReplicationConfig, v: Pick<NewVersion, 'key' | 'tags' | 'isDeleteMarker' | 'meta'>): MatchResult {
  return matchRules(config, {
    key: v.key,
    tags: v.tags,
    isDeleteMarker: v.isDeleteMarker,
    isReplica: false,
    // SSE-KMS objects replicate only under rules that opt in (SourceSelectionCriteria).
    sseKms: isSseKms(v.meta.encryption),
  });
}

/**
 * Tasks for a metadata change (tags) of a version. A source version's change follows it to
 * where it was replicated, while its rule is still enabled. A replica's change goes back to its
 * source only through a rule of the replica's bucket that selects the key and has
 * ReplicaModifications enabled (spec §2.5). Changes written by replication itself (`fromReplication`)
 * create nothing, so two buckets that sync each other never loop.
 */
export function planMetadataChange(bucket: BucketEntry, v: VersionRecord, fromReplication: boolean): ReplicationTaskInput[] {
  const config = bucket.replication;
  if (!config || fromReplication || v.isDeleteMarker) return [];
  if (v.isReplica) {
    return config.rules
      .filter(
        (r) =>
          r.status === 'Enabled' &&
          r.sourceSelectionCriteria?.replicaModifications === 'Enabled' &&
          v.key.startsWith(rulePrefix(r)) &&
          ruleTags(r).length === 0,
      )
      .map((r) => taskFor(r, destinationBucketName(r.destination), 'metadata'));
  }
  const out: ReplicationTaskInput[] = [];
  for (const sent of v.replicationDestinations ?? []) {
    const rule = config.rules.find((r) => r.id === sent.ruleId && r.status === 'Enabled');
    if (rule) out.push(taskFor(rule, sent.destination, 'metadata'));
  }
  return out;
}
