/**
 * Runs Batch Replication jobs in the background of the server process (spec §7). Every job is
 * persisted in its region's metadata store and moved along one status at a time:
 *
 *   New → Preparing (the manifest is read or generated into job_tasks) → [Suspended until
 *   UpdateJobStatus Ready when ConfirmationRequired] → Ready → Active → Completing → Complete,
 *   or Failing → Failed (manifest errors; ≥1,000 tasks run and >50 % failed), or
 *   Cancelling → Cancelled.
 *
 * A task replicates one version (object or delete marker, replicas included) to every
 * destination its bucket's rules select: it records outbox rows with batch_job = the job's id
 * (one transaction with the task's own status), and the ReplicationEngine copies them. The
 * task succeeds when all its rows are done, and fails with the engine's failure reason (§4.4)
 * when one fails; tasks that cannot start fail at once (SrcBucketReplicationConfigMissing,
 * SrcObjectNotEligible, ...). Everything is in the database, so a job interrupted by a crash
 * goes on after the restart (a Preparing job prepares again from scratch).
 */
import { isSseKms } from '../objects/encryption.js';
import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { App } from '../app.js';
import { isoTime } from '../dates.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { Region } from '../region.js';
import { bucketFromArn } from '../objects/arn.js';
import type { JobRecord, JobTask, JobTaskInput, JobTaskStatus } from '../storage/types.js';
import {
  encodeKey,
  failureThresholdExceeded,
  httpStatusFor,
  matchesFilter,
  REPORT_FORMAT,
  REPORT_SCHEMA,
  reportKeyBase,
  reportLine,
  RUNNABLE_STATUSES,
  scanPrefix,
  THRESHOLD_FAILURE,
  type JobSpec,
  type JobState,
} from './batch-model.js';
import { JobFailed, once, readManifest, writeObject } from './batch-io.js';
import { taskFor } from './plan.js';
import { matchRules } from './rules.js';

const TICK_MS = 200;
/** Tasks of one job whose replication may be in flight at once. */
const WINDOW = 1000;
/** Tasks started together (their outbox writes share group commits). */
const START_CHUNK = 100;
const SCAN_CHUNK = 1000;
/** Progress timers are written at most this often while a job is Active. */
const PERSIST_MS = 1000;

const runners = new WeakMap<App, BatchJobRunner>();

/** Starts the job runner of an app (called once by openApp). */
export function startBatchJobs(app: App): void {
  if (runners.has(app)) return;
  const r = new BatchJobRunner(app);
  runners.set(app, r);
  r.start();
}

/** Stops the runner: no new step starts; the step in progress ends (closeApp awaits it). */
export async function stopBatchJobs(app: App): Promise<void> {
  await runners.get(app)?.stop();
}

/** Asks the runner to look at jobs now (a job was created or updated). */
export function wakeBatchJobs(app: App): void {
  runners.get(app)?.kick();
}

class Stopping extends Error {}
/** The job's status changed under a step (UpdateJobStatus): the step ends, the next tick re-reads. */
class LostRace extends Error {}

/** The job as one step sees it; `set` is a compare-and-set on the status it was read with. */
interface Step {
  region: Region;
  rec: JobRecord;
  spec: JobSpec;
  state: JobState;
}

