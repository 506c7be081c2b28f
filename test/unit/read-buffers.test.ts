import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { LruMap } from '../../src/lru.js';
import {
  isRecyclable,
  markRecyclable,
  passRecyclable,
  pooledReadBuffers,
  READ_BUFFER_BYTES,
  releaseReadBuffer,
  takeReadBuffer,
} from '../../src/read-buffers.js';
import { FdCache } from '../../src/storage/blobs/fd-cache.js';
import { FileBlobStore } from '../../src/storage/blobs/file-blob-store.js';
import { encryptBuffer, encryptStream, CIPHER_CHUNK, usesNativeCipher } from '../../src/crypto/object-cipher.js';
import { cipherThreadCount } from '../../src/crypto/cipher-pool.js';
import { openRange } from '../../src/objects/data.js';
import { FileRangeReader } from '../../src/storage/blobs/range-reader.js';

async function drain(r: FileRangeReader): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of r) out.push(b as Buffer);
  return out;
}

describe('read buffers', () => {
  it('a released buffer is reused; slices, copies and strangers are never pooled', () => {
    while (pooledReadBuffers() > 0) takeReadBuffer(1);
    const a = takeReadBuffer(1000);
    assert.equal(a.length, 1000);
    assert.ok(isRecyclable(a));
    assert.ok(!isRecyclable(a.subarray(0, 10)), 'a slice is another view: not recyclable');
    releaseReadBuffer(a.subarray(0, 10));
    releaseReadBuffer(Buffer.alloc(READ_BUFFER_BYTES));
    assert.equal(pooledReadBuffers(), 0);
    releaseReadBuffer(a);
    assert.equal(pooledReadBuffers(), 1);
    // A second release of the same view is a no-op: one buffer cannot enter the pool twice.
    releaseReadBuffer(a);
    assert.equal(pooledReadBuffers(), 1);
    const b = takeReadBuffer(READ_BUFFER_BYTES);
    assert.equal(b.buffer, a.buffer, 'the pooled memory comes back');
    assert.equal(pooledReadBuffers(), 0);
    assert.throws(() => takeReadBuffer(READ_BUFFER_BYTES + 1), RangeError);
    assert.throws(() => takeReadBuffer(-1), RangeError);
    // Only pool-sized memory can be marked (a view that came back from a worker thread).
    assert.ok(!isRecyclable(markRecyclable(Buffer.alloc(10))));
    assert.ok(isRecyclable(markRecyclable(Buffer.from(new ArrayBuffer(READ_BUFFER_BYTES), 0, 5))));
  });

  it('pool memory is a fixed-size resizable ArrayBuffer (page-aligned, see newPoolBuffer) that survives a trip through a worker', async () => {
    while (pooledReadBuffers() > 0) takeReadBuffer(1);
    const a = takeReadBuffer(READ_BUFFER_BYTES);
    const ab = a.buffer as ArrayBuffer & { resizable: boolean; maxByteLength: number };
    assert.equal(ab.resizable, true, 'a plain ArrayBuffer would come from malloc, 16 bytes into a page');
    assert.equal(ab.maxByteLength, READ_BUFFER_BYTES, 'never grows');
    a.fill(7);
    const { Worker } = await import('node:worker_threads');
    const w = new Worker("require('node:worker_threads').parentPort.on('message', (ab) => { new Uint8Array(ab, 0, 1)[0] = 9; require('node:worker_threads').parentPort.postMessage(ab, [ab]); })", { eval: true });
    try {
      const back = await new Promise<ArrayBuffer>((resolve) => {
        w.once('message', resolve);
        w.postMessage(a.buffer, [a.buffer as ArrayBuffer]);
      });
      assert.equal(a.length, 0, 'transferred: the sender sees nothing');
      const view = markRecyclable(Buffer.from(back, 0, READ_BUFFER_BYTES));
      assert.ok(isRecyclable(view));
      assert.equal(view[0], 9);
      assert.equal(view[READ_BUFFER_BYTES - 1], 7);
      releaseReadBuffer(view);
      assert.equal(pooledReadBuffers(), 1);
      assert.equal(takeReadBuffer(4).buffer, back, 'pooled again after the trip');
    } finally {
      await w.terminate();
    }
  });

  it('the pool keeps at most 32 buffers', () => {
    const taken = Array.from({ length: 40 }, () => takeReadBuffer(16));
    for (const t of taken) releaseReadBuffer(t);
    assert.equal(pooledReadBuffers(), 32);
  });

  it('passing a buffer on moves its mark to the view that took over, or drops it', () => {
    while (pooledReadBuffers() > 0) takeReadBuffer(1);
    const a = takeReadBuffer(5000);
    const head = a.subarray(0, 4000);
    assert.equal(passRecyclable(a, head), head);
    assert.ok(isRecyclable(head) && !isRecyclable(a), 'the mark moved to the view from offset 0');
    releaseReadBuffer(a);
    assert.equal(pooledReadBuffers(), 0, 'the old view cannot give the memory back any more');
    releaseReadBuffer(head);
    assert.equal(pooledReadBuffers(), 1);

    // A view that does not start at offset 0 cannot carry the mark: the memory goes to the GC,
    // and the input can no longer release what the output still uses.
    const b = takeReadBuffer(5000);
    const inner = b.subarray(100, 200);
    passRecyclable(b, inner);
    assert.ok(!isRecyclable(inner) && !isRecyclable(b));
    releaseReadBuffer(b);
    releaseReadBuffer(inner);
    assert.equal(pooledReadBuffers(), 0);

    // An unmarked input passes nothing on.
    const c = Buffer.alloc(READ_BUFFER_BYTES);
    assert.ok(!isRecyclable(passRecyclable(c, c.subarray(0, 10))));
  });

  it('a blob writer gives recyclable chunks back once written, and writes them whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-rb-'));
    const store = new FileBlobStore(dir);
    try {
      while (pooledReadBuffers() > 0) takeReadBuffer(1);
      // An encrypting upload's sealed batches are recyclable views (pool buffers).
      const plain = crypto.randomBytes(3 * 16 * CIPHER_CHUNK + 5);
      const enc = encryptStream(crypto.randomBytes(32), crypto.randomBytes(16), plain.length);
      const sealed: Buffer[] = [];
      enc.on('data', (b: Buffer) => sealed.push(b));
      enc.end(plain);
      await once(enc, 'end');
      const marked = sealed.filter((b) => isRecyclable(b)).length;
      assert.ok(marked >= 3, `full batches come from the pool (${marked} of ${sealed.length})`);
      const expected = Buffer.concat(sealed);
      const writer = store.create();
      // Whatever sits in the pool is scribbled over after each write: a chunk given back
      // before it was written would reach the file zeroed.
      const scribble = () => {
        if (pooledReadBuffers() === 0) return;
        const t = takeReadBuffer(1);
        new Uint8Array(t.buffer).fill(0);
        releaseReadBuffer(t);
      };
      for (const b of sealed) {
        await writer.write(b);
        scribble();
      }
      await writer.write(Buffer.from('and a stranger'));
      scribble();
      await writer.finish();
      assert.equal(pooledReadBuffers(), marked, 'every recyclable chunk went back once written');
      const stream = store.read([{ blobId: writer.id, start: 0, end: expected.length + 13 }]);
      const back: Buffer[] = [];
      for await (const b of stream) back.push(Buffer.from(b as Buffer));
      assert.ok(Buffer.concat(back).equals(Buffer.concat([expected, Buffer.from('and a stranger')])));
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a detached (transferred) buffer is not pooled', () => {
    while (pooledReadBuffers() > 0) takeReadBuffer(1);
    const a = takeReadBuffer(64);
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
    releaseReadBuffer(a);
    assert.equal(pooledReadBuffers(), 0);
  });
});

