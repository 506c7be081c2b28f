/**
 * Parsing and validation of policy documents, with the error wording of the service that would
 * reject them: IAM for identity policies (CreatePolicy/PutUserPolicy: "Syntax errors in policy."),
 * IAM's older grammar for role trust policies (CreateRole: "Has prohibited field Resource"), S3
 * for bucket policies (PutBucketPolicy: "Policy has invalid resource"), KMS for key policies.
 * Size limits are the callers' business.
 */
import {
  PolicyDocumentError,
  type ConditionBlock,
  type PolicyDocument,
  type PolicyKind,
  type PrincipalBlock,
  type Statement,
} from './types.js';
import { parseConditionOperator, validConditionValue } from './conditions.js';
import { isKnownS3Action, isKnownS3ConditionKey } from './s3-catalog.js';
import { globMatcher, hasWildcard } from './wildcard.js';

interface Dialect {
  firstByte?: string;
  invalidJson: string;
  syntax: string;
  version: string;
  missingStatement: string;
  emptyStatement: string;
  missingEffect: string;
  invalidEffect(effect: string): string;
  /** Identity policies only: Principal present at all. */
  principalForbidden?: string;
  /** Trust policies only: NotPrincipal present. */
  notPrincipalForbidden?: string;
  missingPrincipal: string;
  emptyPrincipal: string;
  invalidPrincipal(type: string, value: string): string;
  missingAction: string;
  missingResource: string;
  /** Trust policies only. */
  resourceForbidden?(field: 'Resource' | 'NotResource'): string;
  conditionType(operator: string): string;
  duplicateSid?: string;
}

const IAM: Dialect = {
  invalidJson: 'Syntax errors in policy.',
  syntax: 'Syntax errors in policy.',
  version: 'Syntax errors in policy.',
  missingStatement: 'Syntax errors in policy.',
  emptyStatement: 'Syntax errors in policy.',
  missingEffect: 'Syntax errors in policy.',
  invalidEffect: () => 'Syntax errors in policy.',
  principalForbidden: 'Policy document should not specify a principal.',
  missingPrincipal: 'Syntax errors in policy.',
  emptyPrincipal: 'Syntax errors in policy.',
  invalidPrincipal: () => 'Syntax errors in policy.',
  missingAction: 'Policy statement must contain actions.',
  missingResource: 'Policy statement must contain resources.',
  conditionType: () => 'Syntax errors in policy.',
  duplicateSid: 'Statement IDs (SID) in a single policy must be unique.',
};

const TRUST: Dialect = {
  invalidJson: 'This policy contains invalid Json',
  syntax: 'Syntax errors in policy.',
  version: 'The policy must contain a valid version string',
  missingStatement: 'Missing required field Statement',
  emptyStatement: 'Could not parse the policy: Statement is empty!',
  missingEffect: 'Missing required field Effect',
  invalidEffect: (e) => `Invalid effect: ${e}`,
  notPrincipalForbidden: 'Has prohibited field NotPrincipal',
  missingPrincipal: 'Missing required field Principal',
  emptyPrincipal: 'Missing required field Principal cannot be empty!',
  invalidPrincipal: (type, value) => `Invalid principal in policy: "${type === 'Service' ? 'SERVICE' : type}":"${value}"`,
  missingAction: 'Missing required field Action',
  missingResource: 'Missing required field Resource',
  resourceForbidden: (field) => `Has prohibited field ${field}`,
  conditionType: (op) => `Invalid Condition type : ${op}`,
  duplicateSid: 'Statement IDs (SID) in a single policy must be unique.',
};

const S3: Dialect = {
  firstByte: "Policies must be valid JSON and the first byte must be '{'",
  invalidJson: 'This policy contains invalid Json',
  syntax: 'Invalid policy syntax.',
  version: 'The policy must contain a valid version string',
  missingStatement: 'Missing required field Statement',
  emptyStatement: 'Could not parse the policy: Statement is empty!',
  missingEffect: 'Missing required field Effect',
  invalidEffect: (e) => `Invalid effect: ${e}`,
  missingPrincipal: 'Missing required field Principal',
  emptyPrincipal: 'Missing required field Principal cannot be empty!',
  invalidPrincipal: () => 'Invalid principal in policy',
  missingAction: 'Missing required field Action',
  missingResource: 'Missing required field Resource',
  conditionType: (op) => `Invalid Condition type : ${op}`,
};

