/**
 * IAM groups: CreateGroup, GetGroup (with its users), ListGroups, UpdateGroup, DeleteGroup,
 * AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser. A group's policies apply to its users.
 */
import { iamArn } from '../../iam/arns.js';
import type { Entity } from '../../iam/identity-store.js';
import { entityArn, mustGet, type IamHandler } from './context.js';
import { nameOrder, paginate, pageXml, SHAPES } from './params.js';
import { listResource } from './tags.js';
import { userXml } from './users.js';
import { el, isoSeconds, members } from './xml.js';

export function groupXml(g: Entity): string {
  return el('Path', g.path) + el('GroupName', g.name) + el('GroupId', g.id) + el('Arn', g.arn) + el('CreateDate', isoSeconds(g.createdAt));
}

export const groupHandlers: Record<string, IamHandler> = {
  CreateGroup: (ctx) => {
    const name = ctx.p.required('GroupName', SHAPES.groupName);
    const path = ctx.p.string('Path', SHAPES.path) ?? '/';
    ctx.p.done();
    ctx.authorize('iam:CreateGroup', iamArn('group', ctx.account, path, name));
    return `<Group>${groupXml(ctx.store.createEntity('group', ctx.account, { name, path }))}</Group>`;
  },

  GetGroup: (ctx) => {
    const name = ctx.p.required('GroupName', SHAPES.groupName);
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:GetGroup', entityArn(ctx, 'group', name));
    const g = mustGet(ctx, 'group', name);
    const page = paginate(ctx.store.membersOf(g.id), nameOrder, paging);
    return `<Group>${groupXml(g)}</Group>` + members('Users', page.items.map((u) => userXml(u, false))) + pageXml(page);
  },

  ListGroups: (ctx) => {
    const prefix = ctx.p.string('PathPrefix', SHAPES.pathPrefix) ?? '/';
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:ListGroups', listResource('group', ctx.account, prefix));
    const page = paginate(ctx.store.listEntities('group', ctx.account, prefix), nameOrder, paging);
    return members('Groups', page.items.map(groupXml)) + pageXml(page);
  },

  UpdateGroup: (ctx) => {
    const name = ctx.p.required('GroupName', SHAPES.groupName);
    const newPath = ctx.p.string('NewPath', SHAPES.path);
    const newName = ctx.p.string('NewGroupName', SHAPES.groupName);
    ctx.p.done();
    ctx.authorize('iam:UpdateGroup', entityArn(ctx, 'group', name));
    const change: { newName?: string; newPath?: string } = {};
    if (newName !== undefined) change.newName = newName;
    if (newPath !== undefined) change.newPath = newPath;
    ctx.store.renameEntity('group', ctx.account, name, change);
    return undefined;
  },

  DeleteGroup: (ctx) => {
    const name = ctx.p.required('GroupName', SHAPES.groupName);
    ctx.p.done();
    ctx.authorize('iam:DeleteGroup', entityArn(ctx, 'group', name));
    ctx.store.deleteEntity('group', ctx.account, name);
    return undefined;
  },

  AddUserToGroup: (ctx) => {
    const group = ctx.p.required('GroupName', SHAPES.groupName);
    const user = ctx.p.required('UserName', SHAPES.existingUserName);
    ctx.p.done();
    ctx.authorize('iam:AddUserToGroup', entityArn(ctx, 'group', group));
    ctx.store.addUserToGroup(ctx.account, group, user);
    return undefined;
  },

  RemoveUserFromGroup: (ctx) => {
    const group = ctx.p.required('GroupName', SHAPES.groupName);
    const user = ctx.p.required('UserName', SHAPES.existingUserName);
    ctx.p.done();
    ctx.authorize('iam:RemoveUserFromGroup', entityArn(ctx, 'group', group));
    ctx.store.removeUserFromGroup(ctx.account, group, user);
    return undefined;
  },

  ListGroupsForUser: (ctx) => {
    const name = ctx.p.required('UserName', SHAPES.existingUserName);
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:ListGroupsForUser', entityArn(ctx, 'user', name));
    const u = mustGet(ctx, 'user', name);
    const page = paginate(ctx.store.groupsOf(u.id), nameOrder, paging);
    return members('Groups', page.items.map(groupXml)) + pageXml(page);
  },
};
