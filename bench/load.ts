/**
 * The load generator: N concurrent workers, each with its own keep-alive connection and one
 * request in flight, run a warm-up phase and then a measured phase against one S3 endpoint.
 *
 * It runs as a child process of the orchestrator (bench/run.ts forks dist/bench/load.js), so that
 * its event loop is not shared with the orchestrator's bookkeeping. Protocol over IPC:
 *   parent -> child  { type: 'run', config: LoadConfig }
 *   child  -> parent { type: 'phase', phase: 'measure' | 'end' }   (to sample the server's CPU)
 *   child  -> parent { type: 'result', result: LoadResult }        then the child exits
 *
 * Only requests that complete inside the measured window are counted: ops/s = 2xx completions in
 * the window / window length; latency = from writing the request to the last body byte.
 */
import { keepAliveAgent, NodeHttpConnection, RawConnection, type Connection, type Reply } from './client.js';
import { body, fillKey, fillVariant, keyPrefix, putKey, putVariant } from './payload.js';
import { SigV4Signer, UNSIGNED_PAYLOAD } from './sign.js';
import { Samples, type LatencySummary } from './stats.js';

export interface LoadConfig {
  host: string;
  port: number;
  bucket: string;
  op: 'put' | 'get';
  size: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** GET only: objects written before the warm-up, then read round-robin. */
  prefill: number;
  client: 'raw' | 'node';
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A request taking longer is aborted and counted as a transport error. */
  timeoutMs: number;
}

export interface SpotKey {
  key: string;
  variant: number;
}

export interface LoadResult {
  /** 2xx completions inside the measured window. */
  ok: number;
  /** Length of the measured window, seconds. */
  seconds: number;
  opsPerSec: number;
  /** Object bytes moved per second by the counted requests (10^6 bytes = 1 MB). */
  mbPerSec: number;
  latency: LatencySummary;
  /** Non-2xx answers inside the measured window, by status. */
  statusCounts: Record<string, number>;
  non2xx: number;
  /** Connection errors, timeouts and wrong body lengths inside the measured window. */
  transportErrors: number;
  /** All failures, warm-up included. */
  failuresTotal: number;
  /** Completed requests (any status) in warm-up. */
  warmupRequests: number;
  /** A few distinct error descriptions (status + start of the body, or the exception). */
  errorSamples: string[];
  /** 2xx completions per 100 ms slice of the measured window. */
  slices: number[];
  /** New TCP connections during warm-up + window beyond each worker's first: 0 when keep-alive held. */
  reconnects: number;
  /** Responses during warm-up + window that carried `Connection: close`. */
  closeResponses: number;
  /** Requests completed over warm-up + window, any outcome. */
  requests: number;
  /** CPU time of this load generator during the measured window, ms (user + system). */
  generatorCpuMs: number;
  /** GET only: the pre-fill. */
  fill?: { ok: number; failed: number; seconds: number; errorSamples: string[] };
  /** Objects this run wrote successfully, for the orchestrator's byte-for-byte spot-check. */
  spotKeys: SpotKey[];
}

const SLICE_MS = 100;

