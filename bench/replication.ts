/**
 * `npm run bench:replication`: replication lag and replication throughput of xregion.
 *
 * Topology (two processes on 127.0.0.1):
 *   site A  regions us-east-1 + us-west-2, config `sites: [B]`
 *   site B  region eu-west-1
 *   lag-src (A, us-east-1) replicates to lag-local (A, us-west-2: in-process) and to
 *   lag-remote (B, eu-west-1: over the S3 API); tput-src (A) replicates to tput-remote (B).
 *
 * 1. Lag: 4 KiB PUTs to lag-src at a fixed rate, open loop (sends are scheduled at fixed
 *    intervals whatever the answers do; a pool of keep-alive connections grows as needed). One
 *    poller per destination lists the destination (ListObjectsV2, prefix + start-after the
 *    lowest key not yet seen; keys are sequence numbers, so one request returns every newly
 *    arrived replica) every --poll-ms. Lag of a version = when a listing first showed it at the
 *    destination − when the source's 200 arrived. The pollers' load is counted and reported.
 * 2. Throughput: N 1 MiB PUTs with W writers (closed loop) to an unreplicated bucket (baseline),
 *    then to tput-src; replication throughput = bytes ÷ (first PUT sent → last replica seen at
 *    the remote destination), compared with the PUT throughput of the same run.
 *
 * Results are printed and written to the "## Replication" section of docs/benchmarks.md (the
 * rest of the file is left as it is). node dist/bench/replication.js --help for the flags.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { RawConnection } from './client.js';
import { body } from './payload.js';
import { listKeys, QuerySigner, sdkClient, ACCESS_KEY, SECRET_KEY } from './replication-s3.js';
import { startXregion, type XregionProcess } from './replication-servers.js';
import { ensureRole } from '../test/helpers/iam.js';
import { SigV4Signer, UNSIGNED_PAYLOAD } from './sign.js';
import { Samples, type LatencySummary } from './stats.js';
import { livePids, machineCpuMs, REPO_ROOT } from './targets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SECTION = '## Replication';

// ---------------------------------------------------------------- options

interface Options {
  rate: number;
  durationS: number;
  warmupS: number;
  pollMs: number;
  drainS: number;
  mbCount: number;
  writers: number;
  baseline: boolean;
  doc: string | null;
  workDir: string;
  keepData: boolean;
  /** Profile site A (node --cpu-prof) into <work dir>/profile. */
  profile: boolean;
}

