/**
 * Regressions found in review: response-* overrides that cannot be header values, restoring an
 * older version by copying it onto its key, and a hot key behind an unreachable destination
 * that must not hold up other replication in the region.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { signedSend } from '../helpers/s3http.js';
import { ensureRole } from '../helpers/iam.js';

describe('review regressions', () => {
  let server: TestServer;
  let s3: S3Client;
  const dir = tempDir();

  before(async () => {
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ sites: [{ name: 'gone', endpoint: 'http://127.0.0.1:9', accessKeyId: 'test', secretAccessKey: 'test' }] }));
    server = await startServer({ dataDir: path.join(dir, 'data'), args: ['--config', config] });
    // Replication runs as the configuration's role: it must exist.
    await ensureRole(server, 'arn:aws:iam::000000000000:role/r');
    s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'rr-objects' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'rr-objects', VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('response-* overrides: non-Latin-1 text is sent as UTF-8 bytes; control characters are refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'rr-objects', Key: 'doc', Body: 'x'.repeat(100_000) }));
    const ok = await s3.send(
      new GetObjectCommand({ Bucket: 'rr-objects', Key: 'doc', ResponseContentDisposition: 'attachment; filename="文件.txt"' }),
    );
    assert.equal(Buffer.from(ok.ContentDisposition!, 'latin1').toString('utf8'), 'attachment; filename="文件.txt"');
    assert.equal((await ok.Body!.transformToByteArray()).length, 100_000);
    const bad = await signedSend(server.port, {
      method: 'GET',
      path: '/rr-objects/doc',
      query: { 'response-content-disposition': 'a\r\nx-injected: 1' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /<Code>InvalidArgument<\/Code>/);
    assert.equal(bad.headers['x-injected'], undefined);
  });

  it('copying a named older version onto its own key restores it as the latest', async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'rr-objects', Key: 'restore', Body: 'first' }));
    await s3.send(new PutObjectCommand({ Bucket: 'rr-objects', Key: 'restore', Body: 'second' }));
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: 'rr-objects', Key: 'restore', CopySource: `rr-objects/restore?versionId=${v1.VersionId}` }),
    );
    assert.ok(copied.VersionId && copied.VersionId !== v1.VersionId);
    const latest = await s3.send(new GetObjectCommand({ Bucket: 'rr-objects', Key: 'restore' }));
    assert.equal(await latest.Body!.transformToString(), 'first');
    // Without a version id it is still the illegal copy-to-itself.
    await assert.rejects(s3.send(new CopyObjectCommand({ Bucket: 'rr-objects', Key: 'restore', CopySource: 'rr-objects/restore' })), {
      name: 'InvalidRequest',
    });
  });

  it('many versions of a key behind an unreachable destination do not hold up other keys', async () => {
    const west = server.client({ region: 'us-west-2' });
    const eu = server.client({ region: 'eu-west-1' });
    await s3.send(new CreateBucketCommand({ Bucket: 'rr-hot' }));
    await west.send(new CreateBucketCommand({ Bucket: 'rr-far', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    await eu.send(new CreateBucketCommand({ Bucket: 'rr-near', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    for (const [c, b] of [[s3, 'rr-hot'], [west, 'rr-far'], [eu, 'rr-near']] as const) {
      await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    const rule = (id: string, prefix: string, dest: string, prio: number) => ({
      ID: id,
      Priority: prio,
      Status: 'Enabled' as const,
      Filter: { Prefix: prefix },
      Destination: { Bucket: `arn:aws:s3:::${dest}` },
      DeleteMarkerReplication: { Status: 'Disabled' as const },
    });
    await s3.send(
      new PutBucketReplicationCommand({
        Bucket: 'rr-hot',
        ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/r', Rules: [rule('far', 'hot', 'rr-far', 1), rule('near', 'other', 'rr-near', 2)] },
      }),
    );
    // rr-far now has to be looked up at the unreachable site: its tasks stay pending.
    await west.send(new DeleteBucketCommand({ Bucket: 'rr-far' }));
    for (let i = 0; i < 80; i++) await s3.send(new PutObjectCommand({ Bucket: 'rr-hot', Key: 'hot', Body: `v${i}` }));
    const other = await s3.send(new PutObjectCommand({ Bucket: 'rr-hot', Key: 'other', Body: 'o' }));
    const deadline = Date.now() + 5000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      status = (await s3.send(new HeadObjectCommand({ Bucket: 'rr-hot', Key: 'other', VersionId: other.VersionId }))).ReplicationStatus;
      if (status === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 'COMPLETED');
    const hot = await s3.send(new HeadObjectCommand({ Bucket: 'rr-hot', Key: 'hot' }));
    assert.equal(hot.ReplicationStatus, 'PENDING');
    west.destroy();
    eu.destroy();
  });
});
