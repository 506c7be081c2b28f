import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteMetadataStore } from '../../src/storage/metadata/sqlite-store.js';
import type { JobRecord, NewVersion, ReplicationTaskInput } from '../../src/storage/types.js';

let dir: string;
let store: SqliteMetadataStore;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-batch-store-'));
  store = new SqliteMetadataStore('us-east-1', path.join(dir, 'metadata.db'));
  await store.createBucket({ name: 'src', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: 'Enabled' });
});

after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function job(id: string, over: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    account: '000000000000',
    status: 'New',
    priority: 10,
    createdAt: 1000,
    clientToken: `token-${id}`,
    requestHash: 'h',
    spec: '{}',
    state: '{}',
    ...over,
  };
}

function version(key: string, versionId: string, over: Partial<NewVersion> = {}): NewVersion {
  return {
    bucket: 'src',
    key,
    versionId,
    isDeleteMarker: false,
    size: 3,
    etag: 'e',
    lastModified: 5,
    storageClass: 'STANDARD',
    owner: '000000000000',
    meta: { user: {} },
    tags: [['t', '1']],
    data: { kind: 'inline', bytes: Buffer.from('abc') },
    ...over,
  };
}

const TASK: ReplicationTaskInput = { destination: 'dst', ruleId: 'r', op: 'object', rtc: false, metrics: false };

