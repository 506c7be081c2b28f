/**
 * `npm run bench`: PUT and GET of 4 KiB and 1 MiB objects against xregion, moto (the peer) and a
 * do-nothing node:http server (the ceiling), one target at a time, with the same load generator
 * (bench/load.ts, a child process). Prints the results and writes docs/benchmarks.md.
 *
 * node dist/bench/run.js --help for the flags.
 */
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawConnection } from './client.js';
import type { LoadConfig, LoadResult, SpotKey } from './load.js';
import { body } from './payload.js';
import { profileMarkdown, summarizeProfile, type ProfileSummary } from './profile.js';
import { SigV4Signer, UNSIGNED_PAYLOAD } from './sign.js';
import { diskProbe, type DiskProbe } from './disk.js';
import {
  ALL_TARGETS,
  childEnv,
  livePids,
  machineCpuMs,
  motoCommand,
  motoVersion,
  REPO_ROOT,
  startTarget,
  type RunningTarget,
  type StopInfo,
  type TargetName,
} from './targets.js';

// The disk probe keeps 8 syncs in flight; libuv's default pool of 4 threads would halve that.
// (Set before the pool's first use; the children get childEnv, the environment as it was.)
process.env.UV_THREADPOOL_SIZE = '16';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOAD_JS = path.join(here, 'load.js');

const KiB = 1024;
const MiB = 1024 * 1024;
const BUCKET = 'bench';
const REGION = 'us-east-1';
const ACCESS_KEY = 'test';
const SECRET_KEY = 'test';

interface Scenario {
  id: string;
  op: 'put' | 'get';
  size: number;
  label: string;
}

const SCENARIOS: Scenario[] = [
  { id: 'put-4k', op: 'put', size: 4 * KiB, label: 'PUT 4 KiB' },
  { id: 'get-4k', op: 'get', size: 4 * KiB, label: 'GET 4 KiB' },
  { id: 'put-1m', op: 'put', size: MiB, label: 'PUT 1 MiB' },
  { id: 'get-1m', op: 'get', size: MiB, label: 'GET 1 MiB' },
];

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean;
  warmupMs: number;
  durationMs: number;
  concSmall: number;
  concLarge: number;
  prefillSmall: number;
  prefillLarge: number;
  targets: TargetName[];
  scenarios: Scenario[];
  client: 'raw' | 'node';
  timeoutMs: number;
  doc: string | null;
  json: string | null;
  workDir: string;
  keepData: boolean;
  diskProbe: boolean;
  /** Scenarios to profile xregion in, one profiled run each. */
  profile: string[];
  profileOnly: boolean;
  top: number;
}

const HELP = `usage: node dist/bench/run.js [flags]      (npm run bench -- [flags])

  --quick                 smoke run: 0.5 s warm-up, 1 s measured, small pre-fill
  --warmup S              warm-up seconds per scenario       (env BENCH_WARMUP, default 2)
  --duration S            measured seconds per scenario      (env BENCH_DURATION, default 8)
  --concurrency-small N   workers for 4 KiB scenarios        (env BENCH_CONC_SMALL, default 32)
  --concurrency-large N   workers for 1 MiB scenarios        (env BENCH_CONC_LARGE, default 8)
  --prefill-small N       objects written before GET 4 KiB   (env BENCH_PREFILL_SMALL, default 2000)
  --prefill-large N       objects written before GET 1 MiB   (env BENCH_PREFILL_LARGE, default 200)
  --targets LIST          xregion,moto,ceiling               (env BENCH_TARGETS, default all)
  --scenarios LIST        put-4k,get-4k,put-1m,get-1m        (env BENCH_SCENARIOS, default all)
  --client raw|node       raw sockets (default) or node:http keep-alive Agent (env BENCH_CLIENT)
  --timeout MS            per-request timeout, counted as an error (default 30000)
  --doc FILE              report to write (default docs/benchmarks.md)
  --no-doc                do not write the report
  --json FILE             also write every number as JSON
  --work-dir DIR          where data dirs, server logs and profiles go
                          (env BENCH_TMPDIR, default a fresh dir under the OS tmp dir)
  --keep-data             keep the servers' data dirs
  --no-disk-probe         skip measuring the data dir's disk (synced 4 KiB and 1 MiB writes)
  --profile [LIST]        after the measurements, run xregion again under node --cpu-prof for
                          each listed scenario (default put-4k; e.g. put-4k,get-4k), print the
                          top self-time functions of the measured window and put them in
                          "Where the time goes"
  --profile-only [LIST]   only the profiled runs; updates only "Where the time goes" in the doc
  --top N                 rows in the profile tables (default 25)
`;

