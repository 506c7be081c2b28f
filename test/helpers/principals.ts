/** Principals as the identity store makes them, for policy and authorization unit tests. */
import type { Principal } from '../../src/policy/types.js';

export const root = (acct: string): Principal => ({
  kind: 'root',
  accountId: acct,
  arn: `arn:aws:iam::${acct}:root`,
  principalArn: `arn:aws:iam::${acct}:root`,
  userId: acct,
});
export const user = (acct: string, name: string): Principal => ({
  kind: 'user',
  accountId: acct,
  arn: `arn:aws:iam::${acct}:user/${name}`,
  principalArn: `arn:aws:iam::${acct}:user/${name}`,
  userId: `AIDA${name.toUpperCase()}`,
  username: name,
});
export const session = (acct: string, role: string, name: string): Principal => ({
  kind: 'assumed-role',
  accountId: acct,
  arn: `arn:aws:sts::${acct}:assumed-role/${role}/${name}`,
  principalArn: `arn:aws:iam::${acct}:role/${role}`,
  userId: `AROA${role.toUpperCase()}:${name}`,
});
export const anonymous: Principal = { kind: 'anonymous', accountId: '', arn: '*', principalArn: '*', userId: 'anonymous' };
export const service = (name: string): Principal => ({ kind: 'service', accountId: '', arn: name, principalArn: name, userId: name });
