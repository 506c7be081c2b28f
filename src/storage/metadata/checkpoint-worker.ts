/**
 * Runs in a worker thread: checkpoints one region's WAL into its database file with a
 * connection of its own, so that the copy and the two fsyncs of a checkpoint never block the
 * event loop that serves requests (the main connection has wal_autocheckpoint = 0).
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, thresholdBytes, intervalMs } = workerData as { file: string; thresholdBytes: number; intervalMs: number };
const db = new Database(file);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 100');

function walSize(): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

let stopping = false;
const timer = setInterval(() => {
  if (stopping) return;
  // A PASSIVE checkpoint copies what it can without waiting on readers or the writer; the
  // writer restarts the WAL from its beginning once a checkpoint has copied everything.
  if (walSize() >= thresholdBytes) {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy: the next tick tries again.
    }
  }
}, intervalMs);

parentPort!.on('message', (m: string) => {
  if (m !== 'stop') return;
  stopping = true;
  clearInterval(timer);
  db.close();
  parentPort!.postMessage('stopped');
});
