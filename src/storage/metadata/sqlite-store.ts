/**
 * MetadataStore on SQLite (better-sqlite3), one database file per region.
 *
 * Durability: the database runs in WAL mode with synchronous=NORMAL, so a commit only appends to
 * the WAL without an fsync of its own; every write method then waits for a group fsync of the
 * WAL file (GroupSync) before it resolves. A write is therefore on disk before its caller
 * acknowledges it, and concurrent writers share fsyncs. Checkpoints are fsynced by SQLite itself.
 *
 * Reads of a key's latest version are served from a VersionCache. Every statement that inserts,
 * updates or deletes a row of `versions` must invalidate the key it touches, inside the write.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Errors } from '../../errors.js';
import { DurabilityLost } from '../errors.js';
import { GroupSync } from '../group-sync.js';
import { MIGRATIONS } from './schema.js';
import { VersionCache } from './version-cache.js';
import { checkpointInBackground } from './checkpointer.js';
import { prefixUpperBound, compareKeys } from '../key-order.js';
import type {
  BucketRecord,
  DataLocation,
  DeleteVersionResult,
  ListedVersion,
  MetadataStore,
  NewVersion,
  PartRecord,
  PutVersionOptions,
  PutVersionResult,
  ScanFrom,
  StoredChecksum,
  Tags,
  ReplicationSummaryRow,
  ReplicationTask,
  ReplicationTaskQuery,
  ReplicationTaskInput,
  TaskOutcome,
  UploadCursor,
  UploadRecord,
  VersionRecord,
  VersioningState,
} from '../types.js';
import type { BatchVersionFacts, JobQuery, JobRecord, JobTask, JobTaskCounts, JobTaskInput, JobTaskOutcome, JobTaskStatus } from '../types.js';

type Row = Record<string, any>;

/** Pending and failed replication work per (bucket, destination, rule). */
const SUMMARY_SQL = `SELECT bucket, destination, rule_id,
    sum(status IN ('pending', 'waiting')) AS pending,
    sum(CASE WHEN status IN ('pending', 'waiting') AND op = 'object' THEN size ELSE 0 END) AS bytes,
    min(CASE WHEN status IN ('pending', 'waiting') THEN created_at END) AS oldest,
    sum(status = 'failed') AS failed,
    sum(status = 'pending' AND attempts > 0) AS retrying
  FROM repl_tasks`;

const LISTED_COLUMNS = 'seq, key, version_id, is_latest, is_dm, size, etag, last_modified, storage_class, owner, checksum';

interface PendingWrite {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Database.Database;
  private readonly walFd: number;
  private readonly groupSync: GroupSync;
  private readonly st: ReturnType<SqliteMetadataStore['prepare']>;
  private readonly cache = new VersionCache(64 * 1024 * 1024);
  private readonly stopCheckpoints: () => Promise<void>;

