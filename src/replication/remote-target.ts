/**
 * Replication to a bucket on another xregion site, over its S3 API. Replicas are ordinary
 * PutObject / multipart / DeleteObject / PutObjectTagging requests that carry replication
 * headers (the source's version id, Last-Modified and owner); the destination accepts them
 * only from a principal allowed to replicate into the bucket (api/s3/replica.ts).
 * Large objects keep their part boundaries, and a multipart copy resumes from its last part.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { App } from '../app.js';
import { CipherIntegrityError } from '../crypto/object-cipher.js';
import { checksumHeader } from '../objects/checksums.js';
import type { BucketEntry } from '../objects/buckets.js';
import { openRange, openStored, readRange, storedLength, UnreadableData, type DataKey } from '../objects/data.js';
import { encodeStoredFacts, REPLICA_HEADERS, type StoredObjectFacts, type StoredPartFacts } from './protocol.js';
import type { ObjectMeta, PartRecord, VersionRecord } from '../storage/types.js';
import { ReplicationFailure } from './failures.js';
import { asUnavailable, type Destination } from './sites.js';
import { replicaRequest, ruleOf, sourceDataKey, type ReplicationTarget, type TargetOptions, type TaskProgress } from './targets.js';

/** Adds raw headers to an SDK command (the SDK has no parameter for ours). */
function withHeaders<C>(cmd: C, headers: Record<string, string | undefined>): C {
  // The middleware API is typed per command; this one only touches the HTTP request's headers.
  const stack = (cmd as unknown as { middlewareStack: { add(mw: unknown, opts: { step: string; name: string }): void } }).middlewareStack;
  stack.add(
    (next: (a: unknown) => Promise<unknown>) => async (args: { request: { headers: Record<string, string> } }) => {
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) args.request.headers[k] = v;
      return next(args);
    },
    { step: 'build', name: 'xregionReplicaHeaders' },
  );
  return cmd;
}

function metaHeaders(m: ObjectMeta): Record<string, string | undefined> {
  const h: Record<string, string | undefined> = {
    'content-type': m.contentType,
    'content-encoding': m.contentEncoding,
    'content-disposition': m.contentDisposition,
    'content-language': m.contentLanguage,
    'cache-control': m.cacheControl,
    expires: m.expires,
    'x-amz-website-redirect-location': m.websiteRedirectLocation,
  };
  for (const [k, v] of Object.entries(m.user)) h[`x-amz-meta-${k}`] = v;
  return h;
}

function tagging(v: VersionRecord): string | undefined {
  if (!v.tags.length) return undefined;
  return v.tags.map(([k, val]) => `${encodeURIComponent(k)}=${encodeURIComponent(val)}`).join('&');
}

function replicaHeaders(v: VersionRecord): Record<string, string> {
  return {
    [REPLICA_HEADERS.versionId]: v.versionId,
    [REPLICA_HEADERS.lastModified]: String(v.lastModified),
    [REPLICA_HEADERS.owner]: v.owner,
  };
}

interface MultipartProgress {
  uploadId: string;
  done: Array<{ n: number; etag: string }>;
}

/**
 * How a version's bytes travel: in plaintext (decrypted here with `open` when encrypted, and
 * encrypted again at the other site as the SSE headers ask), or as stored (SSE-C ciphertext,
 * with the facts the other site cannot compute).
 */
type Sending = { stored: false; open?: DataKey } | { stored: true };

export class RemoteTarget implements ReplicationTarget {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(
    private readonly app: App,
    d: Extract<Destination, { kind: 'remote' }>,
    private readonly opts: TargetOptions = {},
  ) {
    this.client = d.site.client(d.region);
    this.bucket = d.name;
  }

