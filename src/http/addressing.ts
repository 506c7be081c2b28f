/**
 * Where a request points: bucket and key from virtual-host-style (`bucket.<domain>`) or
 * path-style (`/bucket/key`) addressing, and the decoded query parameters.
 */
import { S3Error } from '../errors.js';

export interface Target {
  bucket?: string;
  key?: string;
  /** True when the bucket came from the Host header (virtual-host style). */
  virtualHost: boolean;
  /** The path as received (still percent-encoded), for signature verification. */
  rawPath: string;
  rawQuery: string;
  query: Map<string, string>;
}

const invalidUri = () => new S3Error('InvalidURI', 400, "Couldn't parse the specified URI.");

function decode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalidUri();
  }
}

/** Query values keep '+' literal: AWS clients encode spaces as %20. First occurrence wins. */
export function parseQuery(raw: string): Map<string, string> {
  const q = new Map<string, string>();
  if (raw === '') return q;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    if (!q.has(name)) q.set(name, value);
  }
  return q;
}

/**
 * The bucket of a virtual-host-style Host header: the labels before one of the configured
 * domains. `s3.<domain>` and `s3.<region>.<domain>` are service endpoints, not buckets.
 */
export function bucketFromHost(host: string | undefined, domains: readonly string[]): string | undefined {
  if (!host) return undefined;
  let h = host.toLowerCase();
  if (h.startsWith('[')) return undefined;
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  for (const d of domains) {
    if (h.length > d.length + 1 && h.endsWith(`.${d}`)) {
      const label = h.slice(0, h.length - d.length - 1);
      if (label === 's3' || /^s3[.-][a-z0-9-]+$/.test(label)) return undefined;
      const m = /^(.+)\.s3(?:[.-][a-z0-9-]+)?$/.exec(label);
      return m ? m[1] : label;
    }
  }
  return undefined;
}

export function resolveTarget(url: string, host: string | undefined, domains: readonly string[]): Target {
  const qi = url.indexOf('?');
  const rawPath = qi < 0 ? url : url.slice(0, qi);
  const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
  if (!rawPath.startsWith('/')) throw invalidUri();
  const query = parseQuery(rawQuery);
  let vhost = bucketFromHost(host, domains);
  // S3 Control (/v20180820/...) names the account, not a bucket, in its host:
  // <account-id>[.s3-control[.region]].<domain> or s3-control[.region].<domain>.
  if (vhost !== undefined && rawPath.startsWith('/v20180820/') && /^(\d{12}(\.s3-control(\.[a-z0-9-]+)?)?|s3-control(\.[a-z0-9-]+)?)$/.test(vhost)) {
    vhost = undefined;
  }
  if (vhost !== undefined) {
    const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : undefined;
    return { bucket: vhost, key, virtualHost: true, rawPath, rawQuery, query };
  }
  const slash = rawPath.indexOf('/', 1);
  const bucketPart = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  if (bucketPart === '') return { virtualHost: false, rawPath, rawQuery, query };
  const bucket = decode(bucketPart);
  const keyPart = slash < 0 ? '' : rawPath.slice(slash + 1);
  return { bucket, key: keyPart === '' ? undefined : decode(keyPart), virtualHost: false, rawPath, rawQuery, query };
}
