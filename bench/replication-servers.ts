/**
 * xregion processes for the replication benchmark: like bench/targets.ts's startTarget, but
 * with extra flags (--config with sites, --regions). Bound to 127.0.0.1, a fresh data dir under
 * the work dir, logs to a file, stopped by PID (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv, livePids, processCpuMs, XREGION_BIN } from './targets.js';

export interface XregionProcess {
  label: string;
  pid: number;
  host: string;
  port: number;
  url: string;
  dataDir: string;
  logFile: string;
  command: string;
  cpuMs(): number;
  /** SIGTERM; SIGKILL if still running after graceMs. Says which it took. */
  stop(graceMs?: number): Promise<{ how: 'SIGTERM' | 'SIGKILL' | 'already-exited'; ms: number }>;
}

export async function startXregion(
  label: string,
  workDir: string,
  args: string[],
  nodeFlags: string[] = [],
  startTimeoutMs = 60_000,
): Promise<XregionProcess> {
  const host = '127.0.0.1';
  const dataDir = fs.mkdtempSync(path.join(workDir, `${label}-data-`));
  const logFile = path.join(workDir, `${label}.log`);
  const logFd = fs.openSync(logFile, 'a');
  const fullArgs = [...nodeFlags, XREGION_BIN, 'serve', '--host', host, '--port', '0', '--data-dir', dataDir, ...args];
  const child = spawn(process.execPath, fullArgs, { cwd: workDir, stdio: ['ignore', 'pipe', logFd], env: childEnv });
  fs.closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start xregion ${label}`);
  livePids.add(pid);
  let hasExited = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      livePids.delete(pid);
      resolve();
    });
  });
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  child.stdout!.on('data', (c: Buffer) => log.write(c));
  child.stdout!.on('end', () => log.end());
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`xregion ${label} printed no "listening on" line in ${startTimeoutMs} ms`)), startTimeoutMs);
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString('utf8');
        const m = /listening on https?:\/\/[^\s:]+:(\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`xregion ${label} exited before listening; see ${logFile}`));
      });
    });
  } catch (e) {
    if (!hasExited) process.kill(pid, 'SIGKILL');
    await exited;
    throw e;
  }
  return {
    label,
    pid,
    host,
    port,
    url: `http://${host}:${port}`,
    dataDir,
    logFile,
    command: ['node', ...fullArgs.map((a) => (a === XREGION_BIN ? 'bin/xregion.js' : a))].join(' '),
    cpuMs: () => processCpuMs(pid),
    async stop(graceMs = 10_000) {
      const t0 = Date.now();
      if (hasExited) return { how: 'already-exited', ms: 0 };
      process.kill(pid, 'SIGTERM');
      const polite = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
      if (polite) return { how: 'SIGTERM', ms: Date.now() - t0 };
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      await exited;
      return { how: 'SIGKILL', ms: Date.now() - t0 };
    },
  };
}
