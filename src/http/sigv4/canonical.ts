/**
 * Building blocks of the SigV4 canonical request and string-to-sign, computed from the request
 * exactly as it arrived (raw path, raw query, node's header values).
 *
 * The server cannot reuse the client's encoding of the path or query: clients disagree on which
 * characters to escape (botocore leaves '~' raw, the JS SDK escapes !'()*, some clients send raw
 * '!' or '$'), but they all sign the strict RFC 3986 form of the decoded bytes. So every component
 * is percent-decoded to bytes and re-encoded strictly, which makes all of them verify.
 */
import crypto from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** '%XX' for every byte except the RFC 3986 unreserved set, which stays literal. */
const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const c = String.fromCharCode(b);
  return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
});

const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;
const UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-._~/]*$/;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes to raw bytes. '+' stays a literal '+' (the query is not treated as
 * application/x-www-form-urlencoded: AWS SDKs never send '+' for a space, they send %20, and a
 * '+' they do send is meant as a plus and signed as %2B). A '%' not followed by two hex digits is
 * kept literally, as S3 does, and so re-encodes as %25.
 */
export function percentDecode(raw: string): Buffer {
  const src = Buffer.from(raw, 'utf8');
  if (!src.includes(0x25)) return src;
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x25 && i + 2 < src.length) {
      const h = hexValue(src[i + 1]!);
      const l = hexValue(src[i + 2]!);
      if (h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        i += 2;
        continue;
      }
    }
    out[o++] = c;
  }
  return out.subarray(0, o);
}

/** Strict SigV4 URI encoding of bytes; '/' kept literal when keepSlash (canonical URI). */
function uriEncodeBytes(bytes: Uint8Array, keepSlash = false): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += keepSlash && b === 0x2f ? '/' : ENCODED_BYTE[b]!;
  }
  return s;
}

/** Strict SigV4 URI encoding of a string's UTF-8 bytes. */
export function uriEncode(value: string, keepSlash = false): string {
  if (UNRESERVED_ONLY.test(value)) return value;
  return uriEncodeBytes(Buffer.from(value, 'utf8'), keepSlash);
}

/** Decode then strictly re-encode one raw component (a path segment, a query name or value). */
function recanonicalize(raw: string): string {
  if (UNRESERVED_ONLY.test(raw)) return raw;
  return uriEncodeBytes(percentDecode(raw));
}

/**
 * Canonical URI for S3 (and, identically, for the other services we see, whose paths are all
 * "/"): each '/'-separated segment of the raw path decoded and re-encoded once. No '.'/'..'
 * removal and no '//' merging, because S3 keys may contain them and S3 signs them as sent; no
 * double encoding, which only non-S3 services use and which is the identity on "/". Working per
 * segment keeps an escaped slash (%2F) inside a segment as %2F rather than turning it into a
 * separator, so a client that escapes '/' in keys and signs what it sends still verifies.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  if (UNRESERVED_OR_SLASH.test(rawPath)) return rawPath;
  return rawPath.split('/').map(recanonicalize).join('/');
}

export interface QueryParam {
  /** As sent (still percent-encoded). */
  rawName: string;
  rawValue: string;
  /** Percent-decoded as UTF-8, for reading values such as X-Amz-Credential. */
  name: string;
  value: string;
}

/**
 * Splits a raw query string into parameters. A parameter without '=' has an empty value (S3
 * sub-resources such as "?uploads" are signed as "uploads="). Empty pieces ("a&&b", a trailing
 * '&') are not parameters.
 */
export function parseQuery(rawQuery: string): QueryParam[] {
  const out: QueryParam[] = [];
  if (rawQuery === '') return out;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    out.push({
      rawName,
      rawValue,
      name: percentDecode(rawName).toString('utf8'),
      value: percentDecode(rawValue).toString('utf8'),
    });
  }
  return out;
}

