/**
 * KMS's errors: the `__type` code KMS answers with, its HTTP status and its wording. The domain
 * (kms.ts, kms-store.ts) and the KMS api layer throw these; S3 encryption at rest catches them
 * and maps them to S3's own error codes.
 *
 * A message may be absent: KMS sends InvalidCiphertextException and NotAuthorizedException with
 * no message at all, and clients show an empty one.
 */
export class KmsError extends Error {
  readonly code: string;
  readonly status: number;
  /** False when KMS sends the error without a message. */
  readonly hasMessage: boolean;

  constructor(code: string, message?: string, status = 400) {
    super(message ?? '');
    this.name = 'KmsError';
    this.code = code;
    this.status = status;
    this.hasMessage = message !== undefined;
  }
}

export const KmsErrors = {
  keyNotFound: (keyArn: string) => new KmsError('NotFoundException', `Key '${keyArn}' does not exist`),
  invalidKeyId: (keyId: string) => new KmsError('NotFoundException', `Invalid keyId '${keyId}'`),
  /** A key ARN naming another region: KMS names the ARN's region. */
  invalidArnRegion: (region: string) => new KmsError('NotFoundException', `Invalid arn ${region}`),
  aliasNotFound: (aliasArn: string) => new KmsError('NotFoundException', `Alias ${aliasArn} is not found.`),
  disabled: (keyArn: string) => new KmsError('DisabledException', `${keyArn} is disabled.`),
  pendingDeletion: (keyArn: string) => new KmsError('KMSInvalidStateException', `${keyArn} is pending deletion.`),
  notPendingDeletion: (keyArn: string) => new KmsError('KMSInvalidStateException', `${keyArn} is not pending deletion.`),
  invalidCiphertext: () => new KmsError('InvalidCiphertextException'),
  incorrectKey: () =>
    new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.'),
  notAuthorized: () => new KmsError('NotAuthorizedException'),
  alreadyExists: (aliasArn: string) => new KmsError('AlreadyExistsException', `An alias with the name ${aliasArn} already exists`),
  validation: (message: string) => new KmsError('ValidationException', message),
  unsupported: (message: string) => new KmsError('UnsupportedOperationException', message),
  malformedPolicy: (message: string) => new KmsError('MalformedPolicyDocumentException', message),
  lockout: () =>
    new KmsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.'),
  invalidMarker: () => new KmsError('InvalidMarkerException', 'Invalid marker'),
  tag: (message: string) => new KmsError('TagException', message),
  limitExceeded: (message: string) => new KmsError('LimitExceededException', message),
  internal: (message = 'An internal error occurred.') => new KmsError('KMSInternalException', message, 500),
};
