/**
 * The checkpoint worker of the process (see checkpoint-worker.ts), shared by every metadata
 * database: one thread, not one per region. A worker that dies is started again with the same
 * databases: without it the WAL files would only grow.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointMessage, CheckpointReply } from './checkpoint-worker.js';

/** Checkpoint once a WAL holds this much; it then restarts from its beginning. */
const WAL_THRESHOLD = 32 * 1024 * 1024;
/** A worker that keeps dying is restarted at most this often. */
const RESTART_DELAY_MS = 1000;

let worker: Worker | undefined;
const files = new Set<string>();
let nextId = 1;
const waiting = new Map<number, () => void>();

function start(): Worker {
  const w = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
    workerData: { thresholdBytes: WAL_THRESHOLD, intervalMs: 50 },
  });
  w.on('message', (r: CheckpointReply) => {
    waiting.get(r.id)?.();
    waiting.delete(r.id);
  });
  // Errors end the worker; 'exit' follows and restarts it while databases remain.
  w.on('error', (e) => process.emitWarning(`xregion checkpoint worker failed: ${e.message}`));
  w.on('exit', () => {
    if (worker !== w) return;
    worker = undefined;
    for (const resolve of waiting.values()) resolve();
    waiting.clear();
    if (files.size > 0) setTimeout(restart, RESTART_DELAY_MS).unref();
  });
  // The process must be able to exit while the worker idles.
  w.unref();
  for (const file of files) w.postMessage({ t: 'add', file } satisfies CheckpointMessage);
  return w;
}

function restart(): void {
  if (!worker && files.size > 0) worker = start();
}

/** Starts checkpointing a database; the returned function stops it (and the worker, if last). */
export function checkpointInBackground(file: string): () => Promise<void> {
  files.add(file);
  if (worker) worker.postMessage({ t: 'add', file } satisfies CheckpointMessage);
  else worker = start();
  return async () => {
    files.delete(file);
    const w = worker;
    if (!w) return;
    const id = nextId++;
    // Waiting for the reply keeps the process alive: closing a store must finish even when
    // nothing else would (a script or test that opens a store and closes it at once).
    w.ref();
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      w.postMessage({ t: 'remove', id, file } satisfies CheckpointMessage);
    });
    w.unref();
    if (files.size === 0 && worker === w) {
      worker = undefined;
      await w.terminate();
    }
  };
}
