/**
 * Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, their versions
 * (Create/Get/List/Delete PolicyVersion, SetDefaultPolicyVersion), ListEntitiesForPolicy and
 * policy tags. The AWS managed policies known here (src/iam/aws-managed.ts) are listed with
 * Scope AWS or All and can be attached, but not changed.
 */
import { iamArn } from '../../iam/arns.js';
import { IamErrors } from '../../iam/errors.js';
import type { ManagedPolicy, PolicyScope, PolicyVersion } from '../../iam/identity-store.js';
import { tagConditions, type IamContext, type IamHandler } from './context.js';
import { checkPolicyDocument } from './documents.js';
import { policyArnParam } from './entity-policies.js';
import { indexOrder, nameOrder, paginate, pageXml, SHAPES } from './params.js';
import { listResource } from './tags.js';
import { el, encodePolicy, isoSeconds, members, tagsXml } from './xml.js';

/**
 * A <Policy> body. 'get' has everything; 'list' and 'create' leave out the description and
 * tags, as ListPolicies does (CreatePolicy returns the tags it was given).
 */
function policyXml(ctx: IamContext, p: ManagedPolicy, detail: 'get' | 'list' | 'create'): string {
  return (
    el('PolicyName', p.name) +
    el('PolicyId', p.id) +
    el('Arn', p.arn) +
    el('Path', p.path) +
    el('DefaultVersionId', p.defaultVersionId) +
    el('AttachmentCount', ctx.store.attachmentCount(ctx.account, p)) +
    el('PermissionsBoundaryUsageCount', 0) +
    el('IsAttachable', true) +
    (detail === 'get' ? el('Description', p.description) : '') +
    el('CreateDate', isoSeconds(p.createdAt)) +
    el('UpdateDate', isoSeconds(p.updatedAt)) +
    (detail !== 'list' && p.tags.length > 0 ? tagsXml(p.tags) : '')
  );
}

function versionXml(p: ManagedPolicy, v: PolicyVersion, withDocument: boolean): string {
  return (
    (withDocument ? el('Document', encodePolicy(v.document)) : '') +
    el('VersionId', v.versionId) +
    el('IsDefaultVersion', v.versionId === p.defaultVersionId) +
    el('CreateDate', isoSeconds(v.createdAt))
  );
}

function mustGetPolicy(ctx: IamContext, arn: string): ManagedPolicy {
  const p = ctx.store.getManagedPolicy(ctx.account, arn);
  if (!p) throw IamErrors.noSuchEntity(`Policy ${arn} was not found.`);
  return p;
}

/** PolicyArn and VersionId of the version operations. */
function versionParams(ctx: IamContext): { arn: string; versionId: string } {
  const versionId = ctx.p.required('VersionId', SHAPES.policyVersionId);
  return { versionId, arn: policyArnParam(ctx) };
}

