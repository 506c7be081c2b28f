/**
 * The IAM and STS query APIs driven through their dispatch functions with a real identity store
 * and the real authorizer: everything the http layer does except signing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { IdentityStore } from '../../src/iam/identity-store.js';
import { dispatchIam } from '../../src/api/iam/router.js';
import { dispatchSts } from '../../src/api/sts/router.js';
import { makeAuthorizer } from '../../src/http/authorizer.js';
import type { App } from '../../src/app.js';
import type { ServiceCall, ServiceDispatch, ServiceResponse } from '../../src/api/service/call.js';

const ACCT = '111122223333';
const OTHER = '444455556666';

let dir: string;
let store: IdentityStore;
let now = Date.parse('2025-06-01T00:00:00Z');

interface Creds {
  accessKeyId: string;
  secretAccessKey?: string;
}

async function send(dispatch: ServiceDispatch, creds: Creds, action: string, params: Record<string, string | number> = {}): Promise<ServiceResponse> {
  const found = store.lookup(creds.accessKeyId);
  assert.ok(found, `unknown key ${creds.accessKeyId}`);
  const principal = found.principal;
  const body = new URLSearchParams({ Action: action, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const app = { iam: store } as unknown as App;
  const call: ServiceCall = {
    app,
    req: { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } } as unknown as IncomingMessage,
    method: 'POST',
    service: dispatch === dispatchIam ? 'iam' : 'sts',
    region: 'us-east-1',
    body: Buffer.from(body.toString()),
    query: new URLSearchParams(),
    principal,
    accessKeyId: creds.accessKeyId,
    requestId: 'rid',
    now,
    conditions: {},
    authorize: makeAuthorizer(app, principal, {}),
  };
  return dispatch(call);
}

const iam = (c: Creds, action: string, p?: Record<string, string | number>) => send(dispatchIam, c, action, p);
const sts = (c: Creds, action: string, p?: Record<string, string | number>) => send(dispatchSts, c, action, p);

function value(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m?.[1];
}

function values(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!);
}

function ok(r: ServiceResponse): string {
  assert.equal(r.status, 200, r.body);
  return r.body;
}

function fails(r: ServiceResponse, status: number, code: string, message?: string | RegExp): void {
  assert.equal(r.status, status, r.body);
  assert.equal(value(r.body, 'Code'), code);
  const m = value(r.body, 'Message')!.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  if (typeof message === 'string') assert.equal(m, message);
  else if (message) assert.match(m, message);
}

const ROOT: Creds = { accessKeyId: 'root-key' };
const OTHER_ROOT: Creds = { accessKeyId: 'other-root' };

const trustAccount = (account: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }] });

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-iam-api-'));
  store = IdentityStore.open(
    dir,
    [
      { accessKeyId: 'root-key', secretAccessKey: 's', accountId: ACCT },
      { accessKeyId: 'other-root', secretAccessKey: 's', accountId: OTHER },
    ],
    () => now,
  );
});

after(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('IAM API: roles', () => {
  const trust = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]\n}';

  it('creates a role and returns its trust policy URL-encoded, as written', async () => {
    const created = ok(await iam(ROOT, 'CreateRole', { RoleName: 'Repl', Path: '/svc/', AssumeRolePolicyDocument: trust, Description: 'replication' }));
    assert.equal(value(created, 'Arn'), `arn:aws:iam::${ACCT}:role/svc/Repl`);
    assert.match(value(created, 'RoleId')!, /^AROA/);
    const got = ok(await iam(ROOT, 'GetRole', { RoleName: 'repl' }));
    assert.equal(decodeURIComponent(value(got, 'AssumeRolePolicyDocument')!), trust);
    assert.equal(value(got, 'MaxSessionDuration'), '3600');
    assert.equal(value(got, 'Description'), 'replication');
    assert.match(got, /^<GetRoleResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><GetRoleResult><Role>/);
  });

  it("answers AWS's errors: exists, malformed, validation, missing, unknown action", async () => {
    fails(await iam(ROOT, 'CreateRole', { RoleName: 'REPL', AssumeRolePolicyDocument: trust }), 409, 'EntityAlreadyExists', 'Role with name REPL already exists.');
    fails(await iam(ROOT, 'CreateRole', { RoleName: 'X', AssumeRolePolicyDocument: '{"Version":"2012-10-17"}' }), 400, 'MalformedPolicyDocument');
    fails(await iam(ROOT, 'CreateRole', { RoleName: 'a/b', AssumeRolePolicyDocument: trust }), 400, 'ValidationError',
      "1 validation error detected: Value 'a/b' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
    fails(await iam(ROOT, 'CreateRole', { RoleName: 'X' }), 400, 'ValidationError',
      "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null");
    fails(await iam(ROOT, 'GetRole', { RoleName: 'Nope' }), 404, 'NoSuchEntity', 'The role with name Nope cannot be found.');
    fails(await iam(ROOT, 'Frobnicate'), 400, 'InvalidAction', 'Could not find operation Frobnicate for version 2010-05-08');
    fails(await iam(ROOT, 'CreateRole', { RoleName: 'B', AssumeRolePolicyDocument: trust, PermissionsBoundary: 'arn:aws:iam::aws:policy/AdministratorAccess' }), 400, 'InvalidInput');
  });

  it('keeps inline and attached role policies, and refuses to delete a role that has them', async () => {
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    ok(await iam(ROOT, 'PutRolePolicy', { RoleName: 'Repl', PolicyName: 'read', PolicyDocument: doc }));
    assert.equal(decodeURIComponent(value(ok(await iam(ROOT, 'GetRolePolicy', { RoleName: 'Repl', PolicyName: 'read' })), 'PolicyDocument')!), doc);
    assert.deepEqual(values(ok(await iam(ROOT, 'ListRolePolicies', { RoleName: 'Repl' })), 'member'), ['read']);
    fails(await iam(ROOT, 'PutRolePolicy', { RoleName: 'Repl', PolicyName: 'p', PolicyDocument: '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}' }),
      400, 'MalformedPolicyDocument', 'Policy document should not specify a principal.');
    fails(await iam(ROOT, 'DeleteRole', { RoleName: 'Repl' }), 409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    ok(await iam(ROOT, 'DeleteRolePolicy', { RoleName: 'Repl', PolicyName: 'read' }));
    ok(await iam(ROOT, 'AttachRolePolicy', { RoleName: 'Repl', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    fails(await iam(ROOT, 'AttachRolePolicy', { RoleName: 'Repl', PolicyArn: 'arn:aws:iam::aws:policy/NoSuch' }), 404, 'NoSuchEntity',
      'Policy arn:aws:iam::aws:policy/NoSuch does not exist or is not attachable.');
    fails(await iam(ROOT, 'AttachRolePolicy', { RoleName: 'Repl', PolicyArn: 'not-an-arn-at-all-really' }), 400, 'InvalidInput', 'ARN not-an-arn-at-all-really is not valid.');
    assert.deepEqual(values(ok(await iam(ROOT, 'ListAttachedRolePolicies', { RoleName: 'Repl' })), 'PolicyName'), ['AmazonS3ReadOnlyAccess']);
    fails(await iam(ROOT, 'DeleteRole', { RoleName: 'Repl' }), 409, 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    ok(await iam(ROOT, 'DetachRolePolicy', { RoleName: 'Repl', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    ok(await iam(ROOT, 'DeleteRole', { RoleName: 'Repl' }));
  });

  it('keeps each account to its own entities', async () => {
    ok(await iam(ROOT, 'CreateRole', { RoleName: 'Mine', AssumeRolePolicyDocument: trust }));
    fails(await iam(OTHER_ROOT, 'GetRole', { RoleName: 'Mine' }), 404, 'NoSuchEntity');
    assert.deepEqual(values(ok(await iam(OTHER_ROOT, 'ListRoles')), 'RoleName'), []);
  });
});

describe('IAM API: users, keys, authorization', () => {
  let alice: Creds;

  it('creates a user and an access key the user can sign with', async () => {
    const u = ok(await iam(ROOT, 'CreateUser', { UserName: 'alice', 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'data' }));
    assert.equal(value(u, 'Arn'), `arn:aws:iam::${ACCT}:user/alice`);
    const k = ok(await iam(ROOT, 'CreateAccessKey', { UserName: 'alice' }));
    alice = { accessKeyId: value(k, 'AccessKeyId')!, secretAccessKey: value(k, 'SecretAccessKey')! };
    assert.match(alice.accessKeyId, /^AKIA/);
    assert.equal(value(k, 'Status'), 'Active');
    const me = ok(await sts(alice, 'GetCallerIdentity'));
    assert.equal(value(me, 'Arn'), `arn:aws:iam::${ACCT}:user/alice`);
    assert.equal(value(me, 'Account'), ACCT);
    assert.match(value(me, 'UserId')!, /^AIDA/);
  });

  it('denies a user what no policy allows, with the reason, and allows it once a policy does', async () => {
    fails(await iam(alice, 'ListUsers'), 403, 'AccessDenied',
      `User: arn:aws:iam::${ACCT}:user/alice is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${ACCT}:user/ because no identity-based policy allows the iam:ListUsers action`);
    const allow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:ListUsers', 'iam:GetUser'], Resource: '*' }] });
    ok(await iam(ROOT, 'PutUserPolicy', { UserName: 'alice', PolicyName: 'list', PolicyDocument: allow }));
    assert.deepEqual(values(ok(await iam(alice, 'ListUsers')), 'UserName'), ['alice']);
    // GetUser without a name is the caller.
    assert.equal(value(ok(await iam(alice, 'GetUser')), 'UserName'), 'alice');
    const root = ok(await iam(ROOT, 'GetUser'));
    assert.equal(value(root, 'Arn'), `arn:aws:iam::${ACCT}:root`);
    assert.equal(value(root, 'UserId'), ACCT);
  });

  it('pages ListUsers with Marker and MaxItems', async () => {
    for (const n of ['bob', 'Carol', 'dave']) ok(await iam(ROOT, 'CreateUser', { UserName: n }));
    ok(await iam(ROOT, 'CreateAccessKey', { UserName: 'bob' }));
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const body = ok(await iam(ROOT, 'ListUsers', marker ? { MaxItems: 2, Marker: marker } : { MaxItems: 2 }));
      names.push(...values(body, 'UserName'));
      marker = value(body, 'IsTruncated') === 'true' ? value(body, 'Marker') : undefined;
    } while (marker);
    assert.deepEqual(names, ['alice', 'bob', 'Carol', 'dave']);
  });

  it('deactivates, lists and deletes access keys; a user with keys cannot be deleted', async () => {
    // Policies are reported before keys when both are in the way.
    fails(await iam(ROOT, 'DeleteUser', { UserName: 'alice' }), 409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    fails(await iam(ROOT, 'DeleteUser', { UserName: 'bob' }), 409, 'DeleteConflict', 'Cannot delete entity, must delete access keys first.');
    const listed = ok(await iam(ROOT, 'ListAccessKeys', { UserName: 'alice' }));
    assert.deepEqual(values(listed, 'AccessKeyId'), [alice.accessKeyId]);
    assert.doesNotMatch(listed, /SecretAccessKey/);
    ok(await iam(ROOT, 'UpdateAccessKey', { UserName: 'alice', AccessKeyId: alice.accessKeyId, Status: 'Inactive' }));
    assert.equal(store.lookup(alice.accessKeyId), undefined);
    ok(await iam(ROOT, 'UpdateAccessKey', { UserName: 'alice', AccessKeyId: alice.accessKeyId, Status: 'Active' }));
    // The root's own keys are the configured ones.
    assert.deepEqual(values(ok(await iam(ROOT, 'ListAccessKeys')), 'AccessKeyId'), ['root-key']);
  });

  it('lets a user manage its own keys without naming itself', async () => {
    const allow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: 'arn:aws:iam::' + ACCT + ':user/${aws:username}' }] });
    ok(await iam(ROOT, 'PutUserPolicy', { UserName: 'alice', PolicyName: 'keys', PolicyDocument: allow }));
    assert.deepEqual(values(ok(await iam(alice, 'ListAccessKeys')), 'UserName'), ['alice']);
    fails(await iam(alice, 'ListAccessKeys', { UserName: 'bob' }), 403, 'AccessDenied');
  });
});

describe('STS API', () => {
  let bob: Creds;
  const roleArn = `arn:aws:iam::${ACCT}:role/Deploy`;

  before(async () => {
    ok(await iam(ROOT, 'CreateRole', { RoleName: 'Deploy', AssumeRolePolicyDocument: trustAccount(ACCT), MaxSessionDuration: 7200 }));
    const s3 = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
    ok(await iam(ROOT, 'PutRolePolicy', { RoleName: 'Deploy', PolicyName: 's3', PolicyDocument: s3 }));
    const k = ok(await iam(ROOT, 'CreateAccessKey', { UserName: 'bob' }));
    bob = { accessKeyId: value(k, 'AccessKeyId')! };
  });

  it('refuses the account root, as AWS does', async () => {
    fails(await sts(ROOT, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'x1' }), 403, 'AccessDenied', 'Roles may not be assumed by root accounts.');
  });

  it("needs the caller's identity policy when the trust policy names only the account", async () => {
    fails(await sts(bob, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'x1' }), 403, 'AccessDenied',
      `User: arn:aws:iam::${ACCT}:user/bob is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    // A role that does not exist looks the same.
    fails(await sts(bob, 'AssumeRole', { RoleArn: `arn:aws:iam::${ACCT}:role/Ghost`, RoleSessionName: 'x1' }), 403, 'AccessDenied');
    const allow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }] });
    ok(await iam(ROOT, 'PutUserPolicy', { UserName: 'bob', PolicyName: 'assume', PolicyDocument: allow }));
  });

  it('issues session credentials that act as the role', async () => {
    const r = ok(await sts(bob, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'deploy-1', DurationSeconds: 7200 }));
    const session: Creds = { accessKeyId: value(r, 'AccessKeyId')! };
    assert.match(session.accessKeyId, /^ASIA/);
    assert.equal(value(r, 'Expiration'), '2025-06-01T02:00:00Z');
    assert.equal(value(r, 'Arn'), `arn:aws:sts::${ACCT}:assumed-role/Deploy/deploy-1`);
    const roleId = store.getRole(roleArn)!.roleId;
    assert.equal(value(r, 'AssumedRoleId'), `${roleId}:deploy-1`);
    const found = store.lookup(session.accessKeyId)!;
    assert.equal(found.identity.sessionToken, value(r, 'SessionToken'));
    const me = ok(await sts(session, 'GetCallerIdentity'));
    assert.equal(value(me, 'Arn'), `arn:aws:sts::${ACCT}:assumed-role/Deploy/deploy-1`);
    assert.equal(value(me, 'UserId'), `${roleId}:deploy-1`);

    // The role may not assume itself (its trust policy delegates to identity policies, and it has
    // none for sts:AssumeRole); a chained session is limited to an hour anyway.
    fails(await sts(session, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'again' }), 403, 'AccessDenied');
    const chainable = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:*', 'sts:AssumeRole'], Resource: '*' }] });
    ok(await iam(ROOT, 'PutRolePolicy', { RoleName: 'Deploy', PolicyName: 's3', PolicyDocument: chainable }));
    fails(await sts(session, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'again', DurationSeconds: 3601 }), 400, 'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    ok(await sts(session, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'again' }));
    // Role sessions may call IAM, within the role's permissions.
    fails(await iam(session, 'ListRoles'), 403, 'AccessDenied');
  });

  it('enforces DurationSeconds limits, session names and the external id', async () => {
    fails(await sts(bob, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'x1', DurationSeconds: 7201 }), 400, 'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    fails(await sts(bob, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'a b' }), 400, 'ValidationError',
      "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    const withExternal = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/bob` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'secret-42' } } }],
    });
    ok(await iam(ROOT, 'CreateRole', { RoleName: 'Partner', AssumeRolePolicyDocument: withExternal }));
    const partner = `arn:aws:iam::${ACCT}:role/Partner`;
    fails(await sts(bob, 'AssumeRole', { RoleArn: partner, RoleSessionName: 'p1' }), 403, 'AccessDenied');
    fails(await sts(bob, 'AssumeRole', { RoleArn: partner, RoleSessionName: 'p1', ExternalId: 'wrong-1' }), 403, 'AccessDenied');
    ok(await sts(bob, 'AssumeRole', { RoleArn: partner, RoleSessionName: 'p1', ExternalId: 'secret-42' }));
    fails(await sts(bob, 'AssumeRole', { RoleArn: partner, RoleSessionName: 'p1', ExternalId: 'secret-42', Policy: '{}' }), 400, 'ValidationError');
  });

  it('lets another account assume a role only when both sides allow it', async () => {
    ok(await iam(OTHER_ROOT, 'CreateUser', { UserName: 'eve' }));
    const eve: Creds = { accessKeyId: value(ok(await iam(OTHER_ROOT, 'CreateAccessKey', { UserName: 'eve' })), 'AccessKeyId')! };
    const allowAll = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] });
    ok(await iam(OTHER_ROOT, 'PutUserPolicy', { UserName: 'eve', PolicyName: 'assume', PolicyDocument: allowAll }));
    fails(await sts(eve, 'AssumeRole', { RoleArn: roleArn, RoleSessionName: 'x1' }), 403, 'AccessDenied');
    ok(await iam(ROOT, 'CreateRole', { RoleName: 'ForOther', AssumeRolePolicyDocument: trustAccount(OTHER) }));
    const r = ok(await sts(eve, 'AssumeRole', { RoleArn: `arn:aws:iam::${ACCT}:role/ForOther`, RoleSessionName: 'x1' }));
    assert.equal(value(r, 'Arn'), `arn:aws:sts::${ACCT}:assumed-role/ForOther/x1`);
  });

  it('issues GetSessionToken credentials that act as the user but cannot call IAM', async () => {
    const r = ok(await sts(bob, 'GetSessionToken', { DurationSeconds: 900 }));
    const temp: Creds = { accessKeyId: value(r, 'AccessKeyId')! };
    assert.equal(value(r, 'Expiration'), '2025-06-01T00:15:00Z');
    assert.equal(value(ok(await sts(temp, 'GetCallerIdentity')), 'Arn'), `arn:aws:iam::${ACCT}:user/bob`);
    fails(await iam(temp, 'GetUser'), 403, 'InvalidClientTokenId');
    fails(await sts(temp, 'GetSessionToken'), 403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
    // The root's session lasts an hour at most.
    const rootTemp = ok(await sts(ROOT, 'GetSessionToken', { DurationSeconds: 7200 }));
    assert.equal(value(rootTemp, 'Expiration'), '2025-06-01T01:00:00Z');
  });

  it('tells the account of an access key', async () => {
    assert.equal(value(ok(await sts(ROOT, 'GetAccessKeyInfo', { AccessKeyId: bob.accessKeyId })), 'Account'), ACCT);
    assert.equal(value(ok(await sts(ROOT, 'GetAccessKeyInfo', { AccessKeyId: 'ASIAY34FZKBOKMUTVV7A' })), 'Account'), '609629065308');
  });
});
