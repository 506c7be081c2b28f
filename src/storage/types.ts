/**
 * The records the domain keeps, and the two storage seams it keeps them behind. Nothing above
 * storage/ knows whether metadata lives in SQLite or PostgreSQL, or where blob files are.
 */
import type { Readable } from 'node:stream';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256' | 'CRC64NVME' | 'SHA512' | 'MD5';
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';
export type VersioningState = '' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  name: string;
  region: string;
  /** Account id of the owner. */
  owner: string;
  createdAt: number;
  versioning: VersioningState;
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64 of the digest; for COMPOSITE, base64 of the digest of part digests, plus "-N". */
  value: string;
  type: ChecksumType;
}

/** Standard and user metadata of an object version, as sent at creation. */
export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  websiteRedirectLocation?: string;
  /** x-amz-meta-* with the prefix removed, keys lower-cased as HTTP delivers them. */
  user: Record<string, string>;
  /**
   * How the body is encrypted at rest (objects/encryption.ts); absent for bodies stored in the
   * clear (objects written before encryption existed). On an upload, the upload's data key.
   */
  encryption?: StoredEncryption;
}

/** x-amz-server-side-encryption values, and SSE-C (customer-provided keys, no such header). */
export type SseAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse' | 'SSE-C';

/**
 * The encryption of a version's (or an upload's) body. Every encrypted body has its own random
 * 256-bit data key, never stored in the clear: SSE-S3 keeps it wrapped under the region's SSE-S3
 * key, SSE-KMS keeps the KMS ciphertext blob, SSE-C keeps nothing (the key derives from the
 * customer's key, which only the request carries).
 */
export interface StoredEncryption {
  algorithm: SseAlgorithm;
  /** Base64 of the wrapped data key (SSE-S3, SSE-KMS). */
  wrappedKey?: string;
  /** SSE-KMS: the ARN of the KMS key that wraps the data key. */
  kmsKeyArn?: string;
  /** SSE-KMS: wrapped under an S3 Bucket Key (the encryption context names the bucket). */
  bucketKeyEnabled?: boolean;
  /** SSE-KMS: the request's own x-amz-server-side-encryption-context pairs, if it gave any. */
  context?: Record<string, string>;
  /** SSE-C: base64 MD5 of the customer's key (what requests must present again). */
  customerKeyMd5?: string;
  /** Base64 salt of the body's cipher stream (inline and blob data; parts carry their own). */
  salt?: string;
}

export type Tags = Array<[string, string]>;

/** One part of a multipart object, or of an upload in progress. */
export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  blobId: string;
  lastModified: number;
  checksum?: StoredChecksum;
  /** Base64 salt of the part's cipher stream, when its upload is encrypted (size stays the plaintext's). */
  salt?: string;
}

/** Where a version's bytes are: inside the metadata row, in one blob, or in the blobs of its parts. */
export type DataLocation =
  | { kind: 'none' }
  | { kind: 'inline'; bytes: Buffer }
  | { kind: 'blob'; blobId: string }
  | { kind: 'parts'; parts: PartRecord[] };

export interface VersionRecord {
  bucket: string;
  key: string;
  /** 'null' for the null version. */
  versionId: string;
  seq: number;
  isLatest: boolean;
  isDeleteMarker: boolean;
  size: number;
  /** Without quotes: hex MD5, or hex-N for multipart objects. */
  etag: string;
  lastModified: number;
  storageClass: string;
  owner: string;
  meta: ObjectMeta;
  tags: Tags;
  checksum?: StoredChecksum;
  partsCount?: number;
  replicationStatus?: ReplicationStatus;
  /** Written by replication from another bucket. */
  isReplica?: boolean;
  /** Where this version was sent by replication: metadata changes follow it there. */
  replicationDestinations?: ReplicationDestination[];
  data: DataLocation;
}

export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

export interface ReplicationDestination {
  destination: string;
  ruleId: string;
}

export type ReplicationOp = 'object' | 'delete-marker' | 'metadata';

/** Replication work recorded with a version (the outbox). */
export interface ReplicationTaskInput {
  destination: string;
  ruleId: string;
  op: ReplicationOp;
  /** Destination.StorageClass of the rule, overriding the source's class. */
  storageClass?: string;
  /** The rule has Replication Time Control / metrics enabled (for RTC accounting). */
  rtc: boolean;
  metrics: boolean;
  /** Set for tasks created by a Batch Replication job. */
  batchJob?: string;
}

