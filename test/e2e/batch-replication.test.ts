/**
 * S3 Batch Replication end to end (spec §7), against real server processes: CreateJob,
 * DescribeJob, ListJobs, UpdateJobStatus through the S3 Control API (SigV4-signed raw requests,
 * boto3 and the aws CLI), jobs over objects that existed before the replication configuration,
 * re-driving FAILED objects, CSV manifests, buckets without a configuration, idempotency
 * tokens, the completion report, restarts and a kill -9 mid-job, and the `replication batch`
 * CLI.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';
import { bucketName, ROOT, run, startServer, tempDir, type TestServer } from '../helpers/server.js';
import { bodyBytes, md5hex, signedSend, sleep, type RawResponse } from '../helpers/s3http.js';
import { ensureRoles } from '../helpers/iam.js';

const ACCOUNT = '000000000000';
const NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';
const ROLE = 'arn:aws:iam::000000000000:role/batch';
/** The role of the replication configurations below; replication runs as it, so it must exist. */
const REPLICATION_ROLE = 'arn:aws:iam::000000000000:role/replication';
const TERMINAL = new Set(['Complete', 'Failed', 'Cancelled']);

const parser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, isArray: (n) => n === 'member' });

let server: TestServer;
let s3: S3Client;
let west: S3Client;
const servers: TestServer[] = [];

before(async () => {
  server = await startServer();
  servers.push(server);
  await ensureRoles(server, [REPLICATION_ROLE, ROLE]);
  s3 = server.client();
  west = server.client({ region: 'us-west-2' });
});

after(async () => {
  for (const s of servers) await s.stop();
});

// ---------------------------------------------------------------------------------------------
// S3 Control requests

interface ControlAnswer extends RawResponse {
  doc: Record<string, any>;
}

async function control(
  method: string,
  p: string,
  o: { query?: Record<string, string>; body?: string; account?: string | null; region?: string; host?: string; srv?: TestServer } = {},
): Promise<ControlAnswer> {
  const srv = o.srv ?? server;
  const headers: Record<string, string> = {};
  if (o.account !== null) headers['x-amz-account-id'] = o.account ?? ACCOUNT;
  if (o.body !== undefined) headers['content-type'] = 'application/xml';
  const r = await signedSend(
    srv.port,
    { method, path: p, query: o.query, headers, body: o.body, host: o.host },
    { region: o.region ?? 'us-east-1' },
  );
  return { ...r, doc: r.text ? (parser.parse(r.text) as Record<string, any>) : {} };
}

interface JobOptions {
  token?: string;
  priority?: number | null;
  role?: string | null;
  operation?: string;
  report?: string;
  confirmation?: boolean;
  description?: string;
  source: string;
}