describe('FileRangeReader', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-reader-'));
  const file = path.join(dir, 'blob');
  const data = crypto.randomBytes(3 * 1024 * 1024 + 123);
  fs.writeFileSync(file, data);

  it('reads a range in reads of the size asked, byte for byte', async () => {
    for (const [start, end, size] of [
      [0, data.length - 1, 1024 * 1024],
      [5, data.length - 7, 1048832],
      [100, 100, 4096],
      [1000, 70_000, 65536],
    ] as const) {
      const parts = await drain(new FileRangeReader(file, start, end, size));
      assert.deepEqual(Buffer.concat(parts), data.subarray(start, end + 1), `${start}-${end} by ${size}`);
      for (const p of parts.slice(0, -1)) assert.equal(p.length, size);
      for (const p of parts) releaseReadBuffer(p);
    }
  });

  it('a file shorter than the range fails the stream instead of ending it early', async () => {
    await assert.rejects(drain(new FileRangeReader(file, data.length - 10, data.length + 10, 4096)), /ends at/);
    await assert.rejects(drain(new FileRangeReader(path.join(dir, 'missing'), 0, 10, 4096)), { code: 'ENOENT' });
  });

  it('closes its file when destroyed early', async () => {
    const r = new FileRangeReader(file, 0, data.length - 1, 65536);
    const first = await new Promise<Buffer>((resolve) => r.once('data', resolve));
    assert.equal(first.length, 65536);
    r.destroy();
    await once(r, 'close');
    assert.throws(() => new FileRangeReader(file, 0, 1, READ_BUFFER_BYTES + 1), RangeError);
  });
});

