/**
 * Put/Get/DeleteBucketReplication.
 */
import { Errors, S3Error } from '../../errors.js';
import { deniedMessage } from '../../http/authorizer.js';
import { parseXmlBody } from '../../http/xml.js';
import { parseReplicationConfig, replicationConfigXml } from '../../replication/config.js';
import { SiteUnavailable } from '../../replication/sites.js';
import { validateReplicationConfig } from '../../replication/validate.js';
import { bucketOf, documentBody, empty, xml, type Handler } from './call.js';

/** Configurations are at most 2 MB (AWS's limit). */
const MAX_CONFIG_BYTES = 2 * 1024 * 1024;

export const putBucketReplication: Handler = async (call) => {
  const bucket = bucketOf(call);
  const body = await documentBody(call, { integrityRequired: true, maxSize: MAX_CONFIG_BYTES });
  const config = parseReplicationConfig(parseXmlBody(body, 'ReplicationConfiguration'));
  const resolver = call.app.destinations;
  await validateReplicationConfig(config, {
    sourceBucket: bucket.record.name,
    sourceVersioning: bucket.record.versioning,
    async destinationVersioning(name) {
      try {
        const d = await resolver.resolve(name);
        return d ? await resolver.versioning(d) : undefined;
      } catch (e) {
        if (e instanceof SiteUnavailable) {
          throw new S3Error('ServiceUnavailable', 503, `Cannot reach the site of destination bucket ${name} to check it: ${e.message}`);
        }
        throw e;
      }
    },
  });
  // Handing the role to S3 needs iam:PassRole on it (spec §5.1; row 24, a [U] message).
  const pass = call.authorize('iam:PassRole', config.role, { conditions: { 'iam:passedtoservice': ['s3.amazonaws.com'] } });
  if (!pass.allowed) {
    throw Errors.accessDenied(deniedMessage(call.principal, 'iam:PassRole', config.role, pass, false, false));
  }
  await call.app.buckets.setReplication(bucket.record.name, config);
  return empty(200);
};

export const getBucketReplication: Handler = async (call) => {
  const bucket = bucketOf(call);
  if (!bucket.replication) {
    throw new S3Error('ReplicationConfigurationNotFoundError', 404, 'The replication configuration was not found', {
      BucketName: bucket.record.name,
    });
  }
  return xml(replicationConfigXml(bucket.replication));
};

export const deleteBucketReplication: Handler = async (call) => {
  const bucket = bucketOf(call);
  if (bucket.replication) await call.app.buckets.setReplication(bucket.record.name, undefined);
  return empty(204);
};
