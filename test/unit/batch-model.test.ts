import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { parseXmlBody } from '../../src/http/xml.js';
import { S3Error } from '../../src/errors.js';
import { jobDescriptorXml, jobListItemXml, parseCreateJob } from '../../src/api/s3control/jobs-xml.js';
import { bucketFromArn, objectFromArn } from '../../src/objects/arn.js';
import { JobFailed, manifestEntries, once } from '../../src/replication/batch-io.js';
import {
  csvManifestLayout,
  CsvParser,
  failureThresholdExceeded,
  inventoryLayout,
  matchesFilter,
  reportKeyBase,
  reportLine,
  scanPrefix,
  type JobFilter,
} from '../../src/replication/batch-model.js';
import type { ReplicationConfig } from '../../src/replication/config.js';
import type { BatchVersionFacts } from '../../src/storage/types.js';
import type { JobView } from '../../src/replication/batch-jobs.js';

const NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

function version(over: Partial<BatchVersionFacts> = {}): BatchVersionFacts {
  return {
    seq: 1,
    key: 'logs/a.log',
    versionId: 'v1',
    isLatest: true,
    isDeleteMarker: false,
    size: 10,
    lastModified: Date.parse('2024-06-01T00:00:00Z'),
    storageClass: 'STANDARD',
    tags: [],
    isReplica: false,
    ...over,
  };
}

const CONFIG: ReplicationConfig = {
  role: 'arn:aws:iam::000000000000:role/r',
  rules: [
    {
      id: 'logs',
      priority: 1,
      filter: { and: { prefix: 'logs/', tags: [{ key: 'replicate', value: 'yes' }] } },
      status: 'Enabled',
      destination: { bucket: 'arn:aws:s3:::dst' },
      deleteMarkerReplication: 'Disabled',
    },
  ],
};

