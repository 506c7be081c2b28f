/**
 * Listing checked against a model computed in the test from the key set (UTF-8 byte order,
 * delimiter roll-up, paging by max-keys), and versioning semantics with ListObjectVersions
 * paging checked against the expected sequence of versions and delete markers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, startServer, type TestServer } from '../helpers/server.js';
import { assertError, bodyBytes, decodeXml, expectSdkError, expectSdkErrorOneOf, expectSdkStatus, md5b64, objectPath, signedSend, xmlAll, xmlText } from '../helpers/s3http.js';

let server: TestServer;
let s3: S3Client;
const clients: S3Client[] = [];

const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const gt = (a: string, b: string) => cmp(a, b) > 0;

/** The key set: nested prefixes, neighbours of '/', unicode whose UTF-16 and UTF-8 orders differ. */
function makeKeys(): string[] {
  const keys = new Set<string>();
  for (let i = 0; i < 60; i++) keys.add(`a/b/c/${String(i).padStart(3, '0')}`);
  for (let i = 0; i < 30; i++) keys.add(`a/x${i}`);
  for (let i = 0; i < 20; i++) keys.add(`a/b/${i}`);
  for (let i = 0; i < 25; i++) keys.add(`a/b/c/d/e/${i}`);
  for (let i = 0; i < 25; i++) keys.add(`z/${i}/leaf`);
  for (let i = 0; i < 20; i++) keys.add(`flat-${String(i).padStart(2, '0')}`);
  for (const k of [
    'a', 'a/', 'a-', 'a.', 'a0', 'a//double', 'a/b', 'a/b/', 'a/b/c/', // around '/'
    'p', 'p!', 'p-1', 'p.1', 'p/', 'p/1', 'p/1/2', 'p0', 'p~', 'p ', 'p+plus', 'p%25',
    'ü', 'ü/1', 'ü/2/3', 'é', 'e\u0301', // precomposed and combining
    '日本/語', '日本/人/x', '日本',
    '\uFF5E', '\uFFFD', '\uE000', '\uE000/x', '😀', '😀/grin', '😀😀', '𝄞/music',
    'key with spaces/inner', 'tab\tkey', 'new\nline', 'amp&lt<gt>', "quote'\"",
    '~tilde', '!bang', '#hash', '$dollar', '(paren)', '*star', '=eq', '?q', '@at', '[br]', '^caret', '`tick', '{brace}', '|pipe',
  ]) keys.add(k);
  for (let i = 0; i < 40; i++) keys.add(`m/${String.fromCodePoint(0x4e00 + i * 37)}/${i}`);
  for (let i = 0; i < 30; i++) keys.add(`deep/${i % 4}/${i}/x/y`);
  return [...keys];
}

type Entry = { kind: 'key'; value: string } | { kind: 'prefix'; value: string };

/** What a full listing returns, in order: keys and common prefixes. */
function modelEntries(keys: string[], o: { prefix?: string; delimiter?: string; after?: string }): Entry[] {
  const prefix = o.prefix ?? '';
  const sorted = keys.filter((k) => k.startsWith(prefix) && (o.after === undefined || gt(k, o.after))).sort(cmp);
  const out: Entry[] = [];
  let lastPrefix: string | undefined;
  for (const k of sorted) {
    if (o.delimiter) {
      const rest = k.slice(prefix.length);
      const i = rest.indexOf(o.delimiter);
      if (i >= 0) {
        const cp = prefix + rest.slice(0, i + o.delimiter.length);
        if (cp !== lastPrefix) out.push({ kind: 'prefix', value: cp });
        lastPrefix = cp;
        continue;
      }
    }
    out.push({ kind: 'key', value: k });
  }
  return out;
}

function chunk<T>(a: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < a.length; i += n) out.push(a.slice(i, i + n));
  return out.length ? out : [[]];
}

