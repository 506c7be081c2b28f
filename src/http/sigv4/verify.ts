/**
 * AWS Signature Version 4 verification for header-authenticated ("Authorization:
 * AWS4-HMAC-SHA256 ...") and presigned (X-Amz-Algorithm query) requests, with S3's error codes,
 * statuses and wording so that SDKs react to failures as they do against AWS (botocore corrects
 * its clock on RequestTimeTooSkewed, for instance).
 *
 * Choices where AWS's behaviour is undocumented or we deliberately differ:
 * - `host` not among the signed headers: 403 SignatureDoesNotMatch (what AWS answers in
 *   practice), with the canonical request we built from the headers that were listed, so the
 *   client can see what is missing.
 * - Every header listed in SignedHeaders must be present on the request (an empty value is
 *   fine): an absent one is 403 SignatureDoesNotMatch, its canonical line shown with an empty
 *   value. No client signs a header it does not send, so this only closes the corner where a
 *   signer signed "name:" and the header was dropped on the way.
 * - Unsigned x-amz-* headers are allowed, for header auth as for presigned URLs: only what is
 *   listed is checked.
 * - Identity with a session token, request without one: 403 InvalidAccessKeyId, as AWS answers
 *   for a temporary (ASIA...) key presented without its token. Wrong token, or a token presented
 *   for an identity that has none: 403 InvalidToken (S3's error table says 400 for InvalidToken;
 *   403 is what this project's API contract fixes, and SDKs treat both as non-retryable).
 * - Canonical URI and query are rebuilt from the raw request (see canonical.ts): decoded, then
 *   strictly re-encoded, so clients that escape differently all verify; a raw '+' in the query
 *   is a literal plus (%2B), never a space — SDKs send spaces as %20.
 * - Header auth and query auth together (Authorization plus any of X-Amz-Algorithm,
 *   X-Amz-Credential, X-Amz-Signature or a SigV2 Signature parameter): 400 InvalidArgument.
 * - Presigned URL dated more than 15 minutes in the future: 403 AccessDenied "Request is not
 *   valid yet" (S3's answer). Presigned requests are otherwise not subject to the 15-minute skew
 *   rule; their validity window is X-Amz-Date .. X-Amz-Date + X-Amz-Expires.
 * - Payload hash of a presigned request: X-Amz-Content-Sha256 query parameter, else the
 *   x-amz-content-sha256 header, else UNSIGNED-PAYLOAD for S3 (what every S3 presigner signs) and
 *   the hash of the body for other services (what botocore's and smithy's generic presigners
 *   sign: the empty hash for a body-less GET).
 * - Non-S3 header-auth requests without x-amz-content-sha256 sign the body's hash, which is not
 *   known before the body is read. verifyRequest verifies them at once when they have no body
 *   (empty hash); with a body it runs every check but the signature and returns
 *   payload {mode:'sha256', sha256: undefined} with signatureDeferred: true — the caller must
 *   buffer the body and call verifyRequestWithBody before trusting anything.
 * - ECDSA (SigV4a) streaming payloads: 501 NotImplemented; SigV4a / SigV2 authorization: 400
 *   InvalidRequest "not supported", as a SigV4-only AWS region answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Errors, S3Error } from '../../errors.js';
import {
  ALGORITHM,
  EMPTY_SHA256,
  UNSIGNED_PAYLOAD,
  buildCanonicalRequest,
  buildStringToSign,
  canonicalQueryString,
  canonicalUri,
  constantTimeEqual,
  formatAmzDate,
  hexBytes,
  isoSeconds,
  parseAmzDate,
  parseQuery,
  type QueryParam,
} from './canonical.js';
import { getSigningKey, signatureHex } from './signing-key.js';

export interface SigningIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  sessionToken?: string;
}
export type IdentityLookup = (accessKeyId: string) => SigningIdentity | undefined;

export interface RequestToVerify {
  method: string;
  /** Path exactly as on the request line, still percent-encoded, no query. */
  rawPath: string;
  /** Raw query string without '?', '' if none. */
  rawQuery: string;
  /** Node's lower-cased headers. */
  headers: IncomingHttpHeaders;
}

export type PayloadMode =
  | 'sha256'
  | 'unsigned'
  | 'streaming-signed'
  | 'streaming-signed-trailer'
  | 'streaming-unsigned-trailer';

export interface ChunkSigning {
  signingKey: Buffer;
  seedSignature: string;
  amzDate: string;
  /** "yyyymmdd/region/service/aws4_request". */
  scope: string;
}

