/**
 * GET /metrics: AWS's replication metrics (pending operations and bytes, latency, failures)
 * labelled by source bucket, destination bucket and rule, read by a Prometheus scrape.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  ListObjectsV2Command,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, tempDir, type TestServer } from '../helpers/server.js';
import { ensureRole } from '../helpers/iam.js';

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
      })
      .on('error', reject);
  });
}

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (want.every((w) => inside.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const rule = (id: string, dest: string) => ({
  ID: id,
  Priority: 1,
  Status: 'Enabled' as const,
  Filter: {},
  Destination: { Bucket: `arn:aws:s3:::${dest}` },
  DeleteMarkerReplication: { Status: 'Disabled' as const },
});

describe('replication metrics at GET /metrics', () => {
  let server: TestServer;
  let s3: S3Client;
  let west: S3Client;
  const dir = tempDir();

  before(async () => {
    // A site whose endpoint nothing listens on: replication to it stays pending, retried.
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ sites: [{ name: 'gone', endpoint: 'http://127.0.0.1:9', accessKeyId: 'test', secretAccessKey: 'test' }] }));
    server = await startServer({ dataDir: path.join(dir, 'data'), args: ['--config', config] });
    // Replication runs as the configuration's role: it must exist.
    await ensureRole(server, 'arn:aws:iam::000000000000:role/r');
    s3 = server.client();
    west = server.client({ region: 'us-west-2' });
  });
  after(async () => {
    s3?.destroy();
    west?.destroy();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts failures per source, destination and rule', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'metrics-src' }));
    await west.send(new CreateBucketCommand({ Bucket: 'metrics-dst', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    for (const [c, b] of [[s3, 'metrics-src'], [west, 'metrics-dst']] as const) {
      await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    await s3.send(
      new PutBucketReplicationCommand({
        Bucket: 'metrics-src',
        ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/r', Rules: [rule('to-west', 'metrics-dst')] },
      }),
    );
    await west.send(new PutBucketVersioningCommand({ Bucket: 'metrics-dst', VersioningConfiguration: { Status: 'Suspended' } }));
    for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket: 'metrics-src', Key: `k${i}`, Body: 'x' }));
    const labels = { source_bucket: 'metrics-src', destination_bucket: 'metrics-dst', rule_id: 'to-west' };
    const failed = await until('3 failures', async () => {
      const n = sample(await scrape(server.port), 'xregion_replication_operations_failed_total', labels);
      return n === 3 ? n : undefined;
    });
    assert.equal(failed, 3);
  });

  it('shows pending operations, bytes and latency while a destination site is unreachable', async () => {
    // PutBucketReplication checks that the destination exists, so the rule names a local
    // bucket that is deleted afterwards: from then on the destination is looked up at the
    // configured site, which cannot be reached, so every task stays pending and is retried.
    await s3.send(new CreateBucketCommand({ Bucket: 'pending-src' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'pending-src', VersioningConfiguration: { Status: 'Enabled' } }));
    await west.send(new CreateBucketCommand({ Bucket: 'pending-dst', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    await west.send(new PutBucketVersioningCommand({ Bucket: 'pending-dst', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(
      new PutBucketReplicationCommand({
        Bucket: 'pending-src',
        ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/r', Rules: [rule('away', 'pending-dst')] },
      }),
    );
    await west.send(new DeleteBucketCommand({ Bucket: 'pending-dst' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pending-src', Key: 'a', Body: Buffer.alloc(1000) }));
    await s3.send(new PutObjectCommand({ Bucket: 'pending-src', Key: 'b', Body: Buffer.alloc(500) }));
    const labels = { source_bucket: 'pending-src', destination_bucket: 'pending-dst', rule_id: 'away' };
    await new Promise((r) => setTimeout(r, 1200));
    const text = await scrape(server.port);
    assert.equal(sample(text, 'xregion_replication_operations_pending', labels), 2, text);
    assert.equal(sample(text, 'xregion_replication_bytes_pending', labels), 1500);
    assert.ok(sample(text, 'xregion_replication_latency_seconds', labels)! >= 1);
    assert.equal(sample(text, 'xregion_replication_operations_failed_total', labels), undefined);
  });

  it('a signed GET /metrics is still ListObjects on a bucket named "metrics"', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'metrics' }));
    await s3.send(new PutObjectCommand({ Bucket: 'metrics', Key: 'daily.csv', Body: '1,2' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'metrics' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['daily.csv']);
    assert.match(await scrape(server.port), /^# HELP xregion_replication/m);
  });
});
