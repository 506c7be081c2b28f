import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { parsePolicyDocument } from '../../src/policy/parse.js';
import type { ConditionValues, PolicyDocument, PolicyKind, PolicyVerdict, Principal, RequestContext } from '../../src/policy/types.js';
import { anonymous, root, service, session, user } from '../helpers/principals.js';

const A = '111111111111';
const B = '222222222222';

const alice = user(A, 'alice');
const bob = user(B, 'bob');

function ctx(principal: Principal, action: string, resource: string, conditions: ConditionValues = {}): RequestContext {
  return { principal, action, resource, conditions };
}

const doc = (kind: PolicyKind, statements: unknown[], version = '2012-10-17'): PolicyDocument =>
  parsePolicyDocument(JSON.stringify({ Version: version, Statement: statements }), kind);

const NONE: PolicyVerdict = { allowDirect: false, allowAccount: false, deny: false };
const DIRECT: PolicyVerdict = { allowDirect: true, allowAccount: false, deny: false };
const ACCOUNT: PolicyVerdict = { allowDirect: false, allowAccount: true, deny: false };
const DENY: PolicyVerdict = { allowDirect: false, allowAccount: false, deny: true };

interface Case {
  name: string;
  policy: PolicyDocument;
  ctx: RequestContext;
  expected: PolicyVerdict;
}

const OBJ = 'arn:aws:s3:::b/photos/cat.jpg';
const BUCKET = 'arn:aws:s3:::b';

const allowIdentity = (action: unknown, resource: unknown, extra: Record<string, unknown> = {}) =>
  doc('identity', [{ Effect: 'Allow', Action: action, Resource: resource, ...extra }]);
const allowBucket = (principal: unknown, action: unknown = 's3:GetObject', resource: unknown = 'arn:aws:s3:::b/*', extra: Record<string, unknown> = {}) =>
  doc('resource', [{ Effect: 'Allow', Principal: principal, Action: action, Resource: resource, ...extra }]);

const denyInsecure = doc('resource', [
  {
    Sid: 'DenyInsecureConnections',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  },
]);

const cloudTrail = doc('resource', [
  { Sid: 'AWSCloudTrailAclCheck', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: 'arn:aws:s3:::b' },
  {
    Sid: 'AWSCloudTrailWrite',
    Effect: 'Allow',
    Principal: { Service: 'cloudtrail.amazonaws.com' },
    Action: 's3:PutObject',
    Resource: `arn:aws:s3:::b/AWSLogs/${A}/*`,
    Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
  },
]);