/** A page's entries in the order the model uses (keys and prefixes merged by byte order). */
function pageEntries(contents: Array<{ Key?: string }> | undefined, prefixes: Array<{ Prefix?: string }> | undefined): Entry[] {
  const e: Entry[] = [
    ...(contents ?? []).map((c) => ({ kind: 'key' as const, value: c.Key! })),
    ...(prefixes ?? []).map((p) => ({ kind: 'prefix' as const, value: p.Prefix! })),
  ];
  return e.sort((x, y) => cmp(x.value, y.value));
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

describe('listing against a model (SDK)', () => {
  let bucket: string;
  const keys = makeKeys();

  before(async () => {
    server = await startServer();
    s3 = server.client({ maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    clients.push(s3);
    bucket = bucketName('list');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await pool(keys, 16, async (Key) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.from(Key) }));
    });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  });

  it(`the key set is ${keys.length} keys; a full listing is every key in UTF-8 byte order`, async () => {
    assert.ok(keys.length >= 290, `${keys.length} keys`);
    const got: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      got.push(...(r.Contents ?? []).map((c) => c.Key!));
      token = r.NextContinuationToken;
    } while (token);
    assert.deepEqual(got, [...keys].sort(cmp));
    // Sanity of the model: byte order differs from JS string order for these keys.
    assert.notDeepEqual([...keys].sort(cmp), [...keys].sort());
  });

  const v2Cases: Array<{ prefix?: string; delimiter?: string; after?: string; maxKeys: number[] }> = [
    { maxKeys: [1, 2, 3, 4, 5, 6, 7, 1000] },
    { delimiter: '/', maxKeys: [1, 2, 3, 4, 5, 6, 7, 1000] },
    { prefix: 'a/', delimiter: '/', maxKeys: [1, 2, 3, 5, 7] },
    { prefix: 'a/b/', delimiter: '/', maxKeys: [1, 2, 4, 7] },
    { prefix: 'a/b/c/', maxKeys: [3, 7] },
    { prefix: 'p', delimiter: '/', maxKeys: [1, 2, 3] },
    { prefix: 'a', delimiter: '/', maxKeys: [1, 3] },
    { prefix: '😀', delimiter: '/', maxKeys: [1, 2] },
    { prefix: 'm/', delimiter: '/', maxKeys: [6] },
    { delimiter: 'b', maxKeys: [3, 1000] }, // a delimiter other than '/'
    { prefix: 'a/', delimiter: 'c/', maxKeys: [2, 1000] }, // a multi-character delimiter
    { prefix: 'nothing-here/', delimiter: '/', maxKeys: [1, 1000] },
    { after: 'p', maxKeys: [5] },
    { after: 'a-', delimiter: '/', maxKeys: [2, 7] },
    { after: 'flat-05', delimiter: '/', maxKeys: [4] },
    { prefix: 'a/', after: 'a/x1', maxKeys: [7] },
    { after: '\uFFFF', maxKeys: [3] }, // between the 3-byte and 4-byte code points
    { after: '~~~~', maxKeys: [5] },
  ];

  for (const c of v2Cases) {
    it(`ListObjectsV2 pages: prefix=${JSON.stringify(c.prefix)} delimiter=${JSON.stringify(c.delimiter)} start-after=${JSON.stringify(c.after)}`, async () => {
      const entries = modelEntries(keys, c);
      for (const maxKeys of c.maxKeys) {
        const expectedPages = chunk(entries, maxKeys);
        let token: string | undefined;
        for (const [i, expected] of expectedPages.entries()) {
          const r = await s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: c.prefix,
              Delimiter: c.delimiter,
              StartAfter: c.after,
              MaxKeys: maxKeys,
              ContinuationToken: token,
            }),
          );
          const what = `max-keys ${maxKeys}, page ${i + 1}/${expectedPages.length}`;
          assert.deepEqual(pageEntries(r.Contents, r.CommonPrefixes), expected, what);
          assert.equal(r.KeyCount, expected.length, `${what}: KeyCount counts keys and prefixes`);
          assert.equal(r.MaxKeys, maxKeys);
          assert.equal(r.Prefix ?? '', c.prefix ?? '');
          assert.equal(r.Delimiter, c.delimiter);
          assert.equal(r.StartAfter, c.after);
          assert.equal(r.ContinuationToken, token);
          const last = i === expectedPages.length - 1;
          assert.equal(r.IsTruncated, !last, `${what}: IsTruncated`);
          if (last) assert.equal(r.NextContinuationToken, undefined);
          else assert.ok(r.NextContinuationToken, `${what}: NextContinuationToken`);
          token = r.NextContinuationToken;
          for (const obj of r.Contents ?? []) {
            assert.equal(obj.Size, Buffer.byteLength(obj.Key!));
            assert.match(obj.ETag ?? '', /^"[0-9a-f]{32}"$/);
            assert.equal(obj.StorageClass, 'STANDARD');
            assert.equal(obj.Owner, undefined, 'no Owner without fetch-owner');
          }
        }
      }
    });
  }

  const v1Cases: Array<{ prefix?: string; delimiter?: string; marker?: string; maxKeys: number[] }> = [
    { maxKeys: [3, 7] },
    { delimiter: '/', maxKeys: [1, 2, 5] },
    { prefix: 'a/b/', delimiter: '/', maxKeys: [1, 3] },
    { prefix: 'p', delimiter: '/', marker: 'p-1', maxKeys: [2] },
    { marker: 'z/', maxKeys: [4] },
  ];

  for (const c of v1Cases) {
    it(`ListObjects (v1) pages: prefix=${JSON.stringify(c.prefix)} delimiter=${JSON.stringify(c.delimiter)} marker=${JSON.stringify(c.marker)}`, async () => {
      const entries = modelEntries(keys, { prefix: c.prefix, delimiter: c.delimiter, after: c.marker });
      for (const maxKeys of c.maxKeys) {
        const expectedPages = chunk(entries, maxKeys);
        let marker = c.marker;
        for (const [i, expected] of expectedPages.entries()) {
          const r = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: c.prefix, Delimiter: c.delimiter, Marker: marker, MaxKeys: maxKeys }));
          const what = `max-keys ${maxKeys}, page ${i + 1}/${expectedPages.length}`;
          assert.deepEqual(pageEntries(r.Contents, r.CommonPrefixes), expected, what);
          assert.equal(r.Marker ?? '', marker ?? '');
          const last = i === expectedPages.length - 1;
          assert.equal(r.IsTruncated, !last, `${what}: IsTruncated`);
          if (!last) {
            const lastEntry = expected[expected.length - 1]!.value;
            if (c.delimiter) assert.equal(r.NextMarker, lastEntry, `${what}: NextMarker (returned when a delimiter is given)`);
            else assert.equal(r.NextMarker, undefined, `${what}: no NextMarker without a delimiter`);
            marker = r.NextMarker ?? r.Contents![r.Contents!.length - 1]!.Key;
          }
        }
      }
    });
  }

  it('encoding-type=url encodes keys, prefixes, delimiter and start-after (ListObjectsV2, v1, versions)', async () => {
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    const check = (xml: string, prefix: string) => {
      assert.equal(xmlText(xml, 'EncodingType'), 'url');
      const listed = xmlAll(xml, 'Key').map(decodeXml);
      assert.ok(listed.length > 0);
      for (const k of listed) {
        assert.doesNotMatch(k, /[^\x21-\x7e]/, `encoded key ${JSON.stringify(k)} has only printable ASCII`);
        assert.ok(decode(k).startsWith(prefix));
      }
      return listed.map(decode);
    };
    const pfx = '😀';
    const r2 = await signedSend(server.port, {
      method: 'GET',
      path: objectPath(bucket),
      query: { 'list-type': '2', 'encoding-type': 'url', prefix: pfx, delimiter: '/', 'start-after': '😀' },
    });
    assert.equal(r2.status, 200, r2.text);
    const k2 = check(r2.text, pfx);
    assert.deepEqual(k2, modelEntries(keys, { prefix: pfx, delimiter: '/', after: '😀' }).filter((e) => e.kind === 'key').map((e) => e.value));
    assert.equal(decode(xmlText(r2.text, 'Prefix')!), pfx);
    assert.equal(decode(xmlText(r2.text, 'StartAfter')!), '😀');
    assert.notEqual(xmlText(r2.text, 'Prefix'), pfx, 'Prefix is encoded');
    const cps = xmlAll(r2.text, 'CommonPrefixes').map((x) => decode(decodeXml(xmlText(x, 'Prefix')!)));
    assert.deepEqual(cps, ['😀/']);

    // Every key, including control characters and '+', survives the encoding.
    const all: string[] = [];
    let token: string | undefined;
    do {
      const r = await signedSend(server.port, {
        method: 'GET',
        path: objectPath(bucket),
        query: { 'list-type': '2', 'encoding-type': 'url', 'max-keys': '100', ...(token ? { 'continuation-token': token } : {}) },
      });
      assert.equal(r.status, 200);
      all.push(...check(r.text, ''));
      token = xmlText(r.text, 'NextContinuationToken');
    } while (token);
    assert.deepEqual(all, [...keys].sort(cmp));

    const r1 = await signedSend(server.port, { method: 'GET', path: objectPath(bucket), query: { 'encoding-type': 'url', prefix: 'new', marker: 'ne' } });
    assert.equal(r1.status, 200);
    assert.deepEqual(check(r1.text, 'new'), ['new\nline']);
    assert.equal(xmlText(r1.text, 'Marker'), 'ne');
    const rv = await signedSend(server.port, { method: 'GET', path: objectPath(bucket), query: { versions: '', 'encoding-type': 'url', prefix: 'tab' } });
    assert.equal(rv.status, 200);
    assert.deepEqual(check(rv.text, 'tab'), ['tab\tkey']);
    // Only "url" is an encoding.
    const bad = await signedSend(server.port, { method: 'GET', path: objectPath(bucket), query: { 'list-type': '2', 'encoding-type': 'base64' } });
    assertError(bad, 400, 'InvalidArgument');
  });

  it('fetch-owner, max-keys bounds and invalid continuation tokens', async () => {
    const withOwner = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2, FetchOwner: true }));
    assert.equal(withOwner.Contents?.length, 2);
    for (const c of withOwner.Contents!) assert.ok(c.Owner?.ID, 'Owner with fetch-owner');
    const over = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 5000 }));
    assert.equal(over.Contents?.length, Math.min(1000, keys.length));
    const neg = await signedSend(server.port, { method: 'GET', path: objectPath(bucket), query: { 'list-type': '2', 'max-keys': '-1' } });
    assertError(neg, 400, 'InvalidArgument');
    const tok = await signedSend(server.port, { method: 'GET', path: objectPath(bucket), query: { 'list-type': '2', 'continuation-token': 'not a token!' } });
    assertError(tok, 400, 'InvalidArgument');
  });
});

