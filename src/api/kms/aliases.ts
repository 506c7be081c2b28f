/**
 * Alias operations: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. An alias is a name in
 * one account and region for one key; names under alias/aws/ belong to AWS managed keys and no
 * caller may create, repoint or delete them (NotAuthorizedException).
 *
 * Changing an alias needs permission on the alias (IAM policies, the alias ARN as resource) and
 * on each key it touches (their key policies).
 */
import { KmsErrors } from '../../crypto/kms-errors.js';
import type { KeyInfo } from '../../crypto/kms.js';
import { authorizeIdentity, authorizeKey } from './access.js';
import type { KmsCall, KmsHandler } from './call.js';
import { ownKey } from './keys.js';
import { KEY_ID_RULE, decodeMarker, encodeMarker, epochSeconds } from './wire.js';

const ALIAS_RULE = { required: true, min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/, patternText: '^[a-zA-Z0-9:/_-]+$' } as const;

function aliasName(c: KmsCall, member = 'AliasName'): string {
  return c.p.string(member, ALIAS_RULE);
}

/** The checks every alias-changing operation makes on the name, in KMS's order. */
function checkName(name: string, creating: boolean): void {
  if (!name.startsWith('alias/')) {
    throw KmsErrors.validation(
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
  }
  if (name.startsWith('alias/aws/')) throw KmsErrors.notAuthorized();
  if (creating && (name.includes(':') || name === 'alias/')) {
    throw KmsErrors.validation(`${name} contains invalid characters for an alias`);
  }
}

/** An alias targets a key, never another alias. */
function targetKey(c: KmsCall, targetKeyId: string): KeyInfo {
  if (targetKeyId.startsWith('alias/') || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(targetKeyId)) {
    throw KmsErrors.validation('Aliases must refer to keys. Not aliases');
  }
  return ownKey(c, targetKeyId);
}

export const createAlias: KmsHandler = (c) => {
  const name = aliasName(c);
  const targetKeyId = c.p.string('TargetKeyId', KEY_ID_RULE);
  c.p.done();
  checkName(name, true);
  const key = targetKey(c, targetKeyId);
  authorizeIdentity(c.call, 'kms:CreateAlias', c.kms.aliasArn(c.account, name));
  authorizeKey(c.call, 'kms:CreateAlias', key);
  c.kms.createAlias(c.account, name, key);
  return undefined;
};

export const updateAlias: KmsHandler = (c) => {
  const name = aliasName(c);
  const targetKeyId = c.p.string('TargetKeyId', KEY_ID_RULE);
  c.p.done();
  checkName(name, false);
  const existing = c.kms.getAlias(c.account, name);
  if (existing === undefined) throw KmsErrors.aliasNotFound(c.kms.aliasArn(c.account, name));
  const key = targetKey(c, targetKeyId);
  authorizeIdentity(c.call, 'kms:UpdateAlias', c.kms.aliasArn(c.account, name));
  const current = c.kms.keyById(existing.keyId);
  if (current !== undefined) authorizeKey(c.call, 'kms:UpdateAlias', current);
  authorizeKey(c.call, 'kms:UpdateAlias', key);
  c.kms.updateAlias(c.account, name, key);
  return undefined;
};

export const deleteAlias: KmsHandler = (c) => {
  const name = aliasName(c);
  c.p.done();
  checkName(name, false);
  const existing = c.kms.getAlias(c.account, name);
  if (existing === undefined) throw KmsErrors.aliasNotFound(c.kms.aliasArn(c.account, name));
  authorizeIdentity(c.call, 'kms:DeleteAlias', c.kms.aliasArn(c.account, name));
  const key = c.kms.keyById(existing.keyId);
  if (key !== undefined) authorizeKey(c.call, 'kms:DeleteAlias', key);
  c.kms.deleteAlias(c.account, name);
  return undefined;
};

export const listAliases: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', { min: 1, max: 2048 });
  // The model allows up to 1000; the service returns at most 100 per page.
  const limit = Math.min(c.p.integer('Limit', { min: 1, max: 1000 }) ?? 50, 100);
  const marker = c.p.string('Marker', { min: 1, max: 1024, pattern: /^[\u0020-\u00FF]*$/, patternText: '[\\u0020-\\u00FF]*' });
  c.p.done();
  const key = keyId === undefined ? undefined : ownKey(c, keyId);
  authorizeIdentity(c.call, 'kms:ListAliases', '*');
  const { aliases, truncated } = c.kms.listAliases(c.account, decodeMarker(marker), limit, key?.keyId);
  const out: Record<string, unknown> = {
    Aliases: aliases.map((a) => {
      const entry: Record<string, unknown> = { AliasName: a.name, AliasArn: a.arn };
      if (a.keyId !== undefined) entry.TargetKeyId = a.keyId;
      if (a.createdAt !== undefined) entry.CreationDate = epochSeconds(a.createdAt);
      if (a.updatedAt !== undefined) entry.LastUpdateDate = epochSeconds(a.updatedAt);
      return entry;
    }),
    Truncated: truncated,
  };
  if (truncated) out.NextMarker = encodeMarker(aliases[aliases.length - 1]!.name);
  return out;
};