export async function runLoad(cfg: LoadConfig, onPhase: (phase: 'measure' | 'end') => void = () => {}): Promise<LoadResult> {
  const hostHeader = `${cfg.host}:${cfg.port}`;
  const signer = new SigV4Signer({ accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey, region: cfg.region });
  const prefix = keyPrefix(cfg.op, cfg.size);
  const agent = cfg.client === 'node' ? keepAliveAgent(cfg.concurrency) : null;
  const conns: Connection[] = [];
  for (let i = 0; i < cfg.concurrency; i++) {
    conns.push(agent ? new NodeHttpConnection(cfg.host, cfg.port, agent) : new RawConnection(cfg.host, cfg.port));
  }
  const timeOrigin = performance.timeOrigin;

  function headers(method: string, path: string): Array<[string, string]> {
    const s = signer.sign(method, path, hostHeader, timeOrigin + performance.now());
    return [
      ['x-amz-date', s.amzDate],
      ['x-amz-content-sha256', UNSIGNED_PAYLOAD],
      ['Authorization', s.authorization],
    ];
  }

  function describe(r: Reply): string {
    const text = r.body ? r.body.toString('utf8', 0, Math.min(r.body.length, 300)).replace(/\s+/g, ' ') : '';
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    return `HTTP ${r.status}${code ? ` ${code}` : ''}${text && !code ? `: ${text.slice(0, 120)}` : ''}`;
  }

  const errorSamples = new Set<string>();
  function noteError(s: string, into: Set<string> = errorSamples): void {
    if (into.size < 8) into.add(s);
  }

  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const c of conns) {
      if (c.startedAt >= 0 && now - c.startedAt > cfg.timeoutMs) c.abort(`timeout after ${cfg.timeoutMs} ms`);
    }
  }, 250);

  try {
    // ---- pre-fill (GET) ----
    let fill: LoadResult['fill'];
    if (cfg.op === 'get') {
      const t0 = performance.now();
      let next = 0;
      let ok = 0;
      let failed = 0;
      const fillErrors = new Set<string>();
      await Promise.all(
        conns.map(async (conn) => {
          for (;;) {
            const i = next++;
            if (i >= cfg.prefill) return;
            const path = `/${cfg.bucket}/${fillKey(prefix, i)}`;
            try {
              const r = await conn.request('PUT', path, headers('PUT', path), body(cfg.size, fillVariant(i)));
              if (r.status >= 200 && r.status < 300) ok++;
              else {
                failed++;
                noteError(describe(r), fillErrors);
              }
            } catch (e) {
              failed++;
              noteError(String((e as Error).message), fillErrors);
            }
          }
        }),
      );
      fill = { ok, failed, seconds: (performance.now() - t0) / 1000, errorSamples: [...fillErrors] };
    }

    // ---- warm-up + measured phase ----
    const known = (x: number) => (Number.isFinite(x) ? x : 0);
    const connectsBefore = conns.map((c) => known(c.connects));
    const closesBefore = conns.reduce((a, c) => a + known(c.closeResponses), 0);
    const samples = new Samples();
    const statusCounts: Record<string, number> = {};
    const nSlices = Math.ceil(cfg.durationMs / SLICE_MS);
    const slices = new Array<number>(nSlices).fill(0);
    let ok = 0;
    let non2xx = 0;
    let transportErrors = 0;
    let failuresTotal = 0;
    let warmupRequests = 0;
    let requests = 0;
    let stopping = false;
    const start = performance.now();
    const measureFrom = start + cfg.warmupMs;
    const measureTo = measureFrom + cfg.durationMs;
    let cpuAtMeasure = process.cpuUsage();
    let generatorCpuMs = 0;
    const tMeasure = setTimeout(() => {
      cpuAtMeasure = process.cpuUsage();
      onPhase('measure');
    }, Math.max(0, measureFrom - performance.now()));
    const tEnd = setTimeout(() => {
      stopping = true;
      const d = process.cpuUsage(cpuAtMeasure);
      generatorCpuMs = (d.user + d.system) / 1000;
      onPhase('end');
    }, Math.max(0, measureTo - performance.now()));

    const spot: SpotKey[] = [];
    let getNext = 0;
    const fillCount = Math.max(1, cfg.prefill);

    await Promise.all(
      conns.map(async (conn, w) => {
        let n = 0;
        let firstOk: SpotKey | undefined;
        let lastOk: SpotKey | undefined;
        while (!stopping) {
          let path: string;
          let method: string;
          let payload: Buffer | null;
          let key: SpotKey | undefined;
          if (cfg.op === 'put') {
            const variant = putVariant(w, n);
            key = { key: putKey(prefix, w, n), variant };
            n++;
            path = `/${cfg.bucket}/${key.key}`;
            method = 'PUT';
            payload = body(cfg.size, variant);
          } else {
            path = `/${cfg.bucket}/${fillKey(prefix, getNext++ % fillCount)}`;
            method = 'GET';
            payload = null;
          }
          const pending = conn.request(method, path, headers(method, path), payload);
          const t0 = conn.startedAt;
          let reply: Reply | undefined;
          let failure: string | undefined;
          try {
            reply = await pending;
          } catch (e) {
            failure = (e as Error).message;
          }
          const t1 = performance.now();
          requests++;
          const counted = t1 >= measureFrom && t1 < measureTo;
          if (t1 < measureFrom) warmupRequests++;
          if (reply && reply.status >= 200 && reply.status < 300) {
            if (cfg.op === 'get' && reply.bytes !== cfg.size) {
              failure = `GET answered ${reply.bytes} bytes, expected ${cfg.size}`;
            } else {
              if (counted) {
                ok++;
                samples.push(t1 - t0);
                slices[Math.floor((t1 - measureFrom) / SLICE_MS)]!++;
              }
              if (key) {
                firstOk ??= key;
                lastOk = key;
              }
              continue;
            }
          }
          failuresTotal++;
          if (reply && failure === undefined) {
            if (counted) {
              non2xx++;
              statusCounts[reply.status] = (statusCounts[reply.status] ?? 0) + 1;
            }
            noteError(describe(reply));
          } else {
            if (counted) transportErrors++;
            noteError(failure ?? 'unknown failure');
            // Do not spin on a server that refuses connections.
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        if (w < 4) {
          if (firstOk) spot.push(firstOk);
          if (lastOk && lastOk !== firstOk) spot.push(lastOk);
        }
      }),
    );
    clearTimeout(tMeasure);
    clearTimeout(tEnd);

    if (cfg.op === 'get') {
      for (const i of new Set([0, Math.floor(cfg.prefill / 2), cfg.prefill - 1])) {
        if (i >= 0 && i < cfg.prefill) spot.push({ key: fillKey(prefix, i), variant: fillVariant(i) });
      }
    }

    const seconds = cfg.durationMs / 1000;
    const result: LoadResult = {
      ok,
      seconds,
      opsPerSec: ok / seconds,
      mbPerSec: (ok * cfg.size) / seconds / 1e6,
      latency: samples.summary(),
      statusCounts,
      non2xx,
      transportErrors,
      failuresTotal,
      warmupRequests,
      errorSamples: [...errorSamples],
      slices,
      generatorCpuMs,
      reconnects: conns.reduce((a, c, i) => {
        const before = connectsBefore[i]!;
        const now = known(c.connects);
        return a + now - before - (before === 0 && now > 0 ? 1 : 0);
      }, 0),
      closeResponses: conns.reduce((a, c) => a + known(c.closeResponses), 0) - closesBefore,
      requests,
      spotKeys: spot,
    };
    if (fill) result.fill = fill;
    return result;
  } finally {
    clearInterval(watchdog);
    for (const c of conns) c.close();
    agent?.destroy();
  }
}

// ---- child-process entry ----
if (process.send && process.argv.includes('--load-child')) {
  process.once('message', (msg: { type: string; config: LoadConfig }) => {
    if (msg.type !== 'run') return;
    runLoad(msg.config, (phase) => process.send!({ type: 'phase', phase }))
      .then((result) => process.send!({ type: 'result', result }, () => process.exit(0)))
      .catch((e: Error) => process.send!({ type: 'error', error: e.stack ?? String(e) }, () => process.exit(1)));
  });
}