describe('MetadataStore: batch jobs', () => {
  it('keeps one job per (account, client token), and lists newest first with filters and paging', async () => {
    const a = await store.putNewJob(job('a', { createdAt: 1 }));
    assert.equal(a.id, 'a');
    const again = await store.putNewJob(job('other', { clientToken: 'token-a', requestHash: 'different' }));
    assert.equal(again.id, 'a', 'the stored job of the token is answered');
    assert.equal(again.requestHash, 'h');
    await store.putNewJob(job('b', { createdAt: 2, status: 'Complete' }));
    await store.putNewJob(job('c', { createdAt: 2 }));
    await store.putNewJob(job('d', { createdAt: 3, account: '111122223333' }));
    const ids = async (q: Parameters<typeof store.listJobs>[0]) => (await store.listJobs(q)).map((j) => j.id);
    assert.deepEqual(await ids({ account: '000000000000', limit: 10 }), ['c', 'b', 'a']);
    assert.deepEqual(await ids({ limit: 10 }), ['d', 'c', 'b', 'a']);
    assert.deepEqual(await ids({ account: '000000000000', statuses: ['Complete'], limit: 10 }), ['b']);
    assert.deepEqual(await ids({ account: '000000000000', after: { createdAt: 2, id: 'c' }, limit: 10 }), ['b', 'a']);
    assert.deepEqual(await ids({ account: '000000000000', limit: 1 }), ['c']);
  });

  it('updates status and state by compare-and-set, and priority', async () => {
    await store.putNewJob(job('cas'));
    assert.equal(await store.updateJob('cas', 'New', 'Preparing', '{"x":1}'), true);
    assert.equal(await store.updateJob('cas', 'New', 'Active', '{}'), false);
    assert.equal(await store.setJobPriority('cas', 99), true);
    const j = await store.getJob('cas');
    assert.equal(j?.status, 'Preparing');
    assert.equal(j?.state, '{"x":1}');
    assert.equal(j?.priority, 99);
    assert.equal(await store.getJob('nope'), undefined);
  });

  it('runs tasks through the outbox: done → succeeded, failed → failed with the reason; re-driving drops old failures', async () => {
    await store.putVersion(version('k1', 'v1'), { replaceNull: false });
    await store.putVersion(version('k2', 'v2'), { replaceNull: false });
    await store.putNewJob(job('run'));
    await store.addJobTasks('run', [
      { seq: 0, bucket: 'src', key: 'k1', versionId: 'v1' },
      { seq: 1, bucket: 'src', key: 'k2' },
      { seq: 2, bucket: 'src', key: 'gone', versionId: 'x' },
    ]);
    assert.deepEqual(await store.jobTaskCounts('run'), { total: 3, queued: 3, running: 0, succeeded: 0, failed: 0 });
    assert.equal(await store.startJobTask('run', 0, 'v1', [TASK]), true);
    assert.equal(await store.startJobTask('run', 1, 'v2', [TASK]), true);
    assert.equal(await store.startJobTask('run', 2, 'x', [TASK]), false, 'no such version');
    await store.finishJobTask('run', 2, { status: 'failed', errorCode: 'SrcVersionNotFound', httpStatus: 404, message: 'gone' });
    assert.equal((await store.getVersion('src', 'k1', 'v1'))?.replicationStatus, 'PENDING');
    assert.deepEqual((await store.getVersion('src', 'k1', 'v1'))?.replicationDestinations, [{ destination: 'dst', ruleId: 'r' }]);
    assert.equal(await store.settleJobTasks('run', 100), 0, 'nothing settled while the outbox rows are pending');

    const ready = await store.readyReplicationTasks(Date.now() + 1000, 10);
    const t1 = ready.find((t) => t.key === 'k1')!;
    const t2 = ready.find((t) => t.key === 'k2')!;
    assert.equal(t1.batchJob, 'run');
    // Tasks the caller has claimed are left out, the rest come in the same order.
    const unclaimed = await store.readyReplicationTasks(Date.now() + 1000, 10, [t1.id]);
    assert.deepEqual(unclaimed.map((t) => t.id), ready.filter((t) => t.id !== t1.id).map((t) => t.id));
    assert.deepEqual(await store.readyReplicationTasks(Date.now() + 1000, 10, new Set(ready.map((t) => t.id))), []);
    await store.settleReplicationTask(t1, { kind: 'done' });
    await store.settleReplicationTask(t2, { kind: 'failed', reason: 'DstBucketUnversioned', error: 'not versioned' });
    assert.equal(await store.settleJobTasks('run', 100), 2);
    const succeeded = await store.jobTasks('run', 'succeeded', -1, 10);
    const failed = await store.jobTasks('run', 'failed', -1, 10);
    assert.deepEqual(succeeded.map((t) => [t.seq, t.versionId, t.httpStatus, t.message]), [[0, 'v1', 200, 'Successful']]);
    assert.deepEqual(failed.map((t) => [t.seq, t.errorCode, t.message]), [
      [1, 'DstBucketUnversioned', 'not versioned'],
      [2, 'SrcVersionNotFound', 'gone'],
    ]);
    assert.equal(failed[0]!.versionId, 'v2', 'the version resolved when the task started');
    assert.equal((await store.getVersion('src', 'k1', 'v1'))?.replicationStatus, 'COMPLETED');
    assert.equal((await store.getVersion('src', 'k2', 'v2'))?.replicationStatus, 'FAILED');

    // Once that job has ended, another job re-drives k2: the earlier failure is dropped, the
    // version is PENDING, then COMPLETED.
    assert.equal(await store.updateJob('run', 'New', 'Complete', '{}'), true);
    await store.putNewJob(job('redrive'));
    await store.addJobTasks('redrive', [{ seq: 0, bucket: 'src', key: 'k2', versionId: 'v2' }]);
    assert.equal(await store.startJobTask('redrive', 0, 'v2', [TASK]), true);
    assert.equal((await store.getVersion('src', 'k2', 'v2'))?.replicationStatus, 'PENDING');
    const t3 = (await store.readyReplicationTasks(Date.now() + 1000, 10)).find((t) => t.batchJob === 'redrive')!;
    await store.settleReplicationTask(t3, { kind: 'done' });
    assert.equal(await store.settleJobTasks('redrive', 100), 1);
    assert.equal((await store.getVersion('src', 'k2', 'v2'))?.replicationStatus, 'COMPLETED');
    assert.deepEqual(await store.jobTaskCounts('redrive'), { total: 1, queued: 0, running: 0, succeeded: 1, failed: 0 });

    await store.clearJobTasks('run');
    assert.equal((await store.jobTaskCounts('run')).total, 0);
  });

  it("never drops the failure of a job that is still running: its task ends failed, not succeeded", async () => {
    await store.putVersion(version('k3', 'v3'), { replaceNull: false });
    await store.putNewJob(job('first', { status: 'Active' }));
    await store.addJobTasks('first', [{ seq: 0, bucket: 'src', key: 'k3', versionId: 'v3' }]);
    assert.equal(await store.startJobTask('first', 0, 'v3', [TASK]), true);
    const mine = (await store.readyReplicationTasks(Date.now() + 1000, 100)).find((t) => t.batchJob === 'first')!;
    await store.settleReplicationTask(mine, { kind: 'failed', reason: 'DstBucketUnversioned', error: 'not versioned' });
    // A second job starts the same version before the first one has settled its task.
    await store.putNewJob(job('second', { status: 'Active' }));
    await store.addJobTasks('second', [{ seq: 0, bucket: 'src', key: 'k3', versionId: 'v3' }]);
    assert.equal(await store.startJobTask('second', 0, 'v3', [TASK]), true);
    assert.equal(await store.settleJobTasks('first', 100), 1);
    assert.deepEqual(await store.jobTaskCounts('first'), { total: 1, queued: 0, running: 0, succeeded: 0, failed: 1 });
    assert.equal((await store.jobTasks('first', 'failed', -1, 10))[0]?.errorCode, 'DstBucketUnversioned');
    const theirs = (await store.readyReplicationTasks(Date.now() + 1000, 100)).find((t) => t.batchJob === 'second')!;
    await store.settleReplicationTask(theirs, { kind: 'done' });
    assert.equal(await store.settleJobTasks('second', 100), 1);
    assert.deepEqual(await store.jobTaskCounts('second'), { total: 1, queued: 0, running: 0, succeeded: 1, failed: 0 });
  });

  it('scans versions with their facts, keys ascending and oldest first, from a position', async () => {
    await store.createBucket({ name: 'scan', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: 'Enabled' });
    for (const [k, v] of [['a', '1'], ['a', '2'], ['b', '3'], ['p/x', '4'], ['p/y', '5']]) {
      await store.putVersion(version(k!, v!, { bucket: 'scan', isDeleteMarker: v === '2', size: Number(v) }), { replaceNull: false });
    }
    const all = await store.scanVersionFacts('scan', '', undefined, 100);
    assert.deepEqual(all.map((f) => `${f.key}@${f.versionId}`), ['a@1', 'a@2', 'b@3', 'p/x@4', 'p/y@5']);
    assert.deepEqual(all[0], { ...all[0], isLatest: false, isDeleteMarker: false, size: 1, tags: [['t', '1']], isReplica: false });
    assert.equal(all[1]!.isDeleteMarker, true);
    const first = await store.scanVersionFacts('scan', '', undefined, 1);
    const rest = await store.scanVersionFacts('scan', '', { key: first[0]!.key, seq: first[0]!.seq }, 3);
    assert.deepEqual(rest.map((f) => `${f.key}@${f.versionId}`), ['a@2', 'b@3', 'p/x@4']);
    assert.deepEqual((await store.scanVersionFacts('scan', 'p/', undefined, 100)).map((f) => f.key), ['p/x', 'p/y']);
  });
});

