/**
 * The S3 Control wire shapes of Batch Operations jobs (botocore s3control 2018-08-20 model):
 * CreateJobRequest parsed and validated into a JobSpec, and JobDescriptor / JobListDescriptor
 * rendered in the model's member order. Lists are not flattened: their items are <member>
 * elements (ObjectEncryption for MatchAnyObjectEncryption), as the model names them.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, xmlDocument, type XmlNode } from '../../http/xml.js';
import { bucketFromArn, objectFromArn } from '../../objects/arn.js';
import {
  FILTER_REPLICATION_STATUSES,
  FILTER_STORAGE_CLASSES,
  GENERATED_MANIFEST_FORMAT,
  JOB_OPERATIONS,
  MANIFEST_FIELDS,
  MANIFEST_FORMATS,
  OBJECT_ENCRYPTION_TYPES,
  REPORT_FORMAT,
  REPORT_SCOPES,
  type JobFilter,
  type JobManifest,
  type JobReport,
  type JobSpec,
  type ManifestFormat,
  type ManifestGenerator,
  type ManifestOutputLocation,
  type ObjectEncryptionFilter,
} from '../../replication/batch-model.js';
import type { JobView } from '../../replication/batch-jobs.js';
import { isoTime } from '../../dates.js';

/** The namespace of S3 Control documents (results here and in the router; the CLI's CreateJobRequest). */
export const S3CONTROL_NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

const invalidRequest = Errors.invalidRequest;

type Node = Record<string, XmlNode | XmlNode[]>;

