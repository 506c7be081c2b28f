/**
 * STS AssumeRole: the role's trust policy decides (with the caller's identity policies when the
 * trust policy only names the caller's account), and the session lasts DurationSeconds, at most
 * the role's MaxSessionDuration, at most one hour when a role session assumes a role (role
 * chaining).
 *
 * Session policies (Policy, PolicyArns), session tags (Tags, TransitiveTagKeys) and
 * ProvidedContexts are refused: the policy engine cannot apply them, and ignoring a session
 * policy would hand out more than the caller asked for.
 */
import { IamError, IamErrors } from '../../iam/errors.js';
import { roleSessionPrincipal } from '../../iam/identity-store.js';
import type { ConditionValues } from '../../policy/types.js';
import { SHAPES, type Params } from '../iam/params.js';
import type { ServiceCall } from '../service/call.js';
import { el } from '../iam/xml.js';
import { credentialsXml, MFA_FAILED } from './credentials.js';

const CHAINED_MAX_SECONDS = 3600;
const DEFAULT_SECONDS = 3600;

function unsupported(param: string): IamError {
  return IamErrors.validation(`${param} is not supported by this endpoint: session policies, session tags and provided contexts cannot be enforced here.`);
}

function denied(call: ServiceCall, action: string, resource: string): IamError {
  return IamErrors.accessDenied(`User: ${call.principal.arn} is not authorized to perform: ${action} on resource: ${resource}`);
}

export function assumeRole(call: ServiceCall, p: Params): string {
  const roleArn = p.required('RoleArn', SHAPES.arn);
  const sessionName = p.required('RoleSessionName', SHAPES.roleSessionName);
  const duration = p.int('DurationSeconds', { min: 900, max: 43200 });
  const externalId = p.string('ExternalId', SHAPES.externalId);
  const serialNumber = p.string('SerialNumber', SHAPES.serialNumber);
  const tokenCode = p.string('TokenCode', SHAPES.tokenCode);
  const sourceIdentity = p.string('SourceIdentity', SHAPES.sourceIdentity);
  p.done();
  for (const param of ['Policy', 'PolicyArns', 'Tags', 'TransitiveTagKeys', 'ProvidedContexts']) {
    if (p.has(param) || p.names().some((k) => k.startsWith(`${param}.`))) throw unsupported(param);
  }

  const caller = call.principal;
  if (caller.kind === 'root') throw IamErrors.accessDenied('Roles may not be assumed by root accounts.');
  if (serialNumber !== undefined || tokenCode !== undefined) throw IamErrors.accessDenied(MFA_FAILED);

  const store = call.app.iam;
  const role = store.getRole(roleArn);
  // A role that does not exist is indistinguishable from one the caller may not assume.
  if (!role) throw denied(call, 'sts:AssumeRole', roleArn);

  const callerSession = store.sessionOf(call.accessKeyId);
  const inherited = callerSession?.sourceIdentity;
  if (inherited !== undefined && sourceIdentity !== undefined && sourceIdentity !== inherited) {
    // A source identity, once set, stays with every session chained from it.
    throw denied(call, 'sts:SetSourceIdentity', role.arn);
  }

  const conditions: ConditionValues = { 'sts:rolesessionname': [sessionName] };
  if (externalId !== undefined) conditions['sts:externalid'] = [externalId];
  const effectiveSource = sourceIdentity ?? inherited;
  if (effectiveSource !== undefined) conditions['sts:sourceidentity'] = [effectiveSource];
  const trust = { resourcePolicy: role.trustPolicy, resourceAccount: role.accountId, mode: 'trust' as const, conditions };
  if (!call.authorize('sts:AssumeRole', role.arn, trust).allowed) throw denied(call, 'sts:AssumeRole', role.arn);
  if (sourceIdentity !== undefined && inherited === undefined && !call.authorize('sts:SetSourceIdentity', role.arn, trust).allowed) {
    throw denied(call, 'sts:SetSourceIdentity', role.arn);
  }

  const chained = caller.kind === 'assumed-role';
  const seconds = duration ?? DEFAULT_SECONDS;
  if (chained && seconds > CHAINED_MAX_SECONDS) {
    throw IamErrors.validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  if (seconds > role.maxSessionDuration) {
    throw IamErrors.validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }

  const principal = roleSessionPrincipal({ accountId: role.accountId, name: role.name, arn: role.arn, id: role.roleId }, sessionName);
  const session = store.createSession({
    accountId: role.accountId,
    kind: 'role',
    subjectId: role.roleId,
    principal,
    ...(effectiveSource !== undefined ? { sourceIdentity: effectiveSource } : {}),
    chained,
    durationSeconds: seconds,
  });
  return (
    credentialsXml(session) +
    `<AssumedRoleUser>${el('AssumedRoleId', principal.userId)}${el('Arn', principal.arn)}</AssumedRoleUser>` +
    el('SourceIdentity', effectiveSource)
  );
}
