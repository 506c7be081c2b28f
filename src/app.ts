/**
 * The process's state: its configuration, its regions and the bucket namespace over them, the
 * identities it accepts, a clock and a logger. Built once at start and handed to the http layer.
 */
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { BucketDirectory } from './objects/buckets.js';
import { closeRegion, openRegion, type Region } from './region.js';
import { IdentityStore } from './iam/identity-store.js';
import { RegionKms } from './crypto/kms.js';
import { loadMasterKey } from './crypto/master-key.js';
import { DestinationResolver } from './replication/sites.js';
import { ReplicationEngine } from './replication/engine.js';
import { startBatchJobs, stopBatchJobs } from './replication/batch-runner.js';
import { ReplicationMetrics } from './metrics/replication-metrics.js';

export interface App {
  readonly config: Config;
  readonly regions: ReadonlyMap<string, Region>;
  readonly buckets: BucketDirectory;
  /** Accounts, IAM users, roles, policies and STS sessions (<dataDir>/iam.db). */
  readonly iam: IdentityStore;
  /** One KMS per region (<dataDir>/<region>/kms.db). */
  readonly kms: ReadonlyMap<string, RegionKms>;
  /** Wraps KMS key material and SSE-S3 data keys; never leaves the process. */
  readonly masterKey: Buffer;
  /** Where replication destinations are (this process, or other sites). */
  readonly destinations: DestinationResolver;
  readonly clock: () => number;
  readonly log: Logger;
  /** Set while the process stops: new requests are refused. */
  closing: boolean;
  /** The replication workers (started by openApp). */
  replication?: ReplicationEngine;
  metrics?: ReplicationMetrics;
}

export async function openApp(config: Config, log: Logger, clock: () => number = Date.now): Promise<App> {
  const regions = new Map<string, Region>();
  for (const name of config.regions) {
    const region = openRegion(config.dataDir, name);
    // An fsync that failed leaves no write durable: stop rather than acknowledge more (a
    // supervisor restarts the process, which recovers what is on disk).
    region.meta.onDurabilityLost = (e) => {
      log.fatal({ region: name, err: e.message }, 'stopping: metadata durability lost');
      process.exit(70);
    };
    regions.set(name, region);
  }
  const buckets = new BucketDirectory(regions, clock);
  await buckets.load();
  const iam = IdentityStore.open(config.dataDir, config.credentials, clock);
  const masterKey = loadMasterKey(config, (msg) => log.warn(msg));
  const kms = new Map<string, RegionKms>();
  for (const name of config.regions) kms.set(name, RegionKms.open(config.dataDir, name, masterKey, clock));
  const destinations = new DestinationResolver(buckets, config.sites, clock);
  const app: App = { config, regions, buckets, iam, kms, masterKey, destinations, clock, log, closing: false };
  // File times come from the kernel's coarse clock (a tick of a few ms) and may trail
  // Date.now(): the margin keeps blobs this process creates in its first moments out of the
  // sweep, while anything a previous process left (it stopped before this one started) is in.
  sweepOrphansInBackground(app, clock() - 100);
  app.metrics = new ReplicationMetrics(app);
  app.replication = new ReplicationEngine(app, app.metrics);
  app.replication.start();
  startBatchJobs(app); // S3 Batch Replication jobs run in the background (src/replication/batch-runner.ts)
  return app;
}

/**
 * Blob files that no metadata refers to are left by a crash between writing a blob and
 * committing its version (or between committing a delete and removing the file). Only files
 * older than this start are considered, so uploads in progress are never touched.
 */
function sweepOrphansInBackground(app: App, startedAt: number): void {
  setImmediate(async () => {
    for (const region of app.regions.values()) {
      try {
        const removed = await region.blobs.sweepOrphans((id) => region.meta.isBlobReferenced(id), startedAt);
        if (removed > 0) app.log.info({ region: region.name, removed }, 'removed orphaned blob files');
      } catch (e) {
        if (!app.closing) app.log.warn({ region: region.name, err: (e as Error).message }, 'orphan sweep failed');
      }
    }
  });
}

export async function closeApp(app: App): Promise<void> {
  app.closing = true;
  await stopBatchJobs(app); // S3 Batch Replication jobs (src/replication/batch-runner.ts)
  await app.replication?.stop();
  app.metrics?.stop();
  app.destinations.close();
  for (const r of app.regions.values()) await closeRegion(r);
  for (const k of app.kms.values()) k.close();
  app.iam.close();
}
