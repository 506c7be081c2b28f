/**
 * HTTP/1.1 clients of the load generator: one connection per worker, one request in flight per
 * connection, keep-alive.
 *
 * - RawConnection (default, `--client raw`): a net.Socket and a minimal response parser (status
 *   line, Content-Length, chunked, read-until-close, `Connection: close`). The request head is
 *   one string and the body a pre-computed Buffer, written together (corked: one writev). Body
 *   bytes of responses are counted, not copied. This is what keeps the generator cheap on a
 *   2-core machine, where it shares the CPU with the server under test.
 * - NodeHttpConnection (`--client node`): node:http with a keep-alive Agent, to cross-check the
 *   raw client's numbers.
 */
import http from 'node:http';
import net from 'node:net';

export interface Reply {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** The body, only when asked for. */
  body?: Buffer;
}

export interface Connection {
  /** `headers` excludes Host and Content-Length, which the connection adds. */
  request(method: string, path: string, headers: Array<[string, string]>, body: Buffer | null, capture?: boolean): Promise<Reply>;
  /** performance.now() when the request in flight started (set by request()), or -1 when idle. */
  readonly startedAt: number;
  /** TCP connections opened so far (NaN when the client does not know). */
  readonly connects: number;
  /** Responses that told the client to close the connection (NaN when the client does not know). */
  readonly closeResponses: number;
  /** Aborts the request in flight (timeouts) and closes the connection. */
  abort(reason: string): void;
  close(): void;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** 64 KiB from whole pages: V8 allocates a resizable ArrayBuffer (fixed here) page by page, not with malloc. */
function readBuffer(): Buffer {
  const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;
  return Buffer.from(new Resizable(64 * 1024, { maxByteLength: 64 * 1024 }));
}

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  UntilClose,
}

export class RawConnection implements Connection {
  private socket: net.Socket | null = null;
  private state = State.Idle;
  private pending: Buffer | null = null;
  private remaining = 0;
  private bytes = 0;
  private status = 0;
  private closeAfter = false;
  private capture: Buffer[] | null = null;
  private resolve: ((r: Reply) => void) | null = null;
  private reject: ((e: Error) => void) | null = null;
  startedAt = -1;
  /** TCP connections opened so far (1 when keep-alive held throughout). */
  connects = 0;
  /** Responses that carried `Connection: close` (or were HTTP/1.0 without keep-alive). */
  closeResponses = 0;
  private readonly hostHeader: string;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.hostHeader = `${host}:${port}`;
  }

  private connect(): net.Socket {
    const s = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      // Responses are read into one fixed buffer per connection, page-aligned: a buffer that
      // node mallocs per read sits at whatever offset malloc chose, and the kernel's copy into a
      // destination 16 bytes past a 64-byte boundary is ~3x slower on the benchmark machine
      // (docs/benchmarks.md), which made a whole run's GET 1 MiB results depend on the luck of
      // the generator's allocations. Whatever outlives a read (a partial head, captured bodies)
      // is copied out of it.
      onread: { buffer: readBuffer(), callback: (n: number, buf: Uint8Array) => (this.onData(Buffer.from(buf.buffer, buf.byteOffset, n)), true) },
    });
    this.connects++;
    s.on('error', (e) => this.onClose(s, e));
    s.on('close', () => this.onClose(s, null));
    this.socket = s;
    return s;
  }

  request(method: string, path: string, headers: Array<[string, string]>, body: Buffer | null, capture = false): Promise<Reply> {
    if (this.resolve) return Promise.reject(new Error('request already in flight'));
    const s = this.socket && !this.socket.destroyed ? this.socket : this.connect();
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
    head += `Content-Length: ${body ? body.length : 0}\r\n\r\n`;
    this.state = State.Head;
    this.pending = null;
    this.bytes = 0;
    this.status = 0;
    this.closeAfter = false;
    this.capture = capture ? [] : null;
    this.startedAt = performance.now();
    const p = new Promise<Reply>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    s.cork();
    s.write(head, 'latin1');
    if (body && body.length > 0) s.write(body);
    s.uncork();
    return p;
  }

  abort(reason: string): void {
    const s = this.socket;
    this.fail(new Error(reason));
    s?.destroy();
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private fail(e: Error): void {
    const rej = this.reject;
    this.resolve = null;
    this.reject = null;
    this.state = State.Idle;
    this.startedAt = -1;
    this.socket = null;
    rej?.(e);
  }

  private done(): void {
    const res = this.resolve!;
    const reply: Reply = { status: this.status, bytes: this.bytes };
    if (this.capture) reply.body = Buffer.concat(this.capture);
    this.resolve = null;
    this.reject = null;
    this.capture = null;
    this.state = State.Idle;
    this.startedAt = -1;
    if (this.closeAfter) {
      this.socket?.destroy();
      this.socket = null;
    }
    res(reply);
  }

  private onClose(s: net.Socket, err: Error | null): void {
    if (s !== this.socket) return;
    if (this.state === State.UntilClose) {
      this.closeAfter = true;
      this.done();
      return;
    }
    if (this.resolve) this.fail(err ?? new Error('connection closed before the response completed'));
    this.socket = null;
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      switch (this.state) {
        case State.Idle:
          // Bytes nobody asked for: the connection can no longer be trusted.
          this.socket?.destroy();
          this.socket = null;
          return;
        case State.Head: {
          if (this.pending) {
            buf = Buffer.concat([this.pending, buf]);
            this.pending = null;
          }
          const end = buf.indexOf(CRLFCRLF);
          if (end < 0) {
            this.pending = Buffer.from(buf);
            return;
          }
          this.parseHead(buf.toString('latin1', 0, end));
          buf = buf.subarray(end + 4);
          if ((this.state as State) === State.Idle) this.done();
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, buf.length);
          this.take(buf, n);
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) {
            this.done();
            if (buf.length > 0) this.onData(buf);
            return;
          }
          break;
        }
        case State.ChunkSize:
        case State.Trailer: {
          if (this.pending) {
            buf = Buffer.concat([this.pending, buf]);
            this.pending = null;
          }
          const eol = buf.indexOf('\r\n');
          if (eol < 0) {
            this.pending = Buffer.from(buf);
            return;
          }
          const line = buf.toString('latin1', 0, eol);
          buf = buf.subarray(eol + 2);
          if (this.state === State.Trailer) {
            if (line === '') {
              this.done();
              if (buf.length > 0) this.onData(buf);
              return;
            }
          } else {
            const size = parseInt(line, 16);
            if (!Number.isFinite(size)) {
              this.abort(`bad chunk size line: ${JSON.stringify(line)}`);
              return;
            }
            if (size === 0) this.state = State.Trailer;
            else {
              this.remaining = size;
              this.state = State.ChunkData;
            }
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length);
          this.take(buf, n);
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          const n = Math.min(this.remaining, buf.length);
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.UntilClose:
          this.take(buf, buf.length);
          return;
      }
    }
  }

  private take(buf: Buffer, n: number): void {
    this.bytes += n;
    if (this.capture && n > 0) this.capture.push(Buffer.from(buf.subarray(0, n)));
  }

  private parseHead(head: string): void {
    // "HTTP/1.1 200 OK"
    const status = Number(head.slice(9, 12));
    if (status >= 100 && status < 200) {
      // 100 Continue and friends: the real head follows.
      this.state = State.Head;
      return;
    }
    this.status = status;
    // Error bodies are small and say what went wrong: keep them for the report.
    if (status >= 300 && !this.capture) this.capture = [];
    // Only three headers matter; find them in the lower-cased head instead of splitting every line.
    const lower = head.toLowerCase();
    const length = headerNumber(lower, '\r\ncontent-length:');
    const chunked = /chunked/.test(headerValue(lower, '\r\ntransfer-encoding:') ?? '');
    const connection = headerValue(lower, '\r\nconnection:');
    const http10 = head.startsWith('HTTP/1.0');
    const close = connection === 'close' || (http10 && connection !== 'keep-alive');
    this.closeAfter = close;
    if (close) this.closeResponses++;
    if (status === 204 || status === 304) this.state = State.Idle;
    else if (chunked) this.state = State.ChunkSize;
    else if (length >= 0) {
      this.remaining = length;
      this.state = length === 0 ? State.Idle : State.Length;
    } else this.state = State.UntilClose;
  }
}

