import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { IdentityStore } from '../../src/iam/identity-store.js';
import { IamError } from '../../src/iam/errors.js';
import { accountOfAccessKeyId } from '../../src/iam/ids.js';
import type { CredentialConfig } from '../../src/config/config.js';

const ACCT = '111122223333';
const OTHER = '444455556666';
const ROOTS: CredentialConfig[] = [
  { accessKeyId: 'root-a', secretAccessKey: 'secret-a', accountId: ACCT },
  { accessKeyId: 'root-b', secretAccessKey: 'secret-b', accountId: OTHER },
];

const ALLOW_S3 = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
const ALLOW_GET = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
const TRUST_S3 = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

let dir: string;
let now: number;
let store: IdentityStore;
const clock = () => now;

function open(): IdentityStore {
  return IdentityStore.open(dir, ROOTS, clock);
}

function rejects(fn: () => unknown, code: string, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IamError, `expected IamError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-iam-store-'));
  now = Date.parse('2025-01-02T03:04:05.678Z');
  store = open();
});

afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('IdentityStore: accounts and root credentials', () => {
  it('serves configured root keys as the account root, and knows the accounts', () => {
    const r = store.lookup('root-a')!;
    assert.deepEqual(r.identity, { accessKeyId: 'root-a', secretAccessKey: 'secret-a', accountId: ACCT });
    assert.deepEqual(r.principal, { kind: 'root', accountId: ACCT, arn: `arn:aws:iam::${ACCT}:root`, principalArn: `arn:aws:iam::${ACCT}:root`, userId: ACCT });
    assert.equal(store.lookup('nope'), undefined);
    assert.equal(store.accountExists(ACCT), true);
    assert.equal(store.accountExists('999999999999'), false);
    assert.deepEqual(store.policiesOf(r.principal), []);
    assert.equal(store.accountCreatedAt(ACCT), now);
  });

  it('keeps the date an account was first seen across restarts', () => {
    const first = store.accountCreatedAt(ACCT);
    store.close();
    now += 86_400_000;
    store = open();
    assert.equal(store.accountCreatedAt(ACCT), first);
  });
});

describe('IdentityStore: users and access keys', () => {
  it('creates users with AWS-shaped ids and ARNs; names are unique regardless of case', () => {
    const u = store.createEntity('user', ACCT, { name: 'Alice', path: '/team/' });
    assert.match(u.id, /^AIDA[A-Z2-7]{17}$/);
    assert.equal(u.arn, `arn:aws:iam::${ACCT}:user/team/Alice`);
    assert.equal(store.getEntity('user', ACCT, 'alice')?.id, u.id);
    rejects(() => store.createEntity('user', ACCT, { name: 'ALICE', path: '/' }), 'EntityAlreadyExists', 'User with name ALICE already exists.');
    // Another account has its own namespace.
    assert.equal(store.getEntity('user', OTHER, 'Alice'), undefined);
    store.createEntity('user', OTHER, { name: 'Alice', path: '/' });
  });

  it('serves Active access keys as the user, not Inactive ones, and at most two per user', () => {
    store.createEntity('user', ACCT, { name: 'bob', path: '/' });
    const k = store.createAccessKey(ACCT, 'bob');
    assert.match(k.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(accountOfAccessKeyId(k.accessKeyId), ACCT);
    assert.match(k.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    const found = store.lookup(k.accessKeyId)!;
    assert.equal(found.identity.secretAccessKey, k.secretAccessKey);
    assert.equal(found.identity.sessionToken, undefined);
    assert.equal(found.principal.kind, 'user');
    assert.equal(found.principal.arn, `arn:aws:iam::${ACCT}:user/bob`);
    assert.equal(found.principal.username, 'bob');
    assert.match(found.principal.userId, /^AIDA/);

    store.updateAccessKey(ACCT, 'bob', k.accessKeyId, 'Inactive');
    assert.equal(store.lookup(k.accessKeyId), undefined);
    store.updateAccessKey(ACCT, 'bob', k.accessKeyId, 'Active');
    assert.ok(store.lookup(k.accessKeyId));

    store.createAccessKey(ACCT, 'bob');
    rejects(() => store.createAccessKey(ACCT, 'bob'), 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    rejects(() => store.createAccessKey(ACCT, 'nobody'), 'NoSuchEntity', 'The user with name nobody cannot be found.');
    rejects(() => store.deleteAccessKey(ACCT, 'bob', 'AKIAAAAAAAAAAAAAAAAA'), 'NoSuchEntity', 'The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.');
  });

  it('persists users, keys, roles and policies across a reopen', () => {
    store.createEntity('user', ACCT, { name: 'carol', path: '/', tags: [{ key: 'team', value: 'data' }] });
    const k = store.createAccessKey(ACCT, 'carol');
    store.putInlinePolicy('user', ACCT, 'carol', 'inline', ALLOW_GET);
    const pol = store.createPolicy(ACCT, { name: 'S3All', path: '/', document: ALLOW_S3, description: 'all of s3' });
    store.attachPolicy('user', ACCT, 'carol', pol.arn);
    const role = store.createEntity('role', ACCT, { name: 'Replicator', path: '/service/', trustPolicy: TRUST_S3, maxSessionDuration: 7200 });
    store.close();

    store = open();
    const found = store.lookup(k.accessKeyId)!;
    assert.equal(found.principal.arn, `arn:aws:iam::${ACCT}:user/carol`);
    assert.deepEqual(store.getEntity('user', ACCT, 'carol')!.tags, [{ key: 'team', value: 'data' }]);
    assert.equal(store.getInlinePolicy(found.principal.userId, 'inline'), ALLOW_GET);
    assert.deepEqual(store.attachedPolicies(found.principal.userId).map((p) => p.arn), [pol.arn]);
    assert.equal(store.getManagedPolicy(ACCT, pol.arn)?.description, 'all of s3');
    const r = store.getRole(`arn:aws:iam::${ACCT}:role/service/Replicator`)!;
    assert.equal(r.roleId, role.id);
    assert.equal(r.maxSessionDuration, 7200);
    assert.equal(r.trustPolicy.statements[0]!.principal!.Service![0], 's3.amazonaws.com');
    // The path is part of a role's ARN.
    assert.equal(store.getRole(`arn:aws:iam::${ACCT}:role/Replicator`), undefined);
  });

  it('refuses to delete a user that still has keys, policies or groups', () => {
    store.createEntity('user', ACCT, { name: 'dave', path: '/' });
    const k = store.createAccessKey(ACCT, 'dave');
    rejects(() => store.deleteEntity('user', ACCT, 'dave'), 'DeleteConflict', 'Cannot delete entity, must delete access keys first.');
    store.deleteAccessKey(ACCT, 'dave', k.accessKeyId);
    assert.equal(store.lookup(k.accessKeyId), undefined);

    store.putInlinePolicy('user', ACCT, 'dave', 'p', ALLOW_GET);
    rejects(() => store.deleteEntity('user', ACCT, 'dave'), 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    store.deleteInlinePolicy('user', ACCT, 'dave', 'p');

    store.attachPolicy('user', ACCT, 'dave', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess');
    rejects(() => store.deleteEntity('user', ACCT, 'dave'), 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    store.detachPolicy('user', ACCT, 'dave', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess');

    store.createEntity('group', ACCT, { name: 'devs', path: '/' });
    store.addUserToGroup(ACCT, 'devs', 'dave');
    rejects(() => store.deleteEntity('user', ACCT, 'dave'), 'DeleteConflict', 'Cannot delete entity, must remove user from all groups first.');
    rejects(() => store.deleteEntity('group', ACCT, 'devs'), 'DeleteConflict', 'Cannot delete entity, must remove users from group first.');
    store.removeUserFromGroup(ACCT, 'devs', 'dave');

    store.deleteEntity('user', ACCT, 'dave');
    store.deleteEntity('group', ACCT, 'devs');
    assert.equal(store.getEntity('user', ACCT, 'dave'), undefined);
    rejects(() => store.deleteEntity('user', ACCT, 'dave'), 'NoSuchEntity', 'The user with name dave cannot be found.');
  });
});

describe('IdentityStore: roles and managed policies', () => {
  it('refuses to delete a role with policies, and a policy that is attached or has versions', () => {
    store.createEntity('role', ACCT, { name: 'R', path: '/', trustPolicy: TRUST_S3 });
    store.putInlinePolicy('role', ACCT, 'R', 'inline', ALLOW_GET);
    rejects(() => store.deleteEntity('role', ACCT, 'R'), 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    store.deleteInlinePolicy('role', ACCT, 'R', 'inline');
    rejects(() => store.deleteInlinePolicy('role', ACCT, 'R', 'inline'), 'NoSuchEntity', 'The role policy with name inline cannot be found.');

    const p = store.createPolicy(ACCT, { name: 'P', path: '/app/', document: ALLOW_S3 });
    assert.equal(p.arn, `arn:aws:iam::${ACCT}:policy/app/P`);
    assert.match(p.id, /^ANPA/);
    rejects(() => store.createPolicy(ACCT, { name: 'p', path: '/', document: ALLOW_S3 }), 'EntityAlreadyExists', 'A policy called p already exists. Duplicate names are not allowed.');
    store.attachPolicy('role', ACCT, 'R', p.arn);
    assert.equal(store.attachmentCount(ACCT, store.getManagedPolicy(ACCT, p.arn)!), 1);
    rejects(() => store.deleteEntity('role', ACCT, 'R'), 'DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    rejects(() => store.deletePolicy(ACCT, p.arn, 'caller'), 'DeleteConflict', 'Cannot delete a policy attached to entities.');
    store.detachPolicy('role', ACCT, 'R', p.arn);
    rejects(() => store.detachPolicy('role', ACCT, 'R', p.arn), 'NoSuchEntity', `Policy ${p.arn} was not found.`);

    const v2 = store.createPolicyVersion(ACCT, p.arn, ALLOW_GET, true, 'caller');
    assert.equal(v2.versionId, 'v2');
    assert.equal(store.getManagedPolicy(ACCT, p.arn)!.defaultVersionId, 'v2');
    rejects(() => store.deletePolicyVersion(ACCT, p.arn, 'v2', 'caller'), 'DeleteConflict', 'Cannot delete the default version of a policy.');
    rejects(() => store.deletePolicy(ACCT, p.arn, 'caller'), 'DeleteConflict', /more than one version/);
    store.deletePolicyVersion(ACCT, p.arn, 'v1', 'caller');
    store.deletePolicy(ACCT, p.arn, 'caller');
    store.deleteEntity('role', ACCT, 'R');
    assert.equal(store.getManagedPolicy(ACCT, p.arn), undefined);
  });

  it('caps policy versions at five and attachments at ten', () => {
    const p = store.createPolicy(ACCT, { name: 'V', path: '/', document: ALLOW_S3 });
    for (let i = 0; i < 4; i++) store.createPolicyVersion(ACCT, p.arn, ALLOW_GET, false, 'caller');
    rejects(() => store.createPolicyVersion(ACCT, p.arn, ALLOW_GET, false, 'caller'), 'LimitExceeded', /up to 5 versions/);
    store.createEntity('role', ACCT, { name: 'Many', path: '/', trustPolicy: TRUST_S3 });
    for (let i = 0; i < 10; i++) {
      const q = store.createPolicy(ACCT, { name: `q${i}`, path: '/', document: ALLOW_GET });
      store.attachPolicy('role', ACCT, 'Many', q.arn);
    }
    rejects(() => store.attachPolicy('role', ACCT, 'Many', p.arn), 'LimitExceeded', 'Cannot exceed quota for PoliciesPerRole: 10');
  });

  it('knows a few AWS managed policies, visible to every account, not changeable', () => {
    const arn = 'arn:aws:iam::aws:policy/AdministratorAccess';
    assert.equal(store.getManagedPolicy(ACCT, arn)?.awsManaged, true);
    assert.equal(store.getManagedPolicy(OTHER, arn)?.name, 'AdministratorAccess');
    assert.equal(store.getManagedPolicy(ACCT, 'arn:aws:iam::aws:policy/NoSuchPolicy'), undefined);
    rejects(() => store.deletePolicy(ACCT, arn, 'caller'), 'AccessDenied');
    assert.ok(store.listManagedPolicies(ACCT, 'AWS').every((p) => p.awsManaged));
    assert.deepEqual(store.listManagedPolicies(ACCT, 'Local'), []);
    // Another account's customer managed policies are invisible.
    const p = store.createPolicy(OTHER, { name: 'Theirs', path: '/', document: ALLOW_S3 });
    assert.equal(store.getManagedPolicy(ACCT, p.arn), undefined);
    rejects(() => store.attachPolicy('user', ACCT, 'x', p.arn), 'NoSuchEntity');
  });

  it('limits inline policy size per user, without counting white space', () => {
    store.createEntity('user', ACCT, { name: 'big', path: '/' });
    const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'b'.repeat(2000)}/*` };
    const text = JSON.stringify({ Version: '2012-10-17', Statement: [statement] }, null, 8);
    rejects(() => store.putInlinePolicy('user', ACCT, 'big', 'p', text), 'LimitExceeded', 'Maximum policy size of 2048 bytes exceeded for user big');
    const spaced = JSON.stringify({ Version: '2012-10-17', Statement: [{ ...statement, Resource: 'arn:aws:s3:::b/*' }] }, null, 40);
    store.putInlinePolicy('user', ACCT, 'big', 'p', spaced);
  });
});

