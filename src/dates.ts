/**
 * The two ways S3 writes times: HTTP dates in headers (Last-Modified) and ISO 8601 with
 * milliseconds in XML documents (LastModified, CreationDate).
 */

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
