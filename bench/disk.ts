/**
 * What the data dir's disk can do for a durable store, measured before the targets run, as
 * context for the PUT numbers (xregion fsyncs every acknowledged PUT):
 *   - 4 KiB write + fdatasync, one at a time into one file: the latency of one sync, and so the
 *     rate of a store that syncs each small PUT alone (group commit can do better);
 *   - 1 MiB files written and fdatasync'ed with 8 in flight (create, write, sync, close), like
 *     1 MiB PUTs at concurrency 8: the MB/s of synced large writes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { rank } from './stats.js';

export interface DiskProbe {
  smallSyncsPerSec: number;
  smallSyncP50Ms: number;
  largeMBps: number;
  largeConcurrency: number;
}

export async function diskProbe(dir: string, seconds = 1): Promise<DiskProbe> {
  const d = fs.mkdtempSync(path.join(dir, 'disk-probe-'));
  try {
    // Small synced writes.
    const small = Buffer.alloc(4096, 0x5a);
    const fh = await fsp.open(path.join(d, 'small'), 'w');
    const lat: number[] = [];
    let t0 = performance.now();
    let pos = 0;
    while (performance.now() - t0 < seconds * 1000 && lat.length < 20_000) {
      const a = performance.now();
      await fh.write(small, 0, small.length, pos);
      await fh.datasync();
      lat.push(performance.now() - a);
      pos += small.length;
    }
    const smallSecs = (performance.now() - t0) / 1000;
    await fh.close();
    const sorted = Float64Array.from(lat).sort();

    // Large synced files, 8 in flight.
    const large = Buffer.alloc(1024 * 1024, 0xa5);
    const concurrency = 8;
    let files = 0;
    t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let i = 0; performance.now() < deadline && i < 512; i++) {
          const f = await fsp.open(path.join(d, `large-${w}-${i}`), 'w');
          await f.write(large, 0, large.length, 0);
          await f.datasync();
          await f.close();
          files++;
        }
      }),
    );
    const largeSecs = (performance.now() - t0) / 1000;
    return {
      smallSyncsPerSec: lat.length / smallSecs,
      smallSyncP50Ms: rank(sorted, 0.5),
      largeMBps: (files * large.length) / largeSecs / 1e6,
      largeConcurrency: concurrency,
    };
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}
