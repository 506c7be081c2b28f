/**
 * The authorize() function a request's handlers get: the policy engine applied to this
 * request's principal, its identity policies (from the IAM store) and its condition keys.
 */
import type { App } from '../app.js';
import { authorize } from '../policy/authorize.js';
import type { AuthorizeFn, ConditionValues, Decision, PolicyDocument, Principal } from '../policy/types.js';

export function makeAuthorizer(app: App, principal: Principal, conditions: ConditionValues): AuthorizeFn {
  let identityPolicies: PolicyDocument[] | undefined;
  return (action, resource, opts = {}) => {
    identityPolicies ??= app.iam.policiesOf(principal);
    return authorize({
      // Layered, not merged: a copy of the global keys per decision showed in 4 KiB GET profiles.
      ctx: { principal, action, resource, conditions, operationConditions: opts.conditions },
      identityPolicies,
      resourcePolicy: opts.resourcePolicy,
      resourceAccount: opts.resourceAccount ?? principal.accountId,
      mode: opts.mode ?? 's3',
    });
  };
}

/**
 * AWS's wording for a refusal, naming what was missing, so that whoever reads it knows which
 * policy to fix. Anonymous callers get the plain "Access Denied". S3 quotes the resource; IAM
 * and KMS do not (`quoted` false).
 */
export function deniedMessage(principal: Principal, action: string, resource: string, d: Decision, resourcePolicy: boolean, quoted = true): string {
  if (principal.kind === 'anonymous') return 'Access Denied';
  const head = `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${quoted ? `"${resource}"` : resource}`;
  if (d.reason === 'explicit-deny') return `${head} with an explicit deny in ${resourcePolicy ? 'a resource-based or identity-based' : 'an identity-based'} policy`;
  return `${head} because no ${resourcePolicy ? 'identity-based or resource-based' : 'identity-based'} policy allows the ${action} action`;
}
