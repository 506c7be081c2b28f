/**
 * Writing responses: a handler's S3Response, or an S3Error rendered as the S3 error document.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { S3Error } from '../errors.js';
import { releaseReadBuffer } from '../read-buffers.js';
import { el, esc } from './xml.js';

export type HeaderValue = string | number | undefined;

export interface S3Response {
  status: number;
  headers?: Record<string, HeaderValue>;
  body?: string | Buffer | Readable;
}

function setHeaders(res: ServerResponse, headers: Record<string, HeaderValue> | undefined): void {
  if (!headers) return;
  for (const name in headers) {
    const v = headers[name];
    if (v !== undefined) res.setHeader(name, v);
  }
}

/** Writes a response; a stream body is piped with backpressure and destroyed on failure. */
export async function send(res: ServerResponse, r: S3Response, isHead: boolean): Promise<void> {
  const body = r.body;
  try {
    res.statusCode = r.status;
    setHeaders(res, r.headers);
  } catch (e) {
    // An unsendable header: the body (an open file, a pinned blob) must not leak.
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) body.destroy();
    throw e;
  }
  if (body === undefined) {
    if (!res.hasHeader('content-length')) res.setHeader('content-length', 0);
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(isHead ? undefined : body);
    return;
  }
  if (isHead || res.destroyed) {
    // A client that has gone will never see 'close' fire on a pipe set up now.
    body.destroy();
    if (!res.destroyed) res.end();
    return;
  }
  await pipeTo(body, res);
}

/**
 * Pipes a body into the response with backpressure. A failing body ends the connection (the
 * status line is gone, and a short body must not look complete); a client that goes away
 * stops the read. Not stream/promises' pipeline, which allocates an AbortSignal and an
 * AbortError per call (visible at high request rates); not pipe() either, because each chunk's
 * write callback is where a recycled read buffer (read-buffers.ts) is known to be written.
 */
function pipeTo(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      // Nothing sent yet: the caller can still answer with an error document.
      if (res.headersSent) res.destroy(err);
      reject(err);
    };
    const onDrain = () => body.resume();
    body.once('error', onError);
    res.once('close', () => {
      res.off('drain', onDrain);
      if (!body.destroyed) body.destroy();
      resolve();
    });
    body.on('data', (chunk: Buffer) => {
      // The socket has taken the bytes when the callback runs, successful or not: the buffer
      // is free then, and only then.
      const ok = res.write(chunk, () => releaseReadBuffer(chunk));
      if (!ok) body.pause();
    });
    res.on('drain', onDrain);
    body.once('end', () => res.end());
  });
}

export function errorDocument(e: S3Error, requestId: string, hostId: string, resource?: string): string {
  let fields = '';
  for (const [k, v] of Object.entries(e.fields)) fields += el(k, v);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message>${fields}` +
    (resource !== undefined ? el('Resource', resource) : '') +
    `<RequestId>${requestId}</RequestId><HostId>${esc(hostId)}</HostId></Error>`
  );
}

export function sendError(
  res: ServerResponse,
  e: S3Error,
  requestId: string,
  hostId: string,
  isHead: boolean,
  resource?: string,
): void {
  if (res.headersSent) {
    // The status line is gone; cutting the connection is the only honest signal left.
    res.destroy(e);
    return;
  }
  for (const name of res.getHeaderNames()) {
    if (name !== 'x-amz-request-id' && name !== 'x-amz-id-2' && name !== 'server' && name !== 'date') res.removeHeader(name);
  }
  res.statusCode = e.status;
  setHeaders(res, e.headers);
  const body = isHead ? '' : errorDocument(e, requestId, hostId, resource);
  res.setHeader('content-type', 'application/xml');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

