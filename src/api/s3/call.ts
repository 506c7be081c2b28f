/**
 * One authenticated S3 request as the operation handlers see it, and the helpers they share to
 * read it: headers, the bucket it names, its body.
 */
import type { IncomingMessage } from 'node:http';
import type { App } from '../../app.js';
import { Errors, S3Error } from '../../errors.js';
import type { BucketEntry } from '../../objects/buckets.js';
import { objectOwnership } from '../../objects/bucket-access.js';
import type { ObjectBody } from '../../objects/data.js';
import { requestBody, readSmallBody, type BodyOptions } from '../../http/payload.js';
import type { VerifiedRequest } from '../../http/sigv4/verify.js';
import type { S3Response } from '../../http/respond.js';
import type { AuthorizeFn, ConditionValues, Principal } from '../../policy/types.js';

export interface S3Call {
  app: App;
  req: IncomingMessage;
  method: string;
  bucketName?: string;
  key?: string;
  /** The bucket was named in the Host header rather than the path. */
  virtualHost: boolean;
  query: Map<string, string>;
  auth: VerifiedRequest;
  accountId: string;
  /** Who signed the request (anonymous when unsigned). */
  principal: Principal;
  /** Global condition keys of this request (aws:SecureTransport, aws:SourceIp, ...), lower-cased. */
  conditions: ConditionValues;
  /**
   * Authorizes an extra action this operation needs beyond the one the router checked (e.g.
   * kms:GenerateDataKey on the key of an SSE-KMS upload), for this call's principal.
   */
  authorize: AuthorizeFn;
  requestId: string;
  /** Time the request was received (ms). */
  now: number;
  /** Sends `100 Continue` if the client waits for it; call right before reading the body. */
  continueIfExpected(): void;
}

export type Handler = (call: S3Call) => Promise<S3Response>;

export function header(call: S3Call, name: string): string | undefined {
  const v = call.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * The owner of an object (or delete marker) this call writes: under Object Ownership
 * BucketOwnerEnforced (the default) the bucket owner, whoever wrote it; otherwise the writer's
 * account (an anonymous writer allowed by a bucket policy has none: the bucket owner then).
 */
export function writerOwner(call: S3Call, bucket: BucketEntry): string {
  if (objectOwnership(call.app.buckets, bucket.record.name) === 'BucketOwnerEnforced' || call.accountId === '') return bucket.record.owner;
  return call.accountId;
}

/** The bucket the call names; NoSuchBucket if it does not exist. */
export function bucketOf(call: S3Call): BucketEntry {
  return call.app.buckets.require(call.bucketName!);
}

export function keyOf(call: S3Call): string {
  return call.key!;
}

/** The streaming body of an upload, after 100 Continue. */
export function uploadBody(call: S3Call, opts: BodyOptions): ObjectBody {
  const body = requestBody(call.req, call.auth, opts);
  call.continueIfExpected();
  return body;
}

/** A small document body (XML) read whole and verified; MalformedXML-sized limits apply. */
export async function documentBody(
  call: S3Call,
  opts: { integrityRequired?: boolean; maxSize?: number; bodyChecksumHeaders?: boolean } = {},
): Promise<Buffer> {
  const maxSize = opts.maxSize ?? 1024 * 1024;
  const body = requestBody(call.req, call.auth, { ...opts, maxSize });
  call.continueIfExpected();
  try {
    return await readSmallBody(body);
  } catch (e) {
    if (e instanceof S3Error && e.code === 'EntityTooLarge') throw Errors.malformedXML();
    throw e;
  }
}

/** Parses an optional integer query parameter within bounds, as InvalidArgument otherwise. */
export function intParam(call: S3Call, name: string, min: number, max: number): number | undefined {
  const v = call.query.get(name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw Errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  const n = Number(v);
  if (n < min || n > max) {
    throw Errors.invalidArgument(`Argument ${name} must be an integer between ${min} and ${max}`, name, v);
  }
  return n;
}

/** Sends nothing but a status (and headers). */
export function empty(status: number, headers?: S3Response['headers']): S3Response {
  return headers ? { status, headers } : { status };
}

export function xml(body: string, headers?: S3Response['headers']): S3Response {
  return { status: 200, headers: { 'content-type': 'application/xml', ...headers }, body };
}