const HELP = `usage: node dist/bench/replication.js [options]

  --rate N            4 KiB PUTs per second, open loop (default 300)
  --duration S        measured seconds of the lag phase (default 20)
  --warmup S          seconds sent before the measured window (default 2)
  --poll-ms MS        destination listing interval per poller (default 20)
  --drain S           how long to wait for the last replicas after the writes (default 60)
  --mb-count N        1 MiB objects in the throughput phase (default 400; 0 skips it)
  --writers N         writers of the throughput phase (default 8)
  --no-baseline       skip the unreplicated 1 MiB baseline
  --doc FILE          report file whose "${SECTION}" section is written (default docs/benchmarks.md)
  --no-doc            print only
  --work-dir DIR      data dirs and server logs (default: a fresh dir under $TMPDIR)
  --keep-data         keep the work dir (logs are always kept unless the run succeeds)
  --profile           run site A under node --cpu-prof (kept in <work dir>/profile; implies
                      --keep-data; summarize with node dist/bench/profile.js FILE)
`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rate: 300,
    durationS: 20,
    warmupS: 2,
    pollMs: 20,
    drainS: 60,
    mbCount: 400,
    writers: 8,
    baseline: true,
    doc: path.join(REPO_ROOT, 'docs', 'benchmarks.md'),
    workDir: '',
    keepData: false,
    profile: false,
  };
  const num = (v: string | undefined, flag: string) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => argv[++i];
    switch (a) {
      case '--rate':
        o.rate = num(v(), a);
        break;
      case '--duration':
        o.durationS = num(v(), a);
        break;
      case '--warmup':
        o.warmupS = num(v(), a);
        break;
      case '--poll-ms':
        o.pollMs = num(v(), a);
        break;
      case '--drain':
        o.drainS = num(v(), a);
        break;
      case '--mb-count':
        o.mbCount = Math.floor(num(v(), a));
        break;
      case '--writers':
        o.writers = Math.max(1, Math.floor(num(v(), a)));
        break;
      case '--no-baseline':
        o.baseline = false;
        break;
      case '--doc':
        o.doc = path.resolve(v() ?? '');
        break;
      case '--no-doc':
        o.doc = null;
        break;
      case '--work-dir':
        o.workDir = path.resolve(v() ?? '');
        break;
      case '--keep-data':
        o.keepData = true;
        break;
      case '--profile':
        o.profile = true;
        o.keepData = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown option ${a}\n${HELP}`);
    }
  }
  if (!(o.rate > 0) || !(o.durationS > 0)) throw new Error('--rate and --duration must be > 0');
  if (!o.workDir) o.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-repl-bench-'));
  return o;
}

const log = (s: string) => process.stderr.write(s + '\n');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- set-up

interface Destination {
  label: string;
  server: XregionProcess;
  region: string;
  bucket: string;
}

async function versionedBucket(c: S3Client, name: string, region: string, versioned = true): Promise<void> {
  await c.send(
    new CreateBucketCommand({
      Bucket: name,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }),
  );
  if (versioned) await c.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** Replication runs as this role: site A must have it (ensureRole after A starts). */
const REPLICATION_ROLE = 'arn:aws:iam::000000000000:role/replication';

async function replicate(c: S3Client, src: string, dsts: string[]): Promise<void> {
  await c.send(
    new PutBucketReplicationCommand({
      Bucket: src,
      ReplicationConfiguration: {
        Role: REPLICATION_ROLE,
        Rules: dsts.map((d, i) => ({
          ID: `to-${d}`,
          Priority: i + 1,
          Status: 'Enabled',
          Filter: {},
          Destination: { Bucket: `arn:aws:s3:::${d}` },
          DeleteMarkerReplication: { Status: 'Enabled' },
        })),
      },
    }),
  );
}

// ---------------------------------------------------------------- arrival pollers

/**
 * Lists a destination every pollMs, from the lowest key not yet seen, and records when each key
 * first appears. Keys are `${prefix}${index padded}`: listing order is index order.
 */
class ArrivalPoller {
  readonly arrived: Float64Array;
  private cursor = 0;
  private stopped = false;
  polls = 0;
  pages = 0;
  keysReturned = 0;
  bytes = 0;
  errors = 0;
  lastError = '';
  readonly latency = new Samples();
  startedAt = 0;
  endedAt = 0;
  private done: Promise<void> | undefined;

  constructor(
    readonly dest: Destination,
    private readonly prefix: string,
    private readonly n: number,
    private readonly pollMs: number,
    /** Indexes that will never arrive (their PUT failed): the cursor passes them. */
    private readonly skip: (i: number) => boolean,
  ) {
    this.arrived = new Float64Array(n).fill(NaN);
  }

  key(i: number): string {
    return `${this.prefix}${String(i).padStart(8, '0')}`;
  }

  private index(key: string): number {
    return key.startsWith(this.prefix) ? Number(key.slice(this.prefix.length)) : -1;
  }

  /** True once every index has arrived or is skipped. */
  complete(): boolean {
    this.advance();
    return this.cursor >= this.n;
  }

  private advance(): void {
    while (this.cursor < this.n && (!Number.isNaN(this.arrived[this.cursor]!) || this.skip(this.cursor))) this.cursor++;
  }

  start(): void {
    this.startedAt = performance.now();
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.endedAt = performance.now();
  }

  private async loop(): Promise<void> {
    const { server, region, bucket } = this.dest;
    const conn = new RawConnection(server.host, server.port);
    const signer = new QuerySigner(region);
    const host = `${server.host}:${server.port}`;
    while (!this.stopped) {
      const start = performance.now();
      try {
        this.advance();
        let after = this.cursor > 0 ? this.key(this.cursor - 1) : undefined;
        for (let page = 0; page < 10; page++) {
          const t = performance.now();
          const r = await listKeys(conn, signer, host, bucket, this.prefix, after);
          const now = performance.now();
          this.latency.push(now - t);
          this.pages++;
          this.keysReturned += r.keys.length;
          this.bytes += r.bytes;
          for (const k of r.keys) {
            const i = this.index(k);
            if (i >= 0 && i < this.n && Number.isNaN(this.arrived[i]!)) this.arrived[i] = now;
          }
          if (!r.truncated || r.keys.length === 0) break;
          after = r.keys[r.keys.length - 1];
        }
        this.polls++;
      } catch (e) {
        this.errors++;
        this.lastError = (e as Error).message;
        conn.close();
      }
      const wait = start + this.pollMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    conn.close();
  }

  load(): PollLoad {
    const s = (this.endedAt - this.startedAt) / 1000;
    return {
      pollsPerS: this.polls / s,
      requestsPerS: this.pages / s,
      keysPerPoll: this.keysReturned / Math.max(1, this.polls),
      kBPerS: this.bytes / 1000 / s,
      listLatency: this.latency.summary(),
      errors: this.errors,
      lastError: this.lastError,
    };
  }
}

interface PollLoad {
  pollsPerS: number;
  requestsPerS: number;
  keysPerPoll: number;
  kBPerS: number;
  listLatency: LatencySummary;
  errors: number;
  lastError: string;
}

// ---------------------------------------------------------------- CPU accounting

interface CpuMark {
  wall: number;
  servers: number[];
  gen: NodeJS.CpuUsage;
  machine: number;
}

function cpuMark(servers: XregionProcess[]): CpuMark {
  return { wall: performance.now(), servers: servers.map((s) => s.cpuMs()), gen: process.cpuUsage(), machine: machineCpuMs().busy };
}

interface CpuUse {
  /** % of one core, per server, in the order given. */
  servers: number[];
  generator: number;
  other: number;
}

function cpuUse(a: CpuMark, b: CpuMark): CpuUse {
  const wall = b.wall - a.wall;
  const servers = b.servers.map((v, i) => v - a.servers[i]!);
  const gen = (b.gen.user - a.gen.user + b.gen.system - a.gen.system) / 1000;
  const other = b.machine - a.machine - servers.reduce((x, y) => x + y, 0) - gen;
  const pct = (ms: number) => (100 * ms) / wall;
  return { servers: servers.map(pct), generator: pct(gen), other: Math.max(0, pct(other)) };
}

// ---------------------------------------------------------------- lag phase

interface DestLag {
  label: string;
  /** Replicas that arrived per second while the measured versions arrived (first to last arrival). */
  replicasPerS: number;
  measured: number;
  missing: number;
  lag: LatencySummary;
  /** p50 lag of the versions sent in each quarter of the measured window: is the lag steady or growing? */
  quarters: number[];
  load: PollLoad;
  serverMean?: { count: number; meanMs: number };
}

interface LagResult {
  offeredRate: number;
  sent: number;
  measuredSent: number;
  ok: number;
  achievedRate: number;
  non2xx: number;
  transport: number;
  errorSample: string[];
  putLatency: LatencySummary;
  sendDelay: LatencySummary;
  maxConnections: number;
  cpu: CpuUse;
  drainMs: number;
  dests: DestLag[];
  calibration: CpuUse & { idle: CpuUse };
}

async function lagPhase(o: Options, a: XregionProcess, b: XregionProcess, dests: Destination[]): Promise<LagResult> {
  const total = Math.round(o.rate * (o.warmupS + o.durationS));
  const interval = 1000 / o.rate;
  const firstMeasured = Math.round(o.rate * o.warmupS);
  const sched = new Float64Array(total);
  const sentAt = new Float64Array(total).fill(NaN);
  const ack = new Float64Array(total).fill(NaN);
  const status = new Int16Array(total);
  const failed = (i: number) => status[i] !== 0 && status[i] !== 200;
  const servers = [a, b];

  // Calibration: what the pollers alone cost the servers (2 s idle, 2 s polling empty listings).
  const idle0 = cpuMark(servers);
  await sleep(2000);
  const idle1 = cpuMark(servers);
  const calib = dests.map((d) => new ArrivalPoller(d, 'calibration/', 1, o.pollMs, () => false));
  calib.forEach((p) => p.start());
  await sleep(2000);
  const calib1 = cpuMark(servers);
  await Promise.all(calib.map((p) => p.stop()));
  const calibration = { ...cpuUse(idle1, calib1), idle: cpuUse(idle0, idle1) };

  const pollers = dests.map((d) => new ArrivalPoller(d, 'lag/', total, o.pollMs, failed));
  pollers.forEach((p) => p.start());
  const signer = new SigV4Signer({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, region: 'us-east-1' });
  const host = `${a.host}:${a.port}`;
  const free: RawConnection[] = [];
  let connections = 0;
  let outstanding = 0;
  let non2xx = 0;
  let transport = 0;
  const errorSample: string[] = [];
  const payloads = Array.from({ length: 16 }, (_, v) => body(4 * KiB, v));

  log(`lag: ${total} PUTs of 4 KiB at ${o.rate}/s (${o.warmupS} s warm-up + ${o.durationS} s measured), polling every ${o.pollMs} ms`);
  const t0 = performance.now() + 50;
  let mark0: CpuMark | undefined;
  let mark1: CpuMark | undefined;
  await new Promise<void>((allAnswered) => {
    let next = 0;
    let sending = true;
    const fire = (i: number) => {
      sched[i] = t0 + i * interval;
      sentAt[i] = performance.now();
      if (i === firstMeasured) mark0 = cpuMark(servers);
      outstanding++;
      const c = free.pop() ?? (connections++, new RawConnection(a.host, a.port));
      const p = `/lag-src/lag/${String(i).padStart(8, '0')}`;
      const s = signer.sign('PUT', p, host);
      c.request(
        'PUT',
        p,
        [
          ['x-amz-date', s.amzDate],
          ['x-amz-content-sha256', UNSIGNED_PAYLOAD],
          ['authorization', s.authorization],
        ],
        payloads[i % 16]!,
      )
        .then((r) => {
          ack[i] = performance.now();
          status[i] = r.status;
          if (r.status !== 200) {
            non2xx++;
            if (errorSample.length < 5) errorSample.push(`HTTP ${r.status} ${r.body?.toString('utf8').slice(0, 200) ?? ''}`);
          }
        })
        .catch((e: Error) => {
          ack[i] = performance.now();
          status[i] = -1;
          transport++;
          if (errorSample.length < 5) errorSample.push(e.message);
        })
        .finally(() => {
          free.push(c);
          outstanding--;
          if (!sending && outstanding === 0) allAnswered();
        });
    };
    const tick = () => {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) fire(next++);
      if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
      else {
        mark1 = cpuMark(servers);
        sending = false;
        if (outstanding === 0) allAnswered();
      }
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  const answeredAt = performance.now();
  log(`lag: all PUTs answered; waiting for the replicas (up to ${o.drainS} s)`);
  const deadline = answeredAt + o.drainS * 1000;
  while (performance.now() < deadline && !pollers.every((p) => p.complete())) await sleep(50);
  const drainMs = performance.now() - answeredAt;
  await Promise.all(pollers.map((p) => p.stop()));
  for (const c of free) c.close();

  const putLatency = new Samples();
  const sendDelay = new Samples();
  let ok = 0;
  let lastAck = 0;
  for (let i = firstMeasured; i < total; i++) {
    sendDelay.push(sentAt[i]! - sched[i]!);
    if (status[i] === 200) {
      ok++;
      putLatency.push(ack[i]! - sentAt[i]!);
      lastAck = Math.max(lastAck, ack[i]!);
    }
  }
  const windowMs = lastAck - sched[firstMeasured]!;
  const metrics = await scrapeReplicationTimes(a);
  const dl: DestLag[] = pollers.map((p) => {
    const lag = new Samples();
    let missing = 0;
    let first = Infinity;
    let last = -Infinity;
    for (let i = firstMeasured; i < total; i++) {
      if (status[i] !== 200) continue;
      const t = p.arrived[i]!;
      if (Number.isNaN(t)) missing++;
      else {
        lag.push(t - ack[i]!);
        first = Math.min(first, t);
        last = Math.max(last, t);
      }
    }
    const replicasPerS = (1000 * lag.length) / (last - first);
    const quarters = [0, 1, 2, 3].map((q) => {
      const qs = new Samples();
      const from = firstMeasured + Math.floor(((total - firstMeasured) * q) / 4);
      const to = firstMeasured + Math.floor(((total - firstMeasured) * (q + 1)) / 4);
      for (let i = from; i < to; i++) if (status[i] === 200 && !Number.isNaN(p.arrived[i]!)) qs.push(p.arrived[i]! - ack[i]!);
      return qs.summary().p50;
    });
    const r: DestLag = { label: p.dest.label, replicasPerS, measured: lag.length, missing, lag: lag.summary(), quarters, load: p.load() };
    const m = metrics?.get(p.dest.bucket);
    if (m) r.serverMean = m;
    return r;
  });
  return {
    offeredRate: o.rate,
    sent: total,
    measuredSent: total - firstMeasured,
    ok,
    achievedRate: (1000 * ok) / windowMs,
    non2xx,
    transport,
    errorSample,
    putLatency: putLatency.summary(),
    sendDelay: sendDelay.summary(),
    maxConnections: connections,
    cpu: mark0 && mark1 ? cpuUse(mark0, mark1) : { servers: [NaN, NaN], generator: NaN, other: NaN },
    drainMs,
    dests: dl,
    calibration,
  };
}

/** Server-side replication times (xregion_replication_time_seconds) per destination bucket, if exported. */
async function scrapeReplicationTimes(a: XregionProcess): Promise<Map<string, { count: number; meanMs: number }> | undefined> {
  const conn = new RawConnection(a.host, a.port);
  try {
    const r = await conn.request('GET', '/metrics', [], null, true);
    if (r.status !== 200 || !r.body) return undefined;
    const text = r.body.toString('utf8');
    const sums = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/^xregion_replication_time_seconds_(sum|count)\{([^}]*)\}\s+(\S+)$/gm)) {
      const dest = /destination_bucket="([^"]*)"/.exec(m[2]!)?.[1];
      if (!dest) continue;
      (m[1] === 'sum' ? sums : counts).set(dest, ((m[1] === 'sum' ? sums : counts).get(dest) ?? 0) + Number(m[3]));
    }
    const out = new Map<string, { count: number; meanMs: number }>();
    for (const [d, n] of counts) if (n > 0) out.set(d, { count: n, meanMs: (1000 * (sums.get(d) ?? 0)) / n });
    return out.size ? out : undefined;
  } catch {
    return undefined;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------- throughput phase

interface PutRun {
  bucket: string;
  objects: number;
  ok: number;
  errors: number;
  errorSample: string[];
  firstSent: number;
  lastAck: number;
  putMBps: number;
  cpu: CpuUse;
}

async function putMany(o: Options, a: XregionProcess, b: XregionProcess, bucket: string, prefix: string): Promise<PutRun & { status: Int16Array }> {
  const n = o.mbCount;
  const signer = new SigV4Signer({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, region: 'us-east-1' });
  const host = `${a.host}:${a.port}`;
  const status = new Int16Array(n);
  const payloads = Array.from({ length: 16 }, (_, v) => body(MiB, v));
  let next = 0;
  let ok = 0;
  let errors = 0;
  const errorSample: string[] = [];
  let lastAck = 0;
  const m0 = cpuMark([a, b]);
  const firstSent = performance.now();
  await Promise.all(
    Array.from({ length: o.writers }, async () => {
      const c = new RawConnection(a.host, a.port);
      try {
        while (next < n) {
          const i = next++;
          const p = `/${bucket}/${prefix}${String(i).padStart(8, '0')}`;
          const s = signer.sign('PUT', p, host);
          try {
            const r = await c.request(
              'PUT',
              p,
              [
                ['x-amz-date', s.amzDate],
                ['x-amz-content-sha256', UNSIGNED_PAYLOAD],
                ['authorization', s.authorization],
              ],
              payloads[i % 16]!,
            );
            status[i] = r.status;
            if (r.status === 200) ok++;
            else {
              errors++;
              if (errorSample.length < 5) errorSample.push(`HTTP ${r.status} ${r.body?.toString('utf8').slice(0, 200) ?? ''}`);
            }
          } catch (e) {
            status[i] = -1;
            errors++;
            if (errorSample.length < 5) errorSample.push((e as Error).message);
          }
          lastAck = performance.now();
        }
      } finally {
        c.close();
      }
    }),
  );
  const m1 = cpuMark([a, b]);
  return {
    bucket,
    objects: n,
    ok,
    errors,
    errorSample,
    firstSent,
    lastAck,
    putMBps: (ok * MiB) / 1e6 / ((lastAck - firstSent) / 1000),
    cpu: cpuUse(m0, m1),
    status,
  };
}

interface ThroughputResult {
  baseline?: PutRun;
  replicated: PutRun;
  arrived: number;
  missing: number;
  /** First PUT sent → last replica seen at the remote destination. */
  replicationMs: number;
  replicationMBps: number;
  ratio: number;
  /** After the last PUT's answer, how long until the last replica was seen. */
  tailMs: number;
  cpuWhileReplicating: CpuUse;
  load: PollLoad;
}

async function throughputPhase(o: Options, a: XregionProcess, b: XregionProcess, remote: Destination): Promise<ThroughputResult> {
  let baseline: PutRun | undefined;
  if (o.baseline) {
    log(`throughput: baseline, ${o.mbCount} × 1 MiB PUTs to an unreplicated bucket, ${o.writers} writers`);
    const { status: _s, ...r } = await putMany(o, a, b, 'tput-base', 'tput/');
    baseline = r;
  }
  log(`throughput: ${o.mbCount} × 1 MiB PUTs to tput-src (replicated to ${remote.label}), ${o.writers} writers`);
  let status: Int16Array = new Int16Array(0);
  const poller = new ArrivalPoller(remote, 'tput/', o.mbCount, 50, (i) => status.length > 0 && status[i] !== 200);
  poller.start();
  const replicatedRun = await putMany(o, a, b, 'tput-src', 'tput/');
  status = replicatedRun.status;
  const m0 = cpuMark([a, b]);
  const deadline = performance.now() + o.drainS * 1000;
  while (performance.now() < deadline && !poller.complete()) await sleep(25);
  const m1 = cpuMark([a, b]);
  await poller.stop();
  let last = 0;
  let arrived = 0;
  let missing = 0;
  for (let i = 0; i < o.mbCount; i++) {
    if (status[i] !== 200) continue;
    const t = poller.arrived[i]!;
    if (Number.isNaN(t)) missing++;
    else {
      arrived++;
      last = Math.max(last, t);
    }
  }
  const { status: _s, ...replicated } = replicatedRun;
  const replicationMs = last - replicated.firstSent;
  const replicationMBps = (arrived * MiB) / 1e6 / (replicationMs / 1000);
  return {
    baseline,
    replicated,
    arrived,
    missing,
    replicationMs,
    replicationMBps,
    ratio: replicationMBps / replicated.putMBps,
    tailMs: last - replicated.lastAck,
    cpuWhileReplicating: cpuUse(m0, m1),
    load: poller.load(),
  };
}

// ---------------------------------------------------------------- report

function sh(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

interface Machine {
  date: string;
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  kernel: string;
  commit: string;
  dataFs: string;
  loadStart: number[];
  loadEnd?: number[];
}

function machine(workDir: string): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux
  }
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  // --no-optional-locks: only reads, never refreshes the index.
  const dirty = sh('git', ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no']);
  const df = sh('df', ['-PT', workDir]).split('\n')[1]?.split(/\s+/);
  return {
    date: new Date().toISOString(),
    cpu,
    cores: os.cpus().length,
    ramGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    commit: commit ? `${commit}${dirty ? ' + uncommitted changes' : ''}` : 'unknown',
    dataFs: df ? `${df[1]} on ${df[0]}` : 'unknown',
    loadStart: os.loadavg(),
  };
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const ms = (n: number) => (!Number.isFinite(n) ? 'n/a' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (n: number) => (Number.isFinite(n) ? `${Math.round(n)}%` : 'n/a');

function report(o: Options, m: Machine, a: XregionProcess, b: XregionProcess, lag: LagResult, tp: ThroughputResult | undefined, stops: string): string {
  const L: string[] = [];
  const measuredOk = lag.dests.every((d) => d.missing === 0) && lag.non2xx + lag.transport === 0;
  L.push(SECTION, '');
  L.push(
    `Generated by \`npm run bench:replication\` (bench/replication.ts); re-run to refresh this section (the rest of the file is left as it is).` +
      (o.durationS < 20 || o.rate !== 300 ? ` Options: \`--rate ${o.rate} --duration ${o.durationS}\`.` : '') +
      ' Flags: `npm run bench:replication -- --rate N --duration S --warmup S --poll-ms MS --mb-count N --writers N --no-baseline --no-doc --profile` (`--help` for all). Progress goes to stderr, this section to stdout. Results vary with what else runs on the machine: see "everything else" below.',
    '',
  );
  L.push(
    `- Date: ${m.date}; ${m.cpu}, ${m.cores} cores, ${m.ramGiB.toFixed(1)} GiB RAM; Node ${m.node}; ${m.kernel}; xregion ${m.commit}; data dirs on ${m.dataFs}; load average ${m.loadStart.map((x) => x.toFixed(2)).join(' ')} at start, ${(m.loadEnd ?? []).map((x) => x.toFixed(2)).join(' ')} at end.`,
  );
  L.push(
    `- Topology: two xregion processes on 127.0.0.1 (default settings, fsync on). Site A serves us-east-1 and us-west-2 and has site B in its \`sites\`; site B serves eu-west-1. \`lag-src\` (A, us-east-1) has two V2 rules (\`Filter: {}\`): to \`lag-local\` (A, us-west-2: **in-process**) and to \`lag-remote\` (B: **remote**, over the S3 API). \`tput-src\` (A) replicates to \`tput-remote\` (B) only.`,
  );
  L.push(
    `- Lag method: ${f0(lag.sent)} PUTs of 4 KiB to \`lag-src\`, open loop at ${o.rate}/s (each send scheduled at a fixed interval, whatever earlier answers do; keep-alive connections are added when all are busy — ${lag.maxConnections} were needed), raw HTTP/1.1 with SigV4 (UNSIGNED-PAYLOAD); the first ${o.warmupS} s are warm-up, the next ${o.durationS} s are measured. **Lag = when a listing of the destination first shows the key − when the source's 200 arrived.** One poller per destination runs ListObjectsV2 (\`prefix=lag/\`, \`start-after\` = the key before the lowest one not yet seen; keys are sequence numbers) every ${o.pollMs} ms, one request in flight, so lag is over-stated by up to ${o.pollMs} ms + one LIST (p50 ${lag.dests.map((d) => `${ms(d.load.listLatency.p50)} ms ${d.label}`).join(', ')}). Arrival in a listing means the replica is committed and readable.`,
  );
  L.push(
    `- Throughput method: ${o.mbCount} PUTs of 1 MiB with ${o.writers} writers (closed loop, as fast as the source answers)${o.baseline ? ', first to an unreplicated versioned bucket (baseline), then' : ''} to \`tput-src\`; a poller lists \`tput-remote\` every 50 ms. Replication throughput = bytes ÷ (first PUT sent → last replica seen at the remote destination); ratio = replication throughput ÷ PUT throughput of the same run. MB = 10^6 bytes.`,
  );
  L.push('');
  L.push(`### Replication lag at ${o.rate} PUT/s (4 KiB, ${o.durationS} s measured)`, '');
  L.push('| destination | replicas measured | p50 ms | p90 ms | p99 ms | max ms | not arrived | replicas/s¹ | server-side mean ms² |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const d of lag.dests) {
    L.push(
      `| ${d.label} | ${f0(d.measured)} | ${ms(d.lag.p50)} | ${ms(d.lag.p90)} | **${ms(d.lag.p99)}** | ${ms(d.lag.max)} | ${d.missing} | ${f0(d.replicasPerS)} | ${d.serverMean ? ms(d.serverMean.meanMs) : 'n/a'} |`,
    );
  }
  L.push('');
  L.push(
    `¹ Measured replicas ÷ (first → last of their arrivals): the rate replication sustained; below the PUT rate, a backlog (and the lag) grows for as long as the writes go on. ² \`xregion_replication_time_seconds\` from A's /metrics (commit of the source version → replica written, all ${f0(lag.sent)} versions including warm-up), for comparison with the client-side measure.`,
    '',
  );
  L.push(
    `- Source: offered ${o.rate} PUT/s, achieved **${f1(lag.achievedRate)} PUT/s** (${f0(lag.ok)} of ${f0(lag.measuredSent)} measured PUTs answered 200); errors: ${lag.non2xx} non-2xx, ${lag.transport} transport${lag.errorSample.length ? ` (e.g. ${lag.errorSample.join('; ')})` : ''}. PUT latency p50 ${ms(lag.putLatency.p50)} ms, p99 ${ms(lag.putLatency.p99)} ms, max ${ms(lag.putLatency.max)} ms; send delay behind schedule p99 ${ms(lag.sendDelay.p99)} ms, max ${ms(lag.sendDelay.max)} ms.`,
  );
  L.push(
    `- Last replicas seen ${f0(lag.drainMs)} ms after the last PUT was answered. CPU during the measured sends (% of one core): site A ${pct(lag.cpu.servers[0]!)}, site B ${pct(lag.cpu.servers[1]!)}, load generator + pollers ${pct(lag.cpu.generator)}, everything else ${pct(lag.cpu.other)}.`,
  );
  L.push(
    `- Polling load: ${lag.dests
      .map(
        (d) =>
          `${d.label}: ${f1(d.load.requestsPerS)} LIST/s, ${f1(d.load.keysPerPoll)} keys and ${f1(d.load.kBPerS)} kB/s per second returned on average, LIST p50 ${ms(d.load.listLatency.p50)} ms / p99 ${ms(d.load.listLatency.p99)} ms${d.load.errors ? `, ${d.load.errors} errors (${d.load.lastError})` : ''}`,
      )
      .join('; ')}. Calibration before the run: pollers alone (empty listings) cost site A ${pct(lag.calibration.servers[0]! - lag.calibration.idle.servers[0]!)} and site B ${pct(lag.calibration.servers[1]! - lag.calibration.idle.servers[1]!)} of a core over idle (idle: A ${pct(lag.calibration.idle.servers[0]!)}, B ${pct(lag.calibration.idle.servers[1]!)}).`,
  );
  L.push(
    `- Lag over the run (p50 of the versions sent in each quarter of the measured window): ${lag.dests.map((d) => `${d.label} ${d.quarters.map(ms).join(' → ')} ms`).join('; ')}.`,
  );
  for (const d of lag.dests) {
    if (d.replicasPerS < 0.95 * lag.achievedRate) {
      L.push(
        `- Reading (${d.label}): replication sustained ${f0(d.replicasPerS)} replicas/s against ${f0(lag.achievedRate)} PUT/s, so its backlog grew by ~${f0(lag.achievedRate - d.replicasPerS)} versions/s for the whole run and the lag grows with the run's length: these percentiles describe a ${o.durationS} s run, not a steady state.`,
      );
    }
  }
  const lagTarget = lag.dests.map((d) => `${d.label} p99 ${ms(d.lag.p99)} ms: **${d.lag.p99 < 1000 && d.missing === 0 ? 'met' : 'not met'}**`).join('; ');
  L.push(`- Target p99 < 1 s at 300 PUT/s: ${o.rate === 300 ? lagTarget : `(run at ${o.rate} PUT/s, not the target rate) ${lagTarget}`}${measuredOk ? '' : ' — with errors or missing replicas, see above'}.`);
  L.push('');
  if (tp) {
    L.push(`### Replication throughput, 1 MiB objects (${o.mbCount} objects, ${o.writers} writers)`, '');
    L.push('| run | PUTs 200 | errors | PUT MB/s | replicated MB/s | ratio | first PUT → last replica | last PUT answer → last replica | CPU A / B |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    if (tp.baseline) {
      const r = tp.baseline;
      L.push(`| baseline: unreplicated bucket | ${r.ok} | ${r.errors} | ${f1(r.putMBps)} | – | – | – | – | ${pct(r.cpu.servers[0]!)} / ${pct(r.cpu.servers[1]!)} |`);
    }
    const r = tp.replicated;
    L.push(
      `| replicated to the remote site | ${r.ok} | ${r.errors} | ${f1(r.putMBps)} | **${f1(tp.replicationMBps)}** | **${tp.ratio.toFixed(2)}** | ${f0(tp.replicationMs)} ms | ${f0(tp.tailMs)} ms | ${pct(r.cpu.servers[0]!)} / ${pct(r.cpu.servers[1]!)} |`,
    );
    L.push('');
    L.push(
      `- ${tp.arrived} of ${r.ok} replicas arrived${tp.missing ? `, **${tp.missing} not within ${o.drainS} s**` : ''}. CPU while only replication ran (after the last PUT): A ${pct(tp.cpuWhileReplicating.servers[0]!)}, B ${pct(tp.cpuWhileReplicating.servers[1]!)}. Poller: ${f1(tp.load.requestsPerS)} LIST/s.` +
        (r.errorSample.length ? ` Errors: ${r.errorSample.join('; ')}.` : '') +
        (tp.baseline ? ` PUT throughput with replication running is ${(r.putMBps / tp.baseline.putMBps).toFixed(2)}× the baseline; replication throughput is ${(tp.replicationMBps / tp.baseline.putMBps).toFixed(2)}× the baseline PUT throughput.` : ''),
    );
    L.push(`- Target replication throughput ≥ 0.5 × PUT throughput: ${tp.ratio.toFixed(2)}, **${tp.ratio >= 0.5 && tp.missing === 0 ? 'met' : 'not met'}**.`);
    L.push('');
  }
  const cmd = (x: XregionProcess) => x.command.split(o.workDir).join('<work dir>');
  L.push(`- Servers: \`${cmd(a)}\`; \`${cmd(b)}\`; stopped by PID (${stops}).`);
  return L.join('\n') + '\n';
}

