/**
 * S3 Batch Replication (spec §7): the job model as parsed from CreateJob and stored, the job
 * lifecycle, the manifest generator's filters, CSV manifests and the completion report. Pure
 * functions only; batch-jobs.ts persists jobs and batch-runner.ts runs them.
 */
import type { BatchVersionFacts, JobTask } from '../storage/types.js';
import type { ReplicationConfig } from './config.js';
import { matchRules } from './rules.js';

/** The JobStatus enum of the S3 Control model. */
export const JOB_STATUSES = [
  'Active', 'Cancelled', 'Cancelling', 'Complete', 'Completing', 'Failed', 'Failing', 'New', 'Paused', 'Pausing',
  'Preparing', 'Ready', 'Suspended',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['Complete', 'Cancelled', 'Failed']);
/** Statuses the runner has work in (Suspended waits for UpdateJobStatus Ready). */
export const RUNNABLE_STATUSES = ['New', 'Preparing', 'Ready', 'Active', 'Completing', 'Failing', 'Cancelling'];

export const MANIFEST_FORMATS = ['S3BatchOperations_CSV_20180820', 'S3InventoryReport_CSV_20161130'] as const;
export type ManifestFormat = (typeof MANIFEST_FORMATS)[number];
export const MANIFEST_FIELDS = ['Ignore', 'Bucket', 'Key', 'VersionId'] as const;
export const GENERATED_MANIFEST_FORMAT = 'S3InventoryReport_CSV_20211130';
export const REPORT_FORMAT = 'Report_CSV_20180820';
export const REPORT_SCOPES = ['AllTasks', 'FailedTasksOnly'] as const;
/** ObjectReplicationStatuses of the filter (no PENDING: spec §7.1). */
export const FILTER_REPLICATION_STATUSES = ['COMPLETED', 'FAILED', 'REPLICA', 'NONE'] as const;
/** S3StorageClass of the S3 Control model (MatchAnyStorageClass). */
export const FILTER_STORAGE_CLASSES = ['STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'GLACIER', 'INTELLIGENT_TIERING', 'DEEP_ARCHIVE', 'GLACIER_IR'];
export const OBJECT_ENCRYPTION_TYPES = ['SSE-S3', 'SSE-KMS', 'DSSE-KMS', 'SSE-C', 'NOT-SSE'] as const;
/** The operations of JobOperation; only S3ReplicateObject is served. */
export const JOB_OPERATIONS = [
  'LambdaInvoke', 'S3PutObjectCopy', 'S3PutObjectAcl', 'S3PutObjectTagging', 'S3DeleteObjectTagging',
  'S3InitiateRestoreObject', 'S3PutObjectLegalHold', 'S3PutObjectRetention', 'S3ReplicateObject',
  'S3ComputeObjectChecksum', 'S3UpdateObjectEncryption',
];

export interface JobReport {
  enabled: boolean;
  /** Bucket ARN, as sent. */
  bucket?: string;
  format?: string;
  prefix?: string;
  reportScope?: string;
  expectedBucketOwner?: string;
}

export interface JobManifest {
  format: ManifestFormat;
  fields?: string[];
  /** arn:aws:s3:::bucket/key */
  objectArn: string;
  objectVersionId?: string;
  etag: string;
}

export interface KeyNameConstraint {
  matchAnyPrefix?: string[];
  matchAnySuffix?: string[];
  matchAnySubstring?: string[];
}

export interface ObjectEncryptionFilter {
  type: (typeof OBJECT_ENCRYPTION_TYPES)[number];
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
}

export interface JobFilter {
  eligibleForReplication?: boolean;
  /** ms since the epoch */
  createdAfter?: number;
  createdBefore?: number;
  objectReplicationStatuses?: string[];
  keyNameConstraint?: KeyNameConstraint;
  objectSizeGreaterThanBytes?: number;
  objectSizeLessThanBytes?: number;
  matchAnyStorageClass?: string[];
  matchAnyObjectEncryption?: ObjectEncryptionFilter[];
}

export interface ManifestOutputLocation {
  expectedManifestBucketOwner?: string;
  /** Bucket ARN */
  bucket: string;
  manifestPrefix?: string;
  /** Echoed only: generated manifests are written like every object here (no encryption). */
  manifestEncryption?: { sseS3?: boolean; sseKms?: { keyId: string } };
  manifestFormat: string;
}

export interface ManifestGenerator {
  expectedBucketOwner?: string;
  /** Bucket ARN */
  sourceBucket: string;
  enableManifestOutput: boolean;
  manifestOutputLocation?: ManifestOutputLocation;
  filter?: JobFilter;
}

/** A job's definition: the CreateJob request, parsed and validated. */
export interface JobSpec {
  accountId: string;
  /** The region the job was created in (the request's signing region). */
  region: string;
  operation: 'S3ReplicateObject';
  report: JobReport;
  clientRequestToken: string;
  priority: number;
  roleArn: string;
  confirmationRequired?: boolean;
  description?: string;
  tags?: Array<{ key: string; value: string }>;
  manifest?: JobManifest;
  manifestGenerator?: ManifestGenerator;
}

export interface JobFailure {
  code: string;
  reason: string;
}

/** What changes while a job runs (persisted as JSON beside the spec). */
export interface JobState {
  statusUpdateReason?: string;
  failureReasons: JobFailure[];
  terminationDate?: number;
  suspendedDate?: number;
  suspendedCause?: string;
  /** Milliseconds spent Active up to activeSince. */
  activeMs: number;
  /** While Active: when activeMs was last brought up to date. */
  activeSince?: number;
  /** Set once the manifest is read (Preparing → Ready). */
  totalTasks?: number;
  generatedManifest?: { objectArn: string; etag: string };
}

export function newJobState(): JobState {
  return { failureReasons: [], activeMs: 0 };
}

/** "arn:aws:s3:::name" → "name" (undefined for anything else). */
export function bucketFromArn(arn: string): string | undefined {
  const m = /^arn:[^:]+:s3:::([^/]+)$/.exec(arn);
  return m ? m[1] : undefined;
}

/** "arn:aws:s3:::bucket/key/with/slashes" → { bucket, key }. */
export function objectFromArn(arn: string): { bucket: string; key: string } | undefined {
  const m = /^arn:[^:]+:s3:::([^/]+)\/(.+)$/s.exec(arn);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export function jobArn(region: string, account: string, id: string): string {
  return `arn:aws:s3:${region}:${account}:job/${id}`;
}

/**
 * The job fails once at least 1,000 tasks have run and more than half of them failed
 * (spec §7.3).
 */
export function failureThresholdExceeded(succeeded: number, failed: number): boolean {
  const ran = succeeded + failed;
  return ran >= 1000 && failed * 2 > ran;
}

export const THRESHOLD_FAILURE: JobFailure = {
  code: 'TaskFailureRateExceeded',
  reason: 'The job failed because more than 50% of its tasks failed after at least 1,000 tasks ran.',
};

// ---------------------------------------------------------------------------------------------
// Manifest generator filter

function keyMatches(key: string, k: KeyNameConstraint | undefined): boolean {
  if (!k) return true;
  if (k.matchAnyPrefix?.length && !k.matchAnyPrefix.some((p) => key.startsWith(p))) return false;
  if (k.matchAnySuffix?.length && !k.matchAnySuffix.some((p) => key.endsWith(p))) return false;
  if (k.matchAnySubstring?.length && !k.matchAnySubstring.some((p) => key.includes(p))) return false;
  return true;
}

/** The filter's name for a version's replication state: NONE, COMPLETED, FAILED, REPLICA or PENDING. */
export function replicationStateOf(v: Pick<BatchVersionFacts, 'replicationStatus' | 'isReplica'>): string {
  if (v.isReplica) return v.replicationStatus === 'FAILED' || v.replicationStatus === 'PENDING' ? v.replicationStatus : 'REPLICA';
  return v.replicationStatus ?? 'NONE';
}

/**
 * Whether a version belongs in a generated manifest. `config` is the source bucket's
 * replication configuration (EligibleForReplication needs a rule that selects the version;
 * replicas count as eligible: Batch Replication replicates them). Encryption is not modelled
 * by this server: every object is NOT-SSE.
 */
export function matchesFilter(f: JobFilter | undefined, v: BatchVersionFacts, config: ReplicationConfig | undefined): boolean {
  if (!f) return true;
  if (f.createdAfter !== undefined && !(v.lastModified > f.createdAfter)) return false;
  if (f.createdBefore !== undefined && !(v.lastModified < f.createdBefore)) return false;
  if (f.objectReplicationStatuses?.length && !f.objectReplicationStatuses.includes(replicationStateOf(v))) return false;
  if (!keyMatches(v.key, f.keyNameConstraint)) return false;
  if (f.objectSizeGreaterThanBytes !== undefined && !(v.size > f.objectSizeGreaterThanBytes)) return false;
  if (f.objectSizeLessThanBytes !== undefined && !(v.size < f.objectSizeLessThanBytes)) return false;
  if (f.matchAnyStorageClass?.length && !f.matchAnyStorageClass.includes(v.storageClass)) return false;
  if (f.matchAnyObjectEncryption?.length && !f.matchAnyObjectEncryption.some((e) => e.type === 'NOT-SSE')) return false;
  // Without a configuration eligibility cannot be judged: the version stays, and its task fails
  // with SrcBucketReplicationConfigMissing, which says what is wrong.
  if (f.eligibleForReplication && config) {
    const m = matchRules(config, { key: v.key, tags: v.tags, isDeleteMarker: v.isDeleteMarker, isReplica: false, sseKms: false });
    if (m.destinations.length === 0) return false;
  }
  return true;
}

/** The one prefix a generated manifest's scan can be narrowed to ('' = the whole bucket). */
export function scanPrefix(f: JobFilter | undefined): string {
  const p = f?.keyNameConstraint?.matchAnyPrefix;
  return p && p.length === 1 ? p[0]! : '';
}

// ---------------------------------------------------------------------------------------------
// CSV

/** Parses RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF); blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c === '"') {
      quoted = true;
      any = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (any || field !== '') {
        row.push(field);
        rows.push(row);
      }
      row = [];
      field = '';
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (any || field !== '') {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function csvField(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Manifests and reports carry URL-encoded keys (as AWS's do). */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

export interface ManifestEntry {
  bucket: string;
  key: string;
  versionId?: string;
}

/**
 * The entries of a CSV manifest: each row has the job's Fields in order (Bucket and Key
 * required, VersionId optional, Ignore skipped); keys are URL-encoded. Throws with a message for
 * the job's failure reason.
 */
export function parseCsvManifest(text: string, fields: string[]): ManifestEntry[] {
  const bi = fields.indexOf('Bucket');
  const ki = fields.indexOf('Key');
  const vi = fields.indexOf('VersionId');
  if (bi < 0 || ki < 0) throw new Error('the manifest Fields must include Bucket and Key');
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (e) {
    throw new Error(`the manifest is not valid CSV: ${(e as Error).message}`);
  }
  return rows.map((r, i) => {
    if (r.length <= Math.max(bi, ki)) {
      throw new Error(`line ${i + 1} of the manifest has ${r.length} field(s), expected ${fields.length}`);
    }
    const e: ManifestEntry = { bucket: r[bi]!.trim(), key: decodeKey(r[ki]!) };
    const version = vi >= 0 ? r[vi]?.trim() : undefined;
    if (version) e.versionId = version;
    return e;
  });
}

// ---------------------------------------------------------------------------------------------
// Completion report (spec §7.3)

export const REPORT_SCHEMA = 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage';

/** HTTP status of a failed task in the report: 404 for what was not found, else 400. */
export function httpStatusFor(code: string | undefined): number {
  if (!code) return 200;
  return /NotFound$/.test(code) ? 404 : code === 'InternalError' ? 500 : 400;
}

/**
 * One report line. The columns follow AWS's sample rows (bucket, key, version, status, HTTP
 * status, error code, message), which put HTTPStatusCode before ErrorCode although the schema
 * line names them the other way round (both on the same AWS page, spec §7.3).
 */
export function reportLine(t: JobTask): string {
  const failed = t.status === 'failed';
  const http = t.httpStatus ?? httpStatusFor(failed ? t.errorCode : undefined);
  return [
    csvField(t.bucket),
    csvField(encodeKey(t.key)),
    csvField(t.versionId ?? ''),
    t.status,
    String(http),
    csvField(failed ? t.errorCode : ''),
    csvField(t.message ?? (failed ? t.errorCode : 'Successful')),
  ].join(',') + '\n';
}

export function reportKeyBase(prefix: string | undefined, jobId: string): string {
  return `${prefix ? `${prefix.replace(/\/+$/, '')}/` : ''}job-${jobId}`;
}
