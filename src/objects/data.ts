/**
 * Object bytes: taking a request body into storage (inline in the metadata row when small, a
 * blob file otherwise), reading a byte range back as a stream, and freeing replaced data.
 */
import { Readable } from 'node:stream';
import type { BlobSegment, BlobStore, BlobWriter, DataLocation } from '../storage/types.js';
import type { Digests } from './digester.js';

/**
 * Stored bytes that cannot be read back as recorded (a file shorter than its version says, or
 * bytes that no longer match their ETag). An internal error for a client; a permanent failure
 * for replication (retrying reads the same bytes).
 */
export class UnreadableData extends Error {}

/** What the body of a request turned out to be, once fully read and verified. */
export type BodyDigests = Digests;

/**
 * A request body as the domain sees it. The http layer decodes the transfer framing, and
 * verifies signatures chunk by chunk; finish() checks whatever the request promised about the
 * whole body (Content-MD5, x-amz-content-sha256, x-amz-checksum-*) and throws an S3Error if the
 * bytes do not match, which keeps the data from being committed.
 */
export interface ObjectBody {
  readonly length: number | undefined;
  readonly stream: AsyncIterable<Buffer>;
  finish(): Promise<BodyDigests>;
}

interface IngestedData {
  location: DataLocation;
  digests: BodyDigests;
}

/**
 * Reads a body into storage. Nothing is left behind when the body fails verification. A
 * negative threshold always makes a blob (multipart parts are always blobs, even empty ones).
 */
export async function ingestBody(blobs: BlobStore, body: ObjectBody, inlineThreshold: number): Promise<IngestedData> {
  const head: Buffer[] = [];
  let headLength = 0;
  let writer: BlobWriter | undefined;
  let flushed: Promise<void> | undefined;
  // A declared length above the threshold goes straight to a file; an unknown one is gathered
  // in memory up to the threshold first.
  if (body.length !== undefined && body.length > inlineThreshold) writer = blobs.create();
  try {
    for await (const chunk of body.stream) {
      if (writer) {
        await writer.write(chunk);
        continue;
      }
      head.push(chunk);
      headLength += chunk.length;
      if (headLength > inlineThreshold) {
        writer = blobs.create();
        for (const h of head) await writer.write(h);
        head.length = 0;
      }
    }
    if (!writer && inlineThreshold < 0) writer = blobs.create();
    if (!writer) {
      const digests = await body.finish();
      return { location: { kind: 'inline', bytes: head.length === 1 ? head[0]! : Buffer.concat(head, headLength) }, digests };
    }
    // The blob's fsync and the body's verification overlap; a body that fails verification
    // waits for the fsync to settle, then its blob is removed (abort).
    flushed = writer.finish();
    flushed.catch(() => undefined);
    const digests = await body.finish();
    await flushed;
    return { location: { kind: 'blob', blobId: writer.id }, digests };
  } catch (e) {
    // An fsync under way must settle before the file is closed and removed.
    await flushed?.catch(() => undefined);
    await writer?.abort();
    throw e;
  }
}

/**
 * The bytes [start, end] (inclusive) of an object, as a stream — or, for data kept inline, as
 * the buffer itself: small objects skip stream machinery entirely.
 */
export function readRange(blobs: BlobStore, loc: DataLocation, start: number, end: number): Readable | Buffer {
  if (loc.kind === 'inline') return loc.bytes.subarray(start, end + 1);
  return openRange(blobs, loc, start, end);
}

/** The bytes [start, end] (inclusive) of an object, as a stream. */
export function openRange(blobs: BlobStore, loc: DataLocation, start: number, end: number): Readable {
  switch (loc.kind) {
    case 'none':
      return Readable.from([]);
    case 'inline':
      return Readable.from([loc.bytes.subarray(start, end + 1)], { objectMode: false });
    case 'blob':
      return blobs.read([{ blobId: loc.blobId, start, end }]);
    case 'parts': {
      const segments: BlobSegment[] = [];
      let offset = 0;
      for (const p of loc.parts) {
        const pStart = offset;
        const pEnd = offset + p.size - 1;
        offset += p.size;
        if (pEnd < start || pStart > end || p.size === 0) continue;
        segments.push({ blobId: p.blobId, start: Math.max(start, pStart) - pStart, end: Math.min(end, pEnd) - pStart });
      }
      return segments.length ? blobs.read(segments) : Readable.from([]);
    }
  }
}

/** Deletes the blobs of replaced or deleted data. Failures are left to the orphan sweep. */
export async function freeData(blobs: BlobStore, locations: DataLocation[]): Promise<void> {
  for (const loc of locations) {
    const ids = loc.kind === 'blob' ? [loc.blobId] : loc.kind === 'parts' ? loc.parts.map((p) => p.blobId) : [];
    for (const id of ids) await blobs.delete(id).catch(() => undefined);
  }
}