/** Replaces the "## Replication" section, or inserts it before "## Analysis" (else at the end). */
export function writeSection(file: string, section: string): void {
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const lines = old.split('\n');
  const start = lines.findIndex((l) => l.trim() === SECTION);
  let next: string[];
  if (start >= 0) {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    next = [...lines.slice(0, start), ...section.trimEnd().split('\n'), '', ...lines.slice(end)];
  } else {
    const at = lines.findIndex((l) => l.trim() === '## Analysis');
    const where = at >= 0 ? at : lines.length;
    next = [...lines.slice(0, where), ...section.trimEnd().split('\n'), '', ...lines.slice(where)];
  }
  fs.writeFileSync(file, next.join('\n'));
}

// ---------------------------------------------------------------- main

let interrupted = false;

function onSignal(signal: NodeJS.Signals): void {
  interrupted = true;
  log(`\nbench:replication: ${signal}, stopping ${livePids.size} server(s)`);
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  process.exit(130);
}

async function main(): Promise<void> {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(o.workDir, { recursive: true });
  const m = machine(o.workDir);
  log(`xregion replication bench: work dir ${o.workDir}`);
  log(`  ${m.cpu}, ${m.cores} cores, node ${m.node}, load average ${m.loadStart.map((x) => x.toFixed(2)).join(' ')}`);

  const servers: XregionProcess[] = [];
  let ok = false;
  try {
    const b = await startXregion('site-b', o.workDir, ['--regions', 'eu-west-1']);
    servers.push(b);
    await ensureRole(b, REPLICATION_ROLE, { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    const cfg = path.join(o.workDir, 'site-a.json');
    fs.writeFileSync(
      cfg,
      JSON.stringify({ regions: ['us-east-1', 'us-west-2'], sites: [{ name: 'b', endpoint: b.url, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }] }, null, 2),
    );
    const profFlags = o.profile ? ['--cpu-prof', '--cpu-prof-dir', path.join(o.workDir, 'profile')] : [];
    const a = await startXregion('site-a', o.workDir, ['--config', cfg], profFlags);
    servers.push(a);
    await ensureRole(a, REPLICATION_ROLE, { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    log(`  site A ${a.url} (pid ${a.pid}), site B ${b.url} (pid ${b.pid})`);

    const ca = sdkClient(a.url, 'us-east-1');
    const cw = sdkClient(a.url, 'us-west-2');
    const cb = sdkClient(b.url, 'eu-west-1');
    try {
      await versionedBucket(cb, 'lag-remote', 'eu-west-1');
      await versionedBucket(cb, 'tput-remote', 'eu-west-1');
      await versionedBucket(cw, 'lag-local', 'us-west-2');
      await versionedBucket(ca, 'lag-src', 'us-east-1');
      await versionedBucket(ca, 'tput-src', 'us-east-1');
      await versionedBucket(ca, 'tput-base', 'us-east-1');
      await replicate(ca, 'lag-src', ['lag-local', 'lag-remote']);
      await replicate(ca, 'tput-src', ['tput-remote']);
    } finally {
      ca.destroy();
      cw.destroy();
      cb.destroy();
    }
    const local: Destination = { label: 'in-process (us-west-2)', server: a, region: 'us-west-2', bucket: 'lag-local' };
    const remote: Destination = { label: 'remote site (eu-west-1)', server: b, region: 'eu-west-1', bucket: 'lag-remote' };

    const lag = await lagPhase(o, a, b, [local, remote]);
    for (const d of lag.dests) {
      log(
        `  ${d.label}: lag p50 ${ms(d.lag.p50)} ms, p99 ${ms(d.lag.p99)} ms, max ${ms(d.lag.max)} ms (${d.measured} replicas, ${d.missing} not arrived, ${f0(d.replicasPerS)} replicas/s; p50 by quarter ${d.quarters.map(ms).join(' → ')} ms)`,
      );
    }
    log(`  achieved ${f1(lag.achievedRate)} PUT/s, ${lag.non2xx} non-2xx, ${lag.transport} transport errors`);
    let tp: ThroughputResult | undefined;
    if (o.mbCount > 0 && !interrupted) {
      tp = await throughputPhase(o, a, b, { label: 'remote site (eu-west-1)', server: b, region: 'eu-west-1', bucket: 'tput-remote' });
      log(
        `  PUT ${f1(tp.replicated.putMBps)} MB/s${tp.baseline ? ` (baseline ${f1(tp.baseline.putMBps)} MB/s)` : ''}, replication ${f1(tp.replicationMBps)} MB/s, ratio ${tp.ratio.toFixed(2)}`,
      );
    }
    // A first: while A runs it keeps connections to B open.
    const stopA = await a.stop();
    const stopB = await b.stop();
    const stops = `A: ${stopA.how} in ${stopA.ms} ms, B: ${stopB.how} in ${stopB.ms} ms`;
    m.loadEnd = os.loadavg();
    const section = report(o, m, a, b, lag, tp, stops);
    process.stdout.write('\n' + section);
    if (o.doc) {
      writeSection(o.doc, section);
      log(`\nwrote the "${SECTION}" section of ${path.relative(process.cwd(), o.doc) || o.doc}`);
    }
    ok = true;
  } finally {
    for (const s of servers) await s.stop(5000);
    if (ok && !o.keepData) fs.rmSync(o.workDir, { recursive: true, force: true });
    else log(`server logs and data are in ${o.workDir}`);
  }
}

main().catch((e: Error) => {
  if (interrupted) return;
  process.stderr.write(`bench:replication: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
