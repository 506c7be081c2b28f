/**
 * Signed GET requests to a server's admin endpoints (/_xregion/...), for the CLI. Signing uses
 * the same SigV4 building blocks the server verifies with.
 */
import http from 'node:http';
import https from 'node:https';
import {
  buildCanonicalRequest,
  buildStringToSign,
  canonicalQueryString,
  canonicalUri,
  EMPTY_SHA256,
  formatAmzDate,
  parseQuery,
  uriEncode,
} from '../http/sigv4/canonical.js';
import { getSigningKey, signatureHex } from '../http/sigv4/signing-key.js';

export interface AdminTarget {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function adminGet(t: AdminTarget, path: string, params: Record<string, string | undefined>): Promise<unknown> {
  const url = new URL(t.endpoint);
  const query = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
    .join('&');
  const rawPath = `/_xregion/${path}`;
  const amzDate = formatAmzDate(Date.now());
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${t.region}/s3/aws4_request`;
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': amzDate };
  const signed = ['host', 'x-amz-content-sha256', 'x-amz-date'];
  const canonical = buildCanonicalRequest({
    method: 'GET',
    canonicalUri: canonicalUri(rawPath),
    canonicalQuery: canonicalQueryString(parseQuery(query)),
    signedHeaders: signed,
    headers,
    payloadHash: EMPTY_SHA256,
  });
  const signature = signatureHex(getSigningKey(t.secretAccessKey, date, t.region, 's3'), buildStringToSign(amzDate, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${t.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const lib = url.protocol === 'https:' ? https : http;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = lib.request({ method: 'GET', host: url.hostname, port: url.port, path: `${rawPath}${query ? `?${query}` : ''}`, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  if (status !== 200) {
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
    throw new AdminError(status, code ? `${code}: ${message ?? ''}` : `HTTP ${status}`);
  }
  return JSON.parse(body) as unknown;
}