describe('Batch Replication manifest generator filter (spec §7.1)', () => {
  it('maps replication states to NONE / COMPLETED / FAILED / REPLICA (and PENDING, which no filter accepts)', () => {
    const state = (v: Partial<BatchVersionFacts>) =>
      ['NONE', 'COMPLETED', 'FAILED', 'REPLICA', 'PENDING'].filter((s) => matchesFilter({ objectReplicationStatuses: [s] }, version(v), undefined));
    assert.deepEqual(state({ isReplica: false }), ['NONE']);
    assert.deepEqual(state({ isReplica: false, replicationStatus: 'FAILED' }), ['FAILED']);
    assert.deepEqual(state({ isReplica: false, replicationStatus: 'COMPLETED' }), ['COMPLETED']);
    assert.deepEqual(state({ isReplica: true, replicationStatus: 'REPLICA' }), ['REPLICA']);
    assert.deepEqual(state({ isReplica: true, replicationStatus: 'FAILED' }), ['FAILED']);
    assert.deepEqual(state({ isReplica: false, replicationStatus: 'PENDING' }), ['PENDING']);
  });

  it('applies every filter member, ANDed; lists within a member are ORed', () => {
    const yes = (f: JobFilter, v = version()) => assert.equal(matchesFilter(f, v, undefined), true, JSON.stringify(f));
    const no = (f: JobFilter, v = version()) => assert.equal(matchesFilter(f, v, undefined), false, JSON.stringify(f));
    yes({});
    yes({ createdAfter: Date.parse('2024-05-31T00:00:00Z'), createdBefore: Date.parse('2024-06-02T00:00:00Z') });
    no({ createdAfter: Date.parse('2024-06-01T00:00:00Z') });
    no({ createdBefore: Date.parse('2024-06-01T00:00:00Z') });
    yes({ objectReplicationStatuses: ['FAILED', 'NONE'] });
    no({ objectReplicationStatuses: ['FAILED'] });
    no({ objectReplicationStatuses: ['NONE'] }, version({ replicationStatus: 'PENDING' }));
    yes({ objectReplicationStatuses: ['REPLICA'] }, version({ isReplica: true, replicationStatus: 'REPLICA' }));
    yes({ keyNameConstraint: { matchAnyPrefix: ['x/', 'logs/'], matchAnySuffix: ['.log'], matchAnySubstring: ['/a'] } });
    no({ keyNameConstraint: { matchAnyPrefix: ['x/'] } });
    no({ keyNameConstraint: { matchAnySuffix: ['.txt'] } });
    no({ keyNameConstraint: { matchAnySubstring: ['zz'] } });
    yes({ objectSizeGreaterThanBytes: 9, objectSizeLessThanBytes: 11 });
    no({ objectSizeGreaterThanBytes: 10 });
    no({ objectSizeLessThanBytes: 10 });
    yes({ matchAnyStorageClass: ['STANDARD_IA', 'STANDARD'] });
    no({ matchAnyStorageClass: ['GLACIER'] });
    yes({ matchAnyObjectEncryption: [{ type: 'NOT-SSE' }] });
    no({ matchAnyObjectEncryption: [{ type: 'SSE-KMS' }] });
    const sseS3 = version({ encryption: { algorithm: 'AES256' } });
    const kmsArn = 'arn:aws:kms:us-east-1:000000000000:key/k1';
    const sseKms = version({ encryption: { algorithm: 'aws:kms', kmsKeyArn: kmsArn } });
    yes({ matchAnyObjectEncryption: [{ type: 'SSE-S3' }] }, sseS3);
    no({ matchAnyObjectEncryption: [{ type: 'NOT-SSE' }] }, sseS3);
    yes({ matchAnyObjectEncryption: [{ type: 'SSE-C' }, { type: 'SSE-KMS', kmsKeyArn: kmsArn }] }, sseKms);
    no({ matchAnyObjectEncryption: [{ type: 'SSE-KMS', kmsKeyArn: `${kmsArn}x` }] }, sseKms);
  });

  it('EligibleForReplication leaves out SSE-KMS versions unless the rule opts in', () => {
    const f: JobFilter = { eligibleForReplication: true };
    const v = version({ tags: [['replicate', 'yes']], encryption: { algorithm: 'aws:kms', kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k1' } });
    assert.equal(matchesFilter(f, v, CONFIG), false);
    const optIn: ReplicationConfig = {
      ...CONFIG,
      rules: CONFIG.rules.map((r) => ({
        ...r,
        sourceSelectionCriteria: { sseKmsEncryptedObjects: 'Enabled' },
        destination: { ...r.destination, encryptionConfiguration: { replicaKmsKeyId: 'arn:aws:kms:us-west-2:000000000000:key/k2' } },
      })),
    };
    assert.equal(matchesFilter(f, v, optIn), true);
  });

  it('EligibleForReplication follows the rules (prefix, tags; replicas count; no configuration: left to the task)', () => {
    const f: JobFilter = { eligibleForReplication: true };
    assert.equal(matchesFilter(f, version({ tags: [['replicate', 'yes']] }), CONFIG), true);
    assert.equal(matchesFilter(f, version({ tags: [['replicate', 'yes']], isReplica: true }), CONFIG), true);
    assert.equal(matchesFilter(f, version(), CONFIG), false, 'missing tag');
    assert.equal(matchesFilter(f, version({ key: 'other', tags: [['replicate', 'yes']] }), CONFIG), false, 'prefix');
    assert.equal(matchesFilter(f, version({ isDeleteMarker: true }), CONFIG), false, 'tag rules never replicate delete markers');
    assert.equal(matchesFilter(f, version(), undefined), true);
  });

  it('narrows the scan to a single MatchAnyPrefix only', () => {
    assert.equal(scanPrefix(undefined), '');
    assert.equal(scanPrefix({ keyNameConstraint: { matchAnyPrefix: ['a/'] } }), 'a/');
    assert.equal(scanPrefix({ keyNameConstraint: { matchAnyPrefix: ['a/', 'b/'] } }), '');
  });

  it('fails a job only once at least 1,000 tasks ran and more than half failed', () => {
    assert.equal(failureThresholdExceeded(0, 999), false);
    assert.equal(failureThresholdExceeded(500, 500), false);
    assert.equal(failureThresholdExceeded(499, 501), true);
    assert.equal(failureThresholdExceeded(0, 1000), true);
    assert.equal(failureThresholdExceeded(1000, 5000), true);
  });
});

/** A whole CSV text, pushed at once. */
function parseCsv(text: string): string[][] {
  const p = new CsvParser();
  return [...p.push(text), ...p.end()];
}

describe('Batch Replication CSV, reports and ARNs', () => {
  it('parses RFC 4180 CSV', () => {
    assert.deepEqual(parseCsv('a,b,c\r\n"x,y","say ""hi""",\n\n"multi\nline",2,3'), [
      ['a', 'b', 'c'],
      ['x,y', 'say "hi"', ''],
      ['multi\nline', '2', '3'],
    ]);
    assert.throws(() => parseCsv('"open'));
  });

  it('parses CSV pushed in pieces of any size the same as whole (quotes and CRLF across pieces)', () => {
    const text = 'a,"b ""q"" c",d\r\n\r\n"x\r\ny",,"",z\rlast,"",\n"end"';
    const whole = parseCsv(text);
    assert.deepEqual(whole, [
      ['a', 'b "q" c', 'd'],
      ['x\r\ny', '', '', 'z'],
      ['last', '', ''],
      ['end'],
    ]);
    for (let i = 0; i <= text.length; i++) {
      for (const j of [i, Math.min(text.length, i + 1), Math.min(text.length, i + 2)]) {
        const p = new CsvParser();
        const rows = [...p.push(text.slice(0, i)), ...p.push(text.slice(i, j)), ...p.push(text.slice(j)), ...p.end()];
        assert.deepEqual(rows, whole, `split at ${i} and ${j}`);
      }
    }
    const p = new CsvParser();
    const rows: string[][] = [];
    for (const c of text) rows.push(...p.push(c));
    assert.deepEqual([...rows, ...p.end()], whole, 'one character at a time');
  });

  it('refuses a row with a field over 64 KiB when the row ends, keeping nothing of it', () => {
    const p = new CsvParser();
    assert.deepEqual(p.push('ok,1\nb,'), [['ok', '1']]);
    for (let i = 0; i < 10; i++) assert.deepEqual(p.push('x'.repeat(10_000)), []);
    assert.throws(() => p.push('\n'), /row 2 has a field longer than 65536 characters/);
  });
  it('writes report lines in AWS sample-row order with URL-encoded keys and CSV quoting', () => {
    assert.equal(
      reportLine({ seq: 0, bucket: 'b', key: 'a b/c,d', versionId: 'v1', status: 'succeeded', httpStatus: 200, message: 'Successful' }),
      'b,a%20b%2Fc%2Cd,v1,succeeded,200,,Successful\n',
    );
    assert.equal(
      reportLine({ seq: 1, bucket: 'b', key: 'k', status: 'failed', errorCode: 'DstBucketUnversioned', message: 'destination "x", unversioned' }),
      'b,k,,failed,400,DstBucketUnversioned,"destination ""x"", unversioned"\n',
    );
    assert.equal(reportLine({ seq: 2, bucket: 'b', key: 'k', status: 'failed', errorCode: 'SrcBucketNotFound' }).split(',')[4], '404');
    assert.equal(reportKeyBase('reports/', 'id1'), 'reports/job-id1');
    assert.equal(reportKeyBase(undefined, 'id1'), 'job-id1');
  });

  it('takes buckets and objects out of ARNs of every partition', () => {
    assert.equal(bucketFromArn('arn:aws:s3:::bucket'), 'bucket');
    assert.equal(bucketFromArn('arn:aws-cn:s3:::bucket'), 'bucket');
    assert.equal(bucketFromArn('arn:aws-us-gov:s3:::bucket'), 'bucket');
    assert.equal(bucketFromArn('arn:other:s3:::bucket'), undefined);
    assert.equal(bucketFromArn('arn:aws:s3:::bucket/key'), undefined);
    assert.deepEqual(objectFromArn('arn:aws:s3:::bucket/dir/key.csv'), { bucket: 'bucket', key: 'dir/key.csv' });
    assert.deepEqual(objectFromArn('arn:aws-cn:s3:::bucket/k'), { bucket: 'bucket', key: 'k' });
    assert.equal(objectFromArn('arn:aws:s3:::bucket'), undefined);
  });
});

/** Every entry of manifest bytes (given in pieces), as the runner stores them. */
async function entries(data: Buffer | Buffer[], fields = ['Bucket', 'Key', 'VersionId']) {
  async function* pieces() {
    for (const b of Array.isArray(data) ? data : [data]) yield* once(b);
  }
  const out = [];
  for await (const batch of manifestEntries(pieces(), csvManifestLayout(fields), 'the manifest')) out.push(...batch);
  return out;
}

const failure = (code: string, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof JobFailed, String(e));
  assert.equal(e.failure.code, code, e.failure.reason);
  if (message) assert.match(e.failure.reason, message);
  return true;
};

describe('Batch Replication manifests (streamed)', () => {
  it('reads manifest rows by Fields, URL-decoding keys; no VersionId is the latest version', async () => {
    assert.deepEqual(await entries(Buffer.from('b1,dir%2Fa%20b.txt,v1\nb2,plain,\n')), [
      { bucket: 'b1', key: 'dir/a b.txt', versionId: 'v1' },
      { bucket: 'b2', key: 'plain' },
    ]);
    assert.deepEqual(await entries(Buffer.from('x,b,k%C3%A9'), ['Ignore', 'Bucket', 'Key']), [{ bucket: 'b', key: 'ké' }]);
    await assert.rejects(entries(Buffer.from('b'), ['Bucket', 'Key']), failure('ManifestInvalid', /line 1 of the manifest has 1 field/));
    await assert.rejects(entries(Buffer.from('b,"k')), failure('ManifestInvalid', /unterminated quoted field/));
    assert.throws(() => csvManifestLayout(['Key']), /Bucket and Key/);
    assert.deepEqual(inventoryLayout('Bucket, Key, VersionId, IsLatest'), { bucket: 0, key: 1, versionId: 2, width: 4, strict: false });
    assert.equal(inventoryLayout('Key, Size'), undefined);
  });

  it('reads gzipped manifests, in batches, with UTF-8 and gzip split anywhere', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => `bucket,k%C3%A9y-${i},v${i}\n`).join('');
    const gz = gzipSync(Buffer.from(rows));
    const pieces: Buffer[] = [];
    for (let i = 0; i < gz.length; i += 777) pieces.push(gz.subarray(i, i + 777));
    const batches: number[] = [];
    async function* source() {
      for (const p of pieces) yield p;
    }
    const got = [];
    for await (const b of manifestEntries(source(), csvManifestLayout(['Bucket', 'Key', 'VersionId']), 'the manifest')) {
      batches.push(b.length);
      got.push(...b);
    }
    assert.equal(got.length, 2500);
    assert.deepEqual(got[2499], { bucket: 'bucket', key: 'kéy-2499', versionId: 'v2499' });
    assert.deepEqual(batches, [1000, 1000, 500]);
    // A multi-byte character split between two pieces of plain text.
    const text = Buffer.from('b,é,v\n');
    assert.deepEqual(await entries([text.subarray(0, 3), text.subarray(3)]), [{ bucket: 'b', key: 'é', versionId: 'v' }]);
    await assert.rejects(entries(Buffer.concat([gz.subarray(0, 100), Buffer.alloc(100, 7)])), failure('ManifestInvalid', /not valid gzip/));
  });

  it('fails a gzip bomb with ManifestTooLarge, without stalling the event loop', async () => {
    // 600 concatenated gzip members of 1 MiB of zeros: ~600 KiB that inflate to 600 MiB, above
    // the 512 MiB cap on a manifest's text.
    const bomb = Buffer.concat(Array(600).fill(gzipSync(Buffer.alloc(1024 * 1024))));
    assert.ok(bomb.length < 2 * 1024 * 1024, `bomb of ${bomb.length} bytes`);
    let gap = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      gap = Math.max(gap, now - last);
      last = now;
    }, 5);
    try {
      await assert.rejects(entries(bomb), failure('ManifestTooLarge', /larger than 536870912 bytes/));
    } finally {
      clearInterval(timer);
    }
    // gunzipSync of the whole bomb would hold the loop for as long as it takes to inflate it.
    assert.ok(gap < 250, `the event loop stalled for ${gap} ms`);
  });

});

