/**
 * The AWS query protocol as IAM and STS speak it: parameters form-encoded in the body (or in the
 * query string), answers as <ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>
 * and errors as <ErrorResponse><Error><Type><Code><Message></Error><RequestId>. Shared by the
 * IAM and STS modules.
 */
import type { ServiceCall, ServiceResponse } from '../service/call.js';
import { IamError } from '../../iam/errors.js';
import { el, esc } from '../../http/xml.js';
import type { Tag } from '../../iam/identity-store.js';

export const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * The request's parameters: the query string's, then the form body's (which win). A parameter
 * given twice keeps its first value in each. A body that is not form-encoded carries none.
 */
export function requestParams(call: ServiceCall): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of call.query) if (!out.has(k)) out.set(k, v);
  const type = String(call.req.headers['content-type'] ?? 'application/x-www-form-urlencoded').toLowerCase();
  if (call.body.length > 0 && type.startsWith('application/x-www-form-urlencoded')) {
    const seen = new Set<string>();
    for (const [k, v] of new URLSearchParams(call.body.toString('utf8'))) {
      if (seen.has(k)) continue;
      seen.add(k);
      out.set(k, v);
    }
  }
  return out;
}

/**
 * A query-protocol service: picks the operation from Action (and Version, when given), lets
 * `run` carry it out with the request's parameters, and answers with its result or its IamError
 * in namespace `ns`. Unsigned callers are refused before anything else, as IAM and STS do.
 */
export function queryService<H>(
  ns: string,
  apiVersion: string,
  handlers: ReadonlyMap<string, H>,
  run: (call: ServiceCall, action: string, handler: H, params: Map<string, string>) => string | undefined,
): (call: ServiceCall) => Promise<ServiceResponse> {
  return async (call) => {
    try {
      if (call.principal.kind === 'anonymous') {
        throw new IamError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
      }
      const params = requestParams(call);
      const action = params.get('Action');
      if (action === undefined || action === '') throw new IamError('MissingAction', 400, 'Missing Action');
      const version = params.get('Version');
      const handler = handlers.get(action);
      if (handler === undefined || (version !== undefined && version !== apiVersion)) {
        throw new IamError('InvalidAction', 400, `Could not find operation ${action} for version ${version ?? apiVersion}`);
      }
      return queryResponse(ns, action, call.requestId, run(call, action, handler, params));
    } catch (e) {
      if (e instanceof IamError) return queryError(ns, e, call.requestId);
      throw e;
    }
  };
}

function headers(requestId: string): Record<string, string> {
  return { 'content-type': 'text/xml', 'x-amzn-requestid': requestId };
}

/** A successful answer; `result` is the inner XML of <ActionResult>, undefined for none. */
export function queryResponse(ns: string, action: string, requestId: string, result?: string): ServiceResponse {
  const resultXml = result === undefined ? '' : `<${action}Result>${result}</${action}Result>`;
  return {
    status: 200,
    headers: headers(requestId),
    body:
      `<${action}Response xmlns="${ns}">${resultXml}` +
      `<ResponseMetadata><RequestId>${esc(requestId)}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

export function queryError(ns: string, e: IamError, requestId: string): ServiceResponse {
  return {
    status: e.status,
    headers: headers(requestId),
    body:
      `<ErrorResponse xmlns="${ns}"><Error><Type>${e.type}</Type><Code>${esc(e.code)}</Code>` +
      `<Message>${esc(e.message)}</Message></Error><RequestId>${esc(requestId)}</RequestId></ErrorResponse>`,
  };
}

/** IAM and STS timestamps: ISO 8601 to the second, as AWS writes them. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `<name><member>..</member>...</name>`: how the query protocol writes a list. */
export function members(name: string, items: string[]): string {
  return `<${name}>${items.map((i) => `<member>${i}</member>`).join('')}</${name}>`;
}

export function tagsXml(tags: Tag[], name = 'Tags'): string {
  return members(name, tags.map((t) => `${el('Key', t.key)}${el('Value', t.value)}`));
}

/**
 * A policy document as IAM returns it: URL-encoded (RFC 3986), which botocore and the SDKs
 * decode back to JSON.
 */
export function encodePolicy(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export { el, esc };