describe('MetadataStore: group commit', () => {
  it('rolls back a write that throws midway alone; the other writes of its batch commit', async () => {
    await store.createBucket({ name: 'batch', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: 'Enabled' });
    await store.putVersion(version('k', 'v1', { bucket: 'batch' }), { replaceNull: false });
    // Issued in one turn of the event loop: one batch, one transaction. The failing write has
    // already cleared the key's latest flag when it throws (replicationFor runs after that).
    const results = await Promise.allSettled([
      store.putVersion(version('a', 'x1', { bucket: 'batch' }), { replaceNull: false }),
      store.putVersion(version('k', 'v2', { bucket: 'batch' }), {
        replaceNull: false,
        replicationFor: () => {
          throw new Error('boom');
        },
      }),
      store.putVersion(version('z', 'x2', { bucket: 'batch' }), { replaceNull: false }),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(((results[1] as PromiseRejectedResult).reason as Error).message, 'boom');
    const current = await store.scanCurrent('batch', '', undefined, 10);
    assert.deepEqual(current.map((c) => `${c.key}@${c.versionId}`), ['a@x1', 'k@v1', 'z@x2']);
    assert.equal(await store.getVersion('batch', 'k', 'v2'), undefined);
  });
});

describe('MetadataStore: replication outbox', () => {
  it('says when settling a task made the key’s next version ready for the destination', async () => {
    await store.createBucket({ name: 'order', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: 'Enabled' });
    const withTask = { replaceNull: false, replicationFor: () => [TASK] };
    await store.putVersion(version('k', 'o1', { bucket: 'order' }), withTask);
    await store.putVersion(version('k', 'o2', { bucket: 'order' }), withTask);
    const ready = () => store.readyReplicationTasks(Date.now() + 1000, 100).then((ts) => ts.filter((t) => t.bucket === 'order'));
    const [first, ...none] = await ready();
    assert.equal(first?.versionId, 'o1');
    assert.equal(none.length, 0, 'o2 waits behind o1');
    assert.equal(await store.settleReplicationTask(first!, { kind: 'retry', at: 0, error: 'later' }), false, 'a retry releases nothing');
    assert.equal(await store.settleReplicationTask(first!, { kind: 'done' }), true, 'o2 released');
    const [second] = await ready();
    assert.equal(second?.versionId, 'o2');
    assert.equal(await store.settleReplicationTask(second!, { kind: 'failed', reason: 'DstBucketNotFound', error: 'gone' }), false, 'nothing waits behind o2');
    assert.deepEqual(await ready(), []);
  });

  it('gives a task a new id even after the highest one was settled, and signals it once durable', async () => {
    // A store of its own: the outbox must be empty for SQLite to reuse the highest rowid.
    const own = new SqliteMetadataStore('us-east-1', path.join(dir, 'own.db'));
    try {
      await own.createBucket({ name: 'b', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: 'Enabled' });
      let signals = 0;
      own.onReplicationWork = () => signals++;
      const withTask = { replaceNull: false, replicationFor: () => [TASK] };
      await own.putVersion(version('k1', 'v1', { bucket: 'b' }), withTask);
      assert.equal(signals, 1);
      const [first] = await own.readyReplicationTasks(Date.now() + 1000, 10);
      await own.settleReplicationTask(first!, { kind: 'done' });
      await own.putVersion(version('k2', 'v2', { bucket: 'b' }), withTask);
      // The engine claims only tasks whose commit is on disk, by id: a reused id would be taken
      // for an old, durable one (and never signalled).
      assert.equal(signals, 2, 'the new task is signalled');
      const [second] = await own.readyReplicationTasks(Date.now() + 1000, 10);
      assert.equal(second?.versionId, 'v2');
      assert.ok(second!.id > first!.id, `id ${second!.id} after ${first!.id}`);
    } finally {
      await own.close();
    }
  });
});
