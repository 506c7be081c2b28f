/**
 * Hashing of large bodies in a worker thread (hash-worker.ts). MD5 runs at about 660 MB/s on one
 * core; done on the event loop it halves what a process can accept. The worker hashes copies of
 * the chunks while the event loop moves on; a body waits for the worker only when more than
 * MAX_INFLIGHT bytes of it are still queued there (backpressure), and at the end for the digests.
 */
import { Worker } from 'node:worker_threads';
import type { ChecksumAlgorithm } from '../storage/types.js';
import type { Digests } from './digester.js';
import type { HashMessage, HashReply } from './hash-worker.js';

const MAX_INFLIGHT = 8 * 1024 * 1024;

interface Session {
  inflight: number;
  size: number;
  waiting?: () => void;
  done?: (d: Digests) => void;
  algorithm?: ChecksumAlgorithm;
}

class HashPool {
  private worker: Worker | undefined;
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;

  private port(): Worker {
    if (!this.worker) {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url));
      w.on('message', (r: HashReply) => this.onReply(r));
      w.on('error', (e) => this.failAll(e));
      this.worker = w;
    }
    // Idle workers must not keep the process alive; busy ones are waited for by their sessions.
    if (this.sessions.size > 0) this.worker.ref();
    else this.worker.unref();
    return this.worker;
  }

  private onReply(r: HashReply): void {
    const s = this.sessions.get(r.id);
    if (!s) return;
    if (r.t === 'ack') {
      s.inflight -= r.bytes;
      if (s.waiting && s.inflight <= MAX_INFLIGHT) {
        const w = s.waiting;
        s.waiting = undefined;
        w();
      }
      return;
    }
    this.sessions.delete(r.id);
    this.port();
    const d: Digests = { size: s.size, md5: Buffer.from(r.md5) };
    if (r.sha256 !== undefined) d.sha256 = r.sha256;
    if (r.checksum && s.algorithm) d.checksum = { algorithm: s.algorithm, digest: Buffer.from(r.checksum) };
    s.done?.(d);
  }

  private failAll(e: Error): void {
    // A dead worker loses its sessions; their bodies fail (nothing is committed) and the next
    // body starts a new worker.
    this.worker = undefined;
    for (const s of this.sessions.values()) {
      s.waiting?.();
      s.done?.({ size: -1, md5: Buffer.alloc(0) });
    }
    this.sessions.clear();
    void e;
  }

  start(algorithm: ChecksumAlgorithm | undefined, sha256: boolean): OffloadedDigester {
    const id = this.nextId++;
    const session: Session = { inflight: 0, size: 0, algorithm };
    this.sessions.set(id, session);
    const w = this.port();
    w.postMessage({ t: 'start', id, algorithm, sha256 } satisfies HashMessage);
    return new OffloadedDigester(id, session, w);
  }
}

export class OffloadedDigester {
  constructor(
    private readonly id: number,
    private readonly s: Session,
    private readonly worker: Worker,
  ) {}

  get size(): number {
    return this.s.size;
  }

  /** Queues a copy of the chunk; resolves at once unless too much is still queued. */
  update(chunk: Buffer): Promise<void> | undefined {
    this.s.size += chunk.length;
    this.s.inflight += chunk.length;
    // An exact-size copy whose buffer moves to the worker: one memcpy, nothing shared.
    const copy = new Uint8Array(chunk);
    this.worker.postMessage({ t: 'data', id: this.id, chunk: copy } satisfies HashMessage, [copy.buffer]);
    if (this.s.inflight <= MAX_INFLIGHT) return undefined;
    return new Promise<void>((resolve) => {
      this.s.waiting = resolve;
    });
  }

  /** Drops the session (the body failed): the worker forgets it. */
  abort(): void {
    this.s.done = undefined;
    this.s.waiting = undefined;
    this.worker.postMessage({ t: 'end', id: this.id } satisfies HashMessage);
  }

  digest(): Promise<Digests> {
    return new Promise<Digests>((resolve, reject) => {
      this.s.done = (d) => (d.size < 0 ? reject(new Error('hash worker failed')) : resolve(d));
      this.worker.postMessage({ t: 'end', id: this.id } satisfies HashMessage);
    });
  }
}

const pool = new HashPool();

/** Bodies at least this large are hashed in the worker; smaller ones are cheaper to hash here. */
export const OFFLOAD_THRESHOLD = 256 * 1024;

export function offloadedDigester(algorithm: ChecksumAlgorithm | undefined, sha256: boolean): OffloadedDigester {
  return pool.start(algorithm, sha256);
}
