/**
 * Authorization of KMS requests, and KMS's wording when it refuses:
 *   User: <caller ARN> is not authorized to perform: kms:Decrypt on resource: <key ARN>
 *     because no resource-based policy allows the kms:Decrypt action
 * KMS names the policy that is missing: "resource-based" when the key policy neither allows the
 * caller nor delegates to its account, "identity-based" when the key policy delegates to the
 * account but the caller's IAM policies do not allow; for an explicit deny it names the policy
 * that denied.
 */
import { deniedMessage } from '../../http/authorizer.js';
import { KmsError, KmsErrors } from '../../crypto/kms-errors.js';
import type { KeyInfo } from '../../crypto/kms.js';
import type { ConditionValues, Decision, PolicyDocument } from '../../policy/types.js';
import { globMatcher } from '../../policy/wildcard.js';
import type { ServiceCall } from '../service/call.js';

function accessDenied(message: string): KmsError {
  return new KmsError('AccessDeniedException', message);
}

function callerConditions(call: ServiceCall, extra?: ConditionValues): ConditionValues {
  return { 'kms:calleraccount': [call.principal.accountId], ...extra };
}

/** Whether an Allow statement of the key policy hands `action` to the account's IAM policies. */
function delegatesToAccount(policy: PolicyDocument, accountId: string, action: string): boolean {
  const root = `arn:aws:iam::${accountId}:root`;
  return policy.statements.some((s) => {
    if (s.effect !== 'Allow' || !s.principal) return false;
    const names = s.principal.AWS ?? [];
    if (!s.principal.wildcard && !names.some((n) => n === root || n === accountId || n === '*')) return false;
    if (s.action) return s.action.some((a) => globMatcher(a, true)(action));
    if (s.notAction) return !s.notAction.some((a) => globMatcher(a, true)(action));
    return false;
  });
}

/** Authorizes an operation on a key: the key policy must allow, directly or through IAM. */
export function authorizeKey(call: ServiceCall, action: string, key: KeyInfo, extra?: ConditionValues): void {
  const conditions = callerConditions(call, extra);
  const d = call.authorize(action, key.arn, { resourcePolicy: key.policy, resourceAccount: key.accountId, mode: 'kms', conditions });
  if (d.allowed) return;
  const head = `User: ${call.principal.arn} is not authorized to perform: ${action} on resource: ${key.arn}`;
  const identity = call.authorize(action, key.arn, { mode: 's3', resourceAccount: call.principal.accountId, conditions });
  if (d.reason === 'explicit-deny') {
    throw accessDenied(`${head} with an explicit deny in ${identity.reason === 'explicit-deny' ? 'an identity-based' : 'a resource-based'} policy`);
  }
  const missing = !identity.allowed && delegatesToAccount(key.policy, call.principal.accountId, action) ? 'identity-based' : 'resource-based';
  throw accessDenied(`${head} because no ${missing} policy allows the ${action} action`);
}

/** Authorizes an operation that no key policy governs (CreateKey, ListKeys, alias ARNs): IAM alone. */
export function authorizeIdentity(call: ServiceCall, action: string, resource: string, extra?: ConditionValues): void {
  const d: Decision = call.authorize(action, resource, {
    mode: 's3',
    resourceAccount: call.principal.accountId,
    conditions: callerConditions(call, extra),
  });
  if (d.allowed) return;
  throw accessDenied(deniedMessage(call.principal, action, resource, d, false, false));
}

/**
 * KMS's policy lockout safety check: a policy that would not let the caller change it again is
 * refused unless BypassPolicyLockoutSafetyCheck is set.
 */
export function checkLockout(call: ServiceCall, key: KeyInfo, policy: PolicyDocument): void {
  const d = call.authorize('kms:PutKeyPolicy', key.arn, {
    resourcePolicy: policy,
    resourceAccount: key.accountId,
    mode: 'kms',
    conditions: callerConditions(call),
  });
  if (!d.allowed) throw KmsErrors.lockout();
}
