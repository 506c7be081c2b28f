/**
 * Objects that Batch Replication jobs read and write: the manifest they are given (a CSV file,
 * or an S3 Inventory manifest.json and its CSV files), and the files they produce (the
 * completion report, the generated manifest), written like a PutObject of the job's account.
 *
 * Manifests are user-supplied objects of any size, read while the server serves requests: they
 * are streamed (never held whole), gunzipped by zlib's thread pool with a cap on the output (a
 * gzip bomb fails the job, ManifestTooLarge), and parsed in small pieces with the event loop
 * running between them; entries come out in batches the runner stores as they come.
 */
import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type { App } from '../app.js';
import { bucketFromArn, objectFromArn } from '../objects/arn.js';
import type { BucketEntry } from '../objects/buckets.js';
import type { ObjectBody } from '../objects/data.js';
import { openPlaintext, seal } from '../objects/encryption.js';
import { Digester } from '../objects/digester.js';
import { putObject } from '../objects/put.js';
import type { VersionRecord } from '../storage/types.js';
import {
  CsvParser,
  csvManifestLayout,
  inventoryLayout,
  manifestEntry,
  type JobFailure,
  type JobManifest,
  type ManifestEntry,
  type ManifestLayout,
} from './batch-model.js';

/** The text of a manifest (a CSV manifest, each inventory file), after gunzip: larger fails the job. */
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;
/**
 * A gzipped manifest object: CSV manifests compress about 5-10 times, so this reaches the text
 * limit; a larger object is refused before any of it is decompressed.
 */
const MAX_COMPRESSED_MANIFEST_BYTES = 64 * 1024 * 1024;
/** An S3 Inventory manifest.json, parsed whole (it only lists the CSV files). */
const MAX_INVENTORY_JSON_BYTES = 16 * 1024 * 1024;
/** Text parsed between two turns of the event loop. */
const PARSE_PIECE = 64 * 1024;
/** Entries handed out at once (each batch is one store write). */
const ENTRY_BATCH = 1000;

/** A job-level failure found while preparing or finishing (FailureReasons of DescribeJob). */
export class JobFailed extends Error {
  constructor(readonly failure: JobFailure) {
    super(failure.reason);
  }
}

const fail = (code: string, reason: string) => new JobFailed({ code, reason: reason.slice(0, 256) });

const tooLarge = (what: string) =>
  fail('ManifestTooLarge', `Reading the manifest failed: ${what} is larger than ${MAX_MANIFEST_BYTES} bytes (uncompressed).`);

/** An object version (the latest when versionId is undefined), or undefined when there is none. */
async function findVersion(app: App, bucketName: string, key: string, versionId: string | undefined): Promise<{ bucket: BucketEntry; v: VersionRecord } | undefined> {
  const bucket = app.buckets.get(bucketName);
  if (!bucket) return undefined;
  const v = await bucket.region.meta.getVersion(bucketName, key, versionId);
  if (!v || v.isDeleteMarker) return undefined;
  return { bucket, v };
}

/** A manifest's plaintext (objects are encrypted at rest; SSE-C manifests cannot be read). */
function openVersion(app: App, bucket: BucketEntry, v: VersionRecord): Readable {
  return openPlaintext(app, bucket, v, 0, v.size - 1);
}

const unquote = (etag: string) => etag.trim().replace(/^"(.*)"$/, '$1');

/**
 * The entries of a job's manifest, in batches. The manifest object must exist (at
 * ObjectVersionId when given) and its ETag must match the job's; otherwise, or when it cannot
 * be read, the job fails (JobFailed).
 */
export async function* readManifest(app: App, m: JobManifest): AsyncGenerator<ManifestEntry[]> {
  const loc = objectFromArn(m.objectArn);
  const found = loc && (await findVersion(app, loc.bucket, loc.key, m.objectVersionId));
  if (!found) throw fail('ManifestNotFound', `Reading the manifest failed: ${m.objectArn} does not exist.`);
  if (unquote(m.etag) !== found.v.etag) {
    throw fail('ManifestETagMismatch', `Reading the manifest failed: its ETag is "${found.v.etag}", not ${m.etag} as the job says.`);
  }
  if (m.format === 'S3BatchOperations_CSV_20180820') {
    let l: ManifestLayout;
    try {
      l = csvManifestLayout(m.fields ?? []);
    } catch (e) {
      throw fail('ManifestInvalid', `Reading the manifest failed: ${(e as Error).message}`);
    }
    yield* objectEntries(app, found.bucket, found.v, l, 'the manifest');
    return;
  }
  yield* inventoryEntries(app, found.bucket, found.v);
}

/** An S3 Inventory manifest.json: its CSV files (gzipped or not) in its destination bucket. */
async function* inventoryEntries(app: App, bucket: BucketEntry, v: VersionRecord): AsyncGenerator<ManifestEntry[]> {
  if (v.size > MAX_INVENTORY_JSON_BYTES) {
    throw fail('ManifestTooLarge', `Reading the manifest failed: an S3 Inventory manifest.json is at most ${MAX_INVENTORY_JSON_BYTES} bytes.`);
  }
  const chunks: Buffer[] = [];
  if (v.size > 0) for await (const c of openVersion(app, bucket, v) as AsyncIterable<Buffer>) chunks.push(c);
  let doc: { destinationBucket?: string; fileSchema?: string; files?: Array<{ key?: string }> };
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw fail('ManifestInvalid', 'Reading the manifest failed: an S3 Inventory manifest must be a manifest.json document.');
  }
  const filesBucket = bucketFromArn(doc.destinationBucket ?? '');
  const l = inventoryLayout(doc.fileSchema ?? '');
  if (!filesBucket || !l || !Array.isArray(doc.files)) {
    throw fail('ManifestInvalid', 'Reading the manifest failed: the inventory manifest needs destinationBucket, a fileSchema with Bucket and Key, and files.');
  }
  for (const f of doc.files) {
    const file = f.key ? await findVersion(app, filesBucket, f.key, undefined) : undefined;
    if (!file) throw fail('ManifestNotFound', `Reading the manifest failed: inventory file ${f.key ?? '(no key)'} does not exist.`);
    yield* objectEntries(app, file.bucket, file.v, l, `inventory file ${f.key}`);
  }
}

