/**
 * Other xregion sites, reached over their S3 API with the AWS SDK, and where a destination
 * bucket lives: a bucket of this process (any of its regions), or a bucket on a site.
 */
import { GetBucketVersioningCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { SiteConfig } from '../config/config.js';
import type { BucketDirectory, BucketEntry } from '../objects/buckets.js';
import type { VersioningState } from '../storage/types.js';

export interface Site {
  readonly config: SiteConfig;
  /** A client signing for `region` (S3 checks that requests are signed for the bucket's region). */
  client(region: string): S3Client;
  /** Closes the clients' connections. */
  close(): void;
}

export type Destination =
  | { kind: 'local'; bucket: BucketEntry }
  | { kind: 'remote'; name: string; site: Site; region: string };

/** The site could not be asked (down, unreachable, 5xx): nothing can be concluded yet. */
export class SiteUnavailable extends Error {}

function makeSite(config: SiteConfig): Site {
  const clients = new Map<string, S3Client>();
  return {
    config,
    client(region) {
      let c = clients.get(region);
      if (!c) {
        c = new S3Client({
          endpoint: config.endpoint,
          region,
          forcePathStyle: true,
          credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
          // Replication retries on its own schedule; checksums it sends are the source's own.
          maxAttempts: 1,
          // A site that does not answer is a transient failure, not a hung worker.
          requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        });
        clients.set(region, c);
      }
      return c;
    },
    close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}

/** Resolved remote locations are remembered for a while; misses are asked again sooner. */
const HIT_TTL_MS = 60_000;
const VERSIONING_TTL_MS = 5_000;

export class DestinationResolver {
  readonly sites: Site[];
  private readonly remote = new Map<string, { d: Destination; until: number }>();
  private readonly remoteVersioning = new Map<string, { state: VersioningState; until: number }>();

  constructor(
    private readonly buckets: BucketDirectory,
    sites: SiteConfig[],
    private readonly clock: () => number,
  ) {
    this.sites = sites.map(makeSite);
  }

  /**
   * Where a bucket is: here, or on the first site that knows it. Undefined when neither has it;
   * SiteUnavailable when a site that might have it cannot be asked.
   */
  async resolve(name: string): Promise<Destination | undefined> {
    const local = this.buckets.get(name);
    if (local) return { kind: 'local', bucket: local };
    const hit = this.remote.get(name);
    if (hit && hit.until > this.clock()) return hit.d;
    let unavailable: Error | undefined;
    for (const site of this.sites) {
      try {
        const region = await remoteBucketRegion(site, name);
        if (region === undefined) continue;
        const d: Destination = { kind: 'remote', name, site, region };
        this.remote.set(name, { d, until: this.clock() + HIT_TTL_MS });
        return d;
      } catch (e) {
        unavailable = e as Error;
      }
    }
    if (unavailable) throw new SiteUnavailable(unavailable.message);
    return undefined;
  }

  close(): void {
    for (const s of this.sites) s.close();
  }

  /**
   * The destination bucket's versioning state, or undefined if it no longer exists. A remote
   * answer is reused for a few seconds: asking before every replica would triple the requests
   * to the site. (A change at the site is seen within VERSIONING_TTL_MS; the site refuses
   * replicas into an unversioned bucket meanwhile anyway.)
   */
  async versioning(d: Destination): Promise<VersioningState | undefined> {
    if (d.kind === 'local') {
      const current = this.buckets.get(d.bucket.record.name);
      return current?.record.versioning;
    }
    const cached = this.remoteVersioning.get(d.name);
    if (cached && cached.until > this.clock()) return cached.state;
    try {
      const r = await d.site.client(d.region).send(new GetBucketVersioningCommand({ Bucket: d.name }));
      const state = (r.Status ?? '') as VersioningState;
      this.remoteVersioning.set(d.name, { state, until: this.clock() + VERSIONING_TTL_MS });
      return state;
    } catch (e) {
      if (e instanceof S3ServiceException && e.name === 'NoSuchBucket') {
        this.remote.delete(d.name);
        return undefined;
      }
      throw asUnavailable(e);
    }
  }
}

/** The region of a bucket on a site; undefined if the site does not have it. */
async function remoteBucketRegion(site: Site, name: string): Promise<string | undefined> {
  try {
    const r = await site.client('us-east-1').send(new HeadBucketCommand({ Bucket: name }));
    return r.BucketRegion ?? 'us-east-1';
  } catch (e) {
    if (e instanceof S3ServiceException) {
      const status = e.$metadata.httpStatusCode;
      if (status === 404) return undefined;
      // A HEAD signed for the wrong region is answered with the bucket's region.
      const region = e.$response?.headers?.['x-amz-bucket-region'];
      if ((status === 301 || status === 400 || status === 403) && region) return region;
    }
    throw asUnavailable(e);
  }
}

export function asUnavailable(e: unknown): Error {
  if (e instanceof S3ServiceException) {
    const status = e.$metadata.httpStatusCode ?? 0;
    if (status >= 500 || status === 0) return new SiteUnavailable(`${e.name}: ${e.message}`);
    return e;
  }
  return new SiteUnavailable((e as Error).message ?? String(e));
}