  constructor(
    readonly region: string,
    file: string,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = OFF');
    this.db.pragma('cache_size = -65536');
    // Checkpoints run in a worker thread (checkpointer.ts), never inside a request's commit.
    this.db.pragma('wal_autocheckpoint = 0');
    // After a checkpoint the WAL restarts from its beginning; trimming the file then keeps its
    // size a measure of what is left to checkpoint (the worker decides by size).
    this.db.pragma(`journal_size_limit = ${4 * 1024 * 1024}`);
    this.migrate();
    // The WAL exists once the database has been written (migrate wrote user_version). An fsync
    // on any descriptor of the file flushes its pages, whichever descriptor wrote them.
    this.walFd = fs.openSync(`${file}-wal`, 'r+');
    // The WAL is created anew at each start (a clean stop removes it): its directory entry
    // must be durable before any commit is acknowledged through it.
    const dirFd = fs.openSync(path.dirname(file), 'r');
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
    this.groupSync = new GroupSync(this.walFd);
    this.st = this.prepare();
    const inSavepoint = this.db.transaction((fn: () => unknown) => fn());
    this.commitBatch = this.db.transaction((batch: PendingWrite[], outcomes: Outcome[]) => {
      for (const w of batch) {
        try {
          outcomes.push({ ok: true, value: inSavepoint(w.fn) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    });
    // Whatever tasks survived in the database are on disk.
    this.committedTaskId = this.durableTaskId = (this.st.maxTaskId.get() as number | null) ?? 0;
    this.stopCheckpoints = checkpointInBackground(file);
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
    // Always one write at open, so that the WAL file exists before we open it for fsyncs.
    this.db.pragma(`user_version = ${MIGRATIONS.length}`);
  }

  private prepare() {
    const d = this.db;
    return {
      listBuckets: d.prepare('SELECT * FROM buckets ORDER BY name'),
      bucketExists: d.prepare('SELECT 1 FROM buckets WHERE name = ?').pluck(),
      insertBucket: d.prepare(
        'INSERT INTO buckets (name, region, owner, created_at, versioning) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteBucket: d.prepare('DELETE FROM buckets WHERE name = ?'),
      anyVersion: d.prepare('SELECT 1 FROM versions WHERE bucket = ? LIMIT 1').pluck(),
      setVersioning: d.prepare('UPDATE buckets SET versioning = ? WHERE name = ?'),
      getConfig: d.prepare('SELECT doc FROM bucket_config WHERE bucket = ? AND kind = ?').pluck(),
      putConfig: d.prepare(
        'INSERT INTO bucket_config (bucket, kind, doc) VALUES (?, ?, ?) ON CONFLICT (bucket, kind) DO UPDATE SET doc = excluded.doc',
      ),
      deleteConfig: d.prepare('DELETE FROM bucket_config WHERE bucket = ? AND kind = ?'),
      deleteAllConfig: d.prepare('DELETE FROM bucket_config WHERE bucket = ?'),

      latest: d.prepare('SELECT * FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1'),
      byId: d.prepare('SELECT * FROM versions WHERE bucket = ? AND key = ? AND version_id = ?'),
      seqById: d.prepare('SELECT seq FROM versions WHERE bucket = ? AND key = ? AND version_id = ?').pluck(),
      objectParts: d.prepare('SELECT * FROM object_parts WHERE version_seq = ? ORDER BY part_number'),
      clearLatest: d.prepare('UPDATE versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1'),
      insertVersion: d.prepare(
        `INSERT INTO versions (bucket, key, version_id, is_latest, is_dm, size, etag, last_modified, storage_class,
           owner, meta, tags, checksum, parts_count, repl_status, blob_id, inline_data, repl_destinations, is_replica)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertTask: d.prepare(
        `INSERT INTO repl_tasks (id, bucket, key, version_id, destination, rule_id, op, status, created_at, next_attempt_at,
           size, storage_class, rtc, metrics, batch_job)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      groupActive: d
        .prepare(`SELECT 1 FROM repl_tasks WHERE bucket = ? AND key = ? AND destination = ? AND status IN ('pending', 'waiting') LIMIT 1`)
        .pluck(),
      promoteNext: d.prepare(
        `UPDATE repl_tasks SET status = 'pending' WHERE id =
           (SELECT id FROM repl_tasks WHERE bucket = ? AND key = ? AND destination = ? AND status = 'waiting' ORDER BY id LIMIT 1)`,
      ),
      // Claimed tasks are skipped in SQL, not returned and dropped: the engine asks after every
      // completed copy, and returning 32 claimed rows to drop them took ~60 µs a call against
      // ~25 µs for leaving them out (1,000 pending tasks, 32 claimed; the query is ~8% of a
      // replicating server's event loop).
      readyTasks: d.prepare(
        `SELECT * FROM repl_tasks INDEXED BY repl_tasks_pending
         WHERE status = 'pending' AND id <= ? AND next_attempt_at <= ?
           AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?`,
      ),
      deleteTask: d.prepare('DELETE FROM repl_tasks WHERE id = ?'),
      failTask: d.prepare(`UPDATE repl_tasks SET status = 'failed', failure_reason = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?`),
      retryTask: d.prepare('UPDATE repl_tasks SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?'),
      progressTask: d.prepare('UPDATE repl_tasks SET progress = ? WHERE id = ?'),
      taskCounts: d.prepare(
        `SELECT sum(status IN ('pending', 'waiting')) AS pending, sum(status = 'failed') AS failed FROM repl_tasks
         WHERE bucket = ? AND key = ? AND version_id = ?`,
      ),
      setReplStatus: d.prepare('UPDATE versions SET repl_status = ? WHERE bucket = ? AND key = ? AND version_id = ?'),
      maxTaskId: d.prepare('SELECT max(id) FROM repl_tasks').pluck(),
      summaryAll: d.prepare(`${SUMMARY_SQL} GROUP BY bucket, destination, rule_id`),
      summary: d.prepare(`${SUMMARY_SQL} WHERE bucket = ? GROUP BY bucket, destination, rule_id`),
      overdueRtc: d.prepare(
        `SELECT * FROM repl_tasks WHERE status IN ('pending', 'waiting') AND rtc = 1 AND created_at < ? ORDER BY id LIMIT ?`,
      ),
      insertObjectPart: d.prepare(
        'INSERT INTO object_parts (version_seq, part_number, size, etag, blob_id, last_modified, checksum, salt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteVersionRow: d.prepare('DELETE FROM versions WHERE seq = ?'),
      deleteObjectParts: d.prepare('DELETE FROM object_parts WHERE version_seq = ?'),
      promoteLatest: d.prepare(
        `UPDATE versions SET is_latest = 1 WHERE seq =
           (SELECT seq FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1)`,
      ),
      setTags: d.prepare('UPDATE versions SET tags = ? WHERE bucket = ? AND key = ? AND version_id = ? AND is_dm = 0'),

      versionsOfKeyBefore: d.prepare(
        `SELECT ${LISTED_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND seq < ? ORDER BY key, seq DESC LIMIT ?`,
      ),

      insertUpload: d.prepare(
        `INSERT INTO uploads (upload_id, bucket, key, initiated, owner, storage_class, meta, tags, checksum_algorithm, checksum_type)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      getUpload: d.prepare('SELECT * FROM uploads WHERE upload_id = ? AND bucket = ?'),
      uploadExists: d.prepare('SELECT 1 FROM uploads WHERE upload_id = ?').pluck(),
      deleteUpload: d.prepare('DELETE FROM uploads WHERE upload_id = ?'),
      uploadsOfBucket: d.prepare('SELECT upload_id FROM uploads WHERE bucket = ?').pluck(),
      getPart: d.prepare('SELECT * FROM upload_parts WHERE upload_id = ? AND part_number = ?'),
      upsertPart: d.prepare(
        `INSERT INTO upload_parts (upload_id, part_number, size, etag, blob_id, last_modified, checksum, salt)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
           blob_id = excluded.blob_id, last_modified = excluded.last_modified, checksum = excluded.checksum,
           salt = excluded.salt`,
      ),
      listParts: d.prepare(
        'SELECT * FROM upload_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?',
      ),
      allParts: d.prepare('SELECT * FROM upload_parts WHERE upload_id = ? ORDER BY part_number'),
      deleteParts: d.prepare('DELETE FROM upload_parts WHERE upload_id = ?'),
      uploadsOfKeyAfter: d.prepare(
        `SELECT * FROM uploads WHERE bucket = ? AND key = ? AND (initiated > ? OR (initiated = ? AND upload_id > ?))
         ORDER BY initiated, upload_id LIMIT ?`,
      ),

      blobReferenced: d
        .prepare(
          `SELECT EXISTS (SELECT 1 FROM versions WHERE blob_id = @id)
               OR EXISTS (SELECT 1 FROM object_parts WHERE blob_id = @id)
               OR EXISTS (SELECT 1 FROM upload_parts WHERE blob_id = @id)`,
        )
        .pluck(),
    };
  }

  // Scans differ only in their table and bounds; each variant is prepared once.
  private readonly scanStatements = new Map<string, Database.Statement>();
  private scanStatement(kind: 'current' | 'versions' | 'uploads', lowerOp: '>' | '>=', upper: boolean): Database.Statement {
    const id = `${kind}${lowerOp}${upper}`;
    let s = this.scanStatements.get(id);
    if (!s) {
      const range = `key ${lowerOp} ?${upper ? ' AND key < ?' : ''}`;
      const sql = {
        current: `SELECT ${LISTED_COLUMNS} FROM versions WHERE bucket = ? AND is_latest = 1 AND is_dm = 0 AND ${range} ORDER BY key LIMIT ?`,
        versions: `SELECT ${LISTED_COLUMNS} FROM versions WHERE bucket = ? AND ${range} ORDER BY key, seq DESC LIMIT ?`,
        uploads: `SELECT * FROM uploads WHERE bucket = ? AND ${range} ORDER BY key, initiated, upload_id LIMIT ?`,
      }[kind];
      s = this.db.prepare(sql);
      this.scanStatements.set(id, s);
    }
    return s;
  }

  /**
   * Runs a write, then waits until the WAL holding it is on disk (group commit). One cycle at a
   * time commits a batch and fsyncs the WAL; writes that arrive meanwhile wait and form the next
   * batch, so the commit and fsync rates follow the disk, not the request rate. A batch is one
   * SQLite transaction with a savepoint per write (a write that throws rolls back alone): pages
   * the writes share go to the WAL once. Each write sees the ones before it, as if serial.
   */
  private write<T>(fn: () => T): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise<T>((resolve, reject) => {
      this.pendingWrites.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.cycleRunning) {
        this.cycleRunning = true;
        // Let the requests of this turn of the event loop join the first batch.
        setImmediate(() => this.commitPending());
      }
    });
  }

  private readonly pendingWrites: PendingWrite[] = [];

  /**
   * A batch's transaction, and each write's savepoint inside it. Made once: better-sqlite3
   * builds a wrapper with four variants per `transaction()` call, which was 2.5% of the event
   * loop's busy time under 4 KiB PUTs when made per write (profile).
   */
  private readonly commitBatch: Database.Transaction<(batch: PendingWrite[], outcomes: Outcome[]) => void>;
  private cycleRunning = false;

  /** Ends a cycle: starts the next one at once if writes queued up during it. */
  private cycleDone(): void {
    if (this.pendingWrites.length > 0) this.commitPending();
    else this.cycleRunning = false;
  }

  /**
   * Highest task id given out so far, and the highest whose commit is on disk: the engine
   * claims only tasks up to the latter. Ids are given here, not by SQLite, which would reuse
   * the highest rowid once its task is settled (deleted): a new task would then look durable
   * before its commit was, and no signal would say it is there.
   */
  private committedTaskId = 0;
  private durableTaskId = 0;

  private commitPending(): void {
    const batch = this.pendingWrites.splice(0);
    const tasksBefore = this.committedTaskId;
    const outcomes: Outcome[] = [];
    try {
      this.commitBatch.immediate(batch, outcomes);
    } catch (error) {
      // The batch itself failed to commit (disk full, I/O error): nothing of it happened.
      for (const w of batch) w.reject(error);
      this.cycleDone();
      return;
    }
    const committedTasks = this.committedTaskId;
    this.groupSync.sync().then(
      () => {
        if (committedTasks > tasksBefore) {
          this.durableTaskId = Math.max(this.durableTaskId, committedTasks);
          this.onReplicationWork?.();
        }
        batch.forEach((w, i) => {
          const o = outcomes[i]!;
          if (o.ok) w.resolve(o.value);
          else w.reject(o.error);
        });
        this.cycleDone();
      },
      (error: Error) => {
        this.lost = new DurabilityLost(error);
        batch.forEach((w) => w.reject(this.lost));
        for (const w of this.pendingWrites.splice(0)) w.reject(this.lost);
        this.cycleRunning = false;
        this.onDurabilityLost?.(this.lost);
      },
    );
  }

  /** Set once an fsync failed: every later write is refused (see DurabilityLost). */
  private lost: DurabilityLost | undefined;
  /** Told when durability is lost; the process should stop. */
  onDurabilityLost?: (e: DurabilityLost) => void;

  async listBuckets(): Promise<BucketRecord[]> {
    return (this.st.listBuckets.all() as Row[]).map(toBucket);
  }

  async createBucket(b: BucketRecord): Promise<void> {
    await this.write(() => {
      this.st.insertBucket.run(b.name, b.region, b.owner, b.createdAt, b.versioning);
    });
  }

  async deleteBucket(name: string): Promise<{ deleted: boolean; freed: DataLocation[] }> {
    return this.write(() => {
      if (!this.st.bucketExists.get(name)) return { deleted: false, freed: [] };
      if (this.st.anyVersion.get(name)) return { deleted: false, freed: [] };
      const freed: DataLocation[] = [];
      for (const uploadId of this.st.uploadsOfBucket.all(name) as string[]) {
        freed.push(...this.dropUpload(uploadId));
      }
      this.st.deleteAllConfig.run(name);
      this.st.deleteBucket.run(name);
      this.cache.clear();
      return { deleted: true, freed };
    });
  }

  async setVersioning(name: string, state: VersioningState): Promise<void> {
    await this.write(() => {
      this.st.setVersioning.run(state, name);
    });
  }

  async getBucketConfig(name: string, kind: string): Promise<string | undefined> {
    return (this.st.getConfig.get(name, kind) as string | undefined) ?? undefined;
  }

  async putBucketConfig(name: string, kind: string, doc: string | null): Promise<void> {
    await this.write(() => {
      // Names starting with '/' are account-level rows (no bucket name can hold '/').
      if (!name.startsWith('/') && !this.st.bucketExists.get(name)) throw Errors.noSuchBucket(name);
      if (doc === null) this.st.deleteConfig.run(name, kind);
      else this.st.putConfig.run(name, kind, doc);
    });
  }

  async getVersion(bucket: string, key: string, versionId?: string): Promise<VersionRecord | undefined> {
    if (versionId !== undefined) {
      const r = this.st.byId.get(bucket, key, versionId) as Row | undefined;
      return r ? this.toVersion(r) : undefined;
    }
    const cached = this.cache.get(bucket, key);
    if (cached) return cached;
    const r = this.st.latest.get(bucket, key) as Row | undefined;
    if (!r) return undefined;
    const v = this.toVersion(r);
    this.cache.set(v);
    return v;
  }

  async versionSeq(bucket: string, key: string, versionId: string): Promise<number | undefined> {
    return this.st.seqById.get(bucket, key, versionId) as number | undefined;
  }

  async putVersion(v: NewVersion, opts: PutVersionOptions): Promise<PutVersionResult> {
    return this.write(() => this.insertVersionTx(v, opts));
  }

  /** Inside a transaction: replaces the null version if asked, then inserts v as the latest. */
  private insertVersionTx(v: NewVersion, opts: PutVersionOptions): PutVersionResult {
    if (!this.st.bucketExists.get(v.bucket)) throw Errors.noSuchBucket(v.bucket);
    if (opts.precondition) {
      const latest = this.st.latest.get(v.bucket, v.key) as Row | undefined;
      opts.precondition(latest ? this.toVersion(latest) : undefined);
    }
    const freed: DataLocation[] = [];
    if (opts.replaceNull) {
      const old = this.st.byId.get(v.bucket, v.key, 'null') as Row | undefined;
      if (old) freed.push(this.removeVersionRow(old));
    }
    this.cache.invalidate(v.bucket, v.key);
    this.st.clearLatest.run(v.bucket, v.key);
    const d = v.data;
    const tasks = opts.replicationFor?.(v) ?? [];
    const destinations = tasks.length ? tasks.map((t) => ({ destination: t.destination, ruleId: t.ruleId })) : v.replicationDestinations;
    const info = this.st.insertVersion.run(
      v.bucket,
      v.key,
      v.versionId,
      v.isDeleteMarker ? 1 : 0,
      v.size,
      v.etag,
      v.lastModified,
      v.storageClass,
      v.owner,
      encodeMeta(v.meta),
      v.tags.length ? JSON.stringify(v.tags) : null,
      v.checksum ? JSON.stringify(v.checksum) : null,
      d.kind === 'parts' ? d.parts.length : null,
      tasks.length ? 'PENDING' : (v.replicationStatus ?? null),
      d.kind === 'blob' ? d.blobId : null,
      d.kind === 'inline' ? d.bytes : null,
      destinations?.length ? JSON.stringify(destinations) : null,
      v.isReplica ? 1 : 0,
    );
    this.insertTasks(v.bucket, v.key, v.versionId, v.size, tasks);
    if (d.kind === 'parts') {
      for (const p of d.parts) {
        this.st.insertObjectPart.run(
          info.lastInsertRowid,
          p.partNumber,
          p.size,
          p.etag,
          p.blobId,
          p.lastModified,
          p.checksum ? JSON.stringify(p.checksum) : null,
          p.salt ?? null,
        );
      }
    }
    return { freed };
  }

  /**
   * Inside a transaction: records replication tasks of a version. A task behind an unsettled
   * one of the same key and destination waits; versions reach a destination in order.
   */
  private insertTasks(bucket: string, key: string, versionId: string, size: number, tasks: ReplicationTaskInput[]): void {
    const now = Date.now();
    for (const t of tasks) {
      const status = this.st.groupActive.get(bucket, key, t.destination) ? 'waiting' : 'pending';
      const id = ++this.committedTaskId;
      this.st.insertTask.run(
        id,
        bucket,
        key,
        versionId,
        t.destination,
        t.ruleId,
        t.op,
        status,
        now,
        now,
        size,
        t.storageClass ?? null,
        t.rtc ? 1 : 0,
        t.metrics ? 1 : 0,
        t.batchJob ?? null,
      );
    }
  }

  /** Deletes a version row (and its part rows) and returns where its bytes were. */
  private removeVersionRow(r: Row): DataLocation {
    const loc = this.locationOf(r);
    this.cache.invalidate(r.bucket, r.key);
    this.st.deleteVersionRow.run(r.seq);
    if (r.parts_count !== null) this.st.deleteObjectParts.run(r.seq);
    return loc;
  }

  async deleteVersion(bucket: string, key: string, versionId: string): Promise<DeleteVersionResult> {
    return this.write(() => {
      const r = this.st.byId.get(bucket, key, versionId) as Row | undefined;
      if (!r) return { freed: [] };
      const deleted = this.toVersion(r);
      const loc = this.removeVersionRow(r);
      if (r.is_latest) this.st.promoteLatest.run(bucket, key);
      return { deleted, freed: [loc] };
    });
  }

  async setTags(bucket: string, key: string, versionId: string, tags: Tags, replication: ReplicationTaskInput[] = []): Promise<boolean> {
    return this.write(() => {
      this.cache.invalidate(bucket, key);
      const info = this.st.setTags.run(tags.length ? JSON.stringify(tags) : null, bucket, key, versionId);
      if (info.changes === 0) return false;
      if (replication.length) {
        const r = this.st.byId.get(bucket, key, versionId) as Row;
        this.insertTasks(bucket, key, versionId, r.size, replication);
        this.st.setReplStatus.run('PENDING', bucket, key, versionId);
      }
      return true;
    });
  }

  async scanCurrent(bucket: string, prefix: string, from: ScanFrom | undefined, limit: number): Promise<ListedVersion[]> {
    const { lower, op, upper } = scanBounds(prefix, from);
    const stmt = this.scanStatement('current', op, upper !== undefined);
    const args: unknown[] = upper !== undefined ? [bucket, lower, upper, limit] : [bucket, lower, limit];
    return (stmt.all(...args) as Row[]).map(toListed);
  }

  async scanVersions(
    bucket: string,
    prefix: string,
    from: { key: string; afterSeq?: number; inclusiveKey: boolean } | undefined,
    limit: number,
  ): Promise<Array<ListedVersion & { seq: number }>> {
    const out: Array<ListedVersion & { seq: number }> = [];
    let scanFrom: ScanFrom | undefined = from ? { key: from.key, inclusive: from.inclusiveKey } : undefined;
    if (from && from.afterSeq !== undefined) {
      // The rest of the marker's key first, then the keys after it.
      for (const r of this.st.versionsOfKeyBefore.all(bucket, from.key, from.afterSeq, limit) as Row[]) {
        out.push(toListed(r));
      }
      scanFrom = { key: from.key, inclusive: false };
    }
    if (out.length >= limit) return out;
    const { lower, op, upper } = scanBounds(prefix, scanFrom);
    const stmt = this.scanStatement('versions', op, upper !== undefined);
    const rest = limit - out.length;
    const args: unknown[] = upper !== undefined ? [bucket, lower, upper, rest] : [bucket, lower, rest];
    for (const r of stmt.all(...args) as Row[]) out.push(toListed(r));
    return out;
  }

  async createUpload(u: UploadRecord): Promise<void> {
    await this.write(() => {
      if (!this.st.bucketExists.get(u.bucket)) throw Errors.noSuchBucket(u.bucket);
      this.st.insertUpload.run(
        u.uploadId,
        u.bucket,
        u.key,
        u.initiated,
        u.owner,
        u.storageClass,
        encodeMeta(u.meta),
        u.tags.length ? JSON.stringify(u.tags) : null,
        u.checksumAlgorithm ?? null,
        u.checksumType ?? null,
      );
    });
  }

  async getUpload(bucket: string, uploadId: string): Promise<UploadRecord | undefined> {
    const r = this.st.getUpload.get(uploadId, bucket) as Row | undefined;
    return r ? toUpload(r) : undefined;
  }

  async putPart(uploadId: string, part: PartRecord): Promise<{ freed: DataLocation[]; found: boolean }> {
    return this.write(() => {
      if (!this.st.uploadExists.get(uploadId)) return { freed: [], found: false };
      const old = this.st.getPart.get(uploadId, part.partNumber) as Row | undefined;
      this.st.upsertPart.run(
        uploadId,
        part.partNumber,
        part.size,
        part.etag,
        part.blobId,
        part.lastModified,
        part.checksum ? JSON.stringify(part.checksum) : null,
        part.salt ?? null,
      );
      return { freed: old ? [{ kind: 'blob', blobId: old.blob_id } as DataLocation] : [], found: true };
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number): Promise<PartRecord[]> {
    return (this.st.listParts.all(uploadId, afterPart, limit) as Row[]).map(toPart);
  }

  async listUploads(bucket: string, prefix: string, from: UploadCursor | undefined, limit: number): Promise<UploadRecord[]> {
    const out: UploadRecord[] = [];
    if (from && from.uploadId !== undefined) {
      // The uploads of the marker's key that were initiated after the marker upload come first.
      const marker = this.st.getUpload.get(from.uploadId, bucket) as Row | undefined;
      if (marker && marker.key === from.key) {
        const rows = this.st.uploadsOfKeyAfter.all(
          bucket,
          from.key,
          marker.initiated,
          marker.initiated,
          marker.upload_id,
          limit,
        ) as Row[];
        for (const r of rows) out.push(toUpload(r));
      }
    }
    if (out.length >= limit) return out;
    const inclusive = from?.inclusive === true && from.uploadId === undefined;
    const { lower, op, upper } = scanBounds(prefix, from ? { key: from.key, inclusive } : undefined);
    const stmt = this.scanStatement('uploads', op, upper !== undefined);
    const rest = limit - out.length;
    const args: unknown[] = upper !== undefined ? [bucket, lower, upper, rest] : [bucket, lower, rest];
    for (const r of stmt.all(...args) as Row[]) out.push(toUpload(r));
    return out;
  }

  async completeUpload(
    uploadId: string,
    build: (upload: UploadRecord, parts: PartRecord[]) => NewVersion,
    opts: PutVersionOptions,
  ): Promise<PutVersionResult & { found: boolean; version?: NewVersion }> {
    return this.write(() => {
      const u = this.db.prepare('SELECT * FROM uploads WHERE upload_id = ?').get(uploadId) as Row | undefined;
      if (!u) return { found: false, freed: [] };
      const parts = (this.st.allParts.all(uploadId) as Row[]).map(toPart);
      // build validates the client's part list against the stored parts inside this
      // transaction, so that a concurrent UploadPart cannot swap a part under it.
      const v = build(toUpload(u), parts);
      const used = new Set(v.data.kind === 'parts' ? v.data.parts.map((p) => p.blobId) : []);
      const freed: DataLocation[] = parts
        .filter((p) => !used.has(p.blobId))
        .map((p) => ({ kind: 'blob', blobId: p.blobId }) as DataLocation);
      this.st.deleteParts.run(uploadId);
      this.st.deleteUpload.run(uploadId);
      const res = this.insertVersionTx(v, opts);
      return { found: true, freed: freed.concat(res.freed), version: v };
    });
  }

  async abortUpload(uploadId: string): Promise<{ found: boolean; freed: DataLocation[] }> {
    return this.write(() => {
      if (!this.st.uploadExists.get(uploadId)) return { found: false, freed: [] };
      return { found: true, freed: this.dropUpload(uploadId) };
    });
  }

  private dropUpload(uploadId: string): DataLocation[] {
    const parts = (this.st.allParts.all(uploadId) as Row[]).map(
      (p) => ({ kind: 'blob', blobId: p.blob_id }) as DataLocation,
    );
    this.st.deleteParts.run(uploadId);
    this.st.deleteUpload.run(uploadId);
    return parts;
  }

  onReplicationWork?: () => void;

  async putReplica(v: NewVersion): Promise<{ applied: boolean; freed: DataLocation[] }> {
    return this.write(() => {
      if (!this.st.bucketExists.get(v.bucket)) throw Errors.noSuchBucket(v.bucket);
      if (this.st.byId.get(v.bucket, v.key, v.versionId)) return { applied: false, freed: [] };
      const { freed } = this.insertVersionTx({ ...v, isReplica: true }, { replaceNull: false });
      return { applied: true, freed };
    });
  }

  async readyReplicationTasks(now: number, limit: number, claimed: Iterable<number> = []): Promise<ReplicationTask[]> {
    return (this.st.readyTasks.all(this.durableTaskId, now, JSON.stringify([...claimed]), limit) as Row[]).map(toTask);
  }

  async settleReplicationTask(t: ReplicationTask, outcome: TaskOutcome): Promise<boolean> {
    return this.write(() => {
      switch (outcome.kind) {
        case 'retry':
          this.st.retryTask.run(outcome.at, outcome.error, t.id);
          return false;
        case 'progress':
          this.st.progressTask.run(outcome.progress, t.id);
          return false;
        case 'done':
          this.st.deleteTask.run(t.id);
          break;
        case 'failed':
          this.st.failTask.run(outcome.reason, outcome.error, t.id);
          break;
      }
      // The next version of the key for this destination may go now.
      const released = this.st.promoteNext.run(t.bucket, t.key, t.destination).changes > 0;
      this.refreshReplicationStatus(t.bucket, t.key, t.versionId);
      return released;
    });
  }

  /**
   * Inside a transaction: a version's x-amz-replication-status from its remaining tasks. Any
   * failed → FAILED; else any pending → PENDING; else COMPLETED (REPLICA for a replica whose
   * metadata changes have all gone back to its source).
   */
  private refreshReplicationStatus(bucket: string, key: string, versionId: string): void {
    const v = this.st.byId.get(bucket, key, versionId) as Row | undefined;
    if (!v) return;
    const c = this.st.taskCounts.get(bucket, key, versionId) as { pending: number | null; failed: number | null };
    const status = (c.failed ?? 0) > 0 ? 'FAILED' : (c.pending ?? 0) > 0 ? 'PENDING' : v.is_replica ? 'REPLICA' : 'COMPLETED';
    if (status === v.repl_status) return;
    this.cache.invalidate(bucket, key);
    this.st.setReplStatus.run(status, bucket, key, versionId);
  }

  async replicationSummary(bucket?: string): Promise<ReplicationSummaryRow[]> {
    const rows = (bucket === undefined ? this.st.summaryAll.all() : this.st.summary.all(bucket)) as Row[];
    return rows.map((r) => {
      const row: ReplicationSummaryRow = {
        bucket: r.bucket,
        destination: r.destination,
        ruleId: r.rule_id,
        pendingOperations: r.pending ?? 0,
        pendingBytes: r.bytes ?? 0,
        failed: r.failed ?? 0,
        retrying: r.retrying ?? 0,
      };
      if (r.oldest !== null) row.oldestPendingAt = r.oldest;
      return row;
    });
  }

  async replicationTasks(q: ReplicationTaskQuery): Promise<ReplicationTask[]> {
    // Waiting tasks are pending too, as far as anyone outside the store is concerned.
    let sql = `SELECT * FROM repl_tasks WHERE bucket = ? AND ${q.status === 'pending' ? "status IN ('pending', 'waiting')" : "status = 'failed'"}`;
    const args: unknown[] = [q.bucket];
    if (q.key !== undefined) {
      sql += ' AND key = ?';
      args.push(q.key);
    }
    if (q.versionId !== undefined) {
      sql += ' AND version_id = ?';
      args.push(q.versionId);
    }
    if (q.retryingOnly) sql += ' AND attempts > 0';
    sql += ' ORDER BY id LIMIT ?';
    args.push(q.limit);
    let stmt = this.taskQueries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.taskQueries.set(sql, stmt);
    }
    return (stmt.all(...args) as Row[]).map(toTask);
  }

  private readonly taskQueries = new Map<string, Database.Statement>();

  async overdueRtcTasks(createdBefore: number, limit: number): Promise<ReplicationTask[]> {
    return (this.st.overdueRtc.all(createdBefore, limit) as Row[]).map(toTask);
  }

  async isBlobReferenced(blobId: string): Promise<boolean> {
    return this.st.blobReferenced.get({ id: blobId }) === 1;
  }

  async close(): Promise<void> {
    if (this.pendingWrites.length > 0) this.commitPending();
    await this.groupSync.close();
    await this.stopCheckpoints();
    // A clean stop leaves everything in the database file and an empty WAL.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
    fs.closeSync(this.walFd);
  }

  private locationOf(r: Row): DataLocation {
    if (r.blob_id) return { kind: 'blob', blobId: r.blob_id };
    if (r.parts_count !== null) return { kind: 'parts', parts: (this.st.objectParts.all(r.seq) as Row[]).map(toPart) };
    if (r.inline_data) return { kind: 'inline', bytes: r.inline_data };
    return { kind: 'none' };
  }

  private toVersion(r: Row): VersionRecord {
    const v: VersionRecord = {
      bucket: r.bucket,
      key: r.key,
      versionId: r.version_id,
      seq: r.seq,
      isLatest: r.is_latest === 1,
      isDeleteMarker: r.is_dm === 1,
      size: r.size,
      etag: r.etag,
      lastModified: r.last_modified,
      storageClass: r.storage_class,
      owner: r.owner,
      meta: decodeMeta(r.meta),
      tags: r.tags ? JSON.parse(r.tags) : [],
      data: this.locationOf(r),
    };
    if (r.checksum) v.checksum = JSON.parse(r.checksum) as StoredChecksum;
    if (r.parts_count !== null) v.partsCount = r.parts_count;
    if (r.repl_status) v.replicationStatus = r.repl_status;
    if (r.is_replica) v.isReplica = true;
    if (r.repl_destinations) v.replicationDestinations = JSON.parse(r.repl_destinations);
    return v;
  }

  // --- S3 Batch Replication jobs (src/replication/batch*.ts) ----------------------------------

  private jobStatements?: ReturnType<SqliteMetadataStore['prepareJobStatements']>;
  private get jst(): ReturnType<SqliteMetadataStore['prepareJobStatements']> {
    return (this.jobStatements ??= this.prepareJobStatements());
  }

  private prepareJobStatements() {
    const d = this.db;
    return {
      insertJob: d.prepare(
        `INSERT INTO jobs (id, account, status, priority, created_at, client_token, request_hash, spec, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      jobByToken: d.prepare('SELECT * FROM jobs WHERE account = ? AND client_token = ?'),
      getJob: d.prepare('SELECT * FROM jobs WHERE id = ?'),
      updateJob: d.prepare('UPDATE jobs SET status = ?, state = ? WHERE id = ? AND status = ?'),
      setPriority: d.prepare('UPDATE jobs SET priority = ? WHERE id = ?'),
      insertTask: d.prepare(`INSERT INTO job_tasks (job_id, seq, bucket, key, version_id, status) VALUES (?, ?, ?, ?, ?, 'queued')`),
      clearTasks: d.prepare('DELETE FROM job_tasks WHERE job_id = ?'),
      getTask: d.prepare('SELECT * FROM job_tasks WHERE job_id = ? AND seq = ?'),
      tasksByStatus: d.prepare('SELECT * FROM job_tasks WHERE job_id = ? AND status = ? AND seq > ? ORDER BY seq LIMIT ?'),
      taskCounts: d.prepare('SELECT status, count(*) AS n FROM job_tasks WHERE job_id = ? GROUP BY status'),
      runTask: d.prepare(`UPDATE job_tasks SET status = 'running', version_id = ? WHERE job_id = ? AND seq = ?`),
      endTask: d.prepare('UPDATE job_tasks SET status = ?, error_code = ?, http_status = ?, message = ? WHERE job_id = ? AND seq = ?'),
      dropFailed: d.prepare(
        // An earlier failure of the version is dropped unless a running job still has to read
        // it (to settle its task with the failure's reason).
        `DELETE FROM repl_tasks WHERE bucket = ? AND key = ? AND version_id = ? AND destination = ? AND status = 'failed'
           AND (batch_job IS NULL
                OR (batch_job <> ?
                    AND (batch_job IN (SELECT id FROM jobs WHERE status IN ('Complete', 'Cancelled', 'Failed'))
                         OR NOT EXISTS (SELECT 1 FROM job_tasks jt
                                         WHERE jt.job_id = repl_tasks.batch_job AND jt.bucket = repl_tasks.bucket
                                           AND jt.key = repl_tasks.key AND jt.version_id = repl_tasks.version_id
                                           AND jt.status = 'running'))))`,
      ),
      setDestinations: d.prepare('UPDATE versions SET repl_destinations = ? WHERE bucket = ? AND key = ? AND version_id = ?'),
      jobOutbox: d.prepare(
        `SELECT sum(status IN ('pending', 'waiting')) AS pending, sum(status = 'failed') AS failed FROM repl_tasks
         WHERE bucket = ? AND key = ? AND version_id = ? AND batch_job = ?`,
      ),
      jobOutboxFailure: d.prepare(
        `SELECT failure_reason, last_error FROM repl_tasks
         WHERE bucket = ? AND key = ? AND version_id = ? AND batch_job = ? AND status = 'failed' ORDER BY id LIMIT 1`,
      ),
      factsOfKeyAfter: d.prepare(
        `SELECT ${FACT_COLUMNS} FROM versions WHERE bucket = ? AND key = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
    };
  }

  async putNewJob(job: JobRecord): Promise<JobRecord> {
    return this.write(() => {
      const existing = this.jst.jobByToken.get(job.account, job.clientToken) as Row | undefined;
      if (existing) return toJob(existing);
      this.jst.insertJob.run(job.id, job.account, job.status, job.priority, job.createdAt, job.clientToken, job.requestHash, job.spec, job.state);
      return job;
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const r = this.jst.getJob.get(id) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  async listJobs(q: JobQuery): Promise<JobRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.account !== undefined) {
      where.push('account = ?');
      args.push(q.account);
    }
    if (q.statuses && q.statuses.length > 0) {
      where.push(`status IN (${q.statuses.map(() => '?').join(', ')})`);
      args.push(...q.statuses);
    }
    if (q.after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      args.push(q.after.createdAt, q.after.createdAt, q.after.id);
    }
    const sql = `SELECT * FROM jobs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as Row[]).map(toJob);
  }

  async updateJob(id: string, expect: string, status: string, state: string): Promise<boolean> {
    return this.write(() => this.jst.updateJob.run(status, state, id, expect).changes === 1);
  }

  async setJobPriority(id: string, priority: number): Promise<boolean> {
    return this.write(() => this.jst.setPriority.run(priority, id).changes === 1);
  }

  async addJobTasks(jobId: string, tasks: JobTaskInput[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.write(() => {
      for (const t of tasks) this.jst.insertTask.run(jobId, t.seq, t.bucket, t.key, t.versionId ?? null);
    });
  }

  async clearJobTasks(jobId: string): Promise<void> {
    await this.write(() => {
      this.jst.clearTasks.run(jobId);
    });
  }

  async jobTasks(jobId: string, status: JobTaskStatus, afterSeq: number, limit: number): Promise<JobTask[]> {
    return (this.jst.tasksByStatus.all(jobId, status, afterSeq, limit) as Row[]).map(toJobTask);
  }

  async jobTaskCounts(jobId: string): Promise<JobTaskCounts> {
    const c: JobTaskCounts = { total: 0, queued: 0, running: 0, succeeded: 0, failed: 0 };
    for (const r of this.jst.taskCounts.all(jobId) as Array<{ status: JobTaskStatus; n: number }>) {
      c[r.status] = r.n;
      c.total += r.n;
    }
    return c;
  }

  async startJobTask(jobId: string, seq: number, versionId: string, tasks: ReplicationTaskInput[]): Promise<boolean> {
    return this.write(() => {
      const jt = this.jst.getTask.get(jobId, seq) as Row | undefined;
      if (!jt) return false;
      if (jt.status !== 'queued') return true;
      const { bucket, key } = jt as { bucket: string; key: string };
      const v = this.st.byId.get(bucket, key, versionId) as Row | undefined;
      if (!v) return false;
      for (const t of tasks) this.jst.dropFailed.run(bucket, key, versionId, t.destination, jobId);
      this.insertTasks(bucket, key, versionId, v.size, tasks.map((t) => ({ ...t, batchJob: jobId })));
      // Where the version was sent: later metadata changes follow it there (as for live replication).
      const sent: Array<{ destination: string; ruleId: string }> = v.repl_destinations ? JSON.parse(v.repl_destinations) : [];
      for (const t of tasks) {
        const i = sent.findIndex((x) => x.destination === t.destination);
        if (i >= 0) sent[i] = { destination: t.destination, ruleId: t.ruleId };
        else sent.push({ destination: t.destination, ruleId: t.ruleId });
      }
      this.cache.invalidate(bucket, key);
      if (sent.length) this.jst.setDestinations.run(JSON.stringify(sent), bucket, key, versionId);
      if (tasks.length) this.st.setReplStatus.run('PENDING', bucket, key, versionId);
      this.jst.runTask.run(versionId, jobId, seq);
      return true;
    });
  }

  async finishJobTask(jobId: string, seq: number, outcome: JobTaskOutcome): Promise<void> {
    await this.write(() => {
      this.jst.endTask.run(outcome.status, outcome.errorCode ?? null, outcome.httpStatus, outcome.message, jobId, seq);
    });
  }

  async settleJobTasks(jobId: string, limit: number): Promise<number> {
    // Looking first costs no write (nor fsync) when nothing has changed, which is most polls.
    const settle = (apply: boolean): number => {
      let n = 0;
      for (const r of this.jst.tasksByStatus.all(jobId, 'running', -1, limit) as Row[]) {
        const c = this.jst.jobOutbox.get(r.bucket, r.key, r.version_id, jobId) as { pending: number | null; failed: number | null };
        if ((c.pending ?? 0) > 0) continue;
        n++;
        if (!apply) continue;
        if ((c.failed ?? 0) > 0) {
          const f = this.jst.jobOutboxFailure.get(r.bucket, r.key, r.version_id, jobId) as Row;
          this.jst.endTask.run('failed', f.failure_reason ?? 'InternalError', null, f.last_error ?? f.failure_reason ?? '', jobId, r.seq);
        } else {
          this.jst.endTask.run('succeeded', null, 200, 'Successful', jobId, r.seq);
        }
      }
      return n;
    };
    if (settle(false) === 0) return 0;
    return this.write(() => settle(true));
  }

  private readonly factStatements = new Map<string, Database.Statement>();
  async scanVersionFacts(
    bucket: string,
    prefix: string,
    after: { key: string; seq: number } | undefined,
    limit: number,
  ): Promise<BatchVersionFacts[]> {
    const out: BatchVersionFacts[] = [];
    let from: ScanFrom | undefined;
    if (after) {
      for (const r of this.jst.factsOfKeyAfter.all(bucket, after.key, after.seq, limit) as Row[]) out.push(toFacts(r));
      from = { key: after.key, inclusive: false };
    }
    if (out.length >= limit) return out;
    const { lower, op, upper } = scanBounds(prefix, from);
    const id = `${op}${upper !== undefined}`;
    let stmt = this.factStatements.get(id);
    if (!stmt) {
      stmt = this.db.prepare(
        `SELECT ${FACT_COLUMNS} FROM versions WHERE bucket = ? AND key ${op} ?${upper !== undefined ? ' AND key < ?' : ''}
         ORDER BY key, seq LIMIT ?`,
      );
      this.factStatements.set(id, stmt);
    }
    const rest = limit - out.length;
    const args: unknown[] = upper !== undefined ? [bucket, lower, upper, rest] : [bucket, lower, rest];
    for (const r of stmt.all(...args) as Row[]) out.push(toFacts(r));
    return out;
  }
}

const FACT_COLUMNS =
  "seq, key, version_id, is_latest, is_dm, size, last_modified, storage_class, tags, repl_status, is_replica, json_extract(meta, '$.encryption.algorithm') AS sse, json_extract(meta, '$.encryption.kmsKeyArn') AS sse_key";

function toJob(r: Row): JobRecord {
  return {
    id: r.id,
    account: r.account,
    status: r.status,
    priority: r.priority,
    createdAt: r.created_at,
    clientToken: r.client_token,
    requestHash: r.request_hash,
    spec: r.spec,
    state: r.state,
  };
}

function toJobTask(r: Row): JobTask {
  const t: JobTask = { seq: r.seq, bucket: r.bucket, key: r.key, status: r.status };
  if (r.version_id !== null) t.versionId = r.version_id;
  if (r.error_code !== null) t.errorCode = r.error_code;
  if (r.http_status !== null) t.httpStatus = r.http_status;
  if (r.message !== null) t.message = r.message;
  return t;
}

function toFacts(r: Row): BatchVersionFacts {
  const f: BatchVersionFacts = {
    seq: r.seq,
    key: r.key,
    versionId: r.version_id,
    isLatest: r.is_latest === 1,
    isDeleteMarker: r.is_dm === 1,
    size: r.size,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    tags: r.tags ? JSON.parse(r.tags) : [],
    isReplica: r.is_replica === 1,
  };
  if (r.repl_status) f.replicationStatus = r.repl_status;
  if (r.sse) f.encryption = { algorithm: r.sse, kmsKeyArn: r.sse_key ?? undefined };
  return f;
}

/** The lower and upper key bounds of a scan limited to a prefix and starting at a position. */
function scanBounds(prefix: string, from: ScanFrom | undefined): { lower: string; op: '>' | '>='; upper?: string } {
  let lower = prefix;
  let op: '>' | '>=' = '>=';
  if (from) {
    const c = compareKeys(from.key, prefix);
    if (c > 0 || (c === 0 && !from.inclusive)) {
      lower = from.key;
      op = from.inclusive ? '>=' : '>';
    }
  }
  const upper = prefix === '' ? undefined : prefixUpperBound(prefix);
  return upper === null ? { lower, op } : { lower, op, upper };
}

function encodeMeta(m: NewVersion['meta']): string | null {
  const hasUser = Object.keys(m.user).length > 0;
  const hasStd = Object.keys(m).length > 1;
  return hasUser || hasStd ? JSON.stringify(m) : null;
}

function decodeMeta(s: string | null): VersionRecord['meta'] {
  return s ? (JSON.parse(s) as VersionRecord['meta']) : { user: {} };
}

function toBucket(r: Row): BucketRecord {
  return { name: r.name, region: r.region, owner: r.owner, createdAt: r.created_at, versioning: r.versioning };
}

function toListed(r: Row): ListedVersion & { seq: number } {
  const l: ListedVersion & { seq: number } = {
    seq: r.seq,
    key: r.key,
    versionId: r.version_id,
    isLatest: r.is_latest === 1,
    isDeleteMarker: r.is_dm === 1,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    storageClass: r.storage_class,
    owner: r.owner,
  };
  if (r.checksum) {
    const c = JSON.parse(r.checksum) as StoredChecksum;
    l.checksumAlgorithm = c.algorithm;
    l.checksumType = c.type;
  }
  return l;
}

function toTask(r: Row): ReplicationTask {
  const t: ReplicationTask = {
    id: r.id,
    bucket: r.bucket,
    key: r.key,
    versionId: r.version_id,
    destination: r.destination,
    ruleId: r.rule_id,
    op: r.op,
    status: r.status,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    size: r.size,
    rtc: r.rtc === 1,
    metrics: r.metrics === 1,
  };
  if (r.storage_class) t.storageClass = r.storage_class;
  if (r.batch_job) t.batchJob = r.batch_job;
  if (r.last_error) t.lastError = r.last_error;
  if (r.failure_reason) t.failureReason = r.failure_reason;
  if (r.progress) t.progress = r.progress;
  return t;
}

function toPart(r: Row): PartRecord {
  const p: PartRecord = {
    partNumber: r.part_number,
    size: r.size,
    etag: r.etag,
    blobId: r.blob_id,
    lastModified: r.last_modified,
  };
  if (r.checksum) p.checksum = JSON.parse(r.checksum) as StoredChecksum;
  if (r.salt) p.salt = r.salt;
  return p;
}

function toUpload(r: Row): UploadRecord {
  const u: UploadRecord = {
    uploadId: r.upload_id,
    bucket: r.bucket,
    key: r.key,
    initiated: r.initiated,
    owner: r.owner,
    storageClass: r.storage_class,
    meta: decodeMeta(r.meta),
    tags: r.tags ? JSON.parse(r.tags) : [],
  };
  if (r.checksum_algorithm) u.checksumAlgorithm = r.checksum_algorithm;
  if (r.checksum_type) u.checksumType = r.checksum_type;
  return u;
}

