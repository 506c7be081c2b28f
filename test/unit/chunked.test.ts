import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AwsChunkedDecoder, type AwsChunkedOptions } from '../../src/http/sigv4/chunked.js';
import type { ChunkSigning } from '../../src/http/sigv4/verify.js';
import { verifyRequest, type SigningIdentity } from '../../src/http/sigv4/verify.js';
import { createChecksum } from '../../src/objects/checksums.js';
import { S3Error } from '../../src/errors.js';

// ------------------------------------------------------------------------------------------
// Independent reference implementation of the chunk signing side (what an SDK does), written
// from the documented algorithm rather than shared with the code under test.
// ------------------------------------------------------------------------------------------

// The SDK warns on node 20 the first time a client is made; that says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const EMPTY = crypto.createHash('sha256').update('').digest('hex');
const sha256 = (d: Buffer | string): string => crypto.createHash('sha256').update(d).digest('hex');
const hmac = (k: Buffer | string, d: string): Buffer => crypto.createHmac('sha256', k).update(d).digest();

function signingKeyOf(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

const SIGNING: ChunkSigning = {
  signingKey: signingKeyOf('test/secret+key', '20240309', 'eu-west-3', 's3'),
  seedSignature: 'a'.repeat(64),
  amzDate: '20240309T123456Z',
  scope: '20240309/eu-west-3/s3/aws4_request',
};

interface BuildOptions {
  signing?: ChunkSigning;
  /** Trailer lines (name, value) sent after the final chunk. */
  trailers?: Array<[string, string]>;
  /** Omit the trailer signature (signed-trailer), or corrupt signatures. */
  corruptChunk?: number;
  corruptTrailerSignature?: boolean;
  omitTrailerSignature?: boolean;
}

/** Frames `chunks` as aws-chunked; signed when opts.signing is given. */
function frame(chunks: Buffer[], opts: BuildOptions = {}): Buffer {
  const out: Buffer[] = [];
  const s = opts.signing;
  let prev = s?.seedSignature ?? '';
  const all = [...chunks, Buffer.alloc(0)];
  all.forEach((data, i) => {
    if (s) {
      let sig = hmac(
        s.signingKey,
        `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${prev}\n${EMPTY}\n${sha256(data)}`,
      ).toString('hex');
      if (opts.corruptChunk === i) sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      prev = sig;
      out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`));
    } else {
      out.push(Buffer.from(`${data.length.toString(16)}\r\n`));
    }
    if (data.length > 0) out.push(data, Buffer.from('\r\n'));
  });
  if (opts.trailers) {
    let canonical = '';
    for (const [n, v] of opts.trailers) {
      out.push(Buffer.from(`${n}:${v}\r\n`));
      canonical += `${n}:${v}\n`;
    }
    if (s && !opts.omitTrailerSignature) {
      let sig = hmac(
        s.signingKey,
        `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${prev}\n${sha256(canonical)}`,
      ).toString('hex');
      if (opts.corruptTrailerSignature) sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      out.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n`));
    }
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function bytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r() & 0xff;
  return b;
}

function splitRandom(buf: Buffer, seed: number, max: number): Buffer[] {
  const r = prng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = 1 + (r() % max);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

async function decode(
  opts: AwsChunkedOptions,
  pieces: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<{ data: Buffer; trailers: Record<string, string> }> {
  const decoder = new AwsChunkedDecoder(opts);
  const parts: Buffer[] = [];
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    decoder,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return { data: Buffer.concat(parts), trailers: decoder.trailers };
}

async function expectError(p: Promise<unknown>, code: string, status: number, message?: RegExp): Promise<S3Error> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof S3Error, `expected S3Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  if (message) assert.match(caught.message, message);
  return caught;
}

const signed = (extra: Partial<AwsChunkedOptions> = {}): AwsChunkedOptions => ({
  mode: 'streaming-signed',
  signing: SIGNING,
  trailerNames: [],
  ...extra,
});

// ------------------------------------------------------------------------------------------

describe('aws-chunked: the S3 documentation example (64 KiB + 1 KiB of "a")', () => {
  // "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
  // Chunks" — seed 4f232c43…, chunk signatures ad80c730…, 0055627c…, b6c6ea8a….
  const identity: SigningIdentity = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    accountId: '111122223333',
  };
  const headers = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  };
  const wire = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);

  function seed(): ChunkSigning {
    const v = verifyRequest(
      { method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '', headers },
      (k) => (k === identity.accessKeyId ? identity : undefined),
      Date.UTC(2013, 4, 24, 0, 1),
    );
    assert.ok(v);
    assert.equal(v.payload.mode, 'streaming-signed');
    assert.equal(v.chunkSigning.seedSignature, '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
    assert.equal(v.chunkSigning.scope, '20130524/us-east-1/s3/aws4_request');
    return v.chunkSigning;
  }

  it('the seed request verifies, and its chunk signing parameters decode the body', async () => {
    assert.equal(wire.length, 66824);
    const { data } = await decode(signed({ signing: seed(), decodedLength: 66560 }), [wire]);
    assert.equal(data.length, 66560);
    assert.ok(data.equals(Buffer.alloc(66560, 'a')));
  });

  it('decodes when fed one byte at a time', async () => {
    const { data } = await decode(signed({ signing: seed(), decodedLength: 66560 }), splitEvery(wire, 1));
    assert.equal(data.length, 66560);
  });

  it('decodes across 200 random splits', async () => {
    const signing = seed();
    for (let s = 1; s <= 200; s++) {
      const { data } = await decode(signed({ signing, decodedLength: 66560 }), splitRandom(wire, s, s % 2 ? 97 : 9000));
      assert.equal(data.length, 66560, `seed ${s}`);
    }
  });

  it('a flipped data byte is SignatureDoesNotMatch', async () => {
    const bad = Buffer.from(wire);
    bad[100] = 'b'.charCodeAt(0);
    await expectError(decode(signed({ signing: seed() }), [bad]), 'SignatureDoesNotMatch', 403);
  });

  it('the wrong seed is SignatureDoesNotMatch', async () => {
    await expectError(
      decode(signed({ signing: { ...seed(), seedSignature: 'f'.repeat(64) } }), [wire]),
      'SignatureDoesNotMatch',
      403,
    );
  });
});

describe('aws-chunked: streaming-signed', () => {
  it('round-trips several chunks with exact data', async () => {
    const chunks = [bytes(65536, 1), bytes(65536, 2), bytes(8192, 3), bytes(17, 4)];
    const wire = frame(chunks, { signing: SIGNING });
    const { data } = await decode(signed({ decodedLength: 65536 * 2 + 8192 + 17 }), splitRandom(wire, 5, 5000));
    assert.ok(data.equals(Buffer.concat(chunks)));
  });

  it('an empty body (only the final chunk)', async () => {
    const { data } = await decode(signed({ decodedLength: 0 }), [frame([], { signing: SIGNING })]);
    assert.equal(data.length, 0);
  });

  it('a bad signature on a middle chunk or on the final chunk is 403 SignatureDoesNotMatch', async () => {
    const chunks = [bytes(9000, 1), bytes(9000, 2), bytes(10, 3)];
    for (const i of [0, 1, 2, 3]) {
      const wire = frame(chunks, { signing: SIGNING, corruptChunk: i });
      const e = await expectError(decode(signed(), [wire]), 'SignatureDoesNotMatch', 403);
      assert.match(String(e.fields.StringToSign), /^AWS4-HMAC-SHA256-PAYLOAD\n20240309T123456Z\n/);
    }
  });

  it('chunks reordered are detected (signatures chain)', async () => {
    const a = bytes(9000, 1);
    const b = bytes(9000, 2);
    const w1 = frame([a, b], { signing: SIGNING });
    // Swap the two framed chunks: each keeps its own signature, but the chain breaks.
    const h = `2328;chunk-signature=`.length + 64 + 2;
    const one = w1.subarray(0, h + 9000 + 2);
    const two = w1.subarray(h + 9000 + 2, 2 * (h + 9000 + 2));
    const rest = w1.subarray(2 * (h + 9000 + 2));
    await expectError(decode(signed(), [Buffer.concat([two, one, rest])]), 'SignatureDoesNotMatch', 403);
  });

  it('a non-final chunk under 8 KiB is 403 InvalidChunkSizeError (the last may be small)', async () => {
    const wire = frame([bytes(8191, 1), bytes(9000, 2)], { signing: SIGNING });
    const e = await expectError(
      decode(signed(), [wire]),
      'InvalidChunkSizeError',
      403,
      /^Only the last chunk is allowed to have a size less than 8192 bytes$/,
    );
    assert.equal(e.fields.Chunk, 1);
    assert.equal(e.fields.BadChunkSize, 8191);
    // exactly 8192 then a small final chunk: fine
    const ok = frame([bytes(8192, 1), bytes(1, 2)], { signing: SIGNING });
    assert.equal((await decode(signed(), [ok])).data.length, 8193);
  });

  it('truncated streams are 400 IncompleteBody', async () => {
    const wire = frame([bytes(9000, 1), bytes(100, 2)], { signing: SIGNING });
    for (const cut of [1, 50, 100, 9000, 9100, wire.length - 90, wire.length - 3]) {
      await expectError(
        decode(signed(), [wire.subarray(0, cut)]),
        'IncompleteBody',
        400,
        /^You did not provide the number of bytes specified by the Content-Length HTTP header$/,
      );
    }
    await expectError(decode(signed(), []), 'IncompleteBody', 400);
  });

  it('tolerates a missing final CRLF (some clients stop after the last chunk line)', async () => {
    const wire = frame([bytes(9000, 1)], { signing: SIGNING });
    const { data } = await decode(signed(), [wire.subarray(0, wire.length - 2)]);
    assert.equal(data.length, 9000);
  });

  it('decoded length other than x-amz-decoded-content-length is 400 IncompleteBody', async () => {
    const wire = frame([bytes(9000, 1), bytes(10, 2)], { signing: SIGNING });
    await expectError(decode(signed({ decodedLength: 9011 }), [wire]), 'IncompleteBody', 400);
    await expectError(decode(signed({ decodedLength: 9009 }), [wire]), 'IncompleteBody', 400);
    await expectError(decode(signed({ decodedLength: 0 }), [wire]), 'IncompleteBody', 400);
    assert.equal((await decode(signed({ decodedLength: 9010 }), [wire])).data.length, 9010);
  });

  it('malformed framing is 400 InvalidRequest', async () => {
    const sig = 'c'.repeat(64);
    const cases = [
      `zz;chunk-signature=${sig}\r\n`, // not hex
      `10\r\n0123456789abcdef\r\n`, // no signature in a signed stream
      `10;chunk-signature=abc\r\n`, // short signature
      `${'1'.repeat(17)};chunk-signature=${sig}\r\n`, // size too long
      `${'x'.repeat(5000)}`, // no line end at all
    ];
    for (const c of cases) {
      await expectError(decode(signed(), [Buffer.from(c)]), 'InvalidRequest', 400, /^Malformed aws-chunked body/);
    }
    // data not followed by CRLF
    const wire = frame([bytes(9000, 1)], { signing: SIGNING });
    const at = wire.indexOf('\r\n') + 2 + 9000; // the CR after the data
    const b2 = Buffer.from(wire);
    b2[at] = 0x41;
    await expectError(decode(signed(), [b2]), 'InvalidRequest', 400, /not followed by CRLF/);
    // junk after the final chunk
    await expectError(
      decode(signed(), [Buffer.concat([frame([bytes(10, 1)], { signing: SIGNING }), Buffer.from('junk')])]),
      'InvalidRequest',
      400,
    );
  });

  it('needs signing parameters', () => {
    assert.throws(() => new AwsChunkedDecoder({ mode: 'streaming-signed', trailerNames: [] }), TypeError);
  });
});

describe('aws-chunked: streaming-signed-trailer', () => {
  const opts = (extra: Partial<AwsChunkedOptions> = {}): AwsChunkedOptions => ({
    mode: 'streaming-signed-trailer',
    signing: SIGNING,
    trailerNames: ['x-amz-checksum-crc32c'],
    ...extra,
  });

  function crc32cB64(data: Buffer): string {
    const h = createChecksum('CRC32C');
    h.update(data);
    return h.digest().toString('base64');
  }

  it('verifies chunk and trailer signatures and exposes the trailer', async () => {
    const payload = bytes(70000, 9);
    const wire = frame([payload.subarray(0, 65536), payload.subarray(65536)], {
      signing: SIGNING,
      trailers: [['x-amz-checksum-crc32c', crc32cB64(payload)]],
    });
    for (const pieces of [[wire], splitEvery(wire, 1), splitRandom(wire, 3, 300)]) {
      const { data, trailers } = await decode(opts({ decodedLength: 70000 }), pieces);
      assert.ok(data.equals(payload));
      assert.deepEqual(trailers, { 'x-amz-checksum-crc32c': crc32cB64(payload) });
    }
  });

  it('a bad or missing trailer signature is rejected', async () => {
    const payload = bytes(100, 9);
    const trailers: Array<[string, string]> = [['x-amz-checksum-crc32c', crc32cB64(payload)]];
    await expectError(
      decode(opts(), [frame([payload], { signing: SIGNING, trailers, corruptTrailerSignature: true })]),
      'SignatureDoesNotMatch',
      403,
    );
    await expectError(
      decode(opts(), [frame([payload], { signing: SIGNING, trailers, omitTrailerSignature: true })]),
      'InvalidRequest',
      400,
      /x-amz-trailer-signature/,
    );
    // A trailer value changed after signing
    const wire = frame([payload], { signing: SIGNING, trailers }).toString('latin1');
    const tampered = wire.replace(crc32cB64(payload), 'AAAAAA==');
    await expectError(decode(opts(), [Buffer.from(tampered, 'latin1')]), 'SignatureDoesNotMatch', 403);
  });

  it('an unannounced trailer, or an announced one missing, is 400 InvalidRequest', async () => {
    const payload = bytes(100, 9);
    await expectError(
      decode(opts(), [frame([payload], { signing: SIGNING, trailers: [['x-amz-checksum-sha256', 'x']] })]),
      'InvalidRequest',
      400,
      /x-amz-checksum-sha256 was not announced/,
    );
    await expectError(
      decode(opts(), [frame([payload], { signing: SIGNING, trailers: [] })]),
      'InvalidRequest',
      400,
      /x-amz-checksum-crc32c was announced in x-amz-trailer but not sent/,
    );
  });
});

describe('aws-chunked: streaming-unsigned-trailer', () => {
  const opts = (name: string, extra: Partial<AwsChunkedOptions> = {}): AwsChunkedOptions => ({
    mode: 'streaming-unsigned-trailer',
    trailerNames: [name],
    ...extra,
  });

  for (const alg of ['CRC32', 'CRC32C', 'SHA256', 'CRC64NVME', 'SHA1'] as const) {
    it(`carries an x-amz-checksum-${alg.toLowerCase()} trailer through random splits`, async () => {
      const payload = bytes(200_000, 21);
      const h = createChecksum(alg);
      h.update(payload);
      const value = h.digest().toString('base64');
      const name = `x-amz-checksum-${alg.toLowerCase()}`;
      const chunks = [payload.subarray(0, 65536), payload.subarray(65536, 131072), payload.subarray(131072)];
      const wire = frame(chunks, { trailers: [[name, value]] });
      for (const pieces of [[wire], splitRandom(wire, 8, 70000), splitRandom(wire, 9, 11)]) {
        const { data, trailers } = await decode(opts(name, { decodedLength: 200_000 }), pieces);
        assert.ok(data.equals(payload));
        assert.deepEqual(trailers, { [name]: value });
      }
    });
  }

  it('botocore 1.43 wire bodies (PutObject with ChecksumAlgorithm over https) decode', async () => {
    // Captured from botocore: a single 70000-byte chunk (hex 11170), then the trailer.
    const data = Buffer.alloc(70000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    const samples: Array<[string, string]> = [
      ['x-amz-checksum-crc32', '4CkOjg=='],
      ['x-amz-checksum-sha256', 'n22LtVBZGlQQqnK5l+fUnj7tHOAl6DYordr0OC0ilb0='],
      ['x-amz-checksum-sha1', 'hjsk9i83OvALldi9wisMX5Gzxww='],
    ];
    for (const [name, value] of samples) {
      const wire = Buffer.concat([
        Buffer.from('11170\r\n'),
        data,
        Buffer.from(`\r\n0\r\n${name}:${value}\r\n\r\n`),
      ]);
      const out = await decode(opts(name, { decodedLength: 70000 }), splitRandom(wire, 77, 16384));
      assert.ok(out.data.equals(data));
      assert.equal(out.trailers[name], value);
    }
  });

  it('small non-final chunks are accepted (the 8 KiB rule is for signed streams)', async () => {
    const chunks = [bytes(10, 1), bytes(20, 2), bytes(30, 3)];
    const { data } = await decode(opts('x-amz-checksum-crc32'), [
      frame(chunks, { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] }),
    ]);
    assert.ok(data.equals(Buffer.concat(chunks)));
  });

  it('no trailers announced and none sent', async () => {
    const { data, trailers } = await decode(
      { mode: 'streaming-unsigned-trailer', trailerNames: [] },
      [frame([bytes(5, 1)], { trailers: [] })],
    );
    assert.equal(data.length, 5);
    assert.deepEqual(trailers, {});
  });

  it('tolerates the final empty line being left off', async () => {
    const wire = frame([bytes(5, 1)], { trailers: [['x-amz-checksum-crc32', 'AAAAAA==']] });
    const { trailers } = await decode(opts('x-amz-checksum-crc32'), [wire.subarray(0, wire.length - 2)]);
    assert.equal(trailers['x-amz-checksum-crc32'], 'AAAAAA==');
  });

  it('errors: unannounced trailer, missing trailer, duplicate trailer, bad line, truncation', async () => {
    const o = opts('x-amz-checksum-crc32');
    await expectError(
      decode(o, [frame([bytes(5, 1)], { trailers: [['x-amz-checksum-crc32c', 'AAAAAA==']] })]),
      'InvalidRequest',
      400,
    );
    await expectError(decode(o, [frame([bytes(5, 1)], { trailers: [] })]), 'InvalidRequest', 400, /not sent/);
    await expectError(
      decode(o, [
        frame([bytes(5, 1)], {
          trailers: [
            ['x-amz-checksum-crc32', 'AAAAAA=='],
            ['x-amz-checksum-crc32', 'AAAAAA=='],
          ],
        }),
      ]),
      'InvalidRequest',
      400,
      /more than once/,
    );
    await expectError(
      decode(o, [Buffer.from('5\r\nhello\r\n0\r\nno-colon-here\r\n\r\n')]),
      'InvalidRequest',
      400,
      /bad trailer line/,
    );
    await expectError(decode(o, [Buffer.from('5\r\nhel')]), 'IncompleteBody', 400);
    await expectError(decode(o, [Buffer.from('5\r\nhello\r\n')]), 'IncompleteBody', 400);
  });

  it('output buffers are views of the input (no copy)', async () => {
    const wire = frame([bytes(65536, 1)], { trailers: [] });
    const decoder = new AwsChunkedDecoder({ mode: 'streaming-unsigned-trailer', trailerNames: [] });
    const seen: Buffer[] = [];
    decoder.on('data', (c: Buffer) => seen.push(c));
    const done = new Promise((resolve) => decoder.on('end', resolve));
    decoder.end(wire);
    await done;
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.buffer, wire.buffer);
  });
});

describe('aws-chunked: @aws-sdk/client-s3 PutObject with a stream body', () => {
  it('the SDK-framed body (STREAMING-UNSIGNED-PAYLOAD-TRAILER + CRC32 trailer) decodes and its trailer matches', async () => {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    let captured: { headers: Record<string, string>; body: Buffer } | undefined;
    const requestHandler = {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        const parts: Buffer[] = [];
        if (request.body && typeof (request.body as Readable).pipe === 'function') {
          for await (const c of request.body as Readable) parts.push(Buffer.from(c as Uint8Array));
        }
        captured = { headers: request.headers, body: Buffer.concat(parts) };
        return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    };
    const client = new S3Client({
      region: 'eu-west-3',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDJS', secretAccessKey: 'js/secret' },
      requestHandler,
    });
    const payload = [bytes(70_000, 1), bytes(100, 2), bytes(30_000, 3)];
    await client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: Readable.from(payload) }));
    client.destroy();
    assert.ok(captured);
    assert.equal(captured.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    const trailerName = captured.headers['x-amz-trailer']!;
    assert.match(trailerName, /^x-amz-checksum-/);
    const { data, trailers } = await decode(
      { mode: 'streaming-unsigned-trailer', trailerNames: [trailerName] },
      splitRandom(captured.body, 4, 4096),
    );
    const expected = Buffer.concat(payload);
    assert.ok(data.equals(expected));
    const alg = trailerName.slice('x-amz-checksum-'.length).toUpperCase() as 'CRC32';
    const h = createChecksum(alg);
    h.update(expected);
    assert.equal(trailers[trailerName], h.digest().toString('base64'));
  });
});

describe('aws-chunked: throughput and bounded memory', () => {
  it('5 GiB of unsigned-trailer 64 KiB chunks streams with bounded memory (reports GB/s)', async (t) => {
    const CHUNK = 65536;
    const COUNT = (5 * 1024 ** 3) / CHUNK; // 81920 chunks = 5 GiB
    const data = bytes(CHUNK, 1);
    const framed = Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const tail = Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n');
    // Socket reads do not line up with frames: feed 64 KiB windows over a repeating frame.
    const period = Buffer.concat([framed, framed]);
    async function* source(): AsyncGenerator<Buffer> {
      let offset = 0; // position within the infinite repetition of `framed`
      const total = COUNT * framed.length;
      while (offset < total) {
        const start = offset % framed.length;
        const n = Math.min(CHUNK, total - offset);
        yield period.subarray(start, start + n);
        offset += n;
      }
      yield tail;
    }
    const decoder = new AwsChunkedDecoder({
      mode: 'streaming-unsigned-trailer',
      trailerNames: ['x-amz-checksum-crc32'],
      decodedLength: COUNT * CHUNK,
    });
    let total = 0;
    let maxRss = 0;
    const rss0 = process.memoryUsage().rss;
    const start = process.hrtime.bigint();
    await pipeline(
      Readable.from(source(), { objectMode: false }),
      decoder,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          total += chunk.length;
          if ((total & 0xfffffff) < chunk.length) maxRss = Math.max(maxRss, process.memoryUsage().rss);
          cb();
        },
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const gbps = total / seconds / 1e9;
    t.diagnostic(
      `unsigned-trailer decode: ${(total / 1024 ** 3).toFixed(1)} GiB in ${seconds.toFixed(2)} s = ${gbps.toFixed(2)} GB/s; rss growth ${((maxRss - rss0) / 1e6).toFixed(1)} MB`,
    );
    assert.equal(total, 5 * 1024 ** 3);
    assert.equal(decoder.trailers['x-amz-checksum-crc32'], 'AAAAAA==');
    assert.ok(maxRss - rss0 < 200e6, 'memory stays bounded');
    assert.ok(gbps > 0.2, `throughput ${gbps} GB/s`);
  });

  it('signed 64 KiB chunks: throughput (reports GB/s)', async (t) => {
    const CHUNK = 65536;
    const COUNT = 4096; // 256 MiB
    const data = bytes(CHUNK, 2);
    const dataHash = sha256(data);
    let prev = SIGNING.seedSignature;
    const headers: Buffer[] = [];
    for (let i = 0; i <= COUNT; i++) {
      const h = i === COUNT ? EMPTY : dataHash;
      prev = hmac(
        SIGNING.signingKey,
        `AWS4-HMAC-SHA256-PAYLOAD\n${SIGNING.amzDate}\n${SIGNING.scope}\n${prev}\n${EMPTY}\n${h}`,
      ).toString('hex');
      headers.push(Buffer.from(`${i === COUNT ? '0' : CHUNK.toString(16)};chunk-signature=${prev}\r\n`));
    }
    const crlf = Buffer.from('\r\n');
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < COUNT; i++) {
        yield headers[i]!;
        yield data;
        yield crlf;
      }
      yield headers[COUNT]!;
      yield crlf;
    }
    let total = 0;
    const start = process.hrtime.bigint();
    await pipeline(
      Readable.from(source(), { objectMode: false }),
      new AwsChunkedDecoder(signed({ decodedLength: COUNT * CHUNK })),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          total += chunk.length;
          cb();
        },
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    t.diagnostic(`signed decode: ${(total / 1e9 / seconds).toFixed(2)} GB/s`);
    assert.equal(total, COUNT * CHUNK);
  });
});
