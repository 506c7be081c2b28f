/**
 * The metadata store alone, without HTTP, auth or encryption: what one small PUT's version
 * costs the event loop when N writers commit 4 KiB inline versions through group commit (the
 * SQLite inserts, the batch's commit, the WAL fdatasync on the thread pool). It bounds what a
 * 4 KiB PUT can cost at least; `npm run bench` measures whole requests.
 *
 *   node dist/bench/store.js [--writers 32] [--puts 30000] [--rounds 3] [--dir DIR]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SqliteMetadataStore } from '../src/storage/metadata/sqlite-store.js';
import type { NewVersion } from '../src/storage/types.js';

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '32' },
    puts: { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const writers = Number(values.writers);
const puts = Number(values.puts);
const rounds = Number(values.rounds);

// A sealed 4 KiB body as the PUT path stores it inline (chunk tag and header included).
const body = crypto.randomBytes(4096 + 44);

function version(key: string): NewVersion {
  return {
    bucket: 'bench',
    key,
    versionId: 'null',
    isDeleteMarker: false,
    size: 4096,
    etag: `"${crypto.randomBytes(16).toString('hex')}"`,
    lastModified: Date.now(),
    storageClass: 'STANDARD',
    owner: '000000000000',
    meta: { user: {}, contentType: 'application/octet-stream' },
    tags: [],
    data: { kind: 'inline', bytes: body },
  };
}

async function round(): Promise<{ perSec: number; loopUs: number; cpuUs: number }> {
  const dir = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'xregion-store-bench-'));
  const store = new SqliteMetadataStore('us-east-1', path.join(dir, 'metadata.db'));
  try {
    await store.createBucket({ name: 'bench', region: 'us-east-1', owner: '000000000000', createdAt: 0, versioning: '' });
    let next = 0;
    // Keys as the HTTP benchmark writes them: one run of sequence numbers per writer.
    const writer = async (w: number) => {
      while (next < puts) await store.putVersion(version(`obj-4k/put/${w}/${next++}`), { replaceNull: true });
    };
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    const seconds = (performance.now() - t0) / 1000;
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    return { perSec: puts / seconds, loopUs: (elu.active * 1000) / puts, cpuUs: (cpu.user + cpu.system) / puts };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`metadata store: ${puts} PUTs of 4 KiB inline versions, ${writers} writers, ${rounds} rounds`);
console.log('| round | versions/s | event loop µs per version | process CPU µs per version |');
console.log('|---:|---:|---:|---:|');
for (let i = 1; i <= rounds; i++) {
  const r = await round();
  console.log(`| ${i} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${r.loopUs.toFixed(0)} | ${r.cpuUs.toFixed(0)} |`);
}
