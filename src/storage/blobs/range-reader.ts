/**
 * Reads bytes [start, end] of a file as a stream of recycled buffers (storage/read-buffers.ts),
 * one read of `readSize` bytes at a time (the last one shorter). What fs.createReadStream does,
 * except that its buffers can be given back once written, instead of left to the GC, and that
 * its descriptor may come from (and go back to) an FdCache, and that a segment's `reader` may
 * fill each buffer instead of a plain read (then the stream yields what that reader produced).
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { passRecyclable, READ_BUFFER_BYTES, releaseReadBuffer, takeReadBuffer } from '../../read-buffers.js';
import type { BlobReadFn } from '../types.js';
import type { FdCache } from './fd-cache.js';

export class FileRangeReader extends Readable {
  private fd: number | undefined;
  /** Gives a shared descriptor back to its cache, instead of closing it. */
  private release: (() => void) | undefined;
  private pos: number;
  /** A read is in flight: the descriptor is closed or given back only after it completes. */
  private reading = false;
  private closeWhenRead: (() => void) | undefined;

  constructor(
    private readonly file: string,
    start: number,
    private readonly end: number,
    private readonly readSize: number,
    private readonly fds?: FdCache,
    private readonly reader?: BlobReadFn,
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
    this.reading = true;
    if (this.reader) {
      this.reader(this.fd!, buf, length, this.pos, (err, produced) => {
        if (this.readDone()) return;
        if (err || produced === undefined) {
          releaseReadBuffer(buf);
          this.destroy(err ?? new Error(`${this.file}: the reader produced nothing at ${this.pos}`));
          return;
        }
        this.pos += length;
        // The produced bytes start the buffer: the view of them keeps its recyclable mark.
        this.push(produced === length ? buf : passRecyclable(buf, buf.subarray(0, produced)));
      });
      return;
    }
    fs.read(this.fd!, buf, 0, length, this.pos, (err, bytesRead) => {
      if (this.readDone()) return;
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

  /**
   * Ends a read; true when the stream was destroyed meanwhile (its descriptor is let go now,
   * and the buffer is left to the GC: whatever the read wrote, nobody reads it).
   */
  private readDone(): boolean {
    this.reading = false;
    const close = this.closeWhenRead;
    this.closeWhenRead = undefined;
    close?.();
    return close !== undefined || this.destroyed;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.fd === undefined) return callback(error);
    const fd = this.fd;
    this.fd = undefined;
    const release = this.release;
    // A read still in flight uses the descriptor: closing it now (or handing it to another
    // reader through the cache, which may close it) could make that read land in another file.
    const letGo = (done: (closeErr?: Error | null) => void): void => {
      if (release) {
        release();
        done();
      } else {
        fs.close(fd, done);
      }
    };
    if (this.reading) {
      this.closeWhenRead = () => letGo(() => undefined);
      return callback(error);
    }
    letGo((closeErr) => callback(error ?? closeErr));
  }
}
