/**
 * A compact AWS Signature Version 4 signer for the benchmark's load generator (header auth).
 *
 * Bodies are sent with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as the AWS SDKs do over TLS,
 * so the signing cost is per request (one SHA-256 of the canonical request and one HMAC of the
 * string to sign), never per byte. The signing key is derived once per day; the timestamps are
 * formatted once per second.
 *
 * Signed headers: host, x-amz-content-sha256, x-amz-date. Paths are expected to need no
 * percent-encoding beyond what `encodePath` does (the benchmark's keys are [A-Za-z0-9/_.-]).
 */
import { createHmac, hash } from 'node:crypto';

const BLOCK = 64;

/**
 * HMAC-SHA256 with a fixed key, as two one-shot hashes over pre-padded keys
 * (H((K^opad) || H((K^ipad) || m))): no Hmac object per call, which is what createHmac costs.
 */
class FixedKeyHmac {
  private inner = Buffer.alloc(BLOCK + 1024);
  private readonly outer = Buffer.alloc(BLOCK + 32);

  constructor(key: Buffer) {
    const k = key.length > BLOCK ? hash('sha256', key, 'buffer') : key;
    for (let i = 0; i < BLOCK; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  /** HMAC of an ASCII message, hex. */
  hex(message: string): string {
    const need = BLOCK + message.length;
    if (need > this.inner.length) {
      const bigger = Buffer.alloc(need * 2);
      this.inner.copy(bigger, 0, 0, BLOCK);
      this.inner = bigger;
    }
    const n = this.inner.write(message, BLOCK, 'latin1');
    // 'binary' (latin1) output + write is cheaper than a Buffer output (which allocates).
    this.outer.write(hash('sha256', this.inner.subarray(0, BLOCK + n), 'binary'), BLOCK, 'latin1');
    return hash('sha256', this.outer, 'hex');
  }
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const SIGNED_HEADERS = 'host;x-amz-content-sha256;x-amz-date';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
}

export interface SignedHeaders {
  amzDate: string;
  authorization: string;
}

/** RFC 3986 encoding of each path segment, keeping the slashes (S3 signs the path encoded once). */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()),
    )
    .join('/');
}

export class SigV4Signer {
  private readonly service: string;
  private day = '';
  private scope = '';
  private credentialPrefix = '';
  private hmac: FixedKeyHmac | null = null;
  private second = -1;
  private amzDate = '';

  constructor(private readonly creds: Credentials) {
    this.service = creds.service ?? 's3';
  }

  private refresh(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.second) return;
    this.second = second;
    // 2024-01-02T03:04:05.000Z -> 20240102T030405Z
    const iso = new Date(second * 1000).toISOString();
    this.amzDate = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
    const day = this.amzDate.slice(0, 8);
    if (day !== this.day) {
      this.day = day;
      this.scope = `${day}/${this.creds.region}/${this.service}/aws4_request`;
      this.credentialPrefix = `AWS4-HMAC-SHA256 Credential=${this.creds.accessKeyId}/${this.scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=`;
      const kDate = createHmac('sha256', 'AWS4' + this.creds.secretAccessKey).update(day).digest();
      const kRegion = createHmac('sha256', kDate).update(this.creds.region).digest();
      const kService = createHmac('sha256', kRegion).update(this.service).digest();
      this.hmac = new FixedKeyHmac(createHmac('sha256', kService).update('aws4_request').digest());
    }
  }

  /**
   * Signs a request with an empty query string. `canonicalPath` must already be URI-encoded
   * (see encodePath); `host` is the Host header value exactly as sent (host:port).
   */
  sign(method: string, canonicalPath: string, host: string, nowMs: number = Date.now()): SignedHeaders {
    this.refresh(nowMs);
    const canonicalRequest =
      method +
      '\n' +
      canonicalPath +
      '\n\nhost:' +
      host +
      '\nx-amz-content-sha256:' +
      UNSIGNED_PAYLOAD +
      '\nx-amz-date:' +
      this.amzDate +
      '\n\n' +
      SIGNED_HEADERS +
      '\n' +
      UNSIGNED_PAYLOAD;
    const stringToSign =
      'AWS4-HMAC-SHA256\n' + this.amzDate + '\n' + this.scope + '\n' + hash('sha256', canonicalRequest, 'hex');
    const signature = this.hmac!.hex(stringToSign);
    return { amzDate: this.amzDate, authorization: this.credentialPrefix + signature };
  }
}
