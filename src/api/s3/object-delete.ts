/**
 * DeleteObject and DeleteObjects.
 */
import { PERMISSIONS, requirePermission } from './authorize.js';
import { Errors, S3Error } from '../../errors.js';
import { children, el, parseXmlBody, text, xmlDocument } from '../../http/xml.js';
import { deleteObject as deleteObjectVersion } from '../../objects/versions.js';
import { checkKeyLength } from '../../storage/key-order.js';
import { commitReplica } from '../../objects/replica.js';
import { replicaRequest } from './replica.js';
import { bucketOf, documentBody, empty, keyOf, xml, type Handler, writerOwner } from './call.js';

export const deleteObject: Handler = async (call) => {
  const bucket = bucketOf(call);
  const replica = call.query.has('versionId') ? undefined : replicaRequest(call);
  if (replica) {
    // A delete marker replicated from another site, with its source's version id.
    const marker = { isDeleteMarker: true, size: 0, etag: '', key: keyOf(call), meta: { user: {} }, tags: [] };
    await commitReplica(bucket, {
      ...marker,
      bucket: bucket.record.name,
      versionId: replica.versionId,
      lastModified: replica.lastModified,
      owner: replica.owner,
      storageClass: 'STANDARD',
      data: { kind: 'none' },
    });
    return empty(204, { 'x-amz-version-id': replica.versionId, 'x-amz-delete-marker': 'true' });
  }
  const out = await deleteObjectVersion(bucket, keyOf(call), call.query.get('versionId'), writerOwner(call, bucket), call.now);
  return empty(204, {
    'x-amz-version-id': out.versionId,
    'x-amz-delete-marker': out.deleteMarker ? 'true' : undefined,
  });
};

/** At most this many keys per DeleteObjects request. */
const MAX_DELETE_KEYS = 1000;

export const deleteObjects: Handler = async (call) => {
  const bucket = bucketOf(call);
  const doc = parseXmlBody(await documentBody(call, { integrityRequired: true, maxSize: 2 * 1024 * 1024 }), 'Delete');
  const quiet = text(doc, 'Quiet') === 'true';
  const objects = children(doc, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw Errors.malformedXML();
  const requests = objects.map((o) => {
    const key = text(o, 'Key');
    if (key === undefined) throw Errors.malformedXML();
    return { key, versionId: text(o, 'VersionId') };
  });
  let out = '';
  // One at a time: deletes of one key must apply in the order the client listed them.
  for (const r of requests) {
    try {
      checkKeyLength(r.key);
      // S3 authorizes each key of a DeleteObjects on its own (s3:DeleteObject / DeleteObjectVersion).
      await requirePermission(call, PERMISSIONS.deleteObject, bucket.record.name, r.key, r.versionId);
      const res = await deleteObjectVersion(bucket, r.key, r.versionId, writerOwner(call, bucket), call.now);
      if (quiet) continue;
      out +=
        '<Deleted>' +
        el('Key', r.key) +
        el('VersionId', r.versionId) +
        (res.deleteMarker ? '<DeleteMarker>true</DeleteMarker>' : '') +
        (res.deleteMarker ? el('DeleteMarkerVersionId', res.versionId) : '') +
        '</Deleted>';
    } catch (e) {
      // Earlier keys are already deleted: a failure is this key's error, not the request's
      // (a retried request would add delete markers twice).
      const err = e instanceof S3Error ? e : Errors.internal();
      if (!(e instanceof S3Error)) call.app.log.error({ bucket: bucket.record.name, err: (e as Error).message }, 'DeleteObjects: one key failed');
      out += '<Error>' + el('Key', r.key) + el('VersionId', r.versionId) + el('Code', err.code) + el('Message', err.message) + '</Error>';
    }
  }
  return xml(xmlDocument('DeleteResult', out));
};
