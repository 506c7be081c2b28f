/**
 * Starting and stopping the servers under test, one at a time, each on 127.0.0.1 only:
 *   xregion  node bin/xregion.js serve --port 0 --data-dir <fresh tmp dir>
 *   moto     moto_server -H 127.0.0.1 -p <free port>          (in-memory)
 *   ceiling  node dist/bench/ceiling.js --port 0                (stores nothing)
 * A server is stopped by its PID: SIGTERM, then SIGKILL after a grace period.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type TargetName = 'xregion' | 'moto' | 'ceiling';
export const ALL_TARGETS: TargetName[] = ['xregion', 'moto', 'ceiling'];

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root: dist/bench/ -> ../.. */
export const REPO_ROOT = path.resolve(here, '..', '..');
/**
 * The server measured. BENCH_XREGION_BIN points at another build (e.g. a worktree of an older
 * commit) to compare two versions with the same load generator (docs/benchmarks.md, encryption).
 */
export const XREGION_BIN = process.env.BENCH_XREGION_BIN ?? path.join(REPO_ROOT, 'bin', 'xregion.js');
export const CEILING_JS = path.join(here, 'ceiling.js');

export interface StartOptions {
  /** Parent folder of the fresh data dir and of the server's log. */
  workDir: string;
  /** Extra node flags for xregion (e.g. --cpu-prof). */
  nodeFlags?: string[];
  startTimeoutMs?: number;
}

export interface StopInfo {
  /** 'SIGTERM' when it exited after the polite signal, 'SIGKILL' when it had to be killed. */
  how: 'SIGTERM' | 'SIGKILL' | 'already-exited';
  code: number | null;
  signal: string | null;
  ms: number;
}

export interface RunningTarget {
  name: TargetName;
  pid: number;
  host: string;
  port: number;
  /** Where the server's stdout and stderr go. */
  logFile: string;
  dataDir?: string;
  command: string;
  /** CPU time (user + system, all threads) the server has used so far, ms; NaN if unreadable. */
  cpuMs(): number;
  stop(graceMs?: number): Promise<StopInfo>;
  /** Resolves when the process exits (for a server that dies on its own). */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/**
 * The environment the servers and the load generator get: the orchestrator's as it was when it
 * started (snapshot taken at import time, before run.ts sizes its own libuv thread pool).
 */
export const childEnv: NodeJS.ProcessEnv = { ...process.env };

/** PIDs of the servers started and not yet exited: the orchestrator stops them if it is interrupted. */
export const livePids = new Set<number>();

let clkTck = 0;
function ticksPerSecond(): number {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process from /proc, in ms. */
export function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** Busy and total CPU time of the whole machine from /proc/stat, ms (summed over cores). */
export function machineCpuMs(): { busy: number; total: number } {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const k = 1000 / ticksPerSecond();
    return { busy: (total - idle) * k, total: total * k };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The moto_server script, resolved past pyenv's shim so that the PID is the server's. */
export function motoCommand(): string {
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  try {
    const p = execFileSync('pyenv', ['which', 'moto_server'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (p) return p;
  } catch {
    // no pyenv
  }
  return 'moto_server';
}

export function motoVersion(): string {
  try {
    const cmd = motoCommand();
    const first = fs.existsSync(cmd) ? fs.readFileSync(cmd, 'utf8').split('\n')[0]! : '';
    const python = first.startsWith('#!') ? first.slice(2).trim().split(/\s+/)[0]! : 'python3';
    return execFileSync(python, ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

async function waitUntilServing(host: string, port: number, deadline: number, exited: () => boolean): Promise<void> {
  for (;;) {
    if (exited()) throw new Error('server exited before it was serving');
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.end(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
      });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('close', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no HTTP answer on ${host}:${port} in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startTarget(name: TargetName, opts: StartOptions): Promise<RunningTarget> {
  const host = '127.0.0.1';
  const startTimeout = opts.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + startTimeout;
  const stamp = `${name}-${Date.now()}`;
  const logFile = path.join(opts.workDir, `${stamp}.log`);
  const logFd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  let dataDir: string | undefined;
  let port = 0;
  let args: string[];
  let file: string;
  if (name === 'xregion') {
    dataDir = fs.mkdtempSync(path.join(opts.workDir, 'xregion-data-'));
    file = process.execPath;
    args = [...(opts.nodeFlags ?? []), XREGION_BIN, 'serve', '--host', host, '--port', '0', '--data-dir', dataDir];
  } else if (name === 'ceiling') {
    file = process.execPath;
    args = [CEILING_JS, '--host', host, '--port', '0'];
  } else {
    port = await freePort(host);
    file = motoCommand();
    args = ['-H', host, '-p', String(port)];
  }
  const needsBanner = name !== 'moto';
  child = spawn(file, args, {
    cwd: opts.workDir,
    stdio: ['ignore', needsBanner ? 'pipe' : logFd, logFd],
    env: childEnv,
  });
  fs.closeSync(logFd);
  let hasExited = false;
  const exited = waitForExit(child).then((r) => {
    hasExited = true;
    return r;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${file})`);
  livePids.add(pid);
  void exited.then(() => livePids.delete(pid));

  const kill = async () => {
    if (!hasExited) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      await exited;
    }
  };

  try {
    if (needsBanner) {
      port = await new Promise<number>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`${name} printed no "listening on" line in ${startTimeout} ms`)), startTimeout);
        const log = fs.createWriteStream(logFile, { flags: 'a' });
        child.stdout!.on('data', (c: Buffer) => {
          log.write(c);
          if (port) return;
          text += c.toString('utf8');
          const m = /listening on https?:\/\/[^\s:]+:(\d+)/.exec(text);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.stdout!.on('end', () => log.end());
        void exited.then((r) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${r.code}, signal ${r.signal}) before listening; see ${logFile}`));
        });
      });
    }
    await waitUntilServing(host, port, deadline, () => hasExited);
  } catch (e) {
    await kill();
    throw e;
  }

  return {
    name,
    pid,
    host,
    port,
    logFile,
    dataDir,
    command: [file, ...args].join(' '),
    exited,
    cpuMs: () => processCpuMs(pid),
    stop: async (graceMs = 15_000) => {
      const t0 = Date.now();
      if (hasExited) {
        const r = await exited;
        return { how: 'already-exited', code: r.code, signal: r.signal, ms: 0 };
      }
      process.kill(pid, 'SIGTERM');
      const polite = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), graceMs).unref())]);
      if (polite) return { how: 'SIGTERM', code: polite.code, signal: polite.signal, ms: Date.now() - t0 };
      await kill();
      const r = await exited;
      return { how: 'SIGKILL', code: r.code, signal: r.signal, ms: Date.now() - t0 };
    },
  };
}