export interface VerifiedRequest {
  identity: SigningIdentity;
  /** From the credential scope; not checked here (the caller compares it with the bucket's). */
  region: string;
  /** From the credential scope (s3, kms, iam, sts, ...). */
  service: string;
  presigned: boolean;
  /** sha256 = lower-case hex of the body the signature covers, when mode is 'sha256'. */
  payload: { mode: PayloadMode; sha256?: string };
  chunkSigning: ChunkSigning;
  signedHeaders: string[];
  /**
   * Set only by verifyRequest for a non-S3 request with a body and no x-amz-content-sha256: the
   * signature has NOT been checked yet. Buffer the body and call verifyRequestWithBody.
   */
  signatureDeferred?: true;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_EXPIRES_SECONDS = 604800;

const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const STREAMING_ECDSA = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD';
const STREAMING_ECDSA_TRAILER = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER';

const CREDENTIAL_SHAPE = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

// ---------------------------------------------------------------------------------------------
// Errors (AWS wording)
// ---------------------------------------------------------------------------------------------

function headerMalformed(detail: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', 400, `The authorization header is malformed; ${detail}`);
}

function queryParamsError(message: string): S3Error {
  return new S3Error('AuthorizationQueryParametersError', 400, message);
}

function unsupportedMechanism(): S3Error {
  return Errors.invalidRequest(
    'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
  );
}

function invalidAccessKeyId(accessKeyId: string): S3Error {
  return new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.', {
    AWSAccessKeyId: accessKeyId,
  });
}

function invalidToken(): S3Error {
  return new S3Error('InvalidToken', 403, 'The provided token is malformed or otherwise invalid.');
}

