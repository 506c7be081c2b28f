/**
 * Raw HTTP access to a test server: SigV4 signing (header and presigned, via
 * @smithy/signature-v4), aws-chunked framing, error-document parsing, checksums that the tests
 * compute independently of the server, and small assertion helpers for SDK errors.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { SignatureV4 } from '@smithy/signature-v4';
import { CREDENTIALS } from './server.js';

// ---------------------------------------------------------------------------------------------
// Hashing

export const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
export const md5b64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
export const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const sha256b64 = (b: Buffer | string) => createHash('sha256').update(b).digest('base64');
export const sha1b64 = (b: Buffer | string) => createHash('sha1').update(b).digest('base64');
export const EMPTY_SHA256 = sha256hex('');

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function crc32(b: Buffer): Buffer {
  return u32be(zlib.crc32(b));
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(b: Buffer): Buffer {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC32C_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return u32be((c ^ 0xffffffff) >>> 0);
}

const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const CRC64_TABLE = (() => {
  const t: bigint[] = [];
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? CRC64_POLY ^ (c >> 1n) : c >> 1n;
    t.push(c);
  }
  return t;
})();
const MASK64 = 0xffffffffffffffffn;

export function crc64nvme(b: Buffer): Buffer {
  let c = MASK64;
  for (let i = 0; i < b.length; i++) c = CRC64_TABLE[Number((c ^ BigInt(b[i]!)) & 0xffn)]! ^ (c >> 8n);
  c = (c ^ MASK64) & MASK64;
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(c);
  return out;
}

export type Algo = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256' | 'CRC64NVME';

/** The raw digest of an algorithm. */
export function digest(algo: Algo, b: Buffer): Buffer {
  switch (algo) {
    case 'CRC32':
      return crc32(b);
    case 'CRC32C':
      return crc32c(b);
    case 'CRC64NVME':
      return crc64nvme(b);
    case 'SHA1':
      return createHash('sha1').update(b).digest();
    case 'SHA256':
      return createHash('sha256').update(b).digest();
  }
}

export const checksumB64 = (algo: Algo, b: Buffer) => digest(algo, b).toString('base64');

/** S3's composite checksum of parts: digest of the concatenated part digests, "-N". */
export function compositeChecksum(algo: Algo, parts: Buffer[]): string {
  return `${digest(algo, Buffer.concat(parts.map((p) => digest(algo, p)))).toString('base64')}-${parts.length}`;
}

/** The multipart ETag: md5 of the concatenated binary part md5s, "-N". */
export function multipartETag(parts: Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `"${h.digest('hex')}-${parts.length}"`;
}

/** Deterministic pseudo-random bytes (fast, no crypto needed). */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  for (; i < n; i++) b[i] = (x >>> ((i % 4) * 8)) & 0xff;
  return b;
}

// ---------------------------------------------------------------------------------------------
// SigV4

class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: unknown) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuf(secret));
  }
  update(data: unknown): void {
    this.h.update(toBuf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    throw new Error('not supported');
  }
}

