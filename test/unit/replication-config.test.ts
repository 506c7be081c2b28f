import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXmlBody } from '../../src/http/xml.js';
import { parseReplicationConfig, replicationConfigXml, type ReplicationConfig } from '../../src/replication/config.js';
import { validateReplicationConfig, type ValidationEnv } from '../../src/replication/validate.js';
import { matchRules } from '../../src/replication/rules.js';
import type { VersioningState } from '../../src/storage/types.js';

const ROLE = 'arn:aws:iam::000000000000:role/replication';

function parse(inner: string): ReplicationConfig {
  const xml = `<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Role>${ROLE}</Role>${inner}</ReplicationConfiguration>`;
  return parseReplicationConfig(parseXmlBody(Buffer.from(xml), 'ReplicationConfiguration'));
}

function env(over: Partial<ValidationEnv> = {}, buckets: Record<string, VersioningState> = { dest: 'Enabled', dest2: 'Enabled' }): ValidationEnv {
  return {
    sourceBucket: 'src',
    sourceVersioning: 'Enabled',
    destinationVersioning: async (n) => buckets[n],
    ...over,
  };
}

async function error(inner: string, e: ValidationEnv = env()): Promise<string> {
  try {
    await validateReplicationConfig(parse(inner), e);
    return 'ok';
  } catch (err) {
    const x = err as { code: string; status: number; message: string };
    return `${x.status} ${x.code}: ${x.message}`;
  }
}

const V2 = (extra = '', dest = 'dest', prio = 1) =>
  `<Rule><ID>r${prio}</ID><Priority>${prio}</Priority><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>${extra}<Destination><Bucket>arn:aws:s3:::${dest}</Bucket></Destination><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>`;

