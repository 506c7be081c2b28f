/**
 * The admin HTTP endpoints of replication, on the S3 port under /_xregion/ (bucket names cannot
 * start with '_'): explain, status and verify, as JSON. Signed like any S3 request; the caller's
 * account must own the bucket.
 */
import { Errors, S3Error } from '../../errors.js';
import type { S3Response } from '../../http/respond.js';
import { explainReplication } from '../../replication/explain.js';
import { statusReport, verifyReplication } from '../../replication/report.js';
import type { Tags } from '../../storage/types.js';
import type { S3Call } from '../s3/call.js';
import { validateTags } from '../s3/object-headers.js';

function json(body: unknown): S3Response {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body, null, 2) };
}

function bucketParam(call: S3Call) {
  const name = call.query.get('bucket');
  if (!name) throw Errors.invalidArgument('The "bucket" query parameter is required', 'bucket');
  const bucket = call.app.buckets.require(name);
  if (bucket.record.owner !== call.accountId) throw Errors.accessDenied();
  // Reports reveal the bucket's replication rules and keys: who may read the configuration may read them.
  const d = call.authorize('s3:GetReplicationConfiguration', `arn:aws:s3:::${name}`);
  if (!d.allowed) throw Errors.accessDenied();
  return bucket;
}

/** "k1=v1,k2=v2" → tags. */
function parseTags(s: string | undefined): Tags | undefined {
  if (s === undefined) return undefined;
  const tags: Tags = [];
  for (const pair of s.split(',')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw Errors.invalidArgument(`"${pair}" is not key=value`, 'tags', s);
    tags.push([pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  return validateTags(tags);
}

export async function dispatchAdmin(call: S3Call): Promise<S3Response> {
  if (call.method !== 'GET') throw Errors.methodNotAllowed(call.method, 'ADMIN');
  switch (call.key) {
    case 'replication/explain': {
      const bucket = bucketParam(call);
      const key = call.query.get('key');
      if (!key) throw Errors.invalidArgument('The "key" query parameter is required', 'key');
      const opts: { versionId?: string; tags?: Tags; deleteMarker?: boolean } = {};
      const versionId = call.query.get('versionId');
      if (versionId !== undefined) opts.versionId = versionId;
      const tags = parseTags(call.query.get('tags'));
      if (tags !== undefined) opts.tags = tags;
      if (call.query.get('deleteMarker') === 'true') opts.deleteMarker = true;
      return json(await explainReplication(call.app, bucket, key, opts));
    }
    case 'replication/status': {
      const bucket = bucketParam(call);
      return json(await statusReport(bucket, call.app.clock()));
    }
    case 'replication/verify': {
      const bucket = bucketParam(call);
      return json(await verifyReplication(call.app, bucket));
    }
    default:
      throw new S3Error('NoSuchResource', 404, `There is no admin endpoint /_xregion/${call.key ?? ''}`);
  }
}
