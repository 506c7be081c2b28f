/**
 * Put/GetBucketVersioning.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import { bucketOf, documentBody, empty, xml, type Handler } from './call.js';

export const putBucketVersioning: Handler = async (call) => {
  const bucket = bucketOf(call);
  const doc = parseXmlBody(await documentBody(call, { integrityRequired: true }), 'VersioningConfiguration');
  const status = text(doc, 'Status');
  const mfaDelete = text(doc, 'MfaDelete');
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw Errors.malformedXML();
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw Errors.malformedXML();
  if (mfaDelete === 'Enabled') throw Errors.notImplemented('MfaDelete');
  if (status === 'Suspended' && bucket.replication) {
    throw new S3Error(
      'InvalidBucketState',
      409,
      'A replication configuration is present on this bucket, so you cannot change the versioning state. To change the versioning state, first delete the replication configuration.',
    );
  }
  // A document without Status leaves the state as it is, as on AWS.
  if (status !== undefined && status !== bucket.record.versioning) await call.app.buckets.setVersioning(bucket.record.name, status);
  return empty(200);
};

export const getBucketVersioning: Handler = async (call) => {
  const bucket = bucketOf(call);
  const status = bucket.record.versioning;
  return xml(xmlDocument('VersioningConfiguration', status === '' ? '' : el('Status', status)));
};
