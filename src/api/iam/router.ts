/**
 * The IAM query API: picks the operation from Action, runs it with the caller's account and
 * authorization, and answers in the query protocol. IAM is global: the credential scope's region
 * plays no part.
 */
import type { ServiceDispatch } from '../service/call.js';
import { IamError } from '../../iam/errors.js';
import { accessKeyHandlers } from './access-keys.js';
import { makeContext, type IamHandler } from './context.js';
import { entityPolicyHandlersAll } from './entity-policies.js';
import { groupHandlers } from './groups.js';
import { Params } from './params.js';
import { policyHandlers } from './policies.js';
import { roleHandlers } from './roles.js';
import { userHandlers } from './users.js';
import { IAM_NS, queryService } from './xml.js';

const IAM_VERSION = '2010-05-08';

const HANDLERS = new Map<string, IamHandler>(
  Object.entries({
    ...userHandlers,
    ...accessKeyHandlers,
    ...roleHandlers,
    ...groupHandlers,
    ...entityPolicyHandlersAll,
    ...policyHandlers,
  }),
);

/** The IAM operations this endpoint implements. */
export const IAM_OPERATIONS: readonly string[] = [...HANDLERS.keys()].sort();

export const dispatchIam: ServiceDispatch = queryService(IAM_NS, IAM_VERSION, HANDLERS, (call, _action, handler, params) => {
  // GetSessionToken credentials reach IAM only with MFA context, which this endpoint never
  // issues (STS API reference, GetSessionToken).
  const session = call.app.iam.sessionOf(call.accessKeyId);
  if (session && session.kind !== 'role') {
    throw new IamError('InvalidClientTokenId', 403, 'The security token included in the request is invalid');
  }
  return handler(makeContext(call, new Params(params)));
});
