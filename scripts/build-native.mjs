#!/usr/bin/env node
/**
 * Builds native/aes_gcm.c into dist/native/aes_gcm.node (part of `npm run build`).
 *
 * The addon is optional: without a C compiler or node's headers, xregion encrypts with node's
 * crypto module instead (same format, about half the throughput), so a failed build warns and
 * exits 0. XREGION_NATIVE_CIPHER=require (CI) turns that warning into a failure;
 * XREGION_NATIVE_CIPHER=off skips the build.
 *
 * No node-gyp: one C file, no libraries to link (the OpenSSL and Node-API symbols come from the
 * node process that loads it), so one compiler call is all it takes, and it needs no download.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'native', 'aes_gcm.c');
const outDir = path.join(root, 'dist', 'native');
const target = path.join(outDir, 'aes_gcm.node');
const stampFile = path.join(outDir, 'aes_gcm.stamp');
const mode = process.env.XREGION_NATIVE_CIPHER ?? 'auto';

function headerDirs() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
    '/usr/include/nodejs',
  ].filter(Boolean);
  const node = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!node) return null;
  // Node built with its own OpenSSL ships that OpenSSL's headers; one linked to the system's
  // (distribution packages) uses the system's headers, which the compiler finds by itself.
  return [node];
}

function build() {
  if (process.platform === 'win32') return 'not built on Windows';
  const includes = headerDirs();
  if (!includes) return "node's headers (node_api.h) not found";
  const stamp = JSON.stringify({ node: process.version, openssl: process.versions.openssl, includes, source: fs.statSync(source).mtimeMs });
  if (fs.existsSync(target) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return null;
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  const cc = process.env.CC || 'cc';
  const args = ['-O2', '-fPIC', '-shared', '-std=c11', '-Wall', '-Wextra', ...includes.map((d) => `-I${d}`), '-o', tmp, source];
  // Symbols stay undefined until node loads the addon; macOS's linker must be told so.
  if (process.platform === 'darwin') args.unshift('-undefined', 'dynamic_lookup');
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    // A stale addon from an older source must not outlive a failed rebuild.
    for (const f of [tmp, target, stampFile]) fs.rmSync(f, { force: true });
    const detail = e.stderr?.toString().trim().split('\n').slice(0, 5).join('\n') || e.message;
    return `${cc} failed: ${detail}`;
  }
  fs.renameSync(tmp, target);
  fs.writeFileSync(stampFile, stamp);
  return null;
}

if (mode !== 'off') {
  const problem = build();
  if (problem) {
    const message = `native AES-GCM not built (${problem}); encryption at rest uses node's crypto module instead (same format, slower)`;
    if (mode === 'require') {
      console.error(`build-native: ${message}`);
      process.exit(1);
    }
    console.warn(`build-native: warning: ${message}`);
  }
}
