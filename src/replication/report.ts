/**
 * `replication status` and `replication verify`: what a bucket's replication backlog looks like
 * (pending work and lag per destination, every failure with its reason), and a consistency
 * check of source and destinations, version by version.
 */
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { App } from '../app.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { Destination } from './sites.js';

export interface StatusReport {
  bucket: string;
  configured: boolean;
  pending: { operations: number; bytes: number; oldestAgeSeconds: number };
  destinations: Array<{ destination: string; ruleId: string; pendingOperations: number; pendingBytes: number; lagSeconds: number; failed: number }>;
  /** Failed versions, oldest first (at most MAX_LISTED; `failedTotal` counts them all). */
  failed: Array<{ key: string; versionId: string; destination: string; ruleId: string; op: string; reason: string; error?: string; attempts: number }>;
  failedTotal: number;
  /** Pending tasks that have been retried: a destination that is down, or slow. */
  retrying: Array<{ key: string; destination: string; attempts: number; error?: string }>;
}

/** Individual failures and retries listed by `status`; totals are always complete. */
const MAX_LISTED = 1000;

export async function statusReport(bucket: BucketEntry, now: number): Promise<StatusReport> {
  const name = bucket.record.name;
  const meta = bucket.region.meta;
  const summary = await meta.replicationSummary(name);
  const age = (t: number | undefined) => (t === undefined ? 0 : Math.max(0, (now - t) / 1000));
  const round = (s: number) => Math.round(s * 1000) / 1000;
  const failed = await meta.replicationTasks({ bucket: name, status: 'failed', limit: MAX_LISTED });
  const retrying = await meta.replicationTasks({ bucket: name, status: 'pending', retryingOnly: true, limit: 100 });
  return {
    bucket: name,
    configured: bucket.replication !== undefined,
    pending: {
      operations: summary.reduce((n, r) => n + r.pendingOperations, 0),
      bytes: summary.reduce((n, r) => n + r.pendingBytes, 0),
      oldestAgeSeconds: round(Math.max(0, ...summary.map((r) => age(r.oldestPendingAt)))),
    },
    destinations: summary.map((r) => ({
      destination: r.destination,
      ruleId: r.ruleId,
      pendingOperations: r.pendingOperations,
      pendingBytes: r.pendingBytes,
      lagSeconds: round(age(r.oldestPendingAt)),
      failed: r.failed,
    })),
    failed: failed.map((f) => ({
      key: f.key,
      versionId: f.versionId,
      destination: f.destination,
      ruleId: f.ruleId,
      op: f.op,
      reason: f.failureReason ?? 'unknown',
      error: f.lastError,
      attempts: f.attempts,
    })),
    failedTotal: summary.reduce((n, r) => n + r.failed, 0),
    retrying: retrying.map((p) => ({ key: p.key, destination: p.destination, attempts: p.attempts, error: p.lastError })),
  };
}

/** One version as the consistency check compares it. */
interface Seen {
  versionId: string;
  etag: string;
  size: number;
  deleteMarker: boolean;
}

export interface VerifyReport {
  bucket: string;
  /** Source versions compared with their destinations. */
  checked: number;
  pending: number;
  failed: number;
  differences: Array<{ key: string; versionId?: string; destination: string; problem: string }>;
}

