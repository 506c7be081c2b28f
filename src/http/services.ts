/**
 * The non-S3 services this endpoint serves (IAM, STS, KMS): picking the service from the
 * request's credential scope, reading and verifying the small body their signatures cover,
 * building the ServiceCall, and rendering errors in each service's protocol (query XML for IAM
 * and STS, JSON for KMS) so that the SDKs and the aws CLI read them as they read AWS's.
 */
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../errors.js';
import type { ServiceDispatch, ServiceResponse } from '../api/service/call.js';
import { dispatchIam } from '../api/iam/router.js';
import { dispatchSts } from '../api/sts/router.js';
import { dispatchKms } from '../api/kms/router.js';
import { esc } from './xml.js';

export const SERVICES: Record<string, ServiceDispatch> = { iam: dispatchIam, sts: dispatchSts, kms: dispatchKms };

/** Largest request body an IAM, STS or KMS request may have (KMS plaintexts are at most 4 KiB). */
const MAX_SERVICE_BODY = 1024 * 1024;

/**
 * The service a request is signed for, read from its credential scope before verification, so
 * that even an authentication failure is answered in the protocol the client expects.
 */
export function scopeService(req: IncomingMessage, rawQuery: string): string | undefined {
  const authz = req.headers.authorization;
  const m = authz ? /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authz) : undefined;
  if (m) return m[1];
  const q = /(?:^|&)X-Amz-Credential=([^&]*)/.exec(rawQuery);
  if (q) return decodeURIComponent(q[1]!).split('/')[3];
  return undefined;
}

/** Whether a request looks like one of the AWS JSON (X-Amz-Target) protocols. */
function isJsonProtocol(req: IncomingMessage): boolean {
  return req.headers['x-amz-target'] !== undefined;
}

export async function readServiceBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_SERVICE_BODY) throw new S3Error('RequestEntityTooLarge', 413, `Request body is larger than ${MAX_SERVICE_BODY} bytes.`);
    chunks.push(c);
  }
  return Buffer.concat(chunks, size);
}

/**
 * S3's authentication error codes in the words of the query and JSON protocols (what IAM, STS
 * and KMS answer for the same failures).
 */
const QUERY_CODES: Record<string, string> = {
  InvalidAccessKeyId: 'InvalidClientTokenId',
  InvalidToken: 'InvalidClientTokenId',
  AuthorizationHeaderMalformed: 'IncompleteSignature',
  AccessDenied: 'AccessDenied',
};
const JSON_CODES: Record<string, string> = {
  InvalidAccessKeyId: 'UnrecognizedClientException',
  InvalidToken: 'UnrecognizedClientException',
  AuthorizationHeaderMalformed: 'IncompleteSignature',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  AccessDenied: 'AccessDeniedException',
  ExpiredToken: 'ExpiredTokenException',
};

/** An error raised before a service module ran, in that service's protocol. */
export function serviceError(req: IncomingMessage, service: string | undefined, e: S3Error, requestId: string): ServiceResponse {
  if (service === 'kms' || (service !== 'iam' && service !== 'sts' && isJsonProtocol(req))) {
    const type = JSON_CODES[e.code] ?? e.code;
    return {
      status: e.status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type },
      body: JSON.stringify({ __type: type, message: e.message }),
    };
  }
  const code = QUERY_CODES[e.code] ?? e.code;
  const ns = service === 'sts' ? 'https://sts.amazonaws.com/doc/2011-06-15/' : 'https://iam.amazonaws.com/doc/2010-05-08/';
  return {
    status: e.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      `<ErrorResponse xmlns="${ns}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
      `<Code>${esc(code)}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** A service the endpoint does not serve: a clear refusal rather than an S3 answer to a non-S3 call. */
export function unservedService(service: string): S3Error {
  return new S3Error(
    'NotImplemented',
    501,
    `xregion serves s3, s3-control, iam, sts and kms at this endpoint; the request was signed for "${service}", which it does not serve.`,
  );
}