class BatchJobRunner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopping = false;
  /** Active jobs whose timer this process has started (time while down is not Active time). */
  private readonly resumed = new Set<string>();
  private readonly lastPersist = new Map<string, number>();

  constructor(private readonly app: App) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.tick()
      .catch((e) => {
        if (!this.app.closing && !(e instanceof Stopping)) this.app.log.error({ err: (e as Error).stack }, 'batch jobs: tick failed');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private check(): void {
    if (this.stopping) throw new Stopping();
  }

  private async tick(): Promise<void> {
    for (const region of this.app.regions.values()) {
      const jobs = await region.meta.listJobs({ statuses: RUNNABLE_STATUSES, limit: 1000 });
      jobs.sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt);
      for (const rec of jobs) {
        this.check();
        try {
          await this.advance(region, rec);
        } catch (e) {
          if (e instanceof Stopping) throw e;
          if (e instanceof LostRace) continue;
          if (!this.app.closing) this.app.log.error({ job: rec.id, err: (e as Error).stack }, 'batch jobs: step failed');
        }
      }
    }
  }

  /** Steps a job until it waits (for its tasks, for confirmation) or ends. */
  private async advance(region: Region, rec: JobRecord): Promise<void> {
    const s: Step = { region, rec: { ...rec }, spec: JSON.parse(rec.spec) as JobSpec, state: JSON.parse(rec.state) as JobState };
    for (let i = 0; i < 8; i++) {
      const before = s.rec.status;
      switch (before) {
        case 'New':
          await this.set(s, 'Preparing');
          break;
        case 'Preparing':
          await this.prepare(s);
          break;
        case 'Ready':
          s.state.activeSince = this.app.clock();
          this.resumed.add(s.rec.id);
          await this.set(s, 'Active');
          break;
        case 'Active':
          await this.run(s);
          break;
        case 'Completing':
          await this.finish(s, 'Complete');
          break;
        case 'Failing':
          await this.finish(s, 'Failed');
          break;
        case 'Cancelling':
          await this.finish(s, 'Cancelled');
          break;
        default:
          return;
      }
      if (s.rec.status === before) return;
    }
  }

  /** Compare-and-set of the status; on a lost race (an UpdateJobStatus) the job is re-read next tick. */
  private async set(s: Step, status: string): Promise<void> {
    const state = JSON.stringify(s.state);
    if (!(await s.region.meta.updateJob(s.rec.id, s.rec.status, status, state))) throw new LostRace();
    s.rec.status = status;
    s.rec.state = state;
  }

  /** Brings the Active timer up to now. */
  private account(s: Step): void {
    const now = this.app.clock();
    if (!this.resumed.has(s.rec.id)) {
      // First look at this Active job in this process (after a restart): time while the
      // process was down does not count.
      this.resumed.add(s.rec.id);
      s.state.activeSince = now;
      return;
    }
    if (s.state.activeSince !== undefined) s.state.activeMs += Math.max(0, now - s.state.activeSince);
    s.state.activeSince = now;
  }

  private async failJob(s: Step, failure: { code: string; reason: string }): Promise<void> {
    s.state.failureReasons.push(failure);
    await this.finish(s, 'Failed');
  }

  // -------------------------------------------------------------------------------------------
  // Preparing: the manifest becomes the job's tasks.

  private async prepare(s: Step): Promise<void> {
    const meta = s.region.meta;
    const id = s.rec.id;
    await meta.clearJobTasks(id);
    try {
      this.checkReportBucket(s);
      if (s.spec.manifest) {
        // Stored batch by batch as the manifest is read: it is never held whole.
        let seq = 0;
        for await (const entries of readManifest(this.app, s.spec.manifest)) {
          this.check();
          await meta.addJobTasks(id, entries.map((e): JobTaskInput => ({ ...e, seq: seq++ })));
        }
      } else {
        await this.generateManifest(s);
      }
    } catch (e) {
      if (e instanceof JobFailed) {
        // A job whose manifest fails has no tasks, not those read before the failure.
        await meta.clearJobTasks(id);
        return this.failJob(s, e.failure);
      }
      throw e;
    }
    const counts = await meta.jobTaskCounts(id);
    s.state.totalTasks = counts.total;
    if (s.spec.confirmationRequired) {
      s.state.suspendedDate = this.app.clock();
      s.state.suspendedCause = 'The job requires confirmation: UpdateJobStatus with RequestedJobStatus Ready runs it.';
      await this.set(s, 'Suspended');
    } else {
      await this.set(s, 'Ready');
    }
  }

  private checkReportBucket(s: Step): void {
    const r = s.spec.report;
    if (!r.enabled) return;
    const name = bucketFromArn(r.bucket!)!;
    const b = this.app.buckets.get(name);
    if (!b) throw new JobFailed({ code: 'ReportBucketNotFound', reason: `The report bucket ${name} does not exist.` });
    if (r.expectedBucketOwner && b.record.owner !== r.expectedBucketOwner) {
      throw new JobFailed({ code: 'AccessDenied', reason: `The report bucket ${name} is not owned by ${r.expectedBucketOwner}.` });
    }
  }

  /** ManifestGenerator: every version of the source bucket that passes the filter. */
  private async generateManifest(s: Step): Promise<void> {
    const g = s.spec.manifestGenerator!;
    const name = bucketFromArn(g.sourceBucket)!;
    const source = this.app.buckets.get(name);
    if (!source) throw new JobFailed({ code: 'SrcBucketNotFound', reason: `The source bucket ${name} does not exist.` });
    if (source.region.name !== s.spec.region) {
      throw new JobFailed({
        code: 'SrcBucketInvalidRegion',
        reason: `The source bucket ${name} is in ${source.region.name}; a generated manifest must be made in the source bucket's region, not ${s.spec.region}.`,
      });
    }
    if (g.expectedBucketOwner && source.record.owner !== g.expectedBucketOwner) {
      throw new JobFailed({ code: 'AccessDenied', reason: `The source bucket ${name} is not owned by ${g.expectedBucketOwner}.` });
    }
    let out: BucketEntry | undefined;
    if (g.enableManifestOutput) {
      const outName = bucketFromArn(g.manifestOutputLocation!.bucket)!;
      out = this.app.buckets.get(outName);
      if (!out) throw new JobFailed({ code: 'ManifestOutputBucketNotFound', reason: `The manifest output bucket ${outName} does not exist.` });
    }
    const prefix = scanPrefix(g.filter);
    let after: { key: string; seq: number } | undefined;
    let seq = 0;
    for (;;) {
      this.check();
      const versions = await source.region.meta.scanVersionFacts(name, prefix, after, SCAN_CHUNK);
      if (versions.length === 0) break;
      const last = versions[versions.length - 1]!;
      after = { key: last.key, seq: last.seq };
      // The configuration is read per chunk: a change while the manifest is made applies from then on.
      const config = source.replication;
      const tasks: JobTaskInput[] = [];
      for (const v of versions) {
        if (matchesFilter(g.filter, v, config)) tasks.push({ seq: seq++, bucket: name, key: v.key, versionId: v.versionId });
      }
      await s.region.meta.addJobTasks(s.rec.id, tasks);
      if (versions.length < SCAN_CHUNK) break;
    }
    if (out) await this.writeGeneratedManifest(s, name, out);
  }

  /** The generated manifest, S3InventoryReport_CSV_20211130: manifest.json and a gzipped CSV. */
  private async writeGeneratedManifest(s: Step, sourceName: string, out: BucketEntry): Promise<void> {
    const loc = s.spec.manifestGenerator!.manifestOutputLocation!;
    const base = reportKeyBase(loc.manifestPrefix, s.rec.id);
    const dataKey = `${base}/data/${randomUUID()}.csv.gz`;
    const meta = s.region.meta;
    const id = s.rec.id;
    let size = 0;
    const md5 = createHash('md5');
    const self = this;
    async function* csv(): AsyncGenerator<Buffer> {
      let afterSeq = -1;
      for (;;) {
        self.check();
        const tasks = await meta.jobTasks(id, 'queued', afterSeq, SCAN_CHUNK);
        if (tasks.length === 0) return;
        afterSeq = tasks[tasks.length - 1]!.seq;
        const text = tasks.map((t) => `"${t.bucket}","${encodeKey(t.key)}","${t.versionId ?? ''}"\n`).join('');
        // Concatenated gzip members are one valid gzip stream.
        const gz = gzipSync(Buffer.from(text, 'utf8'));
        size += gz.length;
        md5.update(gz);
        yield gz;
      }
    }
    await writeObject(this.app, out, dataKey, csv(), 'application/x-gzip', s.spec.accountId);
    const manifest = {
      sourceBucket: sourceName,
      destinationBucket: `arn:aws:s3:::${out.record.name}`,
      version: '2021-11-30',
      creationTimestamp: String(this.app.clock()),
      fileFormat: 'CSV',
      fileSchema: 'Bucket, Key, VersionId',
      files: [{ key: dataKey, size, MD5checksum: md5.digest('hex') }],
    };
    const manifestKey = `${base}/manifest.json`;
    const etag = await writeObject(this.app, out, manifestKey, once(JSON.stringify(manifest)), 'application/json', s.spec.accountId);
    s.state.generatedManifest = { objectArn: `arn:aws:s3:::${out.record.name}/${manifestKey}`, etag };
  }

  // -------------------------------------------------------------------------------------------
  // Active: start tasks within the window, settle those whose replication ended.

  private async run(s: Step): Promise<void> {
    const meta = s.region.meta;
    const id = s.rec.id;
    this.account(s);
    await meta.settleJobTasks(id, WINDOW);
    const counts = await meta.jobTaskCounts(id);
    if (failureThresholdExceeded(counts.succeeded, counts.failed)) {
      s.state.failureReasons.push(THRESHOLD_FAILURE);
      await this.set(s, 'Failing');
      return;
    }
    if (counts.queued === 0 && counts.running === 0) {
      await this.set(s, 'Completing');
      return;
    }
    let capacity = WINDOW - counts.running;
    while (capacity > 0 && counts.queued > 0) {
      this.check();
      const batch = await meta.jobTasks(id, 'queued', -1, Math.min(capacity, START_CHUNK));
      if (batch.length === 0) break;
      // Versions of one key start in manifest order (their outbox rows replicate in that order);
      // different keys start together.
      const byKey = new Map<string, JobTask[]>();
      for (const t of batch) {
        const k = `${t.bucket}\u0000${t.key}`;
        const group = byKey.get(k);
        if (group) group.push(t);
        else byKey.set(k, [t]);
      }
      await Promise.all(
        [...byKey.values()].map(async (group) => {
          for (const t of group) await this.startTask(s, t);
        }),
      );
      capacity -= batch.length;
      // An UpdateJobStatus (cancel) stops the job between chunks.
      if ((await meta.getJob(id))?.status !== 'Active') return;
    }
    const now = this.app.clock();
    if (now - (this.lastPersist.get(id) ?? 0) >= PERSIST_MS) {
      this.lastPersist.set(id, now);
      await meta.updateJob(id, 'Active', 'Active', JSON.stringify(s.state));
    }
  }

  private async startTask(s: Step, t: JobTask): Promise<void> {
    const meta = s.region.meta;
    const id = s.rec.id;
    const fail = (code: string, message: string) =>
      meta.finishJobTask(id, t.seq, { status: 'failed', errorCode: code, httpStatus: httpStatusFor(code), message });
    try {
      const bucket = this.app.buckets.get(t.bucket);
      if (!bucket) return await fail('SrcBucketNotFound', `The source bucket ${t.bucket} does not exist.`);
      if (bucket.region.name !== s.spec.region) {
        return await fail('SrcBucketInvalidRegion', `The source bucket ${t.bucket} is in ${bucket.region.name}, not in the job's region ${s.spec.region}.`);
      }
      const config = bucket.replication;
      if (!config) return await fail('SrcBucketReplicationConfigMissing', `The source bucket ${t.bucket} has no replication configuration.`);
      const v = await meta.getVersion(t.bucket, t.key, t.versionId);
      if (!v) {
        return await fail('SrcVersionNotFound', `${t.key}${t.versionId ? ` version ${t.versionId}` : ''} does not exist in ${t.bucket}.`);
      }
      if (v.storageClass === 'GLACIER' || v.storageClass === 'DEEP_ARCHIVE') {
        return await fail('SrcObjectNotEligible', `Objects in ${v.storageClass} are not replicated; restore it first.`);
      }
      const m = matchRules(config, { key: v.key, tags: v.tags, isDeleteMarker: v.isDeleteMarker, isReplica: false, sseKms: isSseKms(v.meta.encryption) });
      if (m.destinations.length === 0) {
        const why = m.verdicts.map((x) => (x.selects ? '' : `rule "${x.rule.id}": ${x.reason}`)).filter(Boolean).join('; ');
        return await fail('SrcObjectNotEligible', `No rule of the replication configuration selects this version${why ? ` (${why})` : ''}.`);
      }
      const op = v.isDeleteMarker ? 'delete-marker' : 'object';
      const tasks = m.destinations.map((d) => taskFor(d.rule, d.destination, op, id));
      if (!(await meta.startJobTask(id, t.seq, v.versionId, tasks))) {
        await fail('SrcVersionNotFound', `${t.key} version ${v.versionId} was deleted from ${t.bucket}.`);
      }
    } catch (e) {
      // Left queued: tried again on a later tick.
      if (!this.app.closing) this.app.log.warn({ job: id, task: t.seq, err: (e as Error).message }, 'batch jobs: starting a task failed');
    }
  }

  // -------------------------------------------------------------------------------------------
  // The end: the completion report, then the final status.

  private async finish(s: Step, final: 'Complete' | 'Failed' | 'Cancelled'): Promise<void> {
    const meta = s.region.meta;
    const id = s.rec.id;
    await meta.settleJobTasks(id, Number.MAX_SAFE_INTEGER);
    const counts = await meta.jobTaskCounts(id);
    let status: string = final;
    // "Generated if at least one task ran" (spec §7.3).
    if (s.spec.report.enabled && counts.succeeded + counts.failed > 0) {
      try {
        await this.writeReport(s, counts.succeeded, counts.failed);
      } catch (e) {
        if (e instanceof Stopping) throw e;
        s.state.failureReasons.push({ code: 'ReportWriteFailed', reason: `Writing the completion report failed: ${(e as Error).message}`.slice(0, 256) });
        status = 'Failed';
      }
    }
    if (s.state.activeSince !== undefined) {
      if (this.resumed.has(id)) s.state.activeMs += Math.max(0, this.app.clock() - s.state.activeSince);
      delete s.state.activeSince;
    }
    s.state.terminationDate = this.app.clock();
    this.resumed.delete(id);
    this.lastPersist.delete(id);
    await this.set(s, status);
  }

  private async writeReport(s: Step, succeeded: number, failed: number): Promise<void> {
    const r = s.spec.report;
    const bucketName = bucketFromArn(r.bucket!)!;
    const bucket = this.app.buckets.get(bucketName);
    if (!bucket) throw new Error(`the report bucket ${bucketName} does not exist`);
    const base = reportKeyBase(r.prefix, s.rec.id);
    const results: Array<{ TaskExecutionStatus: string; Bucket: string; MD5Checksum: string; Key: string }> = [];
    const statuses: JobTaskStatus[] = [];
    if (r.reportScope !== 'FailedTasksOnly' && succeeded > 0) statuses.push('succeeded');
    if (failed > 0) statuses.push('failed');
    for (const status of statuses) {
      const name = createHash('sha1').update(`${s.rec.id}:${status}`).digest('hex');
      const key = `${base}/results/${name}.csv`;
      const etag = await writeObject(this.app, bucket, key, this.reportLines(s, status), 'text/csv', s.spec.accountId);
      results.push({ TaskExecutionStatus: status, Bucket: bucketName, MD5Checksum: etag, Key: key });
    }
    const manifest = {
      Format: REPORT_FORMAT,
      ReportCreationDate: isoTime(this.app.clock()),
      Results: results,
      ReportSchema: REPORT_SCHEMA,
    };
    await writeObject(this.app, bucket, `${base}/manifest.json`, once(JSON.stringify(manifest)), 'application/json', s.spec.accountId);
  }

  private async *reportLines(s: Step, status: JobTaskStatus): AsyncGenerator<Buffer> {
    let afterSeq = -1;
    for (;;) {
      const tasks = await s.region.meta.jobTasks(s.rec.id, status, afterSeq, SCAN_CHUNK);
      if (tasks.length === 0) return;
      afterSeq = tasks[tasks.length - 1]!.seq;
      yield Buffer.from(tasks.map(reportLine).join(''), 'utf8');
    }
  }
}