function parseArgs(argv: string[]): Options {
  const env = process.env;
  const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));
  let quick = false;
  let warmup: number | undefined;
  let duration: number | undefined;
  let concSmall = num(env.BENCH_CONC_SMALL, 32);
  let concLarge = num(env.BENCH_CONC_LARGE, 8);
  let prefillSmall: number | undefined = env.BENCH_PREFILL_SMALL ? Number(env.BENCH_PREFILL_SMALL) : undefined;
  let prefillLarge: number | undefined = env.BENCH_PREFILL_LARGE ? Number(env.BENCH_PREFILL_LARGE) : undefined;
  let targets = env.BENCH_TARGETS ?? ALL_TARGETS.join(',');
  let scenarios = env.BENCH_SCENARIOS ?? SCENARIOS.map((s) => s.id).join(',');
  let client = env.BENCH_CLIENT ?? 'raw';
  let timeoutMs = 30_000;
  let doc: string | null = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
  let json: string | null = null;
  let workDir = env.BENCH_TMPDIR ?? '';
  let keepData = false;
  let disk = true;
  let profile: string[] = [];
  let profileOnly = false;
  let top = 25;
  if (env.BENCH_WARMUP) warmup = Number(env.BENCH_WARMUP);
  if (env.BENCH_DURATION) duration = Number(env.BENCH_DURATION);

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const optionalScenarios = () =>
      (argv[i + 1] && !argv[i + 1]!.startsWith('--') ? argv[++i]! : 'put-4k')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    switch (a) {
      case '--quick':
        quick = true;
        break;
      case '--warmup':
        warmup = Number(value());
        break;
      case '--duration':
        duration = Number(value());
        break;
      case '--concurrency-small':
        concSmall = Number(value());
        break;
      case '--concurrency-large':
        concLarge = Number(value());
        break;
      case '--prefill-small':
        prefillSmall = Number(value());
        break;
      case '--prefill-large':
        prefillLarge = Number(value());
        break;
      case '--targets':
        targets = value();
        break;
      case '--scenarios':
        scenarios = value();
        break;
      case '--client':
        client = value();
        break;
      case '--timeout':
        timeoutMs = Number(value());
        break;
      case '--doc':
        doc = path.resolve(value());
        break;
      case '--no-doc':
        doc = null;
        break;
      case '--json':
        json = path.resolve(value());
        break;
      case '--work-dir':
        workDir = value();
        break;
      case '--keep-data':
        keepData = true;
        break;
      case '--no-disk-probe':
        disk = false;
        break;
      case '--profile':
        profile = optionalScenarios();
        break;
      case '--profile-only':
        profile = optionalScenarios();
        profileOnly = true;
        break;
      case '--top':
        top = Number(value());
        break;
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown flag ${a} (see --help)`);
    }
  }
  const targetList = targets
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of targetList) if (!ALL_TARGETS.includes(t as TargetName)) throw new Error(`unknown target ${t}`);
  const scenarioList = scenarios
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((id) => {
      const s = SCENARIOS.find((x) => x.id === id);
      if (!s) throw new Error(`unknown scenario ${id} (one of ${SCENARIOS.map((x) => x.id).join(', ')})`);
      return s;
    });
  for (const p of profile) if (!SCENARIOS.some((s) => s.id === p)) throw new Error(`unknown scenario for --profile: ${p}`);
  if (client !== 'raw' && client !== 'node') throw new Error('--client is raw or node');
  for (const [name, v] of Object.entries({ concSmall, concLarge, timeoutMs, top })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  }
  const opts: Options = {
    quick,
    warmupMs: (warmup ?? (quick ? 0.5 : 2)) * 1000,
    durationMs: (duration ?? (quick ? 1 : 8)) * 1000,
    concSmall,
    concLarge,
    prefillSmall: prefillSmall ?? (quick ? 300 : 2000),
    prefillLarge: prefillLarge ?? (quick ? 30 : 200),
    targets: ALL_TARGETS.filter((t) => targetList.includes(t)),
    scenarios: SCENARIOS.filter((s) => scenarioList.includes(s)),
    client,
    timeoutMs,
    doc,
    json,
    workDir: workDir ? path.resolve(workDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'xregion-bench-')),
    keepData,
    diskProbe: disk,
    profile,
    profileOnly,
    top,
  };
  if (!(opts.warmupMs >= 0) || !(opts.durationMs > 0)) throw new Error('bad --warmup / --duration');
  if (!(opts.prefillSmall >= 1) || !(opts.prefillLarge >= 1)) throw new Error('pre-fill counts must be ≥ 1');
  return opts;
}

// ---------------------------------------------------------------- machine

interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  ramGiB: number;
  node: string;
  kernel: string;
  moto: string;
  motoCommand: string;
  dataFs: string;
  xregionCommit: string;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
  disk?: DiskProbe;
}

function sh(file: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function machineInfo(workDir: string): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux
  }
  const df = sh('df', ['-PT', workDir]).split('\n')[1]?.split(/\s+/);
  const commit = sh('git', ['rev-parse', '--short', 'HEAD'], REPO_ROOT);
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no'], REPO_ROOT);
  return {
    date: new Date().toISOString(),
    cpuModel,
    cores: os.cpus().length,
    ramGiB: os.totalmem() / 1024 ** 3,
    node: process.version,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    moto: motoVersion(),
    motoCommand: motoCommand(),
    dataFs: df ? `${df[1]} on ${df[0]} (${workDir})` : workDir,
    xregionCommit: commit ? `${commit}${dirty ? ' + uncommitted changes' : ''}` : 'no commit yet (working tree)',
    loadAvgStart: os.loadavg(),
  };
}

// ---------------------------------------------------------------- S3 helper

const signer = new SigV4Signer({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, region: REGION });

async function s3(t: RunningTarget, method: string, p: string, payload: Buffer | null = null) {
  const conn = new RawConnection(t.host, t.port);
  try {
    const s = signer.sign(method, p, `${t.host}:${t.port}`);
    return await conn.request(
      method,
      p,
      [
        ['x-amz-date', s.amzDate],
        ['x-amz-content-sha256', UNSIGNED_PAYLOAD],
        ['Authorization', s.authorization],
      ],
      payload,
      true,
    );
  } finally {
    conn.close();
  }
}

interface SpotCheck {
  checked: number;
  mismatched: number;
  problems: string[];
}

async function spotCheck(t: RunningTarget, size: number, keys: SpotKey[]): Promise<SpotCheck | 'n/a'> {
  if (t.name === 'ceiling') return 'n/a';
  const out: SpotCheck = { checked: 0, mismatched: 0, problems: [] };
  for (const k of keys) {
    out.checked++;
    try {
      const r = await s3(t, 'GET', `/${BUCKET}/${k.key}`);
      const want = body(size, k.variant);
      if (r.status !== 200) {
        out.mismatched++;
        out.problems.push(`${k.key}: HTTP ${r.status} ${r.body?.toString('utf8', 0, 200) ?? ''}`);
      } else if (!r.body || !r.body.equals(want)) {
        out.mismatched++;
        out.problems.push(`${k.key}: ${r.body?.length ?? 0} bytes that differ from the ${want.length} written`);
      }
    } catch (e) {
      out.mismatched++;
      out.problems.push(`${k.key}: ${(e as Error).message}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------- scenarios

interface ScenarioRun {
  target: TargetName;
  scenario: string;
  concurrency: number;
  result?: LoadResult;
  error?: string;
  /** % of one core, during the measured window. */
  serverCpuPct: number;
  generatorCpuPct: number;
  /** Everything else on the machine (other processes), % of one core. */
  otherCpuPct: number;
  windowNs?: [string, string];
  spot?: SpotCheck | 'n/a';
}

interface TargetRun {
  target: TargetName;
  command?: string;
  startError?: string;
  stop?: StopInfo;
  diedDuring?: string;
  logFile?: string;
  logProblems: string[];
  logProblemCount: number;
}

function loadConfig(t: RunningTarget, sc: Scenario, o: Options): LoadConfig {
  const small = sc.size < MiB;
  return {
    host: t.host,
    port: t.port,
    bucket: BUCKET,
    op: sc.op,
    size: sc.size,
    concurrency: small ? o.concSmall : o.concLarge,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    prefill: sc.op === 'get' ? (small ? o.prefillSmall : o.prefillLarge) : 0,
    client: o.client,
    region: REGION,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    timeoutMs: o.timeoutMs,
  };
}

async function runScenario(t: RunningTarget, sc: Scenario, o: Options): Promise<ScenarioRun> {
  if (interrupted) throw new Error('interrupted');
  const cfg = loadConfig(t, sc, o);
  const run: ScenarioRun = {
    target: t.name,
    scenario: sc.id,
    concurrency: cfg.concurrency,
    serverCpuPct: NaN,
    generatorCpuPct: NaN,
    otherCpuPct: NaN,
  };
  const child = fork(LOAD_JS, ['--load-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: childEnv });
  if (child.pid) livePids.add(child.pid);
  child.once('exit', () => child.pid && livePids.delete(child.pid));
  let at0: { server: number; machine: number; hr: bigint } | undefined;
  let at1: typeof at0;
  const sample = () => ({ server: t.cpuMs(), machine: machineCpuMs().busy, hr: process.hrtime.bigint() });
  // Generous: the pre-fill, warm-up and window, plus a few timeouts' worth.
  const limitMs = o.warmupMs + o.durationMs + 4 * o.timeoutMs + 600_000;
  try {
    run.result = await new Promise<LoadResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (child.pid) process.kill(child.pid, 'SIGKILL');
        reject(new Error(`load generator did not finish in ${limitMs} ms`));
      }, limitMs);
      child.on('message', (m: { type: string; phase?: string; result?: LoadResult; error?: string }) => {
        if (m.type === 'phase' && m.phase === 'measure') at0 = sample();
        else if (m.type === 'phase' && m.phase === 'end') at1 = sample();
        else if (m.type === 'result') {
          clearTimeout(timer);
          resolve(m.result!);
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(m.error));
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`load generator exited (code ${code}, signal ${signal}) without a result`));
      });
      child.send({ type: 'run', config: cfg });
    });
  } catch (e) {
    run.error = (e as Error).message;
  }
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise((r) => child.once('exit', r));
  }
  if (at0 && at1 && run.result) {
    const wallMs = Number(at1.hr - at0.hr) / 1e6;
    run.windowNs = [String(at0.hr), String(at1.hr)];
    run.serverCpuPct = (100 * (at1.server - at0.server)) / wallMs;
    run.generatorCpuPct = (100 * run.result.generatorCpuMs) / wallMs;
    run.otherCpuPct = Math.max(0, (100 * (at1.machine - at0.machine - (at1.server - at0.server) - run.result.generatorCpuMs)) / wallMs);
  }
  if (run.result) run.spot = await spotCheck(t, sc.size, run.result.spotKeys);
  return run;
}

