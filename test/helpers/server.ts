/**
 * Starts a real xregion server process on 127.0.0.1 with an ephemeral port and its own data
 * directory, for end-to-end tests. No part of the server is mocked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/test/helpers). */
export const ROOT = path.resolve(here, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'xregion.js');

export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface TestServer {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the server wrote to stderr so far (its logs). */
  stderr(): string;
  /** Everything the server wrote to stdout so far (its banner). */
  stdout(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL (kill -9) and wait for exit: a crash. */
  kill9(): Promise<void>;
  /** An S3 client for this server (path-style, region us-east-1 unless given). */
  client(config?: Partial<S3ClientConfig>): S3Client;
  /** Environment for the aws CLI and boto3 aimed at this server. */
  env(region?: string): NodeJS.ProcessEnv;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export function tempDir(prefix = 'xregion-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20s:\n${out}\n${err}`)), 20_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  const port = Number(new URL(url).port);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  return {
    url,
    port,
    dataDir,
    proc,
    stderr: () => err,
    stdout: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    client(config = {}) {
      return new S3Client({
        endpoint: url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: CREDENTIALS,
        ...config,
      });
    },
    env(region = 'us-east-1') {
      return {
        ...process.env,
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_DEFAULT_REGION: region,
        AWS_REGION: region,
        AWS_ENDPOINT_URL: url,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_PAGER: '',
        AWS_MAX_ATTEMPTS: '1',
      };
    },
  };
}

/** Runs a command to completion; resolves with its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (options.input !== undefined) p.stdin.end(options.input);
    else p.stdin.end();
  });
}

/** `aws ...` against a server; throws with the CLI's output if it fails unless allowFailure. */
export async function aws(
  server: TestServer,
  args: string[],
  opts: { region?: string; allowFailure?: boolean; input?: string | Buffer; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const r = await run('aws', [...args], { env: server.env(opts.region), input: opts.input, cwd: opts.cwd });
  if (r.code !== 0 && !opts.allowFailure) {
    throw new Error(`aws ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  }
  let json: any;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** A bucket name unique to a test. */
let counter = 0;
export function bucketName(prefix = 'b'): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`.toLowerCase().slice(0, 63);
}
