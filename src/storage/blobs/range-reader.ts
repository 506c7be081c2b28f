/**
 * Reads bytes [start, end] of a file as a stream of recycled buffers (storage/read-buffers.ts),
 * one read of `readSize` bytes at a time (the last one shorter). What fs.createReadStream does,
 * except that its buffers can be given back once written, instead of left to the GC, and that
 * its descriptor may come from (and go back to) an FdCache.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { READ_BUFFER_BYTES, releaseReadBuffer, takeReadBuffer } from '../../read-buffers.js';
import type { FdCache } from './fd-cache.js';

export class FileRangeReader extends Readable {
  private fd: number | undefined;
  /** Gives a shared descriptor back to its cache, instead of closing it. */
  private release: (() => void) | undefined;
  private pos: number;

  constructor(
    private readonly file: string,
    start: number,
    private readonly end: number,
    private readonly readSize: number,
    private readonly fds?: FdCache,
  ) {
    // One read ahead of the consumer, as fs.createReadStream with highWaterMark = readSize.
    super({ highWaterMark: readSize });
    if (readSize < 1 || readSize > READ_BUFFER_BYTES) throw new RangeError(`read size ${readSize} out of range`);
    this.pos = start;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    if (this.fds) {
      this.fds.acquire(this.file).then((f) => {
        this.fd = f.fd;
        this.release = () => f.release();
        callback();
      }, callback);
      return;
    }
    fs.open(this.file, 'r', (err, fd) => {
      if (err) return callback(err);
      this.fd = fd;
      callback();
    });
  }

  override _read(): void {
    const length = Math.min(this.readSize, this.end - this.pos + 1);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buf = takeReadBuffer(length);
    fs.read(this.fd!, buf, 0, length, this.pos, (err, bytesRead) => {
      if (err || bytesRead === 0) {
        releaseReadBuffer(buf);
        // A file shorter than the range its metadata records: damage, not a short object.
        this.destroy(err ?? new Error(`${this.file} ends at ${this.pos}, before ${this.end + 1}`));
        return;
      }
      this.pos += bytesRead;
      // A short read (rare on regular files) goes out as a copy: only whole views are recyclable.
      if (bytesRead === length) {
        this.push(buf);
      } else {
        const part = Buffer.from(buf.subarray(0, bytesRead));
        releaseReadBuffer(buf);
        this.push(part);
      }
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.fd === undefined) return callback(error);
    const fd = this.fd;
    this.fd = undefined;
    if (this.release) {
      this.release();
      return callback(error);
    }
    fs.close(fd, (closeErr) => callback(error ?? closeErr));
  }
}
