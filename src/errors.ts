/**
 * The one error type of the domain: it carries the AWS error code, the HTTP status and a
 * message. The http layer renders it in the protocol of the service that was called
 * (S3 XML today). Extra fields become extra elements of the S3 error document, the way AWS
 * adds <BucketName>, <Key>, <Region> or <StringToSign> to particular errors.
 */
export class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: Record<string, string | number | undefined>;
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    fields: Record<string, string | number | undefined> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }
}

/** Constructors for the errors raised from more than one place, with AWS's wording. */
export const Errors = {
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', 403, message),
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string, headers: Record<string, string> = {}) =>
    new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }, headers),
  noSuchVersion: (key: string, versionId: string) =>
    new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', {
      Key: key,
      VersionId: versionId,
    }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      404,
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error('InvalidArgument', 400, message, { ArgumentName: name, ArgumentValue: value }),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  malformedXML: () =>
    new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  methodNotAllowed: (method: string, resourceType: string, headers: Record<string, string> = {}) =>
    new S3Error(
      'MethodNotAllowed',
      405,
      'The specified method is not allowed against this resource.',
      { Method: method, ResourceType: resourceType },
      headers,
    ),
  notImplemented: (what: string) =>
    new S3Error('NotImplemented', 501, `A header or query you provided implies functionality that is not implemented: ${what}`),
  internal: () =>
    new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
  badDigest: (message = 'The Content-MD5 you specified did not match what we received.') =>
    new S3Error('BadDigest', 400, message),
  invalidDigest: () => new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.'),
  incompleteBody: () =>
    new S3Error(
      'IncompleteBody',
      400,
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    ),
  entityTooLarge: (size: number, max: number) =>
    new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: size,
      MaxSizeAllowed: max,
    }),
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
} as const;