  private async exists(v: VersionRecord): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: v.key, VersionId: v.versionId }));
      return true;
    } catch (e) {
      if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.$metadata.httpStatusCode === 405)) return false;
      // A HEAD of an SSE-C object without its key is a 400: the version is there.
      if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 400 && v.meta.encryption?.algorithm === 'SSE-C') return true;
      throw mapError(e, 'DstPutObjectNotPermitted');
    }
  }

  /** The SSE headers that make the other site encrypt the replica as the source's encryption says. */
  private sseHeaders(source: BucketEntry, v: VersionRecord): Record<string, string> {
    const r = replicaRequest(v, ruleOf(source, v, this.bucket, this.opts.ruleId));
    if (!r) return {};
    if (r.algorithm === 'AES256') return { 'x-amz-server-side-encryption': 'AES256' };
    if (r.algorithm === 'SSE-C') return {};
    const h: Record<string, string> = { 'x-amz-server-side-encryption': r.algorithm };
    if (r.keyId !== undefined) h['x-amz-server-side-encryption-aws-kms-key-id'] = r.keyId;
    return h;
  }

  async writeVersion(source: BucketEntry, v: VersionRecord, storageClass: string | undefined, progress: TaskProgress): Promise<void> {
    // Asking first costs a round trip per replica; only a retry (or a replay after a crash)
    // can find the replica already there, and the destination ignores a version id it has.
    if (!progress.firstAttempt && (await this.exists(v))) return;
    const enc = v.meta.encryption;
    const stored = enc?.algorithm === 'SSE-C';
    const sending: Sending = stored ? { stored: true } : { stored: false, open: sourceDataKey(this.app, source, v, this.opts.checkKey) };
    const headers = {
      ...metaHeaders(v.meta),
      ...replicaHeaders(v),
      'x-amz-storage-class': storageClass ?? v.storageClass,
      'x-amz-tagging': tagging(v),
      ...(stored ? {} : this.sseHeaders(source, v)),
    };
    if (v.data.kind === 'parts') return this.writeMultipart(source, v, v.data.parts, headers, progress, sending);
    let body: Readable | Buffer = Buffer.alloc(0);
    let length: number;
    let extra: Record<string, string>;
    if (sending.stored) {
      length = storedLength(v.size, true);
      body = openStored(source.region.blobs, v.data, length);
      const facts: StoredObjectFacts = { encryption: enc!, size: v.size, etag: v.etag };
      if (v.checksum) facts.checksum = v.checksum;
      // The body is ciphertext: the plaintext's checksum travels in the facts, not as a header.
      extra = { [REPLICA_HEADERS.stored]: encodeStoredFacts(facts) };
    } else {
      length = v.size;
      extra = v.checksum ? { [checksumHeader(v.checksum.algorithm)]: v.checksum.value } : {};
    }
    try {
      // Inline data is decrypted (and authenticated) right here: damage fails before sending.
      if (!sending.stored && v.size > 0) body = readRange(source.region.blobs, v.data, 0, v.size - 1, sending.open);
      await this.client.send(
        withHeaders(new PutObjectCommand({ Bucket: this.bucket, Key: v.key, Body: body, ContentLength: length }), {
          ...headers,
          ...extra,
        }),
      );
    } catch (e) {
      throw mapError(e, 'DstPutObjectNotPermitted');
    } finally {
      release(body);
    }
  }

  private async writeMultipart(
    source: BucketEntry,
    v: VersionRecord,
    parts: PartRecord[],
    headers: Record<string, string | undefined>,
    progress: TaskProgress,
    sending: Sending,
  ): Promise<void> {
    let state: MultipartProgress | undefined = progress.saved ? (JSON.parse(progress.saved) as MultipartProgress) : undefined;
    const composite = v.checksum?.type === 'COMPOSITE' ? v.checksum.algorithm : undefined;
    const fullObject = v.checksum?.type === 'FULL_OBJECT' ? v.checksum.algorithm : undefined;
    const algorithm = composite ?? fullObject;
    if (!state) {
      let uploadId: string | undefined;
      try {
        const created = await this.client.send(
          withHeaders(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: v.key }), {
            ...headers,
            'x-amz-checksum-algorithm': algorithm,
            'x-amz-checksum-type': v.checksum?.type,
            ...(sending.stored ? { [REPLICA_HEADERS.stored]: encodeStoredFacts({ encryption: storedUploadEncryption(v) }) } : {}),
          }),
        );
        uploadId = created.UploadId!;
      } catch (e) {
        throw mapError(e, 'DstMultipartInitNotPermitted');
      }
      state = { uploadId, done: [] };
      await progress.save(JSON.stringify(state));
    }
    const done = new Map(state.done.map((p) => [p.n, p.etag]));
    for (const p of parts) {
      if (done.has(p.partNumber)) continue;
      let body: Readable | Buffer;
      let length: number;
      let extra: Record<string, string>;
      if (sending.stored) {
        length = storedLength(p.size, true);
        body = openStored(source.region.blobs, { kind: 'blob', blobId: p.blobId }, length);
        const facts: StoredPartFacts = { salt: p.salt ?? '', size: p.size, etag: p.etag };
        if (p.checksum) facts.checksum = p.checksum;
        extra = { [REPLICA_HEADERS.stored]: encodeStoredFacts(facts) };
      } else {
        length = p.size;
        body = p.size > 0 ? openRange(source.region.blobs, { kind: 'parts', parts: [p] }, 0, p.size - 1, sending.open) : Buffer.alloc(0);
        extra = p.checksum && algorithm ? { [checksumHeader(algorithm)]: p.checksum.value } : {};
      }
      try {
        const r = await this.client.send(
          withHeaders(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: v.key,
              UploadId: state.uploadId,
              PartNumber: p.partNumber,
              Body: body,
              ContentLength: length,
            }),
            extra,
          ),
        );
        done.set(p.partNumber, r.ETag!.replace(/"/g, ''));
      } catch (e) {
        if (isNoSuchUpload(e)) return this.restart(source, v, parts, headers, progress, sending);
        throw await this.abandon(state.uploadId, v, mapError(e, 'DstMultipartPartUploadNotPermitted'));
      } finally {
        release(body);
      }
      state.done.push({ n: p.partNumber, etag: done.get(p.partNumber)! });
      // After every part: a restart resumes here instead of starting over.
      await progress.save(JSON.stringify(state));
    }
    try {
      await this.client.send(
        withHeaders(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: v.key,
            UploadId: state.uploadId,
            MultipartUpload: {
              Parts: parts.map((p) => {
                const part: Record<string, unknown> = { PartNumber: p.partNumber, ETag: `"${done.get(p.partNumber)}"` };
                if (composite && p.checksum) part[`Checksum${composite}`] = p.checksum.value;
                return part as { PartNumber: number; ETag: string };
              }),
            },
          }),
          replicaHeaders(v),
        ),
      );
    } catch (e) {
      if (isNoSuchUpload(e)) {
        // Completed by an earlier attempt whose answer was lost, or aborted at the destination.
        if (await this.exists(v)) return;
        return this.restart(source, v, parts, headers, progress, sending);
      }
      throw await this.abandon(state.uploadId, v, mapError(e, 'DstMultipartCompleteNotPermitted'));
    }
  }

  /**
   * A multipart copy that fails for good leaves no upload behind at the destination (nothing
   * there would ever clean it up). Transient failures keep it: the copy resumes from it.
   */
  private async abandon(uploadId: string, v: VersionRecord, error: Error): Promise<Error> {
    if (error instanceof ReplicationFailure) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: v.key, UploadId: uploadId })).catch(() => undefined);
    }
    return error;
  }

  private async restart(
    source: BucketEntry,
    v: VersionRecord,
    parts: PartRecord[],
    headers: Record<string, string | undefined>,
    progress: TaskProgress,
    sending: Sending,
  ): Promise<void> {
    await progress.save(undefined);
    return this.writeMultipart(source, v, parts, headers, { firstAttempt: false, save: progress.save }, sending);
  }

  async writeDeleteMarker(v: VersionRecord): Promise<void> {
    try {
      await this.client.send(withHeaders(new DeleteObjectCommand({ Bucket: this.bucket, Key: v.key }), replicaHeaders(v)));
    } catch (e) {
      throw mapError(e, 'DstDelObjNotPermitted');
    }
  }

  async writeTags(v: VersionRecord): Promise<void> {
    try {
      await this.client.send(
        withHeaders(
          new PutObjectTaggingCommand({
            Bucket: this.bucket,
            Key: v.key,
            VersionId: v.versionId,
            Tagging: { TagSet: v.tags.map(([Key, Value]) => ({ Key, Value })) },
          }),
          { [REPLICA_HEADERS.sync]: 'true' },
        ),
      );
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === 'NoSuchVersion' || e.name === 'NoSuchKey')) {
        throw new ReplicationFailure('DstVersionNotFound', `version ${v.versionId} of ${v.key} is not in ${this.bucket}`);
      }
      throw mapError(e, 'DstPutTaggingNotPermitted');
    }
  }
}

