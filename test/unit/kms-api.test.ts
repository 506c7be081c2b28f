/**
 * The KMS JSON protocol layer driven directly with ServiceCalls: wire shapes, error bodies,
 * validation wording, and the authorization calls it makes (with a scripted authorizer; the
 * policy engine itself is tested elsewhere, and end to end in test/python/test_kms.py).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { dispatchKms } from '../../src/api/kms/router.js';
import type { ServiceCall } from '../../src/api/service/call.js';
import type { App } from '../../src/app.js';
import { RegionKms } from '../../src/crypto/kms.js';
import type { Decision, PolicyDocument, Principal } from '../../src/policy/types.js';

const ACCOUNT = '111122223333';
const ROOT: Principal = {
  kind: 'root',
  accountId: ACCOUNT,
  arn: `arn:aws:iam::${ACCOUNT}:root`,
  principalArn: `arn:aws:iam::${ACCOUNT}:root`,
  userId: ACCOUNT,
};
const ALICE: Principal = {
  kind: 'user',
  accountId: ACCOUNT,
  arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
  principalArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
  userId: 'AIDAALICE',
  username: 'alice',
};

type AuthorizeArgs = { action: string; resource: string; opts: Parameters<ServiceCall['authorize']>[2] };
type Authorizer = (a: AuthorizeArgs) => Decision;

const ALLOW: Decision = { allowed: true, reason: 'allowed' };
const DENY: Decision = { allowed: false, reason: 'implicit-deny' };

let dir: string;
let kmsByRegion: Map<string, RegionKms>;
let authorizeCalls: AuthorizeArgs[];

async function kms(
  op: string,
  body: unknown,
  opts: { region?: string; principal?: Principal; authorize?: Authorizer; raw?: string; target?: string } = {},
): Promise<{ status: number; json: any; headers: Record<string, string> }> {
  const text = opts.raw ?? JSON.stringify(body);
  const authorize: Authorizer = opts.authorize ?? (() => ALLOW);
  const call: ServiceCall = {
    app: { kms: kmsByRegion } as unknown as App,
    req: { headers: { 'x-amz-target': opts.target ?? `TrentService.${op}` } } as unknown as ServiceCall['req'],
    method: 'POST',
    service: 'kms',
    region: opts.region ?? 'us-east-1',
    body: Buffer.from(text),
    query: new URLSearchParams(),
    principal: opts.principal ?? ROOT,
    accessKeyId: 'AKIA',
    requestId: 'req-1',
    now: Date.now(),
    conditions: {},
    authorize: (action, resource, o) => {
      const args = { action, resource, opts: o };
      authorizeCalls.push(args);
      return authorize(args);
    },
  };
  const r = await dispatchKms(call);
  return { status: r.status, headers: r.headers, json: r.body === '' ? undefined : JSON.parse(r.body) };
}

async function ok(op: string, body: unknown, opts?: Parameters<typeof kms>[2]): Promise<any> {
  const r = await kms(op, body, opts);
  assert.equal(r.status, 200, `${op}: ${JSON.stringify(r.json)}`);
  return r.json;
}

async function fails(op: string, body: unknown, type: string, message?: string | RegExp, opts?: Parameters<typeof kms>[2]): Promise<any> {
  const r = await kms(op, body, opts);
  assert.equal(r.status, type === 'KMSInternalException' ? 500 : 400);
  assert.equal(r.json.__type, type, JSON.stringify(r.json));
  assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
  if (typeof message === 'string') assert.equal(r.json.message, message);
  else if (message) assert.match(r.json.message, message);
  return r.json;
}

const SEED_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    { Sid: 'Allow S3 Service', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: '*' },
  ],
});

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-kms-api-'));
});

after(() => {
  for (const k of kmsByRegion.values()) k.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  if (kmsByRegion) for (const k of kmsByRegion.values()) k.close();
  const master = crypto.randomBytes(32);
  const caseDir = fs.mkdtempSync(path.join(dir, 'case-'));
  kmsByRegion = new Map(['us-east-1', 'us-west-2'].map((r) => [r, RegionKms.open(caseDir, r, master, Date.now)]));
  authorizeCalls = [];
});

describe('KMS api', () => {
  it('CreateKey with a policy returns KeyMetadata as KMS does, and DescribeKey by alias finds it', async () => {
    const created = await ok('CreateKey', { Policy: SEED_POLICY, Description: 'KMS key for S3 multi-region replication source' });
    const m = created.KeyMetadata;
    assert.equal(m.AWSAccountId, ACCOUNT);
    assert.equal(m.Arn, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${m.KeyId}`);
    assert.equal(typeof m.CreationDate, 'number');
    assert.equal(m.Enabled, true);
    assert.equal(m.KeyState, 'Enabled');
    assert.equal(m.KeyUsage, 'ENCRYPT_DECRYPT');
    assert.equal(m.KeySpec, 'SYMMETRIC_DEFAULT');
    assert.equal(m.CustomerMasterKeySpec, 'SYMMETRIC_DEFAULT');
    assert.deepEqual(m.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
    assert.equal(m.KeyManager, 'CUSTOMER');
    assert.equal(m.Origin, 'AWS_KMS');
    assert.equal(m.MultiRegion, false);
    assert.equal(m.Description, 'KMS key for S3 multi-region replication source');

    assert.equal(await ok('CreateAlias', { AliasName: 'alias/s3-source', TargetKeyId: m.KeyId }), undefined);
    const d = await ok('DescribeKey', { KeyId: 'alias/s3-source' });
    assert.equal(d.KeyMetadata.KeyId, m.KeyId);
    const byAliasArn = await ok('DescribeKey', { KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/s3-source` });
    assert.equal(byAliasArn.KeyMetadata.KeyId, m.KeyId);

    const policy = await ok('GetKeyPolicy', { KeyId: m.KeyId, PolicyName: 'default' });
    assert.equal(policy.Policy, SEED_POLICY);
    assert.equal(policy.PolicyName, 'default');
  });

  it('authorizes key operations against the key policy in kms mode, and CreateKey against IAM alone', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    const create = authorizeCalls.find((a) => a.action === 'kms:CreateKey')!;
    assert.equal(create.resource, '*');
    assert.equal(create.opts?.resourcePolicy, undefined);
    authorizeCalls = [];
    await ok('Encrypt', { KeyId: m.KeyId, Plaintext: Buffer.from('x').toString('base64'), EncryptionContext: { Purpose: 'test' } });
    const enc = authorizeCalls[0]!;
    assert.equal(enc.action, 'kms:Encrypt');
    assert.equal(enc.resource, m.Arn);
    assert.equal(enc.opts?.mode, 'kms');
    assert.equal(enc.opts?.resourceAccount, ACCOUNT);
    assert.equal((enc.opts?.resourcePolicy as PolicyDocument).statements[0]!.sid, 'Enable IAM User Permissions');
    assert.deepEqual(enc.opts?.conditions?.['kms:encryptioncontext:purpose'], ['test']);
    assert.deepEqual(enc.opts?.conditions?.['kms:calleraccount'], [ACCOUNT]);
  });

  it('answers AccessDeniedException in KMS wording, naming the missing policy', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    // The default policy delegates to the account: what is missing is alice's IAM permission.
    await fails('Decrypt', { CiphertextBlob: (await ok('Encrypt', { KeyId: m.KeyId, Plaintext: 'eA==' })).CiphertextBlob }, 'AccessDeniedException',
      `User: ${ALICE.arn} is not authorized to perform: kms:Decrypt on resource: ${m.Arn} because no identity-based policy allows the kms:Decrypt action`,
      { principal: ALICE, authorize: () => DENY });
    // A key policy that does not mention the account: the key policy is what is missing.
    const own = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ALICE.arn }, Action: 'kms:*', Resource: '*' }] });
    const { KeyMetadata: k2 } = await ok('CreateKey', { Policy: own, BypassPolicyLockoutSafetyCheck: true });
    await fails('DescribeKey', { KeyId: k2.KeyId }, 'AccessDeniedException',
      `User: ${ROOT.arn} is not authorized to perform: kms:DescribeKey on resource: ${k2.Arn} because no resource-based policy allows the kms:DescribeKey action`,
      { authorize: (a) => (a.opts?.mode === 'kms' ? DENY : ALLOW) });
    await fails('DescribeKey', { KeyId: k2.KeyId }, 'AccessDeniedException', /with an explicit deny in a resource-based policy$/,
      { authorize: (a) => (a.opts?.mode === 'kms' ? { allowed: false, reason: 'explicit-deny' } : ALLOW) });
    await fails('ListKeys', {}, 'AccessDeniedException',
      `User: ${ALICE.arn} is not authorized to perform: kms:ListKeys on resource: * because no identity-based policy allows the kms:ListKeys action`,
      { principal: ALICE, authorize: () => DENY });
  });

  it('runs the policy lockout safety check unless bypassed', async () => {
    const lockedOut = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'kms:Decrypt', Resource: '*' }] });
    const refuseNewPolicy: Authorizer = (a) => (a.action === 'kms:PutKeyPolicy' && (a.opts?.resourcePolicy as PolicyDocument)?.statements.length === 1 && (a.opts?.resourcePolicy as PolicyDocument).statements[0]!.principal?.Service ? DENY : ALLOW);
    await fails('CreateKey', { Policy: lockedOut }, 'MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.', { authorize: refuseNewPolicy });
    assert.equal((await ok('ListKeys', {})).Keys.length, 0, 'nothing was created');
    const { KeyMetadata: m } = await ok('CreateKey', { Policy: SEED_POLICY });
    await fails('PutKeyPolicy', { KeyId: m.KeyId, PolicyName: 'default', Policy: lockedOut }, 'MalformedPolicyDocumentException', /will not allow you to update/, { authorize: refuseNewPolicy });
    await ok('PutKeyPolicy', { KeyId: m.KeyId, Policy: lockedOut, BypassPolicyLockoutSafetyCheck: true }, { authorize: refuseNewPolicy });
    assert.equal((await ok('GetKeyPolicy', { KeyId: m.KeyId })).Policy, lockedOut);
    await fails('PutKeyPolicy', { KeyId: m.KeyId, Policy: '{not json' }, 'MalformedPolicyDocumentException');
    await fails('GetKeyPolicy', { KeyId: m.KeyId, PolicyName: 'other' }, 'NotFoundException', 'No such policy exists');
  });

  it('encrypts and decrypts base64 blobs, with the context and without a KeyId', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    const enc = await ok('Encrypt', { KeyId: m.KeyId, Plaintext: Buffer.from('secret data').toString('base64'), EncryptionContext: { a: 'b' } });
    assert.equal(enc.KeyId, m.Arn);
    assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
    const dec = await ok('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' } });
    assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'secret data');
    assert.equal(dec.KeyId, m.Arn);
    const body = await fails('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, 'InvalidCiphertextException');
    assert.equal('message' in body, false, 'KMS sends InvalidCiphertextException without a message');
    const { KeyMetadata: other } = await ok('CreateKey', {});
    await fails('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: 'b' }, KeyId: other.KeyId }, 'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.');
    const re = await ok('ReEncrypt', { CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { a: 'b' }, DestinationKeyId: other.KeyId });
    assert.equal(re.SourceKeyId, m.Arn);
    assert.equal(re.KeyId, other.Arn);
    const back = await ok('Decrypt', { CiphertextBlob: re.CiphertextBlob });
    assert.equal(Buffer.from(back.Plaintext, 'base64').toString(), 'secret data');
    await fails('Encrypt', { KeyId: m.KeyId, Plaintext: Buffer.alloc(4097).toString('base64') }, 'ValidationException',
      "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096");
    await fails('Encrypt', { KeyId: m.KeyId, Plaintext: 'eA==', DryRun: true }, 'DryRunOperationException');
  });

  it('generates data keys by KeySpec or NumberOfBytes', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    const a = await ok('GenerateDataKey', { KeyId: m.KeyId, KeySpec: 'AES_256' });
    assert.equal(Buffer.from(a.Plaintext, 'base64').length, 32);
    assert.equal(a.KeyId, m.Arn);
    const dec = await ok('Decrypt', { CiphertextBlob: a.CiphertextBlob });
    assert.equal(dec.Plaintext, a.Plaintext);
    const b = await ok('GenerateDataKey', { KeyId: m.KeyId, KeySpec: 'AES_128' });
    assert.equal(Buffer.from(b.Plaintext, 'base64').length, 16);
    const c = await ok('GenerateDataKey', { KeyId: m.KeyId, NumberOfBytes: 64 });
    assert.equal(Buffer.from(c.Plaintext, 'base64').length, 64);
    const w = await ok('GenerateDataKeyWithoutPlaintext', { KeyId: m.KeyId, KeySpec: 'AES_256' });
    assert.equal(w.Plaintext, undefined);
    assert.equal(Buffer.from((await ok('Decrypt', { CiphertextBlob: w.CiphertextBlob })).Plaintext, 'base64').length, 32);
    await fails('GenerateDataKey', { KeyId: m.KeyId }, 'ValidationException', 'Please specify either number of bytes or key spec.');
    await fails('GenerateDataKey', { KeyId: m.KeyId, KeySpec: 'AES_512' }, 'ValidationException',
      "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]");
    await fails('GenerateDataKey', { KeyId: m.KeyId, NumberOfBytes: 1025 }, 'ValidationException',
      "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024");
  });

  it('follows the key states: disable, schedule deletion, cancel', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    const enc = await ok('Encrypt', { KeyId: m.KeyId, Plaintext: 'eA==' });
    await ok('DisableKey', { KeyId: m.KeyId });
    assert.equal((await ok('DescribeKey', { KeyId: m.KeyId })).KeyMetadata.KeyState, 'Disabled');
    await fails('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, 'DisabledException', `${m.Arn} is disabled.`);
    await fails('GenerateDataKey', { KeyId: m.KeyId, KeySpec: 'AES_256' }, 'DisabledException', `${m.Arn} is disabled.`);
    await ok('EnableKey', { KeyId: m.KeyId });
    await ok('Decrypt', { CiphertextBlob: enc.CiphertextBlob });

    await fails('ScheduleKeyDeletion', { KeyId: m.KeyId, PendingWindowInDays: 5 }, 'ValidationException', 'PendingWindowInDays should be between 7 and 30, but it is 5');
    const before = Date.now();
    const s = await ok('ScheduleKeyDeletion', { KeyId: m.KeyId });
    assert.equal(s.KeyId, m.Arn);
    assert.equal(s.KeyState, 'PendingDeletion');
    assert.equal(s.PendingWindowInDays, 30);
    assert.ok(Math.abs(s.DeletionDate * 1000 - (before + 30 * 86_400_000)) < 5000);
    const d = await ok('DescribeKey', { KeyId: m.KeyId });
    assert.equal(d.KeyMetadata.KeyState, 'PendingDeletion');
    assert.equal(d.KeyMetadata.Enabled, false);
    assert.equal(d.KeyMetadata.DeletionDate, s.DeletionDate);
    await fails('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, 'KMSInvalidStateException', `${m.Arn} is pending deletion.`);
    await fails('EnableKey', { KeyId: m.KeyId }, 'KMSInvalidStateException', `${m.Arn} is pending deletion.`);
    assert.deepEqual(await ok('CancelKeyDeletion', { KeyId: m.KeyId }), { KeyId: m.Arn });
    const after = (await ok('DescribeKey', { KeyId: m.KeyId })).KeyMetadata;
    assert.equal(after.KeyState, 'Disabled');
    assert.equal(after.DeletionDate, undefined);
  });

  it('keeps keys of one region invisible from another', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    await fails('DescribeKey', { KeyId: m.KeyId }, 'NotFoundException', `Key 'arn:aws:kms:us-west-2:${ACCOUNT}:key/${m.KeyId}' does not exist`, { region: 'us-west-2' });
    await fails('DescribeKey', { KeyId: m.Arn }, 'NotFoundException', 'Invalid arn us-east-1', { region: 'us-west-2' });
    await fails('DescribeKey', { KeyId: m.KeyId }, 'InvalidSignatureException', undefined, { region: 'ap-south-1' });
  });

  it('validates aliases as KMS does', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    const reserved = await fails('CreateAlias', { AliasName: 'alias/aws/mine', TargetKeyId: m.KeyId }, 'NotAuthorizedException');
    assert.equal('message' in reserved, false);
    await fails('CreateAlias', { AliasName: 'mine', TargetKeyId: m.KeyId }, 'ValidationException', /^Alias must start with the prefix "alias\/"/);
    await fails('CreateAlias', { AliasName: 'alias/has space', TargetKeyId: m.KeyId }, 'ValidationException',
      "1 validation error detected: Value 'alias/has space' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$");
    await ok('CreateAlias', { AliasName: 'alias/one', TargetKeyId: m.Arn });
    await fails('CreateAlias', { AliasName: 'alias/one', TargetKeyId: m.KeyId }, 'AlreadyExistsException', `An alias with the name arn:aws:kms:us-east-1:${ACCOUNT}:alias/one already exists`);
    await fails('CreateAlias', { AliasName: 'alias/two', TargetKeyId: 'alias/one' }, 'ValidationException', 'Aliases must refer to keys. Not aliases');
    const list = await ok('ListAliases', {});
    assert.deepEqual(list.Aliases.map((a: any) => a.AliasName), ['alias/aws/s3', 'alias/one']);
    const one = list.Aliases[1];
    assert.equal(one.AliasArn, `arn:aws:kms:us-east-1:${ACCOUNT}:alias/one`);
    assert.equal(one.TargetKeyId, m.KeyId);
    assert.equal(typeof one.CreationDate, 'number');
    assert.equal(list.Truncated, false);
    assert.deepEqual((await ok('ListAliases', { KeyId: m.KeyId })).Aliases.map((a: any) => a.AliasName), ['alias/one']);
    await ok('DeleteAlias', { AliasName: 'alias/one' });
    await fails('DeleteAlias', { AliasName: 'alias/one' }, 'NotFoundException', `Alias arn:aws:kms:us-east-1:${ACCOUNT}:alias/one is not found.`);
    await fails('DescribeKey', { KeyId: 'alias/one' }, 'NotFoundException', `Alias arn:aws:kms:us-east-1:${ACCOUNT}:alias/one is not found.`);
  });

  it('creates the aws/s3 key on DescribeKey of its alias, with a policy that admits use through S3 only', async () => {
    const d = await ok('DescribeKey', { KeyId: 'alias/aws/s3' });
    assert.equal(d.KeyMetadata.KeyManager, 'AWS');
    const list = await ok('ListAliases', {});
    assert.equal(list.Aliases[0].TargetKeyId, d.KeyMetadata.KeyId);
    assert.match((await ok('GetKeyPolicy', { KeyId: 'alias/aws/s3' })).Policy, /"kms:ViaService" : "s3\.us-east-1\.amazonaws\.com"/);
  });

  it('pages ListKeys with opaque markers', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await ok('CreateKey', {})).KeyMetadata.KeyId);
    const p1 = await ok('ListKeys', { Limit: 2 });
    assert.equal(p1.Truncated, true);
    const p2 = await ok('ListKeys', { Limit: 2, Marker: p1.NextMarker });
    const p3 = await ok('ListKeys', { Limit: 2, Marker: p2.NextMarker });
    assert.equal(p3.Truncated, false);
    assert.equal(p3.NextMarker, undefined);
    assert.deepEqual([...p1.Keys, ...p2.Keys, ...p3.Keys].map((k: any) => k.KeyId), [...ids].sort());
    assert.equal(p1.Keys[0].KeyArn, `arn:aws:kms:us-east-1:${ACCOUNT}:key/${p1.Keys[0].KeyId}`);
    await fails('ListKeys', { Marker: 'garbage' }, 'InvalidMarkerException');
  });

  it('reports request problems in the JSON protocol', async () => {
    await fails('DescribeKey', {}, 'ValidationException', "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    await fails('DescribeKey', { KeyId: 'not-a-key' }, 'NotFoundException', "Invalid keyId 'not-a-key'");
    await fails('CreateKey', { KeySpec: 'RSA_2048' }, 'UnsupportedOperationException');
    await fails('CreateKey', { KeySpec: 'AES' }, 'ValidationException', /^1 validation error detected: Value 'AES' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: \[/);
    await fails('CreateKey', { KeySpec: 'AES', KeyUsage: 'X' }, 'ValidationException', /^2 validation errors detected: .*; Value 'AES' at 'keySpec'/);
    await fails('CreateKey', { Policy: 'nope' }, 'MalformedPolicyDocumentException');
    await fails('Sign', {}, 'UnsupportedOperationException', 'Sign is not supported by this KMS.');
    const unknown = await fails('Frobnicate', {}, 'UnknownOperationException');
    assert.equal('message' in unknown, false);
    await fails('ListKeys', {}, 'UnknownOperationException', undefined, { target: 'AmazonS3.ListKeys' });
    await fails('DescribeKey', undefined, 'SerializationException', undefined, { raw: '{"KeyId":' });
    await fails('DescribeKey', { KeyId: 7 }, 'SerializationException');
    await fails('Decrypt', { CiphertextBlob: '***' }, 'SerializationException');
  });

  it('tags keys and lists them', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', { Tags: [{ TagKey: 'env', TagValue: 'dev' }] });
    await ok('TagResource', { KeyId: m.KeyId, Tags: [{ TagKey: 'team', TagValue: 'a' }, { TagKey: 'env', TagValue: 'prod' }] });
    assert.deepEqual((await ok('ListResourceTags', { KeyId: m.KeyId })).Tags, [
      { TagKey: 'env', TagValue: 'prod' },
      { TagKey: 'team', TagValue: 'a' },
    ]);
    await ok('UntagResource', { KeyId: m.KeyId, TagKeys: ['team'] });
    assert.deepEqual((await ok('ListResourceTags', { KeyId: m.KeyId })).Tags, [{ TagKey: 'env', TagValue: 'prod' }]);
    await fails('TagResource', { KeyId: m.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: '1' }] }, 'TagException');
  });

  it('reports and changes the rotation setting', async () => {
    const { KeyMetadata: m } = await ok('CreateKey', {});
    assert.deepEqual(await ok('GetKeyRotationStatus', { KeyId: m.KeyId }), { KeyId: m.Arn, KeyRotationEnabled: false });
    await ok('EnableKeyRotation', { KeyId: m.KeyId, RotationPeriodInDays: 180 });
    const s = await ok('GetKeyRotationStatus', { KeyId: m.KeyId });
    assert.equal(s.KeyRotationEnabled, true);
    assert.equal(s.RotationPeriodInDays, 180);
    assert.equal(typeof s.NextRotationDate, 'number');
    await fails('EnableKeyRotation', { KeyId: m.KeyId, RotationPeriodInDays: 30 }, 'ValidationException', /at 'rotationPeriodInDays'.*greater than or equal to 90/);
    await ok('DisableKeyRotation', { KeyId: m.KeyId });
    assert.equal((await ok('GetKeyRotationStatus', { KeyId: m.KeyId })).KeyRotationEnabled, false);
    assert.deepEqual(await ok('ListKeyRotations', { KeyId: m.KeyId }), { Rotations: [], Truncated: false });
  });
});
