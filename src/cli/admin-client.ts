/**
 * Signed requests from the CLI to a server (its admin endpoints, the S3 Control API). Signing
 * uses the same SigV4 building blocks the server verifies with.
 */
import http from 'node:http';
import https from 'node:https';
import {
  buildCanonicalRequest,
  buildStringToSign,
  canonicalQueryString,
  canonicalUri,
  formatAmzDate,
  parseQuery,
  sha256Hex,
  uriEncode,
} from '../http/sigv4/canonical.js';
import { getSigningKey, signatureHex } from '../http/sigv4/signing-key.js';
import { decodeEntities } from '../http/xml.js';

export interface AdminTarget {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface SignedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Query values may repeat (an array is sent as the same name several times). */
export type Query = Record<string, string | string[] | undefined>;

export async function signedRequest(
  t: AdminTarget,
  method: string,
  rawPath: string,
  query: Query,
  body = '',
  extraHeaders: Record<string, string> = {},
): Promise<SignedAnswer> {
  const url = new URL(t.endpoint);
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) pairs.push(`${uriEncode(k)}=${uriEncode(x)}`);
  }
  const rawQuery = pairs.join('&');
  const amzDate = formatAmzDate(Date.now());
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${t.region}/s3/aws4_request`;
  const payloadHash = sha256Hex(body);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(extraHeaders).map(([k, v]) => [k.toLowerCase(), v])),
    host: url.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
  };
  if (body !== '') headers['content-length'] = String(Buffer.byteLength(body));
  const signed = Object.keys(headers).sort();
  const canonical = buildCanonicalRequest({
    method,
    canonicalUri: canonicalUri(rawPath),
    canonicalQuery: canonicalQueryString(parseQuery(rawQuery)),
    signedHeaders: signed,
    headers,
    payloadHash,
  });
  const signature = signatureHex(getSigningKey(t.secretAccessKey, date, t.region, 's3'), buildStringToSign(amzDate, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${t.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<SignedAnswer>((resolve, reject) => {
    const req = lib.request({ method, host: url.hostname, port: url.port, path: `${rawPath}${rawQuery ? `?${rawQuery}` : ''}`, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The error of a non-2xx XML answer (S3's <Error> or S3 Control's <ErrorResponse><Error>). */
export function answerError(a: SignedAnswer): AdminError {
  const field = (name: string) => {
    const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(a.body)?.[1];
    return m === undefined ? undefined : decodeEntities(m);
  };
  const code = field('Code');
  const message = field('Message');
  return new AdminError(a.status, code, code ? `${code}: ${message ?? ''}` : `HTTP ${a.status}`);
}

/** GET of an admin endpoint (/_xregion/<path>), answered with JSON. */
export async function adminGet(t: AdminTarget, path: string, params: Query): Promise<unknown> {
  const a = await signedRequest(t, 'GET', `/_xregion/${path}`, params);
  if (a.status !== 200) throw answerError(a);
  return JSON.parse(a.body) as unknown;
}
