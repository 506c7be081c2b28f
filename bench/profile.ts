/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and tells where the time went: the
 * functions with the most self time, and self time summed by source file / package / area.
 *
 * Samples can be restricted to a time window given in the monotonic clock of
 * process.hrtime.bigint() (V8's profile timestamps use the same clock on Linux), so that the
 * summary covers the measured phase only, not start-up or the pre-fill.
 *
 * Standalone: node dist/bench/profile.js FILE.cpuprofile [--top N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the non-idle samples. */
  pct: number;
}

export interface ProfileSummary {
  /** Wall time covered by the samples used, ms. */
  windowMs: number;
  /** Time the main thread was busy (not "(idle)"), ms. */
  busyMs: number;
  samples: number;
  /** True when the window asked for held no samples and the whole profile was used instead. */
  windowFallback: boolean;
  functions: ProfileRow[];
  byFile: ProfileRow[];
  byArea: ProfileRow[];
}

/** Shortens a script URL to something readable: src/…, node_modules/pkg/…, node:… */
function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm);
  const dist = u.indexOf('/dist/');
  if (dist >= 0) u = u.slice(dist + '/dist/'.length);
  return u;
}

function area(url: string, fn: string): string {
  if (!url) {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(program)') return 'V8/native (program)';
    if (fn === '(idle)') return 'idle';
    return 'native / builtins';
  }
  const u = shortUrl(url);
  if (u.startsWith('node_modules/')) return 'node_modules/' + u.slice('node_modules/'.length).split('/')[0];
  if (u.startsWith('node:')) {
    const m = /^node:internal\/([^/]+)/.exec(u);
    return m ? `node:internal/${m[1]}` : u;
  }
  if (u.startsWith('src/')) return 'xregion ' + path.dirname(u);
  return u;
}

export function summarizeProfile(
  file: string,
  opts: { top?: number; windowNs?: [bigint, bigint] } = {},
): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);

  // Absolute timestamp (µs) of each sample; sample i lasts until sample i+1.
  const n = prof.samples.length;
  const ts = new Float64Array(n);
  let t = prof.startTime;
  for (let i = 0; i < n; i++) {
    t += prof.timeDeltas[i] ?? 0;
    ts[i] = t;
  }
  let lo = 0;
  let hi = n;
  let windowFallback = false;
  if (opts.windowNs) {
    const from = Number(opts.windowNs[0] / 1000n);
    const to = Number(opts.windowNs[1] / 1000n);
    let a = 0;
    while (a < n && ts[a]! < from) a++;
    let b = a;
    while (b < n && ts[b]! < to) b++;
    if (b - a > 10) {
      lo = a;
      hi = b;
    } else windowFallback = true;
  }

  const selfUs = new Map<number, number>();
  for (let i = lo; i < hi; i++) {
    const dur = i + 1 < n ? ts[i + 1]! - ts[i]! : 0;
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dur);
  }

  const fnAgg = new Map<string, { name: string; where: string; us: number }>();
  const fileAgg = new Map<string, number>();
  const areaAgg = new Map<string, number>();
  let busyUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    totalUs += us;
    if (cf.functionName === '(idle)') continue;
    busyUs += us;
    const name = cf.functionName || '(anonymous)';
    const su = shortUrl(cf.url);
    const where = su ? `${su}:${cf.lineNumber + 1}` : '';
    const key = `${name}\0${where}`;
    const f = fnAgg.get(key) ?? { name, where, us: 0 };
    f.us += us;
    fnAgg.set(key, f);
    const fileKey = su || name;
    fileAgg.set(fileKey, (fileAgg.get(fileKey) ?? 0) + us);
    const a = area(cf.url, cf.functionName);
    areaAgg.set(a, (areaAgg.get(a) ?? 0) + us);
  }
  const top = opts.top ?? 25;
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m]
      .map(([k, us]) => ({ name: k, where: '', selfMs: us / 1000, pct: pct(us) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top);
  return {
    windowMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    samples: hi - lo,
    windowFallback,
    functions: [...fnAgg.values()]
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: pct(f.us) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    byFile: rows(fileAgg),
    byArea: rows(areaAgg),
  };
}

export function profileMarkdown(s: ProfileSummary, topAreas = 15): string {
  const f1 = (x: number) => x.toFixed(1);
  const lines: string[] = [];
  lines.push(
    `Main-thread samples: ${s.samples} over ${f1(s.windowMs)} ms, busy (not idle) ${f1(s.busyMs)} ms` +
      (s.windowMs > 0 ? ` = ${f1((100 * s.busyMs) / s.windowMs)}% of one core` : '') +
      (s.windowFallback ? ' (whole profile: the measured window held no samples)' : ' (measured window only)') +
      '. Percentages are shares of the busy time.',
  );
  lines.push('', 'Top functions by self time:', '', '| # | self ms | % busy | function | where |', '|---:|---:|---:|---|---|');
  s.functions.forEach((r, i) => lines.push(`| ${i + 1} | ${f1(r.selfMs)} | ${f1(r.pct)} | \`${r.name}\` | ${r.where ? `\`${r.where}\`` : ''} |`));
  lines.push('', 'Self time by area:', '', '| area | self ms | % busy |', '|---|---:|---:|');
  for (const r of s.byArea.slice(0, topAreas)) lines.push(`| ${r.name} | ${f1(r.selfMs)} | ${f1(r.pct)} |`);
  lines.push('', 'Self time by file:', '', '| file | self ms | % busy |', '|---|---:|---:|');
  for (const r of s.byFile.slice(0, topAreas)) lines.push(`| \`${r.name}\` | ${f1(r.selfMs)} | ${f1(r.pct)} |`);
  return lines.join('\n');
}

// ---- standalone ----
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile.js FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const ti = process.argv.indexOf('--top');
  const top = ti > 0 ? Number(process.argv[ti + 1]) : 25;
  process.stdout.write(profileMarkdown(summarizeProfile(file, { top })) + '\n');
}
