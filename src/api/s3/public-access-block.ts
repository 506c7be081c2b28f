/**
 * Put/Get/DeletePublicAccessBlock on a bucket. The four flags mean what they mean on AWS:
 * BlockPublicAcls refuses public canned ACLs, IgnorePublicAcls ignores them (ACLs never grant
 * public access here anyway), BlockPublicPolicy refuses public bucket policies,
 * RestrictPublicBuckets limits a public policy to the owner's account and AWS services.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import type { PublicAccessBlock } from '../../objects/bucket-access.js';
import { bucketOf, documentBody, empty, xml, type Handler } from './call.js';

const FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** Parses a PublicAccessBlockConfiguration document; absent flags are false, as on AWS. */
export function parsePublicAccessBlock(body: Buffer): PublicAccessBlock {
  const doc = parseXmlBody(body, 'PublicAccessBlockConfiguration');
  const out = {} as PublicAccessBlock;
  for (const f of FLAGS) {
    const v = text(doc, f);
    if (v !== undefined && v !== 'true' && v !== 'false') throw Errors.malformedXML();
    out[f] = v === 'true';
  }
  return out;
}

export function publicAccessBlockXml(pab: PublicAccessBlock): string {
  return xmlDocument('PublicAccessBlockConfiguration', FLAGS.map((f) => el(f, pab[f] ? 'true' : 'false')).join(''));
}

export function noPublicAccessBlock(): S3Error {
  return new S3Error('NoSuchPublicAccessBlockConfiguration', 404, 'The public access block configuration was not found');
}

export const putPublicAccessBlock: Handler = async (call) => {
  const bucket = bucketOf(call);
  const pab = parsePublicAccessBlock(await documentBody(call, { integrityRequired: true }));
  await call.app.buckets.setConfig(bucket.record.name, 'public-access-block', pab);
  return empty(200);
};

export const getPublicAccessBlock: Handler = async (call) => {
  const bucket = bucketOf(call);
  const pab = call.app.buckets.config<PublicAccessBlock>(bucket.record.name, 'public-access-block');
  if (!pab) throw noPublicAccessBlock();
  return xml(publicAccessBlockXml(pab));
};

export const deletePublicAccessBlock: Handler = async (call) => {
  const bucket = bucketOf(call);
  await call.app.buckets.setConfig(bucket.record.name, 'public-access-block', undefined);
  return empty(204);
};
