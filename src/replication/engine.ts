/**
 * The replication workers. Per region, tasks are claimed from the outbox as soon as the commit
 * that recorded them is durable (the store signals it) and on a timer for retries, with at most
 * `replicationConcurrency` copies in flight. Versions of one key reach a destination in order:
 * the store makes only the earliest unsettled task of a (bucket, key, destination) claimable. Every task ends done (deleted, version COMPLETED when all are) or FAILED with a
 * reason; transient errors are retried with backoff, forever, visibly PENDING meanwhile.
 */
import type { App } from '../app.js';
import type { Region } from '../region.js';
import type { ReplicationTask, TaskOutcome, VersionRecord } from '../storage/types.js';
import { asPermanent, ReplicationFailure, retryDelay } from './failures.js';
import { authorizeReplication } from './permissions.js';
import { objectOwnership } from '../objects/bucket-access.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { Destination } from './sites.js';
import type { ReplicationObserver } from './observer.js';
import { targetFor } from './targets.js';

/** How long stopping waits for copies in flight. */
const STOP_GRACE_MS = 3000;

/** How often each region looks for retries that have come due. */
const POLL_MS = 250;

interface RegionWorkers {
  region: Region;
  /** Ids of the tasks claimed and not yet settled: the copies in flight. */
  claimed: Set<number>;
  pumping: boolean;
  again: boolean;
  timer: NodeJS.Timeout;
  /**
   * The last claim got every task that was ready: until new work is signalled there is nothing
   * to ask the store for when a copy ends. Saves a query per completed copy (~8% of a busy
   * replicating region's event loop).
   */
  drained: boolean;
  /** Counts wake-ups (new work recorded, a waiting task released, the timer), so that a claim
   * that ran across one does not mark the region drained. */
  wakes: number;
}