function scanLog(file: string | undefined, name: TargetName): { count: number; samples: string[] } {
  const out = { count: 0, samples: [] as string[] };
  if (!file || !fs.existsSync(file)) return out;
  const text = fs.readFileSync(file, 'utf8');
  for (const line of text.split('\n')) {
    let bad = false;
    if (name === 'xregion') {
      // pino JSON: level 40 warn, 50 error, 60 fatal; anything not JSON after the banner is suspect.
      const m = /"level":(\d+)/.exec(line);
      bad = m ? Number(m[1]) >= 40 : /error|exception|warn/i.test(line);
    } else if (name === 'moto') {
      bad = /Traceback|Error|Exception|" 5\d\d /.test(line);
    } else {
      bad = /error/i.test(line);
    }
    if (bad) {
      out.count++;
      if (out.samples.length < 5) out.samples.push(line.slice(0, 300));
    }
  }
  return out;
}

async function runTarget(name: TargetName, o: Options, runs: ScenarioRun[]): Promise<TargetRun> {
  if (interrupted) throw new Error('interrupted');
  const tr: TargetRun = { target: name, logProblems: [], logProblemCount: 0 };
  log(`\n== ${name}: starting`);
  let t: RunningTarget;
  try {
    t = await startTarget(name, { workDir: o.workDir });
  } catch (e) {
    tr.startError = (e as Error).message;
    log(`   could not start: ${tr.startError}`);
    return tr;
  }
  tr.command = t.command;
  tr.logFile = t.logFile;
  log(`   pid ${t.pid}, http://${t.host}:${t.port}/, log ${t.logFile}`);
  let died = false;
  void t.exited.then(() => (died = true));
  try {
    const mb = await s3(t, 'PUT', `/${BUCKET}`);
    if (mb.status !== 200) throw new Error(`creating the bucket answered HTTP ${mb.status}: ${mb.body?.toString().slice(0, 300)}`);
    for (const sc of o.scenarios) {
      if (died) break;
      log(`   ${sc.label} ...`);
      const r = await runScenario(t, sc, o);
      runs.push(r);
      log('   ' + oneLine(r));
      if (died) tr.diedDuring = sc.id;
    }
  } catch (e) {
    tr.startError = (e as Error).message;
    log(`   ${tr.startError}`);
  } finally {
    tr.stop = await t.stop();
    log(`   stopped (${tr.stop.how}, exit code ${tr.stop.code}, ${tr.stop.ms} ms)`);
    if (t.dataDir && !o.keepData) fs.rmSync(t.dataDir, { recursive: true, force: true });
  }
  const scan = scanLog(t.logFile, name);
  tr.logProblemCount = scan.count;
  tr.logProblems = scan.samples;
  return tr;
}

