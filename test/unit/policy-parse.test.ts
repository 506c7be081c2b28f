import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkBucketPolicyResources, parsePolicyDocument } from '../../src/policy/parse.js';
import { PolicyDocumentError, type PolicyDocument, type PolicyKind } from '../../src/policy/types.js';

const V = '2012-10-17';
const BUCKET_ARN = 'arn:aws:s3:::b';
const OBJECTS = 'arn:aws:s3:::b/*';

/** The error message, or 'ok'. */
function outcome(policy: unknown, kind: PolicyKind): string {
  try {
    parsePolicyDocument(typeof policy === 'string' ? policy : JSON.stringify(policy), kind);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof PolicyDocumentError, `expected PolicyDocumentError, got ${String(e)}`);
    return e.message;
  }
}

const stmt = (extra: Record<string, unknown>) => ({ Version: V, Statement: [{ Effect: 'Allow', ...extra }] });

interface ErrorCase {
  name: string;
  kind: PolicyKind;
  policy: unknown;
  expected: string;
}

const errorCases: ErrorCase[] = [
  // ---- identity (IAM wording) ----
  { name: 'identity: not JSON', kind: 'identity', policy: 'This is not a json document', expected: 'Syntax errors in policy.' },
  { name: 'identity: JSON array', kind: 'identity', policy: '[]', expected: 'Syntax errors in policy.' },
  { name: 'identity: unknown version', kind: 'identity', policy: { Version: '2013-10-17', Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' } }, expected: 'Syntax errors in policy.' },
  { name: 'identity: no Statement', kind: 'identity', policy: { Version: V }, expected: 'Syntax errors in policy.' },
  { name: 'identity: empty Statement', kind: 'identity', policy: { Version: V, Statement: [] }, expected: 'Syntax errors in policy.' },
  { name: 'identity: statement not an object', kind: 'identity', policy: { Version: V, Statement: ['afd'] }, expected: 'Syntax errors in policy.' },
  { name: 'identity: unknown top-level key', kind: 'identity', policy: { Version: V, Extra: 1, Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }, expected: 'Syntax errors in policy.' },
  { name: 'identity: unknown statement key', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', Extra: 'x' }), expected: 'Syntax errors in policy.' },
  { name: 'identity: Id not a string', kind: 'identity', policy: { Version: V, Id: ['x'], Statement: { Effect: 'Allow', Action: 's3:*', Resource: '*' } }, expected: 'Syntax errors in policy.' },
  { name: 'identity: bad effect', kind: 'identity', policy: { Version: V, Statement: { Effect: 'invalid', Action: 's3:*', Resource: '*' } }, expected: 'Syntax errors in policy.' },
  { name: 'identity: effect in wrong case', kind: 'identity', policy: { Version: V, Statement: { Effect: 'allow', Action: 's3:*', Resource: '*' } }, expected: 'The policy failed legacy parsing' },
  { name: 'identity: missing effect', kind: 'identity', policy: { Version: V, Statement: { Action: 's3:*', Resource: '*' } }, expected: 'Syntax errors in policy.' },
  { name: 'identity: principal present', kind: 'identity', policy: stmt({ Principal: '*', Action: 's3:*', Resource: '*' }), expected: 'Policy document should not specify a principal.' },
  { name: 'identity: NotPrincipal present', kind: 'identity', policy: stmt({ NotPrincipal: '*', Action: 's3:*', Resource: '*' }), expected: 'Policy document should not specify a principal.' },
  { name: 'identity: no action', kind: 'identity', policy: stmt({ Resource: '*' }), expected: 'Policy statement must contain actions.' },
  { name: 'identity: empty action list', kind: 'identity', policy: stmt({ Action: [], Resource: '*' }), expected: 'Policy statement must contain actions.' },
  { name: 'identity: Action and NotAction', kind: 'identity', policy: stmt({ Action: 's3:*', NotAction: 's3:Get*', Resource: '*' }), expected: 'Syntax errors in policy.' },
  { name: 'identity: action not a string', kind: 'identity', policy: stmt({ Action: {}, Resource: '*' }), expected: 'Syntax errors in policy.' },
  { name: 'identity: action without vendor', kind: 'identity', policy: stmt({ Action: 'invalid', Resource: '*' }), expected: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.' },
  { name: 'identity: action with two colons', kind: 'identity', policy: stmt({ Action: 's3:List:Bucket', Resource: '*' }), expected: 'Actions/Condition can contain only one colon.' },
  { name: 'identity: bad vendor', kind: 'identity', policy: stmt({ Action: 'a a:ListBucket', Resource: '*' }), expected: 'Vendor a a is not valid' },
  { name: 'identity: no resource', kind: 'identity', policy: stmt({ Action: 's3:*' }), expected: 'Policy statement must contain resources.' },
  { name: 'identity: empty resource list', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: [] }), expected: 'Policy statement must contain resources.' },
  { name: 'identity: Resource and NotResource', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', NotResource: OBJECTS }), expected: 'Syntax errors in policy.' },
  { name: 'identity: resource not an ARN', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: 'invalid resource' }), expected: 'Resource invalid resource must be in ARN format or "*".' },
  { name: 'identity: bad partition', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: 'arn:error:s3:::example_bucket' }), expected: 'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".' },
  { name: 'identity: vendor missing', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: 'arn:aws' }), expected: 'Resource vendor must be fully qualified and cannot contain regexes.' },
  { name: 'identity: s3 ARN with region', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: 'arn:aws:s3:us-east-1::b' }), expected: 'Resource arn:aws:s3:us-east-1::b can not contain region information.' },
  { name: 'identity: condition not an object', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', Condition: 'a' }), expected: 'Syntax errors in policy.' },
  { name: 'identity: condition operator body not an object', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', Condition: { StringEquals: 'b' } }), expected: 'Syntax errors in policy.' },
  { name: 'identity: unknown condition operator', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', Condition: { StringEqualz: { 'aws:username': 'a' } } }), expected: 'Syntax errors in policy.' },
  { name: 'identity: condition value an object', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', Condition: { StringEquals: { 'aws:username': { a: 1 } } } }), expected: 'Syntax errors in policy.' },
  { name: 'identity: NullIfExists is not an operator', kind: 'identity', policy: stmt({ Action: 's3:*', Resource: '*', Condition: { NullIfExists: { 'aws:username': 'true' } } }), expected: 'Syntax errors in policy.' },
  {
    name: 'identity: duplicate Sid',
    kind: 'identity',
    policy: { Version: V, Statement: [{ Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: 's3:*', Resource: '*' }] },
    expected: 'Statement IDs (SID) in a single policy must be unique.',
  },

  // ---- bucket policy (S3 wording) ----
  { name: 's3: first byte not {', kind: 'resource', policy: 'nope', expected: "Policies must be valid JSON and the first byte must be '{'" },
  { name: 's3: broken JSON', kind: 'resource', policy: '{"Version": ', expected: 'This policy contains invalid Json' },
  { name: 's3: bad version', kind: 'resource', policy: { Version: '2020-01-01', Statement: [] }, expected: 'The policy must contain a valid version string' },
  { name: 's3: missing Statement', kind: 'resource', policy: { Version: V }, expected: 'Missing required field Statement' },
  { name: 's3: empty Statement', kind: 'resource', policy: { Version: V, Statement: [] }, expected: 'Could not parse the policy: Statement is empty!' },
  { name: 's3: missing Effect', kind: 'resource', policy: { Version: V, Statement: { Principal: '*', Action: 's3:GetObject', Resource: OBJECTS } }, expected: 'Missing required field Effect' },
  { name: 's3: bad Effect', kind: 'resource', policy: { Version: V, Statement: { Effect: 'Maybe', Principal: '*', Action: 's3:GetObject', Resource: OBJECTS } }, expected: 'Invalid effect: Maybe' },
  { name: 's3: missing Principal', kind: 'resource', policy: stmt({ Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Missing required field Principal' },
  { name: 's3: empty Principal', kind: 'resource', policy: stmt({ Principal: {}, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Missing required field Principal cannot be empty!' },
  { name: 's3: principal string other than *', kind: 'resource', policy: stmt({ Principal: 'alice', Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: malformed AWS principal', kind: 'resource', policy: stmt({ Principal: { AWS: 'arn:aws:iam::12345:user/x' }, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: group is not a principal', kind: 'resource', policy: stmt({ Principal: { AWS: 'arn:aws:iam::111111111111:group/g' }, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: wildcard inside principal ARN', kind: 'resource', policy: stmt({ Principal: { AWS: 'arn:aws:iam::111111111111:user/*' }, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: unknown principal type', kind: 'resource', policy: stmt({ Principal: { Martian: 'x' }, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: bad service principal', kind: 'resource', policy: stmt({ Principal: { Service: 'not a service' }, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: Allow with NotPrincipal', kind: 'resource', policy: stmt({ NotPrincipal: { AWS: '111111111111' }, Action: 's3:GetObject', Resource: OBJECTS }), expected: 'Invalid principal in policy' },
  { name: 's3: missing Action', kind: 'resource', policy: stmt({ Principal: '*', Resource: OBJECTS }), expected: 'Missing required field Action' },
  { name: 's3: other service action', kind: 'resource', policy: stmt({ Principal: '*', Action: 'ec2:RunInstances', Resource: OBJECTS }), expected: 'Policy has invalid action' },
  { name: 's3: unknown s3 action', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObjectt', Resource: OBJECTS }), expected: 'Policy has invalid action' },
  { name: 's3: pattern naming no action', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:Frobnicate*', Resource: OBJECTS }), expected: 'Policy has invalid action' },
  { name: 's3: missing Resource', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject' }), expected: 'Missing required field Resource' },
  { name: 's3: resource *', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: '*' }), expected: 'Policy has invalid resource' },
  { name: 's3: other service resource', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:sqs:us-east-1:111111111111:q' }), expected: 'Policy has invalid resource' },
  { name: 's3: unknown condition operator', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: OBJECTS, Condition: { StringEqualz: { 'aws:SourceIp': 'x' } } }), expected: 'Invalid Condition type : StringEqualz' },
  { name: 's3: operator names are case-sensitive', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: OBJECTS, Condition: { stringequals: { 'aws:username': 'x' } } }), expected: 'Invalid Condition type : stringequals' },
  { name: 's3: unknown s3 condition key', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: OBJECTS, Condition: { StringEquals: { 's3:x-acl': 'private' } } }), expected: 'Policy has an invalid condition key' },
  { name: 's3: bad IP in condition', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: OBJECTS, Condition: { IpAddress: { 'aws:SourceIp': '123' } } }), expected: 'Invalid IP address in Conditions' },
  { name: 's3: IP prefix too long', kind: 'resource', policy: stmt({ Principal: '*', Action: 's3:GetObject', Resource: OBJECTS, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }), expected: 'Invalid IP address in Conditions' },

  // ---- trust policy (IAM CreateRole wording) ----
  { name: 'trust: broken JSON', kind: 'trust', policy: '{', expected: 'This policy contains invalid Json' },
  { name: 'trust: missing Principal', kind: 'trust', policy: stmt({ Action: 'sts:AssumeRole' }), expected: 'Missing required field Principal' },
  { name: 'trust: Resource present', kind: 'trust', policy: stmt({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', Resource: '*' }), expected: 'Has prohibited field Resource' },
  { name: 'trust: NotResource present', kind: 'trust', policy: stmt({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole', NotResource: '*' }), expected: 'Has prohibited field NotResource' },
  { name: 'trust: NotPrincipal', kind: 'trust', policy: { Version: V, Statement: { Effect: 'Deny', NotPrincipal: { AWS: '111111111111' }, Action: 'sts:AssumeRole' } }, expected: 'Has prohibited field NotPrincipal' },
  { name: 'trust: non-STS action', kind: 'trust', policy: stmt({ Principal: { AWS: '*' }, Action: 's3:GetObject' }), expected: 'AssumeRole policy may only specify STS AssumeRole actions.' },
  { name: 'trust: action *', kind: 'trust', policy: stmt({ Principal: { AWS: '*' }, Action: '*' }), expected: 'AssumeRole policy may only specify STS AssumeRole actions.' },
  { name: 'trust: STS action outside AssumeRole family', kind: 'trust', policy: stmt({ Principal: { AWS: '*' }, Action: 'sts:GetCallerIdentity' }), expected: 'AssumeRole policy may only specify STS AssumeRole actions.' },
  { name: 'trust: bad AWS principal names it', kind: 'trust', policy: stmt({ Principal: { AWS: 'bob' }, Action: 'sts:AssumeRole' }), expected: 'Invalid principal in policy: "AWS":"bob"' },
  { name: 'trust: bad service principal names it', kind: 'trust', policy: stmt({ Principal: { Service: 'nope' }, Action: 'sts:AssumeRole' }), expected: 'Invalid principal in policy: "SERVICE":"nope"' },
  { name: 'trust: CanonicalUser is not a trust principal', kind: 'trust', policy: stmt({ Principal: { CanonicalUser: 'a'.repeat(64) }, Action: 'sts:AssumeRole' }), expected: `Invalid principal in policy: "CanonicalUser":"${'a'.repeat(64)}"` },

  // ---- key policy (KMS) ----
  { name: 'kms: missing Principal', kind: 'key', policy: stmt({ Action: 'kms:*', Resource: '*' }), expected: 'Missing required field Principal' },
  { name: 'kms: invalid principal', kind: 'key', policy: stmt({ Principal: { AWS: 'nobody' }, Action: 'kms:*', Resource: '*' }), expected: 'Policy contains a statement with one or more invalid principals.' },
  { name: 'kms: missing Resource', kind: 'key', policy: stmt({ Principal: { AWS: '111111111111' }, Action: 'kms:*' }), expected: 'Missing required field Resource' },
];

describe('parsePolicyDocument rejects like AWS', () => {
  for (const c of errorCases) {
    it(c.name, () => assert.equal(outcome(c.policy, c.kind), c.expected));
  }
});

interface OkCase {
  name: string;
  kind: PolicyKind;
  policy: unknown;
  check: (doc: PolicyDocument) => void;
}

const okCases: OkCase[] = [
  {
    name: 'missing Version is 2008-10-17; single statement becomes a list',
    kind: 'identity',
    policy: { Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: OBJECTS } },
    check: (d) => {
      assert.equal(d.version, '2008-10-17');
      assert.equal(d.statements.length, 1);
      assert.deepEqual(d.statements[0]!.action, ['s3:GetObject']);
      assert.deepEqual(d.statements[0]!.resource, [OBJECTS]);
    },
  },
  {
    name: 'Id, Sid and NotAction/NotResource are kept',
    kind: 'identity',
    policy: { Version: V, Id: 'pol-1', Statement: [{ Sid: 'S1', Effect: 'Deny', NotAction: ['s3:GetObject'], NotResource: OBJECTS }] },
    check: (d) => {
      assert.equal(d.id, 'pol-1');
      assert.equal(d.statements[0]!.sid, 'S1');
      assert.equal(d.statements[0]!.effect, 'Deny');
      assert.deepEqual(d.statements[0]!.notAction, ['s3:GetObject']);
      assert.deepEqual(d.statements[0]!.notResource, [OBJECTS]);
      assert.equal(d.statements[0]!.action, undefined);
    },
  },
  {
    name: 'account ids become root ARNs; "*" principal is the wildcard flag',
    kind: 'resource',
    policy: {
      Version: V,
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['111111111111', 'arn:aws:iam::222222222222:user/bob'] }, Action: 's3:GetObject', Resource: OBJECTS },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: BUCKET_ARN },
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: BUCKET_ARN },
      ],
    },
    check: (d) => {
      assert.deepEqual(d.statements[0]!.principal, { AWS: ['arn:aws:iam::111111111111:root', 'arn:aws:iam::222222222222:user/bob'] });
      assert.deepEqual(d.statements[1]!.principal, { wildcard: true });
      assert.deepEqual(d.statements[2]!.principal, { AWS: ['*'] });
    },
  },
  {
    name: 'condition values normalize to string lists',
    kind: 'resource',
    policy: stmt({
      Principal: '*',
      Action: 's3:ListBucket',
      Resource: BUCKET_ARN,
      Condition: { Bool: { 'aws:SecureTransport': false }, NumericLessThanEquals: { 's3:max-keys': 10 }, StringLike: { 's3:prefix': ['a/*', 'b/*'] } },
    }),
    check: (d) =>
      assert.deepEqual(d.statements[0]!.condition, {
        Bool: { 'aws:SecureTransport': ['false'] },
        NumericLessThanEquals: { 's3:max-keys': ['10'] },
        StringLike: { 's3:prefix': ['a/*', 'b/*'] },
      }),
  },
  {
    name: 'bucket policy: known s3 condition keys, tag keys and header keys are accepted',
    kind: 'resource',
    policy: stmt({
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: OBJECTS,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 's3:ExistingObjectTag/env': 'prod', 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:111111111111:trail/t' } },
    }),
    check: (d) => assert.deepEqual(d.statements[0]!.principal, { Service: ['cloudtrail.amazonaws.com'] }),
  },
  {
    name: 'bucket policy: Deny with NotPrincipal, action patterns and *',
    kind: 'resource',
    policy: { Version: V, Statement: [{ Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: ['s3:Get*', '*', 's3:?utObject'], Resource: [BUCKET_ARN, OBJECTS] }] },
    check: (d) => assert.deepEqual(d.statements[0]!.notPrincipal, { AWS: ['arn:aws:iam::111111111111:root'] }),
  },
  {
    name: 'bucket policy: leading whitespace is tolerated',
    kind: 'resource',
    policy: `\n  ${JSON.stringify(stmt({ Principal: '*', Action: 's3:GetObject', Resource: OBJECTS }))}`,
    check: (d) => assert.equal(d.statements.length, 1),
  },
  {
    name: 'trust policy: service principal and the AssumeRole family',
    kind: 'trust',
    policy: stmt({ Principal: { Service: 's3.amazonaws.com', AWS: 'arn:aws:iam::111111111111:role/r' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
    check: (d) => {
      assert.deepEqual(d.statements[0]!.principal, { Service: ['s3.amazonaws.com'], AWS: ['arn:aws:iam::111111111111:role/r'] });
      assert.equal(d.statements[0]!.resource, undefined);
    },
  },
  {
    name: 'trust policy: sts:AssumeRole* names the family',
    kind: 'trust',
    policy: stmt({ Principal: { AWS: '111111111111' }, Action: 'sts:AssumeRole*' }),
    check: (d) => assert.deepEqual(d.statements[0]!.action, ['sts:AssumeRole*']),
  },
  {
    name: 'key policy: root delegation plus a service statement',
    kind: 'key',
    policy: {
      Version: V,
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' },
        { Sid: 'S3', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: '*' },
      ],
    },
    check: (d) => assert.equal(d.statements.length, 2),
  },
  {
    name: 'identity policy: the same Sid twice is refused but distinct ones are fine',
    kind: 'identity',
    policy: { Version: V, Statement: [{ Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'B', Effect: 'Allow', Action: 'iam:*', Resource: '*' }] },
    check: (d) => assert.deepEqual(d.statements.map((s) => s.sid), ['A', 'B']),
  },
];

describe('parsePolicyDocument normalizes', () => {
  for (const c of okCases) {
    it(c.name, () => c.check(parsePolicyDocument(typeof c.policy === 'string' ? c.policy : JSON.stringify(c.policy), c.kind)));
  }
});

describe('checkBucketPolicyResources', () => {
  const cases: Array<{ name: string; resources: string[]; bucket: string; expected: string }> = [
    { name: 'the bucket and its objects', resources: [BUCKET_ARN, OBJECTS], bucket: 'b', expected: 'ok' },
    { name: 'another bucket', resources: ['arn:aws:s3:::other/*'], bucket: 'b', expected: 'Policy has invalid resource' },
    { name: 'a glob over bucket names that covers it', resources: ['arn:aws:s3:::b*'], bucket: 'b-logs', expected: 'ok' },
    { name: 'a bucket name holding a variable', resources: ['arn:aws:s3:::${aws:username}/*'], bucket: 'b', expected: 'ok' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const doc = parsePolicyDocument(JSON.stringify(stmt({ Principal: '*', Action: 's3:GetObject', Resource: c.resources })), 'resource');
      let got = 'ok';
      try {
        checkBucketPolicyResources(doc, c.bucket);
      } catch (e) {
        got = (e as Error).message;
      }
      assert.equal(got, c.expected);
    });
  }
});