/** All versions of a destination bucket, per key, newest first. */
async function destinationVersions(d: Destination, name: string): Promise<Map<string, Seen[]>> {
  const out = new Map<string, Seen[]>();
  const add = (key: string, s: Seen) => {
    const list = out.get(key) ?? [];
    list.push(s);
    out.set(key, list);
  };
  if (d.kind === 'local') {
    let from: { key: string; afterSeq?: number; inclusiveKey: boolean } | undefined;
    for (;;) {
      const page = await d.bucket.region.meta.scanVersions(name, '', from, 1000);
      for (const v of page) add(v.key, { versionId: v.versionId, etag: v.etag, size: v.size, deleteMarker: v.isDeleteMarker });
      if (page.length < 1000) return out;
      const last = page[page.length - 1]!;
      from = { key: last.key, afterSeq: last.seq, inclusiveKey: false };
    }
  }
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const r = await d.site.client(d.region).send(
      new ListObjectVersionsCommand({ Bucket: name, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
    );
    // Versions and delete markers come back in two lists; their order within a key is
    // restored below from the source's order, so only membership is taken from here.
    for (const v of r.Versions ?? []) add(v.Key!, { versionId: v.VersionId!, etag: (v.ETag ?? '').replace(/"/g, ''), size: v.Size ?? 0, deleteMarker: false });
    for (const m of r.DeleteMarkers ?? []) add(m.Key!, { versionId: m.VersionId!, etag: '', size: 0, deleteMarker: true });
    if (!r.IsTruncated) break;
    keyMarker = r.NextKeyMarker;
    versionMarker = r.NextVersionIdMarker;
  }
  return out;
}

/**
 * Compares every replicated version of the source with each destination it was sent to: it
 * must be there with the same id, ETag, size and kind, and the versions of a key must be in the
 * same order on both sides. Pending versions are counted, not compared; failed ones are counted.
 */
export async function verifyReplication(app: App, bucket: BucketEntry): Promise<VerifyReport> {
  const name = bucket.record.name;
  const report: VerifyReport = { bucket: name, checked: 0, pending: 0, failed: 0, differences: [] };
  const perKey = new Map<string, Array<{ versionId: string; seen: Seen; destinations: string[] }>>();
  let from: { key: string; afterSeq?: number; inclusiveKey: boolean } | undefined;
  for (;;) {
    const page = await bucket.region.meta.scanVersions(name, '', from, 1000);
    for (const lv of page) {
      const v = await bucket.region.meta.getVersion(name, lv.key, lv.versionId);
      if (!v || v.isReplica || !v.replicationStatus) continue;
      if (v.replicationStatus === 'PENDING') report.pending++;
      if (v.replicationStatus === 'FAILED') report.failed++;
      if (v.replicationStatus !== 'COMPLETED') continue;
      report.checked++;
      const list = perKey.get(v.key) ?? [];
      list.push({
        versionId: v.versionId,
        seen: { versionId: v.versionId, etag: v.etag, size: v.size, deleteMarker: v.isDeleteMarker },
        destinations: (v.replicationDestinations ?? []).map((d) => d.destination),
      });
      perKey.set(v.key, list);
    }
    if (page.length < 1000) break;
    const last = page[page.length - 1]!;
    from = { key: last.key, afterSeq: last.seq, inclusiveKey: false };
  }
  // A FAILED version is missing at a destination: a difference, with its reason.
  for (const f of await bucket.region.meta.replicationTasks({ bucket: name, status: 'failed', limit: Number.MAX_SAFE_INTEGER })) {
    report.differences.push({ key: f.key, versionId: f.versionId, destination: f.destination, problem: `replication FAILED (${f.failureReason ?? 'unknown'})` });
  }
  const destinations = new Set<string>();
  for (const list of perKey.values()) for (const e of list) for (const d of e.destinations) destinations.add(d);
  for (const destName of destinations) {
    const d = await app.destinations.resolve(destName);
    if (!d) {
      report.differences.push({ key: '', destination: destName, problem: 'destination bucket not found' });
      continue;
    }
    const there = await destinationVersions(d, destName);
    for (const [key, list] of perKey) {
      const sent = list.filter((e) => e.destinations.includes(destName));
      const remote = there.get(key) ?? [];
      const byId = new Map(remote.map((s) => [s.versionId, s]));
      for (const e of sent) {
        const r = byId.get(e.versionId);
        if (!r) report.differences.push({ key, versionId: e.versionId, destination: destName, problem: 'missing at the destination' });
        else if (r.deleteMarker !== e.seen.deleteMarker) {
          report.differences.push({ key, versionId: e.versionId, destination: destName, problem: 'a delete marker on one side only' });
        } else if (!e.seen.deleteMarker && (r.etag !== e.seen.etag || r.size !== e.seen.size)) {
          report.differences.push({
            key,
            versionId: e.versionId,
            destination: destName,
            problem: `content differs (source ETag ${e.seen.etag}, ${e.seen.size} bytes; destination ${r.etag}, ${r.size} bytes)`,
          });
        }
      }
      // Replicated versions keep the source's order. A remote listing returns versions and
      // delete markers in two lists, so there only the versions' order is comparable.
      const comparable = (s: { deleteMarker: boolean }) => d.kind === 'local' || !s.deleteMarker;
      const order = remote.filter(comparable).map((s) => s.versionId).filter((id) => sent.some((e) => e.versionId === id));
      const expected = sent.filter((e) => comparable(e.seen) && byId.has(e.versionId)).map((e) => e.versionId);
      if (order.join() !== expected.join()) {
        report.differences.push({ key, destination: destName, problem: 'versions are in a different order than at the source' });
      }
    }
  }
  return report;
}