export class ReplicationEngine {
  private readonly workers: RegionWorkers[] = [];
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    private readonly app: App,
    private readonly observer?: ReplicationObserver,
  ) {}

  start(): void {
    for (const region of this.app.regions.values()) {
      const w: RegionWorkers = {
        region,
        claimed: new Set(),
        pumping: false,
        again: false,
        // Retries come due with time, not with a signal: the timer finds them.
        timer: setInterval(() => this.wake(w), POLL_MS),
        drained: false,
        wakes: 0,
      };
      w.timer.unref();
      region.meta.onReplicationWork = () => this.wake(w);
      this.workers.push(w);
      void this.pump(w);
    }
  }

  /**
   * Stops claiming work and gives copies in flight a moment to settle their tasks. A copy that
   * does not finish in time leaves its task pending; it is replayed after the restart, and
   * replica writes are idempotent by version id.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.workers) {
      clearInterval(w.timer);
      w.region.meta.onReplicationWork = undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** There may be ready tasks the region has not seen: claim. */
  private wake(w: RegionWorkers): void {
    w.wakes++;
    w.drained = false;
    void this.pump(w);
  }

  private async pump(w: RegionWorkers): Promise<void> {
    if (this.stopping) return;
    if (w.pumping) {
      w.again = true;
      return;
    }
    w.pumping = true;
    try {
      const capacity = () => this.app.config.replicationConcurrency - w.claimed.size;
      while (capacity() > 0 && !this.stopping) {
        const wakes = w.wakes;
        const limit = capacity() * 4;
        // Claimed tasks stay pending until settled: the store leaves them out.
        const tasks = await w.region.meta.readyReplicationTasks(this.app.clock(), limit, w.claimed);
        let started = 0;
        let skipped = 0;
        for (const t of tasks) {
          if (capacity() <= 0) break;
          const group = `${t.bucket}\u0000${t.key}\u0000${t.destination}`;
          // Claimed already, and not yet settled.
          if (this.busy.has(group)) {
            skipped++;
            continue;
          }
          this.busy.add(group);
          w.claimed.add(t.id);
          started++;
          const p = this.run(w, t).finally(() => {
            this.busy.delete(group);
            w.claimed.delete(t.id);
            this.running.delete(p);
            if (!w.drained) void this.pump(w);
          });
          this.running.add(p);
        }
        // Fewer than asked for, and all of them started: nothing else is ready.
        if (tasks.length < limit && started === tasks.length && skipped === 0 && w.wakes === wakes) {
          w.drained = true;
          break;
        }
        if (started === 0) break;
      }
    } catch (e) {
      w.drained = false;
      if (!this.app.closing) this.app.log.error({ region: w.region.name, err: (e as Error).message }, 'replication: claiming work failed');
    } finally {
      w.pumping = false;
      if (w.again) {
        w.again = false;
        void this.pump(w);
      }
    }
  }

  private async run(w: RegionWorkers, t: ReplicationTask): Promise<void> {
    const started = this.app.clock();
    let outcome: TaskOutcome;
    try {
      await this.replicate(w, t);
      outcome = { kind: 'done' };
    } catch (e) {
      const permanent = asPermanent(e);
      if (permanent) {
        outcome = { kind: 'failed', reason: permanent.reason, error: permanent.message };
      } else {
        outcome = { kind: 'retry', at: this.app.clock() + retryDelay(t.attempts), error: (e as Error).message ?? String(e) };
      }
    }
    try {
      // Settling may make the key's next version for this destination ready.
      if (await w.region.meta.settleReplicationTask(t, outcome)) this.wake(w);
    } catch (e) {
      // Not settled: the task is still pending and will be claimed again (writes are idempotent).
      if (!this.app.closing) this.app.log.error({ task: t.id, err: (e as Error).message }, 'replication: settling a task failed');
      return;
    }
    this.observer?.settled(t, outcome, started, this.app.clock());
    if (outcome.kind === 'failed') {
      this.app.log.warn({ bucket: t.bucket, key: t.key, versionId: t.versionId, destination: t.destination, reason: outcome.reason }, outcome.error);
    }
  }

  private async replicate(w: RegionWorkers, t: ReplicationTask): Promise<void> {
    const source = this.app.buckets.get(t.bucket);
    const v = source ? await source.region.meta.getVersion(t.bucket, t.key, t.versionId) : undefined;
    // The version was deleted by version id before it replicated: nothing is left to copy.
    if (!source || !v) return;
    // A site that cannot be asked throws SiteUnavailable: transient, retried.
    const d = await this.app.destinations.resolve(t.destination);
    if (!d) throw new ReplicationFailure('DstBucketNotFound', `destination bucket ${t.destination} does not exist here or at any configured site`);
    const versioning = await this.app.destinations.versioning(d);
    if (versioning === undefined) throw new ReplicationFailure('DstBucketNotFound', `destination bucket ${t.destination} does not exist`);
    if (versioning !== 'Enabled') {
      throw new ReplicationFailure('DstBucketUnversioned', `destination bucket ${t.destination} does not have versioning enabled`);
    }
    const grant = authorizeReplication(this.app, source, t, v, d);
    // The role's use of each KMS key is authorized right before the key is used. AWS names no
    // failure reason of its own for a missing KMS permission; the read or the write fails.
    const target = targetFor(this.app, d, {
      ruleId: t.ruleId,
      checkKey: (action, key, side) => {
        if (grant.kms(action, key)) return;
        // Encrypting the replica's data key: kms:Encrypt or kms:GenerateDataKey will do (spec §5.2
        // "kms:Encrypt and/or kms:GenerateDataKey"; the seeds grant only the latter).
        if (action !== 'kms:Decrypt' && grant.kms(action === 'kms:Encrypt' ? 'kms:GenerateDataKey' : 'kms:Encrypt', key)) return;
        const what = `the role ${source.replication?.role} is not allowed ${action} on ${key.arn}`;
        throw new ReplicationFailure(side === 'source' ? 'SrcGetObjectNotPermitted' : 'DstPutObjectNotPermitted', what);
      },
    });
    const replica = replicaView(source, t, v, d, grant.tags, this.app);
    switch (t.op) {
      case 'object': {
        const progress = {
          firstAttempt: t.attempts === 0 && t.progress === undefined,
          saved: t.progress,
          save: async (p: string | undefined) => {
            await w.region.meta.settleReplicationTask(t, { kind: 'progress', progress: p ?? '' });
          },
        };
        return target.writeVersion(source, replica, t.storageClass, progress);
      }
      case 'delete-marker':
        return target.writeDeleteMarker(replica);
      case 'metadata':
        return target.writeTags(replica);
    }
  }
}

/**
 * The version as the replica gets it: without tags when the role may not carry them, and owned
 * by the destination account when the rule translates ownership (AccessControlTranslation) or
 * the destination bucket enforces bucket-owner ownership (spec §2.3 Owner).
 */
function replicaView(source: BucketEntry, t: ReplicationTask, v: VersionRecord, d: Destination, tags: boolean, app: App): VersionRecord {
  let out = v;
  if (!tags && v.tags.length > 0) out = { ...out, tags: [] };
  const rule = source.replication?.rules.find((r) => r.id === t.ruleId);
  let owner: string | undefined;
  if (rule?.destination.accessControlTranslation && rule.destination.account) owner = rule.destination.account;
  else if (d.kind === 'local' && objectOwnership(app.buckets, d.bucket.record.name) === 'BucketOwnerEnforced') owner = d.bucket.record.owner;
  if (owner !== undefined && owner !== out.owner) out = { ...out, owner };
  return out;
}