describe('PutBucketReplication validation (spec §1.6)', () => {
  it('accepts a minimal V2 and a minimal V1 configuration', async () => {
    assert.equal(await error(V2()), 'ok');
    assert.equal(await error('<Rule><Prefix></Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination></Rule>'), 'ok');
  });
  it('row 1: source not versioned', async () => {
    for (const v of ['', 'Suspended'] as VersioningState[]) {
      assert.equal(await error(V2(), env({ sourceVersioning: v })), "400 InvalidRequest: Versioning must be 'Enabled' on the bucket to apply a replication configuration");
    }
  });
  it('rows 2-3: destination missing or unversioned, even for a Disabled rule', async () => {
    const msg = '400 InvalidRequest: Destination bucket must have versioning enabled.';
    assert.equal(await error(V2('', 'nope')), msg);
    assert.equal(await error(V2('', 'dest'), env({}, { dest: 'Suspended' })), msg);
    assert.equal(await error(V2('', 'dest').replace('<Status>Enabled</Status>', '<Status>Disabled</Status>'), env({}, {})), msg);
  });
  it('rows 4, 6, 7: schema violations are MalformedXML', async () => {
    const malformed = /^400 MalformedXML/;
    assert.throws(() => parse(''), { code: 'MalformedXML' });
    assert.throws(() => parse(V2().replace('<Status>Enabled</Status>', '<Status>On</Status>')), { code: 'MalformedXML' });
    assert.throws(() => parse(V2().replace(/<Destination>.*<\/Destination>/, '')), { code: 'MalformedXML' });
    assert.throws(() => parse(V2('<ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication>')), { code: 'MalformedXML' });
    assert.throws(() => parseReplicationConfig(parseXmlBody(Buffer.from('<ReplicationConfiguration><Rule/></ReplicationConfiguration>'), 'ReplicationConfiguration')), { code: 'MalformedXML' });
    assert.match(await error(V2().replace('<Filter><Prefix></Prefix></Filter>', '<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>')).catch((e) => `400 ${e.code}`), malformed);
  });
  it('rows 8-11: V2 needs Priority and DeleteMarkerReplication, V1 forbids them', async () => {
    assert.match(await error(V2().replace(/<DeleteMarkerReplication>.*<\/DeleteMarkerReplication>/, '')), /^400 InvalidRequest: DeleteMarkerReplication must be specified for this version/);
    assert.match(await error(V2().replace('<Priority>1</Priority>', '')), /^400 InvalidRequest: Priority must be specified/);
    assert.match(
      await error('<Rule><Prefix>a</Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>'),
      /^400 InvalidRequest: DeleteMarkerReplication cannot be used for this version of Cross Region Replication configuration schema/,
    );
    assert.match(
      await error('<Rule><Priority>1</Priority><Prefix>a</Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination></Rule>'),
      /^400 InvalidRequest: Priority cannot be used for this version/,
    );
  });
  it('row 12: V1 allows one destination', async () => {
    const v1 = (id: string, p: string, d: string) => `<Rule><ID>${id}</ID><Prefix>${p}</Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::${d}</Bucket></Destination></Rule>`;
    assert.equal(await error(v1('a', 'x', 'dest') + v1('b', 'y', 'dest2')), '400 InvalidRequest: Number of distinct destination bucket ARNs cannot exceed 1');
    assert.equal(await error(V2('', 'dest', 1) + V2('', 'dest2', 2)), 'ok');
  });
  it('row 13: delete marker replication with a tag filter', async () => {
    const rule = V2().replace('<Filter><Prefix></Prefix></Filter>', '<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>').replace('<DeleteMarkerReplication><Status>Disabled', '<DeleteMarkerReplication><Status>Enabled');
    assert.match(await error(rule), /^400 InvalidRequest: Delete marker replication is not supported if any Tag filter is specified/);
  });
  it('rows 14-15: SourceSelectionCriteria', async () => {
    assert.equal(await error(V2('<SourceSelectionCriteria></SourceSelectionCriteria>')), '400 InvalidRequest: SourceSelectionCriteria cannot be empty');
    assert.equal(
      await error(V2('<SourceSelectionCriteria><SseKmsEncryptedObjects><Status>Enabled</Status></SseKmsEncryptedObjects></SourceSelectionCriteria>')),
      '400 InvalidRequest: ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.',
    );
  });
  it('rows 16-18: metrics and replication time', async () => {
    const withDest = (d: string) => V2().replace('</Bucket></Destination>', `</Bucket>${d}</Destination>`);
    assert.equal(
      await error(withDest('<Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics>')),
      '400 InvalidArgument: Metrics cannot contain an event threshold when ReplicationTime is not specified or Disabled',
    );
    assert.equal(await error(withDest('<Metrics><Status>Enabled</Status></Metrics>')), 'ok');
    assert.match(await error(withDest('<ReplicationTime><Status>Enabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime>')), /^400 InvalidRequest/);
    assert.match(
      await error(withDest('<ReplicationTime><Status>Enabled</Status><Time><Minutes>10</Minutes></Time></ReplicationTime><Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics>')),
      /^400 InvalidArgument/,
    );
    assert.equal(
      await error(withDest('<ReplicationTime><Status>Enabled</Status><Time><Minutes>15</Minutes></Time></ReplicationTime><Metrics><Status>Enabled</Status><EventThreshold><Minutes>15</Minutes></EventThreshold></Metrics>')),
      'ok',
    );
  });
  it('rows 19-21, 25, 30: duplicates, lengths, self-destination, role', async () => {
    assert.match(await error(V2('', 'dest', 1) + V2('', 'dest2', 1).replace('<ID>r1</ID>', '<ID>other</ID>')), /Found duplicate priority 1/);
    assert.match(await error(V2('', 'dest', 1) + V2('', 'dest2', 2).replace('<ID>r2</ID>', '<ID>r1</ID>')), /^400 InvalidArgument: Rule Id must be unique/);
    assert.match(await error(V2().replace('<ID>r1</ID>', `<ID>${'x'.repeat(256)}</ID>`)), /^400 InvalidArgument/);
    assert.match(await error(V2('', 'src')), /cannot be the same as the source/);
    assert.match(await error(V2(), env()).then(async () => {
      try {
        await validateReplicationConfig({ ...parse(V2()), role: 'not-an-arn' }, env());
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    }), /Invalid Role/);
  });
});

describe('GetBucketReplication echo', () => {
  it('renders what was stored, in model order, with a generated ID', () => {
    const c = parse('<Rule><Status>Enabled</Status><Priority>0</Priority><Filter></Filter><Destination><StorageClass>STANDARD_IA</StorageClass><Bucket>arn:aws:s3:::dest</Bucket></Destination><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>');
    const xml = replicationConfigXml(c);
    assert.match(xml, /<Rule><ID>[A-Za-z0-9+/=]{40,}<\/ID><Priority>0<\/Priority><Filter><\/Filter><Status>Enabled<\/Status><Destination><Bucket>arn:aws:s3:::dest<\/Bucket><StorageClass>STANDARD_IA<\/StorageClass><\/Destination><DeleteMarkerReplication><Status>Disabled<\/Status><\/DeleteMarkerReplication><\/Rule>/);
    assert.deepEqual(parseReplicationConfig(parseXmlBody(Buffer.from(xml), 'ReplicationConfiguration')), c);
  });
  it('V1 stays V1', () => {
    const xml = replicationConfigXml(parse('<Rule><ID>x</ID><Prefix>Tax</Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination></Rule>'));
    assert.match(xml, /<Rule><ID>x<\/ID><Prefix>Tax<\/Prefix><Status>Enabled<\/Status><Destination><Bucket>arn:aws:s3:::dest<\/Bucket><\/Destination><\/Rule>/);
  });
});

describe('rule matching (spec §2.2)', () => {
  const facts = (o: Partial<Parameters<typeof matchRules>[1]> = {}) => ({ key: 'starship-x', tags: [] as [string, string][], isDeleteMarker: false, isReplica: false, sseKms: false, ...o });
  const rule = (id: string, prio: number, prefix: string, dest: string, extra = '') =>
    `<Rule><ID>${id}</ID><Priority>${prio}</Priority><Filter>${extra || `<Prefix>${prefix}</Prefix>`}</Filter><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::${dest}</Bucket></Destination><DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication></Rule>`;

  it('highest priority wins for one destination; each destination gets one', () => {
    const c = parse(rule('star', 1, 'star', 'dest') + rule('starship', 2, 'starship', 'dest') + rule('other', 3, '', 'dest2'));
    const m = matchRules(c, facts());
    assert.deepEqual(m.destinations.map((d) => [d.destination, d.rule.id]).sort(), [['dest', 'starship'], ['dest2', 'other']]);
    assert.deepEqual(m.destinations.find((d) => d.destination === 'dest')!.outranked.map((r) => r.id), ['star']);
  });
  it('tags: all required, extra allowed; delete markers never by tag rules', () => {
    const tagRule = rule('t', 1, '', 'dest', '<And><Prefix>star</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And>').replace('<DeleteMarkerReplication><Status>Enabled', '<DeleteMarkerReplication><Status>Disabled');
    const c = parse(tagRule);
    assert.equal(matchRules(c, facts({ tags: [['a', '1'], ['b', '2'], ['c', '3']] })).destinations.length, 1);
    const miss = matchRules(c, facts({ tags: [['a', '1']] }));
    assert.equal(miss.destinations.length, 0);
    assert.match((miss.verdicts[0] as { reason: string }).reason, /tags/);
    assert.equal(matchRules(c, facts({ isDeleteMarker: true })).destinations.length, 0);
  });
  it('SSE-KMS needs the opt-in; replicas never replicate; disabled rules do not select', () => {
    const c = parse(rule('r', 1, '', 'dest'));
    assert.match((matchRules(c, facts({ sseKms: true })).verdicts[0] as { reason: string }).reason, /SSE-KMS/);
    assert.match(matchRules(c, facts({ isReplica: true })).notReplicatedBecause!, /replica/);
    const d = parse(rule('r', 1, '', 'dest').replace('<Status>Enabled</Status><Destination>', '<Status>Disabled</Status><Destination>'));
    assert.equal(matchRules(d, facts()).destinations.length, 0);
  });
  it('V1 rules replicate delete markers', () => {
    const c = parse('<Rule><ID>v1</ID><Prefix>star</Prefix><Status>Enabled</Status><Destination><Bucket>arn:aws:s3:::dest</Bucket></Destination></Rule>');
    assert.equal(matchRules(c, facts({ isDeleteMarker: true })).destinations.length, 1);
  });
});