// ---------------------------------------------------------------------------------------------

interface ModelVersion {
  id: string;
  marker: boolean;
  body?: string;
}

describe('versioning (SDK)', () => {
  let vs: TestServer;
  let c: S3Client;
  before(async () => {
    vs = await startServer();
    c = vs.client({ maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  });
  after(async () => {
    c?.destroy();
    await vs?.stop();
    if (vs) fs.rmSync(vs.dataDir, { recursive: true, force: true });
  });

  const text = async (Bucket: string, Key: string, VersionId?: string) =>
    (await bodyBytes((await c.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body)).toString();

  async function versionsInOrder(Bucket: string, query: Record<string, string> = {}) {
    const r = await signedSend(vs.port, { method: 'GET', path: objectPath(Bucket), query: { versions: '', ...query } });
    assert.equal(r.status, 200, r.text);
    const entries = [...r.text.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)].map((m) => ({
      kind: m[1]!,
      key: decodeXml(xmlText(m[2]!, 'Key')!),
      id: xmlText(m[2]!, 'VersionId')!,
      latest: xmlText(m[2]!, 'IsLatest') === 'true',
    }));
    return { entries, xml: r.text };
  }

  it('enable: every PUT is a version; GET/HEAD by versionId; versioning status', async () => {
    const b = bucketName('ver');
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const initial = await c.send(new GetBucketVersioningCommand({ Bucket: b }));
    assert.equal(initial.Status, undefined, 'a new bucket has no versioning status');
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    const ids: string[] = [];
    for (const body of ['v1', 'v2', 'v3']) {
      const r = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: body }));
      assert.ok(r.VersionId && r.VersionId !== 'null', 'a real version id');
      ids.push(r.VersionId);
    }
    assert.equal(new Set(ids).size, 3);
    assert.equal(await text(b, 'k'), 'v3');
    for (const [i, id] of ids.entries()) {
      assert.equal(await text(b, 'k', id), `v${i + 1}`);
      const h = await c.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: id }));
      assert.equal(h.VersionId, id);
      assert.equal(h.ContentLength, 2);
    }
    const g = await c.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(g.VersionId, ids[2]);
    const { entries } = await versionsInOrder(b);
    assert.deepEqual(entries.map((e) => [e.kind, e.id, e.latest]), [
      ['Version', ids[2], true],
      ['Version', ids[1], false],
      ['Version', ids[0], false],
    ]);
    // An unknown version id: 404 NoSuchVersion (AWS says 400 InvalidArgument if it is malformed).
    await expectSdkErrorOneOf(c.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })), [
      'NoSuchVersion',
      'InvalidArgument',
    ]);
    // Invalid configuration.
    const bad = await signedSend(vs.port, {
      method: 'PUT',
      path: objectPath(b),
      query: { versioning: '' },
      headers: { 'content-md5': md5b64('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>On</Status></VersioningConfiguration>') },
      body: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>On</Status></VersioningConfiguration>',
    });
    assertError(bad, 400, 'MalformedXML');
    assert.equal((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
  });

  it('delete markers: DELETE makes one; GET 404 with x-amz-delete-marker; GET of its version 405; deleting it restores', async () => {
    const b = bucketName('dm');
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'data' }));
    const del = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.ok(del.VersionId && del.VersionId !== v1.VersionId);
    const markerId = del.VersionId!;

    const get = await signedSend(vs.port, { method: 'GET', path: objectPath(b, 'k') });
    assertError(get, 404, 'NoSuchKey');
    assert.equal(get.headers['x-amz-delete-marker'], 'true');
    assert.equal(get.headers['x-amz-version-id'], markerId);
    const head = await signedSend(vs.port, { method: 'HEAD', path: objectPath(b, 'k') });
    assert.equal(head.status, 404);
    assert.equal(head.headers['x-amz-delete-marker'], 'true');
    await expectSdkError(c.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);

    const getMarker = await signedSend(vs.port, { method: 'GET', path: objectPath(b, 'k'), query: { versionId: markerId } });
    assertError(getMarker, 405, 'MethodNotAllowed');
    assert.equal(getMarker.headers['x-amz-delete-marker'], 'true');
    assert.equal(getMarker.headers['x-amz-version-id'], markerId);
    assert.ok(getMarker.headers['last-modified'], 'a 405 for a delete marker carries Last-Modified');
    const headMarker = await signedSend(vs.port, { method: 'HEAD', path: objectPath(b, 'k'), query: { versionId: markerId } });
    assert.equal(headMarker.status, 405);
    assert.equal(headMarker.headers['x-amz-delete-marker'], 'true');
    // The old version is still readable by id.
    assert.equal(await text(b, 'k', v1.VersionId), 'data');
    // Not listed by ListObjects; listed by ListObjectVersions.
    const l = await c.send(new ListObjectsV2Command({ Bucket: b }));
    assert.equal(l.KeyCount, 0);
    const { entries } = await versionsInOrder(b);
    assert.deepEqual(entries.map((e) => [e.kind, e.id, e.latest]), [
      ['DeleteMarker', markerId, true],
      ['Version', v1.VersionId, false],
    ]);
    // Deleting the marker by id brings the object back.
    const undel = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: markerId }));
    assert.equal(undel.DeleteMarker, true, 'x-amz-delete-marker: the deleted version was a marker');
    assert.equal(undel.VersionId, markerId);
    assert.equal(await text(b, 'k'), 'data');
    assert.equal((await c.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 1);
    // Deleting a version by id is permanent.
    const perm = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1.VersionId }));
    assert.equal(perm.VersionId, v1.VersionId);
    assert.equal(perm.DeleteMarker, undefined);
    await expectSdkError(c.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);
    assert.deepEqual((await versionsInOrder(b)).entries, []);
    // Two DELETEs in a row make two markers.
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'twice', Body: 'x' }));
    const m1 = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'twice' }));
    const m2 = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'twice' }));
    assert.notEqual(m1.VersionId, m2.VersionId);
    const tw = await versionsInOrder(b, { prefix: 'twice' });
    assert.deepEqual(tw.entries.map((e) => e.kind), ['DeleteMarker', 'DeleteMarker', 'Version']);
    // DeleteObjects in a versioned bucket: markers for plain keys, permanent deletes for versions.
    const d1 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'multi-1', Body: '1' }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'multi-2', Body: '2' }));
    const multi = await c.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'multi-1', VersionId: d1.VersionId }, { Key: 'multi-2' }] } }),
    );
    const byKey = new Map((multi.Deleted ?? []).map((x) => [x.Key, x]));
    assert.equal(byKey.get('multi-1')?.VersionId, d1.VersionId);
    assert.ok(!byKey.get('multi-1')?.DeleteMarker);
    assert.equal(byKey.get('multi-2')?.DeleteMarker, true);
    assert.ok(byKey.get('multi-2')?.DeleteMarkerVersionId, 'DeleteMarkerVersionId of the new marker');
    const mv = await versionsInOrder(b, { prefix: 'multi-' });
    assert.deepEqual(mv.entries.map((x) => [x.kind, x.key]), [
      ['DeleteMarker', 'multi-2'],
      ['Version', 'multi-2'],
    ]);
    assert.equal(mv.entries[0]!.id, byKey.get('multi-2')?.DeleteMarkerVersionId);
    // HEAD of a marker through the SDK: 405.
    await expectSdkStatus(c.send(new HeadObjectCommand({ Bucket: b, Key: 'twice', VersionId: m2.VersionId })), 405);
  });

  it('null versions: pre-versioning objects, suspended-mode PUT replaces the null version, suspended DELETE', async () => {
    const b = bucketName('null');
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const pre = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'unversioned' }));
    assert.equal(pre.VersionId, undefined, 'no x-amz-version-id before versioning');
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'enabled-1' }));
    assert.equal(await text(b, 'k', 'null'), 'unversioned', 'the pre-versioning object is version "null"');
    let e = (await versionsInOrder(b)).entries;
    assert.deepEqual(e.map((x) => x.id), [v1.VersionId, 'null']);

    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
    const s1 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'suspended-1' }));
    assert.equal(s1.VersionId, 'null');
    e = (await versionsInOrder(b)).entries;
    assert.deepEqual(e.map((x) => [x.id, x.latest]), [['null', true], [v1.VersionId, false]], 'the old null version was replaced');
    const s2 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'suspended-2' }));
    assert.equal(s2.VersionId, 'null');
    e = (await versionsInOrder(b)).entries;
    assert.equal(e.length, 2);
    assert.equal(await text(b, 'k'), 'suspended-2');
    assert.equal(await text(b, 'k', 'null'), 'suspended-2');
    assert.equal(await text(b, 'k', v1.VersionId), 'enabled-1');
    // DELETE while suspended: a null delete marker that replaces the null version.
    const d = await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(d.DeleteMarker, true);
    assert.equal(d.VersionId, 'null');
    e = (await versionsInOrder(b)).entries;
    assert.deepEqual(e.map((x) => [x.kind, x.id, x.latest]), [
      ['DeleteMarker', 'null', true],
      ['Version', v1.VersionId, false],
    ]);
    // Re-enabled: new versions stack on top; the null marker stays until deleted by id.
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v2 = await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'enabled-2' }));
    e = (await versionsInOrder(b)).entries;
    assert.deepEqual(e.map((x) => [x.kind, x.id]), [
      ['Version', v2.VersionId],
      ['DeleteMarker', 'null'],
      ['Version', v1.VersionId],
    ]);
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
    e = (await versionsInOrder(b)).entries;
    assert.deepEqual(e.map((x) => x.id), [v2.VersionId, v1.VersionId]);
    // Versioning cannot be turned off once on.
    const off = await signedSend(vs.port, {
      method: 'PUT',
      path: objectPath(b),
      query: { versioning: '' },
      headers: { 'content-md5': md5b64('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Disabled</Status></VersioningConfiguration>') },
      body: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Disabled</Status></VersioningConfiguration>',
    });
    assert.equal(off.status, 400, off.text);
  });

  it('ListObjectVersions paging with small max-keys matches the expected sequence', async () => {
    const b = bucketName('lov');
    await c.send(new CreateBucketCommand({ Bucket: b }));
    // One key before versioning: a null version.
    const model = new Map<string, ModelVersion[]>(); // newest first
    const add = (key: string, v: ModelVersion) => model.set(key, [v, ...(model.get(key) ?? [])]);
    await c.send(new PutObjectCommand({ Bucket: b, Key: 'b/null-first', Body: 'n' }));
    add('b/null-first', { id: 'null', marker: false });
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const plan: Array<[string, 'put' | 'del']> = [];
    const keys = ['a', 'a/1', 'a/2', 'b/null-first', 'b/x', 'c', 'é', '😀'];
    for (let round = 0; round < 4; round++) {
      for (const [i, k] of keys.entries()) {
        if ((i + round) % 3 === 0) plan.push([k, 'del']);
        else plan.push([k, 'put']);
      }
    }
    for (const [k, op] of plan) {
      if (op === 'put') {
        const r = await c.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
        add(k, { id: r.VersionId!, marker: false });
      } else {
        const r = await c.send(new DeleteObjectCommand({ Bucket: b, Key: k }));
        assert.equal(r.DeleteMarker, true);
        add(k, { id: r.VersionId!, marker: true });
      }
    }
    const expected = [...model.keys()].sort(cmp).flatMap((k) =>
      model.get(k)!.map((v, i) => ({ kind: v.marker ? 'DeleteMarker' : 'Version', key: k, id: v.id, latest: i === 0 })),
    );
    assert.ok(expected.length >= 30);
    const full = await versionsInOrder(b);
    assert.deepEqual(full.entries, expected, 'the full version list');

    for (const maxKeys of [1, 2, 3, 5, 7]) {
      const pages = chunk(expected, maxKeys);
      let keyMarker: string | undefined;
      let idMarker: string | undefined;
      for (const [i, want] of pages.entries()) {
        const r = await versionsInOrder(b, {
          'max-keys': String(maxKeys),
          ...(keyMarker !== undefined ? { 'key-marker': keyMarker } : {}),
          ...(idMarker !== undefined ? { 'version-id-marker': idMarker } : {}),
        });
        const what = `max-keys ${maxKeys} page ${i + 1}/${pages.length}`;
        assert.deepEqual(r.entries, want, what);
        const last = i === pages.length - 1;
        assert.equal(xmlText(r.xml, 'IsTruncated'), String(!last), `${what} IsTruncated`);
        if (!last) {
          const end = want[want.length - 1]!;
          assert.equal(decodeXml(xmlText(r.xml, 'NextKeyMarker') ?? ''), end.key, `${what} NextKeyMarker`);
          assert.equal(xmlText(r.xml, 'NextVersionIdMarker'), end.id, `${what} NextVersionIdMarker`);
          keyMarker = end.key;
          idMarker = end.id;
        }
      }
    }
    // The SDK's view: versions and markers split, same totals.
    const sdk = await c.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal((sdk.Versions ?? []).length, expected.filter((x) => x.kind === 'Version').length);
    assert.equal((sdk.DeleteMarkers ?? []).length, expected.filter((x) => x.kind === 'DeleteMarker').length);
    for (const v of sdk.Versions ?? []) assert.ok(v.ETag && v.Size !== undefined && v.LastModified);
    // key-marker alone: everything after that key.
    const afterA = await versionsInOrder(b, { 'key-marker': 'a/2' });
    assert.deepEqual(afterA.entries, expected.filter((x) => gt(x.key, 'a/2')));
    // Prefix and delimiter.
    const delim = await versionsInOrder(b, { delimiter: '/' });
    assert.deepEqual(delim.entries, expected.filter((x) => !x.key.includes('/')));
    assert.deepEqual(xmlAll(delim.xml, 'CommonPrefixes').map((x) => xmlText(x, 'Prefix')), ['a/', 'b/']);
    const pre = await versionsInOrder(b, { prefix: 'b/' });
    assert.deepEqual(pre.entries, expected.filter((x) => x.key.startsWith('b/')));
    // version-id-marker without key-marker is an error.
    const bad = await signedSend(vs.port, { method: 'GET', path: objectPath(b), query: { versions: '', 'version-id-marker': expected[0]!.id } });
    assertError(bad, 400, 'InvalidArgument');
  });
});
