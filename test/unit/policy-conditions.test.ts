import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conditionsMatch, parseConditionOperator } from '../../src/policy/conditions.js';
import { cidrContains, parseAddress, parseCidr } from '../../src/policy/ip.js';
import type { ConditionBlock, ConditionValues, Principal, RequestContext } from '../../src/policy/types.js';

const alice: Principal = {
  kind: 'user',
  accountId: '111111111111',
  arn: 'arn:aws:iam::111111111111:user/alice',
  principalArn: 'arn:aws:iam::111111111111:user/alice',
  userId: 'AIDAALICE',
  username: 'alice',
};

function ctx(conditions: ConditionValues, principal: Principal = alice): RequestContext {
  return { principal, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', conditions };
}

interface Case {
  name: string;
  condition: ConditionBlock;
  values: ConditionValues;
  expected: boolean;
  /** Whether policy variables apply (Version 2012-10-17); default true. */
  variables?: boolean;
}

const c = (op: string, key: string, ...values: string[]): ConditionBlock => ({ [op]: { [key]: values } });

const cases: Case[] = [
  // String
  { name: 'StringEquals match', condition: c('StringEquals', 's3:x-amz-acl', 'bucket-owner-full-control'), values: { 's3:x-amz-acl': ['bucket-owner-full-control'] }, expected: true },
  { name: 'StringEquals mismatch', condition: c('StringEquals', 's3:x-amz-acl', 'bucket-owner-full-control'), values: { 's3:x-amz-acl': ['private'] }, expected: false },
  { name: 'StringEquals is case-sensitive in values', condition: c('StringEquals', 's3:prefix', 'Home/'), values: { 's3:prefix': ['home/'] }, expected: false },
  { name: 'StringEquals on an absent key', condition: c('StringEquals', 's3:x-amz-acl', 'private'), values: {}, expected: false },
  { name: 'StringEquals: any of the values', condition: c('StringEquals', 's3:prefix', 'a/', 'b/'), values: { 's3:prefix': ['b/'] }, expected: true },
  { name: 'StringNotEquals on an absent key is true', condition: c('StringNotEquals', 's3:x-amz-acl', 'public-read'), values: {}, expected: true },
  { name: 'StringNotEquals on an equal value', condition: c('StringNotEquals', 's3:x-amz-acl', 'public-read'), values: { 's3:x-amz-acl': ['public-read'] }, expected: false },
  { name: 'StringNotEquals on a different value', condition: c('StringNotEquals', 's3:x-amz-acl', 'public-read'), values: { 's3:x-amz-acl': ['private'] }, expected: true },
  { name: 'StringNotEquals: none of the values may match', condition: c('StringNotEquals', 's3:x-amz-acl', 'public-read', 'private'), values: { 's3:x-amz-acl': ['private'] }, expected: false },
  { name: 'StringEqualsIgnoreCase', condition: c('StringEqualsIgnoreCase', 's3:prefix', 'HOME/'), values: { 's3:prefix': ['home/'] }, expected: true },
  { name: 'StringNotEqualsIgnoreCase equal but for case', condition: c('StringNotEqualsIgnoreCase', 's3:prefix', 'HOME/'), values: { 's3:prefix': ['home/'] }, expected: false },
  { name: 'StringNotEqualsIgnoreCase absent', condition: c('StringNotEqualsIgnoreCase', 's3:prefix', 'HOME/'), values: {}, expected: true },
  { name: 'StringLike *', condition: c('StringLike', 's3:prefix', 'home/*'), values: { 's3:prefix': ['home/alice/docs'] }, expected: true },
  { name: 'StringLike ?', condition: c('StringLike', 's3:prefix', 'v?'), values: { 's3:prefix': ['v1'] }, expected: true },
  { name: 'StringLike ? is exactly one', condition: c('StringLike', 's3:prefix', 'v?'), values: { 's3:prefix': ['v10'] }, expected: false },
  { name: 'StringLike is case-sensitive', condition: c('StringLike', 's3:prefix', 'home/*'), values: { 's3:prefix': ['HOME/x'] }, expected: false },
  { name: 'StringLike treats regex characters literally', condition: c('StringLike', 's3:prefix', 'a.b(c)*'), values: { 's3:prefix': ['aXb(c)d'] }, expected: false },
  { name: 'StringNotLike match', condition: c('StringNotLike', 's3:prefix', 'secret/*'), values: { 's3:prefix': ['secret/x'] }, expected: false },
  { name: 'StringNotLike no match', condition: c('StringNotLike', 's3:prefix', 'secret/*'), values: { 's3:prefix': ['public/x'] }, expected: true },
  { name: 'StringNotLike absent', condition: c('StringNotLike', 's3:prefix', 'secret/*'), values: {}, expected: true },

  // Numeric
  { name: 'NumericEquals', condition: c('NumericEquals', 's3:max-keys', '10'), values: { 's3:max-keys': ['10'] }, expected: true },
  { name: 'NumericEquals compares numbers, not text', condition: c('NumericEquals', 's3:max-keys', '10'), values: { 's3:max-keys': ['10.0'] }, expected: true },
  { name: 'NumericNotEquals', condition: c('NumericNotEquals', 's3:max-keys', '10'), values: { 's3:max-keys': ['11'] }, expected: true },
  { name: 'NumericNotEquals absent', condition: c('NumericNotEquals', 's3:max-keys', '10'), values: {}, expected: true },
  { name: 'NumericLessThan true', condition: c('NumericLessThan', 's3:max-keys', '10'), values: { 's3:max-keys': ['9'] }, expected: true },
  { name: 'NumericLessThan at the bound', condition: c('NumericLessThan', 's3:max-keys', '10'), values: { 's3:max-keys': ['10'] }, expected: false },
  { name: 'NumericLessThanEquals at the bound', condition: c('NumericLessThanEquals', 's3:max-keys', '10'), values: { 's3:max-keys': ['10'] }, expected: true },
  { name: 'NumericGreaterThan', condition: c('NumericGreaterThan', 's3:max-keys', '10'), values: { 's3:max-keys': ['100'] }, expected: true },
  { name: 'NumericGreaterThan false', condition: c('NumericGreaterThan', 's3:max-keys', '10'), values: { 's3:max-keys': ['2'] }, expected: false },
  { name: 'NumericGreaterThanEquals', condition: c('NumericGreaterThanEquals', 's3:max-keys', '10'), values: { 's3:max-keys': ['10'] }, expected: true },
  { name: 'Numeric on a non-number', condition: c('NumericLessThan', 's3:max-keys', '10'), values: { 's3:max-keys': ['abc'] }, expected: false },
  { name: 'Numeric on an absent key', condition: c('NumericLessThan', 's3:max-keys', '10'), values: {}, expected: false },

  // Date
  { name: 'DateLessThan ISO', condition: c('DateLessThan', 'aws:CurrentTime', '2030-01-01T00:00:00Z'), values: { 'aws:currenttime': ['2024-05-01T10:00:00Z'] }, expected: true },
  { name: 'DateLessThan ISO false', condition: c('DateLessThan', 'aws:CurrentTime', '2020-01-01T00:00:00Z'), values: { 'aws:currenttime': ['2024-05-01T10:00:00Z'] }, expected: false },
  { name: 'DateGreaterThan with a date-only policy value', condition: c('DateGreaterThan', 'aws:CurrentTime', '2024-01-01'), values: { 'aws:currenttime': ['2024-05-01T10:00:00Z'] }, expected: true },
  { name: 'DateEquals across forms: epoch seconds vs ISO', condition: c('DateEquals', 'aws:EpochTime', '2024-05-01T10:00:00Z'), values: { 'aws:epochtime': ['1714557600'] }, expected: true },
  { name: 'DateNotEquals', condition: c('DateNotEquals', 'aws:CurrentTime', '2024-05-01T10:00:00Z'), values: { 'aws:currenttime': ['2024-05-01T10:00:01Z'] }, expected: true },
  { name: 'DateLessThanEquals at the bound', condition: c('DateLessThanEquals', 'aws:CurrentTime', '2024-05-01T10:00:00Z'), values: { 'aws:currenttime': ['2024-05-01T10:00:00Z'] }, expected: true },
  { name: 'DateGreaterThanEquals with an epoch policy value', condition: c('DateGreaterThanEquals', 'aws:CurrentTime', '1714557600'), values: { 'aws:currenttime': ['2024-05-01T09:59:59Z'] }, expected: false },
  { name: 'Date on garbage', condition: c('DateLessThan', 'aws:CurrentTime', '2030-01-01T00:00:00Z'), values: { 'aws:currenttime': ['yesterday'] }, expected: false },

  // Bool / Binary
  { name: 'Bool false matches false (DenyInsecureConnections applies)', condition: c('Bool', 'aws:SecureTransport', 'false'), values: { 'aws:securetransport': ['false'] }, expected: true },
  { name: 'Bool false does not match true', condition: c('Bool', 'aws:SecureTransport', 'false'), values: { 'aws:securetransport': ['true'] }, expected: false },
  { name: 'Bool on an absent key', condition: c('Bool', 'aws:SecureTransport', 'false'), values: {}, expected: false },
  { name: 'BoolIfExists on an absent key', condition: c('BoolIfExists', 'aws:MultiFactorAuthPresent', 'false'), values: {}, expected: true },
  { name: 'BinaryEquals', condition: c('BinaryEquals', 'aws:x-binary', 'QmluYXJ5'), values: { 'aws:x-binary': ['QmluYXJ5'] }, expected: true },
  { name: 'BinaryEquals mismatch', condition: c('BinaryEquals', 'aws:x-binary', 'QmluYXJ5'), values: { 'aws:x-binary': ['QmluYXJz'] }, expected: false },

  // IP
  { name: 'IpAddress v4 inside', condition: c('IpAddress', 'aws:SourceIp', '192.0.2.0/24'), values: { 'aws:sourceip': ['192.0.2.77'] }, expected: true },
  { name: 'IpAddress v4 outside', condition: c('IpAddress', 'aws:SourceIp', '192.0.2.0/24'), values: { 'aws:sourceip': ['192.0.3.1'] }, expected: false },
  { name: 'IpAddress bare address is /32', condition: c('IpAddress', 'aws:SourceIp', '203.0.113.5'), values: { 'aws:sourceip': ['203.0.113.5'] }, expected: true },
  { name: 'IpAddress odd prefix', condition: c('IpAddress', 'aws:SourceIp', '10.0.0.0/13'), values: { 'aws:sourceip': ['10.7.255.255'] }, expected: true },
  { name: 'IpAddress odd prefix outside', condition: c('IpAddress', 'aws:SourceIp', '10.0.0.0/13'), values: { 'aws:sourceip': ['10.8.0.0'] }, expected: false },
  { name: 'IpAddress v6 inside', condition: c('IpAddress', 'aws:SourceIp', '2001:db8:1234::/48'), values: { 'aws:sourceip': ['2001:db8:1234:ffff::1'] }, expected: true },
  { name: 'IpAddress v6 outside', condition: c('IpAddress', 'aws:SourceIp', '2001:db8:1234::/48'), values: { 'aws:sourceip': ['2001:db8:1235::1'] }, expected: false },
  { name: 'IpAddress v4-mapped v6 caller counts as v4', condition: c('IpAddress', 'aws:SourceIp', '192.0.2.0/24'), values: { 'aws:sourceip': ['::ffff:192.0.2.9'] }, expected: true },
  { name: 'IpAddress v4 block does not match v6 caller', condition: c('IpAddress', 'aws:SourceIp', '0.0.0.0/0'), values: { 'aws:sourceip': ['2001:db8::1'] }, expected: false },
  { name: 'IpAddress any of several blocks', condition: c('IpAddress', 'aws:SourceIp', '10.0.0.0/8', '2001:db8::/32'), values: { 'aws:sourceip': ['2001:db8::5'] }, expected: true },
  { name: 'NotIpAddress inside', condition: c('NotIpAddress', 'aws:SourceIp', '192.0.2.0/24'), values: { 'aws:sourceip': ['192.0.2.1'] }, expected: false },
  { name: 'NotIpAddress outside', condition: c('NotIpAddress', 'aws:SourceIp', '192.0.2.0/24'), values: { 'aws:sourceip': ['198.51.100.1'] }, expected: true },
  { name: 'NotIpAddress absent', condition: c('NotIpAddress', 'aws:SourceIp', '192.0.2.0/24'), values: {}, expected: true },
  { name: 'IpAddress with an unparseable caller address', condition: c('IpAddress', 'aws:SourceIp', '0.0.0.0/0'), values: { 'aws:sourceip': ['localhost'] }, expected: false },

  // ARN
  { name: 'ArnEquals exact', condition: c('ArnEquals', 'aws:SourceArn', 'arn:aws:cloudtrail:us-east-1:111111111111:trail/t'), values: { 'aws:sourcearn': ['arn:aws:cloudtrail:us-east-1:111111111111:trail/t'] }, expected: true },
  { name: 'ArnLike wildcard region', condition: c('ArnLike', 'aws:SourceArn', 'arn:aws:cloudtrail:*:111111111111:trail/*'), values: { 'aws:sourcearn': ['arn:aws:cloudtrail:eu-west-1:111111111111:trail/x'] }, expected: true },
  { name: 'ArnLike: a mid-segment * does not cross a colon', condition: c('ArnLike', 'aws:SourceArn', 'arn:aws:sns:us-*-1:111111111111:topic'), values: { 'aws:sourcearn': ['arn:aws:sns:us-east:9-1:111111111111:topic'] }, expected: false },
  { name: 'ArnLike: a mid-segment * within its segment', condition: c('ArnLike', 'aws:SourceArn', 'arn:aws:sns:us-*-1:111111111111:topic'), values: { 'aws:sourcearn': ['arn:aws:sns:us-east-1:111111111111:topic'] }, expected: true },
  { name: 'ArnLike: a * ending a segment may run past colons', condition: c('ArnLike', 'aws:SourceArn', 'arn:aws:sns:*'), values: { 'aws:sourcearn': ['arn:aws:sns:us-east-1:111111111111:topic'] }, expected: true },
  { name: 'ArnLike: wrong account', condition: c('ArnLike', 'aws:SourceArn', 'arn:aws:cloudtrail:*:111111111111:trail/*'), values: { 'aws:sourcearn': ['arn:aws:cloudtrail:eu-west-1:222222222222:trail/x'] }, expected: false },
  { name: 'ArnNotEquals absent', condition: c('ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::111111111111:role/admin'), values: {}, expected: true },
  { name: 'ArnNotLike matching', condition: c('ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::111111111111:role/*'), values: { 'aws:principalarn': ['arn:aws:iam::111111111111:role/x'] }, expected: false },
  { name: 'ArnNotLike different', condition: c('ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::111111111111:role/*'), values: { 'aws:principalarn': ['arn:aws:iam::111111111111:user/x'] }, expected: true },
  { name: 'Arn values are case-sensitive', condition: c('ArnEquals', 'aws:SourceArn', 'arn:aws:s3:::Bucket'), values: { 'aws:sourcearn': ['arn:aws:s3:::bucket'] }, expected: false },

  // Null
  { name: 'Null true on an absent key', condition: c('Null', 's3:x-amz-server-side-encryption', 'true'), values: {}, expected: true },
  { name: 'Null true on a present key', condition: c('Null', 's3:x-amz-server-side-encryption', 'true'), values: { 's3:x-amz-server-side-encryption': ['AES256'] }, expected: false },
  { name: 'Null false on a present key', condition: c('Null', 's3:x-amz-server-side-encryption', 'false'), values: { 's3:x-amz-server-side-encryption': ['AES256'] }, expected: true },
  { name: 'Null false on an absent key', condition: c('Null', 's3:x-amz-server-side-encryption', 'false'), values: {}, expected: false },
  { name: 'Null true on an empty list', condition: c('Null', 's3:requestobjecttagkeys', 'true'), values: { 's3:requestobjecttagkeys': [] }, expected: true },

  // IfExists
  { name: 'StringEqualsIfExists absent', condition: c('StringEqualsIfExists', 's3:x-amz-server-side-encryption', 'aws:kms'), values: {}, expected: true },
  { name: 'StringEqualsIfExists present and different', condition: c('StringEqualsIfExists', 's3:x-amz-server-side-encryption', 'aws:kms'), values: { 's3:x-amz-server-side-encryption': ['AES256'] }, expected: false },
  { name: 'NumericLessThanIfExists present and fine', condition: c('NumericLessThanIfExists', 's3:max-keys', '100'), values: { 's3:max-keys': ['5'] }, expected: true },

  // Set operators
  { name: 'ForAnyValue:StringEquals one matches', condition: c('ForAnyValue:StringEquals', 'aws:TagKeys', 'env', 'team'), values: { 'aws:tagkeys': ['cost', 'env'] }, expected: true },
  { name: 'ForAnyValue:StringEquals none match', condition: c('ForAnyValue:StringEquals', 'aws:TagKeys', 'env', 'team'), values: { 'aws:tagkeys': ['cost'] }, expected: false },
  { name: 'ForAnyValue absent is false', condition: c('ForAnyValue:StringEquals', 'aws:TagKeys', 'env'), values: {}, expected: false },
  { name: 'ForAnyValue:StringNotEquals: one value outside the list', condition: c('ForAnyValue:StringNotEquals', 'aws:TagKeys', 'env', 'team'), values: { 'aws:tagkeys': ['env', 'cost'] }, expected: true },
  { name: 'ForAnyValue:StringNotEquals: all inside the list', condition: c('ForAnyValue:StringNotEquals', 'aws:TagKeys', 'env', 'team'), values: { 'aws:tagkeys': ['env', 'team'] }, expected: false },
  { name: 'ForAllValues:StringEquals all inside', condition: c('ForAllValues:StringEquals', 'aws:TagKeys', 'env', 'team'), values: { 'aws:tagkeys': ['env', 'team'] }, expected: true },
  { name: 'ForAllValues:StringEquals one outside', condition: c('ForAllValues:StringEquals', 'aws:TagKeys', 'env', 'team'), values: { 'aws:tagkeys': ['env', 'cost'] }, expected: false },
  { name: 'ForAllValues absent is true', condition: c('ForAllValues:StringEquals', 'aws:TagKeys', 'env'), values: {}, expected: true },
  { name: 'ForAllValues empty is true', condition: c('ForAllValues:StringEquals', 'aws:TagKeys', 'env'), values: { 'aws:tagkeys': [] }, expected: true },
  { name: 'ForAllValues:StringNotEquals none inside', condition: c('ForAllValues:StringNotEquals', 'aws:TagKeys', 'secret'), values: { 'aws:tagkeys': ['env', 'cost'] }, expected: true },
  { name: 'ForAllValues:StringNotEquals one inside', condition: c('ForAllValues:StringNotEquals', 'aws:TagKeys', 'secret'), values: { 'aws:tagkeys': ['env', 'secret'] }, expected: false },
  { name: 'ForAllValues:StringLike', condition: c('ForAllValues:StringLike', 'aws:TagKeys', 'team-*'), values: { 'aws:tagkeys': ['team-a', 'team-b'] }, expected: true },
  { name: 'ForAnyValue:StringLikeIfExists absent', condition: c('ForAnyValue:StringLikeIfExists', 'aws:TagKeys', 'team-*'), values: {}, expected: true },
  { name: 'plain StringEquals on a multi-valued key: some value matches', condition: c('StringEquals', 'aws:TagKeys', 'env'), values: { 'aws:tagkeys': ['cost', 'env'] }, expected: true },

  // Combination
  {
    name: 'keys under one operator AND (both hold)',
    condition: { StringEquals: { 's3:prefix': ['home/'], 's3:delimiter': ['/'] } },
    values: { 's3:prefix': ['home/'], 's3:delimiter': ['/'] },
    expected: true,
  },
  {
    name: 'keys under one operator AND (one fails)',
    condition: { StringEquals: { 's3:prefix': ['home/'], 's3:delimiter': ['/'] } },
    values: { 's3:prefix': ['home/'], 's3:delimiter': ['|'] },
    expected: false,
  },
  {
    name: 'operators AND',
    condition: { Bool: { 'aws:SecureTransport': ['true'] }, IpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } },
    values: { 'aws:securetransport': ['true'], 'aws:sourceip': ['192.168.0.1'] },
    expected: false,
  },
  { name: 'condition keys are case-insensitive', condition: c('Bool', 'AWS:SecureTransport', 'true'), values: { 'aws:securetransport': ['true'] }, expected: true },
  { name: 'Bool values are case-insensitive', condition: c('Bool', 'aws:SecureTransport', 'True'), values: { 'aws:securetransport': ['true'] }, expected: true },

  // Principal-derived keys need not be in the context
  { name: 'aws:username from the principal', condition: c('StringEquals', 'aws:username', 'alice'), values: {}, expected: true },
  { name: 'aws:PrincipalAccount from the principal', condition: c('StringEquals', 'aws:PrincipalAccount', '111111111111'), values: {}, expected: true },
  { name: 'aws:PrincipalArn from the principal', condition: c('ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::111111111111:user/*'), values: {}, expected: true },

  // Policy variables in values
  { name: 'variable: ${aws:username} in StringLike', condition: c('StringLike', 's3:prefix', 'home/${aws:username}/*'), values: { 's3:prefix': ['home/alice/x'] }, expected: true },
  { name: 'variable: another user prefix', condition: c('StringLike', 's3:prefix', 'home/${aws:username}/*'), values: { 's3:prefix': ['home/bob/x'] }, expected: false },
  { name: 'variable: unresolvable value matches nothing', condition: c('StringEquals', 's3:prefix', '${aws:PrincipalTag/team}'), values: { 's3:prefix': ['${aws:PrincipalTag/team}'] }, expected: false },
  { name: 'variable: default value', condition: c('StringEquals', 's3:prefix', "${aws:PrincipalTag/team, 'none'}"), values: { 's3:prefix': ['none'] }, expected: true },
  { name: 'variable: from request context (case-insensitive key)', condition: c('StringEquals', 's3:prefix', '${aws:PrincipalTag/Team}/'), values: { 's3:prefix': ['blue/'], 'aws:principaltag/team': ['blue'] }, expected: true },
  { name: 'variable: not substituted in 2008-10-17', condition: c('StringEquals', 's3:prefix', 'home/${aws:username}'), values: { 's3:prefix': ['home/${aws:username}'] }, expected: true, variables: false },
  { name: 'escape ${*} is a literal star in StringLike', condition: c('StringLike', 's3:prefix', 'a${*}b'), values: { 's3:prefix': ['a*b'] }, expected: true },
  { name: 'escape ${*} is not a wildcard', condition: c('StringLike', 's3:prefix', 'a${*}b'), values: { 's3:prefix': ['axxb'] }, expected: false },
  { name: 'variable value is literal, not a wildcard', condition: c('StringLike', 's3:prefix', '${aws:PrincipalTag/p}'), values: { 's3:prefix': ['anything'], 'aws:principaltag/p': ['*'] }, expected: false },
];