function toBuf(d: unknown): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (Buffer.isBuffer(d)) return d;
  if (d instanceof ArrayBuffer) return Buffer.from(d);
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  throw new Error(`cannot hash ${typeof d}`);
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** RFC 3986 encoding the way SigV4 wants it. */
export function uriEncode(s: string, keepSlash = false): string {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

/** `/bucket/key` encoded for the wire (each segment percent-encoded, '/' kept). */
export function objectPath(bucket: string, key?: string): string {
  return key === undefined ? `/${uriEncode(bucket)}` : `/${uriEncode(bucket)}/${uriEncode(key, true)}`;
}

export type Query = Record<string, string>;

export function queryString(q: Query | undefined): string {
  if (!q) return '';
  const parts = Object.entries(q).map(([k, v]) => (v === '' && k !== '' ? `${uriEncode(k)}=` : `${uriEncode(k)}=${uriEncode(v)}`));
  return parts.join('&');
}

export interface RawRequest {
  method: string;
  /** Percent-encoded path, starting with '/'. */
  path: string;
  query?: Query;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Host header to send (default 127.0.0.1:PORT). */
  host?: string;
}

export interface SignOptions {
  region?: string;
  service?: string;
  date?: Date;
  credentials?: Credentials;
  /** Value for x-amz-content-sha256 (default: the hex sha256 of the body). */
  contentSha256?: string;
  /** Leave the x-amz-content-sha256 header out entirely. */
  omitContentSha256?: boolean;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The <Code> of an S3 error document, if the body is one. */
  code?: string;
  message?: string;
}

function signer(o: SignOptions): SignatureV4 {
  return new SignatureV4({
    service: o.service ?? 's3',
    region: o.region ?? 'us-east-1',
    credentials: o.credentials ?? CREDENTIALS,
    sha256: NodeSha256 as never,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** Returns the request with SigV4 Authorization, x-amz-date and (normally) x-amz-content-sha256. */
export async function signRequest(port: number, r: RawRequest, o: SignOptions = {}): Promise<RawRequest> {
  const host = r.host ?? `127.0.0.1:${port}`;
  const headers: Record<string, string> = { host, ...lowerKeys(r.headers ?? {}) };
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const payloadHash = o.contentSha256 ?? sha256hex(body ?? Buffer.alloc(0));
  if (!o.omitContentSha256) headers['x-amz-content-sha256'] = payloadHash;
  const signed = await signer(o).sign(
    {
      method: r.method,
      protocol: 'http:',
      hostname: host.replace(/:\d+$/, ''),
      port,
      path: r.path,
      query: r.query ?? {},
      // The signer reads the payload hash from this header; it is removed again below if omitted.
      headers: { ...headers, 'x-amz-content-sha256': payloadHash },
      body,
    } as never,
    { signingDate: o.date ?? new Date() },
  );
  const out = { ...(signed as unknown as { headers: Record<string, string> }).headers };
  if (o.omitContentSha256) delete out['x-amz-content-sha256'];
  return { ...r, headers: out, host };
}

export interface PresignOptions extends SignOptions {
  expiresIn?: number;
  /** Extra query parameters that are part of the signed request. */
  query?: Query;
  headers?: Record<string, string>;
}

/**
 * A presigned URL path+query (no scheme/host), the way s3-request-presigner builds it
 * (UNSIGNED-PAYLOAD, only the host header signed unless more headers are given).
 */
export async function presign(port: number, method: string, path: string, o: PresignOptions = {}): Promise<string> {
  const host = `127.0.0.1:${port}`;
  const req = await signer(o).presign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path,
      query: { ...(o.query ?? {}) },
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...lowerKeys(o.headers ?? {}) },
    } as never,
    {
      expiresIn: o.expiresIn ?? 900,
      signingDate: o.date ?? new Date(),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  const q = (req as unknown as { query: Query }).query;
  return `${path}?${queryString(q)}`;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) o[k.toLowerCase()] = v;
  return o;
}

/** Sends a request as given (no signing). */
export function send(port: number, r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const qs = queryString(r.query);
    const path = qs ? `${r.path}${r.path.includes('?') ? '&' : '?'}${qs}` : r.path;
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    const hasHost = Object.keys(headers).some((k) => k.toLowerCase() === 'host');
    if (!hasHost) headers.host = r.host ?? `127.0.0.1:${port}`;
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const hasLength = Object.keys(headers).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding');
    if (!hasLength && (body !== undefined || ['PUT', 'POST'].includes(r.method))) headers['content-length'] = String(body?.length ?? 0);
    const req = http.request(
      { host: '127.0.0.1', port, method: r.method, path, headers, agent: false, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve(toResponse(res.statusCode ?? 0, res.headers, b));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function toResponse(status: number, headers: http.IncomingHttpHeaders, body: Buffer): RawResponse {
  const text = body.toString('utf8');
  const code = /<Error>[\s\S]*?<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Error>[\s\S]*?<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return { status, headers, body, text, code, message };
}

/** Signs and sends. */
export async function signedSend(port: number, r: RawRequest, o: SignOptions = {}): Promise<RawResponse> {
  return send(port, await signRequest(port, r, o));
}

/** The text of the first <name> element of an XML document. */
export function xmlText(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? decodeXml(m[1]!) : undefined;
}

/** The texts of all <name> elements, in order. */
export function xmlAll(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1]!);
}

export function decodeXml(s: string): string {
  return s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Asserts a raw response is an S3 error with this status and code, and well-formed. */
export function assertError(r: RawResponse, status: number, code: string, what = ''): void {
  assert.equal(r.status, status, `${what} status; body: ${r.text}`);
  if (r.headers['content-length'] === '0' || r.text === '') {
    assert.fail(`${what} expected an error document with code ${code}, got an empty body`);
  }
  assert.equal(r.code, code, `${what} error code; body: ${r.text}`);
  assert.ok(r.headers['x-amz-request-id'], 'x-amz-request-id header');
  assert.match(r.text, /<RequestId>[^<]+<\/RequestId>/, 'RequestId in the error document');
}

// ---------------------------------------------------------------------------------------------
// aws-chunked

export interface ChunkedSigned {
  headers: Record<string, string>;
  body: Buffer;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secret: string, date: string, region: string, service = 's3'): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * Builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD request (AWS "Signature Calculations for the
 * Authorization Header: Transferring Payload in Multiple Chunks"). `corrupt` flips one chunk
 * signature (by index) to test rejection.
 */
export async function chunkedSignedRequest(
  port: number,
  r: { method: string; path: string; headers?: Record<string, string> },
  data: Buffer,
  o: { chunkSize?: number; region?: string; date?: Date; corruptChunk?: number; tamperData?: boolean } = {},
): Promise<RawRequest> {
  const chunkSize = o.chunkSize ?? 64 * 1024;
  const region = o.region ?? 'us-east-1';
  const date = o.date ?? new Date();
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  const sigLen = 64;
  let encodedLength = 0;
  for (const c of chunks) encodedLength += c.length.toString(16).length + ';chunk-signature='.length + sigLen + 2 + c.length + 2;
  const signed = await signRequest(
    port,
    {
      method: r.method,
      path: r.path,
      headers: {
        ...(r.headers ?? {}),
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'content-length': String(encodedLength),
      },
    },
    { region, date, contentSha256: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' },
  );
  const auth = signed.headers!.authorization!;
  let prev = /Signature=([0-9a-f]{64})/.exec(auth)![1]!;
  const amzDate = signed.headers!['x-amz-date']!;
  const shortDate = amzDate.slice(0, 8);
  const scope = `${shortDate}/${region}/s3/aws4_request`;
  const key = signingKey(CREDENTIALS.secretAccessKey, shortDate, region);
  const out: Buffer[] = [];
  chunks.forEach((c, i) => {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, EMPTY_SHA256, sha256hex(c)].join('\n');
    let sig = createHmac('sha256', key).update(sts).digest('hex');
    prev = sig;
    if (o.corruptChunk === i) sig = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    let payload = c;
    if (o.tamperData && i === 0 && c.length > 0) {
      payload = Buffer.from(c);
      payload[0] = payload[0]! ^ 0xff;
    }
    out.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), payload, Buffer.from('\r\n'));
  });
  const body = Buffer.concat(out);
  assert.equal(body.length, encodedLength);
  return { ...signed, body };
}

/** Builds a STREAMING-UNSIGNED-PAYLOAD-TRAILER request with one checksum trailer. */
export async function unsignedTrailerRequest(
  port: number,
  r: { method: string; path: string; headers?: Record<string, string> },
  data: Buffer,
  trailerName: string,
  trailerValue: string,
  o: { chunkSize?: number; region?: string; httpChunked?: boolean } = {},
): Promise<RawRequest> {
  const chunkSize = o.chunkSize ?? 64 * 1024;
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) {
    const c = data.subarray(i, i + chunkSize);
    out.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`0\r\n${trailerName}:${trailerValue}\r\n\r\n`));
  const body = Buffer.concat(out);
  const signed = await signRequest(
    port,
    {
      method: r.method,
      path: r.path,
      headers: {
        ...(r.headers ?? {}),
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': trailerName,
        // With Transfer-Encoding (what the JS SDK sends for streams) there is no Content-Length.
        ...(o.httpChunked ? {} : { 'content-length': String(body.length) }),
      },
    },
    { region: o.region, contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
  );
  if (o.httpChunked) return { ...signed, headers: { ...signed.headers, 'transfer-encoding': 'chunked' }, body };
  return { ...signed, body };
}

// ---------------------------------------------------------------------------------------------
// Expect: 100-continue and raw sockets

export interface ContinueResult {
  gotContinue: boolean;
  response: RawResponse;
}

/** Sends headers with Expect: 100-continue; sends the body only if the server says 100. */
export function sendWithContinue(port: number, r: RawRequest): Promise<ContinueResult> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: Record<string, string> = { ...(r.headers ?? {}), expect: '100-continue', 'content-length': String(body.length) };
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) headers.host = `127.0.0.1:${port}`;
    let gotContinue = false;
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent: false, setHost: false });
    req.on('continue', () => {
      gotContinue = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ gotContinue, response: toResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks)) });
        req.destroy();
      });
    });
    req.on('error', (e) => {
      if (!gotContinue && (e as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      reject(e);
    });
    req.flushHeaders();
  });
}

