import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicPolicy, isPublicStatement } from '../../src/policy/public.js';
import { parsePolicyDocument } from '../../src/policy/parse.js';
import type { PolicyDocument, Statement } from '../../src/policy/types.js';

const bucketPolicy = (statements: unknown[]): PolicyDocument =>
  parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'resource');

const allow = (principal: unknown, condition?: unknown) => ({
  Effect: 'Allow',
  Principal: principal,
  Action: 's3:GetObject',
  Resource: 'arn:aws:s3:::b/*',
  ...(condition ? { Condition: condition } : {}),
});

interface Case {
  name: string;
  statements: unknown[];
  expected: boolean;
}

const cases: Case[] = [
  { name: 'Principal "*"', statements: [allow('*')], expected: true },
  { name: 'AWS "*"', statements: [allow({ AWS: '*' })], expected: true },
  { name: 'AWS "*" among specific principals', statements: [allow({ AWS: ['111111111111', '*'] })], expected: true },
  { name: 'a specific account', statements: [allow({ AWS: '111111111111' })], expected: false },
  { name: 'a specific user', statements: [allow({ AWS: 'arn:aws:iam::111111111111:user/alice' })], expected: false },
  { name: 'a service principal', statements: [allow({ Service: 'cloudtrail.amazonaws.com' })], expected: false },
  { name: 'a canonical user', statements: [allow({ CanonicalUser: 'a'.repeat(64) })], expected: false },
  { name: 'Deny to everyone grants nothing', statements: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }], expected: false },
  { name: 'Deny with NotPrincipal grants nothing', statements: [{ Effect: 'Deny', NotPrincipal: { AWS: '111111111111' }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }], expected: false },
  { name: 'one public statement among private ones', statements: [allow({ AWS: '111111111111' }), allow('*')], expected: true },

  // Conditions that pin the grant to fixed values
  { name: 'aws:SourceIp with a /24', statements: [allow('*', { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } })], expected: false },
  { name: 'aws:SourceIp with a single address', statements: [allow('*', { IpAddress: { 'aws:SourceIp': '203.0.113.9' } })], expected: false },
  { name: 'aws:SourceIp IPv6 /48', statements: [allow('*', { IpAddress: { 'aws:SourceIp': '2001:db8:1::/48' } })], expected: false },
  { name: 'aws:SourceIp 0.0.0.0/0', statements: [allow('*', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } })], expected: true },
  { name: 'aws:SourceIp ::/0', statements: [allow('*', { IpAddress: { 'aws:SourceIp': '::/0' } })], expected: true },
  { name: 'aws:SourceIp with a too-wide block among narrow ones', statements: [allow('*', { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '0.0.0.0/1'] } })], expected: true },
  { name: 'aws:SourceIp under NotIpAddress', statements: [allow('*', { NotIpAddress: { 'aws:SourceIp': '192.0.2.0/24' } })], expected: true },
  { name: 'aws:SourceVpc fixed', statements: [allow('*', { StringEquals: { 'aws:SourceVpc': 'vpc-91237329' } })], expected: false },
  { name: 'aws:SourceVpc with a wildcard', statements: [allow('*', { StringLike: { 'aws:SourceVpc': 'vpc-*' } })], expected: true },
  { name: 'aws:SourceVpce fixed', statements: [allow('*', { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } })], expected: false },
  { name: 'aws:SourceArn fixed with ArnEquals', statements: [allow('*', { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:111111111111:trail/t' } })], expected: false },
  { name: 'aws:SourceArn with a wildcard', statements: [allow('*', { ArnLike: { 'aws:SourceArn': 'arn:aws:cloudtrail:*:111111111111:trail/*' } })], expected: true },
  { name: 'aws:SourceAccount fixed', statements: [allow('*', { StringEquals: { 'aws:SourceAccount': '111111111111' } })], expected: false },
  { name: 'aws:SourceOwner fixed', statements: [allow('*', { StringEquals: { 'aws:SourceOwner': '111111111111' } })], expected: false },
  { name: 'aws:PrincipalOrgID fixed', statements: [allow('*', { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } })], expected: false },
  { name: 'aws:PrincipalAccount fixed', statements: [allow('*', { StringEquals: { 'aws:PrincipalAccount': '111111111111' } })], expected: false },
  { name: 'aws:PrincipalArn fixed', statements: [allow('*', { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/r' } })], expected: false },
  { name: 'aws:userid fixed', statements: [allow('*', { StringEquals: { 'aws:userid': 'AIDAEXAMPLE' } })], expected: false },
  { name: 'aws:userid pattern AROLEID:*', statements: [allow('*', { StringLike: { 'aws:userid': 'AROAEXAMPLE:*' } })], expected: true },
  { name: 's3:DataAccessPointAccount fixed', statements: [allow('*', { StringEquals: { 's3:DataAccessPointAccount': '111111111111' } })], expected: false },
  { name: 'a policy variable is not a fixed value', statements: [allow('*', { StringEquals: { 'aws:PrincipalAccount': '${aws:username}' } })], expected: true },
  { name: 'IfExists pins nothing', statements: [allow('*', { StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } })], expected: true },
  { name: 'ForAllValues pins nothing', statements: [allow('*', { 'ForAllValues:StringEquals': { 'aws:SourceVpce': 'vpce-1a2b3c4d' } })], expected: true },
  { name: 'negated operator pins nothing', statements: [allow('*', { StringNotEquals: { 'aws:SourceAccount': '111111111111' } })], expected: true },
  { name: 'a non-restricting key (TLS) leaves it public', statements: [allow('*', { Bool: { 'aws:SecureTransport': 'true' } })], expected: true },
  { name: 'a non-restricting key (s3:prefix) leaves it public', statements: [allow('*', { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } })], expected: true },
  {
    name: 'one pinning condition among others is enough',
    statements: [allow('*', { Bool: { 'aws:SecureTransport': 'true' }, StringEquals: { 'aws:SourceAccount': '111111111111' } })],
    expected: false,
  },
];

describe('isPublicPolicy', () => {
  for (const c of cases) {
    it(c.name, () => assert.equal(isPublicPolicy(bucketPolicy(c.statements)), c.expected));
  }
});

describe('isPublicStatement', () => {
  const table: Array<{ name: string; statement: Statement; expected: boolean }> = [
    { name: 'wildcard principal pattern (built by hand)', statement: { effect: 'Allow', principal: { AWS: ['arn:aws:iam::111111111111:user/*'] }, action: ['s3:GetObject'], resource: ['arn:aws:s3:::b/*'] }, expected: true },
    { name: 'Allow with NotPrincipal (built by hand)', statement: { effect: 'Allow', notPrincipal: { AWS: ['arn:aws:iam::111111111111:root'] }, action: ['s3:GetObject'], resource: ['arn:aws:s3:::b/*'] }, expected: true },
    { name: 'identity-style statement without a principal', statement: { effect: 'Allow', action: ['s3:GetObject'], resource: ['arn:aws:s3:::b/*'] }, expected: false },
    { name: 'specific principal', statement: { effect: 'Allow', principal: { AWS: ['arn:aws:iam::111111111111:root'] }, action: ['s3:GetObject'], resource: ['arn:aws:s3:::b/*'] }, expected: false },
  ];
  for (const t of table) {
    it(t.name, () => assert.equal(isPublicStatement(t.statement), t.expected));
  }
});