/** The entries of one CSV object; `what` names it in failure messages. */
async function* objectEntries(app: App, bucket: BucketEntry, v: VersionRecord, l: ManifestLayout, what: string): AsyncGenerator<ManifestEntry[]> {
  if (v.size > MAX_MANIFEST_BYTES) throw tooLarge(what);
  if (v.size === 0) return;
  const body = openVersion(app, bucket, v);
  try {
    yield* manifestEntries(body, l, what);
  } finally {
    // Also when the reader stops early: the blob stays pinned while its stream is open.
    body.destroy();
  }
}

/**
 * The entries of a manifest's bytes (gzipped or not), in batches of at most ENTRY_BATCH.
 * Failures are JobFailed: ManifestTooLarge past MAX_COMPRESSED_MANIFEST_BYTES of gzip or
 * MAX_MANIFEST_BYTES of text, ManifestInvalid for broken gzip or CSV; errors reading the bytes
 * themselves pass through (the step is tried again).
 */
export async function* manifestEntries(data: AsyncIterable<Buffer>, l: ManifestLayout, what: string): AsyncGenerator<ManifestEntry[]> {
  const parser = new CsvParser();
  const decoder = new StringDecoder('utf8');
  let rows = 0;
  const batch: ManifestEntry[] = [];
  /** Parses text (undefined: the end of it) into the batch. */
  const take = (text: string | undefined) => {
    let parsed: string[][];
    try {
      parsed = text === undefined ? parser.end() : parser.push(text);
    } catch (e) {
      throw fail('ManifestInvalid', `Reading the manifest failed: ${what} is not valid CSV: ${(e as Error).message}`);
    }
    for (const r of parsed) {
      let e: ManifestEntry | undefined;
      try {
        e = manifestEntry(l, r, ++rows);
      } catch (err) {
        throw fail('ManifestInvalid', `Reading the manifest failed: ${(err as Error).message}`);
      }
      if (e) batch.push(e);
    }
  };
  let size = 0;
  for await (const chunk of textBytes(data, what)) {
    size += chunk.length;
    if (size > MAX_MANIFEST_BYTES) throw tooLarge(what);
    for (let i = 0; i < chunk.length; i += PARSE_PIECE) {
      take(decoder.write(chunk.subarray(i, i + PARSE_PIECE)));
      while (batch.length >= ENTRY_BATCH) yield batch.splice(0, ENTRY_BATCH);
      // The event loop runs between pieces, whatever the source buffered.
      await nextTurn();
    }
  }
  take(decoder.end());
  take(undefined);
  while (batch.length > 0) yield batch.splice(0, ENTRY_BATCH);
}

/** The bytes of a manifest object, gunzipped (on zlib's thread pool) when they are gzip. */
async function* textBytes(data: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  const it = data[Symbol.asyncIterator]();
  try {
    // The first two bytes tell gzip (1f 8b) from text.
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 2) {
      const r = await it.next();
      if (r.done) break;
      head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
    }
    async function* all(): AsyncGenerator<Buffer> {
      if (head.length > 0) yield head;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    }
    if (!(head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
      yield* all();
      return;
    }
    let compressed = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const c of all()) {
        compressed += c.length;
        if (compressed > MAX_COMPRESSED_MANIFEST_BYTES) {
          throw fail('ManifestTooLarge', `Reading the manifest failed: ${what} is gzip larger than ${MAX_COMPRESSED_MANIFEST_BYTES} bytes.`);
        }
        yield c;
      }
    }
    // The caller counts what comes out and stops at its limit, which ends the gunzip.
    const gunzip = createGunzip();
    pipeline(counted(), gunzip, () => undefined);
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } catch (e) {
      if (e instanceof JobFailed) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && code.startsWith('Z_')) {
        throw fail('ManifestInvalid', `Reading the manifest failed: ${what} is not valid gzip (${(e as Error).message}).`);
      }
      throw e;
    } finally {
      gunzip.destroy();
    }
  } finally {
    // Not awaited: a read still pending in the pipeline would hold it; whoever opened the
    // stream destroys it (objectEntries), which ends that read.
    void Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

/** An ObjectBody over bytes produced on the fly (no request behind it). */
function generatedBody(chunks: AsyncIterable<Buffer>): ObjectBody {
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
    {
      meta: { contentType, user: {} },
      tags: [],
      storageClass: 'STANDARD',
      owner,
      lastModified: app.clock(),
      // Reports are objects like any other: encrypted as the bucket's default says (SSE-S3 at least).
      sealing: seal(app, bucket, key, undefined, { accountId: owner }),
    },
    app.config.inlineThreshold,
  );
  return v.etag;
}

export async function* once(b: Buffer | string): AsyncGenerator<Buffer> {
  yield Buffer.isBuffer(b) ? b : Buffer.from(b, 'utf8');
}
