/** TagUser / UntagUser / ListUserTags and the same for roles. */
import { iamArn } from '../../iam/arns.js';
import type { IamHandler } from './context.js';
import { entityArn, mustGet, tagConditions } from './context.js';
import { indexOrder, paginate, pageXml, SHAPES, type StringShape } from './params.js';
import { tagsXml } from './xml.js';

export function tagHandlers(kind: 'user' | 'role', Kind: 'User' | 'Role', nameShape: StringShape): Record<string, IamHandler> {
  const nameParam = `${Kind}Name`;
  return {
    [`Tag${Kind}`]: (ctx) => {
      const name = ctx.p.required(nameParam, nameShape);
      const tags = ctx.p.tags();
      if (tags === undefined) ctx.p.required('Tags', {});
      ctx.p.done();
      ctx.authorize(`iam:Tag${Kind}`, entityArn(ctx, kind, name), tagConditions(tags));
      ctx.store.tagEntity(kind, ctx.account, name, tags ?? []);
      return undefined;
    },
    [`Untag${Kind}`]: (ctx) => {
      const name = ctx.p.required(nameParam, nameShape);
      const keys = ctx.p.list('TagKeys', SHAPES.tagKey, 50);
      if (keys === undefined) ctx.p.required('TagKeys', {});
      ctx.p.done();
      ctx.authorize(`iam:Untag${Kind}`, entityArn(ctx, kind, name), keys ? { 'aws:tagkeys': keys } : undefined);
      ctx.store.untagEntity(kind, ctx.account, name, keys ?? []);
      return undefined;
    },
    [`List${Kind}Tags`]: (ctx) => {
      const name = ctx.p.required(nameParam, nameShape);
      const paging = ctx.p.paging();
      ctx.p.done();
      ctx.authorize(`iam:List${Kind}Tags`, entityArn(ctx, kind, name));
      const e = mustGet(ctx, kind, name);
      const page = paginate(e.tags, indexOrder(e.tags), paging);
      return tagsXml(page.items) + pageXml(page);
    },
  };
}

/** The resource a List operation is authorized on: the account's entities under a path. */
export function listResource(kind: 'user' | 'role' | 'group' | 'policy', account: string, pathPrefix: string): string {
  return iamArn(kind, account, pathPrefix, '');
}