/** KMS words most errors as S3 does; its own are syntax and principal errors. */
const KMS: Dialect = {
  ...S3,
  firstByte: undefined,
  syntax: 'Syntax errors in policy.',
  emptyPrincipal: 'Policy contains a statement with one or more invalid principals.',
  invalidPrincipal: () => 'Policy contains a statement with one or more invalid principals.',
};

const DIALECTS: Record<PolicyKind, Dialect> = { identity: IAM, trust: TRUST, resource: S3, key: KMS };

const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

/** The actions a role trust policy may name (IAM: "AssumeRole policy may only specify STS AssumeRole actions."). */
const TRUST_ACTIONS = [
  'sts:assumerole',
  'sts:assumerolewithsaml',
  'sts:assumerolewithwebidentity',
  'sts:tagsession',
  'sts:setsourceidentity',
  'sts:setcontext',
];

const fail = (message: string): never => {
  throw new PolicyDocumentError(message);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string or a list of strings; undefined when the JSON has another shape. */
function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return undefined;
  for (const item of v) if (typeof item !== 'string') return undefined;
  return v as string[];
}

export function parsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  const d = DIALECTS[kind];
  // Leading whitespace is tolerated: it carries no meaning and CLI file:// bodies often have it.
  if (d.firstByte && !text.trimStart().startsWith('{')) fail(d.firstByte);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(d.invalidJson);
  }
  if (!isObject(json)) return fail(d.firstByte ?? d.syntax);
  for (const key of Object.keys(json)) if (!TOP_KEYS.has(key)) fail(d.syntax);

  let version: PolicyDocument['version'] = '2008-10-17';
  if ('Version' in json) {
    const v = json.Version;
    if (v !== '2012-10-17' && v !== '2008-10-17') fail(d.version);
    version = v as PolicyDocument['version'];
  }
  if ('Id' in json && typeof json.Id !== 'string') fail(d.syntax);

  if (!('Statement' in json)) fail(d.missingStatement);
  const raw = json.Statement;
  let rawStatements: unknown[];
  if (Array.isArray(raw)) rawStatements = raw;
  else if (isObject(raw)) rawStatements = [raw];
  else return fail(d.syntax);
  if (rawStatements.length === 0) fail(d.emptyStatement);

  const statements = rawStatements.map((s) => parseStatement(s, kind, d));

  if (d.duplicateSid) {
    const seen = new Set<string>();
    for (const s of statements) {
      if (!s.sid) continue;
      if (seen.has(s.sid)) fail(d.duplicateSid);
      seen.add(s.sid);
    }
  }

  const doc: PolicyDocument = { version, statements };
  if (typeof json.Id === 'string') doc.id = json.Id;
  return doc;
}

function parseStatement(raw: unknown, kind: PolicyKind, d: Dialect): Statement {
  if (!isObject(raw)) return fail(d.syntax);
  for (const key of Object.keys(raw)) if (!STATEMENT_KEYS.has(key)) fail(d.syntax);
  if ('Sid' in raw && typeof raw.Sid !== 'string') fail(d.syntax);
  if ('Action' in raw && 'NotAction' in raw) fail(d.syntax);
  if ('Resource' in raw && 'NotResource' in raw) fail(d.syntax);
  if ('Principal' in raw && 'NotPrincipal' in raw) fail(d.syntax);

  if (!('Effect' in raw)) fail(d.missingEffect);
  const effect = raw.Effect;
  if (typeof effect !== 'string') return fail(d.syntax);
  if (effect !== 'Allow' && effect !== 'Deny') {
    // IAM's first pass compares case-insensitively; the later legacy pass is exact.
    if (kind === 'identity' && (effect.toLowerCase() === 'allow' || effect.toLowerCase() === 'deny')) {
      fail('The policy failed legacy parsing');
    }
    fail(d.invalidEffect(effect));
  }

  const st: Statement = { effect: effect as 'Allow' | 'Deny' };
  if (typeof raw.Sid === 'string') st.sid = raw.Sid;

  const hasPrincipal = 'Principal' in raw;
  const hasNotPrincipal = 'NotPrincipal' in raw;
  if (kind === 'identity') {
    if (hasPrincipal || hasNotPrincipal) fail(d.principalForbidden!);
  } else {
    if (hasNotPrincipal && d.notPrincipalForbidden) fail(d.notPrincipalForbidden);
    if (!hasPrincipal && !hasNotPrincipal) fail(d.missingPrincipal);
    if (hasPrincipal) st.principal = parsePrincipal(raw.Principal, kind, d);
    else {
      st.notPrincipal = parsePrincipal(raw.NotPrincipal, kind, d);
      // "NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is not supported."
      if (st.effect === 'Allow') fail(d.invalidPrincipal('AWS', '*'));
    }
  }

  const actionField = 'Action' in raw ? 'Action' : 'NotAction' in raw ? 'NotAction' : undefined;
  if (!actionField) return fail(d.missingAction);
  const actions = stringList(raw[actionField]);
  if (!actions) return fail(d.syntax);
  if (actions.length === 0) fail(d.missingAction);
  for (const a of actions) validateAction(a, kind);
  if (actionField === 'Action') st.action = actions;
  else st.notAction = actions;

  const resourceField = 'Resource' in raw ? 'Resource' : 'NotResource' in raw ? 'NotResource' : undefined;
  if (kind === 'trust') {
    if (resourceField) fail(d.resourceForbidden!(resourceField));
  } else {
    if (!resourceField) return fail(d.missingResource);
    const resources = stringList(raw[resourceField]);
    if (!resources) return fail(d.syntax);
    if (resources.length === 0) fail(kind === 'resource' ? 'Policy has invalid resource' : d.missingResource);
    for (const r of resources) validateResource(r, kind);
    if (resourceField === 'Resource') st.resource = resources;
    else st.notResource = resources;
  }

  if ('Condition' in raw) st.condition = parseCondition(raw.Condition, kind, d);
  return st;
}

