/**
 * A cipher thread of cipher-pool.ts: seals or opens the chunks of one job in place, in the
 * buffer the job brought, and hands the buffer back.
 */
import { parentPort } from 'node:worker_threads';
import { minorGcPacer } from '../gc-pacer.js';
import type { CipherReply, CipherRequest } from './cipher-pool.js';
import { CipherIntegrityError, openChunksInPlace, sealChunksInPlace, usesNativeCipher } from './object-cipher.js';

const port = parentPort;
if (!port) throw new Error('cipher-worker.js runs as a worker thread');

/**
 * Without the native cipher, every chunk node's crypto opens or seals comes out in a fresh
 * 64 KiB buffer, copied into the job's buffer and dropped. V8 frees such buffers only when it
 * collects, which it otherwise does after ~64 MiB of them: a young-generation collection every
 * few MiB keeps the thread's memory small. The native cipher works in place and leaves none.
 */
const paceGc = minorGcPacer(16 * 1024 * 1024);

port.on('message', (m: CipherRequest) => {
  const size = m.buf.byteLength;
  let reply: CipherReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const buf = Buffer.from(m.buf);
    const key = Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength);
    const length =
      m.op === 'seal'
        ? sealChunksInPlace(key, m.first, m.plainLength, m.lastFinal, buf)
        : openChunksInPlace(key, m.first, m.finalIndex, buf, m.offset, m.length);
    reply = { id: m.id, buf: m.buf, length };
    transfer.push(m.buf);
  } catch (e) {
    reply = { id: m.id, error: { integrity: e instanceof CipherIntegrityError, message: (e as Error).message } };
  }
  port.postMessage(reply, transfer);
  if (!usesNativeCipher()) paceGc(size);
});
