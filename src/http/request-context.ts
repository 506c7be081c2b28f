/**
 * Who a request comes from and the global condition keys it carries (aws:SecureTransport,
 * aws:SourceIp, aws:PrincipalArn …): the inputs of every authorization decision, built once per
 * request by the http layer and shared by the S3, IAM, STS and KMS api modules.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ConditionValues, Principal } from '../policy/types.js';

export const ANONYMOUS: Principal = {
  kind: 'anonymous',
  accountId: '',
  arn: '*',
  principalArn: '*',
  userId: 'anonymous',
};

/** aws:PrincipalType as AWS names it. */
function principalType(p: Principal): string {
  switch (p.kind) {
    case 'root':
      return 'Account';
    case 'user':
      return 'User';
    case 'assumed-role':
      return 'AssumedRole';
    case 'service':
      return 'AWSService';
    default:
      return 'Anonymous';
  }
}

/** The client's address as policies see it: IPv4-mapped IPv6 addresses are plain IPv4. */
export function sourceIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export function isSecureTransport(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

/**
 * The global condition keys of a request. Keys are lower-cased (policy condition keys are
 * case-insensitive); values are strings as the condition operators compare them.
 */
/** aws:CurrentTime and aws:EpochTime of the current second, made once per second, not per request. */
let clock: { second: number; currentTime: string[]; epochTime: string[] } | undefined;

function timeKeys(now: number): { currentTime: string[]; epochTime: string[] } {
  const second = Math.floor(now / 1000);
  if (clock?.second !== second) {
    clock = { second, currentTime: [new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')], epochTime: [String(second)] };
  }
  return clock;
}

export function globalConditions(req: IncomingMessage, principal: Principal, now: number, region: string): ConditionValues {
  const time = timeKeys(now);
  const c: ConditionValues = {
    'aws:securetransport': [isSecureTransport(req) ? 'true' : 'false'],
    'aws:sourceip': [sourceIp(req)],
    // Shared arrays: condition values are only read.
    'aws:currenttime': time.currentTime,
    'aws:epochtime': time.epochTime,
    'aws:principaltype': [principalType(principal)],
    'aws:requestedregion': [region],
  };
  if (principal.kind !== 'anonymous' && principal.kind !== 'service') {
    c['aws:principalarn'] = [principal.principalArn];
    c['aws:principalaccount'] = [principal.accountId];
    c['aws:userid'] = [principal.userId];
    if (principal.username !== undefined) c['aws:username'] = [principal.username];
  }
  if (principal.kind === 'service') c['aws:principalservicename'] = [principal.arn];
  const ua = req.headers['user-agent'];
  if (ua !== undefined) c['aws:useragent'] = [ua];
  const referer = req.headers.referer;
  if (referer !== undefined) c['aws:referer'] = [referer];
  return c;
}
