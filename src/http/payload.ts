/**
 * Turns a request's body into the domain's ObjectBody: decodes aws-chunked framing, and hashes
 * every byte once for all that the request promised or the object needs: MD5 (ETag and
 * Content-MD5), SHA-256 (a signed payload), and the x-amz-checksum-* algorithm (header or trailer).
 * finish() compares them and throws the exact S3 error on a mismatch, before anything commits.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { Errors, S3Error } from '../errors.js';
import type { BodyDigests, ObjectBody } from '../objects/data.js';
import {
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmFromHeaderName,
  checksumHeader,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../objects/checksums.js';
import { Digester } from '../objects/digester.js';
import { AwsChunkedDecoder } from './sigv4/chunked.js';
import type { VerifiedRequest } from './sigv4/verify.js';
import { minorGcPacer } from '../gc-pacer.js';

/**
 * Every body chunk node's HTTP parser hands over is a fresh buffer, dead as soon as it is
 * hashed and stored: a young collection every 4 MiB of them keeps V8 from answering their
 * external memory with full collections (gc-pacer.ts).
 */
const paceGc = minorGcPacer(4 * 1024 * 1024);

export interface BodyOptions {
  /** Largest body accepted (EntityTooLarge beyond). */
  maxSize: number;
  /** Operations whose body must carry Content-MD5 or a checksum (botocore's requestChecksumRequired). */
  integrityRequired?: boolean;
  /** Whether a missing length is MissingContentLength (uploads) rather than "read until the end". */
  lengthRequired?: boolean;
  /** False when x-amz-checksum-* headers describe the object, not this body (CompleteMultipartUpload). */
  bodyChecksumHeaders?: boolean;
}

/** The checksum a request asks for: a header value, a trailer to come, or only an algorithm. */
interface ChecksumRequest {
  algorithm: ChecksumAlgorithm;
  /** Base64 value from the header; undefined when it comes in a trailer or not at all. */
  value?: string;
  fromTrailer: boolean;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value)) throw Errors.invalidArgument('Invalid content length', 'Content-Length', value);
  return Number(value);
}

function unsupportedChecksum(name: string): S3Error {
  return Errors.invalidRequest(
    `The ${name} checksum is not supported by this server. Use one of: ${CHECKSUM_ALGORITHMS.join(', ')}.`,
  );
}

/**
 * The checksum a request's body promises. `objectChecksumHeaders` is false for requests whose
 * x-amz-checksum-* headers describe something else than the body (CompleteMultipartUpload:
 * the whole object).
 */
function checksumRequest(req: IncomingMessage, trailerNames: string[], fromHeaders: boolean): ChecksumRequest | undefined {
  let found: ChecksumRequest | undefined;
  for (const name of fromHeaders ? Object.keys(req.headers) : []) {
    if (!name.startsWith('x-amz-checksum-') || name === 'x-amz-checksum-type' || name === 'x-amz-checksum-algorithm') {
      continue;
    }
    const algorithm = checksumAlgorithmFromHeaderName(name);
    if (!algorithm) throw unsupportedChecksum(name);
    if (found) {
      throw Errors.invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    }
    const value = header(req, name)!;
    if (!isValidChecksumValue(algorithm, value)) throw Errors.invalidRequest(`Value for ${name} header is invalid.`);
    found = { algorithm, value, fromTrailer: false };
  }
  for (const name of trailerNames) {
    const algorithm = checksumAlgorithmFromHeaderName(name);
    if (!algorithm) {
      if (name.startsWith('x-amz-checksum-')) throw unsupportedChecksum(name);
      continue;
    }
    if (found) {
      throw Errors.invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    }
    found = { algorithm, fromTrailer: true };
  }
  const sdkAlgorithm = header(req, 'x-amz-sdk-checksum-algorithm');
  if (!found && fromHeaders && sdkAlgorithm !== undefined) {
    const algorithm = parseChecksumAlgorithm(sdkAlgorithm);
    if (!algorithm) {
      throw Errors.invalidRequest(
        `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(', ')}]`,
      );
    }
    found = { algorithm, fromTrailer: false };
  }
  return found;
}

function decodeContentMd5(value: string | undefined): Buffer | undefined {
  if (value === undefined) return undefined;
  const b = Buffer.from(value, 'base64');
  if (b.length !== 16 || b.toString('base64') !== value) throw Errors.invalidDigest();
  return b;
}

