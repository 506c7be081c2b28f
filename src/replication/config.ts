/**
 * The bucket replication configuration: its model, parsed from the PutBucketReplication XML
 * and rendered back for GetBucketReplication in the model's element order, with only the
 * elements that were sent (plus generated rule IDs), as AWS echoes the stored document.
 */
import { randomUUID } from 'node:crypto';
import { Errors } from '../errors.js';
import { children, el, xmlDocument, type XmlNode } from '../http/xml.js';
import { bucketFromArn } from '../objects/arn.js';

export type Status = 'Enabled' | 'Disabled';

export interface Tag {
  key: string;
  value: string;
}

/** Exactly one of prefix / tag / and, or none (an empty <Filter/>: every object). */
export interface RuleFilter {
  prefix?: string;
  tag?: Tag;
  and?: { prefix?: string; tags: Tag[] };
}

export interface Destination {
  /** As sent: arn:aws:s3:::name. */
  bucket: string;
  account?: string;
  storageClass?: string;
  accessControlTranslation?: { owner: string };
  encryptionConfiguration?: { replicaKmsKeyId?: string };
  replicationTime?: { status: Status; minutes?: number };
  metrics?: { status: Status; eventThresholdMinutes?: number };
}

export interface ReplicationRule {
  id: string;
  priority?: number;
  /** V1 rule-level prefix. */
  prefix?: string;
  /** V2 filter; its presence makes the rule V2. */
  filter?: RuleFilter;
  status: Status;
  sourceSelectionCriteria?: {
    sseKmsEncryptedObjects?: Status;
    replicaModifications?: Status;
  };
  destination: Destination;
  deleteMarkerReplication?: Status;
}

export interface ReplicationConfig {
  role: string;
  rules: ReplicationRule[];
}

const STATUSES = new Set(['Enabled', 'Disabled']);

/** Storage classes of the model's enum; which of them replication accepts is checked in validate. */
const MODEL_STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER',
  'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS', 'FSX_ONTAP',
  'AWS_BACKUP_WARM', 'AWS_BACKUP_LOW_COST_WARM',
]);

type Node = Record<string, XmlNode | XmlNode[]>;

/** The members a structure may have; anything else fails schema validation (MalformedXML). */
function only(node: unknown, allowed: string[]): Node {
  if (node === '' || node === undefined) return {};
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw Errors.malformedXML();
  for (const k of Object.keys(node)) if (!allowed.includes(k)) throw Errors.malformedXML();
  return node as Node;
}

/** A single text child; repeated or structured → MalformedXML. */
function str(node: Node, name: string): string | undefined {
  const v = node[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw Errors.malformedXML();
  return v;
}

function required(node: Node, name: string): string {
  const v = str(node, name);
  if (v === undefined) throw Errors.malformedXML();
  return v;
}

function status(v: string | undefined): Status {
  if (v === undefined || !STATUSES.has(v)) throw Errors.malformedXML();
  return v as Status;
}

/** A structure child (possibly empty), or undefined when absent; repeated → MalformedXML. */
function struct(node: Node, name: string): unknown {
  const v = node[name];
  if (Array.isArray(v)) throw Errors.malformedXML();
  return v;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^-?\d{1,10}$/.test(v.trim())) throw Errors.malformedXML();
  const n = Number(v.trim());
  if (n > 2147483647 || n < -2147483648) throw Errors.malformedXML();
  return n;
}

function statusBlock(node: Node, name: string): Status | undefined {
  const v = struct(node, name);
  if (v === undefined) return undefined;
  return status(str(only(v, ['Status']), 'Status'));
}

function parseTag(node: unknown): Tag {
  const t = only(node, ['Key', 'Value']);
  const key = required(t, 'Key');
  const value = required(t, 'Value');
  if (key.length === 0) throw Errors.malformedXML();
  return { key, value };
}

function parseFilter(node: unknown): RuleFilter {
  const f = only(node, ['Prefix', 'Tag', 'And']);
  const present = ['Prefix', 'Tag', 'And'].filter((k) => f[k] !== undefined);
  if (present.length > 1) throw Errors.malformedXML();
  if (f['Prefix'] !== undefined) return { prefix: str(f, 'Prefix') };
  if (f['Tag'] !== undefined) {
    if (Array.isArray(f['Tag'])) throw Errors.malformedXML();
    return { tag: parseTag(f['Tag']) };
  }
  if (f['And'] !== undefined) {
    const a = only(struct(f, 'And'), ['Prefix', 'Tag']);
    const and: { prefix?: string; tags: Tag[] } = { tags: children(a, 'Tag').map(parseTag) };
    const prefix = str(a, 'Prefix');
    if (prefix !== undefined) and.prefix = prefix;
    return { and };
  }
  return {};
}