interface ProfileRun {
  scenario: string;
  run?: ScenarioRun;
  summary?: ProfileSummary;
  file?: string;
  error?: string;
}

async function runProfile(o: Options, scenario: string): Promise<ProfileRun> {
  if (interrupted) throw new Error('interrupted');
  const sc = SCENARIOS.find((s) => s.id === scenario)!;
  const out: ProfileRun = { scenario: sc.id };
  const profDir = fs.mkdtempSync(path.join(o.workDir, 'cpuprof-'));
  log(`\n== xregion under node --cpu-prof: ${sc.label}`);
  let t: RunningTarget;
  try {
    t = await startTarget('xregion', {
      workDir: o.workDir,
      nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', 'xregion.cpuprofile'],
    });
  } catch (e) {
    out.error = (e as Error).message;
    return out;
  }
  try {
    const mb = await s3(t, 'PUT', `/${BUCKET}`);
    if (mb.status !== 200) throw new Error(`creating the bucket answered HTTP ${mb.status}`);
    out.run = await runScenario(t, sc, o);
    log('   ' + oneLine(out.run));
  } catch (e) {
    out.error = (e as Error).message;
  } finally {
    const stop = await t.stop();
    if (stop.how !== 'SIGTERM') out.error = `xregion did not exit on SIGTERM (${stop.how}); no profile written`;
    if (t.dataDir && !o.keepData) fs.rmSync(t.dataDir, { recursive: true, force: true });
  }
  const file = path.join(profDir, 'xregion.cpuprofile');
  if (!fs.existsSync(file)) {
    out.error ??= `no profile in ${profDir}`;
    return out;
  }
  out.file = file;
  const w = out.run?.windowNs;
  out.summary = summarizeProfile(file, { top: o.top, ...(w ? { windowNs: [BigInt(w[0]), BigInt(w[1])] as [bigint, bigint] } : {}) });
  return out;
}

// ---------------------------------------------------------------- formatting

function log(s: string): void {
  process.stderr.write(s + '\n');
}

function fmtNum(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtMs(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  if (x >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(0)}%` : '—';
}

function errorsOf(r: ScenarioRun): number {
  return r.result ? r.result.non2xx + r.result.transportErrors : NaN;
}

function oneLine(r: ScenarioRun): string {
  if (!r.result) return `FAILED: ${r.error}`;
  const x = r.result;
  return `${fmtNum(x.opsPerSec)} ops/s, ${fmtNum(x.mbPerSec)} MB/s, p50 ${fmtMs(x.latency.p50)} ms, p99 ${fmtMs(x.latency.p99)} ms, errors ${errorsOf(r)}, server CPU ${fmtPct(r.serverCpuPct)}, generator ${fmtPct(r.generatorCpuPct)}, other ${fmtPct(r.otherCpuPct)}`;
}

function find(runs: ScenarioRun[], target: TargetName, sc: string): ScenarioRun | undefined {
  return runs.find((r) => r.target === target && r.scenario === sc && r.result);
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && b > 0 ? a / b : NaN;
}

function fmtX(x: number): string {
  return Number.isFinite(x) ? `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×` : 'n/a';
}

function fmtShare(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a';
}

function resultsMarkdown(runs: ScenarioRun[], o: Options): string {
  const lines: string[] = [];
  for (const sc of o.scenarios) {
    const small = sc.size < MiB;
    lines.push(`### ${sc.label} (concurrency ${small ? o.concSmall : o.concLarge})`, '');
    lines.push('| target | ops/s | MB/s | p50 ms | p99 ms | max ms | non-2xx | other errors | server CPU | generator CPU | other CPU |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const t of o.targets) {
      const r = runs.find((x) => x.target === t && x.scenario === sc.id);
      if (!r) {
        lines.push(`| ${t} | not run | | | | | | | | | |`);
        continue;
      }
      if (!r.result) {
        lines.push(`| ${t} | failed: ${r.error?.replace(/\|/g, '/').slice(0, 120)} | | | | | | | | | |`);
        continue;
      }
      const x = r.result;
      lines.push(
        `| ${t} | ${fmtNum(x.opsPerSec)} | ${fmtNum(x.mbPerSec)} | ${fmtMs(x.latency.p50)} | ${fmtMs(x.latency.p99)} | ${fmtMs(x.latency.max)} | ${x.non2xx} | ${x.transportErrors} | ${fmtPct(r.serverCpuPct)} | ${fmtPct(r.generatorCpuPct)} | ${fmtPct(r.otherCpuPct)} |`,
      );
    }
    const xr = find(runs, 'xregion', sc.id)?.result;
    for (const peer of ['moto', 'ceiling'] as const) {
      if (!o.targets.includes(peer) || !o.targets.includes('xregion')) continue;
      const pr = find(runs, peer, sc.id)?.result;
      const tp = ratio(xr?.opsPerSec, pr?.opsPerSec);
      const show = peer === 'moto' ? fmtX(tp) : fmtShare(tp);
      lines.push(
        `| **xregion / ${peer}** | **${show}** | **${show}** | ${fmtX(ratio(xr?.latency.p50, pr?.latency.p50))} | ${fmtX(ratio(xr?.latency.p99, pr?.latency.p99))} | | | | | | |`,
      );
    }
    lines.push('');
  }
  lines.push(
    'Ratio rows: throughput is xregion ÷ peer (higher is better for xregion); latency is xregion ÷ peer (lower is better). ' +
      'CPU columns are % of one core during the measured window: the server process (all threads), the load generator, and every other process on the machine (noise; high values mean the machine was busy).',
  );
  return lines.join('\n');
}

