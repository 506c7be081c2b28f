/**
 * Put/Get/DeleteBucketOwnershipControls. Buckets start as BucketOwnerEnforced (ACLs disabled,
 * the bucket owner owns every object), AWS's default since April 2023. Only that setting is
 * served in full: ACL grants are not implemented, so the other two are stored and reported but
 * still accept only the owner-full-control canned ACLs.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, parseXmlBody, xmlDocument, children, text } from '../../http/xml.js';
import type { ObjectOwnership } from '../../objects/bucket-access.js';
import { bucketOf, documentBody, empty, xml, type Handler } from './call.js';

const VALUES = new Set<ObjectOwnership>(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);

interface StoredOwnership {
  ObjectOwnership: ObjectOwnership;
  /** Set by DeleteBucketOwnershipControls: AWS then reports no controls (ObjectWriter applies). */
  deleted?: boolean;
}

export const putOwnershipControls: Handler = async (call) => {
  const bucket = bucketOf(call);
  const doc = parseXmlBody(await documentBody(call, { integrityRequired: true }), 'OwnershipControls');
  const rules = children(doc, 'Rule');
  if (rules.length !== 1) throw Errors.malformedXML();
  const value = text(rules[0], 'ObjectOwnership') as ObjectOwnership | undefined;
  if (!value || !VALUES.has(value)) throw Errors.malformedXML();
  await call.app.buckets.setConfig(bucket.record.name, 'ownership', { ObjectOwnership: value } satisfies StoredOwnership);
  return empty(200);
};

export const getOwnershipControls: Handler = async (call) => {
  const bucket = bucketOf(call);
  const stored = call.app.buckets.config<StoredOwnership>(bucket.record.name, 'ownership');
  if (stored?.deleted) {
    throw new S3Error('OwnershipControlsNotFoundError', 404, 'The bucket ownership controls were not found', {
      BucketName: bucket.record.name,
    });
  }
  const value = stored?.ObjectOwnership ?? 'BucketOwnerEnforced';
  return xml(xmlDocument('OwnershipControls', `<Rule>${el('ObjectOwnership', value)}</Rule>`));
};

export const deleteOwnershipControls: Handler = async (call) => {
  const bucket = bucketOf(call);
  await call.app.buckets.setConfig(bucket.record.name, 'ownership', { ObjectOwnership: 'ObjectWriter', deleted: true } satisfies StoredOwnership);
  return empty(204);
};