function parseDestination(node: unknown): Destination {
  const d = only(node, [
    'Bucket', 'Account', 'StorageClass', 'AccessControlTranslation', 'EncryptionConfiguration', 'ReplicationTime', 'Metrics',
  ]);
  const dest: Destination = { bucket: required(d, 'Bucket') };
  const account = str(d, 'Account');
  if (account !== undefined) dest.account = account;
  const storageClass = str(d, 'StorageClass');
  if (storageClass !== undefined) {
    if (!MODEL_STORAGE_CLASSES.has(storageClass)) throw Errors.malformedXML();
    dest.storageClass = storageClass;
  }
  const act = struct(d, 'AccessControlTranslation');
  if (act !== undefined) {
    const owner = required(only(act, ['Owner']), 'Owner');
    if (owner !== 'Destination') throw Errors.malformedXML();
    dest.accessControlTranslation = { owner };
  }
  const enc = struct(d, 'EncryptionConfiguration');
  if (enc !== undefined) {
    const e = only(enc, ['ReplicaKmsKeyID']);
    const keyId = str(e, 'ReplicaKmsKeyID');
    dest.encryptionConfiguration = keyId !== undefined ? { replicaKmsKeyId: keyId } : {};
  }
  const rtc = struct(d, 'ReplicationTime');
  if (rtc !== undefined) {
    const r = only(rtc, ['Status', 'Time']);
    const time = struct(r, 'Time');
    if (time === undefined) throw Errors.malformedXML();
    const minutes = int(str(only(time, ['Minutes']), 'Minutes'));
    dest.replicationTime = { status: status(str(r, 'Status')) };
    if (minutes !== undefined) dest.replicationTime.minutes = minutes;
  }
  const metrics = struct(d, 'Metrics');
  if (metrics !== undefined) {
    const m = only(metrics, ['Status', 'EventThreshold']);
    dest.metrics = { status: status(str(m, 'Status')) };
    const threshold = struct(m, 'EventThreshold');
    if (threshold !== undefined) {
      const minutes = int(str(only(threshold, ['Minutes']), 'Minutes'));
      if (minutes !== undefined) dest.metrics.eventThresholdMinutes = minutes;
    }
  }
  return dest;
}

/** A rule ID like AWS's generated ones: base64 of a UUID string. */
function generateRuleId(): string {
  return Buffer.from(randomUUID()).toString('base64');
}

function parseRule(node: unknown): ReplicationRule {
  const r = only(node, [
    'ID', 'Priority', 'Prefix', 'Filter', 'Status', 'SourceSelectionCriteria', 'ExistingObjectReplication', 'Destination',
    'DeleteMarkerReplication',
  ]);
  // No longer supported by AWS without an allow-list: AWS answers MalformedXML.
  if (r['ExistingObjectReplication'] !== undefined) throw Errors.malformedXML();
  if (r['Prefix'] !== undefined && r['Filter'] !== undefined) throw Errors.malformedXML();
  const destination = struct(r, 'Destination');
  if (destination === undefined) throw Errors.malformedXML();
  const rule: ReplicationRule = {
    id: str(r, 'ID') ?? generateRuleId(),
    status: status(str(r, 'Status')),
    destination: parseDestination(destination),
  };
  const priority = int(str(r, 'Priority'));
  if (priority !== undefined) rule.priority = priority;
  const prefix = str(r, 'Prefix');
  if (prefix !== undefined) rule.prefix = prefix;
  const filter = struct(r, 'Filter');
  if (filter !== undefined) rule.filter = parseFilter(filter);
  const ssc = struct(r, 'SourceSelectionCriteria');
  if (ssc !== undefined) {
    const s = only(ssc, ['SseKmsEncryptedObjects', 'ReplicaModifications']);
    rule.sourceSelectionCriteria = {};
    const kms = statusBlock(s, 'SseKmsEncryptedObjects');
    if (kms !== undefined) rule.sourceSelectionCriteria.sseKmsEncryptedObjects = kms;
    const mods = statusBlock(s, 'ReplicaModifications');
    if (mods !== undefined) rule.sourceSelectionCriteria.replicaModifications = mods;
  }
  const dmr = statusBlock(r, 'DeleteMarkerReplication');
  if (dmr !== undefined) rule.deleteMarkerReplication = dmr;
  return rule;
}

