/**
 * Inline and attached policies of users, roles and groups, one set of handlers per kind:
 * Put/Get/List/Delete{User,Role,Group}Policy and Attach/Detach/ListAttached{...}Policies.
 */
import { parseIamArn } from '../../iam/arns.js';
import { IamErrors } from '../../iam/errors.js';
import type { EntityKind } from '../../iam/identity-store.js';
import { entityArn, mustGet, type IamContext, type IamHandler } from './context.js';
import { checkPolicyDocument } from './documents.js';
import { indexOrder, paginate, pageXml, SHAPES, type StringShape } from './params.js';
import { el, encodePolicy, esc, members } from './xml.js';

/** PolicyArn of Attach/Detach/Get... operations: a policy ARN, else InvalidInput as IAM answers. */
export function policyArnParam(ctx: IamContext): string {
  const arn = ctx.p.required('PolicyArn', SHAPES.arn);
  ctx.p.done();
  const parsed = parseIamArn(arn);
  if (!parsed || parsed.type !== 'policy') throw IamErrors.invalidInput(`ARN ${arn} is not valid.`);
  return arn;
}

function entityPolicyHandlers(
  kind: EntityKind,
  Kind: 'User' | 'Role' | 'Group',
  shapes: { inline: StringShape; attach: StringShape },
): Record<string, IamHandler> {
  const nameParam = `${Kind}Name`;
  return {
    [`Put${Kind}Policy`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.inline);
      const policyName = ctx.p.required('PolicyName', SHAPES.policyName);
      const doc = ctx.p.required('PolicyDocument', SHAPES.policyDocument);
      ctx.p.done();
      ctx.authorize(`iam:Put${Kind}Policy`, entityArn(ctx, kind, name));
      mustGet(ctx, kind, name);
      checkPolicyDocument(doc, 'identity');
      ctx.store.putInlinePolicy(kind, ctx.account, name, policyName, doc);
      return undefined;
    },

    [`Get${Kind}Policy`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.inline);
      const policyName = ctx.p.required('PolicyName', SHAPES.policyName);
      ctx.p.done();
      ctx.authorize(`iam:Get${Kind}Policy`, entityArn(ctx, kind, name));
      const e = mustGet(ctx, kind, name);
      const doc = ctx.store.getInlinePolicy(e.id, policyName);
      if (doc === undefined) throw IamErrors.noSuchEntity(`The ${kind} policy with name ${policyName} cannot be found.`);
      return el(nameParam, e.name) + el('PolicyName', policyName) + el('PolicyDocument', encodePolicy(doc));
    },

    [`List${Kind}Policies`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.inline);
      const paging = ctx.p.paging();
      ctx.p.done();
      ctx.authorize(`iam:List${Kind}Policies`, entityArn(ctx, kind, name));
      const e = mustGet(ctx, kind, name);
      const page = paginate(ctx.store.inlinePolicyNames(e.id), (n) => n, paging);
      return members('PolicyNames', page.items.map((n) => esc(n))) + pageXml(page);
    },

    [`Delete${Kind}Policy`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.inline);
      const policyName = ctx.p.required('PolicyName', SHAPES.policyName);
      ctx.p.done();
      ctx.authorize(`iam:Delete${Kind}Policy`, entityArn(ctx, kind, name));
      ctx.store.deleteInlinePolicy(kind, ctx.account, name, policyName);
      return undefined;
    },

    [`Attach${Kind}Policy`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.attach);
      const arn = policyArnParam(ctx);
      ctx.authorize(`iam:Attach${Kind}Policy`, entityArn(ctx, kind, name), { 'iam:policyarn': [arn] });
      ctx.store.attachPolicy(kind, ctx.account, name, arn);
      return undefined;
    },

    [`Detach${Kind}Policy`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.attach);
      const arn = policyArnParam(ctx);
      ctx.authorize(`iam:Detach${Kind}Policy`, entityArn(ctx, kind, name), { 'iam:policyarn': [arn] });
      ctx.store.detachPolicy(kind, ctx.account, name, arn);
      return undefined;
    },

    [`ListAttached${Kind}Policies`]: (ctx) => {
      const name = ctx.p.required(nameParam, shapes.attach);
      const prefix = ctx.p.string('PathPrefix', SHAPES.policyPath) ?? '/';
      const paging = ctx.p.paging();
      ctx.p.done();
      ctx.authorize(`iam:ListAttached${Kind}Policies`, entityArn(ctx, kind, name));
      const e = mustGet(ctx, kind, name);
      const attached = ctx.store.attachedPolicies(e.id).filter((p) => p.path.startsWith(prefix));
      const page = paginate(attached, indexOrder(attached), paging);
      const items = page.items.map((p) => el('PolicyName', p.name) + el('PolicyArn', p.arn));
      return members('AttachedPolicies', items) + pageXml(page);
    },
  };
}

export const entityPolicyHandlersAll: Record<string, IamHandler> = {
  ...entityPolicyHandlers('user', 'User', { inline: SHAPES.existingUserName, attach: SHAPES.userName }),
  ...entityPolicyHandlers('role', 'Role', { inline: SHAPES.roleName, attach: SHAPES.roleName }),
  ...entityPolicyHandlers('group', 'Group', { inline: SHAPES.groupName, attach: SHAPES.groupName }),
};
