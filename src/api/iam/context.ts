/**
 * What every IAM operation handler gets: the call, the identity store, the validated-parameter
 * reader, the caller's account, and authorization that throws AWS's AccessDenied.
 *
 * A handler returns the inner XML of its <ActionResult> (undefined for operations whose answer
 * has no result element) or throws an IamError.
 */
import type { ServiceCall } from '../service/call.js';
import type { ConditionValues, Decision, Principal } from '../../policy/types.js';
import type { Entity, EntityKind, IdentityStore, Tag } from '../../iam/identity-store.js';
import { iamArn } from '../../iam/arns.js';
import { IamError, IamErrors } from '../../iam/errors.js';
import type { Params } from './params.js';

export interface IamContext {
  call: ServiceCall;
  store: IdentityStore;
  p: Params;
  /** The caller's account: IAM entities are always the caller's account's. */
  account: string;
  caller: Principal;
  /** Throws AccessDenied unless the caller may perform `action` on `resource`. */
  authorize(action: string, resource: string, conditions?: ConditionValues): void;
}

export type IamHandler = (ctx: IamContext) => string | undefined;

/** IAM's AccessDenied wording, with the reason AWS appends. */
export function notAuthorized(caller: Principal, action: string, resource: string, reason?: Decision['reason']): IamError {
  const why =
    reason === 'explicit-deny'
      ? ' with an explicit deny in an identity-based policy'
      : reason === 'implicit-deny'
        ? ` because no identity-based policy allows the ${action} action`
        : '';
  return IamErrors.accessDenied(`User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource}${why}`);
}

export function makeContext(call: ServiceCall, p: Params): IamContext {
  const caller = call.principal;
  return {
    call,
    store: call.app.iam,
    p,
    account: caller.accountId,
    caller,
    authorize(action, resource, conditions) {
      const d = call.authorize(action, resource, conditions ? { conditions } : undefined);
      if (!d.allowed) throw notAuthorized(caller, action, resource, d.reason);
    },
  };
}

/**
 * The ARN to authorize an operation on a named user, role or group against: the entity's own
 * (with its path) when it exists, else the ARN it would have at the root path. Authorization
 * comes before the existence check, so an unauthorized caller learns nothing of what exists.
 */
export function entityArn(ctx: IamContext, kind: EntityKind, name: string): string {
  return ctx.store.getEntity(kind, ctx.account, name)?.arn ?? iamArn(kind, ctx.account, '/', name);
}

/** The entity after authorization, or NoSuchEntity in AWS's words. */
export function mustGet(ctx: IamContext, kind: EntityKind, name: string): Entity {
  const e = ctx.store.getEntity(kind, ctx.account, name);
  if (!e) throw IamErrors.noSuchEntity(`The ${kind} with name ${name} cannot be found.`);
  return e;
}

/**
 * The user an operation is about: UserName, else the caller itself when it is an IAM user.
 * Operations on a role session's own user make no sense: AWS answers ValidationError.
 */
export function targetUserName(ctx: IamContext, given: string | undefined): string {
  if (given !== undefined) return given;
  if (ctx.caller.kind === 'user' && ctx.caller.username !== undefined) return ctx.caller.username;
  throw IamErrors.validation('Must specify userName when calling with non-User credentials');
}

/** aws:TagKeys and aws:RequestTag/<key> for an operation that sets tags. */
export function tagConditions(tags: Tag[] | undefined): ConditionValues | undefined {
  if (!tags || tags.length === 0) return undefined;
  const c: ConditionValues = { 'aws:tagkeys': tags.map((t) => t.key) };
  for (const t of tags) c[`aws:requesttag/${t.key.toLowerCase()}`] = [t.value];
  return c;
}

/**
 * Permissions boundaries cap what identity policies grant. The policy engine does not apply
 * them, so accepting one would silently grant more than the caller meant: refused instead.
 */
export function boundaryUnsupported(): IamError {
  return IamErrors.invalidInput('Permissions boundaries are not supported by this endpoint (they would not be enforced).');
}