interface Check {
  name: string;
  measure: string;
  value: string;
  status: 'met' | 'not met' | 'n/a';
  note: string;
}

function checks(runs: ScenarioRun[]): Check[] {
  const out: Check[] = [];
  const x = (sc: string) => find(runs, 'xregion', sc);
  const m = (sc: string) => find(runs, 'moto', sc);
  const c = (sc: string) => find(runs, 'ceiling', sc);
  const note = (sc: string) => {
    const r = x(sc);
    const e = r ? errorsOf(r) : 0;
    const bad = r && r.spot && r.spot !== 'n/a' ? r.spot.mismatched : 0;
    return [e ? `xregion had ${e} errors` : '', bad ? `${bad} spot-check mismatches` : ''].filter(Boolean).join('; ');
  };
  const add = (name: string, sc: string, measure: string, v: number, want: number, show: (n: number) => string) => {
    out.push({
      name,
      measure,
      value: Number.isFinite(v) ? show(v) : 'n/a',
      status: Number.isFinite(v) ? (v >= want ? 'met' : 'not met') : 'n/a',
      note: note(sc),
    });
  };
  const vsMoto = (sc: string) => ratio(x(sc)?.result?.opsPerSec, m(sc)?.result?.opsPerSec);
  const vsCeil = (sc: string) => ratio(x(sc)?.result?.opsPerSec, c(sc)?.result?.opsPerSec);
  const mbs = (sc: string) => x(sc)?.result?.mbPerSec ?? NaN;
  add('4 KiB PUT ≥ 8× moto', 'put-4k', 'xregion ops/s ÷ moto ops/s', vsMoto('put-4k'), 8, fmtX);
  add('4 KiB PUT ≥ 40% of ceiling', 'put-4k', 'xregion ops/s ÷ ceiling ops/s', vsCeil('put-4k'), 0.4, fmtShare);
  add('4 KiB GET ≥ 60% of ceiling', 'get-4k', 'xregion ops/s ÷ ceiling ops/s', vsCeil('get-4k'), 0.6, fmtShare);
  add('1 MiB PUT ≥ 3× moto', 'put-1m', 'xregion ops/s ÷ moto ops/s', vsMoto('put-1m'), 3, fmtX);
  add('1 MiB PUT ≥ 300 MB/s', 'put-1m', 'xregion MB/s (10^6 bytes/s)', mbs('put-1m'), 300, (v) => `${v.toFixed(1)} MB/s`);
  add('1 MiB GET ≥ 3× moto', 'get-1m', 'xregion ops/s ÷ moto ops/s', vsMoto('get-1m'), 3, fmtX);
  add('1 MiB GET ≥ 300 MB/s', 'get-1m', 'xregion MB/s (10^6 bytes/s)', mbs('get-1m'), 300, (v) => `${v.toFixed(1)} MB/s`);
  return out;
}

function checksMarkdown(cs: Check[]): string {
  const lines = ['| target | measure | value | status | note |', '|---|---|---:|---|---|'];
  for (const c of cs) lines.push(`| ${c.name} | ${c.measure} | ${c.value} | **${c.status}** | ${c.note} |`);
  return lines.join('\n');
}

