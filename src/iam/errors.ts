/**
 * An IAM or STS error as the query protocol reports it: a code, its HTTP status, and AWS's
 * wording. The identity store throws these for conflicts and missing entities so that the api
 * layer renders them unchanged; anything else thrown is an internal error (500).
 */
export class IamError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** 'Sender' for the caller's fault, 'Receiver' for ours (the query protocol's <Type>). */
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

export const IamErrors = {
  noSuchEntity: (message: string) => new IamError('NoSuchEntity', 404, message),
  entityAlreadyExists: (message: string) => new IamError('EntityAlreadyExists', 409, message),
  deleteConflict: (message: string) => new IamError('DeleteConflict', 409, message),
  limitExceeded: (message: string) => new IamError('LimitExceeded', 409, message),
  malformedPolicyDocument: (message: string) => new IamError('MalformedPolicyDocument', 400, message),
  invalidInput: (message: string) => new IamError('InvalidInput', 400, message),
  validation: (message: string) => new IamError('ValidationError', 400, message),
  accessDenied: (message: string) => new IamError('AccessDenied', 403, message),
};
