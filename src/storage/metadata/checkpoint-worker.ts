/**
 * Runs in a worker thread: checkpoints the WAL of each registered metadata database into its
 * database file, with connections of its own, so that the copy and the two fsyncs of a
 * checkpoint never block the event loop that serves requests (the main connections have
 * wal_autocheckpoint = 0). One worker serves every region of the process.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type CheckpointMessage = { t: 'add'; file: string } | { t: 'remove'; id: number; file: string };
export type CheckpointReply = { t: 'removed'; id: number };

const { thresholdBytes, intervalMs } = workerData as { thresholdBytes: number; intervalMs: number };
const dbs = new Map<string, Database.Database>();

function walSize(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

setInterval(() => {
  for (const [file, db] of dbs) {
    // A PASSIVE checkpoint copies what it can without waiting on readers or the writer; the
    // writer restarts the WAL from its beginning once a checkpoint has copied everything.
    if (walSize(file) < thresholdBytes) continue;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy: the next tick tries again.
    }
  }
}, intervalMs);

parentPort!.on('message', (m: CheckpointMessage) => {
  switch (m.t) {
    case 'add': {
      // A database that cannot be opened here is skipped (its process still works; its WAL
      // is checkpointed when it closes), rather than taking the other regions' checkpoints down.
      try {
        const db = new Database(m.file);
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 100');
        dbs.set(m.file, db);
      } catch (e) {
        process.emitWarning(`xregion: cannot checkpoint ${m.file}: ${(e as Error).message}`);
      }
      break;
    }
    case 'remove':
      dbs.get(m.file)?.close();
      dbs.delete(m.file);
      parentPort!.postMessage({ t: 'removed', id: m.id } satisfies CheckpointReply);
      break;
  }
});