describe('condition operators', () => {
  for (const t of cases) {
    it(t.name, () => assert.equal(conditionsMatch(t.condition, ctx(t.values), t.variables ?? true), t.expected));
  }
});

describe('condition operator names', () => {
  const names: Array<[string, boolean]> = [
    ['StringEquals', true],
    ['ForAnyValue:StringLikeIfExists', true],
    ['ForAllValues:NumericLessThan', true],
    ['DateGreaterThanEqualsIfExists', true],
    ['ArnNotLikeIfExists', true],
    ['Null', true],
    ['NullIfExists', false],
    ['ForAnyValue:Null', false],
    ['stringEquals', false],
    ['ForSomeValues:StringEquals', false],
    ['StringEqualsIfExistsIfExists', false],
  ];
  for (const [name, ok] of names) {
    it(`${name} ${ok ? 'is' : 'is not'} an operator`, () => assert.equal(parseConditionOperator(name) !== undefined, ok));
  }
});

describe('CIDR parsing', () => {
  const table: Array<[string, string, boolean | 'invalid']> = [
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['::/0', '2001:db8::1', true],
    ['2001:db8::/32', '2001:0db8:ffff::', true],
    ['2001:db8::1', '2001:db8:0:0:0:0:0:1', true],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['1.2.3', '1.2.3.4', 'invalid'],
    ['1.2.3.256', '1.2.3.4', 'invalid'],
    ['1.2.3.4/33', '1.2.3.4', 'invalid'],
    ['2001:db8::/129', '2001:db8::1', 'invalid'],
    ['1::2::3', '1::3', 'invalid'],
  ];
  for (const [cidr, addr, expected] of table) {
    it(`${cidr} vs ${addr}`, () => {
      const block = parseCidr(cidr);
      if (expected === 'invalid') return assert.equal(block, undefined);
      const a = parseAddress(addr);
      assert.ok(block && a);
      assert.equal(cidrContains(block, a), expected);
    });
  }
});