/** Writes raw bytes to the server and returns everything it answers until it closes (or timeout). */
export function rawExchange(port: number, data: Buffer | string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      if (chunks.length) resolve(Buffer.concat(chunks).toString('latin1'));
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    sock.write(data);
  });
}

// ---------------------------------------------------------------------------------------------
// SDK errors

export interface SdkErr {
  name: string;
  status: number | undefined;
  headers: Record<string, string>;
  err: any;
}

/** Awaits an SDK call expected to fail; asserts the error name (code) and HTTP status. */
export async function expectSdkError(p: Promise<unknown>, code: string, status?: number): Promise<SdkErr> {
  let err: any;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${code}${status ? ` (${status})` : ''} but the call succeeded`);
  const s = err.$metadata?.httpStatusCode as number | undefined;
  const headers = (err.$response?.headers ?? {}) as Record<string, string>;
  assert.equal(err.name, code, `error code (status ${s}): ${err.message}`);
  if (status !== undefined) assert.equal(s, status, `HTTP status of ${code}`);
  return { name: err.name, status: s, headers, err };
}

/** Reads an SDK streaming body into a Buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray(): Promise<Uint8Array> };
  return Buffer.from(await b.transformToByteArray());
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Like expectSdkError where AWS's exact code is one of a few; returns the error. */
export async function expectSdkErrorOneOf(p: Promise<unknown>, codes: string[]): Promise<SdkErr> {
  let err: any;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected one of ${codes.join(', ')} but the call succeeded`);
  assert.ok(codes.includes(err.name), `error code ${err.name} (status ${err.$metadata?.httpStatusCode}) is not one of ${codes.join(', ')}: ${err.message}`);
  return { name: err.name, status: err.$metadata?.httpStatusCode, headers: err.$response?.headers ?? {}, err };
}

