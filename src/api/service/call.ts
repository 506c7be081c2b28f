/**
 * One authenticated request to a non-S3 service (IAM, STS, KMS) as its api module sees it. The
 * http layer has already verified the signature over the buffered body, resolved the caller's
 * principal and picked the module by the service in the credential scope.
 *
 * A module's dispatch function never throws for a request-level problem: it answers with a
 * ServiceResponse in its own protocol (IAM/STS query XML, KMS JSON). Anything it throws is an
 * internal error, which the http layer renders in the service's protocol as a 500.
 */
import type { IncomingMessage } from 'node:http';
import type { App } from '../../app.js';
import type { AuthorizeFn, ConditionValues, Principal } from '../../policy/types.js';

export interface ServiceCall {
  app: App;
  req: IncomingMessage;
  method: string;
  /** 'iam' | 'sts' | 'kms' (from the credential scope). */
  service: string;
  /** Region of the credential scope (KMS is per region; IAM and STS are global). */
  region: string;
  /** The request body, whole (these services' requests are small; the limit is 1 MiB). */
  body: Buffer;
  /** Query string parameters (IAM/STS may be sent as GET with the parameters in the query). */
  query: URLSearchParams;
  principal: Principal;
  /** The access key the request was signed with (STS GetAccessKeyInfo, audit). */
  accessKeyId: string;
  requestId: string;
  /** ms since epoch when the request arrived. */
  now: number;
  /**
   * Global condition keys of this request (aws:SecureTransport, aws:SourceIp, aws:CurrentTime,
   * aws:EpochTime, aws:PrincipalArn, aws:PrincipalAccount, aws:userid, aws:username,
   * aws:PrincipalType, aws:RequestedRegion ...), lower-cased keys.
   */
  conditions: ConditionValues;
  /**
   * Authorizes `action` on `resource` for this call's principal, with its identity policies and
   * the given resource policy (a key policy, a trust policy), plus extra condition values.
   */
  authorize: AuthorizeFn;
}

export interface ServiceResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type ServiceDispatch = (call: ServiceCall) => Promise<ServiceResponse>;
