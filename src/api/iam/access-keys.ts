/**
 * Access keys of IAM users: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.
 *
 * Without UserName these act on the caller's own keys. The account root's keys are the
 * configured credentials: ListAccessKeys shows them, but they are changed in the configuration,
 * not through the API.
 */
import { rootArn } from '../../iam/arns.js';
import { IamErrors, type IamError } from '../../iam/errors.js';
import type { AccessKey } from '../../iam/identity-store.js';
import { entityArn, mustGet, targetUserName, type IamContext, type IamHandler } from './context.js';
import { paginate, pageXml, SHAPES } from './params.js';
import { el, isoSeconds, members } from './xml.js';

function rootKeysAreConfigured(): IamError {
  return IamErrors.invalidInput(
    "The account root's access keys are the credentials in this endpoint's configuration; specify UserName to manage an IAM user's keys.",
  );
}

function keyOrder(k: AccessKey): string {
  return `${String(k.createdAt).padStart(16, '0')}\0${k.accessKeyId}`;
}

/** The user the call is about; undefined when it is the account root (no UserName, root caller). */
function keyOwner(ctx: IamContext, given: string | undefined): string | undefined {
  if (given === undefined && ctx.caller.kind === 'root') return undefined;
  return targetUserName(ctx, given);
}

/** UpdateAccessKey / DeleteAccessKey: the user whose key it is, after authorization. */
function keyTarget(ctx: IamContext, action: string): { userName: string; accessKeyId: string; status?: 'Active' | 'Inactive' } {
  const given = ctx.p.string('UserName', SHAPES.existingUserName);
  const accessKeyId = ctx.p.required('AccessKeyId', SHAPES.accessKeyId);
  const status = action === 'iam:UpdateAccessKey' ? ctx.p.enumValue('Status', ['Active', 'Inactive', 'Expired'] as const, true) : undefined;
  ctx.p.done();
  const userName = keyOwner(ctx, given);
  if (userName === undefined) {
    ctx.authorize(action, rootArn(ctx.account));
    if (ctx.store.rootAccessKeys(ctx.account).includes(accessKeyId)) throw rootKeysAreConfigured();
    throw IamErrors.noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found.`);
  }
  ctx.authorize(action, entityArn(ctx, 'user', userName));
  if (status === 'Expired') throw IamErrors.invalidInput('Status must be Active or Inactive.');
  return status === undefined ? { userName, accessKeyId } : { userName, accessKeyId, status };
}

export const accessKeyHandlers: Record<string, IamHandler> = {
  CreateAccessKey: (ctx) => {
    const given = ctx.p.string('UserName', SHAPES.existingUserName);
    ctx.p.done();
    const userName = keyOwner(ctx, given);
    if (userName === undefined) {
      ctx.authorize('iam:CreateAccessKey', rootArn(ctx.account));
      throw rootKeysAreConfigured();
    }
    ctx.authorize('iam:CreateAccessKey', entityArn(ctx, 'user', userName));
    const user = mustGet(ctx, 'user', userName);
    const k = ctx.store.createAccessKey(ctx.account, user.name);
    return (
      '<AccessKey>' +
      el('UserName', user.name) +
      el('AccessKeyId', k.accessKeyId) +
      el('Status', k.status) +
      el('SecretAccessKey', k.secretAccessKey) +
      el('CreateDate', isoSeconds(k.createdAt)) +
      '</AccessKey>'
    );
  },

  ListAccessKeys: (ctx) => {
    const given = ctx.p.string('UserName', SHAPES.existingUserName);
    const paging = ctx.p.paging();
    ctx.p.done();
    const userName = keyOwner(ctx, given);
    if (userName === undefined) {
      ctx.authorize('iam:ListAccessKeys', rootArn(ctx.account));
      const created = ctx.store.accountCreatedAt(ctx.account) ?? ctx.call.now;
      const ids = ctx.store.rootAccessKeys(ctx.account);
      const page = paginate(ids, (id) => id, paging);
      const items = page.items.map((id) => el('AccessKeyId', id) + el('Status', 'Active') + el('CreateDate', isoSeconds(created)));
      return members('AccessKeyMetadata', items) + pageXml(page);
    }
    ctx.authorize('iam:ListAccessKeys', entityArn(ctx, 'user', userName));
    const user = mustGet(ctx, 'user', userName);
    const page = paginate(ctx.store.accessKeysOf(user.id), keyOrder, paging);
    const items = page.items.map(
      (k) => el('UserName', user.name) + el('AccessKeyId', k.accessKeyId) + el('Status', k.status) + el('CreateDate', isoSeconds(k.createdAt)),
    );
    return members('AccessKeyMetadata', items) + pageXml(page);
  },

  UpdateAccessKey: (ctx) => {
    const t = keyTarget(ctx, 'iam:UpdateAccessKey');
    ctx.store.updateAccessKey(ctx.account, t.userName, t.accessKeyId, t.status!);
    return undefined;
  },

  DeleteAccessKey: (ctx) => {
    const t = keyTarget(ctx, 'iam:DeleteAccessKey');
    ctx.store.deleteAccessKey(ctx.account, t.userName, t.accessKeyId);
    return undefined;
  },
};
