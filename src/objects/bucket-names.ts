/**
 * General purpose bucket naming rules (AWS S3 User Guide, "Bucket naming rules").
 */
import { S3Error } from '../errors.js';

const INVALID = (name: string) =>
  new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name });

export function validateBucketName(name: string): void {
  if (name.length < 3 || name.length > 63) throw INVALID(name);
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) throw INVALID(name);
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) throw INVALID(name);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) throw INVALID(name);
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-')) throw INVALID(name);
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3') || name.endsWith('.mrap') || name.endsWith('--x-s3')) {
    throw INVALID(name);
  }
}
