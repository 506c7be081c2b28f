/**
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. The policy is validated with the IAM
 * policy parser (MalformedPolicy with its message), must only name this bucket's resources, and
 * is refused when public while BlockPublicPolicy is on. GET returns the text as it was sent.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, xmlDocument } from '../../http/xml.js';
import { bucketPolicy, effectivePublicAccessBlock, type StoredPolicy } from '../../objects/bucket-access.js';
import { checkBucketPolicyResources, parsePolicyDocument } from '../../policy/parse.js';
import { isPublicPolicy } from '../../policy/public.js';
import { PolicyDocumentError, type PolicyDocument } from '../../policy/types.js';
import { bucketOf, documentBody, empty, xml, type Handler } from './call.js';

/** S3's limit on a bucket policy. */
const MAX_POLICY_BYTES = 20 * 1024;

function malformedPolicy(message: string): S3Error {
  return new S3Error('MalformedPolicy', 400, message);
}

export const putBucketPolicy: Handler = async (call) => {
  const bucket = bucketOf(call);
  const body = await documentBody(call, { maxSize: MAX_POLICY_BYTES + 1 }).catch((e) => {
    // documentBody reports an oversized body as MalformedXML; a policy is not XML.
    if (e instanceof S3Error && e.code === 'MalformedXML') throw malformedPolicy('Policies must be less than 20 KB');
    throw e;
  });
  if (body.length > MAX_POLICY_BYTES) throw malformedPolicy('Policies must be less than 20 KB');
  const text = body.toString('utf8');
  let doc: PolicyDocument;
  try {
    doc = parsePolicyDocument(text, 'resource');
    checkBucketPolicyResources(doc, bucket.record.name);
  } catch (e) {
    if (e instanceof PolicyDocumentError) throw malformedPolicy(e.message);
    throw e;
  }
  if (isPublicPolicy(doc)) {
    const pab = await effectivePublicAccessBlock(call.app.buckets, bucket.record.name, bucket.record.owner);
    if (pab.BlockPublicPolicy) {
      throw Errors.accessDenied(
        `User: ${call.principal.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket.record.name}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
      );
    }
  }
  const stored: StoredPolicy = { text };
  await call.app.buckets.setConfig(bucket.record.name, 'policy', stored);
  return empty(204);
};

export const getBucketPolicy: Handler = async (call) => {
  const bucket = bucketOf(call);
  const stored = call.app.buckets.config<StoredPolicy>(bucket.record.name, 'policy');
  if (!stored) {
    throw new S3Error('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', { BucketName: bucket.record.name });
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: stored.text };
};

export const deleteBucketPolicy: Handler = async (call) => {
  const bucket = bucketOf(call);
  await call.app.buckets.setConfig(bucket.record.name, 'policy', undefined);
  return empty(204);
};

export const getBucketPolicyStatus: Handler = async (call) => {
  const bucket = bucketOf(call);
  const policy = bucketPolicy(call.app.buckets, bucket.record.name);
  if (!policy) {
    throw new S3Error('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', { BucketName: bucket.record.name });
  }
  return xml(xmlDocument('PolicyStatus', el('IsPublic', policy.isPublic ? 'true' : 'false')));
};
