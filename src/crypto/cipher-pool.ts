/**
 * Worker threads that seal and open large runs of object-cipher chunks off the event loop.
 *
 * Why: AES-256-GCM costs about as much per MiB as the whole rest of an unencrypted 1 MiB GET
 * (node's crypto module: ~1.1–1.6 GiB/s on one core here; the native addon ~3.5 GB/s). In a
 * worker it runs beside the event loop's HTTP and storage work, on another core.
 *
 * Buffers move by transfer, not copy: a job's ArrayBuffer goes to the worker, which seals or
 * opens the chunks in place, and comes back. So a job's buffer must be whole (offset 0, the
 * entire ArrayBuffer) and owned by the caller alone: after the call it is detached.
 *
 * A worker that dies fails the jobs it held (their streams error: the request fails, nothing is
 * committed or returned unauthenticated) and the next job starts a new one.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface SealJob {
  op: 'seal';
  /** The stream's subkey (32 bytes). */
  key: Uint8Array;
  /** Index of the first chunk. */
  first: number;
  /** Plaintext bytes at the start of `buf`; every chunk is full but the last. */
  plainLength: number;
  /** Whether the last chunk of the job is the last of its stream. */
  lastFinal: boolean;
}

export interface OpenJob {
  op: 'open';
  key: Uint8Array;
  first: number;
  /** Index of the stream's last chunk (its AAD says so, and it may be short). */
  finalIndex: number;
  /** Where the sealed chunks start in `buf`, and how many bytes they take. */
  offset: number;
  length: number;
}

export type CipherJob = SealJob | OpenJob;
export type CipherRequest = CipherJob & { id: number; buf: ArrayBuffer };
export type CipherReply =
  | { id: number; buf: ArrayBuffer; length: number }
  | { id: number; error: { integrity: boolean; message: string } };

/** A job the worker refused: `integrity` when the ciphertext did not authenticate. */
export class CipherJobError extends Error {
  constructor(
    message: string,
    readonly integrity: boolean,
  ) {
    super(message);
    this.name = 'CipherJobError';
  }
}

interface Pending {
  resolve(r: { buf: ArrayBuffer; length: number }): void;
  reject(e: Error): void;
}

class CipherThread {
  private readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  dead = false;

  constructor(private readonly onExit: (t: CipherThread) => void) {
    this.worker = new Worker(new URL('./cipher-worker.js', import.meta.url));
    this.worker.on('message', (r: CipherReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in r) p.reject(new CipherJobError(r.error.message, r.error.integrity));
      else p.resolve(r);
    });
    // 'error' is followed by 'exit'; both fail what the worker held. An exit nobody asked for is
    // worth a line in the log: the requests it held failed with an internal error.
    this.worker.on('error', (e) => {
      process.emitWarning(`xregion cipher worker failed: ${e.message}`);
      this.fail(e);
    });
    this.worker.on('exit', (code) => {
      if (!this.dead) process.emitWarning(`xregion cipher worker exited (code ${code}); the next job starts another`);
      this.fail(new Error(`cipher worker exited (code ${code})`));
    });
    this.worker.unref();
  }

  run(id: number, job: CipherJob, buf: ArrayBuffer): Promise<{ buf: ArrayBuffer; length: number }> {
    return new Promise((resolve, reject) => {
      // Held while jobs are out, so that a process does not exit under a stream waiting on one.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...job, id, buf } satisfies CipherRequest, [buf]);
    });
  }

  private fail(e: Error): void {
    if (!this.dead) {
      this.dead = true;
      this.onExit(this);
    }
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.worker.terminate();
  }
}

/** Default: every core but the one the event loop runs on, at least one, at most four. */
export function defaultCipherThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

let size = defaultCipherThreads();
let threads: CipherThread[] = [];
let nextId = 1;

/** Sets how many worker threads seal and open chunks; 0 keeps all of it on the event loop. */
export function setCipherThreads(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new RangeError(`cipher threads must be 0 to 64, got ${n}`);
  size = n;
  const extra = threads.splice(n);
  for (const t of extra) void t.terminate();
}

export function cipherThreadCount(): number {
  return size;
}

/** Runs a job in the least busy worker; `buf` (whole, and the caller's alone) is detached. */
export function runCipherJob(job: CipherJob, buf: ArrayBuffer): Promise<{ buf: ArrayBuffer; length: number }> {
  if (size === 0) return Promise.reject(new Error('no cipher threads'));
  let best: CipherThread | undefined;
  for (const t of threads) if (!best || t.pending.size < best.pending.size) best = t;
  if (!best || (best.pending.size > 0 && threads.length < size)) {
    best = new CipherThread((dead) => {
      threads = threads.filter((t) => t !== dead);
    });
    threads.push(best);
  }
  return best.run(nextId++, job, buf);
}

/** Stops the workers (tests, shutdown); a later job starts them again. */
export async function stopCipherThreads(): Promise<void> {
  const all = threads;
  threads = [];
  await Promise.all(all.map((t) => t.terminate()));
}