function parse(inner: string) {
  return parseCreateJob(parseXmlBody(Buffer.from(`<CreateJobRequest xmlns="${NS}">${inner}</CreateJobRequest>`), 'CreateJobRequest'), '000000000000', 'us-east-1');
}

const BASE =
  '<Operation><S3ReplicateObject/></Operation><Report><Enabled>false</Enabled></Report>' +
  '<ClientRequestToken>t1</ClientRequestToken><Priority>10</Priority><RoleArn>arn:aws:iam::000000000000:role/r</RoleArn>';
const GEN = '<ManifestGenerator><S3JobManifestGenerator><SourceBucket>arn:aws:s3:::src</SourceBucket><EnableManifestOutput>false</EnableManifestOutput></S3JobManifestGenerator></ManifestGenerator>';

function error(inner: string): string {
  try {
    parse(inner);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return `${e.status} ${e.code}`;
  }
}

describe('CreateJobRequest (S3 Control model)', () => {
  it('parses a full request and renders it back in DescribeJob', () => {
    const spec = parse(
      '<ConfirmationRequired>true</ConfirmationRequired><Operation><S3ReplicateObject/></Operation>' +
        '<Report><Bucket>arn:aws:s3:::rep</Bucket><Format>Report_CSV_20180820</Format><Enabled>true</Enabled><Prefix>p</Prefix><ReportScope>FailedTasksOnly</ReportScope></Report>' +
        '<ClientRequestToken>tok</ClientRequestToken>' +
        '<ManifestGenerator><S3JobManifestGenerator><ExpectedBucketOwner>000000000000</ExpectedBucketOwner><SourceBucket>arn:aws:s3:::src</SourceBucket>' +
        '<ManifestOutputLocation><Bucket>arn:aws:s3:::out</Bucket><ManifestPrefix>m</ManifestPrefix><ManifestEncryption><SSE-S3/></ManifestEncryption><ManifestFormat>S3InventoryReport_CSV_20211130</ManifestFormat></ManifestOutputLocation>' +
        '<Filter><EligibleForReplication>true</EligibleForReplication><CreatedAfter>2024-01-01T00:00:00Z</CreatedAfter>' +
        '<ObjectReplicationStatuses><member>NONE</member><member>FAILED</member></ObjectReplicationStatuses>' +
        '<KeyNameConstraint><MatchAnyPrefix><member>a/</member></MatchAnyPrefix></KeyNameConstraint>' +
        '<ObjectSizeGreaterThanBytes>5</ObjectSizeGreaterThanBytes><MatchAnyStorageClass><member>STANDARD</member></MatchAnyStorageClass>' +
        '<MatchAnyObjectEncryption><ObjectEncryption><NOT-SSE/></ObjectEncryption></MatchAnyObjectEncryption></Filter>' +
        '<EnableManifestOutput>true</EnableManifestOutput></S3JobManifestGenerator></ManifestGenerator>' +
        '<Description>d</Description><Priority>7</Priority><RoleArn>arn:aws:iam::000000000000:role/r</RoleArn>' +
        '<Tags><member><Key>k</Key><Value>v</Value></member></Tags>',
    );
    assert.equal(spec.priority, 7);
    assert.equal(spec.confirmationRequired, true);
    assert.deepEqual(spec.report, { enabled: true, bucket: 'arn:aws:s3:::rep', format: 'Report_CSV_20180820', prefix: 'p', reportScope: 'FailedTasksOnly' });
    const g = spec.manifestGenerator!;
    assert.equal(g.enableManifestOutput, true);
    assert.deepEqual(g.manifestOutputLocation?.manifestEncryption, { sseS3: true });
    assert.deepEqual(g.filter, {
      eligibleForReplication: true,
      createdAfter: Date.parse('2024-01-01T00:00:00Z'),
      objectReplicationStatuses: ['NONE', 'FAILED'],
      keyNameConstraint: { matchAnyPrefix: ['a/'] },
      objectSizeGreaterThanBytes: 5,
      matchAnyStorageClass: ['STANDARD'],
      matchAnyObjectEncryption: [{ type: 'NOT-SSE' }],
    });
    assert.deepEqual(spec.tags, [{ key: 'k', value: 'v' }]);
    const view: JobView = {
      record: { id: 'job-1', account: '000000000000', status: 'Active', priority: 7, createdAt: 0, clientToken: 'tok', requestHash: '', spec: '', state: '' },
      spec,
      state: { failureReasons: [{ code: 'C', reason: 'R' }], activeMs: 2500 },
      counts: { total: 3, queued: 0, running: 1, succeeded: 1, failed: 1 },
      arn: 'arn:aws:s3:us-east-1:000000000000:job/job-1',
      activeMs: 2500,
    };
    const xml = jobDescriptorXml(view);
    assert.match(xml, /^<Job><JobId>job-1<\/JobId><ConfirmationRequired>true<\/ConfirmationRequired><Description>d<\/Description><JobArn>/);
    assert.match(xml, /<ProgressSummary><TotalNumberOfTasks>3<\/TotalNumberOfTasks><NumberOfTasksSucceeded>1<\/NumberOfTasksSucceeded><NumberOfTasksFailed>1<\/NumberOfTasksFailed><Timers><ElapsedTimeInActiveSeconds>2<\/ElapsedTimeInActiveSeconds><\/Timers><\/ProgressSummary>/);
    assert.match(xml, /<FailureReasons><member><FailureCode>C<\/FailureCode><FailureReason>R<\/FailureReason><\/member><\/FailureReasons>/);
    assert.match(xml, /<ObjectReplicationStatuses><member>NONE<\/member><member>FAILED<\/member><\/ObjectReplicationStatuses>/);
    assert.match(xml, /<CreatedAfter>2024-01-01T00:00:00.000Z<\/CreatedAfter>/);
    assert.match(xml, /<MatchAnyObjectEncryption><ObjectEncryption><NOT-SSE><\/NOT-SSE><\/ObjectEncryption><\/MatchAnyObjectEncryption>/);
    assert.match(jobListItemXml(view), /^<member><JobId>job-1<\/JobId><Description>d<\/Description><Operation>S3ReplicateObject<\/Operation>/);
  });

  it('parses a CSV manifest and requires its Fields', () => {
    const m = '<Manifest><Spec><Format>S3BatchOperations_CSV_20180820</Format><Fields><member>Bucket</member><member>Key</member></Fields></Spec><Location><ObjectArn>arn:aws:s3:::b/m.csv</ObjectArn><ETag>e</ETag></Location></Manifest>';
    assert.deepEqual(parse(BASE + m).manifest, { format: 'S3BatchOperations_CSV_20180820', objectArn: 'arn:aws:s3:::b/m.csv', etag: 'e', fields: ['Bucket', 'Key'] });
    assert.equal(error(BASE + m.replace('<Fields><member>Bucket</member><member>Key</member></Fields>', '')), '400 InvalidRequest');
    assert.equal(error(BASE + m.replace('<member>Bucket</member>', '')), '400 InvalidRequest');
    assert.equal(error(BASE + m.replace('arn:aws:s3:::b/m.csv', 'arn:aws:s3:::b')), '400 InvalidRequest');
    assert.equal(error(BASE + m.replace('<ETag>e</ETag>', '')), '400 InvalidRequest');
  });

  it('rejects what the model does not allow', () => {
    assert.equal(error(BASE + GEN), 'ok');
    assert.equal(error(BASE), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Priority>10</Priority>', '') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Priority>10</Priority>', '<Priority>2147483648</Priority>') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<ClientRequestToken>t1</ClientRequestToken>', `<ClientRequestToken>${'x'.repeat(65)}</ClientRequestToken>`) + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('role/r', 'user/r') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Report><Enabled>false</Enabled></Report>', '') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<S3ReplicateObject/>', '<S3PutObjectCopy/>') + GEN), '501 NotImplemented');
    assert.equal(error(BASE.replace('<S3ReplicateObject/>', '<Frobnicate/>') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<S3ReplicateObject/>', '<S3ReplicateObject/><S3PutObjectCopy/>') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('<EnableManifestOutput>false', '<EnableManifestOutput>true')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('arn:aws:s3:::src', 'src')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('</SourceBucket>', '</SourceBucket><Filter><ObjectReplicationStatuses><member>PENDING</member></ObjectReplicationStatuses></Filter>')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('</SourceBucket>', '</SourceBucket><Filter><MatchAnyStorageClass><member>SNOW</member></MatchAnyStorageClass></Filter>')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('</SourceBucket>', '</SourceBucket><Filter><CreatedAfter>yesterday</CreatedAfter></Filter>')), '400 InvalidRequest');
    // Seconds beyond what a Date holds (±8.64e15 ms) would be stored and break every DescribeJob.
    assert.equal(error(BASE + GEN.replace('</SourceBucket>', '</SourceBucket><Filter><CreatedAfter>9000000000000</CreatedAfter></Filter>')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('</SourceBucket>', '</SourceBucket><Filter><CreatedBefore>8640000000001</CreatedBefore></Filter>')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('</SourceBucket>', '</SourceBucket><Filter><CreatedAfter>8640000000000</CreatedAfter></Filter>')), 'ok');
    assert.equal(error(BASE + GEN.replace('arn:aws:s3:::src', 'arn:aws-cn:s3:::src')), 'ok');
    assert.equal(error(BASE + GEN.replace('arn:aws:s3:::src', 'arn:x:s3:::src')), '400 InvalidRequest');
    assert.equal(error(BASE + GEN.replace('<S3JobManifestGenerator>', '<S3JobManifestGenerator><Other/>').replace('</S3JobManifestGenerator></ManifestGenerator>', '</S3JobManifestGenerator><Other/></ManifestGenerator>')), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Report><Enabled>false</Enabled></Report>', '<Report><Enabled>true</Enabled><Format>Report_CSV_20180820</Format></Report>') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Report><Enabled>false</Enabled></Report>', '<Report><Enabled>yes</Enabled></Report>') + GEN), '400 InvalidRequest');
  });
});