describe('LruMap', () => {
  it('forgets the least recently used entry first; memo makes once', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    assert.equal(m.get('a'), 1); // a is now the most recent
    m.set('c', 3);
    assert.equal(m.get('b'), undefined);
    assert.equal(m.get('a'), 1);
    assert.equal(m.size, 2);
    let made = 0;
    assert.equal(m.memo('d', () => ++made), 1);
    assert.equal(m.memo('d', () => ++made), 1);
    assert.equal(made, 1);
    assert.throws(() => m.memo('e', () => {
      throw new Error('no');
    }));
    assert.equal(m.get('e'), undefined);
    assert.throws(() => new LruMap(0), RangeError);
  });
});

describe('FdCache', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-fds-'));
  const files = [0, 1, 2, 3].map((i) => {
    const f = path.join(dir, `f${i}`);
    fs.writeFileSync(f, `file ${i}`);
    return f;
  });
  const closed = async (fd: number) => {
    await new Promise((r) => setTimeout(r, 20));
    try {
      fs.fstatSync(fd);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EBADF';
    }
  };

  it('shares one descriptor among the reads of a file and keeps it after them', async () => {
    const cache = new FdCache(8);
    const [a, b] = await Promise.all([cache.acquire(files[0]!), cache.acquire(files[0]!)]);
    assert.equal(a.fd, b.fd);
    assert.equal(cache.size, 1);
    a.release();
    a.release(); // twice is once
    b.release();
    const c = await cache.acquire(files[0]!);
    assert.equal(c.fd, a.fd, 'still open, reused');
    c.release();
    cache.close();
    assert.ok(await closed(a.fd));
  });

  it('a forgotten (deleted) file keeps its descriptor until its last reader is done', async () => {
    const cache = new FdCache(8);
    const r = await cache.acquire(files[1]!);
    cache.forget(files[1]!);
    assert.equal(cache.size, 0);
    assert.equal(fs.readFileSync(r.fd, 'utf8'), 'file 1');
    const again = await cache.acquire(files[1]!);
    assert.notEqual(again.fd, r.fd, 'a new read opens afresh');
    r.release();
    assert.ok(await closed(r.fd));
    again.release();
    cache.close();
  });

  it('closes idle descriptors beyond its bound, never one in use', async () => {
    const cache = new FdCache(2);
    const held = await cache.acquire(files[0]!);
    for (const f of files.slice(1)) (await cache.acquire(f)).release();
    assert.equal(cache.size, 2);
    assert.ok(cache.holds(files[0]!), 'in use: kept although the least recently used');
    assert.ok(cache.holds(files[3]!), 'the most recent idle one is kept');
    assert.ok(!cache.holds(files[1]!) && !cache.holds(files[2]!), 'older idle ones were closed');
    assert.equal(fs.readFileSync(held.fd, 'utf8'), 'file 0');
    held.release();
    cache.close();
  });

  it('a file that cannot be opened is not cached', async () => {
    const cache = new FdCache(2);
    await assert.rejects(cache.acquire(path.join(dir, 'missing')), { code: 'ENOENT' });
    assert.equal(cache.size, 0);
  });
});

