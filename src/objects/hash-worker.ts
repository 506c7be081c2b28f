/**
 * Runs in a worker thread: hashes object bodies (MD5 for the ETag, and the SHA-256 or
 * x-amz-checksum-* algorithm the request asks for) so that large uploads are not hashed on the
 * event loop. Several bodies are multiplexed over one port by session id.
 */
import { parentPort } from 'node:worker_threads';
import { Digester } from './digester.js';

export type HashMessage =
  | { t: 'start'; id: number; algorithm?: string; sha256: boolean }
  | { t: 'data'; id: number; chunk: Uint8Array }
  | { t: 'end'; id: number };

export type HashReply =
  | { t: 'ack'; id: number; bytes: number }
  | { t: 'done'; id: number; md5: Uint8Array; sha256?: string; checksum?: Uint8Array };

const sessions = new Map<number, Digester>();
const port = parentPort!;

port.on('message', (m: HashMessage) => {
  switch (m.t) {
    case 'start':
      sessions.set(m.id, new Digester(m.algorithm as ConstructorParameters<typeof Digester>[0], m.sha256));
      break;
    case 'data': {
      const d = sessions.get(m.id);
      if (!d) return;
      const chunk = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
      d.update(chunk);
      port.postMessage({ t: 'ack', id: m.id, bytes: chunk.length } satisfies HashReply);
      break;
    }
    case 'end': {
      const d = sessions.get(m.id);
      if (!d) return;
      sessions.delete(m.id);
      const r = d.digest();
      port.postMessage({ t: 'done', id: m.id, md5: r.md5, sha256: r.sha256, checksum: r.checksum?.digest } satisfies HashReply);
      break;
    }
  }
});