export const policyHandlers: Record<string, IamHandler> = {
  CreatePolicy: (ctx) => {
    const name = ctx.p.required('PolicyName', SHAPES.policyName);
    const path = ctx.p.string('Path', SHAPES.policyPath) ?? '/';
    const doc = ctx.p.required('PolicyDocument', SHAPES.policyDocument);
    const description = ctx.p.string('Description', SHAPES.policyDescription);
    const tags = ctx.p.tags();
    ctx.p.done();
    ctx.authorize('iam:CreatePolicy', iamArn('policy', ctx.account, path, name), tagConditions(tags));
    checkPolicyDocument(doc, 'identity');
    const init: Parameters<typeof ctx.store.createPolicy>[1] = { name, path, document: doc };
    if (description !== undefined) init.description = description;
    if (tags !== undefined) init.tags = tags;
    const p = ctx.store.createPolicy(ctx.account, init);
    return `<Policy>${policyXml(ctx, p, 'create')}</Policy>`;
  },

  GetPolicy: (ctx) => {
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:GetPolicy', arn);
    return `<Policy>${policyXml(ctx, mustGetPolicy(ctx, arn), 'get')}</Policy>`;
  },

  ListPolicies: (ctx) => {
    const scope = ctx.p.enumValue<PolicyScope>('Scope', ['All', 'AWS', 'Local']) ?? 'All';
    const onlyAttached = ctx.p.bool('OnlyAttached') ?? false;
    const prefix = ctx.p.string('PathPrefix', SHAPES.policyPath) ?? '/';
    const usage = ctx.p.enumValue('PolicyUsageFilter', ['PermissionsPolicy', 'PermissionsBoundary']);
    const paging = ctx.p.paging();
    ctx.p.done();
    ctx.authorize('iam:ListPolicies', listResource('policy', ctx.account, prefix));
    // No policy is used as a permissions boundary here (boundaries are not supported).
    const all = usage === 'PermissionsBoundary' ? [] : ctx.store.listManagedPolicies(ctx.account, scope, prefix, onlyAttached);
    const page = paginate(all, (p) => `${nameOrder(p)}\0${p.arn}`, paging);
    return members('Policies', page.items.map((p) => policyXml(ctx, p, 'list'))) + pageXml(page);
  },

  DeletePolicy: (ctx) => {
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:DeletePolicy', arn);
    ctx.store.deletePolicy(ctx.account, arn, ctx.caller.arn);
    return undefined;
  },

  CreatePolicyVersion: (ctx) => {
    const doc = ctx.p.required('PolicyDocument', SHAPES.policyDocument);
    const setAsDefault = ctx.p.bool('SetAsDefault') ?? false;
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:CreatePolicyVersion', arn);
    const p = mustGetPolicy(ctx, arn);
    checkPolicyDocument(doc, 'identity');
    const v = ctx.store.createPolicyVersion(ctx.account, p.arn, doc, setAsDefault, ctx.caller.arn);
    const updated = mustGetPolicy(ctx, p.arn);
    return `<PolicyVersion>${versionXml(updated, v, false)}</PolicyVersion>`;
  },

  GetPolicyVersion: (ctx) => {
    const { arn, versionId } = versionParams(ctx);
    ctx.authorize('iam:GetPolicyVersion', arn);
    const { policy, version } = ctx.store.getPolicyVersion(ctx.account, arn, versionId);
    return `<PolicyVersion>${versionXml(policy, version, true)}</PolicyVersion>`;
  },

  ListPolicyVersions: (ctx) => {
    const paging = ctx.p.paging();
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:ListPolicyVersions', arn);
    const p = mustGetPolicy(ctx, arn);
    // Newest first, as IAM lists them.
    const versions = [...p.versions].reverse();
    const page = paginate(versions, indexOrder(versions), paging);
    return members('Versions', page.items.map((v) => versionXml(p, v, false))) + pageXml(page);
  },

  DeletePolicyVersion: (ctx) => {
    const { arn, versionId } = versionParams(ctx);
    ctx.authorize('iam:DeletePolicyVersion', arn);
    ctx.store.deletePolicyVersion(ctx.account, arn, versionId, ctx.caller.arn);
    return undefined;
  },

  SetDefaultPolicyVersion: (ctx) => {
    const { arn, versionId } = versionParams(ctx);
    ctx.authorize('iam:SetDefaultPolicyVersion', arn);
    ctx.store.setDefaultPolicyVersion(ctx.account, arn, versionId, ctx.caller.arn);
    return undefined;
  },

  ListEntitiesForPolicy: (ctx) => {
    const filter = ctx.p.enumValue('EntityFilter', ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy']);
    const prefix = ctx.p.string('PathPrefix', SHAPES.path) ?? '/';
    const usage = ctx.p.enumValue('PolicyUsageFilter', ['PermissionsPolicy', 'PermissionsBoundary']);
    const paging = ctx.p.paging();
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:ListEntitiesForPolicy', arn);
    const p = mustGetPolicy(ctx, arn);
    const entities =
      usage === 'PermissionsBoundary'
        ? []
        : ctx.store
            .entitiesWithPolicy(ctx.account, p)
            .filter((e) => e.path.startsWith(prefix))
            .filter((e) => filter === undefined || filter.toLowerCase() === e.kind);
    const page = paginate(entities, (e) => `${e.kind}\0${nameOrder(e)}`, paging);
    const of = (kind: string) => page.items.filter((e) => e.kind === kind);
    return (
      members('PolicyGroups', of('group').map((e) => el('GroupName', e.name) + el('GroupId', e.id))) +
      members('PolicyUsers', of('user').map((e) => el('UserName', e.name) + el('UserId', e.id))) +
      members('PolicyRoles', of('role').map((e) => el('RoleName', e.name) + el('RoleId', e.id))) +
      pageXml(page)
    );
  },

  TagPolicy: (ctx) => {
    const tags = ctx.p.tags();
    if (tags === undefined) ctx.p.required('Tags', {});
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:TagPolicy', arn, tagConditions(tags));
    ctx.store.tagPolicy(ctx.account, arn, tags ?? [], ctx.caller.arn);
    return undefined;
  },

  UntagPolicy: (ctx) => {
    const keys = ctx.p.list('TagKeys', SHAPES.tagKey, 50);
    if (keys === undefined) ctx.p.required('TagKeys', {});
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:UntagPolicy', arn, keys ? { 'aws:tagkeys': keys } : undefined);
    ctx.store.untagPolicy(ctx.account, arn, keys ?? [], ctx.caller.arn);
    return undefined;
  },

  ListPolicyTags: (ctx) => {
    const paging = ctx.p.paging();
    const arn = policyArnParam(ctx);
    ctx.authorize('iam:ListPolicyTags', arn);
    const p = mustGetPolicy(ctx, arn);
    const page = paginate(p.tags, indexOrder(p.tags), paging);
    return tagsXml(page.items) + pageXml(page);
  },
};