const ACCOUNT_ID = /^\d{12}$/;
const AWS_PRINCIPAL_ARN =
  /^arn:aws:(?:iam::\d{12}:(?:root|user\/.+|role\/.+|federated-user\/.+)|sts::\d{12}:(?:assumed-role\/[^/]+\/.+|federated-user\/.+))$/;
const SERVICE_PRINCIPAL = /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$/;
const CANONICAL_USER = /^[0-9a-fA-F]{64}$/;

const PRINCIPAL_TYPES: Record<PolicyKind, ReadonlySet<string>> = {
  identity: new Set(),
  resource: new Set(['AWS', 'Service', 'CanonicalUser']),
  key: new Set(['AWS', 'Service', 'Federated']),
  trust: new Set(['AWS', 'Service', 'Federated']),
};

function parsePrincipal(raw: unknown, kind: PolicyKind, d: Dialect): PrincipalBlock {
  if (raw === '*') return { wildcard: true };
  if (typeof raw === 'string') return fail(d.invalidPrincipal('AWS', raw));
  if (!isObject(raw)) return fail(Array.isArray(raw) && raw.length === 0 ? d.emptyPrincipal : d.syntax);
  const types = Object.keys(raw);
  if (types.length === 0) fail(d.emptyPrincipal);
  const block: PrincipalBlock = {};
  for (const type of types) {
    const values = stringList(raw[type]);
    if (!values) return fail(d.syntax);
    if (!PRINCIPAL_TYPES[kind].has(type)) fail(d.invalidPrincipal(type, values[0] ?? ''));
    if (values.length === 0) fail(d.emptyPrincipal);
    const out: string[] = [];
    for (const v of values) {
      switch (type) {
        case 'AWS':
          if (v === '*') out.push('*');
          else if (ACCOUNT_ID.test(v)) out.push(`arn:aws:iam::${v}:root`);
          else if (AWS_PRINCIPAL_ARN.test(v) && !hasWildcard(v)) out.push(v);
          else fail(d.invalidPrincipal(type, v));
          break;
        case 'Service':
          if (!SERVICE_PRINCIPAL.test(v)) fail(d.invalidPrincipal(type, v));
          out.push(v);
          break;
        case 'Federated':
          if (v === '' || hasWildcard(v)) fail(d.invalidPrincipal(type, v));
          out.push(v);
          break;
        case 'CanonicalUser':
          if (!CANONICAL_USER.test(v)) fail(d.invalidPrincipal(type, v));
          out.push(v.toLowerCase());
          break;
      }
    }
    block[type as 'AWS' | 'Service' | 'Federated' | 'CanonicalUser'] = out;
  }
  return block;
}

