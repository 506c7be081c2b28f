/**
 * A document's statements turned into matchers once, cached per document object, so that
 * evaluating a request does no pattern compilation and little allocation.
 */
import type { PolicyDocument, Principal, PrincipalBlock, RequestContext, Statement } from './types.js';
import { compileConditionBlock, type CompiledCondition } from './conditions.js';
import { arnMatcher, globMatcher, hasWildcard, partsMatcher, type Matcher } from './wildcard.js';
import { parseTemplate, resolveTemplate, type TemplatePart } from './variables.js';

/** How a principal block names the caller. */
export type PrincipalMatch = 'none' | 'direct' | 'account';

export interface CompiledPrincipal {
  everyone: boolean;
  /** Accounts named by "arn:aws:iam::ID:root" (or a bare ID). */
  accounts: Set<string>;
  /** Exact user, role, assumed-role session ARNs. */
  arns: Set<string>;
  /** ARN patterns holding wildcards (never from parsePolicyDocument, which refuses them). */
  patterns: Matcher[];
  /** lower-cased */
  services: Set<string>;
  /** lower-cased */
  canonical: Set<string>;
}

export interface ResourceMatcher {
  test?: Matcher;
  template?: TemplatePart[];
  cache?: Map<string, Matcher>;
}

export interface CompiledStatement {
  statement: Statement;
  deny: boolean;
  principal?: CompiledPrincipal;
  notPrincipal?: CompiledPrincipal;
  /** Matchers over the lower-cased action. */
  actions?: Matcher[];
  notActions?: Matcher[];
  resources?: ResourceMatcher[];
  notResources?: ResourceMatcher[];
  conditions: CompiledCondition[];
}

const ROOT_ARN = /^arn:aws:iam::(\d{12}):root$/;

function compilePrincipal(block: PrincipalBlock): CompiledPrincipal {
  const out: CompiledPrincipal = {
    everyone: block.wildcard === true,
    accounts: new Set(),
    arns: new Set(),
    patterns: [],
    services: new Set(),
    canonical: new Set(),
  };
  for (const v of block.AWS ?? []) {
    if (v === '*') out.everyone = true;
    else if (/^\d{12}$/.test(v)) out.accounts.add(v);
    else {
      const root = ROOT_ARN.exec(v);
      if (root) out.accounts.add(root[1]!);
      else if (hasWildcard(v)) out.patterns.push(arnMatcher(v));
      else out.arns.add(v);
    }
  }
  for (const v of block.Service ?? []) {
    if (v === '*') out.everyone = true;
    else out.services.add(v.toLowerCase());
  }
  for (const v of block.CanonicalUser ?? []) {
    if (v === '*') out.everyone = true;
    else out.canonical.add(v.toLowerCase());
  }
  // Federated principals sign in through AssumeRoleWithWebIdentity/SAML, which this store does
  // not offer, so no caller can ever be one.
  return out;
}

/**
 * Whether the block names the caller: 'direct' when it names the caller itself (or everyone, or
 * its service, or — for the account root — its account), 'account' when it names only the
 * caller's account, which delegates to that account's IAM policies.
 */
export function matchPrincipal(cp: CompiledPrincipal, p: Principal): PrincipalMatch {
  if (cp.everyone) return 'direct';
  if (p.canonicalUserId && cp.canonical.size && cp.canonical.has(p.canonicalUserId.toLowerCase())) return 'direct';
  switch (p.kind) {
    case 'anonymous':
      return 'none';
    case 'service':
      return cp.services.has(p.arn.toLowerCase()) ? 'direct' : 'none';
    case 'root':
      return cp.accounts.has(p.accountId) || cp.arns.has(p.arn) ? 'direct' : 'none';
    default: {
      // A role ARN names every session of the role (principalArn); a session ARN names that session.
      if (cp.arns.has(p.arn) || cp.arns.has(p.principalArn)) return 'direct';
      for (const m of cp.patterns) if (m(p.arn) || m(p.principalArn)) return 'direct';
      return cp.accounts.has(p.accountId) ? 'account' : 'none';
    }
  }
}

function compileResource(pattern: string, variables: boolean): ResourceMatcher {
  const template = variables ? parseTemplate(pattern) : undefined;
  if (template) return { template, cache: new Map() };
  return { test: arnMatcher(pattern) };
}

const DYNAMIC_CACHE_LIMIT = 256;

function resourceMatches(rm: ResourceMatcher, ctx: RequestContext): boolean {
  if (rm.test) return rm.test(ctx.resource);
  const parts = resolveTemplate(rm.template!, ctx);
  // An unresolvable variable makes the pattern match nothing.
  if (!parts) return false;
  const key = parts.map((p) => (p.literal ? '\u0001' : '\u0002') + p.text).join('\u0000');
  let m = rm.cache!.get(key);
  if (!m) {
    m = partsMatcher(parts, 'arn', false);
    if (rm.cache!.size >= DYNAMIC_CACHE_LIMIT) rm.cache!.clear();
    rm.cache!.set(key, m);
  }
  return m(ctx.resource);
}

export function anyResourceMatches(list: readonly ResourceMatcher[], ctx: RequestContext): boolean {
  for (const rm of list) if (resourceMatches(rm, ctx)) return true;
  return false;
}

export function anyActionMatches(list: readonly Matcher[], lowerAction: string): boolean {
  for (const m of list) if (m(lowerAction)) return true;
  return false;
}

export function compileStatement(st: Statement, variables: boolean): CompiledStatement {
  const cs: CompiledStatement = {
    statement: st,
    deny: st.effect === 'Deny',
    conditions: st.condition ? compileConditionBlock(st.condition, variables) : [],
  };
  if (st.principal) cs.principal = compilePrincipal(st.principal);
  if (st.notPrincipal) cs.notPrincipal = compilePrincipal(st.notPrincipal);
  if (st.action) cs.actions = st.action.map((a) => globMatcher(a.toLowerCase(), false));
  if (st.notAction) cs.notActions = st.notAction.map((a) => globMatcher(a.toLowerCase(), false));
  if (st.resource) cs.resources = st.resource.map((r) => compileResource(r, variables));
  if (st.notResource) cs.notResources = st.notResource.map((r) => compileResource(r, variables));
  return cs;
}

const cache = new WeakMap<PolicyDocument, CompiledStatement[]>();

export function compileDocument(doc: PolicyDocument): CompiledStatement[] {
  let compiled = cache.get(doc);
  if (!compiled) {
    const variables = doc.version === '2012-10-17';
    compiled = doc.statements.map((st) => compileStatement(st, variables));
    cache.set(doc, compiled);
  }
  return compiled;
}
