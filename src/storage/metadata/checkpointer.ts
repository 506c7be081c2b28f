/**
 * Owns the checkpoint worker of one metadata database (see checkpoint-worker.ts).
 */
import { Worker } from 'node:worker_threads';

/** Checkpoint once the WAL holds this much; it then restarts from its beginning. */
const WAL_THRESHOLD = 32 * 1024 * 1024;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(file: string) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { file, thresholdBytes: WAL_THRESHOLD, intervalMs: 50 },
    });
    // The process must be able to exit while the worker idles.
    this.worker.unref();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('stop');
    });
    await this.worker.terminate();
  }
}