describe('IdentityStore: identity policies', () => {
  it("gives a user its inline, attached and groups' policies, and a role session its role's", () => {
    const u = store.createEntity('user', ACCT, { name: 'erin', path: '/' });
    store.putInlinePolicy('user', ACCT, 'erin', 'own', ALLOW_GET);
    store.attachPolicy('user', ACCT, 'erin', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess');
    store.createEntity('group', ACCT, { name: 'g', path: '/' });
    store.putInlinePolicy('group', ACCT, 'g', 'grp', ALLOW_S3);
    store.addUserToGroup(ACCT, 'g', 'erin');
    const k = store.createAccessKey(ACCT, 'erin');
    const principal = store.lookup(k.accessKeyId)!.principal;
    const docs = store.policiesOf(principal);
    assert.equal(docs.length, 3);
    assert.deepEqual(docs[0]!.statements[0]!.action, ['s3:GetObject']);
    assert.deepEqual(docs[2]!.statements[0]!.action, ['s3:*']);

    // A change is seen at once.
    store.deleteInlinePolicy('group', ACCT, 'g', 'grp');
    assert.equal(store.policiesOf(principal).length, 2);

    const role = store.createEntity('role', ACCT, { name: 'Worker', path: '/', trustPolicy: TRUST_S3 });
    store.putInlinePolicy('role', ACCT, 'Worker', 'work', ALLOW_S3);
    const session = store.assumeRoleAsService(role.arn, 's3.amazonaws.com')!;
    assert.deepEqual(session, {
      kind: 'assumed-role',
      accountId: ACCT,
      arn: `arn:aws:sts::${ACCT}:assumed-role/Worker/s3-replication`,
      principalArn: role.arn,
      userId: `${role.id}:s3-replication`,
    });
    assert.equal(store.policiesOf(session).length, 1);
    // Another service is not trusted; an unknown role is not assumable.
    assert.equal(store.assumeRoleAsService(role.arn, 'ec2.amazonaws.com'), undefined);
    assert.equal(store.assumeRoleAsService(`arn:aws:iam::${ACCT}:role/Nope`, 's3.amazonaws.com'), undefined);
    // A principal of another account with the same ids gets nothing.
    assert.deepEqual(store.policiesOf({ ...principal, accountId: OTHER }), []);
    assert.ok(u);
  });

  it('treats a stored document that no longer parses as denying everything', () => {
    store.createEntity('user', ACCT, { name: 'frank', path: '/' });
    const k = store.createAccessKey(ACCT, 'frank');
    const userId = store.lookup(k.accessKeyId)!.principal.userId;
    store.close();
    const db = new Database(path.join(dir, 'iam.db'));
    db.prepare('INSERT INTO inline_policies (owner_id, name, document) VALUES (?, ?, ?)').run(userId, 'broken', '{"Statement": 42}');
    db.close();
    store = open();
    const docs = store.policiesOf(store.lookup(k.accessKeyId)!.principal);
    assert.equal(docs.length, 1);
    assert.equal(docs[0]!.statements[0]!.effect, 'Deny');
    assert.deepEqual(docs[0]!.statements[0]!.action, ['*']);
  });
});

describe('IdentityStore: STS sessions', () => {
  it('issues role session credentials that survive a restart and carry their expiry', () => {
    const role = store.createEntity('role', ACCT, { name: 'Temp', path: '/', trustPolicy: TRUST_S3 });
    const principal = store.assumeRoleAsService(role.arn, 's3.amazonaws.com')!;
    const s = store.createSession({ accountId: ACCT, kind: 'role', subjectId: role.id, principal, chained: false, durationSeconds: 900 });
    assert.match(s.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(accountOfAccessKeyId(s.accessKeyId), ACCT);
    assert.ok(s.sessionToken.length > 300);
    assert.equal(s.expiresAt, Date.parse('2025-01-02T03:19:05Z'));
    store.close();

    store = open();
    const found = store.lookup(s.accessKeyId)!;
    assert.equal(found.identity.sessionToken, s.sessionToken);
    assert.equal(found.identity.secretAccessKey, s.secretAccessKey);
    assert.equal(found.identity.expiresAt, s.expiresAt);
    assert.deepEqual(found.principal, principal);
    assert.equal(store.sessionOf(s.accessKeyId)?.kind, 'role');

    // Expired sessions are still found (the caller answers ExpiredToken), then forgotten.
    now = s.expiresAt + 1000;
    assert.ok(store.lookup(s.accessKeyId));
    store.close();
    now = s.expiresAt + 25 * 3600 * 1000;
    store = open();
    assert.equal(store.lookup(s.accessKeyId), undefined);
  });

  it("ends a user's GetSessionToken credentials with the user", () => {
    store.createEntity('user', ACCT, { name: 'gina', path: '/' });
    const k = store.createAccessKey(ACCT, 'gina');
    const userId = store.lookup(k.accessKeyId)!.principal.userId;
    const s = store.createSession({ accountId: ACCT, kind: 'user', subjectId: userId, chained: false, durationSeconds: 3600 });
    assert.equal(store.lookup(s.accessKeyId)!.principal.arn, `arn:aws:iam::${ACCT}:user/gina`);
    store.deleteAccessKey(ACCT, 'gina', k.accessKeyId);
    store.deleteEntity('user', ACCT, 'gina');
    assert.equal(store.lookup(s.accessKeyId), undefined);
  });
});
