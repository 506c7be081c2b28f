import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Digester } from '../../src/objects/digester.js';
import { offloadedDigester } from '../../src/objects/offloaded-digester.js';

describe('hashing in a worker thread', () => {
  it('gives the same digests as hashing in place, for concurrent bodies', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => Array.from({ length: 40 + i }, () => randomBytes(65536 + i)));
    const results = await Promise.all(
      bodies.map(async (chunks, i) => {
        const alg = (['CRC32', 'CRC32C', 'SHA256', 'CRC64NVME', 'SHA1', undefined] as const)[i];
        const off = offloadedDigester(alg, i % 2 === 0);
        const here = new Digester(alg, i % 2 === 0);
        for (const c of chunks) {
          here.update(c);
          const wait = off.update(c);
          if (wait) await wait;
        }
        return { off: await off.digest(), here: here.digest(), md5: createHash('md5').update(Buffer.concat(chunks)).digest() };
      }),
    );
    for (const r of results) {
      assert.deepEqual(r.off, r.here);
      assert.ok(r.off.md5.equals(r.md5));
    }
  });

  it('bounds what is queued: update asks the caller to wait past 8 MiB', async () => {
    const off = offloadedDigester(undefined, false);
    let waited = 0;
    for (let i = 0; i < 64; i++) {
      const w = off.update(Buffer.alloc(1024 * 1024, i));
      if (w) {
        waited++;
        await w;
      }
    }
    assert.ok(waited > 0, 'a 64 MiB body must have waited for the worker at least once');
    assert.equal((await off.digest()).size, 64 * 1024 * 1024);
  });

  it('an aborted body is forgotten and later bodies still work', async () => {
    const a = offloadedDigester('CRC32', false);
    a.update(Buffer.from('partial'));
    a.abort();
    const b = offloadedDigester('CRC32', false);
    b.update(Buffer.from('hello'));
    assert.equal((await b.digest()).md5.toString('hex'), createHash('md5').update('hello').digest('hex'));
  });
});
