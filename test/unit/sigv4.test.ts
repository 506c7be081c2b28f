import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it, mock } from 'node:test';
import { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3Error } from '../../src/errors.js';
import {
  canonicalQueryString,
  canonicalUri,
  hexBytes,
  parseQuery,
  percentDecode,
} from '../../src/http/sigv4/canonical.js';
import {
  clearSigningKeyCache,
  deriveSigningKey,
  getSigningKey,
  signingKeyCacheSize,
} from '../../src/http/sigv4/signing-key.js';
import {
  verifyRequest,
  verifyRequestWithBody,
  type IdentityLookup,
  type RequestToVerify,
  type SigningIdentity,
  type VerifiedRequest,
} from '../../src/http/sigv4/verify.js';

/** Requests botocore 1.43 produced (see the generator notes below); user-agent etc. dropped. */
const BOTOCORE_VECTORS: Array<RequestToVerify & { name: string; body?: string }> = [
  {
    "name": "put-special-key",
    "method": "PUT",
    "rawPath": "/bkt/dir/hello%20world~%21%27%28%29%2A%2B%26%3D%24%40%2C%3B%3A.txt",
    "rawQuery": "",
    "headers": {
      "content-type": "text/plain",
      "x-amz-meta-note": "a   b  c",
      "x-amz-checksum-crc32": "NhCmhg==",
      "x-amz-sdk-checksum-algorithm": "CRC32",
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-meta-note;x-amz-sdk-checksum-algorithm, Signature=bb7ce587d2bb37d2da6dd8f418d1bd8d50bd96fbbd47148b51c5d44be6fa7ea5",
      "content-length": "5",
      "host": "127.0.0.1:9000"
    },
    "body": "hello"
  },
  {
    "name": "get-unicode-range",
    "method": "GET",
    "rawPath": "/bkt/%C3%BCn%C3%AFc%C3%B8d%C3%A9/%E6%97%A5%E6%9C%AC%E8%AA%9E%20file.txt",
    "rawQuery": "",
    "headers": {
      "range": "bytes=0-9",
      "x-amz-checksum-mode": "ENABLED",
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=host;range;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date, Signature=b82258a7a1c4095267627c01844c23201f3a66b3a786985a691dbd98236eb6e1",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "list-v2-prefix",
    "method": "GET",
    "rawPath": "/bkt",
    "rawQuery": "list-type=2&prefix=a%20b%2Bc~%2F&delimiter=%2F&start-after=%C3%A4&max-keys=5&encoding-type=url",
    "headers": {
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=b8bc07aa7fe73be7cd38ba056e9452119d0f356f29d627198f3318a090c7a7ab",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "create-mpu",
    "method": "POST",
    "rawPath": "/bkt/k",
    "rawQuery": "uploads",
    "headers": {
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=e15b936fec11838f5205b019e87d1403ccd287709c6bfdb424ca014115a338f7",
      "content-length": "0",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "list-empty-prefix",
    "method": "GET",
    "rawPath": "/bkt",
    "rawQuery": "prefix=&marker=&encoding-type=url",
    "headers": {
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=28f2e1f0d199a0ef23daddc1f091010192810fb1459e568852fdeea16dacd65b",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "head-double-slash",
    "method": "HEAD",
    "rawPath": "/bkt/a//b/../c/./d",
    "rawQuery": "",
    "headers": {
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=e2f7f046c9e245abb4737201f300afc3016897518f1f1ccaa503e2f5ac3accb6",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "get-with-token",
    "method": "GET",
    "rawPath": "/bkt/tok.txt",
    "rawQuery": "",
    "headers": {
      "x-amz-checksum-mode": "ENABLED",
      "x-amz-date": "20240309T123456Z",
      "x-amz-security-token": "FwoGZXIvYXdzEXAMPLETOKEN//+/==",
      "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=host;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=709b0209a30aa6a68e0b69951159f082aa81fba9e9766398f004da0fb070a5b7",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "put-unsigned-trailer-crc32",
    "method": "PUT",
    "rawPath": "/bkt/chunky",
    "rawQuery": "",
    "headers": {
      "x-amz-sdk-checksum-algorithm": "CRC32",
      "transfer-encoding": "chunked",
      "content-encoding": "aws-chunked",
      "x-amz-trailer": "x-amz-checksum-crc32",
      "x-amz-decoded-content-length": "70000",
      "x-amz-date": "20240309T123456Z",
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=6b1d7871a64200f6c263d6dbe8b3a8b4da35670470ecc920178e38c986bcae06",
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "sts-get-caller-identity",
    "method": "POST",
    "rawPath": "/",
    "rawQuery": "",
    "headers": {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "x-amz-date": "20240309T123456Z",
      "authorization": "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE/20240309/eu-west-3/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=f8f046ca1884c900d507207f791a87bd04488b3d9e39a3aaa43abf70fd82b43a",
      "content-length": "43",
      "host": "127.0.0.1:9000"
    },
    "body": "Action=GetCallerIdentity&Version=2011-06-15"
  },
  {
    "name": "presign-get",
    "method": "GET",
    "rawPath": "/bkt/my%20folder/photo%20~1%20%28copy%29.jpg",
    "rawQuery": "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDBOTOCORE%2F20240309%2Feu-west-3%2Fs3%2Faws4_request&X-Amz-Date=20240309T123456Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=d8d75b9831b6d5d38aa76951b6ccd15789d4f8988a9fc4b7069e1fdf35b6dc36",
    "headers": {
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "presign-put-token",
    "method": "PUT",
    "rawPath": "/bkt/up%2Bload/%C3%A9.bin",
    "rawQuery": "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDBOTOCORE%2F20240309%2Feu-west-3%2Fs3%2Faws4_request&X-Amz-Date=20240309T123456Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLETOKEN%2F%2F%2B%2F%3D%3D&X-Amz-Signature=ae2f3926ad43d350299146014d6cb1ccf6c05c5c1e688620a641b5c2032123db",
    "headers": {
      "host": "127.0.0.1:9000"
    }
  },
  {
    "name": "presign-get-response-headers",
    "method": "GET",
    "rawPath": "/bkt/r",
    "rawQuery": "response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22&response-content-type=text%2Fplain&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDBOTOCORE%2F20240309%2Feu-west-3%2Fs3%2Faws4_request&X-Amz-Date=20240309T123456Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=89364fe531c2cb944460696484448216bb7d1b8813254223f14f838b8be422e0",
    "headers": {
      "host": "127.0.0.1:9000"
    }
  }
];
// How BOTOCORE_VECTORS were made: a botocore session client (s3, path-style, region eu-west-3,
// endpoint http://127.0.0.1:9000, key AKIDBOTOCORE / botocore/secret+KEY/0123456789abcdefGHIJ,
// session token FwoGZXIvYXdzEXAMPLETOKEN//+/== for the *-token ones) with
// botocore.auth.get_current_datetime patched to 2024-03-09T12:34:56Z and a 'before-send' hook
// recording the prepared request; presigned URLs from generate_presigned_url; the
// unsigned-trailer PUT from an https endpoint with ChecksumAlgorithm=CRC32.
const BOTO_SECRET = 'botocore/secret+KEY/0123456789abcdefGHIJ';
const BOTO_TOKEN = 'FwoGZXIvYXdzEXAMPLETOKEN//+/==';
const BOTO_NOW = Date.UTC(2024, 2, 9, 12, 35, 0);

// The SDK warns on node 20 the first time a client is made; that says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha256 = (d: string | Buffer): string => crypto.createHash('sha256').update(d).digest('hex');
const hmac = (k: Buffer | string, d: string): Buffer => crypto.createHmac('sha256', k).update(d).digest();

const ALICE: SigningIdentity = {
  accessKeyId: 'AKIAALICE0000000',
  secretAccessKey: 'alice/Secret+Key/with=odd&chars',
  accountId: '111111111111',
};
const TEMP: SigningIdentity = {
  accessKeyId: 'ASIATEMP00000000',
  secretAccessKey: 'temp-secret',
  accountId: '222222222222',
  sessionToken: 'IQoJb3JpZ2luX2VjE//token+with/slashes==',
};
const lookupOf =
  (...ids: SigningIdentity[]): IdentityLookup =>
  (ak) =>
    ids.find((i) => i.accessKeyId === ak);
const LOOKUP = lookupOf(ALICE, TEMP);

const NOW = Date.UTC(2024, 5, 1, 10, 0, 0);

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function expectS3Error(fn: () => unknown, code: string, status: number, message?: string | RegExp): S3Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof S3Error, `expected ${code}, got ${caught === undefined ? 'success' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}

interface TestSignOptions {
  method?: string;
  /** Raw path, already in strict canonical encoding (the test signer signs it as is). */
  path?: string;
  /** Raw query, strictly encoded pairs (signed sorted as is). */
  query?: string;
  headers?: Record<string, string>;
  /** Default: every header given, plus host and x-amz-date. */
  signedHeaders?: string[];
  identity?: SigningIdentity;
  date?: number;
  region?: string;
  service?: string;
  payloadHash?: string;
  /** Put x-amz-content-sha256 on the request (default for s3). */
  contentShaHeader?: boolean;
  useDateHeader?: boolean;
}

/**
 * A minimal SigV4 header signer for building test requests, written straight from the spec.
 * It trusts that path/query are already canonical. It reproduces the AWS documentation example
 * (asserted below), which is what makes it a fair oracle for the error-path tests.
 */
function signHeaderAuth(o: TestSignOptions = {}): RequestToVerify {
  const id = o.identity ?? ALICE;
  const date = o.date ?? NOW;
  const region = o.region ?? 'us-east-1';
  const service = o.service ?? 's3';
  const ad = amzDate(date);
  const payloadHash = o.payloadHash ?? EMPTY;
  const headers: Record<string, string> = { host: 'bucket.s3.example.com', ...o.headers };
  if (o.useDateHeader) headers.date = new Date(date).toUTCString();
  else headers['x-amz-date'] = ad;
  if (o.contentShaHeader ?? service === 's3') headers['x-amz-content-sha256'] = payloadHash;
  const signed = o.signedHeaders ?? Object.keys(headers).sort();
  const path = o.path ?? '/key';
  const query = o.query ?? '';
  const canonicalQuery = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => (p.includes('=') ? p : `${p}=`))
    .sort()
    .join('&');
  const canonical = [
    o.method ?? 'GET',
    path,
    canonicalQuery,
    signed.map((h) => `${h}:${(headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signed.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${ad.slice(0, 8)}/${region}/${service}/aws4_request`;
  const sts = `AWS4-HMAC-SHA256\n${ad}\n${scope}\n${sha256(canonical)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${id.secretAccessKey}`, ad.slice(0, 8)), region), service), 'aws4_request');
  const signature = hmac(key, sts).toString('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${id.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  return { method: o.method ?? 'GET', rawPath: path, rawQuery: query, headers };
}

/** Same for presigned URLs: returns the request with the X-Amz-* query. */
function presign(
  o: TestSignOptions & { expires?: number | string; extraQuery?: string; tokenInQuery?: string } = {},
): RequestToVerify {
  const id = o.identity ?? ALICE;
  const date = o.date ?? NOW;
  const region = o.region ?? 'us-east-1';
  const service = o.service ?? 's3';
  const ad = amzDate(date);
  const scope = `${ad.slice(0, 8)}/${region}/${service}/aws4_request`;
  const headers: Record<string, string> = { host: 'bucket.s3.example.com', ...o.headers };
  const signed = o.signedHeaders ?? Object.keys(headers).sort();
  const enc = (s: string): string =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const params = [
    `X-Amz-Algorithm=AWS4-HMAC-SHA256`,
    `X-Amz-Credential=${enc(`${id.accessKeyId}/${scope}`)}`,
    `X-Amz-Date=${ad}`,
    `X-Amz-Expires=${o.expires ?? 3600}`,
    `X-Amz-SignedHeaders=${enc(signed.join(';'))}`,
  ];
  if (o.tokenInQuery !== undefined) params.push(`X-Amz-Security-Token=${enc(o.tokenInQuery)}`);
  if (o.extraQuery) params.push(...o.extraQuery.split('&'));
  const canonicalQuery = [...params].map((p) => (p.includes('=') ? p : `${p}=`)).sort().join('&');
  const canonical = [
    o.method ?? 'GET',
    o.path ?? '/key',
    canonicalQuery,
    signed.map((h) => `${h}:${(headers[h] ?? '').trim()}\n`).join(''),
    signed.join(';'),
    o.payloadHash ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const sts = `AWS4-HMAC-SHA256\n${ad}\n${scope}\n${sha256(canonical)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${id.secretAccessKey}`, ad.slice(0, 8)), region), service), 'aws4_request');
  const signature = hmac(key, sts).toString('hex');
  return {
    method: o.method ?? 'GET',
    rawPath: o.path ?? '/key',
    rawQuery: `${params.join('&')}&X-Amz-Signature=${signature}`,
    headers,
  };
}

function ok(req: RequestToVerify, now = NOW, lookup = LOOKUP): VerifiedRequest {
  const v = verifyRequest(req, lookup, now);
  assert.ok(v, 'expected an authenticated request');
  return v;
}

// -- @smithy/signature-v4 as an independent reference signer (test-only) --------------------

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class Sha256 {
  private readonly h: crypto.Hash | crypto.Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? crypto.createHash('sha256') : crypto.createHmac('sha256', toBytes(secret));
  }
  update(d: SourceData): void {
    this.h.update(toBytes(d));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/** The S3 client's key encoding (extended URI encoding, '/' kept). */
function jsKeyEncode(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/** What @smithy/querystring-builder puts on the wire for a request's query object. */
function jsQueryString(query: Record<string, string | string[] | null | undefined>): string {
  const esc = (s: string): string =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  for (const k of Object.keys(query).sort()) {
    const v = query[k];
    if (Array.isArray(v)) for (const x of v) parts.push(`${esc(k)}=${esc(x)}`);
    else if (v === null || v === undefined) parts.push(esc(k));
    else parts.push(`${esc(k)}=${esc(v)}`);
  }
  return parts.join('&');
}

interface SmithyRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function toVerify(r: SmithyRequest): RequestToVerify {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
  return { method: r.method, rawPath: r.path, rawQuery: jsQueryString(r.query), headers };
}

function smithySigner(id: SigningIdentity, service = 's3', region = 'us-west-2'): SignatureV4 {
  return new SignatureV4({
    service,
    region,
    credentials: { accessKeyId: id.accessKeyId, secretAccessKey: id.secretAccessKey, sessionToken: id.sessionToken },
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    // S3 clients put x-amz-content-sha256 on every request; the other services' clients do not.
    applyChecksum: service === 's3',
  });
}

const TRICKY_KEYS = [
  'plain.txt',
  'with space/and+plus.txt',
  "sub-delims !'()*$&,;=:@.bin",
  'tilde~and%percent',
  'ünïcødé/日本語/🎉.txt',
  'a//double/../dots/./x',
  'q?hash#brackets[]{}|^`"<>\\',
  'trailing/',
];

// ------------------------------------------------------------------------------------------
// Canonicalisation helpers
// ------------------------------------------------------------------------------------------

describe('sigv4 canonical: URI', () => {
  it('re-encodes strictly, whatever the client escaped', () => {
    assert.equal(canonicalUri('/test$file.text'), '/test%24file.text');
    assert.equal(canonicalUri('/test%24file.text'), '/test%24file.text');
    assert.equal(canonicalUri("/!'()*"), '/%21%27%28%29%2A');
    assert.equal(canonicalUri('/%21%27%28%29%2A'), '/%21%27%28%29%2A');
    assert.equal(canonicalUri('/~user/%7Efoo'), '/~user/~foo');
    assert.equal(canonicalUri('/%c3%bc'), '/%C3%BC');
    assert.equal(canonicalUri('/a+b'), '/a%2Bb');
    assert.equal(canonicalUri('/a%20b'), '/a%20b');
    assert.equal(canonicalUri('/$&,;=:@'), '/%24%26%2C%3B%3D%3A%40');
  });

  it('keeps S3 paths as they are: no dot-segment removal, no slash merging, no double encoding', () => {
    assert.equal(canonicalUri('/a//b/../c/./d'), '/a//b/../c/./d');
    assert.equal(canonicalUri('/b/%2520'), '/b/%2520');
    assert.equal(canonicalUri(''), '/');
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalUri('/bucket/'), '/bucket/');
  });

  it('keeps an escaped slash inside a segment escaped', () => {
    assert.equal(canonicalUri('/a%2Fb/c'), '/a%2Fb/c');
    assert.equal(canonicalUri('/a%2fb'), '/a%2Fb');
  });

  it('keeps a stray % literally (as %25)', () => {
    assert.equal(canonicalUri('/100%'), '/100%25');
    assert.equal(canonicalUri('/%zz%4'), '/%25zz%254');
  });
});

describe('sigv4 canonical: query', () => {
  const cq = (raw: string, omit?: string): string =>
    canonicalQueryString(parseQuery(raw), omit ? (p) => p.name === omit : undefined);

  it('sorts by name then value, duplicates kept', () => {
    assert.equal(cq('b=2&a=2&a=1&a=10'), 'a=1&a=10&a=2&b=2');
    assert.equal(cq('Param2=value2&Param1=value1'), 'Param1=value1&Param2=value2');
    assert.equal(cq('a=1&B=1&_=1&~=1&-=1'), 'B=1&_=1&-=1&a=1&~=1'.split('&').sort().join('&'));
  });

  it('parameters without "=" and with empty values are "name="', () => {
    assert.equal(cq('uploads'), 'uploads=');
    assert.equal(cq('delete&x='), 'delete=&x=');
    assert.equal(cq('prefix=&marker='), 'marker=&prefix=');
    assert.equal(cq('a&&b&'), 'a=&b=');
  });

  it('re-encodes names and values strictly; "+" is a literal plus', () => {
    assert.equal(cq('prefix=a%20b'), 'prefix=a%20b');
    assert.equal(cq('prefix=a+b'), 'prefix=a%2Bb');
    assert.equal(cq('prefix=a%2Bb'), 'prefix=a%2Bb');
    assert.equal(cq('k=~'), 'k=~');
    assert.equal(cq('k=%7E'), 'k=~');
    assert.equal(cq('k=/'), 'k=%2F');
    assert.equal(cq("k=!'()*"), 'k=%21%27%28%29%2A');
    assert.equal(cq('k=%c3%a4'), 'k=%C3%A4');
    assert.equal(cq('k=%'), 'k=%25');
    assert.equal(cq('a%20b=1'), 'a%20b=1');
  });

  it('omits X-Amz-Signature for presigned requests', () => {
    assert.equal(cq('X-Amz-Signature=abc&X-Amz-Date=1', 'X-Amz-Signature'), 'X-Amz-Date=1');
  });

  it('percentDecode', () => {
    assert.equal(percentDecode('a%20b+c').toString(), 'a b+c');
    assert.deepEqual([...percentDecode('%ff%00')], [0xff, 0x00]);
    assert.equal(percentDecode('%').toString(), '%');
    assert.equal(percentDecode('%4').toString(), '%4');
    assert.equal(percentDecode('é').toString(), 'é');
  });

  it('hexBytes is AWS\'s *Bytes field format', () => {
    assert.equal(hexBytes('AWS4\n'), '41 57 53 34 0a');
    assert.equal(hexBytes(''), '');
  });
});

describe('sigv4 signing key', () => {
  it('derivation matches the AWS documentation example', () => {
    // "Deriving a signing key" example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
    // 20120215, us-east-1, iam.
    assert.equal(
      deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex'),
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('cache returns the same key, and is bounded', () => {
    clearSigningKeyCache();
    const a = getSigningKey('s', '20240101', 'r', 'svc');
    assert.equal(getSigningKey('s', '20240101', 'r', 'svc'), a);
    assert.deepEqual(a, deriveSigningKey('s', '20240101', 'r', 'svc'));
    assert.notDeepEqual(getSigningKey('s', '20240102', 'r', 'svc'), a);
    assert.notDeepEqual(getSigningKey('s2', '20240101', 'r', 'svc'), a);
    for (let i = 0; i < 1000; i++) getSigningKey('s', '20240101', `region-${i}`, 'svc');
    assert.ok(signingKeyCacheSize() <= 256);
    // the LRU keeps recently used entries
    const recent = getSigningKey('s', '20240101', 'region-999', 'svc');
    assert.equal(getSigningKey('s', '20240101', 'region-999', 'svc'), recent);
  });
});

// ------------------------------------------------------------------------------------------
// Known-answer vectors
// ------------------------------------------------------------------------------------------

describe('sigv4: AWS documentation examples (S3)', () => {
  const EXAMPLE: SigningIdentity = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    accountId: '111122223333',
  };
  const lookup = lookupOf(EXAMPLE);
  const T = Date.UTC(2013, 4, 24, 0, 0, 30);
  const auth = (sh: string, sig: string): string =>
    `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${sh},Signature=${sig}`;
  const host = 'examplebucket.s3.amazonaws.com';

  const examples: Array<[string, RequestToVerify]> = [
    [
      'GET Object',
      {
        method: 'GET',
        rawPath: '/test.txt',
        rawQuery: '',
        headers: {
          host,
          range: 'bytes=0-9',
          'x-amz-content-sha256': EMPTY,
          'x-amz-date': '20130524T000000Z',
          authorization: auth(
            'host;range;x-amz-content-sha256;x-amz-date',
            'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
          ),
        },
      },
    ],
    [
      'PUT Object (with Date, "$" in the key)',
      {
        method: 'PUT',
        rawPath: '/test$file.text',
        rawQuery: '',
        headers: {
          host,
          date: 'Fri, 24 May 2013 00:00:00 GMT',
          'x-amz-date': '20130524T000000Z',
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
          'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
          authorization: auth(
            'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
            '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
          ),
        },
      },
    ],
    [
      'GET Bucket Lifecycle (?lifecycle)',
      {
        method: 'GET',
        rawPath: '/',
        rawQuery: 'lifecycle',
        headers: {
          host,
          'x-amz-content-sha256': EMPTY,
          'x-amz-date': '20130524T000000Z',
          authorization: auth(
            'host;x-amz-content-sha256;x-amz-date',
            'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
          ),
        },
      },
    ],
    [
      'Get Bucket (List Objects)',
      {
        method: 'GET',
        rawPath: '/',
        rawQuery: 'max-keys=2&prefix=J',
        headers: {
          host,
          'x-amz-content-sha256': EMPTY,
          'x-amz-date': '20130524T000000Z',
          authorization: auth(
            'host;x-amz-content-sha256;x-amz-date',
            '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
          ),
        },
      },
    ],
  ];
  for (const [name, req] of examples) {
    it(name, () => {
      const v = ok(req, T, lookup);
      assert.equal(v.identity, EXAMPLE);
      assert.equal(v.region, 'us-east-1');
      assert.equal(v.service, 's3');
      assert.equal(v.presigned, false);
      assert.equal(v.payload.mode, 'sha256');
      assert.equal(v.signatureDeferred, undefined);
    });
  }

  it('PUT Object payload hash is returned for the caller to check', () => {
    const v = ok(examples[1]![1], T, lookup);
    assert.equal(v.payload.sha256, sha256('Welcome to Amazon S3.'));
    assert.deepEqual(v.signedHeaders, ['date', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-storage-class']);
  });

  it('Presigned GET (X-Amz-Expires=86400)', () => {
    const req: RequestToVerify = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery:
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host },
    };
    const v = ok(req, T, lookup);
    assert.equal(v.presigned, true);
    assert.deepEqual(v.payload, { mode: 'unsigned' });
    assert.equal(v.chunkSigning.seedSignature, 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
    // valid for exactly 86400 s
    ok(req, Date.UTC(2013, 4, 25, 0, 0, 0), lookup);
    const e = expectS3Error(() => verifyRequest(req, lookup, Date.UTC(2013, 4, 25, 0, 0, 1)), 'AccessDenied', 403, 'Request has expired');
    assert.deepEqual(e.fields, { 'X-Amz-Expires': '86400', Expires: '2013-05-25T00:00:00Z', ServerTime: '2013-05-25T00:00:01Z' });
  });

  it('the test signer used below reproduces the GET Object example', () => {
    const req = signHeaderAuth({
      identity: EXAMPLE,
      date: Date.UTC(2013, 4, 24),
      path: '/test.txt',
      headers: { host, range: 'bytes=0-9' },
      signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
    });
    assert.match(String(req.headers.authorization), /Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/);
  });
});

describe('sigv4: AWS SigV4 test suite (non-S3 service, no x-amz-content-sha256)', () => {
  const SUITE: SigningIdentity = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    accountId: '111122223333',
  };
  const lookup = lookupOf(SUITE);
  const T = Date.UTC(2015, 7, 30, 12, 36, 0);
  const req = (sh: string, sig: string, extra: Partial<RequestToVerify> & { h?: Record<string, string> } = {}): RequestToVerify => ({
    method: extra.method ?? 'GET',
    rawPath: '/',
    rawQuery: extra.rawQuery ?? '',
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      ...extra.h,
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${sh}, Signature=${sig}`,
    },
  });

  it('get-vanilla', () => {
    const v = ok(req('host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'), T, lookup);
    assert.equal(v.service, 'service');
    assert.deepEqual(v.payload, { mode: 'sha256', sha256: EMPTY });
  });

  it('get-vanilla-query-order-key-case', () => {
    ok(
      req('host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500', {
        rawQuery: 'Param2=value2&Param1=value1',
      }),
      T,
      lookup,
    );
  });

  it('get-vanilla-query-unreserved (signature from botocore SigV4Auth)', () => {
    const u = '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
    ok(req('host;x-amz-date', 'c0e2549664ab6caf8a0e49ec520df161cca33ec1de41067db4994a4467d458ff', { rawQuery: `${u}=${u}` }), T, lookup);
  });

  it('get-header-value-trim', () => {
    ok(
      req('host;my-header1;my-header2;x-amz-date', 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736', {
        h: { 'my-header1': ' value1', 'my-header2': ' "a   b   c"' },
      }),
      T,
      lookup,
    );
  });

  it('post-x-www-form-urlencoded: deferred by verifyRequest, verified by verifyRequestWithBody', () => {
    const r = req('content-type;host;x-amz-date', 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a', {
      method: 'POST',
      h: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '13' },
    });
    const deferred = ok(r, T, lookup);
    assert.equal(deferred.signatureDeferred, true);
    assert.deepEqual(deferred.payload, { mode: 'sha256' });
    const v = verifyRequestWithBody(r, lookup, T, sha256('Param1=value1'));
    assert.ok(v);
    assert.equal(v.signatureDeferred, undefined);
    assert.deepEqual(v.payload, { mode: 'sha256', sha256: sha256('Param1=value1') });
    expectS3Error(() => verifyRequestWithBody(r, lookup, T, sha256('Param1=value2')), 'SignatureDoesNotMatch', 403);
    // upper-case hex from the caller is fine
    assert.ok(verifyRequestWithBody(r, lookup, T, sha256('Param1=value1').toUpperCase()));
  });
});

describe('sigv4: botocore-generated requests', () => {
  const BOTO: SigningIdentity = { accessKeyId: 'AKIDBOTOCORE', secretAccessKey: BOTO_SECRET, accountId: '333333333333' };
  const BOTO_T: SigningIdentity = { ...BOTO, sessionToken: BOTO_TOKEN };
  for (const vec of BOTOCORE_VECTORS) {
    it(vec.name, () => {
      const withToken = vec.headers['x-amz-security-token'] !== undefined || vec.rawQuery.includes('X-Amz-Security-Token');
      const lookup = lookupOf(withToken ? BOTO_T : BOTO);
      let v: VerifiedRequest | null;
      if (vec.name.startsWith('sts')) {
        assert.equal(verifyRequest(vec, lookup, BOTO_NOW)?.signatureDeferred, true);
        v = verifyRequestWithBody(vec, lookup, BOTO_NOW, sha256(vec.body ?? ''));
      } else {
        v = verifyRequest(vec, lookup, BOTO_NOW);
      }
      assert.ok(v);
      assert.equal(v.region, 'eu-west-3');
      assert.equal(v.presigned, vec.rawQuery.includes('X-Amz-Signature'));
      if (vec.name === 'put-unsigned-trailer-crc32') assert.equal(v.payload.mode, 'streaming-unsigned-trailer');
      if (vec.name === 'put-special-key') assert.equal(v.payload.sha256, sha256('hello'));
      if (vec.name.startsWith('presign')) assert.equal(v.payload.mode, 'unsigned');
      // Tampering with the path, query, or a signed header breaks every one of them.
      const tampered: RequestToVerify[] = [
        { ...vec, rawPath: `${vec.rawPath}x` },
        { ...vec, rawQuery: vec.rawQuery === '' ? 'x=1' : `${vec.rawQuery}&x=1` },
        { ...vec, headers: { ...vec.headers, host: 'evil.example.com' } },
        { ...vec, method: vec.method === 'GET' ? 'DELETE' : 'GET' },
      ];
      for (const t of tampered) {
        assert.throws(
          () => (vec.body !== undefined ? verifyRequestWithBody(t, lookup, BOTO_NOW, sha256(vec.body)) : verifyRequest(t, lookup, BOTO_NOW)),
          (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch',
        );
      }
    });
  }

  it('a botocore-encoded key verifies when re-encoded the JS SDK way, and vice versa', () => {
    // Same request, path spelled differently on the wire: '~' escaped, '!' raw, lower-case hex.
    const vec = BOTOCORE_VECTORS.find((v) => v.name === 'put-special-key')!;
    const variant = vec.rawPath.replace('~', '%7E').replace('%21', '!').replace('%2A', '%2a').replace('%24', '$');
    assert.notEqual(variant, vec.rawPath);
    assert.ok(verifyRequest({ ...vec, rawPath: variant }, lookupOf({ accessKeyId: 'AKIDBOTOCORE', secretAccessKey: BOTO_SECRET, accountId: '3' }), BOTO_NOW));
  });
});

describe('sigv4: cross-verification with @smithy/signature-v4', () => {
  const base = (key: string, query: SmithyRequest['query'] = {}, headers: Record<string, string> = {}): SmithyRequest => ({
    method: 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 9000,
    path: `/bkt/${jsKeyEncode(key)}`,
    query,
    headers: { host: '127.0.0.1:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
  });

  it('header auth: tricky keys, duplicate and empty query parameters, spaces in headers', async () => {
    const signer = smithySigner(ALICE);
    for (const key of TRICKY_KEYS) {
      const r = base(
        key,
        {
          prefix: 'a b+c/~é',
          'list-type': '2',
          dup: ['z', 'a', 'm'],
          empty: '',
          'start-after': "!'()*",
        },
        { 'x-amz-meta-note': '  lots   of   space  ', 'Content-Type': 'text/plain; charset=utf-8' },
      );
      const signed = (await signer.sign(r, { signingDate: new Date(NOW) })) as SmithyRequest;
      const v = ok(toVerify(signed));
      assert.equal(v.region, 'us-west-2');
      assert.equal(v.payload.mode, 'unsigned');
    }
  });

  it('header auth with a session token', async () => {
    const signed = (await smithySigner(TEMP).sign(base('t'), { signingDate: new Date(NOW) })) as SmithyRequest;
    const req = toVerify(signed);
    assert.equal(req.headers['x-amz-security-token'], TEMP.sessionToken);
    assert.equal(ok(req).identity, TEMP);
  });

  it('header auth with a signed payload hash and with each streaming mode', async () => {
    for (const hash of [
      sha256('body'),
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    ]) {
      const r = { ...base('p'), method: 'PUT', headers: { ...base('p').headers, 'x-amz-content-sha256': hash } };
      const signed = (await smithySigner(ALICE).sign(r, { signingDate: new Date(NOW) })) as SmithyRequest;
      const v = ok(toVerify(signed));
      if (hash.startsWith('STREAMING')) assert.ok(v.payload.mode.startsWith('streaming'));
      else assert.deepEqual(v.payload, { mode: 'sha256', sha256: sha256('body') });
      // the seed for chunk signatures is the request signature
      assert.equal(v.chunkSigning.seedSignature, /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization!)![1]);
      assert.equal(v.chunkSigning.amzDate, amzDate(NOW));
      assert.equal(v.chunkSigning.scope, `${amzDate(NOW).slice(0, 8)}/us-west-2/s3/aws4_request`);
      assert.deepEqual(v.chunkSigning.signingKey, deriveSigningKey(ALICE.secretAccessKey, amzDate(NOW).slice(0, 8), 'us-west-2', 's3'));
    }
  });

  it('presigned: tricky keys, response-* overrides, session token, X-Amz-Content-Sha256 hoisted', async () => {
    for (const id of [ALICE, TEMP]) {
      const signer = smithySigner(id);
      for (const key of TRICKY_KEYS) {
        // As @aws-sdk/s3-request-presigner does: X-Amz-Content-Sha256 set, then hoisted to the query.
        const r = base(key, { 'response-content-disposition': 'attachment; filename="a b.txt"', versionId: 'v+1/2' });
        delete r.headers['x-amz-content-sha256'];
        r.headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
        const signed = (await signer.presign(r, { signingDate: new Date(NOW - 60_000), expiresIn: 900 })) as SmithyRequest;
        assert.equal(signed.query['X-Amz-Content-Sha256'], 'UNSIGNED-PAYLOAD');
        const v = ok(toVerify(signed));
        assert.equal(v.presigned, true);
        assert.equal(v.identity, id);
        assert.deepEqual(v.payload, { mode: 'unsigned' });
        // 15 minutes after signing it has expired
        expectS3Error(() => verifyRequest(toVerify(signed), LOOKUP, NOW - 60_000 + 901_000), 'AccessDenied', 403, 'Request has expired');
      }
    }
  });

  it('non-S3 services (uriEscapePath, empty body hash) verify too', async () => {
    const r: SmithyRequest = {
      method: 'GET',
      protocol: 'https:',
      hostname: 'iam.amazonaws.com',
      path: '/',
      query: { Action: 'ListUsers', Version: '2010-05-08' },
      headers: { host: 'iam.amazonaws.com' },
    };
    const signed = (await smithySigner(ALICE, 'iam', 'us-east-1').sign(r, { signingDate: new Date(NOW) })) as SmithyRequest;
    const v = ok(toVerify(signed));
    assert.equal(v.service, 'iam');
    assert.deepEqual(v.payload, { mode: 'sha256', sha256: EMPTY });
    // Presigned STS GetCallerIdentity (the EKS token shape): empty-body hash, not UNSIGNED-PAYLOAD.
    const sts: SmithyRequest = {
      ...r,
      hostname: 'sts.amazonaws.com',
      headers: { host: 'sts.amazonaws.com', 'x-k8s-aws-id': 'my-cluster' },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    };
    const pre = (await smithySigner(ALICE, 'sts', 'us-east-1').presign(sts, { signingDate: new Date(NOW), expiresIn: 60 })) as SmithyRequest;
    const pv = ok(toVerify(pre));
    assert.equal(pv.service, 'sts');
    assert.deepEqual(pv.signedHeaders, ['host', 'x-k8s-aws-id']);
  });

  it('a POST with a body (STS) signed over its hash, no x-amz-content-sha256', async () => {
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const r: SmithyRequest = {
      method: 'POST',
      protocol: 'https:',
      hostname: 'sts.amazonaws.com',
      path: '/',
      query: {},
      headers: {
        host: 'sts.amazonaws.com',
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(body.length),
      },
      body,
    };
    const signed = (await smithySigner(ALICE, 'sts', 'us-east-1').sign(r, { signingDate: new Date(NOW) })) as SmithyRequest;
    const req = toVerify(signed);
    assert.equal(req.headers['x-amz-content-sha256'], undefined);
    assert.equal(ok(req).signatureDeferred, true);
    const v = verifyRequestWithBody(req, LOOKUP, NOW, sha256(body));
    assert.ok(v);
    assert.equal(v.service, 'sts');
  });
});

describe('sigv4: requests made by @aws-sdk/client-s3', () => {
  it('PutObject / GetObject / ListObjectsV2 / CreateMultipartUpload / UploadPart / DeleteObjects verify', async () => {
    const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, CreateMultipartUploadCommand, UploadPartCommand, DeleteObjectsCommand } =
      await import('@aws-sdk/client-s3');
    const captured: Array<{ req: RequestToVerify; body: Buffer }> = [];
    const requestHandler = {
      async handle(request: SmithyRequest) {
        const parts: Buffer[] = [];
        const b = request.body;
        if (b && typeof (b as Readable).pipe === 'function') {
          for await (const c of b as Readable) parts.push(Buffer.from(c as Uint8Array));
        } else if (typeof b === 'string' || b instanceof Uint8Array) parts.push(Buffer.from(b));
        captured.push({ req: toVerify(request), body: Buffer.concat(parts) });
        let xml = '';
        if (request.query['list-type']) xml = '<ListBucketResult><Name>bkt</Name></ListBucketResult>';
        if (request.query.uploads !== undefined) xml = '<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>';
        if (request.query.delete !== undefined) xml = '<DeleteResult></DeleteResult>';
        return { response: { statusCode: 200, headers: { etag: '"e"' }, body: Readable.from([Buffer.from(xml)]) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    };
    const client = new S3Client({
      region: 'ap-south-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey, sessionToken: TEMP.sessionToken },
      requestHandler,
    });
    for (const key of TRICKY_KEYS.filter((k) => !k.endsWith('/'))) {
      await client.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: 'hello', Metadata: { spaced: 'a  b' } }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'bkt', Key: key, Range: 'bytes=0-1' }));
      await got.Body?.transformToByteArray();
    }
    await client.send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'a b+c/é~', StartAfter: "!'()*", MaxKeys: 3 }));
    await client.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'mp u' }));
    await client.send(new UploadPartCommand({ Bucket: 'bkt', Key: 'mp u', UploadId: 'up/+=id', PartNumber: 1, Body: Buffer.alloc(10) }));
    await client.send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'a' }, { Key: 'b c' }] } }));
    client.destroy();
    assert.ok(captured.length >= 18);
    const now = Date.now(); // the SDK signs with the real clock
    for (const { req } of captured) {
      const v = verifyRequest(req, LOOKUP, now);
      assert.ok(v, `${req.method} ${req.rawPath}?${req.rawQuery}`);
      assert.equal(v.identity, TEMP);
      assert.equal(v.region, 'ap-south-1');
    }
  });
});

// ------------------------------------------------------------------------------------------
// Behaviour and error paths
// ------------------------------------------------------------------------------------------

describe('sigv4: anonymous and mechanism selection', () => {
  it('no authentication at all is anonymous (null)', () => {
    assert.equal(verifyRequest({ method: 'GET', rawPath: '/b/k', rawQuery: 'prefix=x', headers: { host: 'h' } }, LOOKUP, NOW), null);
  });

  it('Authorization header plus query authentication is 400 InvalidArgument', () => {
    const req = presign();
    req.headers.authorization = String(signHeaderAuth().headers.authorization);
    const e = expectS3Error(
      () => verifyRequest(req, LOOKUP, NOW),
      'InvalidArgument',
      400,
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
    assert.equal(e.fields.ArgumentName, 'Authorization');
    const v2q = signHeaderAuth({ query: 'Signature=abc' });
    expectS3Error(() => verifyRequest(v2q, LOOKUP, NOW), 'InvalidArgument', 400);
  });

  it('SigV2 (header or query) and SigV4a are not supported: 400 InvalidRequest', () => {
    const msg = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
    for (const authorization of ['AWS AKIAALICE0000000:frJIUN8DYpKDtOLCwo//yllqDzg=', 'AWS4-ECDSA-P256-SHA256 Credential=x', 'Bearer x', '']) {
      expectS3Error(
        () => verifyRequest({ method: 'GET', rawPath: '/', rawQuery: '', headers: { host: 'h', authorization } }, LOOKUP, NOW),
        'InvalidRequest',
        400,
        msg,
      );
    }
    expectS3Error(
      () =>
        verifyRequest(
          { method: 'GET', rawPath: '/k', rawQuery: 'AWSAccessKeyId=AK&Expires=1&Signature=abc%3D', headers: { host: 'h' } },
          LOOKUP,
          NOW,
        ),
      'InvalidRequest',
      400,
      msg,
    );
  });
});

describe('sigv4: header auth errors', () => {
  const withAuth = (authorization: string, extra: Record<string, string> = {}): RequestToVerify => {
    const r = signHeaderAuth();
    return { ...r, headers: { ...r.headers, ...extra, authorization } };
  };
  const good = String(signHeaderAuth().headers.authorization);

  it('tolerates comma/space variations in the Authorization header', () => {
    const parts = /^AWS4-HMAC-SHA256 (Credential=\S+), (SignedHeaders=\S+), (Signature=\S+)$/.exec(good)!;
    const [c, sh, s] = [parts[1]!, parts[2]!, parts[3]!];
    for (const variant of [
      `AWS4-HMAC-SHA256 ${c},${sh},${s}`,
      `AWS4-HMAC-SHA256  ${c} , ${sh} ,  ${s}`,
      `AWS4-HMAC-SHA256 ${s}, ${c}, ${sh}`,
      `  AWS4-HMAC-SHA256 ${c}, ${sh}, ${s}  `,
      `AWS4-HMAC-SHA256 ${c} ${sh} ${s}`,
    ]) {
      ok(withAuth(variant));
    }
  });

  it('malformed Authorization headers: 400 AuthorizationHeaderMalformed', () => {
    const cases: Array<[string, RegExp]> = [
      ['AWS4-HMAC-SHA256 Credential=AKIAALICE0000000/20240601/us-east-1/s3/aws4_request, Signature=abc', /requires three components: Credential, SignedHeaders, and Signature\.$/],
      ['AWS4-HMAC-SHA256', /requires three components/],
      [good.replace('Signature=', 'Sig='), /component "Sig=.*" is malformed/],
      [good.replace('SignedHeaders=', 'SignedHeaders=host;;'), /SignedHeaders/],
      [`${good}, Signature=abc`, /component "Signature=abc" is malformed/],
      [good.replace('/us-east-1/s3/', '/us-east-1/'), /the Credential is mal-formed; expecting "<YOUR-AKID>\/YYYYMMDD\/REGION\/SERVICE\/aws4_request"\.$/],
      [good.replace('/us-east-1/', '//'), /the Credential is mal-formed/],
      [good.replace('aws4_request', 'aws4_reques'), /incorrect terminal "aws4_reques"\. This endpoint uses "aws4_request"\.$/],
      [good.replace('/20240601/', '/20240602/'), /Invalid credential date\. Date is not the same as X-Amz-Date\.$/],
    ];
    for (const [authorization, message] of cases) {
      const e = expectS3Error(() => verifyRequest(withAuth(authorization), LOOKUP, NOW), 'AuthorizationHeaderMalformed', 400, message);
      assert.match(e.message, /^The authorization header is malformed; /);
    }
  });

  it('no valid date: 403 AccessDenied', () => {
    const msg = 'AWS authentication requires a valid Date or x-amz-date header';
    const r = signHeaderAuth();
    const { 'x-amz-date': _drop, ...noDate } = r.headers;
    expectS3Error(() => verifyRequest({ ...r, headers: noDate }, LOOKUP, NOW), 'AccessDenied', 403, msg);
    for (const bad of ['2024-06-01T10:00:00Z', '20240601T100000', '20241301T100000Z', '20240230T100000Z', '20240601T250000Z', '']) {
      expectS3Error(() => verifyRequest({ ...r, headers: { ...r.headers, 'x-amz-date': bad } }, LOOKUP, NOW), 'AccessDenied', 403, msg);
    }
    expectS3Error(() => verifyRequest({ ...r, headers: { ...noDate, date: 'not a date' } }, LOOKUP, NOW), 'AccessDenied', 403, msg);
  });

  it('a Date header alone (RFC 1123) is accepted', () => {
    const v = ok(signHeaderAuth({ useDateHeader: true }));
    assert.equal(v.chunkSigning.amzDate, amzDate(NOW));
  });

  it('x-amz-content-sha256: required for S3, values validated', () => {
    const r = signHeaderAuth();
    const { 'x-amz-content-sha256': _d, ...without } = r.headers;
    expectS3Error(
      () => verifyRequest({ ...r, headers: without }, LOOKUP, NOW),
      'InvalidRequest',
      400,
      'Missing required header for this request: x-amz-content-sha256',
    );
    for (const bad of ['abc', 'unsigned-payload', `${EMPTY}0`, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILERS', '']) {
      const e = expectS3Error(
        () => verifyRequest({ ...r, headers: { ...r.headers, 'x-amz-content-sha256': bad } }, LOOKUP, NOW),
        'InvalidArgument',
        400,
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      );
      assert.equal(e.fields.ArgumentName, 'x-amz-content-sha256');
    }
    for (const ecdsa of ['STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER']) {
      expectS3Error(() => verifyRequest(signHeaderAuth({ payloadHash: ecdsa }), LOOKUP, NOW), 'NotImplemented', 501);
    }
  });

  it('x-amz-content-sha256 values map to payload modes (upper-case hex accepted, signed literally)', () => {
    const modes: Array<[string, string]> = [
      ['UNSIGNED-PAYLOAD', 'unsigned'],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed-trailer'],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
      [sha256('x'), 'sha256'],
    ];
    for (const [value, mode] of modes) assert.equal(ok(signHeaderAuth({ payloadHash: value })).payload.mode, mode);
    const upper = sha256('x').toUpperCase();
    assert.deepEqual(ok(signHeaderAuth({ payloadHash: upper })).payload, { mode: 'sha256', sha256: sha256('x') });
  });

  it('unknown access key: 403 InvalidAccessKeyId', () => {
    const e = expectS3Error(
      () => verifyRequest(signHeaderAuth({ identity: { ...ALICE, accessKeyId: 'AKIANOBODY' } }), LOOKUP, NOW),
      'InvalidAccessKeyId',
      403,
      'The AWS Access Key Id you provided does not exist in our records.',
    );
    assert.equal(e.fields.AWSAccessKeyId, 'AKIANOBODY');
  });

  it('session tokens', () => {
    // right token
    ok(signHeaderAuth({ identity: TEMP, headers: { 'x-amz-security-token': TEMP.sessionToken! } }));
    // missing: the temporary key does not exist without its token
    expectS3Error(() => verifyRequest(signHeaderAuth({ identity: TEMP }), LOOKUP, NOW), 'InvalidAccessKeyId', 403);
    // wrong token
    expectS3Error(
      () => verifyRequest(signHeaderAuth({ identity: TEMP, headers: { 'x-amz-security-token': 'nope' } }), LOOKUP, NOW),
      'InvalidToken',
      403,
      'The provided token is malformed or otherwise invalid.',
    );
    // a token for a long-term key
    expectS3Error(
      () => verifyRequest(signHeaderAuth({ headers: { 'x-amz-security-token': 'x' } }), LOOKUP, NOW),
      'InvalidToken',
      403,
    );
  });

  it('clock skew beyond 15 minutes: 403 RequestTimeTooSkewed', () => {
    for (const offset of [-15 * 60_000, 15 * 60_000, -14 * 60_000]) ok(signHeaderAuth({ date: NOW + offset }));
    for (const offset of [15 * 60_000 + 1000, -(15 * 60_000 + 1000), 3600_000 * 24]) {
      const req = signHeaderAuth({ date: NOW + offset });
      const e = expectS3Error(
        () => verifyRequest(req, LOOKUP, NOW),
        'RequestTimeTooSkewed',
        403,
        'The difference between the request time and the current time is too large.',
      );
      assert.deepEqual(e.fields, {
        RequestTime: amzDate(NOW + offset),
        ServerTime: '2024-06-01T10:00:00Z',
        MaxAllowedSkewMilliseconds: 900000,
      });
    }
  });

  it('signature mismatch: 403 SignatureDoesNotMatch with AWS diagnostic fields', () => {
    const r = signHeaderAuth({ path: '/a%20b', query: 'x=1' });
    const bad = { ...r, headers: { ...r.headers, authorization: String(r.headers.authorization).replace(/.$/, (c) => (c === '0' ? '1' : '0')) } };
    const e = expectS3Error(
      () => verifyRequest(bad, LOOKUP, NOW),
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
    assert.deepEqual(Object.keys(e.fields), [
      'AWSAccessKeyId',
      'StringToSign',
      'SignatureProvided',
      'StringToSignBytes',
      'CanonicalRequest',
      'CanonicalRequestBytes',
    ]);
    assert.equal(e.fields.AWSAccessKeyId, ALICE.accessKeyId);
    const sts = String(e.fields.StringToSign);
    assert.match(sts, /^AWS4-HMAC-SHA256\n20240601T100000Z\n20240601\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
    assert.equal(e.fields.StringToSignBytes, hexBytes(sts));
    assert.match(String(e.fields.StringToSignBytes), /^41 57 53 34 2d 48 4d 41 43/);
    assert.equal(
      e.fields.CanonicalRequest,
      `GET\n/a%20b\nx=1\nhost:bucket.s3.example.com\nx-amz-content-sha256:${EMPTY}\nx-amz-date:20240601T100000Z\n\nhost;x-amz-content-sha256;x-amz-date\n${EMPTY}`,
    );
    // wrong secret, wrong signature length, upper-case signature
    expectS3Error(() => verifyRequest(signHeaderAuth({ identity: { ...ALICE, secretAccessKey: 'other' } }), LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
    const short = { ...r, headers: { ...r.headers, authorization: String(r.headers.authorization).slice(0, -2) } };
    expectS3Error(() => verifyRequest(short, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
    const upper = { ...r, headers: { ...r.headers, authorization: String(r.headers.authorization).replace(/Signature=(\w+)/, (_m, s: string) => `Signature=${s.toUpperCase()}`) } };
    expectS3Error(() => verifyRequest(upper, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });

  it('host must be signed (SignatureDoesNotMatch even with an otherwise valid signature)', () => {
    const r = signHeaderAuth({ signedHeaders: ['x-amz-content-sha256', 'x-amz-date'] });
    expectS3Error(() => verifyRequest(r, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });

  it('every signed header must be present (an empty value is fine)', () => {
    const r = signHeaderAuth({ headers: { 'x-amz-meta-empty': '' } });
    ok(r);
    const { 'x-amz-meta-empty': _gone, ...rest } = r.headers;
    const e = expectS3Error(() => verifyRequest({ ...r, headers: rest }, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
    assert.match(String(e.fields.CanonicalRequest), /\nx-amz-meta-empty:\n/);
  });

  it('unsigned extra headers (x-amz-* included) are allowed; signed ones are covered', () => {
    const r = signHeaderAuth({ headers: { 'x-amz-meta-a': 'signed' } });
    ok({ ...r, headers: { ...r.headers, 'x-amz-meta-b': 'not signed', 'user-agent': 'x' } });
    expectS3Error(() => verifyRequest({ ...r, headers: { ...r.headers, 'x-amz-meta-a': 'changed' } }, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
    // whitespace runs in a signed value are not significant
    ok({ ...r, headers: { ...r.headers, 'x-amz-meta-a': '  signed ' } });
  });

  it('node-joined repeated headers and array values canonicalise as delivered', () => {
    ok(signHeaderAuth({ headers: { 'x-amz-meta-multi': 'a, b' } }));
    const r = signHeaderAuth({ headers: { 'x-amz-meta-multi': 'a,b' } });
    ok({ ...r, headers: { ...r.headers, 'x-amz-meta-multi': ['a', ' b'] } });
  });

  it('unicode, "~", "!", space and "+" in keys and query values', () => {
    const cases: Array<[string, string, string, string]> = [
      // [wire path, canonical path the client signed, wire query, canonical query it signed]
      ['/%E6%97%A5%E6%9C%AC/%F0%9F%8E%89', '/%E6%97%A5%E6%9C%AC/%F0%9F%8E%89', 'prefix=%E6%97%A5', 'prefix=%E6%97%A5'],
      ['/a~b/%7Ec', '/a~b/~c', 'k=%7E&j=~', 'j=~&k=~'],
      ['/a!b', '/a%21b', "k=!'", 'k=%21%27'],
      ['/a%20b', '/a%20b', 'prefix=a%20b', 'prefix=a%20b'],
      ['/a+b', '/a%2Bb', 'prefix=a%2Bb', 'prefix=a%2Bb'],
      ['/%c3%a9', '/%C3%A9', 'p=%c3%a9', 'p=%C3%A9'],
    ];
    for (const [wirePath, path, wireQuery, query] of cases) {
      const r = signHeaderAuth({ path, query });
      ok({ ...r, rawPath: wirePath, rawQuery: wireQuery });
    }
    // a raw '+' in the query is a plus, signed as %2B (not as a space)
    const plus = signHeaderAuth({ query: 'prefix=a%2Bb' });
    ok({ ...plus, rawQuery: 'prefix=a+b' });
    const space = signHeaderAuth({ query: 'prefix=a%20b' });
    expectS3Error(() => verifyRequest({ ...space, rawQuery: 'prefix=a+b' }, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });

  it('duplicate and empty-value query parameters', () => {
    const r = signHeaderAuth({ query: 'a=1&a=2&b=&c' });
    ok({ ...r, rawQuery: 'a=2&c=&b&a=1' });
    expectS3Error(() => verifyRequest({ ...r, rawQuery: 'a=2&b=&c' }, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });

  it('the signature comparison goes through crypto.timingSafeEqual', () => {
    const spy = mock.method(crypto, 'timingSafeEqual');
    try {
      ok(signHeaderAuth());
      assert.equal(spy.mock.callCount(), 1);
      const r = signHeaderAuth();
      const bad = { ...r, headers: { ...r.headers, authorization: String(r.headers.authorization).replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) } };
      expectS3Error(() => verifyRequest(bad, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
      assert.equal(spy.mock.callCount(), 2);
      assert.equal(spy.mock.calls[1]!.result, false);
      // and for session tokens
      ok(signHeaderAuth({ identity: TEMP, headers: { 'x-amz-security-token': TEMP.sessionToken! } }));
      assert.equal(spy.mock.callCount(), 4);
    } finally {
      spy.mock.restore();
    }
  });

  it('non-S3: x-amz-content-sha256 optional; with verifyRequestWithBody it must match the body', () => {
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const noHeader = signHeaderAuth({
      method: 'POST',
      service: 'sts',
      payloadHash: sha256(body),
      contentShaHeader: false,
      headers: { 'content-length': String(body.length), 'content-type': 'application/x-www-form-urlencoded' },
    });
    const d = ok(noHeader);
    assert.equal(d.signatureDeferred, true);
    assert.equal(d.payload.sha256, undefined);
    assert.ok(verifyRequestWithBody(noHeader, LOOKUP, NOW, sha256(body)));
    // deferred still checks everything but the signature
    expectS3Error(() => verifyRequest(noHeader, lookupOf(), NOW), 'InvalidAccessKeyId', 403);

    const withHeader = signHeaderAuth({ method: 'POST', service: 'kms', payloadHash: sha256(body), contentShaHeader: true });
    assert.deepEqual(ok(withHeader).payload, { mode: 'sha256', sha256: sha256(body) });
    assert.ok(verifyRequestWithBody(withHeader, LOOKUP, NOW, sha256(body)));
    const e = expectS3Error(
      () => verifyRequestWithBody(withHeader, LOOKUP, NOW, sha256('other')),
      'XAmzContentSHA256Mismatch',
      400,
    );
    assert.equal(e.fields.S3ComputedContentSHA256, sha256('other'));
  });
});

describe('sigv4: presigned errors and limits', () => {
  const msgRequired =
    'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

  it('a valid presigned URL, and the returned fields', () => {
    const v = ok(presign({ date: NOW - 1000, region: 'eu-central-1' }));
    assert.equal(v.presigned, true);
    assert.equal(v.region, 'eu-central-1');
    assert.deepEqual(v.signedHeaders, ['host']);
    assert.deepEqual(v.payload, { mode: 'unsigned' });
    assert.equal(v.chunkSigning.amzDate, amzDate(NOW - 1000));
  });

  it('each missing parameter: 400 AuthorizationQueryParametersError', () => {
    const r = presign();
    for (const name of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires']) {
      const rawQuery = r.rawQuery
        .split('&')
        .filter((p) => !p.startsWith(`${name}=`))
        .join('&');
      expectS3Error(() => verifyRequest({ ...r, rawQuery }, LOOKUP, NOW), 'AuthorizationQueryParametersError', 400, msgRequired);
    }
  });

  it('bad parameter values: 400 AuthorizationQueryParametersError', () => {
    const r = presign();
    const sub = (from: RegExp, to: string): RequestToVerify => ({ ...r, rawQuery: r.rawQuery.replace(from, to) });
    const cases: Array<[RequestToVerify, RegExp]> = [
      [sub(/X-Amz-Algorithm=[^&]*/, 'X-Amz-Algorithm=AWS4-HMAC-SHA1'), /X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"/],
      [sub(/X-Amz-Credential=[^&]*/, 'X-Amz-Credential=AKIAALICE0000000%2F20240601%2Fus-east-1'), /^Error parsing the X-Amz-Credential parameter; the Credential is mal-formed/],
      [sub(/aws4_request/, 'aws5_request'), /incorrect terminal "aws5_request"/],
      [sub(/X-Amz-Date=[^&]*/, 'X-Amz-Date=2024-06-01T10%3A00%3A00Z'), /X-Amz-Date must be in the ISO8601 Long Format/],
      [sub(/X-Amz-Date=20240601/, 'X-Amz-Date=20240602'), /^Invalid credential date "20240601"\. This date is not the same as X-Amz-Date: "20240602"\.$/],
      [sub(/X-Amz-Expires=\d+/, 'X-Amz-Expires=abc'), /X-Amz-Expires should be a number/],
      [sub(/X-Amz-SignedHeaders=[^&]*/, 'X-Amz-SignedHeaders='), /X-Amz-SignedHeaders/],
    ];
    for (const [req, message] of cases) {
      expectS3Error(() => verifyRequest(req, LOOKUP, NOW), 'AuthorizationQueryParametersError', 400, message);
    }
  });

  it('X-Amz-Expires must be 1..604800', () => {
    ok(presign({ expires: 604800 }));
    ok(presign({ expires: 1 }));
    expectS3Error(
      () => verifyRequest(presign({ expires: 604801 }), LOOKUP, NOW),
      'AuthorizationQueryParametersError',
      400,
      'X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
    for (const e of [0, -1]) {
      expectS3Error(() => verifyRequest(presign({ expires: e }), LOOKUP, NOW), 'AuthorizationQueryParametersError', 400, 'X-Amz-Expires must be non-negative');
    }
  });

  it('expiry with an injected clock: 403 AccessDenied "Request has expired"', () => {
    const req = presign({ date: NOW, expires: 300 });
    ok(req, NOW + 300_000);
    ok(req, NOW - 60_000);
    const e = expectS3Error(() => verifyRequest(req, LOOKUP, NOW + 300_001), 'AccessDenied', 403, 'Request has expired');
    assert.deepEqual(e.fields, { 'X-Amz-Expires': '300', Expires: '2024-06-01T10:05:00Z', ServerTime: '2024-06-01T10:05:00Z' });
    // presigned requests are not subject to the 15-minute skew rule: a day-old URL valid for a week works
    ok(presign({ date: NOW - 24 * 3600_000, expires: 604800 }));
  });

  it('dated more than 15 minutes in the future: 403 AccessDenied "Request is not valid yet"', () => {
    ok(presign({ date: NOW + 15 * 60_000 }));
    const e = expectS3Error(() => verifyRequest(presign({ date: NOW + 16 * 60_000 }), LOOKUP, NOW), 'AccessDenied', 403, 'Request is not valid yet');
    assert.equal(e.fields.ServerTime, '2024-06-01T10:00:00Z');
  });

  it('unknown key, tokens, and signature mismatch', () => {
    expectS3Error(() => verifyRequest(presign({ identity: { ...ALICE, accessKeyId: 'AKIAX' } }), LOOKUP, NOW), 'InvalidAccessKeyId', 403);
    ok(presign({ identity: TEMP, tokenInQuery: TEMP.sessionToken! }));
    expectS3Error(() => verifyRequest(presign({ identity: TEMP }), LOOKUP, NOW), 'InvalidAccessKeyId', 403);
    expectS3Error(() => verifyRequest(presign({ identity: TEMP, tokenInQuery: 'bad' }), LOOKUP, NOW), 'InvalidToken', 403);
    // token as a header (signed) is accepted too
    ok(presign({ identity: TEMP, headers: { 'x-amz-security-token': TEMP.sessionToken! } }));
    const r = presign();
    const tampered = { ...r, rawQuery: r.rawQuery.replace(/X-Amz-Signature=./, (m) => (m.endsWith('0') ? `${m.slice(0, -1)}1` : `${m.slice(0, -1)}0`)) };
    const e = expectS3Error(() => verifyRequest(tampered, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
    assert.doesNotMatch(String(e.fields.CanonicalRequest), /X-Amz-Signature/);
    assert.match(String(e.fields.CanonicalRequest), /\nUNSIGNED-PAYLOAD$/);
    // extending the expiry invalidates the signature
    expectS3Error(() => verifyRequest({ ...r, rawQuery: r.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=7200') }, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });

  it('X-Amz-Content-Sha256 query parameter sets the payload hash', () => {
    const v = ok(presign({ extraQuery: `X-Amz-Content-Sha256=${sha256('data')}`, payloadHash: sha256('data'), method: 'PUT' }));
    assert.deepEqual(v.payload, { mode: 'sha256', sha256: sha256('data') });
  });

  it('other query parameters are signed; parameters after signing are rejected', () => {
    const r = presign({ extraQuery: 'versionId=v1&response-content-type=text%2Fplain&partNumber=1&uploadId=a%2Bb' });
    ok(r);
    expectS3Error(() => verifyRequest({ ...r, rawQuery: `${r.rawQuery}&x-id=1` }, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });

  it('host must be signed', () => {
    expectS3Error(() => verifyRequest(presign({ signedHeaders: [], headers: {} }), LOOKUP, NOW), 'AuthorizationQueryParametersError', 400);
    const r = presign({ headers: { 'x-amz-meta-a': 'b' }, signedHeaders: ['x-amz-meta-a'] });
    expectS3Error(() => verifyRequest(r, LOOKUP, NOW), 'SignatureDoesNotMatch', 403);
  });
});
