/**
 * The checkpoint worker of the process (see checkpoint-worker.ts), shared by every metadata
 * database: one thread, not one per region.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointMessage, CheckpointReply } from './checkpoint-worker.js';

/** Checkpoint once a WAL holds this much; it then restarts from its beginning. */
const WAL_THRESHOLD = 32 * 1024 * 1024;

let worker: Worker | undefined;
let users = 0;
let nextId = 1;
const waiting = new Map<number, () => void>();

function start(): Worker {
  const w = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
    workerData: { thresholdBytes: WAL_THRESHOLD, intervalMs: 50 },
  });
  w.on('message', (r: CheckpointReply) => {
    if (r.t === 'removed') {
      waiting.get(r.id)?.();
      waiting.delete(r.id);
    }
  });
  // The process must be able to exit while the worker idles.
  w.unref();
  return w;
}

/** Starts checkpointing a database; the returned function stops it (and the worker, if last). */
export function checkpointInBackground(file: string): () => Promise<void> {
  worker ??= start();
  users++;
  worker.postMessage({ t: 'add', file } satisfies CheckpointMessage);
  return async () => {
    const w = worker!;
    const id = nextId++;
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      w.once('exit', () => resolve());
      w.postMessage({ t: 'remove', id, file } satisfies CheckpointMessage);
    });
    if (--users === 0) {
      worker = undefined;
      await w.terminate();
    }
  };
}
