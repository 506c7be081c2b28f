/**
 * Small S3 helpers for the replication benchmark (bench/replication.ts): a SigV4 signer for
 * requests with a query string (bench/sign.ts signs only empty queries), a ListObjectsV2 call on
 * a raw keep-alive connection that returns only the keys, and an AWS SDK client for the set-up
 * (buckets, versioning, replication rules), which is not on any measured path.
 */
import { createHash, createHmac } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import type { RawConnection } from './client.js';
import { encodePath, UNSIGNED_PAYLOAD } from './sign.js';

export const ACCESS_KEY = 'test';
export const SECRET_KEY = 'test';

/** RFC 3986 encoding of a query key or value. */
function encodeQuery(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function canonicalQuery(q: Record<string, string>): string {
  return Object.entries(q)
    .map(([k, v]) => [encodeQuery(k), encodeQuery(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** SigV4 header auth (host, x-amz-content-sha256: UNSIGNED-PAYLOAD, x-amz-date) with any query. */
export class QuerySigner {
  private day = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(private readonly region: string) {}

  /** Headers to send; `path` is the request path before encoding (e.g. /bucket). */
  sign(method: string, path: string, query: Record<string, string>, host: string, now = Date.now()): Array<[string, string]> {
    const iso = new Date(now).toISOString();
    const amzDate = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
    const day = amzDate.slice(0, 8);
    if (day !== this.day) {
      this.day = day;
      const kDate = createHmac('sha256', 'AWS4' + SECRET_KEY).update(day).digest();
      const kRegion = createHmac('sha256', kDate).update(this.region).digest();
      const kService = createHmac('sha256', kRegion).update('s3').digest();
      this.key = createHmac('sha256', kService).update('aws4_request').digest();
    }
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const signed = 'host;x-amz-content-sha256;x-amz-date';
    const canonical = [
      method,
      encodePath(path),
      canonicalQuery(query),
      `host:${host}`,
      `x-amz-content-sha256:${UNSIGNED_PAYLOAD}`,
      `x-amz-date:${amzDate}`,
      '',
      signed,
      UNSIGNED_PAYLOAD,
    ].join('\n');
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const signature = createHmac('sha256', this.key).update(toSign).digest('hex');
    return [
      ['x-amz-date', amzDate],
      ['x-amz-content-sha256', UNSIGNED_PAYLOAD],
      ['authorization', `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${signed}, Signature=${signature}`],
    ];
  }
}

export interface ListPage {
  keys: string[];
  truncated: boolean;
  /** Response body bytes. */
  bytes: number;
}

function decodeXml(s: string): string {
  return s.includes('&')
    ? s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
        .replace(/&amp;/g, '&')
    : s;
}

/** ListObjectsV2 of `prefix` after `startAfter`: the keys, in order. Throws on a non-200. */
export async function listKeys(
  conn: RawConnection,
  signer: QuerySigner,
  host: string,
  bucket: string,
  prefix: string,
  startAfter: string | undefined,
  maxKeys = 1000,
): Promise<ListPage> {
  const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': String(maxKeys) };
  if (startAfter !== undefined) query['start-after'] = startAfter;
  const path = `/${bucket}`;
  const headers = signer.sign('GET', path, query, host);
  const r = await conn.request('GET', `${encodePath(path)}?${canonicalQuery(query)}`, headers, null, true);
  const text = r.body ? r.body.toString('utf8') : '';
  if (r.status !== 200) throw new Error(`ListObjectsV2 ${bucket}: HTTP ${r.status} ${text.slice(0, 300)}`);
  const keys: string[] = [];
  for (const m of text.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(decodeXml(m[1]!));
  return { keys, truncated: /<IsTruncated>true<\/IsTruncated>/.test(text), bytes: r.bytes };
}

/** An SDK client for set-up calls. */
export function sdkClient(endpoint: string, region: string): S3Client {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    maxAttempts: 3,
  });
}