describe('FileRangeReader with a reader of its own', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-range-reader-'));

  it('yields what the reader produced, each read from its position, the views still recyclable', async () => {
    const file = path.join(dir, 'doubled');
    fs.writeFileSync(file, crypto.randomBytes(10_000));
    const positions: number[] = [];
    // A reader that keeps the first half of each read: "rewrites in place", shorter.
    const halves = (fd: number, buf: Buffer, length: number, position: number, cb: (e: Error | null, n?: number) => void) => {
      positions.push(position);
      fs.read(fd, buf, 0, length, position, (err) => cb(err, Math.ceil(length / 2)));
    };
    const got = await drain(new FileRangeReader(file, 1_000, 8_999, 3_000, undefined, halves));
    assert.deepEqual(positions, [1_000, 4_000, 7_000]);
    assert.deepEqual(got.map((b) => b.length), [1_500, 1_500, 1_000]);
    const bytes = fs.readFileSync(file);
    assert.ok(got[1]!.equals(bytes.subarray(4_000, 5_500)));
    assert.ok(got.every((b) => isRecyclable(b)), 'the produced views keep the mark');
  });

  it('fails the stream with the reader\'s error', async () => {
    const file = path.join(dir, 'failing');
    fs.writeFileSync(file, Buffer.alloc(100));
    const failing = (_fd: number, _b: Buffer, _l: number, _p: number, cb: (e: Error | null) => void) => cb(new Error('chunk 0 failed'));
    await assert.rejects(drain(new FileRangeReader(file, 0, 99, 100, undefined, failing)), /chunk 0 failed/);
  });

  it('closes its descriptor only after a read in flight completes, when destroyed meanwhile', async () => {
    const file = path.join(dir, 'slow');
    fs.writeFileSync(file, Buffer.alloc(100));
    let finish: (() => void) | undefined;
    let fd = -1;
    const held = (f: number, _b: Buffer, length: number, _p: number, cb: (e: Error | null, n?: number) => void) => {
      fd = f;
      finish = () => cb(null, length);
    };
    const r = new FileRangeReader(file, 0, 99, 100, undefined, held);
    const data: Buffer[] = [];
    r.on('data', (b: Buffer) => data.push(b));
    while (!finish) await new Promise((resolve) => setImmediate(resolve));
    r.destroy();
    await once(r, 'close');
    assert.doesNotThrow(() => fs.fstatSync(fd), 'the descriptor stays open while the read uses it');
    finish();
    for (let i = 0; i < 100; i++) {
      try {
        fs.fstatSync(fd);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'EBADF');
        assert.deepEqual(data, [], 'nothing pushed after the destroy');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.fail('the descriptor was never closed');
  });
});

describe('multipart reads', () => {
  it('a GET of an encrypted multipart object hands its pooled read buffers on whole, to be recycled', async (t) => {
    // The opening reader (pread and open in one job) needs the addon and cipher threads.
    if (!usesNativeCipher() || cipherThreadCount() === 0) return t.skip('no native cipher');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-mp-read-'));
    const store = new FileBlobStore(dir);
    try {
      const key = crypto.randomBytes(32);
      const sizes = [3 * 16 * CIPHER_CHUNK, 2 * 16 * CIPHER_CHUNK + 12345];
      const plains = sizes.map((n) => crypto.randomBytes(n));
      const parts = [];
      for (const [i, plain] of plains.entries()) {
        const salt = crypto.randomBytes(16);
        const writer = store.create();
        await writer.write(encryptBuffer(key, salt, plain));
        await writer.finish();
        parts.push({ partNumber: i + 1, size: plain.length, etag: 'e', blobId: writer.id, lastModified: 0, salt: salt.toString('base64') });
      }
      const total = sizes[0]! + sizes[1]!;
      const chunks: Buffer[] = [];
      for await (const c of openRange(store, { kind: 'parts', parts }, 0, total - 1, { key, size: total })) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(Buffer.concat(plains)), 'the plaintext of both parts, in order');
      // Every read lies within one part (reads are whole runs of a part's chunks): each one
      // arrives as the pooled view itself, which the response gives back once written. A slice
      // would be left to the GC (the 1 GiB multipart GET's RSS grew by ~70 MiB that way).
      const whole = chunks.filter((c) => isRecyclable(c)).length;
      assert.equal(whole, chunks.length, `${whole} of ${chunks.length} reads recyclable`);
      for (const c of chunks) releaseReadBuffer(c);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