export interface ReplicationTask extends ReplicationTaskInput {
  id: number;
  bucket: string;
  key: string;
  versionId: string;
  /** 'waiting': behind an unsettled task of the same key and destination (not claimable yet). */
  status: 'pending' | 'waiting' | 'failed';
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  size: number;
  lastError?: string;
  failureReason?: string;
  /** Resumable progress of a large copy (the remote multipart upload and its parts). */
  progress?: string;
}

export type TaskOutcome =
  | { kind: 'done' }
  | { kind: 'failed'; reason: string; error: string }
  | { kind: 'retry'; at: number; error: string }
  | { kind: 'progress'; progress: string };

/** Replication work of one (source bucket, destination, rule), aggregated (status, metrics). */
export interface ReplicationSummaryRow {
  bucket: string;
  destination: string;
  ruleId: string;
  pendingOperations: number;
  /** Bytes of the objects pending (delete markers and tag changes count none). */
  pendingBytes: number;
  /** Creation time of the oldest pending operation. */
  oldestPendingAt?: number;
  failed: number;
  /** Pending operations that have been attempted and are waiting to be retried. */
  retrying: number;
}

export interface ReplicationTaskQuery {
  bucket: string;
  status: 'pending' | 'failed';
  /** Only the tasks of this version. */
  key?: string;
  versionId?: string;
  /** Only tasks already attempted at least once. */
  retryingOnly?: boolean;
  limit: number;
}

/** A version as listed: no body, no metadata beyond what listings show. */
export interface ListedVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  isDeleteMarker: boolean;
  size: number;
  etag: string;
  lastModified: number;
  storageClass: string;
  owner: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export type NewVersion = Omit<VersionRecord, 'seq' | 'isLatest'>;

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  owner: string;
  storageClass: string;
  meta: ObjectMeta;
  tags: Tags;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface PutVersionOptions {
  replaceNull: boolean;
  /**
   * Runs inside the write transaction with the key's current latest version (or undefined), and
   * may throw to abort: conditional writes are atomic against concurrent writers this way.
   */
  precondition?: (latest: VersionRecord | undefined) => void;
  /**
   * Replication work for the version being written, recorded in the same transaction (the
   * outbox). Called inside the transaction with the final version.
   */
  replicationFor?: (v: NewVersion) => ReplicationTaskInput[];
}

export interface PutVersionResult {
  /** Data of versions this write replaced (the old null version): free it after commit. */
  freed: DataLocation[];
}

export interface DeleteVersionResult {
  deleted?: VersionRecord;
  freed: DataLocation[];
}

export interface UploadCursor {
  key: string;
  inclusive?: boolean;
  uploadId?: string;
}

/** Where a scan of the current (latest, non-delete-marker) objects starts. */
export interface ScanFrom {
  key: string;
  inclusive: boolean;
}

export interface MetadataStore {
  readonly region: string;
  listBuckets(): Promise<BucketRecord[]>;
  createBucket(bucket: BucketRecord): Promise<void>;
  /** Deletes an empty bucket and its in-progress uploads; false when versions remain. */
  deleteBucket(name: string): Promise<{ deleted: boolean; freed: DataLocation[] }>;
  setVersioning(name: string, state: VersioningState): Promise<void>;
  getBucketConfig(name: string, kind: string): Promise<string | undefined>;
  /** Stores (or with null removes) a bucket sub-resource document such as tagging. */
  putBucketConfig(name: string, kind: string, doc: string | null): Promise<void>;

  /** The latest version when versionId is undefined (a delete marker included). */
  getVersion(bucket: string, key: string, versionId?: string): Promise<VersionRecord | undefined>;
  /**
   * Commits a new version as the latest. With replaceNull, an existing null version of the key
   * is removed in the same transaction (unversioned and suspended buckets).
   */
  putVersion(v: NewVersion, opts: PutVersionOptions): Promise<PutVersionResult>;
  deleteVersion(bucket: string, key: string, versionId: string): Promise<DeleteVersionResult>;
  /** Replaces a version's tags; `replication` is recorded in the same transaction. */
  setTags(bucket: string, key: string, versionId: string, tags: Tags, replication?: ReplicationTaskInput[]): Promise<boolean>;

  /** Current objects in key order from a position, limited to keys with a prefix. */
  scanCurrent(bucket: string, prefix: string, from: ScanFrom | undefined, limit: number): Promise<ListedVersion[]>;
  /** All versions in (key asc, newest first) order after a (key, versionId) position. */
  scanVersions(
    bucket: string,
    prefix: string,
    from: { key: string; afterSeq?: number; inclusiveKey: boolean } | undefined,
    limit: number,
  ): Promise<Array<ListedVersion & { seq: number }>>;
  versionSeq(bucket: string, key: string, versionId: string): Promise<number | undefined>;