function validateAction(action: string, kind: PolicyKind): void {
  if (kind === 'resource') {
    // S3 accepts only its own actions, and only ones it knows (a pattern must name at least one).
    if (action === '*') return;
    if (!isKnownS3Action(action)) fail('Policy has invalid action');
    return;
  }
  if (kind === 'trust') {
    const lower = action.toLowerCase();
    const ok = lower.startsWith('sts:') && TRUST_ACTIONS.some(globMatcher(lower, false));
    if (!ok) fail('AssumeRole policy may only specify STS AssumeRole actions.');
    return;
  }
  if (action === '*') return;
  const parts = action.split(':');
  if (parts.length === 1) fail('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
  if (parts.length > 2) fail('Actions/Condition can contain only one colon.');
  if (/[^a-zA-Z0-9\-.*?]/.test(parts[0]!)) fail(`Vendor ${parts[0]} is not valid`);
}

const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc']);

function validateResource(resource: string, kind: PolicyKind): void {
  if (kind === 'resource') {
    // A bucket policy names buckets and objects only: "*" and other services' ARNs are refused.
    if (!resource.startsWith('arn:aws:s3:::') || resource.length === 'arn:aws:s3:::'.length) fail('Policy has invalid resource');
    return;
  }
  if (resource === '*') return;
  const parts = resource.split(':');
  if (parts.length < 2) fail(`Resource ${resource} must be in ARN format or "*".`);
  const partition = parts[1]!;
  if (!PARTITIONS.has(partition)) {
    const seg = (i: number) => (parts.length > i && (parts[i] !== '' || parts.length > i + 1) ? parts[i] : '*');
    const tail = parts.length > 5 ? parts.slice(5).join(':') : '*';
    fail(`Partition "${partition}" is not valid for resource "arn:${partition}:${seg(2)}:${seg(3)}:${seg(4)}:${tail}".`);
  }
  if (parts.length < 3 || parts[2] === '' || hasWildcard(parts[2]!)) fail('Resource vendor must be fully qualified and cannot contain regexes.');
  if (parts.length < 6) fail('The policy failed legacy parsing');
  const service = parts[2]!;
  if (service === 'iam' && parts[3] !== '') fail(`IAM resource ${resource} cannot contain region information.`);
  if (service === 's3' && parts[3] !== '') fail(`Resource ${resource} can not contain region information.`);
}

function parseCondition(raw: unknown, kind: PolicyKind, d: Dialect): ConditionBlock {
  if (!isObject(raw)) return fail(d.syntax);
  const block: ConditionBlock = {};
  for (const [operator, keys] of Object.entries(raw)) {
    if (!isObject(keys)) return fail(d.syntax);
    const op = parseConditionOperator(operator);
    if (!op) fail(d.conditionType(operator));
    const normalized: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(keys)) {
      if (key === '') fail(d.syntax);
      if (kind === 'resource' && key.toLowerCase().startsWith('s3:') && !isKnownS3ConditionKey(key)) {
        fail('Policy has an invalid condition key');
      }
      const values = conditionValues(value);
      if (!values) return fail(d.syntax);
      if (kind === 'resource') {
        for (const v of values) if (!validConditionValue(op!, v)) fail('Invalid IP address in Conditions');
      }
      normalized[key] = values;
    }
    block[operator] = normalized;
  }
  return block;
}

function conditionScalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function conditionValues(v: unknown): string[] | undefined {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      const s = conditionScalar(item);
      if (s === undefined) return undefined;
      out.push(s);
    }
    return out;
  }
  const s = conditionScalar(v);
  return s === undefined ? undefined : [s];
}

/**
 * PutBucketPolicy's check that every Resource/NotResource names the bucket the policy is put on
 * (S3: "Policy has invalid resource"). The bucket part of a pattern may be a glob that matches
 * the bucket, or hold a policy variable (judged when the policy applies).
 */
export function checkBucketPolicyResources(doc: PolicyDocument, bucket: string): void {
  for (const st of doc.statements) {
    for (const r of st.resource ?? st.notResource ?? []) {
      if (!r.startsWith('arn:aws:s3:::')) fail('Policy has invalid resource');
      const rest = r.slice('arn:aws:s3:::'.length);
      const slash = rest.indexOf('/');
      const named = slash < 0 ? rest : rest.slice(0, slash);
      if (named.includes('${')) continue;
      if (!globMatcher(named, false)(bucket)) fail('Policy has invalid resource');
    }
  }
}