function struct(node: Node | undefined, name: string): Node | undefined {
  const v = node?.[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw invalidRequest(`${name} may appear only once`);
  if (v === '') return {};
  if (typeof v !== 'object') throw invalidRequest(`${name} must be a structure`);
  return v as Node;
}

function str(node: Node | undefined, name: string): string | undefined {
  const v = node?.[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidRequest(`${name} must be a single value`);
  return v;
}

function required(node: Node | undefined, name: string, where: string): string {
  const v = str(node, name);
  if (v === undefined || v === '') throw invalidRequest(`${where}${name} is required`);
  return v;
}

/** The text items of a list element (<Name><member>a</member><member>b</member></Name>). */
function list(node: Node | undefined, name: string, member = 'member'): string[] | undefined {
  const l = struct(node, name);
  if (l === undefined) return undefined;
  const items = l[member];
  if (items === undefined) return [];
  const arr = Array.isArray(items) ? items : [items];
  return arr.map((x) => {
    if (typeof x !== 'string') throw invalidRequest(`the items of ${name} must be values`);
    return x;
  });
}

function structList(node: Node | undefined, name: string, member = 'member'): Node[] | undefined {
  const l = struct(node, name);
  if (l === undefined) return undefined;
  const items = l[member];
  if (items === undefined) return [];
  const arr = Array.isArray(items) ? items : [items];
  return arr.map((x) => (x === '' ? {} : typeof x === 'object' ? (x as Node) : ({} as Node)));
}

function bool(v: string | undefined, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw invalidRequest(`${name} must be true or false`);
}

function integer(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^-?\d+$/.test(t)) throw invalidRequest(`${name} must be an integer`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidRequest(`${name} must be between ${min} and ${max}`);
  return n;
}

/** The time value range of a JavaScript Date (±100,000,000 days around the epoch). */
const MAX_TIME_MS = 8.64e15;

/**
 * An ISO 8601 time, or seconds since the epoch (botocore's timestamp forms), as ms. Anything a
 * Date cannot hold is refused here: it would be stored, and fail every later DescribeJob.
 */
function timestamp(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  const n = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : Date.parse(t);
  if (!Number.isFinite(n) || Math.abs(n) > MAX_TIME_MS) throw invalidRequest(`${name} is not a valid timestamp`);
  return n;
}

function length(v: string | undefined, name: string, min: number, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (v.length < min || v.length > max) throw invalidRequest(`${name} must be ${min} to ${max} characters long`);
  return v;
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw invalidRequest(`${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

const ROLE_ARN = /^arn:[^:]+:iam::\d{12}:role\/.*$/s;
const ACCOUNT = /^\d{12}$/;

function bucketArn(v: string, name: string): string {
  if (v.length > 128 || bucketFromArn(v) === undefined) throw invalidRequest(`${name} must be a bucket ARN (arn:aws:s3:::bucket-name)`);
  return v;
}

function account(v: string | undefined, name: string): string | undefined {
  if (v !== undefined && !ACCOUNT.test(v)) throw invalidRequest(`${name} must be a 12-digit account id`);
  return v;
}

function parseReport(n: Node): JobReport {
  const enabled = bool(required(n, 'Enabled', 'Report.'), 'Report.Enabled')!;
  const r: JobReport = { enabled };
  const bucket = str(n, 'Bucket');
  if (bucket !== undefined) r.bucket = bucketArn(bucket, 'Report.Bucket');
  const format = oneOf(str(n, 'Format'), [REPORT_FORMAT], 'Report.Format');
  if (format) r.format = format;
  const prefix = length(str(n, 'Prefix'), 'Report.Prefix', 1, 512);
  if (prefix !== undefined) r.prefix = prefix;
  const scope = oneOf(str(n, 'ReportScope'), REPORT_SCOPES, 'Report.ReportScope');
  if (scope) r.reportScope = scope;
  const owner = account(str(n, 'ExpectedBucketOwner'), 'Report.ExpectedBucketOwner');
  if (owner) r.expectedBucketOwner = owner;
  if (enabled) {
    if (!r.bucket) throw invalidRequest('Report.Bucket is required when the report is enabled');
    if (!r.format) throw invalidRequest('Report.Format is required when the report is enabled');
  }
  return r;
}

function parseManifest(n: Node): JobManifest {
  const spec = struct(n, 'Spec');
  const location = struct(n, 'Location');
  if (!spec) throw invalidRequest('Manifest.Spec is required');
  if (!location) throw invalidRequest('Manifest.Location is required');
  const format = oneOf(required(spec, 'Format', 'Manifest.Spec.'), MANIFEST_FORMATS, 'Manifest.Spec.Format') as ManifestFormat;
  const m: JobManifest = {
    format,
    objectArn: required(location, 'ObjectArn', 'Manifest.Location.'),
    etag: required(location, 'ETag', 'Manifest.Location.'),
  };
  if (m.objectArn.length > 2000 || objectFromArn(m.objectArn) === undefined) {
    throw invalidRequest('Manifest.Location.ObjectArn must be an object ARN (arn:aws:s3:::bucket/key)');
  }
  length(m.etag, 'Manifest.Location.ETag', 1, 1024);
  const version = str(location, 'ObjectVersionId');
  if (version) m.objectVersionId = version;
  const fields = list(spec, 'Fields');
  if (fields !== undefined) {
    for (const f of fields) oneOf(f, MANIFEST_FIELDS, 'Manifest.Spec.Fields');
    m.fields = fields;
  }
  if (format === 'S3BatchOperations_CSV_20180820') {
    if (!m.fields || m.fields.length === 0) throw invalidRequest('Manifest.Spec.Fields is required for a CSV manifest');
    if (!m.fields.includes('Bucket') || !m.fields.includes('Key')) {
      throw invalidRequest('Manifest.Spec.Fields must include Bucket and Key');
    }
  }
  return m;
}

function parseFilter(n: Node): JobFilter {
  const f: JobFilter = {};
  const eligible = bool(str(n, 'EligibleForReplication'), 'Filter.EligibleForReplication');
  if (eligible !== undefined) f.eligibleForReplication = eligible;
  const after = timestamp(str(n, 'CreatedAfter'), 'Filter.CreatedAfter');
  if (after !== undefined) f.createdAfter = after;
  const before = timestamp(str(n, 'CreatedBefore'), 'Filter.CreatedBefore');
  if (before !== undefined) f.createdBefore = before;
  const statuses = list(n, 'ObjectReplicationStatuses');
  if (statuses !== undefined) {
    for (const s of statuses) oneOf(s, FILTER_REPLICATION_STATUSES, 'Filter.ObjectReplicationStatuses');
    f.objectReplicationStatuses = statuses;
  }
  const k = struct(n, 'KeyNameConstraint');
  if (k) {
    f.keyNameConstraint = {};
    for (const [xml, prop] of [
      ['MatchAnyPrefix', 'matchAnyPrefix'],
      ['MatchAnySuffix', 'matchAnySuffix'],
      ['MatchAnySubstring', 'matchAnySubstring'],
    ] as const) {
      const l = list(k, xml);
      if (l === undefined) continue;
      for (const s of l) length(s, `Filter.KeyNameConstraint.${xml}`, 1, 1024);
      f.keyNameConstraint[prop] = l;
    }
  }
  const gt = integer(str(n, 'ObjectSizeGreaterThanBytes'), 'Filter.ObjectSizeGreaterThanBytes', 0, Number.MAX_SAFE_INTEGER);
  if (gt !== undefined) f.objectSizeGreaterThanBytes = gt;
  const lt = integer(str(n, 'ObjectSizeLessThanBytes'), 'Filter.ObjectSizeLessThanBytes', 0, Number.MAX_SAFE_INTEGER);
  if (lt !== undefined) f.objectSizeLessThanBytes = lt;
  const classes = list(n, 'MatchAnyStorageClass');
  if (classes !== undefined) {
    for (const c of classes) oneOf(c, FILTER_STORAGE_CLASSES, 'Filter.MatchAnyStorageClass');
    f.matchAnyStorageClass = classes;
  }
  const enc = structList(n, 'MatchAnyObjectEncryption', 'ObjectEncryption');
  if (enc !== undefined) {
    if (enc.length !== 1) throw invalidRequest('Filter.MatchAnyObjectEncryption must have exactly one item');
    f.matchAnyObjectEncryption = enc.map((e) => {
      const keys = Object.keys(e);
      if (keys.length !== 1) throw invalidRequest('Filter.MatchAnyObjectEncryption: an ObjectEncryption names exactly one type');
      const type = oneOf(keys[0], OBJECT_ENCRYPTION_TYPES, 'ObjectEncryption')!;
      const body = struct(e, type) ?? {};
      const out: ObjectEncryptionFilter = { type };
      const kms = str(body, 'KmsKeyArn');
      if (kms !== undefined) out.kmsKeyArn = kms;
      const bke = bool(str(body, 'BucketKeyEnabled'), 'BucketKeyEnabled');
      if (bke !== undefined) out.bucketKeyEnabled = bke;
      return out;
    });
  }
  return f;
}

function parseGenerator(n: Node): ManifestGenerator {
  const members = Object.keys(n);
  const s3 = struct(n, 'S3JobManifestGenerator');
  if (!s3 || members.length !== 1) throw invalidRequest('ManifestGenerator must have exactly one member, S3JobManifestGenerator');
  const w = 'ManifestGenerator.S3JobManifestGenerator.';
  const g: ManifestGenerator = {
    sourceBucket: bucketArn(required(s3, 'SourceBucket', w), `${w}SourceBucket`),
    enableManifestOutput: bool(required(s3, 'EnableManifestOutput', w), `${w}EnableManifestOutput`)!,
  };
  const owner = account(str(s3, 'ExpectedBucketOwner'), `${w}ExpectedBucketOwner`);
  if (owner) g.expectedBucketOwner = owner;
  const out = struct(s3, 'ManifestOutputLocation');
  if (out) {
    const o = `${w}ManifestOutputLocation.`;
    const loc: ManifestOutputLocation = {
      bucket: bucketArn(required(out, 'Bucket', o), `${o}Bucket`),
      manifestFormat: oneOf(required(out, 'ManifestFormat', o), [GENERATED_MANIFEST_FORMAT], `${o}ManifestFormat`)!,
    };
    const mo = account(str(out, 'ExpectedManifestBucketOwner'), `${o}ExpectedManifestBucketOwner`);
    if (mo) loc.expectedManifestBucketOwner = mo;
    const prefix = length(str(out, 'ManifestPrefix'), `${o}ManifestPrefix`, 1, 512);
    if (prefix !== undefined) loc.manifestPrefix = prefix;
    const enc = struct(out, 'ManifestEncryption');
    if (enc) {
      loc.manifestEncryption = {};
      if (struct(enc, 'SSE-S3') !== undefined) loc.manifestEncryption.sseS3 = true;
      const kms = struct(enc, 'SSE-KMS');
      if (kms !== undefined) loc.manifestEncryption.sseKms = { keyId: required(kms, 'KeyId', `${o}ManifestEncryption.SSE-KMS.`) };
    }
    g.manifestOutputLocation = loc;
  }
  if (g.enableManifestOutput && !g.manifestOutputLocation) {
    throw invalidRequest(`${w}ManifestOutputLocation is required when EnableManifestOutput is true`);
  }
  const filter = struct(s3, 'Filter');
  if (filter) g.filter = parseFilter(filter);
  return g;
}

/**
 * CreateJobRequest → JobSpec. Required members and value constraints follow the model;
 * Operation must be S3ReplicateObject (any other operation of the model is 501 NotImplemented).
 */
export function parseCreateJob(root: Node, accountId: string, region: string): JobSpec {
  const op = struct(root, 'Operation');
  if (!op) throw invalidRequest('Operation is required');
  const ops = Object.keys(op);
  if (ops.length !== 1) throw invalidRequest('Operation must name exactly one operation');
  const opName = ops[0]!;
  if (opName !== 'S3ReplicateObject') {
    if (JOB_OPERATIONS.includes(opName)) {
      throw new S3Error(
        'NotImplemented',
        501,
        `xregion runs Batch Replication jobs only (Operation S3ReplicateObject); the ${opName} operation is not implemented.`,
      );
    }
    throw invalidRequest(`Unknown operation ${opName}`);
  }
  const report = struct(root, 'Report');
  if (!report) throw invalidRequest('Report is required');
  const token = required(root, 'ClientRequestToken', '');
  length(token, 'ClientRequestToken', 1, 64);
  const priority = integer(str(root, 'Priority'), 'Priority', 0, 2147483647);
  if (priority === undefined) throw invalidRequest('Priority is required');
  const role = required(root, 'RoleArn', '');
  if (role.length > 2048 || !ROLE_ARN.test(role)) throw invalidRequest('RoleArn must be an IAM role ARN (arn:aws:iam::123456789012:role/name)');
  const manifest = struct(root, 'Manifest');
  const generator = struct(root, 'ManifestGenerator');
  if (manifest && generator) throw invalidRequest('Specify either Manifest or ManifestGenerator, but not both');
  if (!manifest && !generator) throw invalidRequest('Either Manifest or ManifestGenerator is required');
  const spec: JobSpec = {
    accountId,
    region,
    operation: 'S3ReplicateObject',
    report: parseReport(report),
    clientRequestToken: token,
    priority,
    roleArn: role,
  };
  const confirm = bool(str(root, 'ConfirmationRequired'), 'ConfirmationRequired');
  if (confirm !== undefined) spec.confirmationRequired = confirm;
  const description = length(str(root, 'Description'), 'Description', 1, 256);
  if (description !== undefined) spec.description = description;
  const tags = structList(root, 'Tags');
  if (tags !== undefined) {
    spec.tags = tags.map((t) => ({ key: required(t, 'Key', 'Tags.'), value: str(t, 'Value') ?? '' }));
  }
  if (manifest) spec.manifest = parseManifest(manifest);
  if (generator) spec.manifestGenerator = parseGenerator(generator);
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const iso = (ms: number | undefined) => (ms === undefined ? undefined : isoTime(ms));
const members = (name: string, items: string[] | undefined, member = 'member') =>
  items === undefined ? '' : `<${name}>${items.map((i) => el(member, i)).join('')}</${name}>`;

function manifestXml(m: JobManifest): string {
  return (
    '<Manifest><Spec>' +
    el('Format', m.format) +
    members('Fields', m.fields) +
    '</Spec><Location>' +
    el('ObjectArn', m.objectArn) +
    el('ObjectVersionId', m.objectVersionId) +
    el('ETag', m.etag) +
    '</Location></Manifest>'
  );
}

function reportXml(r: JobReport): string {
  return (
    '<Report>' +
    el('Bucket', r.bucket) +
    el('Format', r.format) +
    el('Enabled', r.enabled) +
    el('Prefix', r.prefix) +
    el('ReportScope', r.reportScope) +
    el('ExpectedBucketOwner', r.expectedBucketOwner) +
    '</Report>'
  );
}

function filterXml(f: JobFilter): string {
  const k = f.keyNameConstraint;
  return (
    '<Filter>' +
    el('EligibleForReplication', f.eligibleForReplication) +
    el('CreatedAfter', iso(f.createdAfter)) +
    el('CreatedBefore', iso(f.createdBefore)) +
    members('ObjectReplicationStatuses', f.objectReplicationStatuses) +
    (k
      ? '<KeyNameConstraint>' +
        members('MatchAnyPrefix', k.matchAnyPrefix) +
        members('MatchAnySuffix', k.matchAnySuffix) +
        members('MatchAnySubstring', k.matchAnySubstring) +
        '</KeyNameConstraint>'
      : '') +
    el('ObjectSizeGreaterThanBytes', f.objectSizeGreaterThanBytes) +
    el('ObjectSizeLessThanBytes', f.objectSizeLessThanBytes) +
    members('MatchAnyStorageClass', f.matchAnyStorageClass) +
    (f.matchAnyObjectEncryption
      ? '<MatchAnyObjectEncryption>' +
        f.matchAnyObjectEncryption
          .map(
            (e) =>
              `<ObjectEncryption><${e.type}>${el('KmsKeyArn', e.kmsKeyArn)}${el('BucketKeyEnabled', e.bucketKeyEnabled)}</${e.type}></ObjectEncryption>`,
          )
          .join('') +
        '</MatchAnyObjectEncryption>'
      : '') +
    '</Filter>'
  );
}

function generatorXml(g: ManifestGenerator): string {
  const o = g.manifestOutputLocation;
  const enc = o?.manifestEncryption;
  return (
    '<ManifestGenerator><S3JobManifestGenerator>' +
    el('ExpectedBucketOwner', g.expectedBucketOwner) +
    el('SourceBucket', g.sourceBucket) +
    (o
      ? '<ManifestOutputLocation>' +
        el('ExpectedManifestBucketOwner', o.expectedManifestBucketOwner) +
        el('Bucket', o.bucket) +
        el('ManifestPrefix', o.manifestPrefix) +
        (enc
          ? '<ManifestEncryption>' +
            (enc.sseS3 ? '<SSE-S3/>' : '') +
            (enc.sseKms ? `<SSE-KMS>${el('KeyId', enc.sseKms.keyId)}</SSE-KMS>` : '') +
            '</ManifestEncryption>'
          : '') +
        el('ManifestFormat', o.manifestFormat) +
        '</ManifestOutputLocation>'
      : '') +
    (g.filter ? filterXml(g.filter) : '') +
    el('EnableManifestOutput', g.enableManifestOutput) +
    '</S3JobManifestGenerator></ManifestGenerator>'
  );
}

function progressXml(j: JobView): string {
  return (
    '<ProgressSummary>' +
    el('TotalNumberOfTasks', j.counts.total) +
    el('NumberOfTasksSucceeded', j.counts.succeeded) +
    el('NumberOfTasksFailed', j.counts.failed) +
    `<Timers>${el('ElapsedTimeInActiveSeconds', Math.floor(j.activeMs / 1000))}</Timers>` +
    '</ProgressSummary>'
  );
}

/** JobDescriptor, members in the model's order. */
export function jobDescriptorXml(j: JobView): string {
  const { spec, state } = j;
  return (
    '<Job>' +
    el('JobId', j.record.id) +
    el('ConfirmationRequired', spec.confirmationRequired ?? false) +
    el('Description', spec.description) +
    el('JobArn', j.arn) +
    el('Status', j.record.status) +
    (spec.manifest ? manifestXml(spec.manifest) : '') +
    '<Operation><S3ReplicateObject/></Operation>' +
    el('Priority', j.record.priority) +
    progressXml(j) +
    el('StatusUpdateReason', state.statusUpdateReason) +
    (state.failureReasons.length
      ? `<FailureReasons>${state.failureReasons
          .map((f) => `<member>${el('FailureCode', f.code)}${el('FailureReason', f.reason)}</member>`)
          .join('')}</FailureReasons>`
      : '') +
    reportXml(spec.report) +
    el('CreationTime', iso(j.record.createdAt)) +
    el('TerminationDate', iso(state.terminationDate)) +
    el('RoleArn', spec.roleArn) +
    el('SuspendedDate', iso(state.suspendedDate)) +
    el('SuspendedCause', state.suspendedCause) +
    (spec.manifestGenerator ? generatorXml(spec.manifestGenerator) : '') +
    (state.generatedManifest
      ? '<GeneratedManifestDescriptor>' +
        el('Format', GENERATED_MANIFEST_FORMAT) +
        `<Location>${el('ObjectArn', state.generatedManifest.objectArn)}${el('ETag', state.generatedManifest.etag)}</Location>` +
        '</GeneratedManifestDescriptor>'
      : '') +
    '</Job>'
  );
}

/** JobListDescriptor (a ListJobs item). */
export function jobListItemXml(j: JobView): string {
  return (
    '<member>' +
    el('JobId', j.record.id) +
    el('Description', j.spec.description) +
    el('Operation', 'S3ReplicateObject') +
    el('Priority', j.record.priority) +
    el('Status', j.record.status) +
    el('CreationTime', iso(j.record.createdAt)) +
    el('TerminationDate', iso(j.state.terminationDate)) +
    progressXml(j) +
    '</member>'
  );
}

/**
 * S3 Control's error document: the error inside <ErrorResponse>, then the request ids. S3's
 * errorDocument (http/respond.ts) renders the same fields inside a root <Error> that also holds
 * the request ids, so only its field loop could be shared; that would need an export there.
 */
export function controlErrorXml(e: S3Error, requestId: string, hostId: string): string {
  let fields = '';
  for (const [k, v] of Object.entries(e.fields)) fields += el(k, v);
  const error = `<Error>${el('Code', e.code)}${el('Message', e.message)}${fields}</Error>`;
  return xmlDocument('ErrorResponse', error + el('RequestId', requestId) + el('HostId', hostId), null);
}