  createUpload(u: UploadRecord): Promise<void>;
  getUpload(bucket: string, uploadId: string): Promise<UploadRecord | undefined>;
  /** Records a part; returns the data of a part with the same number it replaced. */
  putPart(uploadId: string, part: PartRecord): Promise<{ freed: DataLocation[]; found: boolean }>;
  listParts(uploadId: string, afterPart: number, limit: number): Promise<PartRecord[]>;
  /**
   * Uploads in (key, initiated, uploadId) order: after the upload `uploadId` of `key`, or else
   * from (inclusive) or after `key`.
   */
  listUploads(bucket: string, prefix: string, from: UploadCursor | undefined, limit: number): Promise<UploadRecord[]>;
  /** Atomically turns an upload into a version; parts not used are returned to be freed. */
  /**
   * Atomically turns an upload into a version. `build` runs inside the transaction with the
   * upload and its stored parts, validates the client's part list and returns the version, so
   * that a concurrent UploadPart cannot swap a part under it. Stored parts the version does
   * not use are returned to be freed.
   */
  completeUpload(
    uploadId: string,
    build: (upload: UploadRecord, parts: PartRecord[]) => NewVersion,
    opts: PutVersionOptions,
  ): Promise<PutVersionResult & { found: boolean; version?: NewVersion }>;
  abortUpload(uploadId: string): Promise<{ found: boolean; freed: DataLocation[] }>;

  /**
   * Writes a replica: a version with the source's id. Idempotent: an id the key already has is
   * left as it is (applied: false). The replica becomes the key's latest version.
   */
  putReplica(v: NewVersion): Promise<{ applied: boolean; freed: DataLocation[] }>;
  /**
   * Claimable tasks due by `now` whose version is durable, oldest first: only the earliest
   * unsettled task of each (bucket, key, destination) is claimable. Tasks whose ids are in
   * `claimed` (taken by the caller and not settled yet) are left out.
   */
  readyReplicationTasks(now: number, limit: number, claimed?: Iterable<number>): Promise<ReplicationTask[]>;
  /**
   * Applies a task's outcome and the version's aggregated status in one transaction. True when
   * that made a waiting task (the key's next version for the destination) ready.
   */
  settleReplicationTask(t: ReplicationTask, outcome: TaskOutcome): Promise<boolean>;
  /** Pending and failed work per (bucket, destination, rule), for one bucket or all. */
  replicationSummary(bucket?: string): Promise<ReplicationSummaryRow[]>;
  /** Tasks of a bucket by status, oldest first. */
  replicationTasks(q: ReplicationTaskQuery): Promise<ReplicationTask[]>;
  /** Pending tasks of RTC rules created before a time (RTC threshold accounting). */
  overdueRtcTasks(createdBefore: number, limit: number): Promise<ReplicationTask[]>;
  /** Called after a commit that recorded replication work is durable. */
  onReplicationWork?: () => void;
  /** Called once if a commit's fsync fails: no write is durable from then on. */
  onDurabilityLost?: (e: Error) => void;

  /** True if any version or part refers to the blob (used to sweep orphans at start). */
  isBlobReferenced(blobId: string): Promise<boolean>;
  close(): Promise<void>;

  // --- S3 Batch Replication jobs (src/replication/batch*.ts), kept in the job's region ---
  /** Inserts a job unless the account already has one with its client token; returns the stored job. */
  putNewJob(job: JobRecord): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  /** Jobs newest first (created_at, id descending), after a position, optionally filtered. */
  listJobs(q: JobQuery): Promise<JobRecord[]>;
  /** Compare-and-set of a job's status and state: false when its status is no longer `expect`. */
  updateJob(id: string, expect: string, status: string, state: string): Promise<boolean>;
  setJobPriority(id: string, priority: number): Promise<boolean>;
  /** Appends tasks to a job (its manifest, in chunks). */
  addJobTasks(jobId: string, tasks: JobTaskInput[]): Promise<void>;
  /** Removes every task of a job (a Preparing step that starts over after a crash). */
  clearJobTasks(jobId: string): Promise<void>;
  jobTasks(jobId: string, status: JobTaskStatus, afterSeq: number, limit: number): Promise<JobTask[]>;
  jobTaskCounts(jobId: string): Promise<JobTaskCounts>;
  /**
   * One transaction: drops earlier FAILED outbox rows of the version for the destinations being
   * re-driven, records the job's replication tasks (batchJob set), marks the version PENDING and
   * the job task running. False (nothing done) when the version no longer exists.
   */
  startJobTask(jobId: string, seq: number, versionId: string, tasks: ReplicationTaskInput[]): Promise<boolean>;
  /** Ends a queued or running task without (more) replication work. */
  finishJobTask(jobId: string, seq: number, outcome: JobTaskOutcome): Promise<void>;
  /**
   * Running tasks whose outbox rows (batch_job = jobId) are all gone become succeeded; those
   * with none pending and one failed become failed with its failure reason. Returns how many
   * were settled.
   */
  settleJobTasks(jobId: string, limit: number): Promise<number>;
  /**
   * Versions in (key asc, oldest first) order, the order replication writes them, with what
   * batch filters need, after a (key, seq) position.
   */
  scanVersionFacts(bucket: string, prefix: string, after: { key: string; seq: number } | undefined, limit: number): Promise<BatchVersionFacts[]>;
}

