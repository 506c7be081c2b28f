/**
 * S3's meaning of a "public" policy, for BlockPublicPolicy (refuse to store one) and
 * RestrictPublicBuckets (stop one from granting anything outside the owner account). S3 user
 * guide, "The meaning of public": a policy is non-public only if it grants access to fixed values
 * — values without a wildcard or a policy variable — of a principal, or of one of: aws:SourceIp
 * (a CIDR set), aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
 * aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalArn, aws:userid (outside the pattern
 * "AROLEID:*"), s3:DataAccessPointArn, s3:DataAccessPointAccount.
 */
import type { PolicyDocument, PrincipalBlock, Statement } from './types.js';
import { parseConditionOperator } from './conditions.js';
import { parseCidr } from './ip.js';
import { hasWildcard } from './wildcard.js';

const FIXING_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:principalarn',
  'aws:userid',
  's3:dataaccesspointarn',
  's3:dataaccesspointaccount',
]);

/** Operators that, with fixed values, pin a key to those values. */
const FIXING_OPERATORS = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike']);

/**
 * Source ranges wider than these are treated as public: a CIDR that covers a large part of the
 * Internet does not restrict who can reach the bucket.
 */
const MIN_PREFIX_V4 = 8;
const MIN_PREFIX_V6 = 32;

function isFixed(value: string): boolean {
  return !hasWildcard(value) && !value.includes('${');
}

function principalIsWildcard(block: PrincipalBlock): boolean {
  if (block.wildcard) return true;
  for (const list of [block.AWS, block.Service, block.CanonicalUser, block.Federated]) {
    for (const v of list ?? []) if (hasWildcard(v)) return true;
  }
  return false;
}

/** Whether one of the statement's conditions pins the request to fixed, non-public values. */
function conditionRestricts(st: Statement): boolean {
  for (const [written, keys] of Object.entries(st.condition ?? {})) {
    const op = parseConditionOperator(written);
    // IfExists and ForAllValues are satisfied by a request without the key, so they pin nothing.
    if (!op || op.ifExists || op.set === 'all' || op.negated) continue;
    for (const [key, values] of Object.entries(keys)) {
      if (values.length === 0) continue;
      const lower = key.toLowerCase();
      if (lower === 'aws:sourceip') {
        if (op.base !== 'IpAddress') continue;
        const narrow = values.every((v) => {
          if (!isFixed(v)) return false;
          const cidr = parseCidr(v.trim());
          return cidr !== undefined && cidr.prefix >= (cidr.v4 ? MIN_PREFIX_V4 : MIN_PREFIX_V6);
        });
        if (narrow) return true;
        continue;
      }
      if (!FIXING_KEYS.has(lower) || !FIXING_OPERATORS.has(op.base)) continue;
      if (!values.every(isFixed)) continue;
      // A role session's user id "AROLEID:*" names anyone who can assume the role.
      if (lower === 'aws:userid' && values.some((v) => v.endsWith(':'))) continue;
      return true;
    }
  }
  return false;
}

/** An Allow statement that grants to everyone (or to a wildcard principal) without pinning conditions. */
export function isPublicStatement(st: Statement): boolean {
  if (st.effect !== 'Allow') return false;
  // Allow with NotPrincipal grants to everyone but the few named.
  const wide = st.notPrincipal !== undefined || (st.principal !== undefined && principalIsWildcard(st.principal));
  if (!wide) return false;
  return !conditionRestricts(st);
}

const publicCache = new WeakMap<PolicyDocument, boolean>();

/** Cached per document: RestrictPublicBuckets asks on every request. */
export function isPublicPolicy(doc: PolicyDocument): boolean {
  let result = publicCache.get(doc);
  if (result === undefined) {
    result = doc.statements.some(isPublicStatement);
    publicCache.set(doc, result);
  }
  return result;
}
