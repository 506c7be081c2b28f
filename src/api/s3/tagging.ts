/**
 * Object tagging (Get/Put/DeleteObjectTagging) and bucket tagging (Get/Put/DeleteBucketTagging).
 */
import { Errors, S3Error } from '../../errors.js';
import { children, el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import { checkVersionIdArgument, findReadableVersion, versionHeader } from '../../objects/versions.js';
import type { Tags } from '../../storage/types.js';
import { planMetadataChange } from '../../replication/plan.js';
import { isReplicaSync } from './replica.js';
import { bucketOf, documentBody, empty, keyOf, xml, type Handler, type S3Call } from './call.js';
import { validateTags } from './object-headers.js';

const BUCKET_TAGS = 'tagging';

function tagsXml(tags: Tags): string {
  let out = '';
  for (const [k, v] of tags) out += `<Tag>${el('Key', k)}${el('Value', v)}</Tag>`;
  return xmlDocument('Tagging', `<TagSet>${out}</TagSet>`);
}

async function tagsFromBody(call: S3Call, maxTags: number): Promise<Tags> {
  const doc = parseXmlBody(await documentBody(call, { integrityRequired: true }), 'Tagging');
  const set = doc['TagSet'];
  if (set === undefined || Array.isArray(set)) throw Errors.malformedXML();
  const tags: Tags = children(set, 'Tag').map((t) => {
    const k = text(t, 'Key');
    const v = text(t, 'Value');
    if (k === undefined || v === undefined) throw Errors.malformedXML();
    return [k, v];
  });
  return validateTags(tags, maxTags);
}

export const getObjectTagging: Handler = async (call) => {
  const bucket = bucketOf(call);
  const v = await findReadableVersion(bucket, keyOf(call), call.query.get('versionId'), call.method);
  return xml(tagsXml(v.tags), { 'x-amz-version-id': versionHeader(bucket, v) });
};

async function setObjectTags(call: S3Call, tags: Tags) {
  const bucket = bucketOf(call);
  const key = keyOf(call);
  const versionId = call.query.get('versionId');
  checkVersionIdArgument(versionId);
  const v = await findReadableVersion(bucket, key, versionId, call.method);
  const replication = planMetadataChange(bucket, v, isReplicaSync(call));
  if (!(await bucket.region.meta.setTags(bucket.record.name, key, v.versionId, tags, replication))) {
    // The version went away between the lookup and the update.
    throw versionId === undefined ? Errors.noSuchKey(key) : Errors.noSuchVersion(key, versionId);
  }
  return { bucket, v };
}

export const putObjectTagging: Handler = async (call) => {
  const tags = await tagsFromBody(call, 10);
  const { bucket, v } = await setObjectTags(call, tags);
  return empty(200, { 'x-amz-version-id': versionHeader(bucket, v) });
};

export const deleteObjectTagging: Handler = async (call) => {
  const { bucket, v } = await setObjectTags(call, []);
  return empty(204, { 'x-amz-version-id': versionHeader(bucket, v) });
};

export const getBucketTagging: Handler = async (call) => {
  const bucket = bucketOf(call);
  const doc = await bucket.region.meta.getBucketConfig(bucket.record.name, BUCKET_TAGS);
  if (doc === undefined) {
    throw new S3Error('NoSuchTagSet', 404, 'The TagSet does not exist', { BucketName: bucket.record.name });
  }
  return xml(tagsXml(JSON.parse(doc) as Tags));
};

export const putBucketTagging: Handler = async (call) => {
  const bucket = bucketOf(call);
  const tags = await tagsFromBody(call, 50);
  await bucket.region.meta.putBucketConfig(bucket.record.name, BUCKET_TAGS, JSON.stringify(tags));
  return empty(204);
};

export const deleteBucketTagging: Handler = async (call) => {
  const bucket = bucketOf(call);
  await bucket.region.meta.putBucketConfig(bucket.record.name, BUCKET_TAGS, null);
  return empty(204);
};
