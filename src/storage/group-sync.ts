/**
 * Group commit of fsyncs. Every caller that committed something asks for a sync and waits for an
 * fsync that *started after* its commit; all callers that arrive while one fsync runs share the
 * next one. Under load one fsync covers many acknowledged writes, and the fsync itself runs on
 * libuv's thread pool, so the event loop keeps parsing requests while the disk works.
 */
import fs from 'node:fs';

type Waiter = { resolve: () => void; reject: (e: Error) => void };

export class GroupSync {
  private waiting: Waiter[] = [];
  private running = false;
  private closed = false;

  /** `fdatasync` suits files (the WAL); directories need a full `fsync` of their entries. */
  constructor(
    private readonly fd: number,
    private readonly syncFn: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fs.fdatasync,
  ) {}

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.flush();
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    this.syncFn(this.fd, (err) => {
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (this.waiting.length > 0) this.flush();
      else this.running = false;
    });
  }

  /** Waits for in-flight syncs, then refuses new ones. */
  async close(): Promise<void> {
    if (this.running || this.waiting.length > 0) await this.sync().catch(() => undefined);
    this.closed = true;
  }
}
