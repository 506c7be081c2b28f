/**
 * ACLs under Object Ownership "BucketOwnerEnforced": reads answer that the owner has full
 * control; writes other than granting the owner full control are refused, as on AWS.
 */
import { xmlDocument } from '../../http/xml.js';
import { findReadableVersion, versionHeader } from '../../objects/versions.js';
import { bucketOf, empty, header, keyOf, xml, type Handler, type S3Call } from './call.js';
import { aclNotSupported, checkAclHeaders } from './object-headers.js';
import { ownerXml } from './wire.js';

function ownerFullControl(accountId: string): string {
  const grantee = ownerXml(accountId, 'Grantee').replace(
    '<Grantee>',
    '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">',
  );
  return xmlDocument(
    'AccessControlPolicy',
    ownerXml(accountId) + `<AccessControlList><Grant>${grantee}<Permission>FULL_CONTROL</Permission></Grant></AccessControlList>`,
  );
}

export const getBucketAcl: Handler = async (call) => xml(ownerFullControl(bucketOf(call).record.owner));

export const getObjectAcl: Handler = async (call) => {
  const bucket = bucketOf(call);
  const v = await findReadableVersion(bucket, keyOf(call), call.query.get('versionId'), call.method);
  return xml(ownerFullControl(v.owner), { 'x-amz-version-id': versionHeader(bucket, v) });
};

/** A canned ACL header may restate the owner's full control; an ACL document may not be set. */
async function putAcl(call: S3Call): Promise<void> {
  checkAclHeaders(call);
  const length = Number(header(call, 'content-length') ?? '0');
  if (length > 0 || header(call, 'x-amz-acl') === undefined) throw aclNotSupported();
}

export const putBucketAcl: Handler = async (call) => {
  bucketOf(call);
  await putAcl(call);
  return empty(200);
};

export const putObjectAcl: Handler = async (call) => {
  const bucket = bucketOf(call);
  const v = await findReadableVersion(bucket, keyOf(call), call.query.get('versionId'), call.method);
  await putAcl(call);
  return empty(200, { 'x-amz-version-id': versionHeader(bucket, v) });
};
