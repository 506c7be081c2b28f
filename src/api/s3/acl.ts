/**
 * ACLs under Object Ownership "BucketOwnerEnforced": reads answer that the owner has full
 * control; writes other than granting the owner full control are refused, as on AWS.
 */
import { S3Error } from '../../errors.js';
import { children, parseXmlBody, text, xmlDocument, type XmlNode } from '../../http/xml.js';
import { findReadableVersion, versionHeader } from '../../objects/versions.js';
import { bucketOf, documentBody, empty, header, keyOf, xml, type Handler, type S3Call } from './call.js';
import { aclNotSupported, checkAclHeaders } from './object-headers.js';
import { canonicalUserId, ownerXml } from './wire.js';

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

/**
 * What AWS still accepts when ACLs are disabled: a canned ACL that restates the owner's full
 * control (x-amz-acl: bucket-owner-full-control or private), or "an equivalent form of this ACL
 * expressed in the XML format": an AccessControlPolicy whose every grant is FULL_CONTROL to the
 * bucket owner. The latter is what s3cmd sends after each copy (the ACL it read from the
 * source), so refusing it would fail `s3cmd cp` and `s3cmd mv` although they did their work.
 * Accepted, such a request changes nothing.
 */
async function putAcl(call: S3Call, bucketOwner: string): Promise<void> {
  checkAclHeaders(call);
  const canned = header(call, 'x-amz-acl');
  const body = await asMalformedAcl(() => documentBody(call, { maxSize: 64 * 1024 }));
  if (body.length === 0) {
    if (canned === undefined) throw aclNotSupported();
    return;
  }
  // AWS: an ACL comes from the headers or from the body, never both.
  if (canned !== undefined) throw new S3Error('UnexpectedContent', 400, 'This request does not support content');
  const ownerOnly = await asMalformedAcl(async () =>
    grantsOnlyOwnerFullControl(parseXmlBody(body, 'AccessControlPolicy'), canonicalUserId(bucketOwner)),
  );
  if (!ownerOnly) throw aclNotSupported();
}

/** S3 names a bad ACL document (unparsable, not shaped as an ACL, or too large to be one) MalformedACLError. */
async function asMalformedAcl<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof S3Error && e.code === 'MalformedXML') throw malformedAcl();
    throw e;
  }
}

function malformedAcl(): S3Error {
  return new S3Error('MalformedACLError', 400, 'The XML you provided was not well-formed or did not validate against our published schema');
}

/** Owner (when given) and every grantee are the bucket owner's canonical user; every permission is FULL_CONTROL. */
function grantsOnlyOwnerFullControl(policy: Record<string, XmlNode | XmlNode[]>, ownerId: string): boolean {
  const owner = children(policy, 'Owner');
  const lists = children(policy, 'AccessControlList');
  if (owner.length > 1 || lists.length !== 1) throw malformedAcl();
  if (owner.length === 1 && text(owner[0], 'ID') !== ownerId) return false;
  const grants = children(lists[0], 'Grant');
  if (grants.length === 0) return false;
  return grants.every((g) => {
    const grantee = children(g, 'Grantee');
    if (grantee.length !== 1 || typeof grantee[0] !== 'object') throw malformedAcl();
    // A group (URI) or an e-mail grantee is never the owner's canonical user.
    if (text(grantee[0], 'URI') !== undefined || text(grantee[0], 'EmailAddress') !== undefined) return false;
    return text(grantee[0], 'ID') === ownerId && text(g, 'Permission') === 'FULL_CONTROL';
  });
}

export const putBucketAcl: Handler = async (call) => {
  const bucket = bucketOf(call);
  await putAcl(call, bucket.record.owner);
  return empty(200);
};

export const putObjectAcl: Handler = async (call) => {
  const bucket = bucketOf(call);
  const v = await findReadableVersion(bucket, keyOf(call), call.query.get('versionId'), call.method);
  await putAcl(call, bucket.record.owner);
  return empty(200, { 'x-amz-version-id': versionHeader(bucket, v) });
};
