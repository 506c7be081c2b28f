/**
 * Buckets through @aws-sdk/client-s3 (and raw HTTP where the SDK would refuse to send the
 * request): lifecycle, naming rules, regions, ListBuckets, tagging, virtual-host addressing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import dns from 'node:dns';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { bucketName, startServer, type TestServer } from '../helpers/server.js';
import { assertError, bodyBytes, expectSdkError, expectSdkErrorOneOf, objectPath, signedSend, xmlText } from '../helpers/s3http.js';

let server: TestServer;
let s3: S3Client;
const clients: S3Client[] = [];

function client(region = 'us-east-1', extra: Record<string, unknown> = {}): S3Client {
  const c = server.client({ region, maxAttempts: 1, ...extra });
  clients.push(c);
  return c;
}

const createXml = (region: string) =>
  `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;

describe('buckets (SDK)', () => {
  before(async () => {
    server = await startServer();
    s3 = client();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it('create, head, list, delete; operations on a deleted bucket say NoSuchBucket', async () => {
    const b = bucketName('life');
    const created = await s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal(created.$metadata.httpStatusCode, 200);
    assert.equal(created.Location, `/${b}`);
    const head = await s3.send(new HeadBucketCommand({ Bucket: b }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    const mine = list.Buckets!.find((x) => x.Name === b);
    assert.ok(mine, 'the new bucket is listed');
    assert.ok(mine.CreationDate instanceof Date && Math.abs(mine.CreationDate.getTime() - Date.now()) < 60_000);
    assert.ok(list.Owner?.ID, 'ListBuckets names the owner');

    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }));
    const notEmpty = await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: b })), 'BucketNotEmpty', 409);
    assert.equal(notEmpty.err.BucketName ?? b, b);
    await s3.send(new HeadBucketCommand({ Bucket: b }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);

    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b })), 'NotFound', 404);
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: b })), 'NoSuchBucket', 404);
    await expectSdkError(s3.send(new ListObjectsV2Command({ Bucket: b })), 'NoSuchBucket', 404);
    await expectSdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchBucket', 404);
    const listed = await s3.send(new ListBucketsCommand({}));
    assert.ok(!listed.Buckets!.some((x) => x.Name === b), 'a deleted bucket is not listed');
    // The name is free again.
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('rejects invalid bucket names with 400 InvalidBucketName and creates nothing', async () => {
    const bad = [
      'ab', // too short
      'a'.repeat(64), // too long
      'UpperCase-bucket',
      'under_score-bucket',
      '-starts-with-dash',
      'ends-with-dash-',
      '.starts-with-dot',
      'double..dot',
      'dash-.dot',
      '192.168.5.4', // IP address form
      'xn--prefix-bucket',
      'sthree-bucket',
      'name-s3alias',
      'name--ol-s3',
      'bad!char',
    ];
    for (const name of bad) {
      const r = await signedSend(server.port, { method: 'PUT', path: objectPath(name) });
      assertError(r, 400, 'InvalidBucketName', `PUT /${name}:`);
    }
    const list = await s3.send(new ListBucketsCommand({}));
    for (const name of bad) assert.ok(!list.Buckets?.some((b) => b.Name === name), `${name} must not exist`);
    // The edges of the valid range are accepted.
    for (const name of ['abc', 'a'.repeat(63), 'with.dots.name', '1-2-3']) {
      const r = await signedSend(server.port, { method: 'PUT', path: objectPath(name) });
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      await s3.send(new DeleteBucketCommand({ Bucket: name }));
    }
  });

  it('re-creating an own bucket: 200 in us-east-1, 409 BucketAlreadyOwnedByYou elsewhere', async () => {
    const east = bucketName('east');
    await s3.send(new CreateBucketCommand({ Bucket: east }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: east }));
    assert.equal(again.$metadata.httpStatusCode, 200, 'us-east-1 legacy behaviour: re-create answers 200');

    const west = bucketName('west');
    const westClient = client('us-west-2');
    await westClient.send(new CreateBucketCommand({ Bucket: west, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    await expectSdkError(
      westClient.send(new CreateBucketCommand({ Bucket: west, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })),
      'BucketAlreadyOwnedByYou',
      409,
    );
    // The us-east-1 endpoint asked to create it (again) in us-west-2: also BucketAlreadyOwnedByYou.
    await expectSdkError(
      s3.send(new CreateBucketCommand({ Bucket: west, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })),
      'BucketAlreadyOwnedByYou',
      409,
    );
    // Still in its region.
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: west }));
    assert.equal(loc.LocationConstraint, 'us-west-2');
  });

  it('creates buckets in us-west-2 and eu-west-1 through LocationConstraint; location, head and listing agree', async () => {
    const west = bucketName('w2');
    const eu = bucketName('eu');
    const east = bucketName('e1');
    // From a us-east-1 client any served region may be chosen.
    await s3.send(new CreateBucketCommand({ Bucket: west, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
    // An eu-west-1 client: the SDK adds LocationConstraint=eu-west-1 itself.
    const euClient = client('eu-west-1');
    await euClient.send(new CreateBucketCommand({ Bucket: eu }));
    await s3.send(new CreateBucketCommand({ Bucket: east }));

    const locWest = await s3.send(new GetBucketLocationCommand({ Bucket: west }));
    assert.equal(locWest.LocationConstraint, 'us-west-2');
    const locEu = await s3.send(new GetBucketLocationCommand({ Bucket: eu }));
    assert.equal(locEu.LocationConstraint, 'eu-west-1');
    // us-east-1 is reported as an empty LocationConstraint.
    const rawEast = await signedSend(server.port, { method: 'GET', path: objectPath(east), query: { location: '' } });
    assert.equal(rawEast.status, 200);
    assert.match(rawEast.text, /<LocationConstraint[^>]*\/>|<LocationConstraint[^>]*><\/LocationConstraint>/);
    const locEast = await s3.send(new GetBucketLocationCommand({ Bucket: east }));
    assert.ok(!locEast.LocationConstraint, `us-east-1 location is empty, got ${locEast.LocationConstraint}`);

    // HeadBucket from the bucket's own region tells the region in x-amz-bucket-region.
    const headWest = await client('us-west-2').send(new HeadBucketCommand({ Bucket: west }));
    assert.equal(headWest.BucketRegion, 'us-west-2');
    const rawHead = await signedSend(server.port, { method: 'HEAD', path: objectPath(eu) }, { region: 'eu-west-1' });
    assert.equal(rawHead.status, 200);
    assert.equal(rawHead.headers['x-amz-bucket-region'], 'eu-west-1');

    const all = await s3.send(new ListBucketsCommand({}));
    const region = (n: string) => all.Buckets!.find((b) => b.Name === n)?.BucketRegion;
    assert.equal(region(west), 'us-west-2');
    assert.equal(region(eu), 'eu-west-1');
    assert.equal(region(east), 'us-east-1');
    const onlyEu = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-west-1' }));
    assert.ok(onlyEu.Buckets!.length >= 1);
    assert.ok(onlyEu.Buckets!.every((b) => b.BucketRegion === 'eu-west-1'), 'BucketRegion filter');
    assert.ok(onlyEu.Buckets!.some((b) => b.Name === eu));
  });

  it('CreateBucket location rules: explicit us-east-1, mismatched signing region, unknown region', async () => {
    const b = bucketName('loc');
    // Explicit us-east-1 is not a valid LocationConstraint.
    const r1 = await signedSend(server.port, { method: 'PUT', path: objectPath(b), body: createXml('us-east-1') });
    assertError(r1, 400, 'InvalidLocationConstraint', 'explicit us-east-1:');
    // A client signing us-west-2 must ask for us-west-2.
    const r2 = await signedSend(server.port, { method: 'PUT', path: objectPath(b), body: createXml('eu-west-1') }, { region: 'us-west-2' });
    assertError(r2, 400, 'IllegalLocationConstraintException', 'us-west-2 endpoint asked for eu-west-1:');
    // ...and may not leave it out.
    const r3 = await signedSend(server.port, { method: 'PUT', path: objectPath(b) }, { region: 'us-west-2' });
    assertError(r3, 400, 'IllegalLocationConstraintException', 'us-west-2 endpoint without a constraint:');
    // A region name that is not a region at all.
    const r4 = await signedSend(server.port, { method: 'PUT', path: objectPath(b), body: createXml('nowhere-1') });
    assertError(r4, 400, 'InvalidLocationConstraint', 'bogus region:');
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b })), 'NotFound', 404);
  });

  it('a request signed for the wrong region: 400 AuthorizationHeaderMalformed naming the region', async () => {
    const eu = bucketName('wr');
    await s3.send(new CreateBucketCommand({ Bucket: eu, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await client('eu-west-1').send(new PutObjectCommand({ Bucket: eu, Key: 'obj', Body: 'in eu' }));

    // Virtual-host style (DNS would have routed it to the bucket's region): AWS answers 400
    // AuthorizationHeaderMalformed naming the expected region.
    const vh = await signedSend(server.port, { method: 'GET', path: '/obj', host: `${eu}.localhost:${server.port}` }, { region: 'us-east-1' });
    assertError(vh, 400, 'AuthorizationHeaderMalformed');
    assert.equal(xmlText(vh.text, 'Region'), 'eu-west-1');
    assert.equal(vh.headers['x-amz-bucket-region'], 'eu-west-1');
    // Path style: 400 AuthorizationHeaderMalformed (this server's documented answer) or AWS's
    // 301 PermanentRedirect for a path-style request at the wrong regional endpoint; either
    // way x-amz-bucket-region names the region.
    const r = await signedSend(server.port, { method: 'GET', path: objectPath(eu, 'obj') }, { region: 'us-east-1' });
    assert.ok(
      (r.status === 400 && r.code === 'AuthorizationHeaderMalformed') || (r.status === 301 && r.code === 'PermanentRedirect'),
      `path-style wrong region: ${r.status} ${r.code}`,
    );
    assert.equal(r.headers['x-amz-bucket-region'], 'eu-west-1');

    // Nothing was written by a wrong-region PUT.
    const w = await signedSend(server.port, { method: 'PUT', path: objectPath(eu, 'new'), body: 'x' }, { region: 'us-west-2' });
    assert.ok(w.status === 400 || w.status === 301, `wrong-region PUT: ${w.status} ${w.code}`);
    assert.equal(w.headers['x-amz-bucket-region'], 'eu-west-1');
    const listed = await client('eu-west-1').send(new ListObjectsV2Command({ Bucket: eu }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['obj']);

    // Without following, the SDK surfaces the error with the region header.
    const e = await expectSdkErrorOneOf(s3.send(new GetObjectCommand({ Bucket: eu, Key: 'obj' })), ['AuthorizationHeaderMalformed', 'PermanentRedirect']);
    assert.equal(e.headers['x-amz-bucket-region'], 'eu-west-1');
  });

  it('the SDK with followRegionRedirects reaches a bucket in another region', async () => {
    const eu = bucketName('fr');
    await s3.send(new CreateBucketCommand({ Bucket: eu, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await client('eu-west-1').send(new PutObjectCommand({ Bucket: eu, Key: 'obj', Body: 'followed' }));
    const follower = client('us-east-1', { followRegionRedirects: true });
    const head = await follower.send(new HeadBucketCommand({ Bucket: eu }));
    assert.equal(head.BucketRegion, 'eu-west-1');
    // GetObject (path style, the helper's default) must be followed as well. @aws-sdk/client-s3
    // (middleware-sdk-s3 regionRedirectMiddleware) follows only a 301, or a 400 for HeadBucket or
    // IllegalLocationConstraintException; AWS answers a path-style request at the wrong regional
    // endpoint with 301 PermanentRedirect + x-amz-bucket-region, which it follows.
    const got = await follower.send(new GetObjectCommand({ Bucket: eu, Key: 'obj' }));
    assert.equal((await bodyBytes(got.Body)).toString(), 'followed');
  });

  it('ListBuckets: Prefix, MaxBuckets and ContinuationToken paging', async () => {
    const prefix = `pfx${Date.now().toString(36)}-`;
    const names = ['c', 'a', 'e', 'b', 'd'].map((s) => `${prefix}${s}`);
    for (const n of names) await s3.send(new CreateBucketCommand({ Bucket: n }));
    const filtered = await s3.send(new ListBucketsCommand({ Prefix: prefix }));
    assert.deepEqual(filtered.Buckets!.map((b) => b.Name), [...names].sort());
    assert.equal(filtered.Prefix, prefix);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2, ContinuationToken: token }));
      assert.ok(page.Buckets!.length <= 2);
      seen.push(...page.Buckets!.map((b) => b.Name!));
      token = page.ContinuationToken;
      pages++;
    } while (token && pages < 10);
    assert.deepEqual(seen, [...names].sort());
    assert.equal(pages, 3);
    const none = await s3.send(new ListBucketsCommand({ Prefix: `${prefix}zzz` }));
    assert.deepEqual(none.Buckets ?? [], []);
  });

  it('bucket tagging: put, get, replace, delete, NoSuchTagSet; InvalidTag', async () => {
    const b = bucketName('tag');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await expectSdkError(s3.send(new GetBucketTaggingCommand({ Bucket: b })), 'NoSuchTagSet', 404);
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket: b,
        Tagging: { TagSet: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'storage & co' }, { Key: 'empty', Value: '' }] },
      }),
    );
    const got = await s3.send(new GetBucketTaggingCommand({ Bucket: b }));
    const asMap = (t: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((t ?? []).map((x) => [x.Key, x.Value]));
    assert.deepEqual(asMap(got.TagSet), { env: 'test', team: 'storage & co', empty: '' });
    // A put replaces the whole set.
    await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'only', Value: '1' }] } }));
    assert.deepEqual(asMap((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet), { only: '1' });
    // Duplicate keys are refused and change nothing.
    await expectSdkError(
      s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'd', Value: '1' }, { Key: 'd', Value: '2' }] } })),
      'InvalidTag',
      400,
    );
    // Keys longer than 128 characters are refused.
    await expectSdkError(
      s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'k'.repeat(129), Value: '1' }] } })),
      'InvalidTag',
      400,
    );
    assert.deepEqual(asMap((await s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet), { only: '1' });
    const del = await s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectSdkError(s3.send(new GetBucketTaggingCommand({ Bucket: b })), 'NoSuchTagSet', 404);
    await expectSdkError(s3.send(new GetBucketTaggingCommand({ Bucket: `${b}-none` })), 'NoSuchBucket', 404);
  });

  it('virtual-host style (bucket.localhost:PORT) with forcePathStyle:false', async () => {
    // *.localhost does not resolve through this machine's resolver (glibc, nsswitch "files dns",
    // no nss-myhostname), so a custom lookup routes it to 127.0.0.1 whatever the machine does.
    const lookup = ((hostname: string, options: any, cb: any) => {
      if (typeof options === 'function') {
        cb = options;
        options = {};
      }
      if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
        if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
      } else dns.lookup(hostname, options, cb);
    }) as never;
    const agent = new http.Agent({ keepAlive: true, lookup } as http.AgentOptions);
    const vhost = client('us-east-1', {
      endpoint: `http://localhost:${server.port}`,
      forcePathStyle: false,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
    const hosts: string[] = [];
    vhost.middlewareStack.add(
      (next) => async (args: any) => {
        hosts.push(args.request.hostname);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHost' },
    );
    try {
      const b = bucketName('vh');
      await vhost.send(new CreateBucketCommand({ Bucket: b }));
      await vhost.send(new PutObjectCommand({ Bucket: b, Key: 'dir/file.txt', Body: 'virtual' }));
      const got = await vhost.send(new GetObjectCommand({ Bucket: b, Key: 'dir/file.txt' }));
      assert.equal((await bodyBytes(got.Body)).toString(), 'virtual');
      const listed = await vhost.send(new ListObjectsV2Command({ Bucket: b }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['dir/file.txt']);
      assert.ok(hosts.length >= 4);
      assert.ok(hosts.every((h) => h === `${b}.localhost`), `requests went to ${[...new Set(hosts)].join(', ')}`);
      // The same object is visible path-style.
      const viaPath = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dir/file.txt' }));
      assert.equal((await bodyBytes(viaPath.Body)).toString(), 'virtual');
      await vhost.send(new DeleteObjectCommand({ Bucket: b, Key: 'dir/file.txt' }));
      await vhost.send(new DeleteBucketCommand({ Bucket: b }));
    } finally {
      agent.destroy();
    }
  });
});
