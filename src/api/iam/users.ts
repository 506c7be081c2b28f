/** IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and user tags. */
import { iamArn, rootArn } from '../../iam/arns.js';
import type { Entity } from '../../iam/identity-store.js';
import { boundaryUnsupported, entityArn, mustGet, tagConditions, targetUserName, type IamHandler } from './context.js';
import { nameOrder, paginate, pageXml, SHAPES } from './params.js';
import { listResource, tagHandlers } from './tags.js';
import { el, isoSeconds, members, tagsXml } from './xml.js';

/** A <User> body; ListUsers leaves the tags out, as AWS does. */
export function userXml(u: Entity, withTags: boolean): string {
  return (
    el('Path', u.path) +
    el('UserName', u.name) +
    el('UserId', u.id) +
    el('Arn', u.arn) +
    el('CreateDate', isoSeconds(u.createdAt)) +
    (withTags && u.tags.length > 0 ? tagsXml(u.tags) : '')
  );
}

export const userHandlers: Record<string, IamHandler> = {
  CreateUser: (ctx) => {
    const name = ctx.p.required('UserName', SHAPES.userName);
    const path = ctx.p.string('Path', SHAPES.path) ?? '/';
    const tags = ctx.p.tags();
    const boundary = ctx.p.string('PermissionsBoundary', SHAPES.arn);
    ctx.p.done();
    ctx.authorize('iam:CreateUser', iamArn('user', ctx.account, path, name), tagConditions(tags));
    if (boundary !== undefined) throw boundaryUnsupported();
    const u = ctx.store.createEntity('user', ctx.account, tags ? { name, path, tags } : { name, path });
    return `<User>${userXml(u, true)}</User>`;
  },

  GetUser: (ctx) => {
    const given = ctx.p.string('UserName', SHAPES.existingUserName);
    ctx.p.done();
    if (given === undefined && ctx.caller.kind === 'root') {
      // The account's root user: no name or path, its id is the account number.
      const created = ctx.store.accountCreatedAt(ctx.account) ?? ctx.call.now;
      return `<User>${el('UserId', ctx.account)}${el('Arn', rootArn(ctx.account))}${el('CreateDate', isoSeconds(created))}</User>`;
    }
    const name = targetUserName(ctx, given);
    ctx.authorize('iam:GetUser', entityArn(ctx, 'user', name));
    return `<User>${userXml(mustGet(ctx, 'user', name), true)}</User>`;
  },

  ListUsers: (ctx) => {
    const prefix = ctx.p.string('PathPrefix', SHAPES.pathPrefix) ?? '/';
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:ListUsers', listResource('user', ctx.account, prefix));
    const page = paginate(ctx.store.listEntities('user', ctx.account, prefix), nameOrder, paging);
    return members('Users', page.items.map((u) => userXml(u, false))) + pageXml(page);
  },

  UpdateUser: (ctx) => {
    const name = ctx.p.required('UserName', SHAPES.existingUserName);
    const newPath = ctx.p.string('NewPath', SHAPES.path);
    const newName = ctx.p.string('NewUserName', SHAPES.userName);
    ctx.p.done();
    ctx.authorize('iam:UpdateUser', entityArn(ctx, 'user', name));
    const change: { newName?: string; newPath?: string } = {};
    if (newName !== undefined) change.newName = newName;
    if (newPath !== undefined) change.newPath = newPath;
    ctx.store.renameEntity('user', ctx.account, name, change);
    return undefined;
  },

  DeleteUser: (ctx) => {
    const name = ctx.p.required('UserName', SHAPES.existingUserName);
    ctx.p.done();
    ctx.authorize('iam:DeleteUser', entityArn(ctx, 'user', name));
    ctx.store.deleteEntity('user', ctx.account, name);
    return undefined;
  },

  ...tagHandlers('user', 'User', SHAPES.existingUserName),
};
