/**
 * IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
 * UpdateAssumeRolePolicy, DeleteRole, role tags, and ListInstanceProfilesForRole (always empty:
 * there are no instance profiles here, and tools that delete roles ask for them first).
 */
import { iamArn } from '../../iam/arns.js';
import type { Entity } from '../../iam/identity-store.js';
import { boundaryUnsupported, entityArn, mustGet, tagConditions, type IamHandler } from './context.js';
import { checkPolicyDocument } from './documents.js';
import { nameOrder, paginate, pageXml, SHAPES } from './params.js';
import { listResource, tagHandlers } from './tags.js';
import { el, encodePolicy, isoSeconds, members, tagsXml } from './xml.js';

/**
 * A <Role> body. `detail`: 'get' (GetRole: everything, with RoleLastUsed), 'list' (ListRoles:
 * no tags), 'create' (CreateRole / UpdateRoleDescription: no MaxSessionDuration).
 */
export function roleXml(r: Entity, detail: 'get' | 'list' | 'create'): string {
  return (
    el('Path', r.path) +
    el('RoleName', r.name) +
    el('RoleId', r.id) +
    el('Arn', r.arn) +
    el('CreateDate', isoSeconds(r.createdAt)) +
    el('AssumeRolePolicyDocument', encodePolicy(r.trustPolicy!)) +
    el('Description', r.description) +
    (detail === 'create' ? '' : el('MaxSessionDuration', r.maxSessionDuration)) +
    (detail !== 'list' && r.tags.length > 0 ? tagsXml(r.tags) : '') +
    (detail === 'get' ? '<RoleLastUsed/>' : '')
  );
}

export const roleHandlers: Record<string, IamHandler> = {
  CreateRole: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    const path = ctx.p.string('Path', SHAPES.path) ?? '/';
    const trust = ctx.p.required('AssumeRolePolicyDocument', SHAPES.policyDocument);
    const description = ctx.p.string('Description', SHAPES.roleDescription);
    const maxSessionDuration = ctx.p.int('MaxSessionDuration', { min: 3600, max: 43200 });
    const boundary = ctx.p.string('PermissionsBoundary', SHAPES.arn);
    const tags = ctx.p.tags();
    ctx.p.done();
    ctx.authorize('iam:CreateRole', iamArn('role', ctx.account, path, name), tagConditions(tags));
    if (boundary !== undefined) throw boundaryUnsupported();
    checkPolicyDocument(trust, 'trust');
    const init: Parameters<typeof ctx.store.createEntity>[2] = { name, path, trustPolicy: trust };
    if (description !== undefined) init.description = description;
    if (maxSessionDuration !== undefined) init.maxSessionDuration = maxSessionDuration;
    if (tags !== undefined) init.tags = tags;
    const role = ctx.store.createEntity('role', ctx.account, init);
    return `<Role>${roleXml(role, 'create')}</Role>`;
  },

  GetRole: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    ctx.p.done();
    ctx.authorize('iam:GetRole', entityArn(ctx, 'role', name));
    return `<Role>${roleXml(mustGet(ctx, 'role', name), 'get')}</Role>`;
  },

  ListRoles: (ctx) => {
    const prefix = ctx.p.string('PathPrefix', SHAPES.pathPrefix) ?? '/';
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:ListRoles', listResource('role', ctx.account, prefix));
    const page = paginate(ctx.store.listEntities('role', ctx.account, prefix), nameOrder, paging);
    return members('Roles', page.items.map((r) => roleXml(r, 'list'))) + pageXml(page);
  },

  UpdateRole: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    const description = ctx.p.string('Description', SHAPES.roleDescription);
    const maxSessionDuration = ctx.p.int('MaxSessionDuration', { min: 3600, max: 43200 });
    ctx.p.done();
    ctx.authorize('iam:UpdateRole', entityArn(ctx, 'role', name));
    const change: { description?: string; maxSessionDuration?: number } = {};
    if (description !== undefined) change.description = description;
    if (maxSessionDuration !== undefined) change.maxSessionDuration = maxSessionDuration;
    ctx.store.updateRole(ctx.account, name, change);
    return '';
  },

  UpdateRoleDescription: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    const description = ctx.p.required('Description', SHAPES.roleDescription);
    ctx.p.done();
    ctx.authorize('iam:UpdateRoleDescription', entityArn(ctx, 'role', name));
    const role = ctx.store.updateRole(ctx.account, name, { description });
    return `<Role>${roleXml(role, 'get')}</Role>`;
  },

  UpdateAssumeRolePolicy: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    const doc = ctx.p.required('PolicyDocument', SHAPES.policyDocument);
    ctx.p.done();
    ctx.authorize('iam:UpdateAssumeRolePolicy', entityArn(ctx, 'role', name));
    mustGet(ctx, 'role', name);
    checkPolicyDocument(doc, 'trust');
    ctx.store.updateRole(ctx.account, name, { trustPolicy: doc });
    return undefined;
  },

  DeleteRole: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    ctx.p.done();
    ctx.authorize('iam:DeleteRole', entityArn(ctx, 'role', name));
    ctx.store.deleteEntity('role', ctx.account, name);
    return undefined;
  },

  ListInstanceProfilesForRole: (ctx) => {
    const name = ctx.p.required('RoleName', SHAPES.roleName);
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:ListInstanceProfilesForRole', entityArn(ctx, 'role', name));
    mustGet(ctx, 'role', name);
    return members('InstanceProfiles', []) + pageXml(paginate([], () => '', paging));
  },

  ...tagHandlers('role', 'Role', SHAPES.roleName),
};
