/**
 * The STS query API: GetCallerIdentity, AssumeRole, GetSessionToken, GetAccessKeyInfo. STS is
 * global here: the credential scope's region plays no part.
 */
import type { ServiceCall, ServiceDispatch } from '../service/call.js';
import { IamError, IamErrors } from '../../iam/errors.js';
import { accountOfAccessKeyId } from '../../iam/ids.js';
import { Params, SHAPES } from '../iam/params.js';
import { el, queryService, STS_NS } from '../iam/xml.js';
import { assumeRole } from './assume-role.js';
import { credentialsXml, MFA_FAILED } from './credentials.js';

const STS_VERSION = '2011-06-15';

/** GetSessionToken durations (STS API reference): users 900 s to 36 h, 12 h by default; root at most 1 h. */
const USER_SESSION = { min: 900, max: 129600, default: 43200 };
const ROOT_SESSION_MAX = 3600;

type StsHandler = (call: ServiceCall, p: Params) => string;

const HANDLERS: Record<string, StsHandler> = {
  // Needs no permission: AWS answers it even when every action is explicitly denied.
  GetCallerIdentity: (call, p) => {
    p.done();
    const who = call.principal;
    return el('Arn', who.arn) + el('UserId', who.userId) + el('Account', who.accountId);
  },

  AssumeRole: assumeRole,

  GetSessionToken: (call, p) => {
    const duration = p.int('DurationSeconds', { min: USER_SESSION.min, max: USER_SESSION.max });
    const serialNumber = p.string('SerialNumber', SHAPES.serialNumber);
    const tokenCode = p.string('TokenCode', SHAPES.tokenCode);
    p.done();
    const who = call.principal;
    if (call.app.iam.sessionOf(call.accessKeyId) || who.kind === 'assumed-role') {
      throw IamErrors.accessDenied('Cannot call GetSessionToken with session credentials');
    }
    if (serialNumber !== undefined || tokenCode !== undefined) throw IamErrors.accessDenied(MFA_FAILED);
    const root = who.kind === 'root';
    // The account root's sessions are capped at an hour, silently, as AWS does.
    const seconds = root ? Math.min(duration ?? ROOT_SESSION_MAX, ROOT_SESSION_MAX) : (duration ?? USER_SESSION.default);
    const session = call.app.iam.createSession({
      accountId: who.accountId,
      kind: root ? 'root' : 'user',
      subjectId: root ? who.accountId : who.userId,
      chained: false,
      durationSeconds: seconds,
    });
    return credentialsXml(session);
  },

  GetAccessKeyInfo: (call, p) => {
    const accessKeyId = p.required('AccessKeyId', SHAPES.stsAccessKeyId);
    p.done();
    const d = call.authorize('sts:GetAccessKeyInfo', '*');
    if (!d.allowed) {
      throw IamErrors.accessDenied(`User: ${call.principal.arn} is not authorized to perform: sts:GetAccessKeyInfo`);
    }
    const account = call.app.iam.lookup(accessKeyId)?.identity.accountId ?? accountOfAccessKeyId(accessKeyId);
    if (account === undefined) throw new IamError('InvalidParameterValue', 400, `The access key ID ${accessKeyId} is not valid.`);
    return el('Account', account);
  },
};

export const STS_OPERATIONS: readonly string[] = Object.keys(HANDLERS).sort();

export const dispatchSts: ServiceDispatch = queryService(STS_NS, STS_VERSION, new Map(Object.entries(HANDLERS)), (call, action, handler, params) => {
  // GetSessionToken credentials may call only AssumeRole and GetCallerIdentity.
  const session = call.app.iam.sessionOf(call.accessKeyId);
  if (session && session.kind !== 'role' && action !== 'AssumeRole' && action !== 'GetCallerIdentity') {
    if (action === 'GetSessionToken') throw IamErrors.accessDenied('Cannot call GetSessionToken with session credentials');
    throw IamErrors.accessDenied(`User: ${call.principal.arn} is not authorized to perform: sts:${action}`);
  }
  return handler(call, new Params(params));
});