/** Builds the ObjectBody of a request. Throws before reading anything if the headers are wrong. */
export function requestBody(req: IncomingMessage, auth: VerifiedRequest, opts: BodyOptions): ObjectBody {
  const mode = auth.payload.mode;
  const streaming = mode.startsWith('streaming');
  const trailerNames = (header(req, 'x-amz-trailer') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (!streaming && trailerNames.length > 0) {
    throw Errors.invalidRequest('x-amz-trailer is only allowed with a STREAMING-*-TRAILER x-amz-content-sha256');
  }
  const contentLength = parseLength(header(req, 'content-length'));
  const decodedLength = streaming ? parseLength(header(req, 'x-amz-decoded-content-length')) : contentLength;
  const length = decodedLength;
  // aws-chunked bodies may come with Transfer-Encoding: chunked instead of a Content-Length;
  // then x-amz-decoded-content-length tells the object's size.
  if (opts.lengthRequired && (streaming ? decodedLength === undefined : contentLength === undefined)) {
    throw new S3Error(
      'MissingContentLength',
      411,
      streaming ? 'You must provide the x-amz-decoded-content-length HTTP header.' : 'You must provide the Content-Length HTTP header.',
    );
  }
  if (length !== undefined && length > opts.maxSize) throw Errors.entityTooLarge(length, opts.maxSize);
  const contentMd5 = decodeContentMd5(header(req, 'content-md5'));
  const checksum = checksumRequest(req, trailerNames, opts.bodyChecksumHeaders !== false);
  if (opts.integrityRequired && !contentMd5 && !checksum) {
    throw Errors.invalidRequest('Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)');
  }

  let source: Readable = req;
  let decoder: AwsChunkedDecoder | undefined;
  if (streaming) {
    decoder = new AwsChunkedDecoder({
      mode: mode as 'streaming-signed' | 'streaming-signed-trailer' | 'streaming-unsigned-trailer',
      signing: auth.chunkSigning,
      trailerNames,
      decodedLength,
    });
    req.pipe(decoder);
    req.once('error', (e) => decoder!.destroy(e));
    req.once('aborted', () => decoder!.destroy(Errors.incompleteBody()));
    source = decoder;
  }

  const signedSha256 = mode === 'sha256' ? auth.payload.sha256 : undefined;
  const digester = new Digester(checksum?.algorithm, signedSha256 !== undefined);
  let ended = false;

  async function* stream(): AsyncGenerator<Buffer> {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      paceGc(chunk.length);
      digester.update(chunk);
      if (digester.size > opts.maxSize) throw Errors.entityTooLarge(digester.size, opts.maxSize);
      yield chunk;
    }
    ended = true;
  }

  return {
    length,
    stream: stream(),
    async finish(): Promise<BodyDigests> {
      if (!ended) throw Errors.incompleteBody();
      const d = digester.digest();
      if (length !== undefined && d.size !== length) throw Errors.incompleteBody();
      if (signedSha256 !== undefined && d.sha256 !== signedSha256.toLowerCase()) {
        throw new S3Error(
          'XAmzContentSHA256Mismatch',
          400,
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: signedSha256, S3ComputedContentSHA256: d.sha256 },
        );
      }
      if (contentMd5 && !contentMd5.equals(d.md5)) throw Errors.badDigest();
      if (checksum && d.checksum) {
        let expected = checksum.value;
        if (checksum.fromTrailer) {
          const name = checksumHeader(checksum.algorithm);
          expected = decoder!.trailers[name];
          if (expected === undefined) throw Errors.invalidRequest(`The trailer ${name} was announced but not sent.`);
          if (!isValidChecksumValue(checksum.algorithm, expected)) {
            throw Errors.invalidRequest(`Value for ${name} trailing header is invalid.`);
          }
        }
        if (expected !== undefined && expected !== d.checksum.digest.toString('base64')) {
          throw Errors.badDigest(`The ${checksum.algorithm} you specified did not match the calculated checksum.`);
        }
      }
      return d;
    },
  };
}

/** Reads a small body (an XML document) whole, with the same verification as object bodies. */
export async function readSmallBody(body: ObjectBody): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body.stream) chunks.push(c);
  await body.finish();
  return Buffer.concat(chunks);
}
