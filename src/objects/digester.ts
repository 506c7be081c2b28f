/**
 * One pass over an object's bytes computing everything it needs: its size, its MD5 (the ETag),
 * optionally a SHA-256 (signed payloads) and an x-amz-checksum-* algorithm.
 */
import { createHash, type Hash } from 'node:crypto';
import { createChecksum, type ChecksumAlgorithm, type ChecksumHasher } from './checksums.js';

export interface Digests {
  size: number;
  md5: Buffer;
  sha256?: string;
  checksum?: { algorithm: ChecksumAlgorithm; digest: Buffer };
}

export class Digester {
  private readonly md5: Hash = createHash('md5');
  private readonly sha?: Hash;
  private readonly checksum?: ChecksumHasher;
  size = 0;

  constructor(
    private readonly algorithm: ChecksumAlgorithm | undefined,
    withSha256: boolean,
  ) {
    if (withSha256) this.sha = createHash('sha256');
    if (algorithm) this.checksum = createChecksum(algorithm);
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha?.update(chunk);
    this.checksum?.update(chunk);
  }

  /** Final values; call once. */
  digest(): Digests {
    const d: Digests = { size: this.size, md5: this.md5.digest() };
    if (this.sha) d.sha256 = this.sha.digest('hex');
    if (this.algorithm && this.checksum) d.checksum = { algorithm: this.algorithm, digest: this.checksum.digest() };
    return d;
  }
}
