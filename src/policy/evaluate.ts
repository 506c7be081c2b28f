/**
 * One document's verdict on one request. Statements match on principal (resource, key and
 * trust policies; identity policies have no principal block and apply to their holder), action,
 * resource and conditions. A document is treated as immutable once evaluated: its compiled form
 * is cached on the object.
 */
import type { PolicyDocument, PolicyVerdict, RequestContext } from './types.js';
import { anyActionMatches, anyResourceMatches, compileDocument, matchPrincipal, type CompiledStatement, type PrincipalMatch } from './compile.js';
import { evaluateConditions } from './conditions.js';

/** How a statement applies to the request: 'none', or how it names the principal. */
export function statementApplies(cs: CompiledStatement, ctx: RequestContext, lowerAction: string): PrincipalMatch {
  if (cs.actions) {
    if (!anyActionMatches(cs.actions, lowerAction)) return 'none';
  } else if (cs.notActions) {
    if (anyActionMatches(cs.notActions, lowerAction)) return 'none';
  } else {
    return 'none';
  }

  let how: PrincipalMatch = 'direct';
  if (cs.principal) {
    how = matchPrincipal(cs.principal, ctx.principal);
    if (how === 'none') return 'none';
  } else if (cs.notPrincipal) {
    // Everyone except those the block names themselves; naming only the caller's account does
    // not exclude the caller (IAM: "you must also specify the account ARN ... Otherwise the
    // policy might deny access to the entire account"; the converse is that the account alone
    // excludes only its root).
    if (matchPrincipal(cs.notPrincipal, ctx.principal) === 'direct') return 'none';
  }

  if (cs.resources) {
    if (!anyResourceMatches(cs.resources, ctx)) return 'none';
  } else if (cs.notResources) {
    if (anyResourceMatches(cs.notResources, ctx)) return 'none';
  }

  if (cs.conditions.length && !evaluateConditions(cs.conditions, ctx)) return 'none';
  return how;
}

export function evaluatePolicy(doc: PolicyDocument, ctx: RequestContext): PolicyVerdict {
  const compiled = compileDocument(doc);
  const lowerAction = ctx.action.toLowerCase();
  let allowDirect = false;
  let allowAccount = false;
  for (const cs of compiled) {
    // Once an allow of a kind is known, only a Deny can change the verdict.
    if (!cs.deny && allowDirect && allowAccount) continue;
    const how = statementApplies(cs, ctx, lowerAction);
    if (how === 'none') continue;
    if (cs.deny) return { allowDirect: false, allowAccount: false, deny: true };
    if (how === 'direct') allowDirect = true;
    else allowAccount = true;
  }
  return { allowDirect, allowAccount, deny: false };
}