function jobXml(o: JobOptions): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><CreateJobRequest xmlns="${NS}">` +
    (o.confirmation !== undefined ? `<ConfirmationRequired>${o.confirmation}</ConfirmationRequired>` : '') +
    `<Operation>${o.operation ?? '<S3ReplicateObject/>'}</Operation>` +
    (o.report ?? '<Report><Enabled>false</Enabled></Report>') +
    `<ClientRequestToken>${o.token ?? randomUUID()}</ClientRequestToken>` +
    o.source +
    (o.description ? `<Description>${o.description}</Description>` : '') +
    (o.priority === null ? '' : `<Priority>${o.priority ?? 10}</Priority>`) +
    (o.role === null ? '' : `<RoleArn>${o.role ?? ROLE}</RoleArn>`) +
    '</CreateJobRequest>'
  );
}

const members = (name: string, items: string[]) => `<${name}>${items.map((i) => `<member>${i}</member>`).join('')}</${name}>`;

function generator(bucket: string, filter = '', output = ''): string {
  return (
    `<ManifestGenerator><S3JobManifestGenerator><SourceBucket>arn:aws:s3:::${bucket}</SourceBucket>${output}` +
    (filter ? `<Filter>${filter}</Filter>` : '') +
    `<EnableManifestOutput>${output ? 'true' : 'false'}</EnableManifestOutput></S3JobManifestGenerator></ManifestGenerator>`
  );
}

function csvManifest(bucket: string, key: string, etag: string, fields = ['Bucket', 'Key', 'VersionId']): string {
  return (
    `<Manifest><Spec><Format>S3BatchOperations_CSV_20180820</Format>${members('Fields', fields)}</Spec>` +
    `<Location><ObjectArn>arn:aws:s3:::${bucket}/${key}</ObjectArn><ETag>${etag}</ETag></Location></Manifest>`
  );
}

function report(bucket: string, prefix?: string, scope = 'AllTasks'): string {
  return (
    `<Report><Bucket>arn:aws:s3:::${bucket}</Bucket><Format>Report_CSV_20180820</Format><Enabled>true</Enabled>` +
    (prefix ? `<Prefix>${prefix}</Prefix>` : '') +
    `<ReportScope>${scope}</ReportScope></Report>`
  );
}

async function createJob(o: JobOptions, srv?: TestServer): Promise<string> {
  const r = await control('POST', '/v20180820/jobs', { body: jobXml(o), srv });
  assert.equal(r.status, 200, r.text);
  const id = r.doc.CreateJobResult?.JobId;
  assert.match(String(id), /^[a-zA-Z0-9\-_]{5,36}$/);
  return String(id);
}

async function describeJob(id: string, srv?: TestServer): Promise<Record<string, any>> {
  const r = await control('GET', `/v20180820/jobs/${id}`, { srv });
  assert.equal(r.status, 200, r.text);
  return r.doc.DescribeJobResult.Job;
}

async function waitJob(id: string, srv?: TestServer, timeoutMs = 30_000): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const j = await describeJob(id, srv);
    if (TERMINAL.has(j.Status)) return j;
    if (Date.now() > until) assert.fail(`job ${id} still ${j.Status} after ${timeoutMs} ms: ${JSON.stringify(j)}`);
    await sleep(100);
  }
}

async function waitStatus(id: string, statuses: string[], srv?: TestServer): Promise<Record<string, any>> {
  const until = Date.now() + 20_000;
  for (;;) {
    const j = await describeJob(id, srv);
    if (statuses.includes(j.Status)) return j;
    if (Date.now() > until) assert.fail(`job ${id} is ${j.Status}, expected one of ${statuses.join(', ')}`);
    await sleep(50);
  }
}

const progress = (j: Record<string, any>) => ({
  total: Number(j.ProgressSummary.TotalNumberOfTasks),
  succeeded: Number(j.ProgressSummary.NumberOfTasksSucceeded),
  failed: Number(j.ProgressSummary.NumberOfTasksFailed),
});

// ---------------------------------------------------------------------------------------------
// S3 helpers

async function versioned(name: string, region = 'us-east-1', c = s3): Promise<void> {
  await c.send(
    new CreateBucketCommand({
      Bucket: name,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  await c.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

async function replicate(src: string, dst: string, extra: Record<string, unknown> = {}): Promise<void> {
  await s3.send(
    new PutBucketReplicationCommand({
      Bucket: src,
      ReplicationConfiguration: {
        Role: REPLICATION_ROLE,
        Rules: [
          {
            ID: 'all',
            Priority: 1,
            Filter: {},
            Status: 'Enabled',
            DeleteMarkerReplication: { Status: 'Enabled' },
            Destination: { Bucket: `arn:aws:s3:::${dst}` },
            ...extra,
          },
        ],
      },
    }),
  );
}

async function put(bucket: string, key: string, body: string, c = s3): Promise<string> {
  const r = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return r.VersionId!;
}

async function replicationStatus(bucket: string, key: string, versionId: string, c = s3): Promise<string | undefined> {
  const h = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return h.ReplicationStatus;
}

async function waitReplicationStatus(bucket: string, key: string, versionId: string, want: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const s = await replicationStatus(bucket, key, versionId);
    if (s === want) return;
    if (Date.now() > until) assert.fail(`${bucket}/${key}@${versionId} is ${s}, expected ${want}`);
    await sleep(50);
  }
}

/** Every version and delete marker of a bucket in listing order: [key, versionId, isMarker]. */
async function allVersions(bucket: string, c = s3): Promise<Array<[string, string, boolean]>> {
  const out: Array<[string, string, boolean, number]> = [];
  let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const r = await c.send(new ListObjectVersionsCommand({ Bucket: bucket, ...marker }));
    for (const v of r.Versions ?? []) out.push([v.Key!, v.VersionId!, false, v.LastModified!.getTime()]);
    for (const d of r.DeleteMarkers ?? []) out.push([d.Key!, d.VersionId!, true, d.LastModified!.getTime()]);
    if (!r.IsTruncated) break;
    marker = { KeyMarker: r.NextKeyMarker, VersionIdMarker: r.NextVersionIdMarker };
  }
  return out
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v, m]) => [k, v, m]);
}

async function getText(bucket: string, key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await bodyBytes(r.Body)).toString('utf8');
}

function csvRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const out: string[] = [];
      let f = '';
      let q = false;
      for (let i = 0; i < l.length; i++) {
        const ch = l[i]!;
        if (q) {
          if (ch === '"' && l[i + 1] === '"') {
            f += '"';
            i++;
          } else if (ch === '"') q = false;
          else f += ch;
        } else if (ch === '"') q = true;
        else if (ch === ',') {
          out.push(f);
          f = '';
        } else f += ch;
      }
      out.push(f);
      return out;
    });
}

interface ReportFiles {
  manifest: { Format: string; ReportCreationDate: string; Results: Array<{ TaskExecutionStatus: string; Bucket: string; MD5Checksum: string; Key: string }>; ReportSchema: string };
  succeeded: string[][];
  failed: string[][];
}

async function readReport(bucket: string, prefix: string, jobId: string): Promise<ReportFiles> {
  const base = `${prefix ? `${prefix}/` : ''}job-${jobId}`;
  const manifest = JSON.parse(await getText(bucket, `${base}/manifest.json`)) as ReportFiles['manifest'];
  const out: ReportFiles = { manifest, succeeded: [], failed: [] };
  for (const r of manifest.Results) {
    assert.equal(r.Bucket, bucket);
    assert.ok(r.Key.startsWith(`${base}/results/`) && r.Key.endsWith('.csv'), r.Key);
    const text = await getText(bucket, r.Key);
    assert.equal(r.MD5Checksum, md5hex(text), 'MD5Checksum of the results file');
    out[r.TaskExecutionStatus as 'succeeded' | 'failed'] = csvRows(text);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('Batch Replication: objects that existed before the configuration', () => {
  it('replicates NONE versions (objects and delete markers) with their version ids; the report lists every task', async () => {
    const src = bucketName('bsrc');
    const dst = bucketName('bdst');
    const rep = bucketName('brep');
    await versioned(src);
    await versioned(dst, 'us-west-2', west);
    await s3.send(new CreateBucketCommand({ Bucket: rep }));
    const before: Array<[string, string]> = [];
    before.push(['a.txt', await put(src, 'a.txt', 'a1')]);
    before.push(['a.txt', await put(src, 'a.txt', 'a2')]);
    before.push(['dir/b c.txt', await put(src, 'dir/b c.txt', 'b')]);
    before.push(['gone', await put(src, 'gone', 'g')]);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: src, Key: 'gone' }));
    before.push(['gone', marker.VersionId!]);
    // Before the configuration: no x-amz-replication-status (NONE).
    assert.equal(await replicationStatus(src, 'a.txt', before[0]![1]), undefined);

    await replicate(src, dst);
    const liveVersion = await put(src, 'live.txt', 'after the configuration');
    await waitReplicationStatus(src, 'live.txt', liveVersion, 'COMPLETED');

    const id = await createJob({
      source: generator(src, `<EligibleForReplication>true</EligibleForReplication>${members('ObjectReplicationStatuses', ['NONE'])}`),
      report: report(rep, 'reports/batch'),
      description: 'existing objects',
    });
    const job = await waitJob(id);
    assert.equal(job.Status, 'Complete', JSON.stringify(job));
    assert.deepEqual(progress(job), { total: before.length, succeeded: before.length, failed: 0 });
    assert.equal(job.Description, 'existing objects');
    assert.equal(job.JobArn, `arn:aws:s3:us-east-1:${ACCOUNT}:job/${id}`);
    assert.ok(job.CreationTime && job.TerminationDate, 'creation and termination times');
    assert.ok(Number(job.ProgressSummary.Timers.ElapsedTimeInActiveSeconds) >= 0);
    assert.deepEqual(job.Operation, { S3ReplicateObject: '' });
    assert.equal(job.ManifestGenerator.S3JobManifestGenerator.SourceBucket, `arn:aws:s3:::${src}`);
    assert.deepEqual(job.ManifestGenerator.S3JobManifestGenerator.Filter.ObjectReplicationStatuses.member, ['NONE']);

    // Every source object version is COMPLETED; the destination has the same versions, same ids.
    for (const [key, v] of before.filter(([, v]) => v !== marker.VersionId)) {
      assert.equal(await replicationStatus(src, key, v), 'COMPLETED', `${key}@${v}`);
      assert.equal(await replicationStatus(dst, key, v, west), 'REPLICA', `replica ${key}@${v}`);
    }
    const srcVersions = await allVersions(src);
    const dstVersions = await allVersions(dst, west);
    assert.deepEqual(dstVersions, srcVersions);
    // The newest version stays the current one at the destination (versions of a key replicate oldest first).
    const cur = await west.send(new GetObjectCommand({ Bucket: dst, Key: 'a.txt' }));
    assert.equal(cur.VersionId, before[1]![1]);
    assert.equal((await bodyBytes(cur.Body)).toString(), 'a2');
    await assert.rejects(west.send(new HeadObjectCommand({ Bucket: dst, Key: 'gone' })), 'the delete marker is current at the destination');

    // The completion report.
    const r = await readReport(rep, 'reports/batch', id);
    assert.equal(r.manifest.Format, 'Report_CSV_20180820');
    assert.equal(r.manifest.ReportSchema, 'Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage');
    assert.ok(!Number.isNaN(Date.parse(r.manifest.ReportCreationDate)));
    assert.deepEqual(r.manifest.Results.map((x) => x.TaskExecutionStatus), ['succeeded']);
    assert.equal(r.succeeded.length, before.length);
    const listed = r.succeeded.map(([b, k, v, status, http, code, msg]) => {
      assert.equal(b, src);
      assert.equal(status, 'succeeded');
      assert.equal(http, '200');
      assert.equal(code, '');
      assert.equal(msg, 'Successful');
      return `${decodeURIComponent(k!)}@${v}`;
    });
    assert.deepEqual(listed.sort(), before.map(([k, v]) => `${k}@${v}`).sort());
    assert.ok(!listed.some((x) => x.startsWith('live.txt')), 'COMPLETED objects are not in a NONE job');
  });
});

describe('Batch Replication: re-driving FAILED objects', () => {
  it('fails with DstBucketUnversioned while the destination is unversioned, then replicates once it is fixed', async () => {
    const src = bucketName('fsrc');
    const dst = bucketName('fdst');
    const rep = bucketName('frep');
    await versioned(src);
    await versioned(dst, 'us-west-2', west);
    await s3.send(new CreateBucketCommand({ Bucket: rep }));
    await replicate(src, dst);
    await west.send(new PutBucketVersioningCommand({ Bucket: dst, VersioningConfiguration: { Status: 'Suspended' } }));
    const versions: Array<[string, string]> = [];
    for (const k of ['f1', 'f2', 'f3']) versions.push([k, await put(src, k, `body of ${k}`)]);
    for (const [k, v] of versions) await waitReplicationStatus(src, k, v, 'FAILED');

    // A job while the destination is still unversioned: every task fails with the §4.4 reason.
    const failing = await waitJob(
      await createJob({ source: generator(src, members('ObjectReplicationStatuses', ['FAILED'])), report: report(rep, undefined, 'FailedTasksOnly') }),
    );
    assert.equal(failing.Status, 'Complete');
    assert.deepEqual(progress(failing), { total: 3, succeeded: 0, failed: 3 });
    const fr = await readReport(rep, '', failing.JobId);
    assert.deepEqual(fr.manifest.Results.map((x) => x.TaskExecutionStatus), ['failed']);
    assert.equal(fr.failed.length, 3);
    for (const row of fr.failed) {
      assert.equal(row[3], 'failed');
      assert.equal(row[5], 'DstBucketUnversioned', row.join(','));
      assert.match(row[4]!, /^\d{3}$/);
    }
    for (const [k, v] of versions) assert.equal(await replicationStatus(src, k, v), 'FAILED');

    // Fixed: the FAILED objects replicate and turn COMPLETED.
    await west.send(new PutBucketVersioningCommand({ Bucket: dst, VersioningConfiguration: { Status: 'Enabled' } }));
    const ok = await waitJob(await createJob({ source: generator(src, members('ObjectReplicationStatuses', ['FAILED'])) }));
    assert.equal(ok.Status, 'Complete');
    assert.deepEqual(progress(ok), { total: 3, succeeded: 3, failed: 0 });
    for (const [k, v] of versions) {
      assert.equal(await replicationStatus(src, k, v), 'COMPLETED', k);
      const r = await west.send(new GetObjectCommand({ Bucket: dst, Key: k, VersionId: v }));
      assert.equal((await bodyBytes(r.Body)).toString(), `body of ${k}`);
      assert.equal(r.ReplicationStatus, 'REPLICA');
    }
    // Nothing is FAILED any more: a FAILED job now has no task.
    const none = await waitJob(await createJob({ source: generator(src, members('ObjectReplicationStatuses', ['FAILED'])) }));
    assert.equal(none.Status, 'Complete');
    assert.equal(progress(none).total, 0);
  });
});

describe('Batch Replication: manifests, configuration, validation', () => {
  it('replicates exactly the versions a CSV manifest names (URL-encoded keys), and fails a job whose manifest ETag is wrong', async () => {
    const src = bucketName('msrc');
    const dst = bucketName('mdst');
    const man = bucketName('mman');
    await versioned(src);
    await versioned(dst);
    await s3.send(new CreateBucketCommand({ Bucket: man }));
    const odd = 'späce key/and,comma';
    const v1 = await put(src, odd, 'first');
    const v2 = await put(src, odd, 'second');
    const other = await put(src, 'other', 'not in the manifest');
    await replicate(src, dst);
    const csv = `${src},${encodeURIComponent(odd)},${v1}\n"${src}","${encodeURIComponent(odd)}","${v2}"\n`;
    const put1 = await s3.send(new PutObjectCommand({ Bucket: man, Key: 'manifests/m.csv', Body: csv }));
    const etag = put1.ETag!.replace(/"/g, '');

    const id = await createJob({ source: csvManifest(man, 'manifests/m.csv', etag) });
    const job = await waitJob(id);
    assert.equal(job.Status, 'Complete', JSON.stringify(job));
    assert.deepEqual(progress(job), { total: 2, succeeded: 2, failed: 0 });
    assert.equal(job.Manifest.Spec.Format, 'S3BatchOperations_CSV_20180820');
    assert.deepEqual(job.Manifest.Spec.Fields.member, ['Bucket', 'Key', 'VersionId']);
    assert.equal(job.Manifest.Location.ETag, etag);
    assert.deepEqual(await allVersions(dst), [
      [odd, v2, false],
      [odd, v1, false],
    ]);
    assert.equal(await replicationStatus(src, 'other', other), undefined, 'not in the manifest: not replicated');

    const bad = await waitJob(await createJob({ source: csvManifest(man, 'manifests/m.csv', 'ffffffffffffffffffffffffffffffff') }));
    assert.equal(bad.Status, 'Failed');
    assert.equal(progress(bad).total, 0);
    assert.equal(bad.FailureReasons.member[0].FailureCode, 'ManifestETagMismatch');
    const missing = await waitJob(await createJob({ source: csvManifest(man, 'manifests/none.csv', etag) }));
    assert.equal(missing.Status, 'Failed');
    assert.equal(missing.FailureReasons.member[0].FailureCode, 'ManifestNotFound');
  });

  it('reads a gzipped CSV manifest, and fails a gzip bomb with ManifestTooLarge while the server keeps serving', async () => {
    const src = bucketName('zsrc');
    const dst = bucketName('zdst');
    const man = bucketName('zman');
    await versioned(src);
    await versioned(dst);
    await s3.send(new CreateBucketCommand({ Bucket: man }));
    const v = await put(src, 'gz key', 'from a gzipped manifest');
    await replicate(src, dst);
    const gz = gzipSync(`${src},${encodeURIComponent('gz key')},${v}\n`);
    const etag = (await s3.send(new PutObjectCommand({ Bucket: man, Key: 'm.csv.gz', Body: gz }))).ETag!.replace(/"/g, '');
    const ok = await waitJob(await createJob({ source: csvManifest(man, 'm.csv.gz', etag) }));
    assert.equal(ok.Status, 'Complete', JSON.stringify(ok));
    assert.deepEqual(progress(ok), { total: 1, succeeded: 1, failed: 0 });
    assert.equal(await replicationStatus(src, 'gz key', v), 'COMPLETED');

    // ~600 KiB of gzip that inflates to 600 MiB of zeros (the cap is 512 MiB of text).
    const bomb = Buffer.concat(Array(600).fill(gzipSync(Buffer.alloc(1024 * 1024))));
    const bombEtag = (await s3.send(new PutObjectCommand({ Bucket: man, Key: 'bomb.csv.gz', Body: bomb }))).ETag!.replace(/"/g, '');
    const id = await createJob({ source: csvManifest(man, 'bomb.csv.gz', bombEtag) });
    let slowest = 0;
    for (;;) {
      const t0 = Date.now();
      const j = await describeJob(id);
      slowest = Math.max(slowest, Date.now() - t0);
      if (TERMINAL.has(j.Status)) {
        assert.equal(j.Status, 'Failed', JSON.stringify(j));
        assert.equal(j.FailureReasons.member[0].FailureCode, 'ManifestTooLarge');
        assert.equal(progress(j).total, 0);
        break;
      }
      await sleep(20);
    }
    assert.ok(slowest < 1000, `a DescribeJob took ${slowest} ms while the manifest was read`);
  });

  it('fails every task with SrcBucketReplicationConfigMissing on a bucket without replication configuration', async () => {
    const src = bucketName('nsrc');
    const rep = bucketName('nrep');
    await versioned(src);
    await s3.send(new CreateBucketCommand({ Bucket: rep }));
    const v = await put(src, 'k', 'x');
    await put(src, 'k2', 'y');
    const job = await waitJob(await createJob({ source: generator(src), report: report(rep, 'r') }));
    assert.equal(job.Status, 'Complete');
    assert.deepEqual(progress(job), { total: 2, succeeded: 0, failed: 2 });
    const r = await readReport(rep, 'r', job.JobId);
    assert.deepEqual(r.manifest.Results.map((x) => x.TaskExecutionStatus), ['failed']);
    assert.deepEqual(
      r.failed.map((row) => [row[1], row[3], row[5]]),
      [
        ['k', 'failed', 'SrcBucketReplicationConfigMissing'],
        ['k2', 'failed', 'SrcBucketReplicationConfigMissing'],
      ],
    );
    assert.equal(r.failed[0]![2], v);
    assert.equal(await replicationStatus(src, 'k', v), undefined);
  });

  it('fails the job once at least 1,000 tasks ran and more than half failed', async () => {
    const src = bucketName('tsrc');
    const rep = bucketName('trep');
    await versioned(src);
    await s3.send(new CreateBucketCommand({ Bucket: rep }));
    const N = 1000;
    for (let i = 0; i < N; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => put(src, `t-${i + j}`, 'x')));
    }
    const job = await waitJob(await createJob({ source: generator(src), report: report(rep, 'threshold', 'FailedTasksOnly') }), undefined, 60_000);
    assert.equal(job.Status, 'Failed', JSON.stringify(job));
    assert.equal(job.FailureReasons.member[0].FailureCode, 'TaskFailureRateExceeded');
    assert.deepEqual(progress(job), { total: N, succeeded: 0, failed: N });
    const r = await readReport(rep, 'threshold', job.JobId);
    assert.equal(r.failed.length, N);
    assert.ok(r.failed.every((row) => row[5] === 'SrcBucketReplicationConfigMissing'));
  });

  it('writes the generated manifest (EnableManifestOutput) and a job can use it as an S3 Inventory manifest', async () => {
    const src = bucketName('gsrc');
    const dst = bucketName('gdst');
    const out = bucketName('gout');
    await versioned(src);
    await versioned(dst);
    await s3.send(new CreateBucketCommand({ Bucket: out }));
    const keep = await put(src, 'logs/keep.log', 'keep');
    await put(src, 'logs/skip.txt', 'suffix does not match');
    await put(src, 'data/x.log', 'prefix does not match');
    await put(src, 'logs/big.log', 'x'.repeat(200));
    await replicate(src, dst);
    const output =
      `<ManifestOutputLocation><Bucket>arn:aws:s3:::${out}</Bucket><ManifestPrefix>gen</ManifestPrefix>` +
      '<ManifestFormat>S3InventoryReport_CSV_20211130</ManifestFormat></ManifestOutputLocation>';
    const filter =
      `<KeyNameConstraint>${members('MatchAnyPrefix', ['logs/'])}${members('MatchAnySuffix', ['.log'])}</KeyNameConstraint>` +
      '<ObjectSizeLessThanBytes>100</ObjectSizeLessThanBytes>' +
      members('MatchAnyStorageClass', ['STANDARD']);
    const job = await waitJob(await createJob({ source: generator(src, filter, output), confirmation: false }));
    assert.equal(job.Status, 'Complete');
    assert.deepEqual(progress(job), { total: 1, succeeded: 1, failed: 0 });
    const g = job.GeneratedManifestDescriptor;
    assert.equal(g.Format, 'S3InventoryReport_CSV_20211130');
    const key = `gen/job-${job.JobId}/manifest.json`;
    assert.equal(g.Location.ObjectArn, `arn:aws:s3:::${out}/${key}`);
    const m = JSON.parse(await getText(out, key));
    assert.equal(m.sourceBucket, src);
    assert.equal(m.fileSchema, 'Bucket, Key, VersionId');
    const data = await s3.send(new GetObjectCommand({ Bucket: out, Key: m.files[0].key }));
    const rows = csvRows(gunzipSync(await bodyBytes(data.Body)).toString('utf8'));
    assert.deepEqual(rows, [[src, encodeURIComponent('logs/keep.log'), keep]]);
    assert.equal(await replicationStatus(src, 'logs/keep.log', keep), 'COMPLETED');

    // The generated manifest as an S3InventoryReport_CSV_20161130 manifest of another job.
    const again = await waitJob(
      await createJob({
        source:
          '<Manifest><Spec><Format>S3InventoryReport_CSV_20161130</Format></Spec>' +
          `<Location><ObjectArn>${g.Location.ObjectArn}</ObjectArn><ETag>${g.Location.ETag}</ETag></Location></Manifest>`,
      }),
    );
    assert.equal(again.Status, 'Complete');
    assert.deepEqual(progress(again), { total: 1, succeeded: 1, failed: 0 });
  });

  it('answers ClientRequestToken retries with the same job, and IdempotencyException for a different request', async () => {
    const src = bucketName('isrc');
    await versioned(src);
    const token = randomUUID();
    const a = await createJob({ token, source: generator(src), description: 'one' });
    const b = await createJob({ token, source: generator(src), description: 'one' });
    assert.equal(b, a);
    const r = await control('POST', '/v20180820/jobs', { body: jobXml({ token, source: generator(src), description: 'two' }) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.doc.ErrorResponse.Error.Code, 'IdempotencyException');
    assert.ok(r.doc.ErrorResponse.RequestId);
  });

  it('validates CreateJob like the S3 Control model, and rejects other operations as NotImplemented', async () => {
    const src = bucketName('vsrc');
    await versioned(src);
    const cases: Array<[string, JobOptions, number, string]> = [
      ['no Priority', { source: generator(src), priority: null }, 400, 'InvalidRequest'],
      ['Priority out of range', { source: generator(src), priority: -1 }, 400, 'InvalidRequest'],
      ['no RoleArn', { source: generator(src), role: null }, 400, 'InvalidRequest'],
      ['bad RoleArn', { source: generator(src), role: 'arn:aws:iam::1:user/x' }, 400, 'InvalidRequest'],
      ['no manifest', { source: '' }, 400, 'InvalidRequest'],
      ['manifest and generator', { source: generator(src) + csvManifest(src, 'm.csv', 'e') }, 400, 'InvalidRequest'],
      ['bad ObjectReplicationStatuses', { source: generator(src, members('ObjectReplicationStatuses', ['PENDING'])) }, 400, 'InvalidRequest'],
      // Seconds a Date cannot hold: accepted, they made every DescribeJob of the job a 500.
      ['CreatedAfter out of range', { source: generator(src, '<CreatedAfter>9000000000000</CreatedAfter>') }, 400, 'InvalidRequest'],
      ['report without bucket', { source: generator(src), report: '<Report><Enabled>true</Enabled><Format>Report_CSV_20180820</Format></Report>' }, 400, 'InvalidRequest'],
      ['other operation', { source: generator(src), operation: '<S3PutObjectTagging><TagSet/></S3PutObjectTagging>' }, 501, 'NotImplemented'],
    ];
    for (const [what, o, status, code] of cases) {
      const r = await control('POST', '/v20180820/jobs', { body: jobXml(o) });
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.equal(r.doc.ErrorResponse?.Error?.Code, code, `${what}: ${r.text}`);
      assert.ok(r.doc.ErrorResponse.Error.Message, what);
    }
    const noAccount = await control('GET', '/v20180820/jobs', { account: '' });
    assert.equal(noAccount.status, 400, noAccount.text);
    const otherAccount = await control('GET', '/v20180820/jobs', { account: '111122223333' });
    assert.equal(otherAccount.status, 403, otherAccount.text);
    const unknown = await control('GET', '/v20180820/jobs/00000000-0000-0000-0000-000000000000');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.doc.ErrorResponse.Error.Code, 'NotFoundException');
    const notServed = await control('GET', '/v20180820/storagelens');
    assert.equal(notServed.status, 501);
    assert.equal(notServed.doc.ErrorResponse.Error.Code, 'NotImplemented');
  });
});

describe('Batch Replication: job lifecycle and listing', () => {
  it('holds a ConfirmationRequired job Suspended until UpdateJobStatus Ready, cancels another, and lists jobs by status with paging', async () => {
    const src = bucketName('csrc');
    const dst = bucketName('cdst');
    await versioned(src);
    await versioned(dst);
    const v = await put(src, 'k', 'v');
    await replicate(src, dst);

    const held = await createJob({ source: generator(src), confirmation: true, description: 'held' });
    const suspended = await waitStatus(held, ['Suspended']);
    assert.equal(suspended.ConfirmationRequired, 'true');
    assert.ok(suspended.SuspendedDate && suspended.SuspendedCause, 'SuspendedDate and SuspendedCause');
    assert.equal(progress(suspended).total, 1);
    assert.equal(await replicationStatus(src, 'k', v), undefined, 'nothing runs before confirmation');

    const cancelled = await createJob({ source: generator(src), confirmation: true, description: 'cancelled' });
    await waitStatus(cancelled, ['Suspended']);
    const c = await control('POST', `/v20180820/jobs/${cancelled}/status`, { query: { requestedJobStatus: 'Cancelled', statusUpdateReason: 'not needed' } });
    assert.equal(c.status, 200, c.text);
    assert.equal(c.doc.UpdateJobStatusResult.JobId, cancelled);
    assert.ok(['Cancelling', 'Cancelled'].includes(c.doc.UpdateJobStatusResult.Status));
    assert.equal(c.doc.UpdateJobStatusResult.StatusUpdateReason, 'not needed');
    const cj = await waitJob(cancelled);
    assert.equal(cj.Status, 'Cancelled');
    assert.equal(cj.StatusUpdateReason, 'not needed');
    const again = await control('POST', `/v20180820/jobs/${cancelled}/status`, { query: { requestedJobStatus: 'Cancelled' } });
    assert.equal(again.status, 400);
    assert.equal(again.doc.ErrorResponse.Error.Code, 'JobStatusException');

    const notSuspended = await control('POST', `/v20180820/jobs/${cancelled}/status`, { query: { requestedJobStatus: 'Ready' } });
    assert.equal(notSuspended.doc.ErrorResponse.Error.Code, 'JobStatusException');
    const prio = await control('POST', `/v20180820/jobs/${held}/priority`, { query: { priority: '42' } });
    assert.equal(prio.status, 200, prio.text);
    assert.equal(prio.doc.UpdateJobPriorityResult.Priority, '42');
    const ready = await control('POST', `/v20180820/jobs/${held}/status`, { query: { requestedJobStatus: 'Ready' } });
    assert.equal(ready.status, 200, ready.text);
    const done = await waitJob(held);
    assert.equal(done.Status, 'Complete');
    assert.equal(done.Priority, '42');
    assert.deepEqual(progress(done), { total: 1, succeeded: 1, failed: 0 });
    assert.equal(await replicationStatus(src, 'k', v), 'COMPLETED');

    // ListJobs: newest first, filtered by status, paged.
    const all = await control('GET', '/v20180820/jobs');
    assert.equal(all.status, 200, all.text);
    const jobs = all.doc.ListJobsResult.Jobs.member as Array<Record<string, any>>;
    const ids = jobs.map((j) => j.JobId);
    assert.ok(ids.indexOf(cancelled) >= 0 && ids.indexOf(held) > ids.indexOf(cancelled), 'newest first');
    const heldItem = jobs.find((j) => j.JobId === held)!;
    assert.equal(heldItem.Operation, 'S3ReplicateObject');
    assert.equal(heldItem.Description, 'held');
    assert.equal(heldItem.ProgressSummary.NumberOfTasksSucceeded, '1');
    const onlyCancelled = await control('GET', '/v20180820/jobs', { query: { jobStatuses: 'Cancelled' } });
    const cancelledIds = (onlyCancelled.doc.ListJobsResult.Jobs?.member ?? []).map((j: any) => j.JobId);
    assert.ok(cancelledIds.includes(cancelled) && !cancelledIds.includes(held));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await control('GET', '/v20180820/jobs', { query: { maxResults: '2', ...(token ? { nextToken: token } : {}) } });
      assert.equal(page.status, 200, page.text);
      const items = page.doc.ListJobsResult.Jobs?.member ?? [];
      assert.ok(items.length <= 2);
      seen.push(...items.map((j: any) => j.JobId));
      token = page.doc.ListJobsResult.NextToken;
    } while (token);
    assert.deepEqual(seen, ids, 'paging visits every job once, in order');
  });

  it('serves S3 Control on an account host (000000000000.s3-control.localhost) as botocore addresses it', async () => {
    const r = await control('GET', '/v20180820/jobs', { host: `${ACCOUNT}.s3-control.localhost:${server.port}` });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.doc.ListJobsResult);
    const r2 = await control('GET', '/v20180820/jobs', { host: `${ACCOUNT}.localhost:${server.port}` });
    assert.equal(r2.status, 200, r2.text);
  });
});

describe('Batch Replication: clients', () => {
  it('boto3 (with a before-sign hook that drops the account host label) creates, describes and lists jobs', async () => {
    const src = bucketName('pysrc');
    const dst = bucketName('pydst');
    await versioned(src);
    await versioned(dst);
    const v = await put(src, 'py', 'boto3');
    await replicate(src, dst);
    const script = `
