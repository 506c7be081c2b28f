/**
 * Tag operations: TagResource, UntagResource, ListResourceTags. Tags belong to a key and go
 * with it when it is deleted; DescribeKey does not show them.
 */
import { authorizeKey } from './access.js';
import type { KmsHandler } from './call.js';
import { checkTags, dedupeTags, ownKey } from './keys.js';
import { KEY_ID_RULE, decodeMarker, encodeMarker } from './wire.js';

export const tagResource: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', KEY_ID_RULE);
  const tags = c.p.tags('Tags', true) ?? [];
  c.p.done();
  const key = ownKey(c, keyId);
  authorizeKey(c.call, 'kms:TagResource', key);
  checkTags(tags);
  c.kms.tagKey(key, dedupeTags(tags));
  return undefined;
};

export const untagResource: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', KEY_ID_RULE);
  const tagKeys = c.p.stringList('TagKeys', { min: 1, max: 128 });
  if (tagKeys === undefined) c.p.string('TagKeys', { required: true });
  c.p.done();
  const key = ownKey(c, keyId);
  authorizeKey(c.call, 'kms:UntagResource', key);
  c.kms.untagKey(key, tagKeys ?? []);
  return undefined;
};

export const listResourceTags: KmsHandler = (c) => {
  const keyId = c.p.string('KeyId', KEY_ID_RULE);
  // The model allows up to 1000; the service returns at most 50 per page.
  const limit = Math.min(c.p.integer('Limit', { min: 1, max: 1000 }) ?? 50, 50);
  const marker = c.p.string('Marker', { min: 1, max: 1024 });
  c.p.done();
  const key = ownKey(c, keyId);
  authorizeKey(c.call, 'kms:ListResourceTags', key);
  const after = decodeMarker(marker);
  const tags = c.kms.listTags(key).filter((t) => marker === undefined || t.key > after);
  const page = tags.slice(0, limit);
  const out: Record<string, unknown> = { Tags: page.map((t) => ({ TagKey: t.key, TagValue: t.value })), Truncated: tags.length > limit };
  if (tags.length > limit) out.NextMarker = encodeMarker(page[page.length - 1]!.key);
  return out;
};