/** Parses the document; schema violations are MalformedXML (semantic checks: validate.ts). */
export function parseReplicationConfig(doc: Node): ReplicationConfig {
  const d = only(doc, ['Role', 'Rule']);
  const role = required(d, 'Role');
  const rules = children(d, 'Rule').map(parseRule);
  if (rules.length === 0) throw Errors.malformedXML();
  return { role, rules };
}

function tagXml(t: Tag): string {
  return `<Tag>${el('Key', t.key)}${el('Value', t.value)}</Tag>`;
}

function filterXml(f: RuleFilter): string {
  if (f.prefix !== undefined) return `<Filter>${el('Prefix', f.prefix)}</Filter>`;
  if (f.tag) return `<Filter>${tagXml(f.tag)}</Filter>`;
  if (f.and) return `<Filter><And>${el('Prefix', f.and.prefix)}${f.and.tags.map(tagXml).join('')}</And></Filter>`;
  return '<Filter></Filter>';
}

function statusXml(name: string, s: Status | undefined): string {
  return s === undefined ? '' : `<${name}><Status>${s}</Status></${name}>`;
}

function destinationXml(d: Destination): string {
  let x = el('Bucket', d.bucket) + el('Account', d.account) + el('StorageClass', d.storageClass);
  if (d.accessControlTranslation) x += `<AccessControlTranslation>${el('Owner', d.accessControlTranslation.owner)}</AccessControlTranslation>`;
  if (d.encryptionConfiguration) {
    x += `<EncryptionConfiguration>${el('ReplicaKmsKeyID', d.encryptionConfiguration.replicaKmsKeyId)}</EncryptionConfiguration>`;
  }
  if (d.replicationTime) {
    x += `<ReplicationTime>${el('Status', d.replicationTime.status)}<Time>${el('Minutes', d.replicationTime.minutes)}</Time></ReplicationTime>`;
  }
  if (d.metrics) {
    const threshold =
      d.metrics.eventThresholdMinutes !== undefined ? `<EventThreshold>${el('Minutes', d.metrics.eventThresholdMinutes)}</EventThreshold>` : '';
    x += `<Metrics>${el('Status', d.metrics.status)}${threshold}</Metrics>`;
  }
  return `<Destination>${x}</Destination>`;
}

export function replicationConfigXml(c: ReplicationConfig): string {
  let rules = '';
  for (const r of c.rules) {
    let ssc = '';
    if (r.sourceSelectionCriteria) {
      ssc = `<SourceSelectionCriteria>${statusXml('SseKmsEncryptedObjects', r.sourceSelectionCriteria.sseKmsEncryptedObjects)}${statusXml(
        'ReplicaModifications',
        r.sourceSelectionCriteria.replicaModifications,
      )}</SourceSelectionCriteria>`;
    }
    rules +=
      '<Rule>' +
      el('ID', r.id) +
      el('Priority', r.priority) +
      el('Prefix', r.prefix) +
      (r.filter ? filterXml(r.filter) : '') +
      el('Status', r.status) +
      ssc +
      destinationXml(r.destination) +
      statusXml('DeleteMarkerReplication', r.deleteMarkerReplication) +
      '</Rule>';
  }
  return xmlDocument('ReplicationConfiguration', el('Role', c.role) + rules);
}

/** The destination bucket name of a rule (the ARN's resource part; validate.ts checks the ARN). */
export function destinationBucketName(d: Destination): string {
  return bucketFromArn(d.bucket) ?? d.bucket;
}

/** A rule is V2 when it has a Filter. */
export function isV2(r: ReplicationRule): boolean {
  return r.filter !== undefined;
}

/** The key prefix a rule selects. */
export function rulePrefix(r: ReplicationRule): string {
  if (r.filter) return r.filter.prefix ?? r.filter.and?.prefix ?? '';
  return r.prefix ?? '';
}

/** The tags a rule requires. */
export function ruleTags(r: ReplicationRule): Tag[] {
  if (!r.filter) return [];
  if (r.filter.tag) return [r.filter.tag];
  return r.filter.and?.tags ?? [];
}
