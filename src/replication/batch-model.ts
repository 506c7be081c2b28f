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
function replicationStateOf(v: Pick<BatchVersionFacts, 'replicationStatus' | 'isReplica'>): string {
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
  if (f.matchAnyObjectEncryption?.length && !f.matchAnyObjectEncryption.some((e) => encryptionMatches(e, v.encryption))) return false;
  // Without a configuration eligibility cannot be judged: the version stays, and its task fails
  // with SrcBucketReplicationConfigMissing, which says what is wrong.
  if (f.eligibleForReplication && config) {
    const sseKms = v.encryption?.algorithm === 'aws:kms' || v.encryption?.algorithm === 'aws:kms:dsse';
    const m = matchRules(config, { key: v.key, tags: v.tags, isDeleteMarker: v.isDeleteMarker, isReplica: false, sseKms });
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

/** Longer fields are refused: no manifest column comes near it, and the parser's memory stays bounded. */
const MAX_CSV_FIELD = 64 * 1024;

const CSV_SPECIAL = /[",\r\n]/g;

/**
 * RFC 4180 CSV (quoted fields, "" escapes, CRLF, LF or CR line ends; blank lines skipped),
 * parsed incrementally: text is pushed in pieces of any size (a quote or a CRLF may straddle
 * two pieces), and each push returns the rows it completed. Lenient like most readers: a quote
 * inside an unquoted field starts a quoted section, text after a closing quote joins the field.
 */
export class CsvParser {
  private row: string[] = [];
  private field = '';
  private quoted = false;
  /** The last piece ended on a quote inside a quoted field: an escaped quote or the closing one. */
  private pendingQuote = false;
  /** The last piece ended on CR: a LF starting the next one belongs to the same line end. */
  private pendingCr = false;
  /** The current line has content (a blank line has none). */
  private any = false;
  /**
   * A field of the current line outgrew MAX_CSV_FIELD: its text is dropped, and the line is
   * refused when it ends. Refusing at once would misname a gzip bomb (one endless line)
   * ManifestInvalid instead of ManifestTooLarge, which the byte count of the caller finds.
   */
  private overlong = false;
  /** Rows completed so far (for messages). */
  private rows = 0;

  push(text: string): string[][] {
    const rows: string[][] = [];
    const n = text.length;
    let i = 0;
    if (n > 0 && this.pendingCr) {
      this.pendingCr = false;
      if (text[0] === '\n') i = 1;
    }
    if (n > 0 && this.pendingQuote) {
      this.pendingQuote = false;
      if (text[0] === '"') {
        this.append('"');
        i = 1;
      } else {
        this.quoted = false;
      }
    }
    while (i < n) {
      if (this.quoted) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          this.append(text.slice(i));
          break;
        }
        this.append(text.slice(i, q));
        if (q + 1 === n) {
          this.pendingQuote = true;
          break;
        }
        if (text[q + 1] === '"') {
          this.append('"');
          i = q + 2;
        } else {
          this.quoted = false;
          i = q + 1;
        }
        continue;
      }
      CSV_SPECIAL.lastIndex = i;
      const m = CSV_SPECIAL.exec(text);
      const j = m ? m.index : n;
      if (j > i) {
        this.append(text.slice(i, j));
        this.any = true;
      }
      if (!m) break;
      const c = text[j];
      i = j + 1;
      if (c === '"') {
        this.quoted = true;
        this.any = true;
      } else if (c === ',') {
        this.row.push(this.field);
        this.field = '';
        this.any = true;
      } else {
        if (c === '\r') {
          if (i === n) this.pendingCr = true;
          else if (text[i] === '\n') i++;
        }
        this.endLine(rows);
      }
    }
    return rows;
  }

  /** The last row, when the text does not end with a line end. Throws on an open quoted field. */
  end(): string[][] {
    if (this.pendingQuote) {
      this.pendingQuote = false;
      this.quoted = false;
    }
    if (this.quoted) throw new Error('unterminated quoted field');
    const rows: string[][] = [];
    this.endLine(rows);
    return rows;
  }

  private append(s: string): void {
    if (this.overlong) return;
    if (this.field.length + s.length > MAX_CSV_FIELD) {
      this.overlong = true;
      this.field = '';
    } else {
      this.field += s;
    }
  }

  private endLine(rows: string[][]): void {
    if (this.overlong) throw new Error(`row ${this.rows + 1} has a field longer than ${MAX_CSV_FIELD} characters`);
    if (this.any || this.field !== '') {
      this.row.push(this.field);
      rows.push(this.row);
      this.rows++;
    }
    this.row = [];
    this.field = '';
    this.any = false;
  }
}

function csvField(v: string | number | undefined): string {
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

/** Where a manifest's rows keep the columns of an entry. */
export interface ManifestLayout {
  bucket: number;
  key: number;
  /** -1: no VersionId column (every entry is the latest version). */
  versionId: number;
  /** Fields a row should have (for messages). */
  width: number;
  /**
   * A CSV manifest's rows must have the job's Fields (a short row fails the job); an S3
   * Inventory file's short rows are skipped.
   */
  strict: boolean;
}

function layout(columns: string[], strict: boolean): ManifestLayout | undefined {
  const bucket = columns.indexOf('Bucket');
  const key = columns.indexOf('Key');
  if (bucket < 0 || key < 0) return undefined;
  return { bucket, key, versionId: columns.indexOf('VersionId'), width: columns.length, strict };
}

/** A CSV manifest (S3BatchOperations_CSV_20180820): the job's Fields in order (Ignore skipped). */
export function csvManifestLayout(fields: string[]): ManifestLayout {
  const l = layout(fields, true);
  if (!l) throw new Error('the manifest Fields must include Bucket and Key');
  return l;
}

/** An S3 Inventory CSV file: the columns its manifest.json's fileSchema names ("Bucket, Key, ..."). */
export function inventoryLayout(fileSchema: string): ManifestLayout | undefined {
  return layout(
    fileSchema.split(',').map((s) => s.trim()),
    false,
  );
}

/**
 * The entry of one manifest row (`row` counts from 1, blank lines excluded): keys are
 * URL-encoded; an empty VersionId means the latest version. Throws with a message for the job's
 * failure reason when a strict layout's row is too short.
 */
export function manifestEntry(l: ManifestLayout, r: string[], row: number): ManifestEntry | undefined {
  if (r.length <= Math.max(l.bucket, l.key)) {
    if (!l.strict) return undefined;
    throw new Error(`line ${row} of the manifest has ${r.length} field(s), expected ${l.width}`);
  }
  const e: ManifestEntry = { bucket: r[l.bucket]!.trim(), key: decodeKey(r[l.key]!) };
  const version = l.versionId >= 0 ? r[l.versionId]?.trim() : undefined;
  if (version) e.versionId = version;
  return e;
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

/** Whether a version's encryption at rest is one a MatchAnyObjectEncryption filter names. */
function encryptionMatches(filter: ObjectEncryptionFilter, enc: BatchVersionFacts['encryption']): boolean {
  const type = !enc
    ? 'NOT-SSE'
    : enc.algorithm === 'AES256'
      ? 'SSE-S3'
      : enc.algorithm === 'aws:kms'
        ? 'SSE-KMS'
        : enc.algorithm === 'aws:kms:dsse'
          ? 'DSSE-KMS'
          : 'SSE-C';
  if (filter.type !== type) return false;
  return filter.kmsKeyArn === undefined || filter.kmsKeyArn === enc?.kmsKeyArn;
}