const homeDirs = allowIdentity(['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::b/home/${aws:username}/*');

const cases: Case[] = [
  // actions
  { name: 'action matches exactly', policy: allowIdentity('s3:GetObject', '*'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'action match is case-insensitive', policy: allowIdentity('S3:getobject', '*'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'action wildcard *', policy: allowIdentity('s3:Get*', '*'), ctx: ctx(alice, 's3:GetObjectTagging', OBJ), expected: DIRECT },
  { name: 'action wildcard ?', policy: allowIdentity('s3:?etObject', '*'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'action "*" is everything', policy: allowIdentity('*', '*'), ctx: ctx(alice, 'kms:Decrypt', 'arn:aws:kms:us-east-1:111111111111:key/k'), expected: DIRECT },
  { name: 'different action', policy: allowIdentity('s3:GetObject', '*'), ctx: ctx(alice, 's3:PutObject', OBJ), expected: NONE },
  { name: 'service prefix is part of the match', policy: allowIdentity('s3:Get*', '*'), ctx: ctx(alice, 'kms:GetKeyPolicy', '*'), expected: NONE },
  { name: 'NotAction excludes listed', policy: doc('identity', [{ Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' }]), ctx: ctx(alice, 's3:DeleteObject', OBJ), expected: NONE },
  { name: 'NotAction allows others', policy: doc('identity', [{ Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' }]), ctx: ctx(alice, 's3:GetObject', OBJ), expected: DIRECT },

  // resources
  { name: 'resource wildcard over a key with slashes', policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/*'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'resource wildcard over a key with colons', policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/*'), ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/a:b:c'), expected: DIRECT },
  { name: 'bucket ARN is not the objects', policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: NONE },
  { name: 'objects pattern is not the bucket', policy: allowIdentity('s3:ListBucket', 'arn:aws:s3:::b/*'), ctx: ctx(alice, 's3:ListBucket', BUCKET), expected: NONE },
  { name: 'resource match is case-sensitive', policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/Photos/*'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: NONE },
  { name: 'resource ? matches one character', policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/photos/ca?.jpg'), ctx: ctx(alice, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'bucket-name wildcard', policy: allowIdentity('s3:ListBucket', 'arn:aws:s3:::b*'), ctx: ctx(alice, 's3:ListBucket', 'arn:aws:s3:::b-logs'), expected: DIRECT },
  { name: 'NotResource excludes listed', policy: doc('identity', [{ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/photos/*' }]), ctx: ctx(alice, 's3:GetObject', OBJ), expected: NONE },
  { name: 'NotResource allows others', policy: doc('identity', [{ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/photos/*' }]), ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/docs/x'), expected: DIRECT },
  { name: 'regex characters in a resource are literal', policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/a+b(1).txt'), ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/aab(1).txt'), expected: NONE },

  // deny wins inside one document
  {
    name: 'Deny beats Allow in one document',
    policy: doc('identity', [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
    ]),
    ctx: ctx(alice, 's3:DeleteObject', OBJ),
    expected: DENY,
  },
  {
    name: 'a Deny that does not match leaves the Allow',
    policy: doc('identity', [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
    ]),
    ctx: ctx(alice, 's3:GetObject', OBJ),
    expected: DIRECT,
  },

  // principals
  { name: 'Principal "*" matches a user', policy: allowBucket('*'), ctx: ctx(bob, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'Principal "*" matches anonymous', policy: allowBucket('*'), ctx: ctx(anonymous, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'AWS "*" matches anonymous', policy: allowBucket({ AWS: '*' }), ctx: ctx(anonymous, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'account root names users of the account (delegation)', policy: allowBucket({ AWS: `arn:aws:iam::${B}:root` }), ctx: ctx(bob, 's3:GetObject', OBJ), expected: ACCOUNT },
  { name: 'bare account id is the same as its root ARN', policy: allowBucket({ AWS: B }), ctx: ctx(session(B, 'r', 's'), 's3:GetObject', OBJ), expected: ACCOUNT },
  { name: 'account root names the root itself directly', policy: allowBucket({ AWS: B }), ctx: ctx(root(B), 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'account root does not name another account', policy: allowBucket({ AWS: B }), ctx: ctx(alice, 's3:GetObject', OBJ), expected: NONE },
  { name: 'account root does not name anonymous', policy: allowBucket({ AWS: B }), ctx: ctx(anonymous, 's3:GetObject', OBJ), expected: NONE },
  { name: 'user ARN names that user', policy: allowBucket({ AWS: `arn:aws:iam::${B}:user/bob` }), ctx: ctx(bob, 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'user ARN does not name another user', policy: allowBucket({ AWS: `arn:aws:iam::${B}:user/bob` }), ctx: ctx(user(B, 'carol'), 's3:GetObject', OBJ), expected: NONE },
  { name: 'role ARN names its sessions', policy: allowBucket({ AWS: `arn:aws:iam::${B}:role/reader` }), ctx: ctx(session(B, 'reader', 'job-1'), 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'role ARN does not name another role', policy: allowBucket({ AWS: `arn:aws:iam::${B}:role/reader` }), ctx: ctx(session(B, 'writer', 'job-1'), 's3:GetObject', OBJ), expected: NONE },
  { name: 'session ARN names that session', policy: allowBucket({ AWS: `arn:aws:sts::${B}:assumed-role/reader/job-1` }), ctx: ctx(session(B, 'reader', 'job-1'), 's3:GetObject', OBJ), expected: DIRECT },
  { name: 'session ARN does not name another session', policy: allowBucket({ AWS: `arn:aws:sts::${B}:assumed-role/reader/job-1` }), ctx: ctx(session(B, 'reader', 'job-2'), 's3:GetObject', OBJ), expected: NONE },
  { name: 'service principal', policy: allowBucket({ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject'), ctx: ctx(service('logging.s3.amazonaws.com'), 's3:PutObject', OBJ), expected: DIRECT },
  { name: 'service principal does not name a user', policy: allowBucket({ Service: 'logging.s3.amazonaws.com' }, 's3:PutObject'), ctx: ctx(alice, 's3:PutObject', OBJ), expected: NONE },
  { name: 'user ARN does not name a service', policy: allowBucket({ AWS: `arn:aws:iam::${A}:user/alice` }), ctx: ctx(service('s3.amazonaws.com'), 's3:GetObject', OBJ), expected: NONE },
  {
    name: 'canonical user id',
    policy: allowBucket({ CanonicalUser: 'ab'.repeat(32) }),
    ctx: ctx({ ...bob, canonicalUserId: 'AB'.repeat(32) }, 's3:GetObject', OBJ),
    expected: DIRECT,
  },
  {
    name: 'a direct statement and a delegation both count',
    policy: doc('resource', [
      { Effect: 'Allow', Principal: { AWS: B }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:user/bob` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
    ]),
    ctx: ctx(bob, 's3:GetObject', OBJ),
    expected: { allowDirect: true, allowAccount: true, deny: false },
  },

  // NotPrincipal
  {
    name: 'NotPrincipal: everyone else is denied',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(bob, 's3:GetObject', OBJ),
    expected: DENY,
  },
  {
    name: 'NotPrincipal: the named user is excluded',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(alice, 's3:GetObject', OBJ),
    expected: NONE,
  },
  {
    name: 'NotPrincipal: anonymous is not excluded',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(anonymous, 's3:GetObject', OBJ),
    expected: DENY,
  },
  {
    name: 'NotPrincipal: a session is excluded by its role ARN',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${A}:role/admin`, `arn:aws:iam::${A}:root`] }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(session(A, 'admin', 'x'), 's3:DeleteObject', OBJ),
    expected: NONE,
  },
  {
    name: 'NotPrincipal: a session is excluded by its session ARN',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: `arn:aws:sts::${A}:assumed-role/admin/x` }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(session(A, 'admin', 'x'), 's3:DeleteObject', OBJ),
    expected: NONE,
  },
  {
    name: 'NotPrincipal: naming only the account does not exclude its users',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: A }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(alice, 's3:GetObject', OBJ),
    expected: DENY,
  },
  {
    name: 'NotPrincipal: naming the account excludes its root',
    policy: doc('resource', [{ Effect: 'Deny', NotPrincipal: { AWS: A }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]),
    ctx: ctx(root(A), 's3:GetObject', OBJ),
    expected: NONE,
  },

  // conditions in statements
  { name: 'DenyInsecureConnections over plain HTTP', policy: denyInsecure, ctx: ctx(alice, 's3:GetObject', OBJ, { 'aws:securetransport': ['false'] }), expected: DENY },
  { name: 'DenyInsecureConnections over TLS', policy: denyInsecure, ctx: ctx(alice, 's3:GetObject', OBJ, { 'aws:securetransport': ['true'] }), expected: NONE },
  { name: 'DenyInsecureConnections covers the bucket ARN too', policy: denyInsecure, ctx: ctx(anonymous, 's3:ListBucket', BUCKET, { 'aws:securetransport': ['false'] }), expected: DENY },
  {
    name: 'CloudTrail write with bucket-owner-full-control',
    policy: cloudTrail,
    ctx: ctx(service('cloudtrail.amazonaws.com'), 's3:PutObject', `arn:aws:s3:::b/AWSLogs/${A}/CloudTrail/x.json.gz`, { 's3:x-amz-acl': ['bucket-owner-full-control'] }),
    expected: DIRECT,
  },
  {
    name: 'CloudTrail write without the ACL header',
    policy: cloudTrail,
    ctx: ctx(service('cloudtrail.amazonaws.com'), 's3:PutObject', `arn:aws:s3:::b/AWSLogs/${A}/CloudTrail/x.json.gz`),
    expected: NONE,
  },
  {
    name: 'CloudTrail write under another account prefix',
    policy: cloudTrail,
    ctx: ctx(service('cloudtrail.amazonaws.com'), 's3:PutObject', `arn:aws:s3:::b/AWSLogs/${B}/x`, { 's3:x-amz-acl': ['bucket-owner-full-control'] }),
    expected: NONE,
  },
  { name: 'CloudTrail ACL check', policy: cloudTrail, ctx: ctx(service('cloudtrail.amazonaws.com'), 's3:GetBucketAcl', BUCKET), expected: DIRECT },

  // policy variables in resources
  { name: '${aws:username} in Resource: own home', policy: homeDirs, ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/home/alice/notes.txt'), expected: DIRECT },
  { name: "${aws:username} in Resource: someone else's home", policy: homeDirs, ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/home/bob/notes.txt'), expected: NONE },
  { name: '${aws:username} is unresolvable for a role session', policy: homeDirs, ctx: ctx(session(A, 'r', 'alice'), 's3:GetObject', 'arn:aws:s3:::b/home/alice/x'), expected: NONE },
  {
    name: 'variables are literal text in 2008-10-17 documents',
    policy: doc('identity', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/home/${aws:username}/*' }], '2008-10-17'),
    ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/home/alice/x'),
    expected: NONE,
  },
  {
    name: 'a variable from the request context',
    policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/${aws:PrincipalTag/team}/*'),
    ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/blue/x', { 'aws:principaltag/team': ['blue'] }),
    expected: DIRECT,
  },
  {
    name: 'a variable value never acts as a wildcard',
    policy: allowIdentity('s3:GetObject', 'arn:aws:s3:::b/${aws:PrincipalTag/team}/x'),
    ctx: ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/blue/x', { 'aws:principaltag/team': ['*'] }),
    expected: NONE,
  },

  // trust policies have no Resource
  {
    name: 'trust policy: S3 service may assume',
    policy: doc('trust', [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    ctx: ctx(service('s3.amazonaws.com'), 'sts:AssumeRole', `arn:aws:iam::${A}:role/replication`),
    expected: DIRECT,
  },
  {
    name: 'trust policy: another service may not',
    policy: doc('trust', [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }]),
    ctx: ctx(service('batchoperations.s3.amazonaws.com'), 'sts:AssumeRole', `arn:aws:iam::${A}:role/replication`),
    expected: NONE,
  },
];

describe('evaluatePolicy', () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(evaluatePolicy(c.policy, c.ctx), c.expected));
  }

  it('gives the same verdicts when a document is evaluated again (compiled form reused)', () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(evaluatePolicy(homeDirs, ctx(alice, 's3:GetObject', 'arn:aws:s3:::b/home/alice/x')), DIRECT);
      assert.deepEqual(evaluatePolicy(homeDirs, ctx(bob, 's3:GetObject', 'arn:aws:s3:::b/home/alice/x')), NONE);
      assert.deepEqual(evaluatePolicy(homeDirs, ctx(bob, 's3:GetObject', 'arn:aws:s3:::b/home/bob/x')), DIRECT);
    }
  });
});
