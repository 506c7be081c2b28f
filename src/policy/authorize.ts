/**
 * The decision for a request from the caller's identity policies and the resource's policy
 * (IAM user guide, "Policy evaluation logic" and "Cross-account policy evaluation logic"):
 * - any matching Deny, in either, is final;
 * - the account root holds every permission its account can grant, so its identity side always
 *   allows; anonymous and service callers have no identity side and are let in only by a
 *   resource policy statement that names them (or everyone);
 * - a resource policy statement that names the caller's account (arn:aws:iam::ID:root) grants
 *   nothing by itself to the account's users and roles: it delegates to their identity policies.
 *   Named the root itself, it is a direct grant.
 *
 * Modes:
 * - 's3': same account → identity allow, or a resource statement naming the caller; cross
 *   account → identity allow and a resource statement naming the caller or its account.
 * - 'kms' / 'trust': the resource policy must allow: directly, or by naming the account together
 *   with an identity allow. Cross account as for s3. No resource policy → deny.
 */
import type { AuthorizationInput, Decision, PolicyVerdict } from './types.js';
import { evaluatePolicy } from './evaluate.js';
import { isPublicPolicy } from './public.js';

const decision = (reason: Decision['reason']): Decision => ({ allowed: reason === 'allowed', reason });

const NO_VERDICT: PolicyVerdict = { allowDirect: false, allowAccount: false, deny: false };

export function authorize(input: AuthorizationInput): Decision {
  const { ctx, identityPolicies, resourcePolicy, resourceAccount, mode } = input;
  const principal = ctx.principal;

  let identityAllow = principal.kind === 'root';
  for (const doc of identityPolicies) {
    const v = evaluatePolicy(doc, ctx);
    if (v.deny) return decision('explicit-deny');
    if (v.allowDirect || v.allowAccount) identityAllow = true;
  }

  let rv = resourcePolicy ? evaluatePolicy(resourcePolicy, ctx) : NO_VERDICT;
  if (rv.deny) return decision('explicit-deny');

  const sameAccount = principal.accountId !== '' && principal.accountId === resourceAccount;

  if (
    resourcePolicy &&
    input.restrictPublicBuckets &&
    principal.kind !== 'service' &&
    !sameAccount &&
    (rv.allowDirect || rv.allowAccount) &&
    isPublicPolicy(resourcePolicy)
  ) {
    rv = NO_VERDICT;
  }

  if (principal.kind === 'anonymous' || principal.kind === 'service') {
    return decision(rv.allowDirect ? 'allowed' : 'implicit-deny');
  }

  let allowed: boolean;
  if (!sameAccount) {
    allowed = identityAllow && (rv.allowDirect || rv.allowAccount);
  } else if (mode === 's3') {
    allowed = identityAllow || rv.allowDirect;
  } else {
    allowed = rv.allowDirect || (rv.allowAccount && identityAllow);
  }
  return decision(allowed ? 'allowed' : 'implicit-deny');
}
