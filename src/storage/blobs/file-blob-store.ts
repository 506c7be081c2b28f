/**
 * BlobStore on local files: one file per blob under <root>/<2 hex>/<32 hex>. File names are
 * random ids, never object keys, so no key can reach the file system.
 *
 * A blob is durable when finish() resolves: its data is fdatasync'ed and the directory entry
 * fsync'ed (directory fsyncs are grouped like WAL fsyncs). Readers pin the blobs they stream, and
 * a delete of a pinned blob waits for the last reader, so overwriting or deleting an object never
 * cuts a download short.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GroupSync } from '../group-sync.js';
import type { BlobReadFn, BlobSegment, BlobStore, BlobWriter } from '../types.js';
import { FdCache } from './fd-cache.js';
import { FileRangeReader } from './range-reader.js';
import { releaseReadBuffer } from '../../read-buffers.js';

/** Chunks are gathered into writes of about this size: fewer syscalls, bounded memory. */
const WRITE_BATCH = 1024 * 1024;
const BLOB_ID = /^[0-9a-f]{32}$/;
/** Reads of up to 1 MiB: fewer syscalls and buffers per object than the default 64 KiB. */
const READ_CHUNK = 1024 * 1024;
/** Idle blob descriptors kept open for the next read of the same blob (per region; with the 256 directory descriptors, ~512 per region at most while idle). */
const FD_CACHE_SIZE = 256;

/** Reads [start, end] of a file in reads of `readSize` bytes (fewer when the range is shorter). */
function readFile(file: string, start: number, end: number, readSize: number, fds: FdCache, reader?: BlobReadFn): Readable {
  return new FileRangeReader(file, start, end, Math.max(1, Math.min(readSize, end - start + 1)), fds, reader);
}

