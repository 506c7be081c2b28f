/**
 * The ceiling: a do-nothing node:http server, the upper bound of "load generator + HTTP" on this
 * machine. It ignores auth and stores nothing:
 *   PUT  reads and discards the body, answers 200 with a small fixed body;
 *   GET  answers 200 with a pre-allocated body of the size encoded in the key (`/obj-<size>/`,
 *        see payload.ts), or a small fixed body when the path carries no size;
 *   anything else: 200 with the small fixed body.
 *
 * Run: node dist/bench/ceiling.js [--port N] [--host 127.0.0.1]
 * Prints `listening on http://HOST:PORT` on stdout, like xregion; SIGTERM stops it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sizeFromPath } from './payload.js';

const SMALL = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<Ok/>');
const SMALL_HEADERS = { 'content-type': 'application/xml', 'content-length': String(SMALL.length), etag: '"00000000000000000000000000000000"' };
const bodies = new Map<number, { buf: Buffer; headers: http.OutgoingHttpHeaders }>();

function sized(size: number): { buf: Buffer; headers: http.OutgoingHttpHeaders } {
  let b = bodies.get(size);
  if (!b) {
    b = {
      buf: Buffer.alloc(size, 0x61),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), etag: '"00000000000000000000000000000000"' },
    };
    bodies.set(size, b);
  }
  return b;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));
// Pre-allocate the benchmark's sizes so no allocation happens while measuring.
sized(4096);
sized(1024 * 1024);

const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  if (req.method === 'GET') {
    const size = sizeFromPath(req.url ?? '');
    if (size !== undefined) {
      const b = sized(size);
      res.writeHead(200, b.headers);
      res.end(b.buf);
    } else {
      res.writeHead(200, SMALL_HEADERS);
      res.end(SMALL);
    }
    req.resume();
    return;
  }
  req.on('end', () => {
    res.writeHead(200, SMALL_HEADERS);
    res.end(SMALL);
  });
  req.resume();
});

server.listen(port, host, () => {
  const a = server.address() as AddressInfo;
  process.stdout.write(`listening on http://${host}:${a.port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
