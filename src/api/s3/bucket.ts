/**
 * ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.
 */
import { Errors, S3Error } from '../../errors.js';
import { el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import { invalidLocation } from '../../objects/buckets.js';
import { bucketOf, documentBody, empty, header, intParam, xml, type Handler, type S3Call } from './call.js';
import { isoTime, ownerXml } from './wire.js';

export const listBuckets: Handler = async (call) => {
  const prefix = call.query.get('prefix');
  const regionFilter = call.query.get('bucket-region');
  const maxBuckets = intParam(call, 'max-buckets', 1, 10000);
  const token = call.query.get('continuation-token');
  const after = token !== undefined ? Buffer.from(token, 'base64url').toString('utf8') : undefined;
  let buckets = call.app.buckets
    .list(call.accountId)
    .filter((b) => (prefix === undefined || b.name.startsWith(prefix)) && (regionFilter === undefined || b.region === regionFilter))
    .filter((b) => after === undefined || b.name > after);
  let next: string | undefined;
  if (maxBuckets !== undefined && buckets.length > maxBuckets) {
    buckets = buckets.slice(0, maxBuckets);
    next = Buffer.from(buckets[buckets.length - 1]!.name, 'utf8').toString('base64url');
  }
  let list = '';
  for (const b of buckets) {
    list += `<Bucket>${el('Name', b.name)}${el('CreationDate', isoTime(b.createdAt))}${el('BucketRegion', b.region)}</Bucket>`;
  }
  return xml(
    xmlDocument(
      'ListAllMyBucketsResult',
      ownerXml(call.accountId) + `<Buckets>${list}</Buckets>` + el('ContinuationToken', next) + el('Prefix', prefix),
    ),
  );
};

/**
 * The region a CreateBucket asks for. As on AWS: no LocationConstraint means us-east-1, which
 * may not be named explicitly; a request signed for a region other than us-east-1 (a regional
 * endpoint) must ask for that same region. "EU" is the legacy name of eu-west-1.
 */
function requestedRegion(call: S3Call, constraint: string | undefined): string {
  const signing = call.auth.region;
  const incompatible = (what: string) =>
    new S3Error(
      'IllegalLocationConstraintException',
      400,
      `The ${what} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  if (constraint === undefined || constraint === '') {
    if (signing !== 'us-east-1') throw incompatible('unspecified');
    return 'us-east-1';
  }
  const region = constraint === 'EU' ? 'eu-west-1' : constraint;
  if (region === 'us-east-1') throw invalidLocation(constraint);
  if (signing !== 'us-east-1' && signing !== region) throw incompatible(constraint);
  if (!call.app.regions.has(region)) throw invalidLocation(constraint);
  return region;
}

export const createBucket: Handler = async (call) => {
  const name = call.bucketName!;
  const body = await documentBody(call);
  let constraint: string | undefined;
  if (body.length > 0) {
    const doc = parseXmlBody(body, 'CreateBucketConfiguration');
    constraint = text(doc, 'LocationConstraint');
    if (doc['Location'] !== undefined || doc['Bucket'] !== undefined) {
      throw Errors.invalidArgument('Directory buckets are not supported by this endpoint', 'Bucket', name);
    }
  }
  const acl = header(call, 'x-amz-acl');
  if ((acl !== undefined && acl !== 'private') || Object.keys(call.req.headers).some((h) => h.startsWith('x-amz-grant-'))) {
    throw new S3Error(
      'InvalidBucketAclWithObjectOwnership',
      400,
      "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    );
  }
  const ownership = header(call, 'x-amz-object-ownership');
  if (ownership !== undefined && ownership !== 'BucketOwnerEnforced') {
    throw Errors.notImplemented(`x-amz-object-ownership: ${ownership} (only BucketOwnerEnforced is supported)`);
  }
  if (header(call, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') {
    throw Errors.notImplemented('x-amz-bucket-object-lock-enabled (Object Lock)');
  }
  const region = requestedRegion(call, constraint);
  await call.app.buckets.create(name, region, call.accountId);
  return empty(200, { location: `/${name}` });
};

export const headBucket: Handler = async (call) => {
  const b = bucketOf(call);
  return empty(200, { 'x-amz-bucket-region': b.record.region, 'x-amz-access-point-alias': 'false' });
};

export const deleteBucket: Handler = async (call) => {
  await call.app.buckets.delete(call.bucketName!);
  return empty(204);
};

export const getBucketLocation: Handler = async (call) => {
  const b = bucketOf(call);
  const region = b.record.region === 'us-east-1' ? '' : b.record.region;
  return xml(xmlDocument('LocationConstraint', region));
};