function missingDate(): S3Error {
  return Errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header');
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

/** "AK/yyyymmdd/region/service/aws4_request" → parts; `bad` builds the error for its context. */
function parseCredential(value: string, bad: (detail: string) => S3Error): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) throw bad(`the Credential is mal-formed; ${CREDENTIAL_SHAPE}`);
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== 'aws4_request') {
    throw bad(`incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  }
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

function parseSignedHeaders(value: string): string[] | undefined {
  const names = value.split(';');
  if (names.some((n) => n === '' || /[\s:]/.test(n))) return undefined;
  return names;
}

/** Maps an x-amz-content-sha256 value to its payload mode, or throws S3's error for it. */
function payloadFor(value: string): { mode: PayloadMode; sha256?: string } {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { mode: 'sha256', sha256: value.toLowerCase() };
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { mode: 'unsigned' };
    case STREAMING_SIGNED:
      return { mode: 'streaming-signed' };
    case STREAMING_SIGNED_TRAILER:
      return { mode: 'streaming-signed-trailer' };
    case STREAMING_UNSIGNED_TRAILER:
      return { mode: 'streaming-unsigned-trailer' };
    case STREAMING_ECDSA:
    case STREAMING_ECDSA_TRAILER:
      throw Errors.notImplemented(`x-amz-content-sha256: ${value}`);
    default:
      throw Errors.invalidArgument(
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
        'x-amz-content-sha256',
        value,
      );
  }
}

/** Whether the request has no body at all, so its payload hash is the empty hash. */
function hasNoBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return false;
  const len = headerValue(headers, 'content-length');
  return len === undefined || /^0+$/.test(len.trim());
}

function checkToken(identity: SigningIdentity, supplied: string | undefined): void {
  if (identity.sessionToken) {
    if (supplied === undefined) throw invalidAccessKeyId(identity.accessKeyId);
    if (!constantTimeEqual(supplied, identity.sessionToken)) throw invalidToken();
  } else if (supplied !== undefined) {
    throw invalidToken();
  }
}

function lookupIdentity(lookup: IdentityLookup, accessKeyId: string): SigningIdentity {
  const identity = lookup(accessKeyId);
  if (!identity) throw invalidAccessKeyId(accessKeyId);
  return identity;
}

interface SignatureCheck {
  req: RequestToVerify;
  identity: SigningIdentity;
  accessKeyId: string;
  credential: Credential;
  amzDate: string;
  canonicalQuery: string;
  signedHeaders: string[];
  payloadHash: string;
  provided: string;
}

/** Computes the expected signature and compares it in constant time. */
function checkSignature(c: SignatureCheck, key: Buffer): void {
  const canonicalRequest = buildCanonicalRequest({
    method: c.req.method,
    canonicalUri: canonicalUri(c.req.rawPath),
    canonicalQuery: c.canonicalQuery,
    signedHeaders: c.signedHeaders,
    headers: c.req.headers,
    payloadHash: c.payloadHash,
  });
  const stringToSign = buildStringToSign(c.amzDate, c.credential.scope, canonicalRequest);
  const expected = signatureHex(key, stringToSign);
  // Evaluate the comparison even when the header checks fail so every path costs the same.
  const matches = constantTimeEqual(expected, c.provided);
  const allPresent = c.signedHeaders.every((h) => c.req.headers[h.toLowerCase()] !== undefined);
  if (!matches || !allPresent || !c.signedHeaders.includes('host')) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: c.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: c.provided,
        StringToSignBytes: hexBytes(stringToSign),
        CanonicalRequest: canonicalRequest,
        CanonicalRequestBytes: hexBytes(canonicalRequest),
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Header authentication
// ---------------------------------------------------------------------------------------------

interface ParsedAuthorization {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
}

/**
 * A client's Authorization headers differ only in their signature for a whole day, so the parse
 * of everything before "Signature=" is remembered (bounded; the oldest entry goes first).
 */
const parsedPrefixes = new Map<string, Omit<ParsedAuthorization, 'signature'>>();
const MAX_PARSED_PREFIXES = 256;

function parseAuthorization(value: string): ParsedAuthorization {
  const at = value.lastIndexOf(', Signature=');
  if (at > 0 && value.length - at === ', Signature='.length + 64) {
    const prefix = value.slice(0, at);
    const signature = value.slice(at + ', Signature='.length);
    const hit = parsedPrefixes.get(prefix);
    if (hit && /^[0-9a-f]{64}$/.test(signature)) return { ...hit, signature };
    const parsed = parseAuthorizationFully(value);
    if (parsed.signature === signature) {
      if (parsedPrefixes.size >= MAX_PARSED_PREFIXES) parsedPrefixes.delete(parsedPrefixes.keys().next().value!);
      parsedPrefixes.set(prefix, { credential: parsed.credential, signedHeaders: parsed.signedHeaders });
    }
    return parsed;
  }
  return parseAuthorizationFully(value);
}

function parseAuthorizationFully(value: string): ParsedAuthorization {
  const trimmed = value.trim();
  const sp = trimmed.search(/\s/);
  const algorithm = sp < 0 ? trimmed : trimmed.slice(0, sp);
  if (algorithm !== ALGORITHM) throw unsupportedMechanism();
  // AWS accepts ", " or "," between components, and extra blanks; components are key=value with
  // values that never contain blanks or commas.
  const components = new Map<string, string>();
  for (const part of trimmed.slice(algorithm.length).split(/[\s,]+/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq <= 0 || !['Credential', 'SignedHeaders', 'Signature'].includes(key) || components.has(key)) {
      throw headerMalformed(`the authorization component "${part}" is malformed.`);
    }
    components.set(key, part.slice(eq + 1));
  }
  const credential = components.get('Credential');
  const signedHeaders = components.get('SignedHeaders');
  const signature = components.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw headerMalformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const names = parseSignedHeaders(signedHeaders);
  if (!names) throw headerMalformed(`the authorization component "SignedHeaders=${signedHeaders}" is malformed.`);
  if (signature === '') throw headerMalformed('the authorization component "Signature=" is malformed.');
  return { credential: parseCredential(credential, headerMalformed), signedHeaders: names, signature };
}

/** The request time from x-amz-date, else Date (RFC 1123); undefined when neither is valid. */
function headerDate(headers: IncomingHttpHeaders): { ms: number; amzDate: string; raw: string } | undefined {
  const amz = headerValue(headers, 'x-amz-date');
  if (amz !== undefined) {
    const raw = amz.trim();
    const ms = parseAmzDate(raw);
    return ms === undefined ? undefined : { ms, amzDate: raw, raw };
  }
  const date = headerValue(headers, 'date');
  if (date === undefined) return undefined;
  const ms = Date.parse(date);
  if (Number.isNaN(ms)) return undefined;
  return { ms, amzDate: formatAmzDate(ms), raw: date };
}

function verifyHeaderAuth(
  req: RequestToVerify,
  authorization: string,
  params: QueryParam[],
  lookup: IdentityLookup,
  nowMs: number,
  bodyHash: string | undefined,
): VerifiedRequest {
  const auth = parseAuthorization(authorization);
  const { credential } = auth;
  const date = headerDate(req.headers);
  if (!date) throw missingDate();
  if (credential.date !== date.amzDate.slice(0, 8)) {
    throw headerMalformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }

  const contentSha = headerValue(req.headers, 'x-amz-content-sha256');
  let payload: { mode: PayloadMode; sha256?: string };
  let payloadHash: string | undefined;
  if (contentSha !== undefined) {
    payload = payloadFor(contentSha);
    payloadHash = contentSha; // the canonical request carries the literal header value
  } else if (credential.service === 's3') {
    throw Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256');
  } else if (bodyHash !== undefined) {
    payload = { mode: 'sha256', sha256: bodyHash };
    payloadHash = bodyHash;
  } else if (hasNoBody(req.headers)) {
    payload = { mode: 'sha256', sha256: EMPTY_SHA256 };
    payloadHash = EMPTY_SHA256;
  } else {
    payload = { mode: 'sha256' };
  }

  const identity = lookupIdentity(lookup, credential.accessKeyId);

  if (Math.abs(date.ms - nowMs) > MAX_SKEW_MS) {
    throw new S3Error(
      'RequestTimeTooSkewed',
      403,
      'The difference between the request time and the current time is too large.',
      { RequestTime: date.raw, ServerTime: isoSeconds(nowMs), MaxAllowedSkewMilliseconds: MAX_SKEW_MS },
    );
  }

  checkToken(identity, headerValue(req.headers, 'x-amz-security-token'));

  const signature = auth.signature;
  const base = {
    identity,
    region: credential.region,
    service: credential.service,
    presigned: false,
    payload,
    signedHeaders: auth.signedHeaders,
  };
  const signingKey = getSigningKey(identity.secretAccessKey, credential.date, credential.region, credential.service);
  const chunkSigning: ChunkSigning = { signingKey, seedSignature: signature, amzDate: date.amzDate, scope: credential.scope };

  if (payloadHash === undefined) return { ...base, chunkSigning, signatureDeferred: true };

  checkSignature({
    req,
    identity,
    accessKeyId: credential.accessKeyId,
    credential,
    amzDate: date.amzDate,
    canonicalQuery: canonicalQueryString(params),
    signedHeaders: auth.signedHeaders,
    payloadHash,
    provided: signature,
  }, signingKey);
  if (bodyHash !== undefined && payload.mode === 'sha256' && payload.sha256 !== bodyHash) {
    throw xAmzContentSha256Mismatch(payload.sha256!, bodyHash);
  }
  return { ...base, chunkSigning };
}

function xAmzContentSha256Mismatch(client: string, computed: string): S3Error {
  return new S3Error(
    'XAmzContentSHA256Mismatch',
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
    { ClientComputedContentSHA256: client, S3ComputedContentSHA256: computed },
  );
}

// ---------------------------------------------------------------------------------------------
// Presigned (query-string) authentication
// ---------------------------------------------------------------------------------------------

const PRESIGN_REQUIRED = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

function verifyPresigned(
  req: RequestToVerify,
  params: QueryParam[],
  lookup: IdentityLookup,
  nowMs: number,
  bodyHash: string | undefined,
): VerifiedRequest {
  const get = (name: string): string | undefined => params.find((p) => p.name === name)?.value;
  const values: Partial<Record<(typeof PRESIGN_REQUIRED)[number], string>> = {};
  for (const name of PRESIGN_REQUIRED) {
    const v = get(name);
    if (v === undefined) {
      throw queryParamsError(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    values[name] = v;
  }
  const algorithm = values['X-Amz-Algorithm']!;
  if (algorithm !== ALGORITHM) throw queryParamsError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const credential = parseCredential(values['X-Amz-Credential']!, (d) =>
    queryParamsError(`Error parsing the X-Amz-Credential parameter; ${d}`),
  );
  const amzDate = values['X-Amz-Date']!;
  const dateMs = parseAmzDate(amzDate);
  if (dateMs === undefined) {
    throw queryParamsError('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  }
  if (credential.date !== amzDate.slice(0, 8)) {
    throw queryParamsError(
      `Invalid credential date "${credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  const expiresRaw = values['X-Amz-Expires']!;
  if (!/^[+-]?\d+$/.test(expiresRaw)) throw queryParamsError('X-Amz-Expires should be a number');
  const expires = Number(expiresRaw);
  if (expires <= 0) throw queryParamsError('X-Amz-Expires must be non-negative');
  if (expires > MAX_EXPIRES_SECONDS) {
    throw queryParamsError(
      'X-Amz-Expires must be less than a week (in seconds) that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  const signedHeaders = parseSignedHeaders(values['X-Amz-SignedHeaders']!);
  if (!signedHeaders) throw queryParamsError('Error parsing the X-Amz-SignedHeaders parameter.');

  // Matched case-insensitively: smithy's presigner hoists the header under whatever case the
  // caller gave it ("X-Amz-Content-Sha256" from the S3 presigner, lower-case from others).
  const explicitHash =
    params.find((p) => p.name.toLowerCase() === 'x-amz-content-sha256')?.value ??
    headerValue(req.headers, 'x-amz-content-sha256');
  let payload: { mode: PayloadMode; sha256?: string };
  let payloadHash: string | undefined;
  if (explicitHash !== undefined) {
    payload = payloadFor(explicitHash);
    payloadHash = explicitHash;
  } else if (credential.service === 's3') {
    payload = { mode: 'unsigned' };
    payloadHash = UNSIGNED_PAYLOAD;
  } else if (bodyHash !== undefined) {
    payload = { mode: 'sha256', sha256: bodyHash };
    payloadHash = bodyHash;
  } else if (hasNoBody(req.headers)) {
    payload = { mode: 'sha256', sha256: EMPTY_SHA256 };
    payloadHash = EMPTY_SHA256;
  } else {
    payload = { mode: 'sha256' };
  }

  const identity = lookupIdentity(lookup, credential.accessKeyId);

  const expiresAt = dateMs + expires * 1000;
  if (nowMs > expiresAt) {
    throw new S3Error('AccessDenied', 403, 'Request has expired', {
      'X-Amz-Expires': expiresRaw,
      Expires: isoSeconds(expiresAt),
      ServerTime: isoSeconds(nowMs),
    });
  }
  if (dateMs - nowMs > MAX_SKEW_MS) {
    throw new S3Error('AccessDenied', 403, 'Request is not valid yet', {
      'X-Amz-Date': amzDate,
      ServerTime: isoSeconds(nowMs),
    });
  }

  checkToken(identity, get('X-Amz-Security-Token') ?? headerValue(req.headers, 'x-amz-security-token'));

  const signature = values['X-Amz-Signature']!;
  const signingKey = getSigningKey(identity.secretAccessKey, credential.date, credential.region, credential.service);
  const result: VerifiedRequest = {
    identity,
    region: credential.region,
    service: credential.service,
    presigned: true,
    payload,
    chunkSigning: { signingKey, seedSignature: signature, amzDate, scope: credential.scope },
    signedHeaders,
  };
  if (payloadHash === undefined) return { ...result, signatureDeferred: true };

  checkSignature({
    req,
    identity,
    accessKeyId: credential.accessKeyId,
    credential,
    amzDate,
    canonicalQuery: canonicalQueryString(params, (p) => p.name === 'X-Amz-Signature'),
    signedHeaders,
    payloadHash,
    provided: signature,
  }, signingKey);
  if (bodyHash !== undefined && payload.mode === 'sha256' && payload.sha256 !== bodyHash) {
    throw xAmzContentSha256Mismatch(payload.sha256!, bodyHash);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

function verify(
  req: RequestToVerify,
  lookup: IdentityLookup,
  nowMs: number,
  bodyHash: string | undefined,
): VerifiedRequest | null {
  const authorization = headerValue(req.headers, 'authorization');
  const params = parseQuery(req.rawQuery);
  const has = (name: string): boolean => params.some((p) => p.name === name);
  const queryV4 = has('X-Amz-Algorithm') || has('X-Amz-Credential') || has('X-Amz-Signature');
  const querySignature = has('Signature');
  if (authorization !== undefined && (queryV4 || querySignature)) {
    throw Errors.invalidArgument(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      'Authorization',
      authorization,
    );
  }
  if (authorization !== undefined) return verifyHeaderAuth(req, authorization, params, lookup, nowMs, bodyHash);
  if (queryV4) return verifyPresigned(req, params, lookup, nowMs, bodyHash);
  // SigV2 query authentication (AWSAccessKeyId + Signature + Expires).
  if (querySignature && has('AWSAccessKeyId')) throw unsupportedMechanism();
  return null;
}

/**
 * Verifies a request's SigV4 authentication. Returns null for an anonymous request (no
 * Authorization header, no presigning parameters); throws the S3Error AWS would answer for any
 * failure. `nowMs` is the server clock (injected for tests).
 */
export function verifyRequest(req: RequestToVerify, lookup: IdentityLookup, nowMs: number): VerifiedRequest | null {
  return verify(req, lookup, nowMs, undefined);
}

/**
 * Same as verifyRequest, for the non-S3 services (IAM, STS, KMS) whose small bodies are
 * buffered first: when the request has no x-amz-content-sha256, `bodySha256Hex` is the payload
 * hash of the canonical request. When it does have one, that value is signed and must also equal
 * `bodySha256Hex` (else 400 XAmzContentSHA256Mismatch).
 */
export function verifyRequestWithBody(
  req: RequestToVerify,
  lookup: IdentityLookup,
  nowMs: number,
  bodySha256Hex: string,
): VerifiedRequest | null {
  return verify(req, lookup, nowMs, bodySha256Hex.toLowerCase());
}
