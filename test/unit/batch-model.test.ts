import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXmlBody } from '../../src/http/xml.js';
import { S3Error } from '../../src/errors.js';
import { jobDescriptorXml, jobListItemXml, parseCreateJob } from '../../src/api/s3control/jobs-xml.js';
import {
  bucketFromArn,
  failureThresholdExceeded,
  matchesFilter,
  objectFromArn,
  parseCsv,
  parseCsvManifest,
  replicationStateOf,
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
  it('maps replication states to NONE / COMPLETED / FAILED / REPLICA', () => {
    assert.equal(replicationStateOf({ isReplica: false }), 'NONE');
    assert.equal(replicationStateOf({ isReplica: false, replicationStatus: 'FAILED' }), 'FAILED');
    assert.equal(replicationStateOf({ isReplica: false, replicationStatus: 'COMPLETED' }), 'COMPLETED');
    assert.equal(replicationStateOf({ isReplica: true, replicationStatus: 'REPLICA' }), 'REPLICA');
    assert.equal(replicationStateOf({ isReplica: false, replicationStatus: 'PENDING' }), 'PENDING');
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

describe('Batch Replication CSV manifests and reports', () => {
  it('parses RFC 4180 CSV', () => {
    assert.deepEqual(parseCsv('a,b,c\r\n"x,y","say ""hi""",\n\n"multi\nline",2,3'), [
      ['a', 'b', 'c'],
      ['x,y', 'say "hi"', ''],
      ['multi\nline', '2', '3'],
    ]);
    assert.throws(() => parseCsv('"open'));
  });

  it('reads manifest rows by Fields, URL-decoding keys', () => {
    const rows = parseCsvManifest('b1,dir%2Fa%20b.txt,v1\nb2,plain,\n', ['Bucket', 'Key', 'VersionId']);
    assert.deepEqual(rows, [
      { bucket: 'b1', key: 'dir/a b.txt', versionId: 'v1' },
      { bucket: 'b2', key: 'plain' },
    ]);
    assert.deepEqual(parseCsvManifest('x,b,k%C3%A9', ['Ignore', 'Bucket', 'Key']), [{ bucket: 'b', key: 'ké' }]);
    assert.throws(() => parseCsvManifest('b', ['Bucket', 'Key']), /field/);
    assert.throws(() => parseCsvManifest('b,k', ['Key']), /Bucket and Key/);
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

  it('takes buckets and objects out of ARNs', () => {
    assert.equal(bucketFromArn('arn:aws:s3:::bucket'), 'bucket');
    assert.equal(bucketFromArn('arn:aws:s3:::bucket/key'), undefined);
    assert.deepEqual(objectFromArn('arn:aws:s3:::bucket/dir/key.csv'), { bucket: 'bucket', key: 'dir/key.csv' });
    assert.equal(objectFromArn('arn:aws:s3:::bucket'), undefined);
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
    assert.equal(error(BASE + GEN.replace('<S3JobManifestGenerator>', '<S3JobManifestGenerator><Other/>').replace('</S3JobManifestGenerator></ManifestGenerator>', '</S3JobManifestGenerator><Other/></ManifestGenerator>')), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Report><Enabled>false</Enabled></Report>', '<Report><Enabled>true</Enabled><Format>Report_CSV_20180820</Format></Report>') + GEN), '400 InvalidRequest');
    assert.equal(error(BASE.replace('<Report><Enabled>false</Enabled></Report>', '<Report><Enabled>yes</Enabled></Report>') + GEN), '400 InvalidRequest');
  });
});