function anomaliesMarkdown(runs: ScenarioRun[], targets: TargetRun[]): string {
  const lines: string[] = [];
  for (const tr of targets) {
    const items: string[] = [];
    if (tr.startError) items.push(`failed: ${tr.startError}`);
    if (tr.diedDuring) items.push(`**the server exited on its own during ${tr.diedDuring}**`);
    if (tr.stop && tr.stop.how !== 'SIGTERM') items.push(`stop: ${tr.stop.how} (did not exit within the grace period after SIGTERM)`);
    if (tr.stop && tr.stop.how === 'SIGTERM' && tr.stop.code !== 0 && tr.target !== 'moto') {
      items.push(`exited with code ${tr.stop.code} / signal ${tr.stop.signal} after SIGTERM`);
    }
    if (tr.logProblemCount) {
      items.push(`${tr.logProblemCount} warning/error lines in its log, e.g.: ${tr.logProblems.map((s) => '`' + s.replace(/`/g, "'") + '`').join(' ')}`);
    }
    for (const r of runs.filter((x) => x.target === tr.target)) {
      const p: string[] = [];
      if (r.error) p.push(`load generator failed: ${r.error}`);
      const x = r.result;
      if (x) {
        if (x.non2xx || x.transportErrors) {
          p.push(
            `${x.non2xx} non-2xx (${Object.entries(x.statusCounts)
              .map(([s, n]) => `${s}×${n}`)
              .join(', ')}) and ${x.transportErrors} transport errors in the window`,
          );
        }
        if (x.closeResponses > 0) {
          p.push(`${x.closeResponses} of ${x.requests} responses carried \`Connection: close\` (a new TCP connection for each)`);
        }
        if (x.reconnects > x.closeResponses) {
          p.push(`${x.reconnects - x.closeResponses} keep-alive connections dropped by the server without \`Connection: close\``);
        }
        if (x.failuresTotal > x.non2xx + x.transportErrors) p.push(`${x.failuresTotal - x.non2xx - x.transportErrors} more failures in the warm-up`);
        if (x.errorSamples.length) p.push(`error samples: ${x.errorSamples.map((s) => '`' + s.replace(/`/g, "'") + '`').join(', ')}`);
        if (x.fill && x.fill.failed) p.push(`pre-fill: ${x.fill.failed} of ${x.fill.ok + x.fill.failed} PUTs failed (${x.fill.errorSamples.join('; ')})`);
        // Stalls: 100 ms slices of the window with far fewer completions than the average.
        const mean = x.ok / x.slices.length;
        if (mean >= 5) {
          const lowAt = x.slices.flatMap((s, i) => (s < mean * 0.1 ? [i] : []));
          const zero = x.slices.filter((s) => s === 0).length;
          if (lowAt.length > 0) {
            const at = lowAt
              .slice(0, 6)
              .map((i) => `${(i / 10).toFixed(1)} s`)
              .join(', ');
            p.push(
              `stalls: ${lowAt.length} of ${x.slices.length} 100-ms slices below 10% of the mean rate, ${zero} with no completion at all (at ${at}${lowAt.length > 6 ? ', …' : ''} into the window)`,
            );
          }
        }
        // Steady state: the window's last quarter against its first.
        const q = Math.floor(x.slices.length / 4);
        if (q >= 2 && mean >= 5) {
          const first = x.slices.slice(0, q).reduce((a, b) => a + b, 0);
          const last = x.slices.slice(-q).reduce((a, b) => a + b, 0);
          const trend = first > 0 ? last / first : Infinity;
          if (trend > 1.5 || trend < 1 / 1.5) {
            p.push(
              `not steady: the window's last quarter ran at ${fmtX(trend)} the rate of its first (warm-up too short, or the machine's load changed)`,
            );
          }
        }
        if (x.latency.max > Math.max(20 * x.latency.p50, 100) && x.latency.max > 3 * x.latency.p99) {
          p.push(`latency spike: max ${fmtMs(x.latency.max)} ms vs p99 ${fmtMs(x.latency.p99)} ms, p99.9 ${fmtMs(x.latency.p999)} ms`);
        }
      }
      if (r.spot && r.spot !== 'n/a' && r.spot.mismatched) p.push(`spot-check: ${r.spot.mismatched} of ${r.spot.checked} objects wrong: ${r.spot.problems.slice(0, 3).join('; ')}`);
      if (p.length) items.push(`${r.scenario}: ${p.join('; ')}`);
    }
    const spots = runs
      .filter((x) => x.target === tr.target && x.spot && x.spot !== 'n/a')
      .map((x) => x.spot as SpotCheck);
    const checked = spots.reduce((a, s) => a + s.checked, 0);
    const bad = spots.reduce((a, s) => a + s.mismatched, 0);
    const spotLine =
      tr.target === 'ceiling' ? 'spot-check: n/a (stores nothing)' : `spot-check: ${checked - bad}/${checked} objects read back byte-identical`;
    lines.push(`- **${tr.target}**: ${spotLine}${items.length ? '; ' + items.join('; ') : '; no errors, stalls or spikes detected'}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- the report

const HOW_TO_RUN = [
  '```sh',
  'npm run bench                                   # full run: ~2.5 min, writes this file',
  'npm run bench -- --quick --no-doc               # smoke run: ~1 s per scenario, prints only',
  'npm run bench -- --targets xregion --scenarios put-4k,get-4k',
  'npm run bench -- --profile-only put-4k,get-4k   # profile xregion, rewrite only "Where the time goes"',
  'npm run bench -- --help                         # every flag (durations, concurrency, pre-fill, client, ...)',
  'npm run bench:store                             # the metadata store alone: event-loop cost of a 4 KiB version',
  '```',
  '',
  'Environment: BENCH_WARMUP, BENCH_DURATION (seconds), BENCH_CONC_SMALL, BENCH_CONC_LARGE, BENCH_PREFILL_SMALL, BENCH_PREFILL_LARGE, BENCH_TARGETS, BENCH_SCENARIOS, BENCH_CLIENT, BENCH_TMPDIR, MOTO_SERVER (path of moto_server). ' +
    'Progress goes to stderr, the tables to stdout. Run it on a quiet machine: the "other CPU" column shows how much else was running.',
].join('\n');

const WHERE_HEADING = '## Where the time goes';
const WHERE_PLACEHOLDER = `${WHERE_HEADING}

_To be filled with profiling results._ Run \`npm run bench -- --profile-only put-4k,get-4k\` (any
of put-4k, get-4k, put-1m, get-1m) to profile xregion's main thread with \`node --cpu-prof\` during
each scenario's measured window and replace this section with the top self-time functions.`;

/** A top-level section of the existing report (heading to the next "## "), if it has one. */
function existingSection(doc: string, heading: string): string | undefined {
  if (!fs.existsSync(doc)) return undefined;
  const text = fs.readFileSync(doc, 'utf8');
  const i = text.indexOf(`\n${heading}\n`);
  if (i < 0) return undefined;
  const rest = text.slice(i + 1);
  const j = rest.indexOf('\n## ', heading.length);
  return (j < 0 ? rest : rest.slice(0, j)).trimEnd();
}

function existingWhereSection(doc: string): string | undefined {
  return existingSection(doc, WHERE_HEADING);
}

/** Hand-written findings (what was changed and why, what limits remain): kept across runs. */
const ANALYSIS_HEADING = '## Analysis';

function profilesSection(ps: ProfileRun[], o: Options, machine: MachineInfo): string {
  const lines = [WHERE_HEADING, ''];
  lines.push(
    `Profiled ${machine.date.slice(0, 10)} with \`npm run bench -- --profile${ps.length ? ' ' + ps.map((p) => p.scenario).join(',') : ''}\`: ` +
      `xregion under \`node --cpu-prof\`, main thread only (libuv's thread pool — fsync, file I/O — is not sampled; its cost shows as wall time, not here), ` +
      `samples restricted to the measured window (${o.durationMs / 1000} s after ${o.warmupMs / 1000} s warm-up). ` +
      'Each profiled run is separate from the measurements above: the profiler costs some throughput. ' +
      'Self time is wall time between samples, so on a busy 2-core machine time the main thread spent preempted (by the thread pool, the load generator or other processes) is charged to whatever function it was in; native entries such as `read`, `fdatasync` or `writeBuffer` are the bindings that queue or perform that work.',
  );
  for (const p of ps) {
    const sc = SCENARIOS.find((s) => s.id === p.scenario)!;
    lines.push('', `### ${sc.label} (concurrency ${sc.size < MiB ? o.concSmall : o.concLarge})`, '');
    lines.push(`Under the profiler: ${p.run?.result ? oneLine(p.run) : 'n/a'}.`);
    if (p.file) lines.push('', `Profile file (Chrome DevTools → Performance, or speedscope): \`${p.file}\``);
    if (p.error) lines.push('', `Problem: ${p.error}`);
    if (p.summary) lines.push('', profileMarkdown(p.summary));
  }
  return lines.join('\n');
}

function methodMarkdown(o: Options, m: MachineInfo): string {
  return [
    `- **Targets**, run one at a time (never concurrently), each started fresh and stopped by PID (SIGTERM, SIGKILL after 15 s):`,
    `  - **xregion**: \`node bin/xregion.js serve --host 127.0.0.1 --port 0 --data-dir <fresh tmp dir>\` (default config; durability on: every acknowledged PUT is fsynced). Its data dir is on the disk described under Machine.`,
    `  - **moto** ${m.moto}: \`${m.motoCommand} -H 127.0.0.1 -p PORT\` (Werkzeug dev server, in-memory, no durability).`,
    `  - **ceiling**: \`node dist/bench/ceiling.js\` (bench/ceiling.ts), a do-nothing node:http server that discards PUT bodies and answers GETs from a pre-allocated buffer, ignoring auth: the upper bound of load generator + HTTP on this machine.`,
    `- **Load generator**: bench/load.ts, one Node process forked per scenario (separate from the orchestrator), ${o.client === 'raw' ? 'raw keep-alive TCP connections with a minimal HTTP/1.1 parser (request head + pre-computed body in one corked write; responses read into one page-aligned 64 KiB buffer per connection, bytes counted, not copied)' : 'node:http with a keep-alive Agent'}; one connection per worker, one request in flight per connection (closed loop).`,
    `- **Concurrency**: ${o.concSmall} workers for 4 KiB, ${o.concLarge} for 1 MiB. **Durations**: ${o.warmupMs / 1000} s warm-up, then ${o.durationMs / 1000} s measured, per scenario. Only requests that complete inside the measured window count.`,
    `- **Scenarios per target**, in this order: ${o.scenarios.map((s) => s.id).join(', ')}. PUTs write distinct keys (\`obj-<size>/put/<worker>/<n>\`); each GET scenario first pre-fills ${o.prefillSmall} (4 KiB) / ${o.prefillLarge} (1 MiB) objects, then reads them round-robin. Every GET's body length is checked.`,
    `- **Auth**: AWS SigV4 header auth (bench/sign.ts) on every request to every target, with \`x-amz-content-sha256: UNSIGNED-PAYLOAD\` (as AWS SDKs send over TLS), so signing costs per request, not per byte. The ceiling and moto do not verify signatures; xregion does.`,
    `- **Metrics**: ops/s = 2xx responses in the window ÷ window; MB/s = ops/s × object size ÷ 10^6; latency from writing the request to the last response byte, every request recorded, p50/p99 exact (nearest rank). Non-2xx and transport errors (connection errors, ${o.timeoutMs / 1000} s timeouts, wrong GET lengths) are counted separately and excluded from ops/s.`,
    `- **Correctness**: after each scenario a few objects written by it (PUT) or by its pre-fill (GET) are read back and compared byte for byte (bodies are pseudo-random, one of 16 variants chosen by key).`,
  ].join('\n');
}

function diskLine(d: DiskProbe | undefined): string {
  if (!d) return 'not measured';
  return (
    `4 KiB write + fdatasync one at a time: ${fmtNum(d.smallSyncsPerSec)}/s (p50 ${fmtMs(d.smallSyncP50Ms)} ms); ` +
    `1 MiB files written + fdatasync'ed, ${d.largeConcurrency} in flight: ${fmtNum(d.largeMBps)} MB/s`
  );
}

function busyVerdict(runs: ScenarioRun[], m: MachineInfo): string {
  const others = runs.map((r) => r.otherCpuPct).filter(Number.isFinite);
  const worst = others.length ? Math.max(...others) : NaN;
  const load = `load average ${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')} at start${m.loadAvgEnd ? `, ${m.loadAvgEnd.map((x) => x.toFixed(2)).join(' ')} at end` : ''}`;
  if (!Number.isFinite(worst)) return `unknown (${load})`;
  const verdict = worst > 15 ? '**busy** — other processes used CPU during the measurements; numbers are noisy' : 'quiet';
  return `${verdict}: other processes used at most ${worst.toFixed(0)}% of one core during any measured window; ${load}`;
}

/** Written by `npm run bench:replication` (bench/replication.ts): kept across runs of this one. */
const REPLICATION_HEADING = '## Replication';

function buildDoc(o: Options, m: MachineInfo, runs: ScenarioRun[], targets: TargetRun[], where: string): string {
  const analysis = o.doc ? existingSection(o.doc, ANALYSIS_HEADING) : undefined;
  const replication = o.doc ? existingSection(o.doc, REPLICATION_HEADING) : undefined;
  return [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts). Re-run to refresh; "Where the time goes" is kept across runs unless \`--profile\` / \`--profile-only\` replaces it.` +
      (o.quick ? '\n\n> **QUICK smoke run** (`--quick`): windows of about a second; these numbers are not representative.' : ''),
    '',
    '## Machine',
    '',
    `- Date: ${m.date}`,
    `- CPU: ${m.cpuModel}, ${m.cores} cores`,
    `- RAM: ${m.ramGiB.toFixed(1)} GiB`,
    `- Node: ${m.node}`,
    `- Kernel: ${m.kernel}`,
    `- xregion: ${m.xregionCommit}`,
    `- Disk (data dir, ${m.dataFs}): ${diskLine(m.disk)}`,
    `- Machine state: ${busyVerdict(runs, m)}`,
    '',
    '## Method',
    '',
    methodMarkdown(o, m),
    '',
    '## How to run',
    '',
    HOW_TO_RUN,
    '',
    '## Results',
    '',
    resultsMarkdown(runs, o),
    '',
    '## Targets',
    '',
    checksMarkdown(checks(runs)),
    '',
    '## Correctness and anomalies',
    '',
    anomaliesMarkdown(runs, targets),
    '',
    ...(replication ? [replication, ''] : []),
    ...(analysis ? [analysis, ''] : []),
    where,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- main

let interrupted = false;

/** Interrupted: start nothing more, stop what we started (by PID: SIGTERM, then SIGKILL), leave. */
function onSignal(signal: NodeJS.Signals): void {
  interrupted = true;
  log(`\nbench: ${signal}, stopping ${livePids.size} child process(es)`);
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      livePids.delete(pid);
    }
  }
  const deadline = Date.now() + 5000;
  const poll = setInterval(() => {
    if (livePids.size > 0 && Date.now() < deadline) return;
    clearInterval(poll);
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    process.exit(130);
  }, 50);
}

async function main(): Promise<void> {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(o.workDir, { recursive: true });
  if (!fs.existsSync(LOAD_JS)) throw new Error(`${LOAD_JS} is missing: build first (npx tsc -p tsconfig.json)`);
  const m = machineInfo(o.workDir);
  log(`xregion bench: work dir ${o.workDir}`);
  log(`  ${m.cpuModel}, ${m.cores} cores, node ${m.node}, load average ${m.loadAvgStart.map((x) => x.toFixed(2)).join(' ')}`);
  log(`  warm-up ${o.warmupMs / 1000} s, measured ${o.durationMs / 1000} s, concurrency ${o.concSmall}/${o.concLarge}, client ${o.client}`);

  const runs: ScenarioRun[] = [];
  const targets: TargetRun[] = [];
  if (o.diskProbe && !o.profileOnly) {
    try {
      m.disk = await diskProbe(o.workDir, o.quick ? 0.3 : 1);
      log(`  disk: ${diskLine(m.disk)}`);
    } catch (e) {
      log(`  disk probe failed: ${(e as Error).message}`);
    }
  }
  if (!o.profileOnly) {
    for (const t of o.targets) targets.push(await runTarget(t, o, runs));
  }
  const profiles: ProfileRun[] = [];
  for (const sc of o.profile) {
    const p = await runProfile(o, sc);
    if (p.error) log(`   profile: ${p.error}`);
    profiles.push(p);
  }
  const profile = profiles.length ? profilesSection(profiles, o, m) : undefined;
  if (interrupted) return;
  m.loadAvgEnd = os.loadavg();

  const where = profile ?? ((o.doc && existingWhereSection(o.doc)) ?? WHERE_PLACEHOLDER);

  if (!o.profileOnly) {
    const stdout = [
      '',
      `## Results (${m.date}; machine ${busyVerdict(runs, m)})`,
      '',
      resultsMarkdown(runs, o),
      '',
      '## Targets',
      '',
      checksMarkdown(checks(runs)),
      '',
      '## Correctness and anomalies',
      '',
      anomaliesMarkdown(runs, targets),
      '',
    ];
    process.stdout.write(stdout.join('\n') + '\n');
  }
  if (profile) process.stdout.write('\n' + profile + '\n');

  if (o.doc) {
    fs.mkdirSync(path.dirname(o.doc), { recursive: true });
    if (o.profileOnly) {
      // Only the profile section changes; the rest of the report stays as the last full run left it.
      const old = fs.existsSync(o.doc) ? fs.readFileSync(o.doc, 'utf8') : '';
      const cur = existingWhereSection(o.doc);
      const next = old && cur ? old.replace(cur, () => where) : old ? old.trimEnd() + '\n\n' + where + '\n' : `# Benchmarks\n\n${where}\n`;
      fs.writeFileSync(o.doc, next);
    } else {
      fs.writeFileSync(o.doc, buildDoc(o, m, runs, targets, where));
    }
    log(`\nwrote ${path.relative(process.cwd(), o.doc) || o.doc}`);
  }
  if (o.json) {
    fs.writeFileSync(o.json, JSON.stringify({ options: o, machine: m, runs, targets, profiles }, null, 2));
    log(`wrote ${o.json}`);
  }
  log(`server logs${o.profile.length ? ' and profiles' : ''} are in ${o.workDir}`);
}

main().catch((e: Error) => {
  if (interrupted) return; // onSignal exits once the children are gone
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
