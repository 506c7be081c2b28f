/**
 * The vocabulary shared by everything that authorizes: who is asking (Principal), what for
 * (RequestContext), the parsed policy documents, and the decision. The evaluation lives in
 * evaluate.ts / authorize.ts; identities in src/iam/; the callers are the S3, KMS, IAM and STS
 * api layers and the replication workers.
 */

/** Who signed the request (or the service acting, or nobody). */
export interface Principal {
  kind: 'root' | 'user' | 'assumed-role' | 'service' | 'anonymous';
  /** 12-digit account; '' for anonymous and service principals. */
  accountId: string;
  /**
   * The caller's ARN as GetCallerIdentity shows it: arn:aws:iam::123456789012:root,
   * arn:aws:iam::123456789012:user/alice, arn:aws:sts::123456789012:assumed-role/Role/session;
   * a service principal's name ('s3.amazonaws.com'); '*' for anonymous.
   */
  arn: string;
  /**
   * aws:PrincipalArn: the role's ARN (arn:aws:iam::123:role/path/Role) for an assumed-role
   * session, else the same as arn.
   */
  principalArn: string;
  /** aws:userid: the account id for root, AIDA... for users, AROA...:session for role sessions. */
  userId: string;
  /** aws:username, for IAM users only. */
  username?: string;
  /**
   * The S3 canonical user id (64 hex digits), when known: lets a bucket policy's
   * {"CanonicalUser": ...} principal match.
   */
  canonicalUserId?: string;
}

/**
 * Condition keys and their values for one request. Keys are lower-cased
 * ('aws:securetransport', 's3:prefix', 's3:existingobjecttag/env'); values are strings
 * ('true'/'false' for booleans, decimal for numbers, ISO-8601 for dates). An absent key is
 * absent (matters for Null and ...IfExists).
 */
export type ConditionValues = Record<string, string[]>;

export interface RequestContext {
  principal: Principal;
  /** 's3:GetObject', 'kms:Decrypt', 'sts:AssumeRole', 'iam:PassRole' ... as AWS names them. */
  action: string;
  /** The resource ARN ('arn:aws:s3:::bucket/key', 'arn:aws:kms:us-east-1:123:key/id', ...). */
  resource: string;
  /** The request's global condition keys (aws:...). */
  conditions: ConditionValues;
  /** The operation's own keys (s3:prefix, kms:EncryptionContext:...); they win over `conditions`. */
  operationConditions?: ConditionValues;
}

/** A statement's principal block, normalized: each kind a list of values. '*' alone = everyone. */
export interface PrincipalBlock {
  AWS?: string[];
  Service?: string[];
  Federated?: string[];
  CanonicalUser?: string[];
  /** Principal: "*" */
  wildcard?: boolean;
}

/** operator (as written, e.g. 'StringEqualsIfExists', 'ForAnyValue:StringLike') → key → values */
export type ConditionBlock = Record<string, Record<string, string[]>>;

export interface Statement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal?: PrincipalBlock;
  notPrincipal?: PrincipalBlock;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  condition?: ConditionBlock;
}

export interface PolicyDocument {
  version: '2012-10-17' | '2008-10-17';
  id?: string;
  statements: Statement[];
}

/**
 * Where a document is used decides what it must and must not hold: identity policies have no
 * Principal; resource (bucket) and key policies and role trust policies need one.
 */
export type PolicyKind = 'identity' | 'resource' | 'trust' | 'key';

/** One document's verdict on a request. */
export interface PolicyVerdict {
  /** An Allow statement matched that names this principal itself (or '*', or its service). */
  allowDirect: boolean;
  /**
   * An Allow statement matched only because it names the principal's account
   * ("arn:aws:iam::123:root" or "123"): a delegation to the account's IAM policies.
   */
  allowAccount: boolean;
  /** A Deny statement matched. */
  deny: boolean;
}

/**
 * How a resource policy combines with identity policies:
 * - 's3' (bucket policies, and STS trust for same account...): same account → identity allow OR
 *   resource allow; cross account → both.
 * - 'kms' (key policies): the key policy must allow, directly, or by delegating to the account
 *   together with an identity-policy allow. Identity policies alone never suffice.
 * - 'trust' (role trust policies): as 'kms'.
 */
export type AuthorizationMode = 's3' | 'kms' | 'trust';

export interface AuthorizationInput {
  ctx: RequestContext;
  /** The principal's identity policies (user's inline + attached + groups'; role's). Empty for root, anonymous, service. */
  identityPolicies: PolicyDocument[];
  /** The resource's policy (bucket policy, key policy, trust policy) if it has one. */
  resourcePolicy?: PolicyDocument;
  /** The account that owns the resource. */
  resourceAccount: string;
  mode: AuthorizationMode;
  /**
   * S3 Block Public Access RestrictPublicBuckets in force for the resource: when the resource
   * policy is public, it authorizes only AWS service principals and principals of the resource
   * account ("blocks public and cross-account access derived from any public ... bucket policy,
   * including non-public delegation to specific accounts"). Its Deny statements still apply.
   */
  restrictPublicBuckets?: boolean;
}

export interface Decision {
  allowed: boolean;
  /** explicit-deny: a Deny matched; implicit-deny: nothing allowed. */
  reason: 'allowed' | 'explicit-deny' | 'implicit-deny';
}

/**
 * What a request's handlers call to authorize an action for the request's principal (its
 * identity policies, its condition keys), with the resource's policy if it has one.
 */
export type AuthorizeFn = (
  action: string,
  resource: string,
  opts?: { resourcePolicy?: PolicyDocument; resourceAccount?: string; mode?: AuthorizationMode; conditions?: ConditionValues },
) => Decision;

/** A policy document that does not parse or validate; `message` is AWS-style wording. */
export class PolicyDocumentError extends Error {}
