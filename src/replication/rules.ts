/**
 * Rule matching (spec §2.2): which rules select an object version, which rule wins for each
 * destination, and — for `replication explain` — why every other rule does not apply.
 */
import type { Tags } from '../storage/types.js';
import {
  destinationBucketName,
  isV2,
  rulePrefix,
  ruleTags,
  type ReplicationConfig,
  type ReplicationRule,
} from './config.js';

/** What rule matching needs to know about a version. */
export interface VersionFacts {
  key: string;
  /** Tags at creation. */
  tags: Tags;
  isDeleteMarker: boolean;
  /** The version is itself a replica (x-amz-replication-status REPLICA). */
  isReplica: boolean;
  /** Encrypted with SSE-KMS or DSSE-KMS. */
  sseKms: boolean;
}

export type RuleVerdict =
  | { rule: ReplicationRule; selects: true }
  | { rule: ReplicationRule; selects: false; reason: string };

export interface DestinationChoice {
  destination: string;
  rule: ReplicationRule;
  /** Rules that also selected the version for this destination but lost on priority. */
  outranked: ReplicationRule[];
}

export interface MatchResult {
  verdicts: RuleVerdict[];
  destinations: DestinationChoice[];
  /** Set when nothing replicates for a reason that is not about any one rule. */
  notReplicatedBecause?: string;
}

function hasAllTags(objectTags: Tags, wanted: { key: string; value: string }[]): boolean {
  return wanted.every((w) => objectTags.some(([k, v]) => k === w.key && v === w.value));
}

function verdict(rule: ReplicationRule, v: VersionFacts): RuleVerdict {
  const no = (reason: string): RuleVerdict => ({ rule, selects: false, reason });
  if (rule.status !== 'Enabled') return no('the rule is Disabled');
  const prefix = rulePrefix(rule);
  if (!v.key.startsWith(prefix)) return no(`the key does not start with the rule's prefix "${prefix}"`);
  const tags = ruleTags(rule);
  if (v.isDeleteMarker) {
    if (!isV2(rule)) return { rule, selects: true };
    if (tags.length > 0) return no('delete markers are never replicated by rules that filter on tags');
    if (rule.deleteMarkerReplication !== 'Enabled') return no('DeleteMarkerReplication is Disabled in the rule');
    return { rule, selects: true };
  }
  if (tags.length > 0 && !hasAllTags(v.tags, tags)) {
    const want = tags.map((t) => `${t.key}=${t.value}`).join(', ');
    return no(`the object's tags at creation do not include every tag of the rule (${want})`);
  }
  if (v.sseKms && rule.sourceSelectionCriteria?.sseKmsEncryptedObjects !== 'Enabled') {
    return no('SSE-KMS encrypted and the rule does not opt in (SourceSelectionCriteria.SseKmsEncryptedObjects)');
  }
  return { rule, selects: true };
}

/**
 * Matches a new version against a configuration. Every Enabled rule that selects the version
 * names a destination; where several name the same destination, the highest Priority wins
 * (Disabled rules take no part: they neither select nor shadow — a choice, spec §9.5).
 */
export function matchRules(config: ReplicationConfig, v: VersionFacts): MatchResult {
  const verdicts = config.rules.map((r) => verdict(r, v));
  if (v.isReplica) {
    return {
      verdicts,
      destinations: [],
      notReplicatedBecause: 'the version is a replica; replicas are not replicated again (only Batch Replication does that)',
    };
  }
  const byDestination = new Map<string, ReplicationRule[]>();
  for (const x of verdicts) {
    if (!x.selects) continue;
    const d = destinationBucketName(x.rule.destination);
    const list = byDestination.get(d) ?? [];
    list.push(x.rule);
    byDestination.set(d, list);
  }
  const destinations: DestinationChoice[] = [];
  for (const [destination, rules] of byDestination) {
    const sorted = [...rules].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    destinations.push({ destination, rule: sorted[0]!, outranked: sorted.slice(1) });
  }
  return { verdicts, destinations };
}
