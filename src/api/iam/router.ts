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
import { IAM_NS, queryError, queryResponse, requestParams } from './xml.js';

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

export const dispatchIam: ServiceDispatch = async (call) => {
  try {
    if (call.principal.kind === 'anonymous') {
      throw new IamError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
    }
    const values = requestParams(call);
    const action = values.get('Action');
    if (action === undefined || action === '') throw new IamError('MissingAction', 400, 'Missing Action');
    const version = values.get('Version');
    const handler = HANDLERS.get(action);
    if (!handler || (version !== undefined && version !== IAM_VERSION)) {
      throw new IamError('InvalidAction', 400, `Could not find operation ${action} for version ${version ?? IAM_VERSION}`);
    }
    // GetSessionToken credentials reach IAM only with MFA context, which this endpoint never
    // issues (STS API reference, GetSessionToken).
    const session = call.app.iam.sessionOf(call.accessKeyId);
    if (session && session.kind !== 'role') {
      throw new IamError('InvalidClientTokenId', 403, 'The security token included in the request is invalid');
    }
    const result = handler(makeContext(call, new Params(values)));
    return queryResponse(IAM_NS, action, call.requestId, result);
  } catch (e) {
    if (e instanceof IamError) return queryError(IAM_NS, e, call.requestId);
    throw e;
  }
};
