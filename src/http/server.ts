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
import { verifyRequest, verifyRequestWithBody, type IdentityLookup, type RequestToVerify, type VerifiedRequest } from './sigv4/verify.js';
import { ANONYMOUS, globalConditions } from './request-context.js';
import { makeAuthorizer } from './authorizer.js';
import { readServiceBody, scopeService, serviceError, SERVICES, unservedService } from './services.js';
import { sha256Hex } from './sigv4/canonical.js';
import type { ServiceCall, ServiceResponse } from '../api/service/call.js';
import type { Principal } from '../policy/types.js';
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
    const service = scopeService(req, target.rawQuery);
    if (service !== undefined && service !== 's3') {
      if (SERVICES[service]) {
        await handleService(app, req, res, service, target, requestId, now, expectContinue);
        expectContinue = false;
      } else {
        // CloudWatch, SNS, CloudTrail …: answered at once, in the caller's protocol, so that the
        // aws CLI prints a clear message instead of retrying or failing to parse S3 XML. A body
        // the client may still send is not wanted: the connection closes after the answer.
        if (!req.complete) res.shouldKeepAlive = false;
        writeServiceResponse(res, serviceError(req, service, unservedService(service), requestId));
      }
      return;
    }
    const verified = verifyRequest(toVerify(req, target), signingIdentity(app), now);
    const principal = verified ? principalOf(app, verified, now) : ANONYMOUS;
    const auth = verified ?? anonymousAuth(app, target.bucket);
    const conditions = globalConditions(req, principal, now, auth.region);
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
      accountId: principal.accountId,
      principal,
      conditions,
      authorize: makeAuthorizer(app, principal, conditions),
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

function toVerify(req: IncomingMessage, target: { rawPath: string; rawQuery: string }): RequestToVerify {
  return { method: req.method ?? 'GET', rawPath: target.rawPath, rawQuery: target.rawQuery, headers: req.headers };
}

/** SigV4's view of the identity store: the secret (and session token) of an access key. */
function signingIdentity(app: App): IdentityLookup {
  return (id) => app.iam.lookup(id)?.identity;
}

/**
 * The principal of a verified request. Temporary credentials are checked for expiry here, after
 * the signature: a well-signed request with an expired token gets ExpiredToken, as on AWS.
 */
function principalOf(app: App, auth: VerifiedRequest, now: number, service = 's3'): Principal {
  const found = app.iam.lookup(auth.identity.accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.');
  if (found.identity.expiresAt !== undefined && found.identity.expiresAt <= now) {
    // S3 says 400 "The provided token has expired."; the query services 403 with their own words.
    if (service === 'iam' || service === 'sts') throw new S3Error('ExpiredToken', 403, 'The security token included in the request is expired');
    throw new S3Error('ExpiredToken', 400, 'The provided token has expired.');
  }
  return found.principal;
}

/**
 * What an unsigned request is treated as: no identity, an unsigned payload (a body hash it
 * sends is still checked), signed for the bucket's own region so that no redirect applies.
 */
function anonymousAuth(app: App, bucket: string | undefined): VerifiedRequest {
  const region = (bucket !== undefined ? app.buckets.get(bucket)?.record.region : undefined) ?? app.config.regions[0]!;
  return {
    identity: { accessKeyId: '', secretAccessKey: '', accountId: '' },
    region,
    service: 's3',
    presigned: false,
    payload: { mode: 'unsigned' },
    chunkSigning: { signingKey: Buffer.alloc(0), seedSignature: '', amzDate: '', scope: '' },
    signedHeaders: [],
  };
}

/** An IAM, STS or KMS request: small body read whole, verified over it, then the service's module. */
async function handleService(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  service: string,
  target: { rawPath: string; rawQuery: string; query: Map<string, string> },
  requestId: string,
  now: number,
  expectContinue: boolean,
): Promise<void> {
  let response: ServiceResponse;
  try {
    if (expectContinue) res.writeContinue();
    const body = await readServiceBody(req);
    const auth = verifyRequestWithBody(toVerify(req, target), signingIdentity(app), now, sha256Hex(body));
    if (!auth) throw new S3Error('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
    const principal = principalOf(app, auth, now, service);
    const conditions = globalConditions(req, principal, now, auth.region);
    const call: ServiceCall = {
      app,
      req,
      method: req.method ?? 'GET',
      service,
      region: auth.region,
      body,
      query: new URLSearchParams(target.rawQuery),
      principal,
      accessKeyId: auth.identity.accessKeyId,
      requestId,
      now,
      conditions,
      authorize: makeAuthorizer(app, principal, conditions),
    };
    response = await SERVICES[service]!(call);
  } catch (e) {
    if (!(e instanceof S3Error)) app.log.error({ service, path: pathOf(req), err: (e as Error)?.stack ?? String(e) }, 'internal error');
    const err = e instanceof S3Error ? e : new S3Error('InternalFailure', 500, 'We encountered an internal error. Please try again.');
    response = serviceError(req, service, err, requestId);
  }
  writeServiceResponse(res, response);
}

function writeServiceResponse(res: ServerResponse, response: ServiceResponse): void {
  res.removeHeader('x-amz-id-2');
  res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
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
