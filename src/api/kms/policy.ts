/**
 * Key policy operations: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. A key has one policy,
 * named "default"; GetKeyPolicy returns it exactly as it was set.
 */
import { KmsError } from '../../crypto/kms-errors.js';
import { parseKeyPolicy } from '../../crypto/kms.js';
import { authorizeKey, checkLockout } from './access.js';
import type { KmsCall, KmsHandler } from './call.js';
import { POLICY_RULE, ownKey } from './keys.js';
import { KEY_ID_RULE } from './wire.js';

const POLICY_NAME_RULE = { min: 1, max: 128, pattern: /^[\w]+$/, patternText: '[\\w]+' } as const;

function policyName(c: KmsCall): void {
  const name = c.p.string('PolicyName', POLICY_NAME_RULE);
  c.p.done();
  if (name !== undefined && name !== 'default') throw new KmsError('NotFoundException', 'No such policy exists');
}

export const getKeyPolicy: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', KEY_ID_RULE);
  policyName(c);
  const key = ownKey(c, keyId);
  authorizeKey(c.call, 'kms:GetKeyPolicy', key);
  return { Policy: key.policyText, PolicyName: 'default' };
};

export const putKeyPolicy: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', KEY_ID_RULE);
  const policy = c.p.string('Policy', { required: true, ...POLICY_RULE });
  const bypass = c.p.boolean('BypassPolicyLockoutSafetyCheck') ?? false;
  policyName(c);
  const key = ownKey(c, keyId);
  authorizeKey(c.call, 'kms:PutKeyPolicy', key);
  const parsed = parseKeyPolicy(policy);
  if (!bypass) checkLockout(c.call, key, parsed);
  c.kms.putKeyPolicy(key, policy);
  return undefined;
};

export const listKeyPolicies: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', KEY_ID_RULE);
  c.p.integer('Limit', { min: 1, max: 1000 });
  c.p.string('Marker', { min: 1, max: 1024 });
  c.p.done();
  const key = ownKey(c, keyId);
  authorizeKey(c.call, 'kms:ListKeyPolicies', key);
  return { PolicyNames: ['default'], Truncated: false };
};