export interface BlobWriter {
  readonly id: string;
  /**
   * Resolves when the chunk may be followed by another (backpressure); the chunk may still be
   * in flight then. A recyclable chunk (read-buffers.ts) becomes the writer's: it gives the
   * memory back once written, so the caller must not touch it after the call.
   */
  write(chunk: Buffer): Promise<void>;
  /** Flushes and fsyncs the file and its directory entry. */
  finish(): Promise<void>;
  /** Removes whatever was written. */
  abort(): Promise<void>;
}

export interface BlobSegment {
  blobId: string;
  start: number;
  end: number;
  /**
   * How each read of this segment fills its buffer, when not with a plain read: e.g. reading
   * sealed chunks and opening them in the same thread-pool job (crypto/object-cipher.ts). The
   * stream then yields what the reads produced, not the stored bytes.
   */
  reader?: BlobReadFn;
}

/**
 * Reads exactly `length` bytes at `position` of the open file `fd` into `buf` (from offset 0)
 * and may rewrite them in place; calls back with how many bytes at the start of `buf` are the
 * result, or an error (a file shorter than the range is one). `buf` is the callee's until then.
 */
export type BlobReadFn = (
  fd: number,
  buf: Buffer,
  length: number,
  position: number,
  callback: (err: Error | null, produced?: number) => void,
) => void;

export interface BlobStore {
  create(): BlobWriter;
  /**
   * The bytes of consecutive blob segments (each [start, end] inclusive) as one stream. The blobs
   * stay readable until the stream closes, even if they are deleted meanwhile. Each buffer the
   * stream yields is the reader's alone, so a reader may hand it on to another thread; buffers
   * may be recyclable (read-buffers.ts): a reader done with one may release it. `readSize` asks for reads of that many bytes (the last of each
   * segment shorter), so that buffers can line up with a format's units.
   */
  read(segments: BlobSegment[], readSize?: number): Readable;
  delete(blobId: string): Promise<void>;
  /** Removes blob files older than `before` that nothing references (left by a crash). */
  sweepOrphans(isReferenced: (blobId: string) => Promise<boolean>, before: number): Promise<number>;
  close(): Promise<void>;
}

// --- S3 Batch Replication jobs ---

/** A Batch Operations job as stored: its definition and progress are JSON the store does not read. */
export interface JobRecord {
  id: string;
  account: string;
  status: string;
  priority: number;
  createdAt: number;
  clientToken: string;
  /** Digest of the CreateJob request, to tell a retry from a different request with the token. */
  requestHash: string;
  spec: string;
  state: string;
}

export interface JobQuery {
  account?: string;
  statuses?: string[];
  after?: { createdAt: number; id: string };
  limit: number;
}

export type JobTaskStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobTaskInput {
  seq: number;
  bucket: string;
  key: string;
  /** Absent when the manifest names no version: the latest, resolved when the task starts. */
  versionId?: string;
}

export interface JobTask extends JobTaskInput {
  status: JobTaskStatus;
  errorCode?: string;
  httpStatus?: number;
  message?: string;
}

export interface JobTaskOutcome {
  status: 'succeeded' | 'failed';
  errorCode?: string;
  httpStatus: number;
  message: string;
}

export interface JobTaskCounts {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
}

/** A version with its creation facts, for Batch Replication's manifest filters. */
export interface BatchVersionFacts {
  seq: number;
  key: string;
  versionId: string;
  isLatest: boolean;
  isDeleteMarker: boolean;
  size: number;
  lastModified: number;
  storageClass: string;
  tags: Tags;
  replicationStatus?: ReplicationStatus;
  isReplica: boolean;
  /** How the version is encrypted at rest (absent: stored in the clear, written before SSE). */
  encryption?: { algorithm: SseAlgorithm; kmsKeyArn?: string };
}