/** An SSE-C upload's encryption as the other site records it (the parts bring their salts). */
function storedUploadEncryption(v: VersionRecord) {
  return { algorithm: 'SSE-C' as const, customerKeyMd5: v.meta.encryption!.customerKeyMd5! };
}

/**
 * A body stream the SDK did not consume (a refused connection) still holds its file and the
 * blob's pin: close it whatever happened.
 */
function release(body: unknown): void {
  if (body instanceof Readable && !body.destroyed) body.destroy();
}

function isNoSuchUpload(e: unknown): boolean {
  return e instanceof S3ServiceException && e.name === 'NoSuchUpload';
}

/**
 * A destination's answer as a task outcome: a missing bucket, an unversioned bucket or a
 * refusal are permanent (FAILED with AWS's reason); anything else from the destination that is
 * not a server error is permanent too (it will not change by retrying), named after the step.
 * Server errors and network failures are transient.
 */
function mapError(e: unknown, refusedReason: string): Error {
  // The source's own bytes failed authentication while being sent: damage, not a network error.
  if (e instanceof CipherIntegrityError) return new UnreadableData(e.message);
  if (e instanceof UnreadableData || e instanceof ReplicationFailure) return e;
  if (!(e instanceof S3ServiceException)) return asUnavailable(e);
  const status = e.$metadata.httpStatusCode ?? 0;
  if (status >= 500 || status === 0 || e.name === 'SlowDown') return asUnavailable(e);
  if (e.name === 'NoSuchBucket') return new ReplicationFailure('DstBucketNotFound', e.message);
  if (e.name === 'InvalidBucketState') return new ReplicationFailure('DstBucketUnversioned', e.message);
  // The other site's KMS refused the replica's key (the rule's ReplicaKmsKeyID, or its default).
  if (e.name === 'KMS.NotFoundException') return new ReplicationFailure('DstKmsKeyNotFound', e.message);
  if (e.name === 'KMS.DisabledException' || e.name === 'KMS.KMSInvalidStateException') {
    return new ReplicationFailure('DstKmsKeyInvalidState', `${e.name}: ${e.message}`);
  }
  return new ReplicationFailure(refusedReason, `${e.name}: ${e.message}`);
}