/** For responses without an error document (304, HEAD errors): only the status is certain. */
export async function expectSdkStatus(p: Promise<unknown>, status: number): Promise<SdkErr> {
  let err: any;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected HTTP ${status} but the call succeeded`);
  assert.equal(err.$metadata?.httpStatusCode, status, `HTTP status (error ${err.name}: ${err.message})`);
  return { name: err.name, status, headers: err.$response?.headers ?? {}, err };
}

/**
 * A presigned URL built by hand (for values the SDK signer refuses, such as an X-Amz-Expires
 * over a week): the canonical request of AWS's "Authenticating Requests: Using Query Parameters".
 */
export function presignManual(
  port: number,
  method: string,
  path: string,
  o: { expires: number; date?: Date; region?: string; extraQuery?: Query; credentials?: Credentials },
): string {
  const creds = o.credentials ?? CREDENTIALS;
  const region = o.region ?? 'us-east-1';
  const amzDate = (o.date ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const short = amzDate.slice(0, 8);
  const scope = `${short}/${region}/s3/aws4_request`;
  const q: Query = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${creds.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': String(o.expires),
    'X-Amz-SignedHeaders': 'host',
    ...(o.extraQuery ?? {}),
  };
  const canonicalQuery = Object.keys(q)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(q[k]!)}`)
    .join('&');
  const canonical = [method, path, canonicalQuery, `host:127.0.0.1:${port}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const sig = createHmac('sha256', signingKey(creds.secretAccessKey, short, region)).update(sts).digest('hex');
  return `${path}?${canonicalQuery}&X-Amz-Signature=${sig}`;
}
