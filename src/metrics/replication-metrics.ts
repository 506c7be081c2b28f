/**
 * Replication metrics in Prometheus form, with the meanings of AWS's S3 replication metrics,
 * labelled like AWS's dimensions (source bucket, destination bucket, rule id):
 *   ReplicationLatency            → xregion_replication_latency_seconds (gauge: age of the oldest pending operation)
 *   BytesPendingReplication       → xregion_replication_bytes_pending (gauge)
 *   OperationsPendingReplication  → xregion_replication_operations_pending (gauge)
 *   OperationsFailedReplication   → xregion_replication_operations_failed_total (counter)
 * and Replication Time Control accounting (15-minute threshold), per rule with RTC enabled:
 *   xregion_replication_operations_missed_threshold_total      (still pending after 15 minutes)
 *   xregion_replication_operations_replicated_after_threshold_total
 * Pending figures are read from the outboxes at scrape time, so they are exact.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { App } from '../app.js';
import type { ReplicationObserver } from '../replication/observer.js';
import type { ReplicationTask, TaskOutcome } from '../storage/types.js';

const RTC_THRESHOLD_MS = 15 * 60 * 1000;
const LABELS = ['source_bucket', 'destination_bucket', 'rule_id'] as const;

export class ReplicationMetrics implements ReplicationObserver {
  readonly registry = new Registry();
  private readonly failed: Counter<(typeof LABELS)[number]>;
  private readonly replicated: Counter<(typeof LABELS)[number]>;
  private readonly duration: Histogram<(typeof LABELS)[number]>;
  private readonly missed: Counter<(typeof LABELS)[number]>;
  private readonly afterThreshold: Counter<(typeof LABELS)[number]>;
  /** Pending RTC operations already counted as having missed the threshold. */
  private readonly missedIds = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly app: App) {
    const labelNames = [...LABELS];
    const registers = [this.registry];
    // The outboxes aggregate in SQL: a scrape costs the number of (bucket, destination, rule)
    // groups, not the size of the backlog.
    const collectPending = async () => {
      const now = app.clock();
      const rows: Array<{ labels: Record<string, string>; ops: number; bytes: number; oldest: number }> = [];
      for (const region of app.regions.values()) {
        for (const s of await region.meta.replicationSummary()) {
          rows.push({
            labels: { source_bucket: s.bucket, destination_bucket: s.destination, rule_id: s.ruleId },
            ops: s.pendingOperations,
            bytes: s.pendingBytes,
            oldest: s.oldestPendingAt === undefined ? 0 : Math.max(0, (now - s.oldestPendingAt) / 1000),
          });
        }
      }
      return rows;
    };
    new Gauge({
      name: 'xregion_replication_operations_pending',
      help: 'Operations (objects, delete markers, tag changes) pending replication (AWS OperationsPendingReplication).',
      labelNames,
      registers,
      async collect() {
        this.reset();
        for (const r of await collectPending()) this.set(r.labels, r.ops);
      },
    });
    new Gauge({
      name: 'xregion_replication_bytes_pending',
      help: 'Bytes of objects pending replication (AWS BytesPendingReplication).',
      labelNames,
      registers,
      async collect() {
        this.reset();
        for (const r of await collectPending()) this.set(r.labels, r.bytes);
      },
    });
    new Gauge({
      name: 'xregion_replication_latency_seconds',
      help: 'How far the destination is behind the source: age of the oldest pending operation (AWS ReplicationLatency).',
      labelNames,
      registers,
      async collect() {
        this.reset();
        for (const r of await collectPending()) this.set(r.labels, r.oldest);
      },
    });
    this.failed = new Counter({
      name: 'xregion_replication_operations_failed_total',
      help: 'Operations that failed to replicate, live or batch (AWS OperationsFailedReplication).',
      labelNames,
      registers,
    });
    this.replicated = new Counter({ name: 'xregion_replication_operations_replicated_total', help: 'Operations replicated.', labelNames, registers });
    this.duration = new Histogram({
      name: 'xregion_replication_time_seconds',
      help: 'Time from the source write to the replica being written.',
      labelNames,
      registers,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    });
    this.missed = new Counter({
      name: 'xregion_replication_operations_missed_threshold_total',
      help: 'RTC operations still pending after the 15-minute threshold (AWS s3:Replication:OperationMissedThreshold).',
      labelNames,
      registers,
    });
    this.afterThreshold = new Counter({
      name: 'xregion_replication_operations_replicated_after_threshold_total',
      help: 'RTC operations replicated after the 15-minute threshold (AWS s3:Replication:OperationReplicatedAfterThreshold).',
      labelNames,
      registers,
    });
    this.timer = setInterval(() => void this.checkThresholds(), 10_000);
    this.timer.unref();
  }

  private labels(t: { bucket: string; destination: string; ruleId: string }) {
    return { source_bucket: t.bucket, destination_bucket: t.destination, rule_id: t.ruleId };
  }

  settled(t: ReplicationTask, outcome: TaskOutcome, _startedAt: number, endedAt: number): void {
    const labels = this.labels(t);
    const region = this.app.buckets.get(t.bucket)?.region.name;
    if (outcome.kind === 'failed' || outcome.kind === 'done') this.missedIds.delete(`${region}:${t.id}`);
    if (outcome.kind === 'failed') {
      this.failed.inc(labels);
    } else if (outcome.kind === 'done') {
      this.replicated.inc(labels);
      const seconds = (endedAt - t.createdAt) / 1000;
      this.duration.observe(labels, seconds);
      if (t.rtc && endedAt - t.createdAt > RTC_THRESHOLD_MS) this.afterThreshold.inc(labels);
    }
  }

  /** Counts each pending RTC operation once when it passes the threshold. */
  async checkThresholds(): Promise<void> {
    const before = this.app.clock() - RTC_THRESHOLD_MS;
    for (const region of this.app.regions.values()) {
      for (const p of await region.meta.overdueRtcTasks(before, 10_000)) {
        // Task ids are per region (each has its own outbox).
        const id = `${region.name}:${p.id}`;
        if (this.missedIds.has(id)) continue;
        this.missedIds.add(id);
        this.missed.inc(this.labels(p));
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