function headerValue(lowerHead: string, prefix: string): string | undefined {
  const i = lowerHead.indexOf(prefix);
  if (i < 0) return undefined;
  const from = i + prefix.length;
  const end = lowerHead.indexOf('\r\n', from);
  return lowerHead.slice(from, end < 0 ? undefined : end).trim();
}

function headerNumber(lowerHead: string, prefix: string): number {
  const v = headerValue(lowerHead, prefix);
  return v === undefined || !/^\d+$/.test(v) ? -1 : Number(v);
}

export class NodeHttpConnection implements Connection {
  startedAt = -1;
  connects = NaN;
  closeResponses = NaN;
  private req: http.ClientRequest | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly agent: http.Agent,
  ) {}

  request(method: string, path: string, headers: Array<[string, string]>, body: Buffer | null, capture = false): Promise<Reply> {
    this.startedAt = performance.now();
    return new Promise<Reply>((resolve, reject) => {
      const h: Record<string, string> = { 'content-length': String(body ? body.length : 0) };
      for (const [k, v] of headers) h[k] = v;
      const req = http.request({ host: this.host, port: this.port, method, path, headers: h, agent: this.agent }, (res) => {
        let bytes = 0;
        const chunks: Buffer[] | null = capture || (res.statusCode ?? 0) >= 300 ? [] : null;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          chunks?.push(c);
        });
        res.on('end', () => {
          this.req = null;
          this.startedAt = -1;
          const reply: Reply = { status: res.statusCode ?? 0, bytes };
          if (chunks) reply.body = Buffer.concat(chunks);
          resolve(reply);
        });
        res.on('error', reject);
      });
      req.on('error', (e) => {
        this.req = null;
        this.startedAt = -1;
        reject(e);
      });
      this.req = req;
      req.end(body ?? undefined);
    });
  }

  abort(reason: string): void {
    this.req?.destroy(new Error(reason));
    this.req = null;
  }

  close(): void {}
}

export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
}
