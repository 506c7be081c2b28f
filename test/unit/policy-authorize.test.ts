import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authorize } from '../../src/policy/authorize.js';
import { parsePolicyDocument } from '../../src/policy/parse.js';
import type { AuthorizationMode, ConditionValues, Decision, PolicyDocument, PolicyKind, Principal } from '../../src/policy/types.js';
import { anonymous, root, service, session, user } from '../helpers/principals.js';

const A = '111111111111'; // owns the resources
const B = '222222222222'; // another account

const doc = (kind: PolicyKind, statements: unknown[]): PolicyDocument =>
  parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), kind);

const OBJ = 'arn:aws:s3:::b/k';
const KEY = `arn:aws:kms:us-east-1:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${A}:role/replication`;

// identity policies
const s3All = doc('identity', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
const s3Get = doc('identity', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);
const denyDelete = doc('identity', [{ Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }]);
const kmsUse = doc('identity', [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' }]);
const assumeAny = doc('identity', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]);

// bucket policies
const bucketToAccountB = doc('resource', [{ Effect: 'Allow', Principal: { AWS: B }, Action: ['s3:GetObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::b/*' }]);
const bucketToAccountA = doc('resource', [{ Effect: 'Allow', Principal: { AWS: A }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);
const bucketToBob = doc('resource', [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:user/bob` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);
const bucketToCarol = doc('resource', [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/carol` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);
const bucketPublicRead = doc('resource', [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }]);
const bucketDenyAll = doc('resource', [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' }]);
const bucketDenyInsecure = doc('resource', [
  { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
  { Sid: 'DenyInsecureConnections', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
]);
const bucketLogDelivery = doc('resource', [
  { Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
]);
const bucketPublicAndB = doc('resource', [
  { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/public/*' },
  { Effect: 'Allow', Principal: { AWS: B }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
  { Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
]);

// key policies
const keyPolicy = doc('key', [
  { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' },
  { Sid: 'Allow S3', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: '*' },
  { Sid: 'Allow key user', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/keyuser` }, Action: 'kms:Decrypt', Resource: '*' },
  { Sid: 'Allow account B', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: 'kms:Decrypt', Resource: '*' },
]);
const keyPolicyNoRoot = doc('key', [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/keyuser` }, Action: 'kms:*', Resource: '*' }]);

// trust policies
const trustS3 = doc('trust', [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
const trustAccountA = doc('trust', [{ Effect: 'Allow', Principal: { AWS: A }, Action: 'sts:AssumeRole' }]);
const trustAlice = doc('trust', [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/alice` }, Action: 'sts:AssumeRole' }]);
const trustAccountB = doc('trust', [{ Effect: 'Allow', Principal: { AWS: B }, Action: 'sts:AssumeRole' }]);

interface Case {
  name: string;
  principal: Principal;
  action: string;
  resource?: string;
  identity?: PolicyDocument[];
  policy?: PolicyDocument;
  mode?: AuthorizationMode;
  conditions?: ConditionValues;
  restrictPublicBuckets?: boolean;
  expected: Decision['reason'];
}

const cases: Case[] = [
  // ---- s3, same account ----
  { name: 's3 same account: identity allow alone', principal: user(A, 'alice'), action: 's3:GetObject', identity: [s3Get], expected: 'allowed' },
  { name: 's3 same account: nothing allows', principal: user(A, 'alice'), action: 's3:GetObject', expected: 'implicit-deny' },
  { name: 's3 same account: identity allows a different action', principal: user(A, 'alice'), action: 's3:PutObject', identity: [s3Get], expected: 'implicit-deny' },
  { name: 's3 same account: bucket policy naming the user alone', principal: user(A, 'carol'), action: 's3:GetObject', policy: bucketToCarol, expected: 'allowed' },
  { name: 's3 same account: bucket policy naming the account needs an identity allow', principal: user(A, 'alice'), action: 's3:GetObject', policy: bucketToAccountA, expected: 'implicit-deny' },
  { name: 's3 same account: account delegation plus identity allow', principal: user(A, 'alice'), action: 's3:GetObject', identity: [s3Get], policy: bucketToAccountA, expected: 'allowed' },
  { name: 's3 same account: root needs no policy', principal: root(A), action: 's3:DeleteObject', expected: 'allowed' },
  { name: 's3 same account: bucket Deny binds the root', principal: root(A), action: 's3:DeleteObject', policy: bucketDenyAll, expected: 'explicit-deny' },
  { name: 's3 same account: identity Deny beats identity Allow', principal: user(A, 'alice'), action: 's3:DeleteObject', identity: [s3All, denyDelete], expected: 'explicit-deny' },
  { name: 's3 same account: identity Deny beats bucket Allow', principal: user(A, 'carol'), action: 's3:GetObject', identity: [doc('identity', [{ Effect: 'Deny', Action: 's3:*', Resource: '*' }])], policy: bucketToCarol, expected: 'explicit-deny' },
  { name: 's3 same account: bucket Deny beats identity Allow', principal: user(A, 'alice'), action: 's3:DeleteObject', identity: [s3All], policy: bucketDenyAll, expected: 'explicit-deny' },
  { name: 's3 same account: role session with identity allow', principal: session(A, 'app', 's1'), action: 's3:GetObject', identity: [s3Get], expected: 'allowed' },
  { name: 's3: DenyInsecureConnections denies plain HTTP', principal: user(A, 'alice'), action: 's3:GetObject', identity: [s3All], policy: bucketDenyInsecure, conditions: { 'aws:securetransport': ['false'] }, expected: 'explicit-deny' },
  { name: 's3: DenyInsecureConnections lets TLS through', principal: user(A, 'alice'), action: 's3:GetObject', identity: [s3All], policy: bucketDenyInsecure, conditions: { 'aws:securetransport': ['true'] }, expected: 'allowed' },

  // ---- s3, cross account ----
  { name: 's3 cross account: bucket names the account, caller has identity allow', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3All], policy: bucketToAccountB, expected: 'allowed' },
  { name: 's3 cross account: bucket names the account, no identity allow', principal: user(B, 'bob'), action: 's3:GetObject', policy: bucketToAccountB, expected: 'implicit-deny' },
  { name: 's3 cross account: bucket names the user, no identity allow', principal: user(B, 'bob'), action: 's3:GetObject', policy: bucketToBob, expected: 'implicit-deny' },
  { name: 's3 cross account: bucket names the user, identity allow', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3Get], policy: bucketToBob, expected: 'allowed' },
  { name: 's3 cross account: identity allow, no bucket policy', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3All], expected: 'implicit-deny' },
  { name: 's3 cross account: identity allow, bucket policy for someone else', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3All], policy: bucketToCarol, expected: 'implicit-deny' },
  { name: 's3 cross account: identity Deny wins over both allows', principal: user(B, 'bob'), action: 's3:DeleteObject', identity: [s3All, denyDelete], policy: bucketToAccountB, expected: 'explicit-deny' },
  { name: 's3 cross account: other root, bucket names its account', principal: root(B), action: 's3:GetObject', policy: bucketToAccountB, expected: 'allowed' },
  { name: 's3 cross account: other root, no bucket grant', principal: root(B), action: 's3:GetObject', expected: 'implicit-deny' },
  { name: 's3 cross account: session of a role in B', principal: session(B, 'reader', 'x'), action: 's3:GetObject', identity: [s3Get], policy: bucketToAccountB, expected: 'allowed' },
  { name: 's3 cross account: public bucket still needs the caller\'s identity allow', principal: user(B, 'bob'), action: 's3:GetObject', policy: bucketPublicRead, expected: 'implicit-deny' },
  { name: 's3 cross account: public bucket plus identity allow', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3Get], policy: bucketPublicRead, expected: 'allowed' },

  // ---- s3, anonymous and services ----
  { name: 'anonymous: public read', principal: anonymous, action: 's3:GetObject', policy: bucketPublicRead, expected: 'allowed' },
  { name: 'anonymous: public read does not cover writes', principal: anonymous, action: 's3:PutObject', policy: bucketPublicRead, expected: 'implicit-deny' },
  { name: 'anonymous: no bucket policy', principal: anonymous, action: 's3:GetObject', expected: 'implicit-deny' },
  { name: 'anonymous: account delegation does not name anonymous', principal: anonymous, action: 's3:GetObject', policy: bucketToAccountA, expected: 'implicit-deny' },
  { name: 'anonymous: Deny wins', principal: anonymous, action: 's3:GetObject', policy: bucketDenyInsecure, conditions: { 'aws:securetransport': ['false'] }, expected: 'explicit-deny' },
  { name: 'service: log delivery allowed by the bucket policy', principal: service('logging.s3.amazonaws.com'), action: 's3:PutObject', policy: bucketLogDelivery, expected: 'allowed' },
  { name: 'service: not named', principal: service('cloudtrail.amazonaws.com'), action: 's3:PutObject', policy: bucketLogDelivery, expected: 'implicit-deny' },

  // ---- s3, RestrictPublicBuckets ----
  { name: 'restrict public: anonymous loses public read', principal: anonymous, action: 's3:GetObject', resource: 'arn:aws:s3:::b/public/x', policy: bucketPublicAndB, restrictPublicBuckets: true, expected: 'implicit-deny' },
  { name: 'restrict public: off keeps public read', principal: anonymous, action: 's3:GetObject', resource: 'arn:aws:s3:::b/public/x', policy: bucketPublicAndB, expected: 'allowed' },
  { name: 'restrict public: cross-account delegation is blocked too', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3All], policy: bucketPublicAndB, restrictPublicBuckets: true, expected: 'implicit-deny' },
  { name: 'restrict public: services keep access', principal: service('logging.s3.amazonaws.com'), action: 's3:PutObject', policy: bucketPublicAndB, restrictPublicBuckets: true, expected: 'allowed' },
  { name: 'restrict public: owner-account users keep access', principal: user(A, 'alice'), action: 's3:GetObject', resource: 'arn:aws:s3:::b/public/x', policy: bucketPublicAndB, restrictPublicBuckets: true, expected: 'allowed' },
  { name: 'restrict public: non-public policy is unaffected', principal: user(B, 'bob'), action: 's3:GetObject', identity: [s3All], policy: bucketToAccountB, restrictPublicBuckets: true, expected: 'allowed' },

  // ---- kms ----
  { name: 'kms same account: root via Enable IAM User Permissions', principal: root(A), action: 'kms:ScheduleKeyDeletion', resource: KEY, policy: keyPolicy, mode: 'kms', expected: 'allowed' },
  { name: 'kms same account: user with identity allow via root delegation', principal: user(A, 'alice'), action: 'kms:Decrypt', resource: KEY, identity: [kmsUse], policy: keyPolicy, mode: 'kms', expected: 'allowed' },
  { name: 'kms same account: user without identity allow', principal: user(A, 'alice'), action: 'kms:Decrypt', resource: KEY, policy: keyPolicy, mode: 'kms', expected: 'implicit-deny' },
  { name: 'kms same account: user named by the key policy needs no identity allow', principal: user(A, 'keyuser'), action: 'kms:Decrypt', resource: KEY, policy: keyPolicy, mode: 'kms', expected: 'allowed' },
  { name: 'kms same account: identity allow alone never suffices', principal: user(A, 'alice'), action: 'kms:Decrypt', resource: KEY, identity: [kmsUse], policy: keyPolicyNoRoot, mode: 'kms', expected: 'implicit-deny' },
  { name: 'kms same account: a key policy without the root locks the root out', principal: root(A), action: 'kms:Decrypt', resource: KEY, policy: keyPolicyNoRoot, mode: 'kms', expected: 'implicit-deny' },
  { name: 'kms: no key policy', principal: user(A, 'alice'), action: 'kms:Decrypt', resource: KEY, identity: [kmsUse], mode: 'kms', expected: 'implicit-deny' },
  { name: 'kms: service principal statement', principal: service('s3.amazonaws.com'), action: 'kms:GenerateDataKey', resource: KEY, policy: keyPolicy, mode: 'kms', expected: 'allowed' },
  { name: 'kms: service principal, action not granted', principal: service('s3.amazonaws.com'), action: 'kms:ScheduleKeyDeletion', resource: KEY, policy: keyPolicy, mode: 'kms', expected: 'implicit-deny' },
  { name: 'kms cross account: granted account plus identity allow', principal: user(B, 'bob'), action: 'kms:Decrypt', resource: KEY, identity: [kmsUse], policy: keyPolicy, mode: 'kms', expected: 'allowed' },
  { name: 'kms cross account: granted account, no identity allow', principal: user(B, 'bob'), action: 'kms:Decrypt', resource: KEY, policy: keyPolicy, mode: 'kms', expected: 'implicit-deny' },
  { name: 'kms cross account: action not granted to the account', principal: user(B, 'bob'), action: 'kms:GenerateDataKey', resource: KEY, identity: [kmsUse], policy: keyPolicy, mode: 'kms', expected: 'implicit-deny' },

  // ---- trust ----
  { name: 'trust: S3 service assumes the replication role', principal: service('s3.amazonaws.com'), action: 'sts:AssumeRole', resource: ROLE, policy: trustS3, mode: 'trust', expected: 'allowed' },
  { name: 'trust: a user cannot assume a service-only role', principal: user(A, 'alice'), action: 'sts:AssumeRole', resource: ROLE, identity: [assumeAny], policy: trustS3, mode: 'trust', expected: 'implicit-deny' },
  { name: 'trust same account: account delegation plus identity allow', principal: user(A, 'alice'), action: 'sts:AssumeRole', resource: ROLE, identity: [assumeAny], policy: trustAccountA, mode: 'trust', expected: 'allowed' },
  { name: 'trust same account: account delegation without identity allow', principal: user(A, 'alice'), action: 'sts:AssumeRole', resource: ROLE, policy: trustAccountA, mode: 'trust', expected: 'implicit-deny' },
  { name: 'trust same account: user named directly', principal: user(A, 'alice'), action: 'sts:AssumeRole', resource: ROLE, policy: trustAlice, mode: 'trust', expected: 'allowed' },
  { name: 'trust cross account: trusted account plus identity allow', principal: user(B, 'bob'), action: 'sts:AssumeRole', resource: ROLE, identity: [assumeAny], policy: trustAccountB, mode: 'trust', expected: 'allowed' },
  { name: 'trust cross account: trusted account without identity allow', principal: user(B, 'bob'), action: 'sts:AssumeRole', resource: ROLE, policy: trustAccountB, mode: 'trust', expected: 'implicit-deny' },
  { name: 'trust cross account: untrusted account', principal: user(B, 'bob'), action: 'sts:AssumeRole', resource: ROLE, identity: [assumeAny], policy: trustAccountA, mode: 'trust', expected: 'implicit-deny' },
  { name: 'trust: no trust policy', principal: root(A), action: 'sts:AssumeRole', resource: ROLE, mode: 'trust', expected: 'implicit-deny' },
];

describe('authorize', () => {
  for (const c of cases) {
    it(c.name, () => {
      const decision = authorize({
        ctx: { principal: c.principal, action: c.action, resource: c.resource ?? OBJ, conditions: c.conditions ?? {} },
        identityPolicies: c.identity ?? [],
        ...(c.policy ? { resourcePolicy: c.policy } : {}),
        resourceAccount: A,
        mode: c.mode ?? 's3',
        ...(c.restrictPublicBuckets ? { restrictPublicBuckets: true } : {}),
      });
      assert.deepEqual(decision, { allowed: c.expected === 'allowed', reason: c.expected });
    });
  }
});

describe('operation condition keys', () => {
  const prefixOnly = doc('identity', [
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringEquals: { 's3:prefix': 'home/', 'aws:SecureTransport': 'true' } } },
  ]);
  const decide = (conditions: ConditionValues, operationConditions?: ConditionValues) =>
    authorize({
      ctx: { principal: user(A, 'alice'), action: 's3:ListBucket', resource: 'arn:aws:s3:::b', conditions, ...(operationConditions ? { operationConditions } : {}) },
      identityPolicies: [prefixOnly],
      resourceAccount: A,
      mode: 's3',
    }).allowed;

  it('are read beside the global keys, and win over a global key of the same name', () => {
    const global = { 'aws:securetransport': ['true'] };
    assert.equal(decide(global, { 's3:prefix': ['home/'] }), true);
    assert.equal(decide(global, { 's3:prefix': ['etc/'] }), false);
    assert.equal(decide(global), false, 'no s3:prefix at all');
    assert.equal(decide({ ...global, 's3:prefix': ['etc/'] }, { 's3:prefix': ['home/'] }), true);
    assert.equal(decide({ 'aws:securetransport': ['false'] }, { 's3:prefix': ['home/'] }), false);
  });
});