/**
 * Canonical query string: names and values re-encoded strictly, sorted by name then value
 * (ASCII order of the encoded forms, which is what every SDK sorts by), joined "n=v&n=v".
 * `omit` drops parameters (X-Amz-Signature of a presigned request).
 */
export function canonicalQueryString(params: readonly QueryParam[], omit?: (p: QueryParam) => boolean): string {
  const pairs: Array<[string, string]> = [];
  for (const p of params) {
    if (omit?.(p)) continue;
    pairs.push([recanonicalize(p.rawName), recanonicalize(p.rawValue)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function trimAll(v: string): string {
  // Both SDKs collapse every whitespace run (botocore: ' '.join(v.split()), JS: /\s+/g), so do
  // the same rather than only spaces.
  const t = v.trim();
  return /\s\s|[\t\n\r\f\v]/.test(t) ? t.replace(/\s+/g, ' ') : t;
}

/**
 * Canonical form of a header value as node delivers it. Node has already joined repeated
 * headers with ", " (or ";" for cookie, or given an array for set-cookie); the raw repetition is
 * not recoverable, and no SDK repeats a signed header, so that joined value is used as is.
 */
function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map(trimAll).join(',');
  return trimAll(value);
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  /** Header names as listed in SignedHeaders (lower-case), in that order. */
  signedHeaders: readonly string[];
  headers: Readonly<Record<string, string | string[] | undefined>>;
  payloadHash: string;
}

export function buildCanonicalRequest(p: CanonicalRequestParts): string {
  let headerBlock = '';
  for (const name of p.signedHeaders) {
    headerBlock += `${name}:${canonicalHeaderValue(p.headers[name.toLowerCase()])}\n`;
  }
  return `${p.method}\n${p.canonicalUri}\n${p.canonicalQuery}\n${headerBlock}\n${p.signedHeaders.join(';')}\n${p.payloadHash}`;
}

/** node >= 20.12 has a one-shot hash that skips the Hash object (about twice as fast). */
const oneShotHash = (crypto as unknown as { hash?: (alg: string, data: string | Buffer, enc: 'hex') => string }).hash;

export function sha256Hex(data: string | Buffer): string {
  // Strings hash as UTF-8. Node decodes header bytes as latin1, and both SDKs hash their
  // canonical request as UTF-8 of the same (latin1-range) characters they put on the wire.
  if (oneShotHash) return oneShotHash('sha256', data, 'hex');
  return crypto.createHash('sha256').update(data).digest('hex');
}

export function buildStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/** AWS's *Bytes error fields: the UTF-8 bytes as space-separated two-digit lower-case hex. */
export function hexBytes(s: string): string {
  const b = Buffer.from(s, 'utf8');
  const parts = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) parts[i] = b[i]!.toString(16).padStart(2, '0');
  return parts.join(' ');
}

/**
 * Constant-time string equality (for signatures and tokens). The length of a signature is public,
 * so a length mismatch may return early. Goes through the `crypto` default export so tests can
 * observe that the constant-time primitive is what decides.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) return false;
  return crypto.timingSafeEqual(x, y);
}

/** Requests arriving in the same second carry the same date: the last parse is remembered. */
let lastAmzDate = '';
let lastAmzDateMs: number | undefined;

/** ISO 8601 basic "YYYYMMDDTHHMMSSZ" → epoch ms, or undefined if it is not exactly that. */
export function parseAmzDate(value: string): number | undefined {
  if (value === lastAmzDate) return lastAmzDateMs;
  const ms = parseAmzDateUncached(value);
  lastAmzDate = value;
  lastAmzDateMs = ms;
  return ms;
}

function parseAmzDateUncached(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Reject rollovers such as month 13 or Feb 30, which Date.UTC would silently normalise.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return ms;
}

/** epoch ms → "YYYYMMDDTHHMMSSZ". */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** epoch ms → "YYYY-MM-DDTHH:MM:SSZ", the form of AWS's ServerTime / Expires error fields. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
