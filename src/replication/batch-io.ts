/**
 * Objects that Batch Replication jobs read and write: the manifest they are given (a CSV file,
 * or an S3 Inventory manifest.json and its CSV files), and the files they produce (the
 * completion report, the generated manifest), written like a PutObject of the job's account.
 */
import { gunzipSync } from 'node:zlib';
import type { App } from '../app.js';
import type { BucketEntry } from '../objects/buckets.js';
import { openRange } from '../objects/data.js';
import { Digester } from '../objects/digester.js';
import type { ObjectBody } from '../objects/data.js';
import { putObject } from '../objects/put.js';
import { decodeKey, objectFromArn, parseCsv, parseCsvManifest, type JobFailure, type JobManifest, type ManifestEntry } from './batch-model.js';

/** Manifests are read whole; larger ones fail the job. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** A job-level failure found while preparing or finishing (FailureReasons of DescribeJob). */
export class JobFailed extends Error {
  constructor(readonly failure: JobFailure) {
    super(failure.reason);
  }
}

const fail = (code: string, reason: string) => new JobFailed({ code, reason: reason.slice(0, 256) });

/** The bytes of an object version (the latest when versionId is undefined). */
export async function readObject(
  app: App,
  bucketName: string,
  key: string,
  versionId: string | undefined,
): Promise<{ bytes: Buffer; etag: string } | undefined> {
  const bucket = app.buckets.get(bucketName);
  if (!bucket) return undefined;
  const v = await bucket.region.meta.getVersion(bucketName, key, versionId);
  if (!v || v.isDeleteMarker) return undefined;
  if (v.size > MAX_MANIFEST_BYTES) throw fail('ManifestTooLarge', `The manifest object is larger than ${MAX_MANIFEST_BYTES} bytes.`);
  if (v.size === 0) return { bytes: Buffer.alloc(0), etag: v.etag };
  const chunks: Buffer[] = [];
  for await (const c of openRange(bucket.region.blobs, v.data, 0, v.size - 1) as AsyncIterable<Buffer>) chunks.push(c);
  return { bytes: Buffer.concat(chunks), etag: v.etag };
}

const unquote = (etag: string) => etag.trim().replace(/^"(.*)"$/, '$1');

function maybeGunzip(b: Buffer): Buffer {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
}

/**
 * The entries of a job's manifest. The manifest object must exist (at ObjectVersionId when
 * given) and its ETag must match the job's; otherwise the job fails.
 */
export async function readManifest(app: App, m: JobManifest): Promise<ManifestEntry[]> {
  const loc = objectFromArn(m.objectArn)!;
  const obj = await readObject(app, loc.bucket, loc.key, m.objectVersionId);
  if (!obj) throw fail('ManifestNotFound', `Reading the manifest failed: ${m.objectArn} does not exist.`);
  if (unquote(m.etag) !== obj.etag) {
    throw fail('ManifestETagMismatch', `Reading the manifest failed: its ETag is "${obj.etag}", not ${m.etag} as the job says.`);
  }
  if (m.format === 'S3BatchOperations_CSV_20180820') {
    try {
      return parseCsvManifest(maybeGunzip(obj.bytes).toString('utf8'), m.fields!);
    } catch (e) {
      throw fail('ManifestInvalid', `Reading the manifest failed: ${(e as Error).message}`);
    }
  }
  return readInventoryManifest(app, obj.bytes);
}

/** An S3 Inventory manifest.json: its CSV files (gzipped or not) in its destination bucket. */
async function readInventoryManifest(app: App, bytes: Buffer): Promise<ManifestEntry[]> {
  let doc: { destinationBucket?: string; fileSchema?: string; files?: Array<{ key?: string }> };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw fail('ManifestInvalid', 'Reading the manifest failed: an S3 Inventory manifest must be a manifest.json document.');
  }
  const bucket = /^arn:[^:]+:s3:::(.+)$/.exec(doc.destinationBucket ?? '')?.[1];
  const schema = (doc.fileSchema ?? '').split(',').map((s) => s.trim());
  const bi = schema.indexOf('Bucket');
  const ki = schema.indexOf('Key');
  const vi = schema.indexOf('VersionId');
  if (!bucket || bi < 0 || ki < 0 || !Array.isArray(doc.files)) {
    throw fail('ManifestInvalid', 'Reading the manifest failed: the inventory manifest needs destinationBucket, a fileSchema with Bucket and Key, and files.');
  }
  const out: ManifestEntry[] = [];
  for (const f of doc.files) {
    const obj = f.key ? await readObject(app, bucket, f.key, undefined) : undefined;
    if (!obj) throw fail('ManifestNotFound', `Reading the manifest failed: inventory file ${f.key ?? '(no key)'} does not exist.`);
    let rows: string[][];
    try {
      rows = parseCsv(maybeGunzip(obj.bytes).toString('utf8'));
    } catch (e) {
      throw fail('ManifestInvalid', `Reading the manifest failed: ${f.key}: ${(e as Error).message}`);
    }
    for (const r of rows) {
      if (r.length <= Math.max(bi, ki)) continue;
      const e: ManifestEntry = { bucket: r[bi]!, key: decodeKey(r[ki]!) };
      const version = vi >= 0 ? r[vi] : undefined;
      if (version) e.versionId = version;
      out.push(e);
    }
  }
  return out;
}

/** An ObjectBody over bytes produced on the fly (no request behind it). */
export function generatedBody(chunks: AsyncIterable<Buffer>): ObjectBody {
  const digester = new Digester(undefined, false);
  let ended = false;
  async function* stream(): AsyncGenerator<Buffer> {
    for await (const c of chunks) {
      digester.update(c);
      yield c;
    }
    ended = true;
  }
  return {
    length: undefined,
    stream: stream(),
    async finish() {
      if (!ended) throw new Error('generated body not fully read');
      return digester.digest();
    },
  };
}

/** Writes an object as the job's account; returns its ETag (hex MD5). */
export async function writeObject(
  app: App,
  bucket: BucketEntry,
  key: string,
  chunks: AsyncIterable<Buffer>,
  contentType: string,
  owner: string,
): Promise<string> {
  const v = await putObject(
    bucket,
    key,
    generatedBody(chunks),
    { meta: { contentType, user: {} }, tags: [], storageClass: 'STANDARD', owner, lastModified: app.clock() },
    app.config.inlineThreshold,
  );
  return v.etag;
}

export async function* once(b: Buffer | string): AsyncGenerator<Buffer> {
  yield Buffer.isBuffer(b) ? b : Buffer.from(b, 'utf8');
}
