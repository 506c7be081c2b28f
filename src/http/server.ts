/**
 * The listener and the path every request takes: request id, addressing, authentication, the
 * region check, `Expect: 100-continue`, dispatch to the service, and error rendering.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import { Errors, S3Error } from '../errors.js';
import { newHostId, newRequestId } from '../objects/ids.js';
import { resolveTarget } from './addressing.js';
import { checkKeyLength } from '../storage/key-order.js';
import { errorDocument, send, sendError } from './respond.js';
import { verifyRequest } from './sigv4/verify.js';
import { dispatchS3 } from '../api/s3/router.js';
import type { S3Call } from '../api/s3/call.js';

/** How long a stopping server lets requests in flight finish. */
const CLOSE_GRACE_MS = 2000;

/** Request bodies nobody read (a rejected upload) are drained up to this much, then cut. */
const MAX_DRAIN = 16 * 1024 * 1024;

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(app: App): Promise<RunningServer> {
  const { config } = app;
  const handler = (req: IncomingMessage, res: ServerResponse) => void handle(app, req, res, false);
  const continueHandler = (req: IncomingMessage, res: ServerResponse) => void handle(app, req, res, true);
  const options: http.ServerOptions = {
    keepAliveTimeout: 65_000,
    headersTimeout: 60_000,
    requestTimeout: 0,
    maxHeaderSize: 16 * 1024,
  };
  const server = config.tls
    ? https.createServer({ ...options, cert: fs.readFileSync(config.tls.cert), key: fs.readFileSync(config.tls.key) }, handler)
    : http.createServer(options, handler);
  // With a checkContinue listener, node leaves the 100 Continue to us: it is sent only once the
  // request has been authenticated and routed, so a rejected upload never sends its body.
  server.on('checkContinue', continueHandler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      const e = new S3Error('RequestHeaderSectionTooLarge', 400, 'Your request header section exceeds the maximum allowed size.');
      const body = errorDocument(e, newRequestId(), newHostId());
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/xml\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = config.tls ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests in flight get a moment to finish; then their connections are cut so that a
        // stop never hangs on a client that keeps a connection open.
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      }),
  };
}

/**
 * Prometheus scrapes GET /metrics (or /_xregion/metrics) without credentials. A signed GET
 * /metrics is still ListObjects of a bucket named "metrics".
 */
function isMetricsScrape(req: IncomingMessage, rawPath: string, rawQuery: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (rawPath !== '/metrics' && rawPath !== '/_xregion/metrics') return false;
  return req.headers.authorization === undefined && !rawQuery.includes('X-Amz-Signature');
}

async function handle(app: App, req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
  const requestId = newRequestId();
  const hostId = newHostId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', hostId);
  res.setHeader('server', 'xregion');
  const isHead = req.method === 'HEAD';
  let resource: string | undefined;
  try {
    if (app.closing) throw new S3Error('ServiceUnavailable', 503, 'The server is stopping; retry the request shortly.');
    const target = resolveTarget(req.url ?? '/', req.headers.host, app.config.domains);
    resource = target.rawPath;
    if (isMetricsScrape(req, target.rawPath, target.rawQuery) && app.metrics) {
      const registry = app.metrics.registry;
      await send(res, { status: 200, headers: { 'content-type': registry.contentType }, body: await registry.metrics() }, isHead);
      return;
    }
    const now = app.clock();
    const auth = verifyRequest(
      { method: req.method ?? 'GET', rawPath: target.rawPath, rawQuery: target.rawQuery, headers: req.headers },
      app.identities,
      now,
    );
    // Before the identity and policy issue, an unsigned request has no principal that may act.
    if (!auth) throw Errors.accessDenied();
    if (auth.service !== 's3') {
      throw new S3Error(
        'NotImplemented',
        501,
        `This endpoint serves Amazon S3; the request was signed for the "${auth.service}" service, which xregion does not serve here.`,
      );
    }
    if (target.key !== undefined) checkKeyLength(target.key);
    const call: S3Call = {
      app,
      req,
      method: req.method ?? 'GET',
      bucketName: target.bucket,
      key: target.key,
      virtualHost: target.virtualHost,
      query: target.query,
      auth,
      accountId: auth.identity.accountId,
      requestId,
      now,
      continueIfExpected: () => {
        if (expectContinue && !res.headersSent) {
          res.writeContinue();
          expectContinue = false;
        }
      },
    };
    const response = await dispatchS3(call);
    await send(res, response, isHead);
  } catch (e) {
    const err = toS3Error(app, e, req);
    // A client still waiting for 100 Continue will not send its body; the connection cannot
    // carry another request while node expects those bytes, so it closes after this answer.
    if (expectContinue && !req.complete) res.shouldKeepAlive = false;
    sendError(res, err, requestId, hostId, isHead, resource);
  } finally {
    if (!expectContinue) discardUnreadBody(req);
  }
}

function toS3Error(app: App, e: unknown, req: IncomingMessage): S3Error {
  if (e instanceof S3Error) {
    // Refusals while stopping are expected, not errors worth a log line each.
    if (e.status >= 500 && !app.closing) app.log.error({ method: req.method, path: pathOf(req), code: e.code }, e.message);
    return e;
  }
  const err = e as NodeJS.ErrnoException;
  // The client went away mid-body: nothing to answer, but it must not look like our fault.
  if (err?.code === 'ECONNRESET' || err?.code === 'ERR_STREAM_PREMATURE_CLOSE' || req.destroyed) {
    return Errors.incompleteBody();
  }
  app.log.error({ method: req.method, path: pathOf(req), err: err?.stack ?? String(e) }, 'internal error');
  return Errors.internal();
}

/** The request path without its query: a presigned URL's query is a credential. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * A request whose body was not read (an error answered before the upload) must not leave its
 * bytes to be parsed as the next request: small leftovers are drained so that the connection
 * stays usable, a large one ends the connection.
 */
function discardUnreadBody(req: IncomingMessage): void {
  if (req.complete || req.readableEnded) return;
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAIN) req.socket.destroy();
  });
  req.resume();
}
