/**
 * Put/GetBucketVersioning.
 */
import { Errors } from '../../errors.js';
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
  // A document without Status leaves the state as it is, as on AWS.
  if (status !== undefined && status !== bucket.record.versioning) await call.app.buckets.setVersioning(bucket.record.name, status);
  return empty(200);
};

export const getBucketVersioning: Handler = async (call) => {
  const bucket = bucketOf(call);
  const status = bucket.record.versioning;
  return xml(xmlDocument('VersioningConfiguration', status === '' ? '' : el('Status', status)));
};