async function* concatFiles(
  files: Array<{ path: string; start: number; end: number; reader?: BlobReadFn }>,
  readSize: number,
  fds: FdCache,
): AsyncGenerator<Buffer> {
  for (const f of files) {
    if (f.end < f.start) continue;
    yield* readFile(f.path, f.start, f.end, readSize, fds, f.reader);
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}

export class FileBlobStore implements BlobStore {
  private readonly dirSync = new Map<string, GroupSync>();
  private readonly dirFds: number[] = [];
  private readonly pins = new Map<string, number>();
  private readonly deferredDeletes = new Set<string>();
  /** Descriptors of recently read blobs (a blob file never changes once written). */
  private readonly fds = new FdCache(FD_CACHE_SIZE);

  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
    for (let i = 0; i < 256; i++) {
      const sub = i.toString(16).padStart(2, '0');
      const dir = path.join(root, sub);
      fs.mkdirSync(dir, { recursive: true });
      const fd = fs.openSync(dir, 'r');
      this.dirFds.push(fd);
      this.dirSync.set(sub, new GroupSync(fd, fs.fsync));
    }
    const rootFd = fs.openSync(root, 'r');
    fs.fsyncSync(rootFd);
    fs.closeSync(rootFd);
  }

  private pathOf(id: string): string {
    return path.join(this.root, id.slice(0, 2), id);
  }

  create(): BlobWriter {
    const id = randomBytes(16).toString('hex');
    return new FileBlobWriter(id, this.pathOf(id), this.dirSync.get(id.slice(0, 2))!);
  }

  read(segments: BlobSegment[], readSize = READ_CHUNK): Readable {
    // Pin every segment now, not when its turn comes: a delete committed while the first part
    // streams must not remove a later one.
    for (const s of segments) this.pin(s.blobId);
    const unpinAll = once(() => segments.forEach((s) => this.unpin(s.blobId)));
    let stream: Readable;
    if (segments.length === 1) {
      const s = segments[0]!;
      stream = readFile(this.pathOf(s.blobId), s.start, s.end, readSize, this.fds, s.reader);
    } else {
      const paths = segments.map((s) => ({ path: this.pathOf(s.blobId), start: s.start, end: s.end, reader: s.reader }));
      stream = Readable.from(concatFiles(paths, readSize, this.fds), { objectMode: false });
    }
    stream.once('close', unpinAll);
    return stream;
  }

  /** Keeps a blob from being deleted while something still reads it. */
  private pin(blobId: string): void {
    this.pins.set(blobId, (this.pins.get(blobId) ?? 0) + 1);
  }

  private unpin(blobId: string): void {
    const n = (this.pins.get(blobId) ?? 1) - 1;
    if (n > 0) {
      this.pins.set(blobId, n);
      return;
    }
    this.pins.delete(blobId);
    if (this.deferredDeletes.delete(blobId)) void this.unlink(blobId);
  }

  async delete(blobId: string): Promise<void> {
    if (this.pins.has(blobId)) {
      this.deferredDeletes.add(blobId);
      return;
    }
    await this.unlink(blobId);
  }

  private async unlink(blobId: string): Promise<void> {
    this.fds.forget(this.pathOf(blobId));
    // Already gone is fine: deletes are retried by the orphan sweep and may race with it.
    await fsp.unlink(this.pathOf(blobId)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async sweepOrphans(isReferenced: (blobId: string) => Promise<boolean>, before: number): Promise<number> {
    let removed = 0;
    for (let i = 0; i < 256; i++) {
      const dir = path.join(this.root, i.toString(16).padStart(2, '0'));
      for (const name of await fsp.readdir(dir)) {
        const file = path.join(dir, name);
        if (!BLOB_ID.test(name)) continue;
        const st = await fsp.stat(file).catch(() => undefined);
        if (!st || st.mtimeMs >= before) continue;
        if (await isReferenced(name)) continue;
        await this.unlink(name);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.fds.close();
    for (const g of this.dirSync.values()) await g.close();
    for (const fd of this.dirFds) fs.closeSync(fd);
  }
}

class FileBlobWriter implements BlobWriter {
  private fh: Promise<fsp.FileHandle>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inflight: Promise<void> = Promise.resolve();
  private failed: Error | undefined;

  constructor(
    readonly id: string,
    private readonly file: string,
    private readonly dir: GroupSync,
  ) {
    this.fh = fsp.open(file, 'wx');
    // A failed open is reported by the first write or finish, not as an unhandled rejection.
    this.fh.catch((e: Error) => {
      this.failed = e;
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_BATCH) await this.flush();
  }

  /** Starts writing the gathered chunks once the previous write is done; waits for that one. */
  private flush(): Promise<void> {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const previous = this.inflight;
    this.inflight = (async () => {
      await previous;
      const fh = await this.fh;
      let left = chunks;
      // writev may write less than asked; carry on from where it stopped.
      while (left.length > 0) {
        const { bytesWritten } = await fh.writev(left);
        left = dropBytes(left, bytesWritten);
      }
      // Written: recyclable chunks (an encrypting upload's sealed batches) are done with.
      for (const c of chunks) releaseReadBuffer(c);
    })();
    this.inflight.catch((e: Error) => {
      this.failed = e;
    });
    // Let one batch be written while the next is gathered: wait only for the one before.
    return previous;
  }

  async finish(): Promise<void> {
    if (this.pendingBytes > 0) void this.flush();
    await this.inflight;
    if (this.failed) throw this.failed;
    const fh = await this.fh;
    await fh.datasync();
    await fh.close();
    await this.dir.sync();
  }

  async abort(): Promise<void> {
    this.pending = [];
    await this.inflight.catch(() => undefined);
    const fh = await this.fh.catch(() => undefined);
    await fh?.close().catch(() => undefined);
    await fsp.unlink(this.file).catch(() => undefined);
  }
}

function dropBytes(chunks: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i]!.length) {
    n -= chunks[i]!.length;
    i++;
  }
  if (i === chunks.length) return [];
  const rest = chunks.slice(i);
  if (n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}