import json, sys, time, boto3
c = boto3.client('s3control', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
def strip_account_label(request, **kwargs):
    request.url = request.url.replace('://${ACCOUNT}.', '://', 1)
c.meta.events.register('before-sign.s3-control', strip_account_label)
r = c.create_job(AccountId='${ACCOUNT}', ConfirmationRequired=False, Operation={'S3ReplicateObject': {}},
    Report={'Enabled': False}, Priority=5, RoleArn='${ROLE}',
    ManifestGenerator={'S3JobManifestGenerator': {'SourceBucket': 'arn:aws:s3:::${src}', 'EnableManifestOutput': False,
        'Filter': {'EligibleForReplication': True, 'ObjectReplicationStatuses': ['NONE'], 'CreatedAfter': '2000-01-01T00:00:00Z'}}})
job = r['JobId']
for _ in range(300):
    d = c.describe_job(AccountId='${ACCOUNT}', JobId=job)['Job']
    if d['Status'] in ('Complete', 'Failed', 'Cancelled'):
        break
    time.sleep(0.1)
listed = c.list_jobs(AccountId='${ACCOUNT}', JobStatuses=['Complete', 'Failed'])['Jobs']
try:
    c.describe_job(AccountId='${ACCOUNT}', JobId='no-such-job')
    err = None
except c.exceptions.NotFoundException as e:
    err = e.response['Error']['Code']
print(json.dumps({'id': job, 'status': d['Status'], 'progress': d['ProgressSummary'], 'listed': [j['JobId'] for j in listed],
    'created': d['CreationTime'].isoformat(), 'filter': d['ManifestGenerator']['S3JobManifestGenerator']['Filter']['ObjectReplicationStatuses'], 'err': err}))
`;
    const r = await run('python3', ['-c', script, server.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 'Complete');
    assert.equal(out.progress.TotalNumberOfTasks, 1);
    assert.equal(out.progress.NumberOfTasksSucceeded, 1);
    assert.equal(out.progress.NumberOfTasksFailed, 0);
    assert.equal(typeof out.progress.Timers.ElapsedTimeInActiveSeconds, 'number');
    assert.ok(out.listed.includes(out.id));
    assert.deepEqual(out.filter, ['NONE']);
    assert.equal(out.err, 'NotFoundException');
    assert.equal(await replicationStatus(src, 'py', v), 'COMPLETED');
  });

  it('the aws CLI reaches it with a plugin that drops the account host label (without one, botocore dials 000000000000.127.0.0.1)', async () => {
    const src = bucketName('clisrc');
    const dst = bucketName('clidst');
    await versioned(src);
    await versioned(dst);
    const v = await put(src, 'cli', 'aws cli');
    await replicate(src, dst);
    const dir = tempDir('xregion-awsplugin-');
    fs.writeFileSync(
      path.join(dir, 'xregion_s3control.py'),
      `def _strip(request, **kwargs):\n    request.url = request.url.replace('://${ACCOUNT}.', '://', 1)\n\n` +
        `def awscli_initialize(cli):\n    cli.register('before-sign.s3-control', _strip)\n`,
    );
    fs.writeFileSync(path.join(dir, 'config'), '[plugins]\nxregion_s3control = xregion_s3control\n');
    const env = { ...server.env(), AWS_CONFIG_FILE: path.join(dir, 'config'), PYTHONPATH: dir };
    const aws = (args: string[]) => run('aws', [...args, '--account-id', ACCOUNT, '--endpoint-url', server.url, '--output', 'json'], { env });
    const created = await aws([
      's3control', 'create-job', '--no-confirmation-required', '--operation', '{"S3ReplicateObject":{}}',
      '--report', '{"Enabled":false}', '--priority', '3', '--role-arn', ROLE,
      '--manifest-generator', JSON.stringify({ S3JobManifestGenerator: { SourceBucket: `arn:aws:s3:::${src}`, EnableManifestOutput: false, Filter: { EligibleForReplication: true } } }),
    ]);
    assert.equal(created.code, 0, created.stderr);
    const id = JSON.parse(created.stdout).JobId as string;
    const job = await waitJob(id);
    assert.equal(job.Status, 'Complete');
    const described = await aws(['s3control', 'describe-job', '--job-id', id]);
    assert.equal(described.code, 0, described.stderr);
    assert.equal(JSON.parse(described.stdout).Job.ProgressSummary.NumberOfTasksSucceeded, 1);
    const listed = await aws(['s3control', 'list-jobs', '--job-statuses', 'Complete']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).Jobs.some((j: any) => j.JobId === id));
    assert.equal(await replicationStatus(src, 'cli', v), 'COMPLETED');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('`xregion replication batch` creates, waits for, describes and lists jobs', async () => {
    const src = bucketName('xsrc');
    const dst = bucketName('xdst');
    const rep = bucketName('xrep');
    await versioned(src);
    await versioned(dst, 'eu-west-1', server.client({ region: 'eu-west-1' }));
    await s3.send(new CreateBucketCommand({ Bucket: rep }));
    const v = await put(src, 'x', 'cli twin');
    await replicate(src, dst);
    // The group is registered by main.ts; here it runs in a program of its own.
    const script =
      `import { Command } from 'commander';\n` +
      `import { registerBatchCommands } from ${JSON.stringify(path.join(ROOT, 'dist', 'src', 'cli', 'batch-commands.js'))};\n` +
      `const p = new Command().name('xregion');\nregisterBatchCommands(p);\nawait p.parseAsync(process.argv);\n`;
    // --eval resolves 'commander' from the working directory (the repository root).
    const xr = (args: string[]) =>
      run(process.execPath, ['--input-type=module', '-e', script, 'xregion', 'replication', 'batch', ...args, '--endpoint', server.url], {
        env: server.env(),
        cwd: ROOT,
      });
    const created = await xr(['create', '--bucket', src, '--statuses', 'NONE', '--eligible-only', '--report-bucket', rep, '--report-prefix', 'cli', '--description', 'from the cli', '--wait']);
    assert.equal(created.code, 0, created.stderr + created.stdout);
    const m = /^job (\S+): Complete/m.exec(created.stdout);
    assert.ok(m, created.stdout);
    assert.match(created.stdout, /1 total, 1 succeeded, 0 failed/);
    assert.equal(await replicationStatus(src, 'x', v), 'COMPLETED');
    const described = await xr(['describe', m[1]!, '--json']);
    assert.equal(described.code, 0, described.stderr);
    assert.equal(JSON.parse(described.stdout).Status, 'Complete');
    const listed = await xr(['list', '--status', 'Complete']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes(m[1]!));
    const r = await readReport(rep, 'cli', m[1]!);
    assert.equal(r.succeeded.length, 1);
    const bad = await xr(['describe', 'no-such-job']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /NotFoundException/);
  });
});

describe('Batch Replication: persistence', () => {
  it('keeps jobs across a restart and finishes a job interrupted by kill -9', async (t) => {
    const dataDir = tempDir();
    let srv = await startServer({ dataDir });
    servers.push(srv);
    await ensureRoles(srv, [REPLICATION_ROLE, ROLE]);
    let c = srv.client();
    const src = bucketName('psrc');
    const dst = bucketName('pdst');
    await versioned(src, 'us-east-1', c);
    await versioned(dst, 'us-east-1', c);
    const N = 1500;
    const versions: Array<[string, string]> = [];
    for (let i = 0; i < N; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, N - i) }, async (_, j) => {
          const key = `obj-${String(i + j).padStart(4, '0')}`;
          return [key, await put(src, key, `body ${i + j}`, c)] as [string, string];
        }),
      );
      versions.push(...batch);
    }
    await c.send(
      new PutBucketReplicationCommand({
        Bucket: src,
        ReplicationConfiguration: {
          Role: REPLICATION_ROLE,
          Rules: [{ ID: 'all', Priority: 1, Filter: {}, Status: 'Enabled', DeleteMarkerReplication: { Status: 'Disabled' }, Destination: { Bucket: `arn:aws:s3:::${dst}` } }],
        },
      }),
    );
    const held = await createJob({ source: generator(src), confirmation: true }, srv);
    await waitStatus(held, ['Suspended'], srv);
    const running = await createJob({ source: generator(src, members('ObjectReplicationStatuses', ['NONE'])) }, srv);
    // Killed once some tasks have succeeded (normally mid-job; the job may rarely have finished).
    let atKill: Record<string, any>;
    for (;;) {
      atKill = await describeJob(running, srv);
      if (progress(atKill).succeeded > 0 || TERMINAL.has(atKill.Status)) break;
      await sleep(5);
    }
    await srv.kill9();
    t.diagnostic(`killed with the job ${atKill.Status}, ${JSON.stringify(progress(atKill))}`);

    srv = await startServer({ dataDir });
    servers.push(srv);
    await ensureRoles(srv, [REPLICATION_ROLE, ROLE]);
    c = srv.client();
    const j = await waitJob(running, srv, 60_000);
    assert.equal(j.Status, 'Complete', JSON.stringify(j));
    assert.deepEqual(progress(j), { total: N, succeeded: N, failed: 0 });
    const h = await describeJob(held, srv);
    assert.equal(h.Status, 'Suspended', 'the held job is still waiting after the restart');
    for (const [key, v] of versions.filter((_, i) => i % 97 === 0)) {
      assert.equal((await c.send(new HeadObjectCommand({ Bucket: src, Key: key, VersionId: v }))).ReplicationStatus, 'COMPLETED', key);
      assert.equal((await c.send(new HeadObjectCommand({ Bucket: dst, Key: key, VersionId: v }))).ReplicationStatus, 'REPLICA', key);
    }
    const dstVersions = await allVersions(dst, c);
    assert.equal(dstVersions.length, N, 'every version once at the destination');

    // A clean stop and start: the held job still runs when confirmed.
    await srv.stop();
    srv = await startServer({ dataDir });
    servers.push(srv);
    await ensureRoles(srv, [REPLICATION_ROLE, ROLE]);
    const r = await control('POST', `/v20180820/jobs/${held}/status`, { query: { requestedJobStatus: 'Ready' }, srv });
    assert.equal(r.status, 200, r.text);
    const done = await waitJob(held, srv, 60_000);
    assert.equal(done.Status, 'Complete');
    assert.deepEqual(progress(done), { total: N, succeeded: N, failed: 0 });
    const list = await control('GET', '/v20180820/jobs', { srv });
    assert.deepEqual(
      (list.doc.ListJobsResult.Jobs.member as any[]).map((x) => x.JobId),
      [running, held],
    );
  });
});
